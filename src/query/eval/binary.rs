//! Binary operators: arithmetic, comparisons (filtering or `bool`), set operators,
//! and vector matching (`on`/`ignoring`, `group_left`/`group_right`).

use std::collections::{HashMap, HashSet};

use crate::model::{Labels, METRIC_NAME_LABEL};
use crate::query::promql::{Binary, BinaryOp, Cardinality, VectorMatching};

use super::engine::Engine;
use super::error::EvalError;
use super::value::{Sample, Value};

/// Evaluates a binary operation at `t_ms`.
pub(crate) fn eval_binary(
    engine: &mut Engine<'_>,
    b: &Binary,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let lhs = engine.eval(&b.lhs, t_ms)?;
    let rhs = engine.eval(&b.rhs, t_ms)?;
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) => {
            let (value, keep) = apply(b.op, l, r);
            if b.op.is_comparison() {
                return Ok(Value::Scalar(if keep { 1.0 } else { 0.0 }));
            }
            Ok(Value::Scalar(value))
        }
        (Value::Vector(v), Value::Scalar(s)) => Ok(Value::Vector(vector_scalar(b, v, s, false))),
        (Value::Scalar(s), Value::Vector(v)) => Ok(Value::Vector(vector_scalar(b, v, s, true))),
        (Value::Vector(l), Value::Vector(r)) => {
            let default = VectorMatching {
                card: if b.op.is_set_operator() {
                    Cardinality::ManyToMany
                } else {
                    Cardinality::OneToOne
                },
                labels: Vec::new(),
                on: false,
                include: Vec::new(),
                fill_left: None,
                fill_right: None,
            };
            let matching = b.matching.as_ref().unwrap_or(&default);
            let out = match b.op {
                BinaryOp::And => and_unless(l, r, matching, true),
                BinaryOp::Unless => and_unless(l, r, matching, false),
                BinaryOp::Or => or(l, r, matching),
                _ => vector_vector(b, l, r, matching)?,
            };
            Ok(Value::Vector(out))
        }
        (l, r) => Err(EvalError::execution(format!(
            "invalid operand types for {}: {} and {}",
            b.op.as_str(),
            l.type_name(),
            r.type_name()
        ))),
    }
}

/// The result of `l op r` and, for comparisons, whether it holds (value is `l`).
fn apply(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinaryOp::Add => (l + r, true),
        BinaryOp::Sub => (l - r, true),
        BinaryOp::Mul => (l * r, true),
        BinaryOp::Div => (l / r, true),
        BinaryOp::Mod => (l % r, true),
        BinaryOp::Pow => (l.powf(r), true),
        BinaryOp::Atan2 => (l.atan2(r), true),
        BinaryOp::Eql => (l, l == r),
        BinaryOp::Neq => (l, l != r),
        BinaryOp::Lss => (l, l < r),
        BinaryOp::Lte => (l, l <= r),
        BinaryOp::Gtr => (l, l > r),
        BinaryOp::Gte => (l, l >= r),
        _ => (l, true),
    }
}

fn vector_scalar(b: &Binary, v: Vec<Sample>, scalar: f64, scalar_left: bool) -> Vec<Sample> {
    let comparison = b.op.is_comparison();
    let mut out = Vec::with_capacity(v.len());
    for s in v {
        let (l, r) = if scalar_left {
            (scalar, s.value)
        } else {
            (s.value, scalar)
        };
        let (mut value, mut keep) = apply(b.op, l, r);
        if comparison {
            value = s.value;
        }
        if b.return_bool {
            value = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            out.push(Sample {
                value,
                drop_name: s.drop_name || !comparison || b.return_bool,
                labels: s.labels,
            });
        }
    }
    out
}

/// The labels two series are matched on.
fn signature(labels: &Labels, matching: &VectorMatching) -> Labels {
    let mut out = labels.clone();
    if matching.on {
        out.retain(|l| matching.labels.contains(&l.name));
    } else {
        out.retain(|l| l.name != METRIC_NAME_LABEL && !matching.labels.contains(&l.name));
    }
    out
}

