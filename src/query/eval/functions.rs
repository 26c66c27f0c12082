//! Instant-vector and scalar functions: math, clamping, rounding, dates,
//! `scalar`/`vector`/`time`, sorting, `absent`, label functions, classic histograms.

use std::cmp::Ordering;

use crate::model::Labels;
use crate::query::promql::{Call, Expr, Function};

use super::annotation;
use super::call::absent_sample;
use super::engine::Engine;
use super::error::EvalError;
use super::value::{Sample, Value};
use super::{date, histogram, label_functions};

/// Evaluates a non-rollup function call at `t_ms`.
pub(crate) fn eval_function(
    engine: &mut Engine<'_>,
    call: &Call,
    t_ms: i64,
) -> Result<Value, EvalError> {
    use Function as F;
    let function = call.func.function;
    if let Some(f) = math_function(function) {
        let v = first_vector(engine, call, t_ms)?;
        return Ok(map(v, f));
    }
    match function {
        F::Pi | F::Start | F::End | F::Step | F::Range | F::Time | F::MinOf | F::MaxOf => {
            scalar_function(engine, call, t_ms).map(Value::Scalar)
        }
        F::Scalar => {
            let v = first_vector(engine, call, t_ms)?;
            Ok(Value::Scalar(match v.as_slice() {
                [only] => only.value,
                _ => f64::NAN,
            }))
        }
        F::Vector => {
            let v = scalar_arg(engine, call, 0, t_ms)?;
            Ok(Value::Vector(vec![unlabelled(v)]))
        }
        F::Round | F::Clamp | F::ClampMax | F::ClampMin => bounding_function(engine, call, t_ms),
        F::Absent => absent(engine, call, t_ms),
        F::Sort | F::SortDesc | F::SortByLabel | F::SortByLabelDesc => sort(engine, call, t_ms),
        F::LabelReplace => label_functions::label_replace(engine, call, t_ms),
        F::LabelJoin => label_functions::label_join(engine, call, t_ms),
        F::HistogramQuantile => histogram::histogram_quantile(engine, call, t_ms),
        F::HistogramFraction => histogram::histogram_fraction(engine, call, t_ms),
        F::HistogramQuantiles => histogram::histogram_quantiles(engine, call, t_ms),
        F::HistogramAvg
        | F::HistogramCount
        | F::HistogramSum
        | F::HistogramStddev
        | F::HistogramStdvar => {
            // Float samples are not native histograms: these functions ignore them.
            first_vector(engine, call, t_ms)?;
            Ok(Value::Vector(Vec::new()))
        }
        F::Year
        | F::Month
        | F::DayOfMonth
        | F::DayOfWeek
        | F::DayOfYear
        | F::DaysInMonth
        | F::Hour
        | F::Minute => {
            let v = if call.args.is_empty() {
                vec![unlabelled(t_ms as f64 / 1000.0)]
            } else {
                first_vector(engine, call, t_ms)?
            };
            Ok(map(v, move |x| date::date_part(function, x)))
        }
        _ => Err(EvalError::execution(format!(
            "function \"{}\" is not supported",
            call.func.name
        ))),
    }
}

/// A sample without labels.
fn unlabelled(value: f64) -> Sample {
    Sample {
        labels: Labels::default(),
        value,
        drop_name: false,
    }
}

/// Functions of the query frame and of scalars: `pi`, `time`, `start`, `end`,
/// `step`, `range`, `min_of`, `max_of`.
fn scalar_function(engine: &mut Engine<'_>, call: &Call, t_ms: i64) -> Result<f64, EvalError> {
    let params = engine.params;
    let seconds = |ms: i64| ms as f64 / 1000.0;
    Ok(match call.func.function {
        Function::Pi => std::f64::consts::PI,
        Function::Time => seconds(t_ms),
        Function::Start => seconds(params.start_ms),
        Function::End => seconds(params.end_ms),
        Function::Step => seconds(params.step_ms),
        Function::Range => seconds(params.end_ms - params.start_ms),
        Function::MinOf => go_min(
            scalar_arg(engine, call, 0, t_ms)?,
            scalar_arg(engine, call, 1, t_ms)?,
        ),
        _ => go_max(
            scalar_arg(engine, call, 0, t_ms)?,
            scalar_arg(engine, call, 1, t_ms)?,
        ),
    })
}

/// `round`, `clamp`, `clamp_min`, `clamp_max`.
fn bounding_function(engine: &mut Engine<'_>, call: &Call, t_ms: i64) -> Result<Value, EvalError> {
    let v = first_vector(engine, call, t_ms)?;
    Ok(match call.func.function {
        Function::Round => {
            let to_nearest = if call.args.len() > 1 {
                scalar_arg(engine, call, 1, t_ms)?
            } else {
                1.0
            };
            let inverse = 1.0 / to_nearest;
            map(v, move |x| (x * inverse + 0.5).floor() / inverse)
        }
        Function::Clamp => {
            let min = scalar_arg(engine, call, 1, t_ms)?;
            let max = scalar_arg(engine, call, 2, t_ms)?;
            if max < min {
                return Ok(Value::Vector(Vec::new()));
            }
            map(v, move |x| go_max(min, go_min(max, x)))
        }
        Function::ClampMax => {
            let max = scalar_arg(engine, call, 1, t_ms)?;
            map(v, move |x| go_min(max, x))
        }
        _ => {
            let min = scalar_arg(engine, call, 1, t_ms)?;
            map(v, move |x| go_max(min, x))
        }
    })
}

