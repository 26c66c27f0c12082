//! `anchored` and `smoothed` range selectors only work with some functions. Prometheus raises
//! the misuse when it evaluates the call (an `execution` error without a position), not while
//! parsing, so the check runs before planning.

use crate::query::promql::{Expr, Function};

use super::error::EvalError;

/// Functions an `anchored` range selector may feed.
const ANCHORED: &[Function] = &[
    Function::Changes,
    Function::Delta,
    Function::Increase,
    Function::Rate,
    Function::Resets,
];
/// Functions a `smoothed` range selector may feed.
const SMOOTHED: &[Function] = &[Function::Delta, Function::Increase, Function::Rate];

/// The first call in `expr` given an `anchored`/`smoothed` range it cannot use, as Prometheus' error.
pub fn check(expr: &Expr) -> Result<(), EvalError> {
    let mut error = None;
    expr.walk(&mut |e| {
        let Expr::Call(call) = e else {
            return;
        };
        for arg in &call.args {
            let Expr::MatrixSelector(matrix) = arg else {
                continue;
            };
            let (name, allowed, list) = if matrix.selector.anchored {
                (
                    "anchored",
                    ANCHORED,
                    "changes, delta, increase, rate, resets",
                )
            } else if matrix.selector.smoothed {
                ("smoothed", SMOOTHED, "delta, increase, rate")
            } else {
                continue;
            };
            if error.is_none() && !allowed.contains(&call.func.function) {
                error = Some(EvalError::execution(format!(
                    "{name} modifier can only be used with: {list} - not with {}",
                    call.func.name
                )));
            }
        }
    });
    error.map_or(Ok(()), Err)
}