fn and_unless(l: Vec<Sample>, r: Vec<Sample>, matching: &VectorMatching, and: bool) -> Vec<Sample> {
    let right: HashSet<Labels> = r.iter().map(|s| signature(&s.labels, matching)).collect();
    l.into_iter()
        .filter(|s| right.contains(&signature(&s.labels, matching)) == and)
        .collect()
}

fn or(l: Vec<Sample>, r: Vec<Sample>, matching: &VectorMatching) -> Vec<Sample> {
    let left: HashSet<Labels> = l.iter().map(|s| signature(&s.labels, matching)).collect();
    let mut out = l;
    out.extend(
        r.into_iter()
            .filter(|s| !left.contains(&signature(&s.labels, matching))),
    );
    out
}

fn vector_vector(
    b: &Binary,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    matching: &VectorMatching,
) -> Result<Vec<Sample>, EvalError> {
    let swapped = matching.card == Cardinality::OneToMany;
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let mut one_side: HashMap<Labels, &Sample> = HashMap::new();
    for s in &one {
        let sig = signature(&s.labels, matching);
        if let Some(previous) = one_side.insert(sig.clone(), s) {
            let side = if swapped { "left" } else { "right" };
            let (mut first, mut second) = (&previous.labels, &s.labels);
            if second < first {
                std::mem::swap(&mut first, &mut second);
            }
            return Err(EvalError::execution(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                braces(&sig),
                braces(first),
                braces(second)
            )));
        }
    }
    let comparison = b.op.is_comparison();
    let mut matched: HashMap<Labels, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    let no_labels = Labels::default();
    for s in &many {
        let sig = signature(&s.labels, matching);
        let (other_labels, other_value) = match one_side.get(&sig) {
            Some(other) => (&other.labels, other.value),
            // `fill_right(v)`: a missing "one" side counts as `v` (experimental).
            None => match matching.fill_right {
                Some(fill) => (&no_labels, fill),
                None => continue,
            },
        };
        let (l, r) = if swapped {
            (other_value, s.value)
        } else {
            (s.value, other_value)
        };
        let inserted = matched.entry(sig).or_default();
        // Checked before filtering, so the error does not depend on the values.
        if matching.card == Cardinality::OneToOne {
            if !inserted.is_empty() {
                return Err(EvalError::execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
            inserted.insert(Labels::default());
        }
        let (mut value, keep) = apply(b.op, l, r);
        if b.return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let labels = result_labels(&s.labels, other_labels, matching);
        if matching.card != Cardinality::OneToOne && !inserted.insert(labels.clone()) {
            return Err(EvalError::execution(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        out.push(Sample {
            labels,
            value,
            drop_name: s.drop_name || !comparison || b.return_bool,
        });
    }
    if let Some(fill) = matching.fill_left {
        fill_missing_many(b, &one, fill, swapped, matching, &matched, &mut out);
    }
    Ok(out)
}

/// `fill_left(v)` (experimental): a "one" side series without any match meets `v`,
/// and the result carries its matching labels.
fn fill_missing_many(
    b: &Binary,
    one: &[Sample],
    fill: f64,
    swapped: bool,
    matching: &VectorMatching,
    matched: &HashMap<Labels, HashSet<Labels>>,
    out: &mut Vec<Sample>,
) {
    let mut done = HashSet::new();
    for o in one {
        let sig = signature(&o.labels, matching);
        if matched.contains_key(&sig) || !done.insert(sig.clone()) {
            continue;
        }
        let (l, r) = if swapped {
            (o.value, fill)
        } else {
            (fill, o.value)
        };
        let (mut value, keep) = apply(b.op, l, r);
        if b.return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        out.push(Sample {
            labels: sig,
            value,
            drop_name: true,
        });
    }
}

fn result_labels(many: &Labels, one: &Labels, matching: &VectorMatching) -> Labels {
    let mut out = many.clone();
    if matching.card == Cardinality::OneToOne {
        if matching.on {
            out.retain(|l| matching.labels.contains(&l.name));
        } else {
            out.retain(|l| !matching.labels.contains(&l.name));
        }
    }
    for name in &matching.include {
        out.set(name, one.get(name));
    }
    out
}

/// Labels as Prometheus prints them in messages: `{a="x", b="y"}`.
pub(crate) fn braces(labels: &Labels) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|l| format!("{}={:?}", l.name, l.value))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}