/// `absent(v)`: one sample labelled from the selector's equality matchers when `v` is empty.
fn absent(engine: &mut Engine<'_>, call: &Call, t_ms: i64) -> Result<Value, EvalError> {
    let v = first_vector(engine, call, t_ms)?;
    if !v.is_empty() {
        return Ok(Value::Vector(Vec::new()));
    }
    let matchers = match call.args.first().map(Expr::unparen) {
        Some(Expr::VectorSelector(vs)) => vs.matchers.as_slice(),
        _ => &[],
    };
    Ok(Value::Vector(vec![absent_sample(matchers)]))
}

/// `sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc` (no-ops with a warning in range queries).
fn sort(engine: &mut Engine<'_>, call: &Call, t_ms: i64) -> Result<Value, EvalError> {
    let mut v = first_vector(engine, call, t_ms)?;
    if engine.range_query {
        engine.warn(annotation::SORT_IN_RANGE_QUERY.to_string(), call.span);
        return Ok(Value::Vector(v));
    }
    let function = call.func.function;
    match function {
        Function::Sort | Function::SortDesc => {
            let descending = function == Function::SortDesc;
            v.sort_by(|a, b| sort_order(a.value, b.value, descending));
        }
        _ => {
            let mut names = Vec::new();
            for i in 1..call.args.len() {
                names.push(string_arg(engine, call, i, t_ms)?);
            }
            let descending = function == Function::SortByLabelDesc;
            v.sort_by(|a, b| {
                let order = label_order(&a.labels, &b.labels, &names);
                if descending {
                    order.reverse()
                } else {
                    order
                }
            });
        }
    }
    Ok(Value::Vector(v))
}

/// Go's `math.Max`: NaN wins.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN wins.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn math_function(function: Function) -> Option<fn(f64) -> f64> {
    use Function as F;
    Some(match function {
        F::Abs => f64::abs,
        F::Ceil => f64::ceil,
        F::Floor => f64::floor,
        F::Exp => f64::exp,
        F::Sqrt => f64::sqrt,
        F::Ln => f64::ln,
        F::Log2 => f64::log2,
        F::Log10 => f64::log10,
        F::Sin => f64::sin,
        F::Cos => f64::cos,
        F::Tan => f64::tan,
        F::Asin => f64::asin,
        F::Acos => f64::acos,
        F::Atan => f64::atan,
        F::Sinh => f64::sinh,
        F::Cosh => f64::cosh,
        F::Tanh => f64::tanh,
        F::Asinh => f64::asinh,
        F::Acosh => f64::acosh,
        F::Atanh => f64::atanh,
        F::Deg => |x| x * 180.0 / std::f64::consts::PI,
        F::Rad => |x| x * std::f64::consts::PI / 180.0,
        F::Sgn => |x: f64| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        },
        _ => return None,
    })
}

fn map(v: Vec<Sample>, f: impl Fn(f64) -> f64) -> Value {
    Value::Vector(
        v.into_iter()
            .map(|s| Sample {
                value: f(s.value),
                drop_name: true,
                ..s
            })
            .collect(),
    )
}

fn first_vector(engine: &mut Engine<'_>, call: &Call, t_ms: i64) -> Result<Vec<Sample>, EvalError> {
    match call.args.first() {
        Some(arg) => engine.eval_vector(arg, t_ms),
        None => Ok(Vec::new()),
    }
}

/// The scalar argument at `index`.
pub(crate) fn scalar_arg(
    engine: &mut Engine<'_>,
    call: &Call,
    index: usize,
    t_ms: i64,
) -> Result<f64, EvalError> {
    match call.args.get(index) {
        Some(arg) => engine.eval_scalar(arg, t_ms),
        None => Err(EvalError::execution(format!(
            "{}: missing argument {index}",
            call.func.name
        ))),
    }
}

/// The string argument at `index`.
pub(crate) fn string_arg(
    engine: &mut Engine<'_>,
    call: &Call,
    index: usize,
    t_ms: i64,
) -> Result<String, EvalError> {
    match call.args.get(index) {
        Some(arg) => engine.eval_string(arg, t_ms),
        None => Err(EvalError::execution(format!(
            "{}: missing argument {index}",
            call.func.name
        ))),
    }
}

/// `sort`/`sort_desc` order: by value, NaN last either way.
fn sort_order(a: f64, b: f64, descending: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if descending => b.total_cmp(&a),
        _ => a.total_cmp(&b),
    }
}

/// `sort_by_label` order: the named labels in natural order, then all labels.
fn label_order(a: &Labels, b: &Labels, names: &[String]) -> Ordering {
    for name in names {
        let order = natural_cmp(a.get(name), b.get(name));
        if order != Ordering::Equal {
            return order;
        }
    }
    a.cmp(b)
}

/// Compares strings with digit runs compared as numbers ("a2" < "a10").
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, ra) = a.split_at(da);
                let (nb, rb) = b.split_at(db);
                let na = trim_zeros(na);
                let nb = trim_zeros(nb);
                let order = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (ra, rb);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    digits.get(zeros..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("a2", "a10"), Ordering::Less);
        assert_eq!(natural_cmp("abc", "abd"), Ordering::Less);
        assert_eq!(natural_cmp("10", "9"), Ordering::Greater);
        assert_eq!(sort_order(f64::NAN, 1.0, true), Ordering::Greater);
    }
}
