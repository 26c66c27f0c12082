//! Planning ("decide"): which series to fetch, over which window, and which
//! rollups a shard can compute for us at which step grid. Pure: AST in, plan out.
//!
//! Every selector node gets exactly one fetch. A node is identified by its
//! address, which is stable because the AST is borrowed, unchanged, for the
//! whole evaluation. Evaluation times are "keys": the step time, or the `@`
//! time when the selector has one; the sample window ends at `key - offset`.

use std::collections::HashMap;

use crate::model::Matcher;
use crate::query::promql::{At, Call, Expr, Function, MatrixSelector, Subquery, VectorSelector};
use crate::query::rollup::{RangeMode, RollupFunction, RollupGrid};

use super::error::EvalError;
use super::info;

/// The time frame and settings of one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryParams {
    /// First evaluation time (equal to `end_ms` for an instant query).
    pub start_ms: i64,
    /// Last evaluation time.
    pub end_ms: i64,
    /// Distance between evaluation times; positive, or 0 for an instant query.
    pub step_ms: i64,
    /// How far back an instant selector looks for a sample (Prometheus: 5m).
    pub lookback_ms: i64,
    /// The step of a subquery written without one (Prometheus: the evaluation interval, 1m).
    pub default_subquery_step_ms: i64,
    /// Most samples one selector or subquery may hold at once (Prometheus default 50M).
    pub max_samples: usize,
    /// Most series one selector may match.
    pub max_series: usize,
    /// Whether rollups over range selectors are left to the source (the shards);
    /// `false` fetches raw samples and computes them in the engine (same results).
    pub pushdown_rollups: bool,
    /// Evaluation stops with a timeout error after this long.
    pub timeout: Option<std::time::Duration>,
    /// Prometheus' experimental type-and-unit labels: `__type__` and `__unit__`
    /// are dropped with `__name__` (vector matching still compares them).
    pub type_and_unit_labels: bool,
}

impl QueryParams {
    /// An instant query at `time_ms` with Prometheus' defaults (step 0, as `step()` reports).
    pub fn instant(time_ms: i64) -> Self {
        QueryParams {
            step_ms: 0,
            ..Self::range(time_ms, time_ms, 1)
        }
    }

    /// A range query with Prometheus' defaults.
    pub fn range(start_ms: i64, end_ms: i64, step_ms: i64) -> Self {
        QueryParams {
            start_ms,
            end_ms,
            step_ms: step_ms.max(1),
            lookback_ms: DEFAULT_LOOKBACK_MS,
            default_subquery_step_ms: DEFAULT_SUBQUERY_STEP_MS,
            max_samples: DEFAULT_MAX_SAMPLES,
            max_series: DEFAULT_MAX_SERIES,
            pushdown_rollups: true,
            timeout: None,
            type_and_unit_labels: false,
        }
    }
}

/// Prometheus' default `--query.lookback-delta`: 5 minutes.
pub const DEFAULT_LOOKBACK_MS: i64 = 300_000;
/// Prometheus' default evaluation interval, used as the default subquery step: 1 minute.
pub const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;
/// Prometheus' default `--query.max-samples`: bounds the memory of one query.
pub const DEFAULT_MAX_SAMPLES: usize = 50_000_000;
/// Default bound on series per selector; keeps one query from reading the whole index.
pub const DEFAULT_MAX_SERIES: usize = 1_000_000;

/// One fetch: the series matching `matchers`, raw or rolled up.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchRequest {
    /// The selector's matchers.
    pub matchers: Vec<Matcher>,
    /// What to return per series.
    pub kind: FetchKind,
}

/// What a fetch returns per series.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchKind {
    /// Every sample in `(start_ms, end_ms]`, stale markers included.
    Raw {
        /// Exclusive start.
        start_ms: i64,
        /// Inclusive end.
        end_ms: i64,
    },
    /// The rollup at every step of the grid; points are keyed by evaluation time.
    Rollup {
        /// The function.
        function: RollupFunction,
        /// Its scalar arguments (`quantile_over_time`'s `q`, …).
        params: Vec<f64>,
        /// Where to evaluate it.
        grid: RollupGrid,
    },
}

/// One series as fetched: raw samples, or rollup points keyed by evaluation time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FetchedSeries {
    /// The series' labels.
    pub labels: crate::model::Labels,
    /// Sample or evaluation times, ascending.
    pub timestamps: Vec<i64>,
    /// Values, one per timestamp.
    pub values: Vec<f64>,
}

