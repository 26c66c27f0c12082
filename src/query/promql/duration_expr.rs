//! Experimental duration expressions (Prometheus' `promql-duration-expr`):
//! arithmetic on durations inside `[...]` and after `offset`, e.g. `[5m+1m]`,
//! `[step()*2:10s]`, `offset min_of(range(), 8s)`.
//!
//! Values are in seconds as in Prometheus: a number literal counts seconds, a
//! duration literal its length, `step()` the query step and `range()` the query
//! range (end - start, 0 for instant queries).

use std::fmt;

use super::ast::BinaryOp;
use super::duration::format_duration_ms;
use super::printer::format_float;

/// A duration expression tree.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationExpr {
    /// A literal, in seconds; `duration` tells whether it was written as `5m`.
    Literal {
        /// The value in seconds.
        seconds: f64,
        /// Whether it was written as a duration literal (for printing).
        duration: bool,
    },
    /// `step()`: the query's step.
    Step,
    /// `range()`: the query's range.
    Range,
    /// `-expr` (`+expr` is kept as the operand alone).
    Neg(Box<DurationExpr>),
    /// `(expr)`
    Paren(Box<DurationExpr>),
    /// `lhs op rhs` with `+ - * / % ^`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<DurationExpr>,
        /// Right operand.
        rhs: Box<DurationExpr>,
    },
    /// `min_of(a, b)`
    MinOf(Box<DurationExpr>, Box<DurationExpr>),
    /// `max_of(a, b)`
    MaxOf(Box<DurationExpr>, Box<DurationExpr>),
}

impl DurationExpr {
    /// Whether the value is known at parse time (no `step()` or `range()`).
    pub fn is_constant(&self) -> bool {
        match self {
            DurationExpr::Literal { .. } => true,
            DurationExpr::Step | DurationExpr::Range => false,
            DurationExpr::Neg(inner) | DurationExpr::Paren(inner) => inner.is_constant(),
            DurationExpr::Binary { lhs, rhs, .. }
            | DurationExpr::MinOf(lhs, rhs)
            | DurationExpr::MaxOf(lhs, rhs) => lhs.is_constant() && rhs.is_constant(),
        }
    }

    /// The value in seconds, given the query's step and range in seconds.
    pub fn eval_seconds(&self, step_seconds: f64, range_seconds: f64) -> f64 {
        let eval = |e: &DurationExpr| e.eval_seconds(step_seconds, range_seconds);
        match self {
            DurationExpr::Literal { seconds, .. } => *seconds,
            DurationExpr::Step => step_seconds,
            DurationExpr::Range => range_seconds,
            DurationExpr::Neg(inner) => -eval(inner),
            DurationExpr::Paren(inner) => eval(inner),
            DurationExpr::MinOf(a, b) => min_of(eval(a), eval(b)),
            DurationExpr::MaxOf(a, b) => max_of(eval(a), eval(b)),
            DurationExpr::Binary { op, lhs, rhs } => {
                let (l, r) = (eval(lhs), eval(rhs));
                match op {
                    BinaryOp::Add => l + r,
                    BinaryOp::Sub => l - r,
                    BinaryOp::Mul => l * r,
                    BinaryOp::Div => l / r,
                    BinaryOp::Mod => l % r,
                    BinaryOp::Pow => l.powf(r),
                    _ => f64::NAN,
                }
            }
        }
    }

    /// The value in whole milliseconds, `None` when not finite or out of range.
    pub fn eval_ms(&self, step_ms: i64, range_ms: i64) -> Option<i64> {
        let seconds = self.eval_seconds(step_ms as f64 / 1000.0, range_ms as f64 / 1000.0);
        let ms = (seconds * 1000.0).round();
        let bound = i64::MAX as f64;
        (ms.is_finite() && ms < bound && ms > -bound).then_some(ms as i64)
    }
}

/// NaN-propagating minimum, as Prometheus' `min_of`.
fn min_of(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// NaN-propagating maximum, as Prometheus' `max_of`.
fn max_of(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationExpr::Literal { seconds, duration } => {
                let ms = (seconds * 1000.0).round();
                if *duration && ms.is_finite() && ms.abs() < i64::MAX as f64 {
                    f.write_str(&format_duration_ms(ms as i64))
                } else {
                    f.write_str(&format_float(*seconds))
                }
            }
            DurationExpr::Step => f.write_str("step()"),
            DurationExpr::Range => f.write_str("range()"),
            DurationExpr::Neg(inner) => write!(f, "-{inner}"),
            DurationExpr::Paren(inner) => write!(f, "({inner})"),
            DurationExpr::Binary { op, lhs, rhs } => write!(f, "{lhs} {} {rhs}", op.as_str()),
            DurationExpr::MinOf(a, b) => write!(f, "min_of({a}, {b})"),
            DurationExpr::MaxOf(a, b) => write!(f, "max_of({a}, {b})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(seconds: f64) -> Box<DurationExpr> {
        Box::new(DurationExpr::Literal {
            seconds,
            duration: true,
        })
    }

    #[test]
    fn evaluates_with_step_and_range() {
        let e = DurationExpr::Binary {
            op: BinaryOp::Add,
            lhs: Box::new(DurationExpr::Step),
            rhs: lit(1.0),
        };
        assert!(!e.is_constant());
        assert_eq!(e.eval_ms(10_000, 0), Some(11_000));
        let m = DurationExpr::MinOf(Box::new(DurationExpr::Range), lit(8.0));
        assert_eq!(m.eval_ms(5_000, 10_000), Some(8_000));
        assert_eq!(m.to_string(), "min_of(range(), 8s)");
        let nan = DurationExpr::MaxOf(lit(f64::NAN), lit(1.0));
        assert_eq!(nan.eval_ms(0, 0), None);
    }
}
