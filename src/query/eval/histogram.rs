//! `histogram_quantile` and `histogram_fraction` over classic histograms: float
//! series `<name>_bucket{le="<upper bound>"}` with cumulative counts.

use std::collections::HashMap;

use crate::model::Labels;
use crate::query::promql::{Call, Span};

use super::annotation;
use super::engine::Engine;
use super::error::EvalError;
use super::functions::scalar_arg;
use super::value::{remove_name, Sample, Value};

/// One classic bucket: an upper bound and the cumulative count up to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    /// The `le` label's value.
    pub upper_bound: f64,
    /// Observations less than or equal to `upper_bound`.
    pub count: f64,
}

/// The buckets of one output series.
struct BucketGroup {
    /// The labels without `le` and `__name__`.
    labels: Labels,
    /// The metric name of the bucket series, for annotations.
    name: String,
    buckets: Vec<Bucket>,
}

/// Groups a vector's bucket series by their labels without `le` and `__name__`;
/// series without a parsable `le` are dropped with a warning at `span`.
fn group_buckets(engine: &mut Engine<'_>, samples: Vec<Sample>, span: Span) -> Vec<BucketGroup> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<BucketGroup> = Vec::new();
    for s in samples {
        let Ok(upper_bound) = parse_le(s.labels.get("le")) else {
            let text = annotation::bad_bucket_label(s.labels.metric_name(), s.labels.get("le"));
            engine.warn(text, span);
            continue;
        };
        let name = s.labels.metric_name().to_string();
        let mut labels = s.labels;
        labels.remove("le");
        remove_name(&mut labels, engine.params.type_and_unit_labels);
        let bucket = Bucket {
            upper_bound,
            count: s.value,
        };
        match index.get(&labels) {
            Some(&i) => {
                if let Some(g) = groups.get_mut(i) {
                    g.buckets.push(bucket);
                }
            }
            None => {
                index.insert(labels.clone(), groups.len());
                groups.push(BucketGroup {
                    labels,
                    name,
                    buckets: vec![bucket],
                });
            }
        }
    }
    groups
}

/// The quantile of a group, with an info when its counts had to be made monotonic.
fn group_quantile(engine: &mut Engine<'_>, q: f64, group: &BucketGroup, span: Span) -> f64 {
    let mut buckets = group.buckets.clone();
    let (value, forced) = bucket_quantile(q, &mut buckets);
    if forced {
        engine.info(annotation::forced_monotonicity(&group.name), span);
    }
    value
}

/// Warns about a quantile outside [0, 1].
fn check_quantile(engine: &mut Engine<'_>, q: f64, span: Span) {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        engine.warn(annotation::invalid_quantile(q), span);
    }
}

fn parse_le(text: &str) -> Result<f64, std::num::ParseFloatError> {
    match text.to_ascii_lowercase().as_str() {
        "+inf" | "inf" => Ok(f64::INFINITY),
        "-inf" => Ok(f64::NEG_INFINITY),
        _ => text.parse(),
    }
}

/// `histogram_quantile(q, buckets)`.
pub(crate) fn histogram_quantile(
    engine: &mut Engine<'_>,
    call: &Call,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let q = scalar_arg(engine, call, 0, t_ms)?;
    if let Some(param) = call.args.first() {
        check_quantile(engine, q, param.span());
    }
    let Some(arg) = call.args.get(1) else {
        return Ok(Value::Vector(Vec::new()));
    };
    let samples = engine.eval_vector(arg, t_ms)?;
    let mut out = Vec::new();
    for group in group_buckets(engine, samples, arg.span()) {
        let value = group_quantile(engine, q, &group, arg.span());
        out.push(Sample {
            labels: group.labels,
            value,
            drop_name: false,
        });
    }
    Ok(Value::Vector(out))
}

/// `histogram_quantiles(buckets, "label", q...)`: one series per quantile, labelled with it.
pub(crate) fn histogram_quantiles(
    engine: &mut Engine<'_>,
    call: &Call,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let label = super::functions::string_arg(engine, call, 1, t_ms)?;
    let mut quantiles = Vec::new();
    for (i, arg) in call.args.iter().enumerate().skip(2) {
        let q = scalar_arg(engine, call, i, t_ms)?;
        check_quantile(engine, q, arg.span());
        quantiles.push(q);
    }
    let Some(arg) = call.args.first() else {
        return Ok(Value::Vector(Vec::new()));
    };
    let samples = engine.eval_vector(arg, t_ms)?;
    let mut out = Vec::new();
    for group in group_buckets(engine, samples, arg.span()) {
        if !group.labels.get(&label).is_empty() {
            return Err(EvalError::execution(
                "vector cannot contain metrics with the same labelset",
            ));
        }
        for &q in &quantiles {
            let mut labels = group.labels.clone();
            labels.set(&label, &quantile_label(q));
            let value = group_quantile(engine, q, &group, arg.span());
            out.push(Sample {
                labels,
                value,
                drop_name: false,
            });
        }
    }
    Ok(Value::Vector(out))
}

/// A quantile as `histogram_quantiles` labels it: integral values keep one decimal ("1.0").
fn quantile_label(q: f64) -> String {
    if q.is_finite() && q.fract() == 0.0 {
        format!("{q:.1}")
    } else {
        super::aggregate::format_value(q)
    }
}