/// The answer to one [`FetchRequest`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FetchResult {
    /// Matching series with at least one sample or point, in any order.
    pub series: Vec<FetchedSeries>,
}

/// Every fetch of a query, and which AST node each belongs to.
#[derive(Debug, Default)]
pub struct Plan {
    /// The fetches, in AST order.
    pub requests: Vec<FetchRequest>,
    slots: HashMap<usize, usize>,
}

impl Plan {
    /// Index in `requests` of the fetch for a selector node.
    pub(crate) fn slot<T: PlanNode>(&self, node: &T) -> Option<usize> {
        self.slots.get(&node_key(node)).copied()
    }
}

/// An AST node that can own a fetch: a selector or a subquery.
///
/// Only the nodes themselves implement it, not the `Box`es holding them, so the
/// planner and the engine always key a node by the same address.
pub(crate) trait PlanNode {}

impl PlanNode for VectorSelector {}
impl PlanNode for MatrixSelector {}
impl PlanNode for Subquery {}
impl PlanNode for Call {}

/// The identity of a node: its address, stable while the AST is borrowed.
pub(crate) fn node_key<T: PlanNode>(node: &T) -> usize {
    std::ptr::from_ref(node) as usize
}

/// A set of evaluation times: `start, start + step, …, ≤ end`; empty when `start > end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    /// First time.
    pub start_ms: i64,
    /// Last time (inclusive).
    pub end_ms: i64,
    /// Distance between times; positive.
    pub step_ms: i64,
}

/// Plans the fetches of `expr` evaluated over `params`' grid.
///
/// Fails when one grid has more steps than `params.max_samples`: each step can
/// hold a sample per series, so such a query could never stay within the limit
/// (this also bounds the work of series-less subqueries like `x[1y:1ms]`).
pub fn plan(expr: &Expr, params: &QueryParams) -> Result<Plan, EvalError> {
    let mut planner = Planner {
        params,
        plan: Plan::default(),
        too_large: false,
    };
    let grid = Grid {
        start_ms: params.start_ms,
        end_ms: params.end_ms,
        step_ms: params.step_ms.max(1),
    };
    planner.walk(expr, grid);
    if planner.too_large {
        return Err(EvalError::TooManySamples {
            limit: params.max_samples,
        });
    }
    Ok(planner.plan)
}

impl Grid {
    /// How many evaluation times the grid holds.
    pub fn len(&self) -> u64 {
        if self.start_ms > self.end_ms {
            return 0;
        }
        let span = self.end_ms.abs_diff(self.start_ms);
        span / self.step_ms.max(1).unsigned_abs() + 1
    }

    /// Whether the grid holds no time.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The rollup a shard can compute for a function applied directly to a range selector.
pub fn rollup_function(function: Function) -> Option<RollupFunction> {
    use Function as F;
    use RollupFunction as R;
    Some(match function {
        F::Rate => R::Rate,
        F::Increase => R::Increase,
        F::Delta => R::Delta,
        F::Irate => R::Irate,
        F::Idelta => R::Idelta,
        F::Resets => R::Resets,
        F::Changes => R::Changes,
        F::Deriv => R::Deriv,
        F::PredictLinear => R::PredictLinear,
        F::DoubleExponentialSmoothing => R::DoubleExponentialSmoothing,
        F::AvgOverTime => R::AvgOverTime,
        F::MinOverTime => R::MinOverTime,
        F::MaxOverTime => R::MaxOverTime,
        F::SumOverTime => R::SumOverTime,
        F::CountOverTime => R::CountOverTime,
        F::QuantileOverTime => R::QuantileOverTime,
        F::StddevOverTime => R::StddevOverTime,
        F::StdvarOverTime => R::StdvarOverTime,
        F::LastOverTime => R::LastOverTime,
        F::FirstOverTime => R::FirstOverTime,
        F::PresentOverTime => R::PresentOverTime,
        F::MadOverTime => R::MadOverTime,
        F::TsOfLastOverTime => R::TsOfLastOverTime,
        F::TsOfFirstOverTime => R::TsOfFirstOverTime,
        F::TsOfMinOverTime => R::TsOfMinOverTime,
        F::TsOfMaxOverTime => R::TsOfMaxOverTime,
        _ => return None,
    })
}

/// The range-vector argument of a rollup call and its literal scalar parameters in order.
pub(crate) fn rollup_arguments(call: &Call) -> Option<(&Expr, Vec<f64>)> {
    let mut matrix = None;
    let mut params = Vec::new();
    for arg in &call.args {
        match arg.unparen() {
            Expr::Number(n) => params.push(n.value),
            e @ (Expr::MatrixSelector(_) | Expr::Subquery(_)) if matrix.is_none() => {
                matrix = Some(e);
            }
            _ => return None,
        }
    }
    Some((matrix?, params))
}

/// How a selector reads its window: the experimental `anchored`/`smoothed` modifiers.
pub fn range_mode(vs: &VectorSelector) -> RangeMode {
    if vs.smoothed {
        RangeMode::Smoothed
    } else if vs.anchored {
        RangeMode::Anchored
    } else {
        RangeMode::Plain
    }
}

/// The times at which a node with modifier `at` is evaluated, given its parent's grid.
pub(crate) fn resolve_at(at: Option<At>, grid: Grid, params: &QueryParams) -> Grid {
    let fixed = match at {
        None => return grid,
        Some(At::Timestamp(t)) => t,
        Some(At::Start) => params.start_ms,
        Some(At::End) => params.end_ms,
    };
    Grid {
        start_ms: fixed,
        end_ms: fixed,
        step_ms: 1,
    }
}

/// The inner grid of a subquery evaluated at the keys `outer`: every multiple of
/// `step` in `(first - offset - range, last - offset]`.
pub(crate) fn subquery_grid(outer: Grid, range_ms: i64, step_ms: i64, offset_ms: i64) -> Grid {
    let step_ms = step_ms.max(1);
    let lowest = outer
        .start_ms
        .saturating_sub(offset_ms)
        .saturating_sub(range_ms);
    let start_ms = lowest
        .div_euclid(step_ms)
        .saturating_mul(step_ms)
        .saturating_add(step_ms);
    Grid {
        start_ms,
        end_ms: outer.end_ms.saturating_sub(offset_ms),
        step_ms,
    }
}

struct Planner<'p> {
    params: &'p QueryParams,
    plan: Plan,
    /// Set when some grid exceeds the sample limit.
    too_large: bool,
}

