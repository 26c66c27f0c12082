//! PromQL evaluation with Prometheus 3 semantics, in two phases.
//!
//! 1. Decide: [`plan()`] lists every selector's fetch — raw samples over a window,
//!    or a rollup at a step grid (`rate(x[5m])`, `max_over_time(x[1h])`, the
//!    lookback of a plain instant selector) that a shard can compute itself.
//! 2. Do: a [`SeriesSource`] answers the fetches; then the engine evaluates the
//!    expression synchronously at every step over that data.
//!
//! `__name__` is removed from function and operator results only at the end
//! (Prometheus 3's delayed name removal); two results then having the same
//! labels is an error, as in Prometheus.

mod aggregate;
pub mod annotation;
mod binary;
mod call;
pub mod date;
mod direct;
pub mod durations;
mod engine;
pub mod error;
mod extended_ranges;
mod functions;
pub mod histogram;
mod info;
mod label_functions;
pub mod plan;
pub mod source;
pub mod value;

use crate::model::Labels;
use crate::query::promql::{Expr, ValueType};

pub use annotation::{Annotation, AnnotationKind, Annotations};
pub use error::{ErrorType, EvalError};
pub use plan::{
    plan, FetchKind, FetchRequest, FetchResult, FetchedSeries, Grid, Plan, QueryParams,
};
pub use source::{MemorySeries, MemorySource, SeriesSource};
pub use value::{Sample, Series, Value};

use engine::Engine;
use value::SeriesBuilder;

/// A query's result and the annotations raised while computing it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    /// The value: a matrix for range queries.
    pub value: Value,
    /// Warnings and infos; render them with [`Annotation::render`] and the query text.
    pub annotations: Annotations,
}

/// Evaluates `expr` at `params.start_ms` (an instant query).
pub async fn instant_query<S: SeriesSource>(
    expr: &Expr,
    params: &QueryParams,
    source: &S,
) -> Result<QueryResult, EvalError> {
    let params = QueryParams {
        end_ms: params.start_ms,
        ..*params
    };
    let resolved = durations::resolve(expr, &params)?;
    let expr = resolved.as_ref().unwrap_or(expr);
    extended_ranges::check(expr)?;
    let plan = plan(expr, &params)?;
    let data = fetch(&plan, &params, source).await?;
    let mut engine = Engine::new(&params, &plan, &data);
    let value = engine.eval(expr, params.start_ms)?;
    Ok(QueryResult {
        value: finish_instant(value, params.type_and_unit_labels)?,
        annotations: engine.annotations,
    })
}

/// Evaluates `expr` at every step from `params.start_ms` to `params.end_ms` (a range query).
pub async fn range_query<S: SeriesSource>(
    expr: &Expr,
    params: &QueryParams,
    source: &S,
) -> Result<QueryResult, EvalError> {
    let value_type = expr.value_type();
    if value_type != ValueType::Scalar && value_type != ValueType::Vector {
        return Err(EvalError::BadData(format!(
            "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
            value_type.documented_name()
        )));
    }
    let resolved = durations::resolve(expr, params)?;
    let expr = resolved.as_ref().unwrap_or(expr);
    extended_ranges::check(expr)?;
    let plan = plan(expr, params)?;
    let data = fetch(&plan, params, source).await?;
    let mut engine = Engine::new(params, &plan, &data);
    engine.range_query = true;
    if let Some(matrix) = direct::direct_matrix(&mut engine, expr, params) {
        return Ok(QueryResult {
            value: Value::Matrix(matrix?),
            annotations: engine.annotations,
        });
    }
    let mut builder = SeriesBuilder::default();
    let mut total_points = 0usize;
    let mut t = params.start_ms;
    while t <= params.end_ms {
        engine.check_deadline()?;
        let samples = match engine.eval(expr, t)? {
            Value::Scalar(v) => vec![Sample {
                labels: Labels::default(),
                value: v,
                drop_name: false,
            }],
            Value::Vector(v) => drop_names(v, params.type_and_unit_labels)?,
            other => {
                return Err(EvalError::execution(format!(
                    "unexpected {} in range query",
                    other.type_name()
                )))
            }
        };
        total_points += samples.len();
        engine.check_samples(total_points)?;
        for s in &samples {
            builder.push(t, s);
        }
        match t.checked_add(params.step_ms.max(1)) {
            Some(next) => t = next,
            None => break,
        }
    }
    let mut series = builder.finish();
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(QueryResult {
        value: Value::Matrix(series),
        annotations: engine.annotations,
    })
}

async fn fetch<S: SeriesSource>(
    plan: &Plan,
    params: &QueryParams,
    source: &S,
) -> Result<Vec<FetchResult>, EvalError> {
    let data = source.fetch(&plan.requests).await?;
    if data.len() != plan.requests.len() {
        return Err(EvalError::Source(format!(
            "{} results for {} requests",
            data.len(),
            plan.requests.len()
        )));
    }
    if data.iter().any(|r| r.series.len() > params.max_series) {
        return Err(EvalError::TooManySeries {
            limit: params.max_series,
        });
    }
    Ok(data)
}

/// Removes `__name__` where it is marked to drop; fails on duplicate label sets.
fn drop_names(mut samples: Vec<Sample>, type_and_unit: bool) -> Result<Vec<Sample>, EvalError> {
    for s in samples.iter_mut().filter(|s| s.drop_name) {
        value::remove_name(&mut s.labels, type_and_unit);
        s.drop_name = false;
    }
    check_unique(samples.iter().map(|s| &s.labels))?;
    Ok(samples)
}

/// Fails when two results have the same labels.
fn check_unique<'a>(labels: impl ExactSizeIterator<Item = &'a Labels>) -> Result<(), EvalError> {
    let mut seen = std::collections::HashSet::with_capacity(labels.len());
    for l in labels {
        if !seen.insert(l) {
            return Err(EvalError::execution(
                "vector cannot contain metrics with the same labelset",
            ));
        }
    }
    Ok(())
}

fn finish_instant(value: Value, type_and_unit: bool) -> Result<Value, EvalError> {
    Ok(match value {
        Value::Vector(v) => Value::Vector(drop_names(v, type_and_unit)?),
        Value::Matrix(mut m) => {
            for s in m.iter_mut().filter(|s| s.drop_name) {
                value::remove_name(&mut s.labels, type_and_unit);
                s.drop_name = false;
            }
            check_unique(m.iter().map(|s| &s.labels))?;
            m.sort_by(|a, b| a.labels.cmp(&b.labels));
            Value::Matrix(m)
        }
        other => other,
    })
}

#[cfg(test)]
mod tests;
