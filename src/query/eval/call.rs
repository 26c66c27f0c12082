//! Function calls: range-vector (rollup) functions and `timestamp` here, the
//! instant-vector and scalar functions in [`super::functions`].

use crate::model::{Labels, MatchOp, Matcher, METRIC_NAME_LABEL};
use crate::query::promql::{Call, Expr, Function, ValueType};
use crate::query::rollup::{self, RollupFunction, Window};

use super::annotation;
use super::engine::Engine;
use super::error::EvalError;
use super::functions;
use super::plan::{rollup_arguments, rollup_function, FetchKind};
use super::value::{Sample, Series, Value};

/// Evaluates a function call at `t_ms`.
pub(crate) fn eval_call(
    engine: &mut Engine<'_>,
    call: &Call,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let function = call.func.function;
    if let Some(rollup) = rollup_function(function) {
        return eval_rollup(engine, call, rollup, t_ms).map(Value::Vector);
    }
    match function {
        Function::AbsentOverTime => absent_over_time(engine, call, t_ms),
        Function::Timestamp => timestamp(engine, call, t_ms),
        Function::Info => super::info::eval_info(engine, call, t_ms),
        _ => functions::eval_function(engine, call, t_ms),
    }
}

/// Whether a rollup keeps the metric name (only the selecting ones do).
pub(crate) fn keeps_name(function: RollupFunction) -> bool {
    matches!(
        function,
        RollupFunction::LastOverTime | RollupFunction::FirstOverTime
    )
}

fn eval_rollup(
    engine: &mut Engine<'_>,
    call: &Call,
    function: RollupFunction,
    t_ms: i64,
) -> Result<Vec<Sample>, EvalError> {
    let out = rollup_samples(engine, call, function, t_ms)?;
    annotate_rollup(engine, call, function, &out, t_ms)?;
    Ok(out)
}

/// Raises Prometheus' annotations for a rollup call's result.
fn annotate_rollup(
    engine: &mut Engine<'_>,
    call: &Call,
    function: RollupFunction,
    out: &[Sample],
    t_ms: i64,
) -> Result<(), EvalError> {
    if out.is_empty() {
        return Ok(());
    }
    let is_counter_function = matches!(function, RollupFunction::Rate | RollupFunction::Increase);
    if let (true, Some(arg @ Expr::MatrixSelector(_))) = (is_counter_function, call.args.first()) {
        for s in out {
            let name = s.labels.metric_name();
            let counter_like = ["_total", "_sum", "_count", "_bucket"]
                .iter()
                .any(|suffix| name.ends_with(suffix));
            if !name.is_empty() && !counter_like {
                engine.info(annotation::possible_non_counter(name), arg.span());
            }
        }
    }
    if function == RollupFunction::QuantileOverTime {
        if let Some(param) = call.args.first() {
            let q = engine.eval_scalar(param, t_ms)?;
            if q.is_nan() || !(0.0..=1.0).contains(&q) {
                engine.warn(annotation::invalid_quantile(q), param.span());
            }
        }
    }
    Ok(())
}

fn rollup_samples(
    engine: &mut Engine<'_>,
    call: &Call,
    function: RollupFunction,
    t_ms: i64,
) -> Result<Vec<Sample>, EvalError> {
    let drop_name = !keeps_name(function);
    if let Some((Expr::MatrixSelector(ms), _)) = rollup_arguments(call) {
        if let Some((_, FetchKind::Rollup { .. })) = engine.fetched(ms.as_ref()) {
            let key = engine.key(ms.selector.at, t_ms);
            return Ok(engine
                .rollup_points(ms.as_ref(), key)
                .into_iter()
                .map(|(labels, value)| Sample {
                    labels: labels.clone(),
                    value,
                    drop_name,
                })
                .collect());
        }
    }
    rollup_locally(engine, call, function, t_ms)
}