impl Planner<'_> {
    fn walk(&mut self, expr: &Expr, grid: Grid) {
        if grid.len() > self.params.max_samples as u64 {
            self.too_large = true;
            return;
        }
        match expr {
            Expr::Number(_) | Expr::String(_) => {}
            Expr::VectorSelector(vs) => self.instant(vs, grid, RollupFunction::Latest),
            Expr::MatrixSelector(ms) => self.raw(ms, grid),
            Expr::Subquery(sq) => {
                let keys = resolve_at(sq.at, grid, self.params);
                let step = sq.step_ms.unwrap_or(self.params.default_subquery_step_ms);
                let inner = subquery_grid(keys, sq.range_ms, step, sq.offset_ms);
                self.walk(&sq.expr, inner);
            }
            Expr::Call(call) => self.call(call, grid),
            Expr::Aggregate(a) => {
                if let Some(p) = &a.param {
                    self.walk(p, grid);
                }
                self.walk(&a.expr, grid);
            }
            Expr::Binary(b) => {
                self.walk(&b.lhs, grid);
                self.walk(&b.rhs, grid);
            }
            Expr::Unary(u) => self.walk(&u.expr, grid),
            Expr::Paren(p) => self.walk(&p.expr, grid),
        }
    }

    fn call(&mut self, call: &Call, grid: Grid) {
        if call.func.function == Function::Info {
            self.info(call, grid);
            return;
        }
        if call.func.function == Function::Timestamp {
            if let Some(Expr::VectorSelector(vs)) = call.args.first().map(Expr::unparen) {
                self.instant(vs, grid, RollupFunction::LatestTimestamp);
                return;
            }
        }
        if let Some(function) = rollup_function(call.func.function) {
            if let Some((Expr::MatrixSelector(ms), params)) = rollup_arguments(call) {
                // predict_linear's intercept is the step time even under `@`: not a pure key.
                let at_dependent =
                    function == RollupFunction::PredictLinear && ms.selector.at.is_some();
                if self.params.pushdown_rollups && !at_dependent {
                    self.rollup(ms, grid, function, params);
                    return;
                }
            }
        }
        for arg in &call.args {
            self.walk(arg, grid);
        }
    }

    /// `info()`: its base expression, and the info series at the reference times.
    fn info(&mut self, call: &Call, grid: Grid) {
        let Some(base) = call.args.first() else {
            return;
        };
        self.walk(base, grid);
        let keys = info::reference_grid(base, self.params, grid);
        let grid = RollupGrid {
            start_ms: keys.start_ms,
            end_ms: keys.end_ms,
            step_ms: keys.step_ms,
            range_ms: self.params.lookback_ms,
            offset_ms: 0,
            mode: RangeMode::Plain,
            lookback_ms: self.params.lookback_ms,
        };
        let kind = FetchKind::Rollup {
            function: RollupFunction::LatestTimestamp,
            params: Vec::new(),
            grid,
        };
        self.push(node_key(call), &info::fetch_matchers(call), kind);
    }

    fn instant(&mut self, vs: &VectorSelector, grid: Grid, function: RollupFunction) {
        let keys = resolve_at(vs.at, grid, self.params);
        let grid = RollupGrid {
            start_ms: keys.start_ms,
            end_ms: keys.end_ms,
            step_ms: keys.step_ms,
            range_ms: self.params.lookback_ms,
            offset_ms: vs.offset_ms,
            mode: range_mode(vs),
            lookback_ms: self.params.lookback_ms,
        };
        let kind = FetchKind::Rollup {
            function,
            params: Vec::new(),
            grid,
        };
        self.push(node_key(vs), &vs.matchers, kind);
    }

    fn rollup(
        &mut self,
        ms: &MatrixSelector,
        grid: Grid,
        function: RollupFunction,
        params: Vec<f64>,
    ) {
        let keys = resolve_at(ms.selector.at, grid, self.params);
        let grid = RollupGrid {
            start_ms: keys.start_ms,
            end_ms: keys.end_ms,
            step_ms: keys.step_ms,
            range_ms: ms.range_ms,
            offset_ms: ms.selector.offset_ms,
            mode: range_mode(&ms.selector),
            lookback_ms: self.params.lookback_ms,
        };
        let kind = FetchKind::Rollup {
            function,
            params,
            grid,
        };
        self.push(node_key(ms), &ms.selector.matchers, kind);
    }

    fn raw(&mut self, ms: &MatrixSelector, grid: Grid) {
        let keys = resolve_at(ms.selector.at, grid, self.params);
        let offset = ms.selector.offset_ms;
        let (before, after) = range_mode(&ms.selector).extension_ms(self.params.lookback_ms);
        let kind = FetchKind::Raw {
            start_ms: keys
                .start_ms
                .saturating_sub(offset)
                .saturating_sub(ms.range_ms)
                .saturating_sub(before),
            end_ms: keys.end_ms.saturating_sub(offset).saturating_add(after),
        };
        self.push(node_key(ms), &ms.selector.matchers, kind);
    }

    fn push(&mut self, key: usize, matchers: &[Matcher], kind: FetchKind) {
        self.plan.slots.insert(key, self.plan.requests.len());
        self.plan.requests.push(FetchRequest {
            matchers: matchers.to_vec(),
            kind,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::promql::parse;

    #[test]
    fn rollups_are_pushed_down_and_ranges_fetched_raw() {
        let Ok(expr) = parse("rate(a[5m] offset 1m) / c") else {
            panic!("query must parse");
        };
        let Ok(planned) = plan(&expr, &QueryParams::range(600_000, 900_000, 60_000)) else {
            panic!("plan must succeed");
        };
        assert_eq!(planned.requests.len(), 2);
        assert!(matches!(
            planned.requests[0].kind,
            FetchKind::Rollup {
                function: RollupFunction::Rate,
                grid: RollupGrid {
                    range_ms: 300_000,
                    offset_ms: 60_000,
                    ..
                },
                ..
            }
        ));
        let Ok(expr) = parse("max_over_time(a[10m:1m] @ 1000)") else {
            panic!("query must parse");
        };
        let Ok(planned) = plan(&expr, &QueryParams::instant(0)) else {
            panic!("plan must succeed");
        };
        assert!(matches!(
            planned.requests[0].kind,
            FetchKind::Rollup {
                function: RollupFunction::Latest,
                grid: RollupGrid {
                    start_ms: 420_000,
                    end_ms: 1_000_000,
                    step_ms: 60_000,
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn subquery_grid_is_aligned_and_left_open() {
        let outer = Grid {
            start_ms: 600_000,
            end_ms: 600_000,
            step_ms: 1,
        };
        let inner = subquery_grid(outer, 300_000, 60_000, 0);
        assert_eq!(
            inner,
            Grid {
                start_ms: 360_000,
                end_ms: 600_000,
                step_ms: 60_000
            }
        );
        let inner = subquery_grid(
            Grid {
                start_ms: -150,
                end_ms: 0,
                step_ms: 1,
            },
            0,
            100,
            0,
        );
        assert_eq!(inner.start_ms, -100);
    }
}
