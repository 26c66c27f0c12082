//! Rollups: per-series functions of the samples in a time window, evaluated at
//! every step of a grid. Pure code shared by the query engine and the shards
//! (pushdown): slices in, floats out, scratch buffers reused by the caller.
//!
//! Windows are left-open, `(end - range, end]`, as in Prometheus 3. Range
//! functions skip stale markers; the instant lookback stops at one. The
//! experimental `anchored`/`smoothed` selectors read one lookback beyond the
//! window ([`extended`]).
//!
//! A shard answering a pushed-down fetch calls [`evaluate_grid`] per series with
//! the request's function, parameters and [`RollupGrid`], reusing one [`Scratch`].

pub mod extended;
pub mod kahan;
pub mod lookback;
pub mod over_time;
pub mod quantile;
pub mod rate;
pub mod regression;

use crate::model::is_stale_nan;

pub use extended::RangeMode;
pub use regression::SmoothingError;

/// A rollup function: what a shard computes per series and step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RollupFunction {
    /// The instant-selector lookback: latest non-stale sample within the range.
    Latest,
    /// `timestamp(selector)`: the latest sample's time in seconds.
    LatestTimestamp,
    /// `rate`
    Rate,
    /// `increase`
    Increase,
    /// `delta`
    Delta,
    /// `irate`
    Irate,
    /// `idelta`
    Idelta,
    /// `resets`
    Resets,
    /// `changes`
    Changes,
    /// `deriv`
    Deriv,
    /// `predict_linear(x, seconds)`; parameter 0 is the seconds.
    PredictLinear,
    /// `double_exponential_smoothing(x, sf, tf)` (alias `holt_winters`).
    DoubleExponentialSmoothing,
    /// `avg_over_time`
    AvgOverTime,
    /// `min_over_time`
    MinOverTime,
    /// `max_over_time`
    MaxOverTime,
    /// `sum_over_time`
    SumOverTime,
    /// `count_over_time`
    CountOverTime,
    /// `quantile_over_time(q, x)`; parameter 0 is `q`.
    QuantileOverTime,
    /// `stddev_over_time`
    StddevOverTime,
    /// `stdvar_over_time`
    StdvarOverTime,
    /// `last_over_time`
    LastOverTime,
    /// `first_over_time`
    FirstOverTime,
    /// `present_over_time`
    PresentOverTime,
    /// `mad_over_time`
    MadOverTime,
    /// `ts_of_last_over_time`
    TsOfLastOverTime,
    /// `ts_of_first_over_time`
    TsOfFirstOverTime,
    /// `ts_of_min_over_time`
    TsOfMinOverTime,
    /// `ts_of_max_over_time`
    TsOfMaxOverTime,
}

impl RollupFunction {
    /// Whether the function reads the raw window (stale markers included) itself.
    fn is_lookback(self) -> bool {
        matches!(
            self,
            RollupFunction::Latest | RollupFunction::LatestTimestamp
        )
    }
}

/// Where one rollup value is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Exclusive start of the sample window (end minus range or lookback).
    pub start_ms: i64,
    /// Inclusive end of the sample window (evaluation time minus offset).
    pub end_ms: i64,
    /// The evaluation time (the `@` time if any), for `predict_linear`'s intercept.
    pub eval_ms: i64,
    /// How the window is read (`anchored`/`smoothed` widen it by `lookback_ms`).
    pub mode: RangeMode,
    /// The lookback delta, for `anchored`/`smoothed` windows.
    pub lookback_ms: i64,
}

impl Window {
    /// A plain window `(start_ms, end_ms]` evaluated at `eval_ms`.
    pub fn plain(start_ms: i64, end_ms: i64, eval_ms: i64) -> Self {
        Window {
            start_ms,
            end_ms,
            eval_ms,
            mode: RangeMode::Plain,
            lookback_ms: 0,
        }
    }

    /// The span of samples the window reads: `(from, to]`.
    pub fn read_span(&self, function: RollupFunction) -> (i64, i64) {
        if function.is_lookback() {
            // A smoothed instant selector also looks one lookback ahead.
            let ahead = match self.mode {
                RangeMode::Smoothed => self.end_ms.saturating_sub(self.start_ms),
                _ => 0,
            };
            return (self.start_ms, self.end_ms.saturating_add(ahead));
        }
        let (before, after) = self.mode.extension_ms(self.lookback_ms);
        (
            self.start_ms.saturating_sub(before),
            self.end_ms.saturating_add(after),
        )
    }
}