/// A rollup not pushed down: computed here from raw samples or subquery points.
fn rollup_locally(
    engine: &mut Engine<'_>,
    call: &Call,
    function: RollupFunction,
    t_ms: i64,
) -> Result<Vec<Sample>, EvalError> {
    let mut params = Vec::new();
    let mut matrix = None;
    for arg in &call.args {
        match arg.value_type() {
            ValueType::Matrix if matrix.is_none() => matrix = Some(arg),
            _ => params.push(engine.eval_scalar(arg, t_ms)?),
        }
    }
    let Some(arg) = matrix else {
        return Err(EvalError::execution(format!(
            "{}: missing range vector",
            call.func.name
        )));
    };
    let (series, window) = range_argument(engine, arg, t_ms)?;
    let drop_name = !keeps_name(function);
    let mut out = Vec::with_capacity(series.len());
    let (mut ts, mut vs, mut sort) = (Vec::new(), Vec::new(), Vec::new());
    for s in series {
        ts.clear();
        vs.clear();
        for &(t, v) in &s.points {
            ts.push(t);
            vs.push(v);
        }
        let value = rollup::evaluate_window(function, &params, &ts, &vs, window, &mut sort)
            .map_err(|e| EvalError::execution(e.to_string()))?;
        if let Some(value) = value {
            out.push(Sample {
                labels: s.labels,
                value,
                drop_name: drop_name || s.drop_name,
            });
        }
    }
    Ok(out)
}

/// The series of a range-vector argument at `t_ms` and the window they cover.
fn range_argument(
    engine: &mut Engine<'_>,
    arg: &Expr,
    t_ms: i64,
) -> Result<(Vec<Series>, Window), EvalError> {
    let (series, window_end, range) = match arg.unparen() {
        Expr::MatrixSelector(ms) => return engine.matrix_selector(ms, t_ms),
        Expr::Subquery(sq) => {
            let key = engine.key(sq.at, t_ms);
            let end = key.saturating_sub(sq.offset_ms);
            (engine.subquery(sq, t_ms)?, end, sq.range_ms)
        }
        other => (engine.eval_matrix(other, t_ms)?, t_ms, 0),
    };
    // Prometheus anchors predict_linear at the step time, even under `@`.
    let window = Window::plain(window_end.saturating_sub(range), window_end, t_ms);
    Ok((series, window))
}

fn absent_over_time(engine: &mut Engine<'_>, call: &Call, t_ms: i64) -> Result<Value, EvalError> {
    let Some(arg) = call.args.first() else {
        return Ok(Value::Vector(Vec::new()));
    };
    let (series, matchers): (Vec<Series>, &[Matcher]) = match arg.unparen() {
        Expr::MatrixSelector(ms) => (engine.matrix_value(ms, t_ms)?, &ms.selector.matchers),
        Expr::Subquery(sq) => (engine.subquery(sq, t_ms)?, &[]),
        other => (engine.eval_matrix(other, t_ms)?, &[]),
    };
    if !series.is_empty() {
        return Ok(Value::Vector(Vec::new()));
    }
    Ok(Value::Vector(vec![absent_sample(matchers)]))
}

/// The single sample `absent` returns: labels from the selector's equality matchers.
pub(crate) fn absent_sample(matchers: &[Matcher]) -> Sample {
    let mut labels = Labels::default();
    let mut set: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME_LABEL {
            continue;
        }
        if m.op == MatchOp::Equal && !set.contains(&m.name.as_str()) {
            labels.set(&m.name, &m.value);
            set.push(&m.name);
        } else {
            labels.remove(&m.name);
            set.push(&m.name);
        }
    }
    Sample {
        labels,
        value: 1.0,
        drop_name: false,
    }
}

fn timestamp(engine: &mut Engine<'_>, call: &Call, t_ms: i64) -> Result<Value, EvalError> {
    let Some(arg) = call.args.first() else {
        return Ok(Value::Vector(Vec::new()));
    };
    if let Expr::VectorSelector(vs) = arg.unparen() {
        let key = engine.key(vs.at, t_ms);
        let samples = engine
            .rollup_points(vs.as_ref(), key)
            .into_iter()
            .map(|(labels, value)| Sample {
                labels: labels.clone(),
                value,
                drop_name: true,
            })
            .collect();
        return Ok(Value::Vector(samples));
    }
    let samples = engine
        .eval_vector(arg, t_ms)?
        .into_iter()
        .map(|s| Sample {
            value: t_ms as f64 / 1000.0,
            drop_name: true,
            ..s
        })
        .collect();
    Ok(Value::Vector(samples))
}
