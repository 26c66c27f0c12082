//! The experimental `info(v, {data-label selector})` function: enriches series
//! with the data labels of "info" series (default `target_info`) that share
//! their identifying labels (`instance`, `job`).
//!
//! The info series are a fetch of their own, planned beside the call: the
//! latest sample of each at the base expression's reference time (its first
//! selector's `@`/`offset`, through subqueries), pushed down like any lookback.

use std::collections::HashMap;

use crate::model::{Labels, MatchOp, Matcher, METRIC_NAME_LABEL};
use crate::query::promql::{Call, Expr};

use super::engine::Engine;
use super::error::EvalError;
use super::plan::{resolve_at, Grid, QueryParams};
use super::value::{Sample, Value};

/// The labels that tie a series to its info series.
const IDENTIFYING_LABELS: [&str; 2] = ["instance", "job"];
/// The info metric used when the selector names none.
const TARGET_INFO: &str = "target_info";

/// The matchers of the data-label selector (the second argument).
fn selector_matchers(call: &Call) -> &[Matcher] {
    match call.args.get(1).map(Expr::unparen) {
        Some(Expr::VectorSelector(vs)) => &vs.matchers,
        _ => &[],
    }
}

/// Matchers on `__name__` choosing the info metrics: the selector's, or `target_info`.
fn name_matchers(call: &Call) -> Vec<Matcher> {
    let named: Vec<Matcher> = selector_matchers(call)
        .iter()
        .filter(|m| m.name == METRIC_NAME_LABEL)
        .cloned()
        .collect();
    if named.is_empty() {
        return Matcher::new(MatchOp::Equal, METRIC_NAME_LABEL, TARGET_INFO)
            .into_iter()
            .collect();
    }
    named
}

/// The name matchers that make a series an info series. With only negative
/// matchers, info series are still limited to info metrics (`*_info`).
fn info_name_matchers(call: &Call) -> Vec<Matcher> {
    let mut matchers = name_matchers(call);
    let positive = matchers
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::RegexMatch));
    if !positive {
        matchers.extend(Matcher::new(
            MatchOp::RegexMatch,
            METRIC_NAME_LABEL,
            ".+_info",
        ));
    }
    matchers
}

/// The matchers of the info-series fetch.
pub(crate) fn fetch_matchers(call: &Call) -> Vec<Matcher> {
    let mut matchers = info_name_matchers(call);
    matchers.extend(
        selector_matchers(call)
            .iter()
            .filter(|m| m.name != METRIC_NAME_LABEL)
            .cloned(),
    );
    matchers
}

/// The time the info series are read at when the base expression is evaluated at `t_ms`.
pub(crate) fn reference_time(expr: &Expr, params: &QueryParams, t_ms: i64) -> i64 {
    let at = |at, t: i64| {
        let grid = Grid {
            start_ms: t,
            end_ms: t,
            step_ms: 1,
        };
        resolve_at(at, grid, params).start_ms
    };
    match expr {
        Expr::VectorSelector(vs) => at(vs.at, t_ms).saturating_sub(vs.offset_ms),
        Expr::MatrixSelector(ms) => at(ms.selector.at, t_ms).saturating_sub(ms.selector.offset_ms),
        Expr::Subquery(sq) => {
            let inner = at(sq.at, t_ms).saturating_sub(sq.offset_ms);
            reference_time(&sq.expr, params, inner)
        }
        other => {
            let mut first = None;
            other.walk(&mut |e| {
                if first.is_none() && !std::ptr::eq(e, other) && has_selector(e) {
                    first = Some(e);
                }
            });
            first.map_or(t_ms, |e| reference_time(e, params, t_ms))
        }
    }
}

fn has_selector(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| found |= matches!(e, Expr::VectorSelector(_) | Expr::MatrixSelector(_)));
    found
}

/// The grid of reference times for a base expression evaluated over `grid`.
pub(crate) fn reference_grid(expr: &Expr, params: &QueryParams, grid: Grid) -> Grid {
    let start_ms = reference_time(expr, params, grid.start_ms);
    let end_ms = reference_time(expr, params, grid.end_ms);
    if start_ms == end_ms {
        return Grid {
            start_ms,
            end_ms,
            step_ms: 1,
        };
    }
    Grid {
        start_ms,
        end_ms,
        step_ms: grid.step_ms,
    }
}