/// Reusable buffers for window evaluation; one per shard or query.
#[derive(Debug, Default)]
pub struct Scratch {
    timestamps: Vec<i64>,
    values: Vec<f64>,
    sort: Vec<f64>,
}

/// The rollup of one series at one window.
///
/// `timestamps` (sorted) and `values` are the whole series or any superset of
/// the window; stale markers are filtered here. `params` are the function's
/// scalar arguments. `Ok(None)` means no point at this step.
pub fn evaluate(
    function: RollupFunction,
    params: &[f64],
    timestamps: &[i64],
    values: &[f64],
    window: Window,
    scratch: &mut Scratch,
) -> Result<Option<f64>, SmoothingError> {
    if function.is_lookback() && window.mode == RangeMode::Plain {
        let latest = lookback::latest(
            timestamps,
            values,
            window.end_ms,
            window.end_ms.saturating_sub(window.start_ms),
        );
        return Ok(latest.map(|(t, v)| {
            if function == RollupFunction::Latest {
                v
            } else {
                t as f64 / 1000.0
            }
        }));
    }
    let (read_from, read_to) = window.read_span(function);
    let from = timestamps.partition_point(|&t| t <= read_from);
    let to = timestamps.partition_point(|&t| t <= read_to);
    scratch.timestamps.clear();
    scratch.values.clear();
    for (&t, &v) in timestamps.iter().zip(values).take(to).skip(from) {
        if !is_stale_nan(v) {
            scratch.timestamps.push(t);
            scratch.values.push(v);
        }
    }
    let Scratch {
        timestamps: ts,
        values: vs,
        sort,
    } = scratch;
    evaluate_window(function, params, ts, vs, window, sort)
}

/// The rollup of the samples already cut to the window's read span
/// ([`Window::read_span`]), stale markers removed.
pub fn evaluate_window(
    function: RollupFunction,
    params: &[f64],
    ts: &[i64],
    vs: &[f64],
    window: Window,
    sort: &mut Vec<f64>,
) -> Result<Option<f64>, SmoothingError> {
    use RollupFunction as F;
    let param = |i: usize| params.get(i).copied().unwrap_or(f64::NAN);
    if vs.is_empty() {
        return Ok(None);
    }
    let (start, end) = (window.start_ms, window.end_ms);
    if window.mode != RangeMode::Plain {
        if let Some(value) = evaluate_extended(function, ts, vs, window) {
            return Ok(value);
        }
        // Other functions read only the window itself.
        let from = ts.partition_point(|&t| t <= start);
        let to = ts.partition_point(|&t| t <= end);
        let (ts, vs) = (
            ts.get(from..to).unwrap_or_default(),
            vs.get(from..to).unwrap_or_default(),
        );
        return evaluate_window(
            function,
            params,
            ts,
            vs,
            Window::plain(start, end, window.eval_ms),
            sort,
        );
    }
    let value = match function {
        F::Latest | F::LatestTimestamp => None,
        F::Rate => rate::extrapolated_rate(ts, vs, start, end, true, true),
        F::Increase => rate::extrapolated_rate(ts, vs, start, end, true, false),
        F::Delta => rate::extrapolated_rate(ts, vs, start, end, false, false),
        F::Irate => rate::instant_value(ts, vs, true),
        F::Idelta => rate::instant_value(ts, vs, false),
        F::Resets => Some(rate::resets(vs)),
        F::Changes => Some(rate::changes(vs)),
        F::Deriv => regression::deriv(ts, vs),
        F::PredictLinear => regression::predict_linear(ts, vs, window.eval_ms, param(0)),
        F::DoubleExponentialSmoothing => {
            return regression::double_exponential_smoothing(vs, param(0), param(1))
        }
        F::AvgOverTime => Some(over_time::avg(vs)),
        F::MinOverTime => Some(over_time::min(vs)),
        F::MaxOverTime => Some(over_time::max(vs)),
        F::SumOverTime => Some(over_time::sum(vs)),
        F::CountOverTime => Some(vs.len() as f64),
        F::QuantileOverTime => Some(over_time::quantile_of(param(0), vs, sort)),
        F::StddevOverTime => Some(over_time::stddev(vs)),
        F::StdvarOverTime => Some(over_time::stdvar(vs)),
        F::LastOverTime => vs.last().copied(),
        F::FirstOverTime => vs.first().copied(),
        F::PresentOverTime => Some(1.0),
        F::MadOverTime => Some(over_time::mad(vs, sort)),
        F::TsOfLastOverTime => ts.last().map(|&t| t as f64 / 1000.0),
        F::TsOfFirstOverTime => ts.first().map(|&t| t as f64 / 1000.0),
        F::TsOfMinOverTime | F::TsOfMaxOverTime => {
            let i = over_time::extreme_index(vs, function == F::TsOfMaxOverTime);
            ts.get(i).map(|&t| t as f64 / 1000.0)
        }
    };
    Ok(value)
}