/// `histogram_fraction(lower, upper, buckets)`.
pub(crate) fn histogram_fraction(
    engine: &mut Engine<'_>,
    call: &Call,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let lower = scalar_arg(engine, call, 0, t_ms)?;
    let upper = scalar_arg(engine, call, 1, t_ms)?;
    let Some(arg) = call.args.get(2) else {
        return Ok(Value::Vector(Vec::new()));
    };
    let samples = engine.eval_vector(arg, t_ms)?;
    let out = group_buckets(engine, samples, arg.span())
        .into_iter()
        .map(|mut group| Sample {
            value: bucket_fraction(lower, upper, &mut group.buckets),
            labels: group.labels,
            drop_name: false,
        })
        .collect();
    Ok(Value::Vector(out))
}

/// Sorts, merges equal bounds, and forces the counts to be monotonic.
///
/// `None` when there is no +Inf bucket; else whether monotonicity had to be forced.
fn prepare(buckets: &mut Vec<Bucket>) -> Option<bool> {
    buckets.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
    if !buckets
        .last()
        .is_some_and(|b| b.upper_bound == f64::INFINITY)
    {
        return None;
    }
    let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for &b in buckets.iter() {
        match merged.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => merged.push(b),
        }
    }
    // Counts within a relative 1e-12 of the previous one are precision noise.
    let mut previous = merged.first().map_or(0.0, |b| b.count);
    for b in merged.iter_mut().skip(1) {
        let delta = (b.count - previous).abs();
        if delta == 0.0 {
            continue;
        }
        if delta / b.count <= 1e-12 {
            b.count = previous;
        } else {
            previous = b.count;
        }
    }
    let mut forced = false;
    let mut max = merged.first().map_or(0.0, |b| b.count);
    for b in merged.iter_mut().skip(1) {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            b.count = max;
            forced = true;
        }
    }
    *buckets = merged;
    Some(forced)
}

/// The `q`-quantile of classic buckets, interpolating linearly within a bucket,
/// and whether the counts had to be forced monotonic.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    let Some(forced) = prepare(buckets) else {
        return (f64::NAN, false);
    };
    let observed = buckets.len() >= 2 && buckets.last().is_some_and(|b| b.count != 0.0);
    (quantile_of_prepared(q, buckets), forced && observed)
}

fn quantile_of_prepared(q: f64, buckets: &[Bucket]) -> f64 {
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let n = buckets.len();
    let observations = buckets.get(n - 1).map_or(0.0, |b| b.count);
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = buckets
        .get(..n - 1)
        .map_or(0, |head| head.partition_point(|b| b.count < rank));
    let bound = |i: usize| buckets.get(i).map_or(f64::NAN, |b| b.upper_bound);
    let count_at = |i: usize| buckets.get(i).map_or(f64::NAN, |b| b.count);
    if b == n - 1 {
        return bound(n - 2);
    }
    if b == 0 && bound(0) <= 0.0 {
        return bound(0);
    }
    let (mut start, end, mut count) = (0.0, bound(b), count_at(b));
    if b > 0 {
        start = bound(b - 1);
        count -= count_at(b - 1);
        rank -= count_at(b - 1);
    }
    start + (end - start) * (rank / count)
}

/// The fraction of observations between `lower` and `upper` in classic buckets.
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    if prepare(buckets).is_none() {
        return f64::NAN;
    }
    let total = buckets.last().map_or(0.0, |b| b.count);
    if total == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    // Inside a bucket of infinite width nothing is interpolated: the lowest bucket
    // counts as wholly below the bound, the +Inf bucket as wholly above it.
    let rank_at = |x: f64| -> f64 {
        let mut previous_bound = f64::NEG_INFINITY;
        let mut previous_count = 0.0;
        for (i, b) in buckets.iter().enumerate() {
            let lower_bound = if i == 0 && b.upper_bound > 0.0 {
                0.0
            } else {
                previous_bound
            };
            if x <= lower_bound {
                return previous_count;
            }
            if x < b.upper_bound {
                if lower_bound.is_infinite() || b.upper_bound.is_infinite() {
                    return if b.upper_bound.is_infinite() {
                        previous_count
                    } else {
                        b.count
                    };
                }
                let share = (x - lower_bound) / (b.upper_bound - lower_bound);
                return previous_count + (b.count - previous_count) * share;
            }
            previous_bound = b.upper_bound;
            previous_count = b.count;
        }
        total
    };
    (rank_at(upper) - rank_at(lower)) / total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper_bound, count)| Bucket { upper_bound, count })
            .collect()
    }

    #[test]
    fn quantile_interpolates_within_bucket() {
        let mut b = buckets(&[(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)]);
        assert_eq!(bucket_quantile(0.5, &mut b), (1.0, false));
        let mut b = buckets(&[(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)]);
        assert_eq!(bucket_quantile(0.75, &mut b), (1.5, false));
        let mut b = buckets(&[(1.0, 10.0), (2.0, 20.0)]);
        assert!(bucket_quantile(0.5, &mut b).0.is_nan());
    }
}
