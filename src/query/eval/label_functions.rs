//! `label_replace` and `label_join`.

use regex::Regex;

use crate::model::METRIC_NAME_LABEL;
use crate::query::promql::Call;

use super::engine::Engine;
use super::error::EvalError;
use super::functions::string_arg;
use super::value::{Sample, Value};

/// `label_replace(v, dst, replacement, src, regex)`.
pub(crate) fn label_replace(
    engine: &mut Engine<'_>,
    call: &Call,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let dst = string_arg(engine, call, 1, t_ms)?;
    let replacement = string_arg(engine, call, 2, t_ms)?;
    let src = string_arg(engine, call, 3, t_ms)?;
    let pattern = string_arg(engine, call, 4, t_ms)?;
    let regex = Regex::new(&format!("^(?s:{pattern})$")).map_err(|e| {
        EvalError::BadData(format!(
            "invalid regular expression in label_replace(): {pattern}: {e}"
        ))
    })?;
    if !valid_label_name(&dst) {
        return Err(EvalError::BadData(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let Some(arg) = call.args.first() else {
        return Ok(Value::Vector(Vec::new()));
    };
    let mut out = engine.eval_vector(arg, t_ms)?;
    for sample in &mut out {
        let Some(captures) = regex.captures(sample.labels.get(&src)) else {
            continue;
        };
        let mut value = String::new();
        captures.expand(&replacement, &mut value);
        sample.labels.set(&dst, &value);
        if dst == METRIC_NAME_LABEL {
            sample.drop_name = false;
        }
    }
    check_unique(&out)?;
    Ok(Value::Vector(out))
}

/// `label_join(v, dst, separator, src...)`.
pub(crate) fn label_join(
    engine: &mut Engine<'_>,
    call: &Call,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let dst = string_arg(engine, call, 1, t_ms)?;
    let separator = string_arg(engine, call, 2, t_ms)?;
    let mut sources = Vec::new();
    for i in 3..call.args.len() {
        let name = string_arg(engine, call, i, t_ms)?;
        if !valid_label_name(&name) {
            return Err(EvalError::BadData(format!(
                "invalid source label name in label_join(): {name}"
            )));
        }
        sources.push(name);
    }
    if !valid_label_name(&dst) {
        return Err(EvalError::BadData(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let Some(arg) = call.args.first() else {
        return Ok(Value::Vector(Vec::new()));
    };
    let mut out = engine.eval_vector(arg, t_ms)?;
    for sample in &mut out {
        let joined = sources
            .iter()
            .map(|name| sample.labels.get(name))
            .collect::<Vec<_>>()
            .join(&separator);
        sample.labels.set(&dst, &joined);
        if dst == METRIC_NAME_LABEL {
            sample.drop_name = false;
        }
    }
    check_unique(&out)?;
    Ok(Value::Vector(out))
}

/// Prometheus 3 accepts any non-empty UTF-8 label name.
pub(crate) fn valid_label_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('\u{fffd}')
}

/// Fails when two samples have the same labels.
pub(crate) fn check_unique(samples: &[Sample]) -> Result<(), EvalError> {
    let mut seen = std::collections::HashSet::new();
    for s in samples {
        if !seen.insert(&s.labels) {
            return Err(EvalError::execution(
                "vector cannot contain metrics with the same labelset",
            ));
        }
    }
    Ok(())
}
