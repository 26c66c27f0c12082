//! Range queries whose whole expression is one pushed-down fetch (`rate(x[5m])`, a bare
//! selector): the shards already returned every series' points on the query's own grid, so the
//! matrix is taken from them as is. Evaluating step by step would clone, hash and regroup every
//! label set at every step (most of the time of such queries over many series).

use std::collections::HashSet;

use crate::query::promql::Expr;
use crate::query::rollup::RollupFunction;

use super::annotation;
use super::call::keeps_name;
use super::engine::Engine;
use super::error::EvalError;
use super::plan::{rollup_arguments, rollup_function, FetchKind, QueryParams};
use super::value::{remove_name, Series};

/// The range query's matrix built from its one fetch, or `None` when the expression is not such a
/// fetch (or needs the step-by-step path to report an error, e.g. duplicate label sets).
pub(crate) fn direct_matrix(
    engine: &mut Engine<'_>,
    expr: &Expr,
    params: &QueryParams,
) -> Option<Result<Vec<Series>, EvalError>> {
    let mut expr = expr;
    while let Expr::Paren(p) = expr {
        expr = &p.expr;
    }
    let (fetched, drop_name, counter_function) = match expr {
        Expr::VectorSelector(vs) if vs.at.is_none() => (engine.fetched(vs.as_ref())?, false, None),
        Expr::Call(call) => {
            let function = rollup_function(call.func.function)?;
            let (Expr::MatrixSelector(ms), fn_params) = rollup_arguments(call)? else {
                return None;
            };
            if !fn_params.is_empty() || call.args.len() != 1 || ms.selector.at.is_some() {
                return None;
            }
            let counter = matches!(function, RollupFunction::Rate | RollupFunction::Increase)
                .then_some(call.args.first()?.span());
            (engine.fetched(ms.as_ref())?, !keeps_name(function), counter)
        }
        _ => return None,
    };
    let (result, FetchKind::Rollup { grid, .. }) = fetched else {
        return None;
    };
    let on_grid = grid.start_ms == params.start_ms
        && grid.end_ms == params.end_ms
        && grid.step_ms == params.step_ms;
    if !on_grid {
        return None;
    }
    let total: usize = result.series.iter().map(|s| s.timestamps.len()).sum();
    if let Err(e) = engine.check_samples(total) {
        return Some(Err(e));
    }
    let mut matrix = Vec::with_capacity(result.series.len());
    for fetched in &result.series {
        if fetched.timestamps.is_empty() {
            continue;
        }
        if let Some(span) = counter_function {
            let name = fetched.labels.metric_name();
            let counter_like = ["_total", "_sum", "_count", "_bucket"]
                .iter()
                .any(|suffix| name.ends_with(suffix));
            if !name.is_empty() && !counter_like {
                engine.info(annotation::possible_non_counter(name), span);
            }
        }
        let mut labels = fetched.labels.clone();
        if drop_name {
            remove_name(&mut labels, params.type_and_unit_labels);
        }
        let points = fetched
            .timestamps
            .iter()
            .copied()
            .zip(fetched.values.iter().copied())
            .collect();
        matrix.push(Series {
            labels,
            points,
            drop_name: false,
        });
    }
    let mut seen = HashSet::with_capacity(matrix.len());
    if !matrix.iter().all(|s| seen.insert(&s.labels)) {
        // Two series share a label set once the name is gone: the step-by-step path reports it
        // exactly when (and only if) they meet at one step.
        return None;
    }
    drop(seen);
    matrix.sort_by(|a, b| a.labels.cmp(&b.labels));
    Some(Ok(matrix))
}