/// The functions that read `anchored`/`smoothed` windows; `None` for the others.
fn evaluate_extended(
    function: RollupFunction,
    ts: &[i64],
    vs: &[f64],
    window: Window,
) -> Option<Option<f64>> {
    use RollupFunction as F;
    let (start, end) = (window.start_ms, window.end_ms);
    let smoothed = window.mode == RangeMode::Smoothed;
    Some(match function {
        F::Latest if smoothed => extended::smoothed_value(ts, vs, end),
        F::Rate => extended::extended_rate(ts, vs, start, end, smoothed, true, true),
        F::Increase => extended::extended_rate(ts, vs, start, end, smoothed, true, false),
        F::Delta => extended::extended_rate(ts, vs, start, end, smoothed, false, false),
        F::Changes | F::Resets => extended::anchor_index(ts, start).map(|first| {
            let tail = vs.get(first..).unwrap_or_default();
            if function == F::Changes {
                rate::changes(tail)
            } else {
                rate::resets(tail)
            }
        }),
        _ => return None,
    })
}

/// The evaluation grid of a pushed-down rollup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RollupGrid {
    /// First evaluation time.
    pub start_ms: i64,
    /// Last evaluation time (inclusive).
    pub end_ms: i64,
    /// Distance between evaluation times; positive.
    pub step_ms: i64,
    /// Window length (range, or the lookback delta for `Latest`).
    pub range_ms: i64,
    /// `offset`: the window ends at `t - offset_ms`.
    pub offset_ms: i64,
    /// `anchored`/`smoothed` reading of the window.
    pub mode: RangeMode,
    /// The lookback delta, for `anchored`/`smoothed` windows.
    pub lookback_ms: i64,
}

/// Appends `(t, value)` for every grid step of one series that has a point.
pub fn evaluate_grid(
    function: RollupFunction,
    params: &[f64],
    timestamps: &[i64],
    values: &[f64],
    grid: &RollupGrid,
    scratch: &mut Scratch,
    out: &mut Vec<(i64, f64)>,
) -> Result<(), SmoothingError> {
    debug_assert!(grid.step_ms > 0, "rollup grid step must be positive");
    let mut t = grid.start_ms;
    while t <= grid.end_ms {
        let end_ms = t.saturating_sub(grid.offset_ms);
        let window = Window {
            mode: grid.mode,
            lookback_ms: grid.lookback_ms,
            ..Window::plain(end_ms.saturating_sub(grid.range_ms), end_ms, t)
        };
        if let Some(v) = evaluate(function, params, timestamps, values, window, scratch)? {
            out.push((t, v));
        }
        match t.checked_add(grid.step_ms.max(1)) {
            Some(next) => t = next,
            None => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::STALE_NAN_BITS;

    #[test]
    fn grid_skips_stale_in_ranges_and_stops_lookback() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        let ts = [0, 10_000, 20_000, 30_000];
        let vs = [1.0, 2.0, stale, 4.0];
        let grid = RollupGrid {
            start_ms: 20_000,
            end_ms: 30_000,
            step_ms: 10_000,
            range_ms: 30_000,
            offset_ms: 0,
            mode: RangeMode::Plain,
            lookback_ms: 0,
        };
        let mut scratch = Scratch::default();
        let mut out = Vec::new();
        evaluate_grid(
            RollupFunction::CountOverTime,
            &[],
            &ts,
            &vs,
            &grid,
            &mut scratch,
            &mut out,
        )
        .ok();
        assert_eq!(out, vec![(20_000, 2.0), (30_000, 2.0)]);
        out.clear();
        evaluate_grid(
            RollupFunction::Latest,
            &[],
            &ts,
            &vs,
            &grid,
            &mut scratch,
            &mut out,
        )
        .ok();
        assert_eq!(out, vec![(30_000, 4.0)]);
    }
}
