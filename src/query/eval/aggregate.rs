//! Aggregation operators with `by`/`without`: sum, avg, min, max, count, group,
//! stddev, stdvar, quantile, topk, bottomk, count_values.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::model::Labels;
use crate::query::promql::{Aggregate, AggregateOp};
use crate::query::rollup::{over_time, quantile::quantile};

use super::annotation;
use super::engine::Engine;
use super::error::EvalError;
use super::label_functions::valid_label_name;
use super::value::{is_name_label, Sample, Value};

/// The input samples of one output group.
struct Group {
    labels: Labels,
    members: Vec<Sample>,
}

/// Evaluates an aggregation at `t_ms`.
pub(crate) fn eval_aggregate(
    engine: &mut Engine<'_>,
    a: &Aggregate,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let mut number = f64::NAN;
    let mut text = String::new();
    if let Some(param) = &a.param {
        if a.op == AggregateOp::CountValues {
            text = engine.eval_string(param, t_ms)?;
        } else {
            number = engine.eval_scalar(param, t_ms)?;
        }
    }
    match a.op {
        AggregateOp::Topk | AggregateOp::Bottomk if number.is_nan() => {
            return Err(EvalError::BadData("Parameter value is NaN".to_string()))
        }
        AggregateOp::Limitk | AggregateOp::LimitRatio => {
            return Err(EvalError::execution(format!(
                "aggregation \"{}\" is experimental and not supported",
                a.op.as_str()
            )))
        }
        AggregateOp::CountValues if !valid_label_name(&text) => {
            return Err(EvalError::BadData(format!("invalid label name {text:?}")))
        }
        _ => {}
    }
    if a.op == AggregateOp::Quantile && (number.is_nan() || !(0.0..=1.0).contains(&number)) {
        if let Some(param) = &a.param {
            engine.warn(annotation::invalid_quantile(number), param.span());
        }
    }
    let samples = engine.eval_vector(&a.expr, t_ms)?;
    if a.op == AggregateOp::CountValues {
        return Ok(Value::Vector(count_values(
            a,
            &text,
            samples,
            engine.params.type_and_unit_labels,
        )));
    }
    let groups = group(a, samples, engine.params.type_and_unit_labels);
    let out = match a.op {
        AggregateOp::Topk | AggregateOp::Bottomk => {
            select_k(groups, number, a.op == AggregateOp::Topk)
        }
        _ => groups
            .into_iter()
            .map(|g| reduce(a.op, number, g))
            .collect(),
    };
    Ok(Value::Vector(out))
}

/// The labels of the group a series falls into.
fn group_labels(
    labels: &Labels,
    grouping: &[String],
    without: bool,
    type_and_unit: bool,
) -> Labels {
    let mut out = labels.clone();
    if without {
        out.retain(|l| !is_name_label(&l.name, type_and_unit) && !grouping.contains(&l.name));
    } else {
        out.retain(|l| grouping.contains(&l.name));
    }
    out
}

fn group(a: &Aggregate, samples: Vec<Sample>, type_and_unit: bool) -> Vec<Group> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for s in samples {
        let labels = group_labels(&s.labels, &a.grouping, a.without, type_and_unit);
        match index.get(&labels) {
            Some(&i) => {
                if let Some(g) = groups.get_mut(i) {
                    g.members.push(s);
                }
            }
            None => {
                index.insert(labels.clone(), groups.len());
                groups.push(Group {
                    labels,
                    members: vec![s],
                });
            }
        }
    }
    groups
}

fn reduce(op: AggregateOp, param: f64, group: Group) -> Sample {
    let drop_name = group.members.iter().any(|s| s.drop_name);
    let mut values: Vec<f64> = group.members.iter().map(|s| s.value).collect();
    let value = match op {
        AggregateOp::Sum => over_time::sum(&values),
        AggregateOp::Avg => over_time::avg(&values),
        AggregateOp::Count => values.len() as f64,
        AggregateOp::Group => 1.0,
        AggregateOp::Min => over_time::min(&values),
        AggregateOp::Max => over_time::max(&values),
        AggregateOp::Stddev => over_time::stddev(&values),
        AggregateOp::Stdvar => over_time::stdvar(&values),
        AggregateOp::Quantile => quantile(param, &mut values),
        _ => f64::NAN,
    };
    Sample {
        labels: group.labels,
        value,
        drop_name,
    }
}

/// `topk`/`bottomk`: the `k` largest/smallest of each group, NaN last, sorted.
fn select_k(groups: Vec<Group>, k: f64, top: bool) -> Vec<Sample> {
    if k < 1.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for g in groups {
        let mut members = g.members;
        members.sort_by(|a, b| match (a.value.is_nan(), b.value.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ if top => b.value.total_cmp(&a.value),
            _ => a.value.total_cmp(&b.value),
        });
        let keep = if k >= members.len() as f64 {
            members.len()
        } else {
            k as usize
        };
        members.truncate(keep);
        out.extend(members);
    }
    out
}

fn count_values(
    a: &Aggregate,
    label: &str,
    samples: Vec<Sample>,
    type_and_unit: bool,
) -> Vec<Sample> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<Sample> = Vec::new();
    for s in samples {
        let mut labels = group_labels(&s.labels, &a.grouping, a.without, type_and_unit);
        labels.set(label, &format_value(s.value));
        match index.get(&labels) {
            Some(&i) => {
                if let Some(o) = out.get_mut(i) {
                    o.value += 1.0;
                }
            }
            None => {
                index.insert(labels.clone(), out.len());
                out.push(Sample {
                    labels,
                    value: 1.0,
                    drop_name: false,
                });
            }
        }
    }
    out
}

/// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it.
pub(crate) fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}