/// Evaluates `info(v, selector)` at `t_ms`.
pub(crate) fn eval_info(
    engine: &mut Engine<'_>,
    call: &Call,
    t_ms: i64,
) -> Result<Value, EvalError> {
    let Some(arg) = call.args.first() else {
        return Ok(Value::Vector(Vec::new()));
    };
    let base = engine.eval_vector(arg, t_ms)?;
    let names = info_name_matchers(call);
    let data: Vec<&Matcher> = selector_matchers(call)
        .iter()
        .filter(|m| m.name != METRIC_NAME_LABEL)
        .collect();
    let reference = reference_time(arg, engine.params, t_ms);
    let infos = latest_info_series(engine, call, reference)?;
    let mut out = Vec::with_capacity(base.len());
    for sample in base {
        let name = sample.labels.metric_name();
        if names.iter().all(|m| m.matches(name)) {
            // Info series themselves are not enriched.
            out.push(sample);
            continue;
        }
        if let Some(enriched) = enrich(sample, &infos, &data)? {
            out.push(enriched);
        }
    }
    Ok(Value::Vector(out))
}

/// Info series visible at `reference_ms`, newest per name and identifying labels.
fn latest_info_series<'a>(
    engine: &Engine<'a>,
    call: &Call,
    reference_ms: i64,
) -> Result<HashMap<Labels, &'a Labels>, EvalError> {
    let mut latest: HashMap<Labels, (&'a Labels, f64)> = HashMap::new();
    for (labels, sample_time) in engine.rollup_points(call, reference_ms) {
        let signature = signature(labels.metric_name(), labels);
        match latest.get(&signature) {
            Some(&(_, seen)) if seen > sample_time => {}
            Some(&(_, seen)) if seen == sample_time => {
                return Err(EvalError::execution(format!(
                    "found duplicate series for info metric {}",
                    labels.metric_name()
                )));
            }
            _ => {
                latest.insert(signature, (labels, sample_time));
            }
        }
    }
    Ok(latest
        .into_iter()
        .map(|(k, (labels, _))| (k, labels))
        .collect())
}

/// An info metric's name with the identifying labels of `labels`.
fn signature(info_name: &str, labels: &Labels) -> Labels {
    let mut pairs = vec![(METRIC_NAME_LABEL, info_name)];
    pairs.extend(IDENTIFYING_LABELS.iter().map(|&l| (l, labels.get(l))));
    Labels::from_pairs(pairs)
}

/// The base sample with the data labels of its info series, or `None` when it
/// has none and the selector requires some.
fn enrich(
    mut sample: Sample,
    infos: &HashMap<Labels, &Labels>,
    data: &[&Matcher],
) -> Result<Option<Sample>, EvalError> {
    let mut added = Labels::default();
    let mut matched = false;
    if IDENTIFYING_LABELS
        .iter()
        .all(|l| sample.labels.get(l).is_empty())
    {
        // Nothing to join on: no info series is looked up.
        return Ok((data.iter().all(|m| m.matches(""))).then_some(sample));
    }
    let mut info_names: Vec<&str> = infos.keys().map(Labels::metric_name).collect();
    info_names.sort_unstable();
    info_names.dedup();
    for info_name in info_names {
        let Some(info) = infos.get(&signature(info_name, &sample.labels)) else {
            continue;
        };
        matched = true;
        for l in info.iter() {
            if l.name == METRIC_NAME_LABEL {
                continue;
            }
            if !data.is_empty() && !data.iter().any(|m| m.name == l.name) {
                continue;
            }
            let current = added.get(&l.name);
            if !current.is_empty() && current != l.value {
                return Err(EvalError::execution(format!(
                    "conflicting label: {}",
                    l.name
                )));
            }
            if sample.labels.get(&l.name).is_empty() {
                added.set(&l.name, &l.value);
            }
        }
    }
    if !matched && !data.iter().all(|m| m.matches("")) {
        return Ok(None);
    }
    for l in added.iter() {
        sample.labels.set(&l.name, &l.value);
    }
    Ok(Some(sample))
}
