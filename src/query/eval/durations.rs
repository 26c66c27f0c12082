//! Resolving experimental duration expressions that use `step()` or `range()`
//! (`x[step()*2]`, `offset -range()`): they depend on the query, so they are
//! folded into the node's milliseconds before planning, on a copy of the AST.

use crate::query::promql::{DurationExpr, Expr};

use super::error::EvalError;
use super::plan::QueryParams;

/// A copy of `expr` with every query-dependent duration resolved, or `None`
/// when `expr` has none (the common case: no copy is made).
pub fn resolve(expr: &Expr, params: &QueryParams) -> Result<Option<Expr>, EvalError> {
    let mut dependent = false;
    expr.walk(&mut |e| dependent |= has_dependent_duration(e));
    if !dependent {
        return Ok(None);
    }
    let mut copy = expr.clone();
    let step_ms = params.step_ms;
    let range_ms = params.end_ms - params.start_ms;
    resolve_in(&mut copy, &|d| {
        d.eval_ms(step_ms, range_ms)
            .ok_or_else(|| EvalError::BadData(format!("duration expression {d} is out of range")))
    })?;
    Ok(Some(copy))
}

fn is_dependent(d: Option<&DurationExpr>) -> bool {
    d.is_some_and(|d| !d.is_constant())
}

fn has_dependent_duration(e: &Expr) -> bool {
    match e {
        Expr::VectorSelector(vs) => is_dependent(vs.offset_expr.as_ref()),
        Expr::MatrixSelector(ms) => {
            is_dependent(ms.range_expr.as_ref()) || is_dependent(ms.selector.offset_expr.as_ref())
        }
        Expr::Subquery(sq) => {
            is_dependent(sq.range_expr.as_ref())
                || is_dependent(sq.step_expr.as_ref())
                || is_dependent(sq.offset_expr.as_ref())
        }
        _ => false,
    }
}

type Eval<'a> = dyn Fn(&DurationExpr) -> Result<i64, EvalError> + 'a;

/// Overwrites `*target` with the value of `d` when it depends on the query.
fn fold(d: Option<&DurationExpr>, target: &mut i64, eval: &Eval<'_>) -> Result<(), EvalError> {
    match d {
        Some(d) if !d.is_constant() => {
            *target = eval(d)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn resolve_in(e: &mut Expr, eval: &Eval<'_>) -> Result<(), EvalError> {
    match e {
        Expr::VectorSelector(vs) => fold(vs.offset_expr.as_ref(), &mut vs.offset_ms, eval),
        Expr::MatrixSelector(ms) => {
            fold(ms.range_expr.as_ref(), &mut ms.range_ms, eval)?;
            let vs = &mut ms.selector;
            fold(vs.offset_expr.as_ref(), &mut vs.offset_ms, eval)
        }
        Expr::Subquery(sq) => {
            fold(sq.range_expr.as_ref(), &mut sq.range_ms, eval)?;
            fold(sq.offset_expr.as_ref(), &mut sq.offset_ms, eval)?;
            if let Some(d) = sq.step_expr.as_ref().filter(|d| !d.is_constant()) {
                sq.step_ms = Some(eval(d)?);
            }
            resolve_in(&mut sq.expr, eval)
        }
        Expr::Call(c) => c.args.iter_mut().try_for_each(|a| resolve_in(a, eval)),
        Expr::Aggregate(a) => {
            if let Some(p) = a.param.as_mut() {
                resolve_in(p, eval)?;
            }
            resolve_in(&mut a.expr, eval)
        }
        Expr::Binary(b) => {
            resolve_in(&mut b.lhs, eval)?;
            resolve_in(&mut b.rhs, eval)
        }
        Expr::Unary(u) => resolve_in(&mut u.expr, eval),
        Expr::Paren(p) => resolve_in(&mut p.expr, eval),
        Expr::Number(_) | Expr::String(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::promql::parse;

    #[test]
    fn step_and_range_are_folded_per_query() {
        let Ok(expr) = parse("count_over_time(x[step()*2] offset range())") else {
            panic!("query must parse");
        };
        let params = QueryParams::range(60_000, 180_000, 30_000);
        let Ok(Some(Expr::Call(call))) = resolve(&expr, &params) else {
            panic!("the durations depend on the query");
        };
        let Some(Expr::MatrixSelector(ms)) = call.args.first() else {
            panic!("argument is a range selector");
        };
        assert_eq!((ms.range_ms, ms.selector.offset_ms), (60_000, 120_000));
        let Ok(constant) = parse("x[5m+1m]") else {
            panic!("query must parse");
        };
        assert!(matches!(resolve(&constant, &params), Ok(None)));
    }
}
