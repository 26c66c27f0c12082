//! Fetching ("do"): the [`SeriesSource`] trait the engine reads through, and
//! [`MemorySource`], an in-memory implementation answering raw and rollup
//! fetches with the same rollup code the shards run.

use std::collections::HashMap;

use crate::model::{Labels, Matcher};
use crate::query::rollup::{self, Scratch};

use super::error::EvalError;
use super::plan::{FetchKind, FetchRequest, FetchResult, FetchedSeries};

/// Where the engine gets series from: a shard set in the server, memory in tests.
#[expect(
    async_fn_in_trait,
    reason = "glommio is single-threaded; no Send bound is wanted"
)]
pub trait SeriesSource {
    /// Answers every request, one result per request in the same order.
    async fn fetch(&self, requests: &[FetchRequest]) -> Result<Vec<FetchResult>, EvalError>;
}

/// One stored series: labels and samples sorted by time, one per timestamp.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemorySeries {
    /// The series' labels.
    pub labels: Labels,
    /// Sample times, ascending.
    pub timestamps: Vec<i64>,
    /// Sample values (stale markers included).
    pub values: Vec<f64>,
}

/// Series held in memory.
#[derive(Clone, Debug, Default)]
pub struct MemorySource {
    series: Vec<MemorySeries>,
    index: HashMap<Labels, usize>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sample; a later sample at the same time replaces the earlier one.
    pub fn add_sample(&mut self, labels: &Labels, timestamp_ms: i64, value: f64) {
        let index = match self.index.get(labels) {
            Some(&i) => i,
            None => {
                self.index.insert(labels.clone(), self.series.len());
                self.series.push(MemorySeries {
                    labels: labels.clone(),
                    ..MemorySeries::default()
                });
                self.series.len() - 1
            }
        };
        let Some(series) = self.series.get_mut(index) else {
            return;
        };
        let at = series.timestamps.partition_point(|&t| t < timestamp_ms);
        if series.timestamps.get(at) == Some(&timestamp_ms) {
            if let Some(v) = series.values.get_mut(at) {
                *v = value;
            }
        } else {
            series.timestamps.insert(at, timestamp_ms);
            series.values.insert(at, value);
        }
    }

    /// Drops every series.
    pub fn clear(&mut self) {
        self.series.clear();
        self.index.clear();
    }

    fn matching<'a>(&'a self, matchers: &'a [Matcher]) -> impl Iterator<Item = &'a MemorySeries> {
        self.series
            .iter()
            .filter(move |s| matchers.iter().all(|m| m.matches(s.labels.get(&m.name))))
    }

    fn answer(
        &self,
        request: &FetchRequest,
        scratch: &mut Scratch,
    ) -> Result<FetchResult, EvalError> {
        let mut result = FetchResult::default();
        for stored in self.matching(&request.matchers) {
            if let Some(series) = answer_series(
                &request.kind,
                &stored.labels,
                &stored.timestamps,
                &stored.values,
                scratch,
            )? {
                result.series.push(series);
            }
        }
        Ok(result)
    }
}

/// The samples `[min_ms, max_ms]` a fetch needs from each series (what a shard reads from storage).
pub fn sample_window(kind: &FetchKind) -> (i64, i64) {
    match kind {
        FetchKind::Raw { start_ms, end_ms } => (start_ms.saturating_add(1), *end_ms),
        FetchKind::Rollup { grid, .. } => {
            // anchored/smoothed windows also look one lookback delta around the range.
            let extra = grid.lookback_ms.max(0);
            let back = grid.range_ms.max(grid.lookback_ms).saturating_add(extra);
            (
                grid.start_ms
                    .saturating_sub(grid.offset_ms)
                    .saturating_sub(back),
                grid.end_ms
                    .saturating_sub(grid.offset_ms)
                    .saturating_add(extra),
            )
        }
    }
}

/// Answers one fetch for one series (samples sorted by time, one per timestamp): its raw samples
/// in the window, or its rollup at every step. `None` when nothing is left.
pub fn answer_series(
    kind: &FetchKind,
    labels: &Labels,
    timestamps: &[i64],
    values: &[f64],
    scratch: &mut Scratch,
) -> Result<Option<FetchedSeries>, EvalError> {
    let mut series = FetchedSeries {
        labels: labels.clone(),
        ..FetchedSeries::default()
    };
    match kind {
        FetchKind::Raw { start_ms, end_ms } => {
            let from = timestamps.partition_point(|t| t <= start_ms);
            let to = timestamps.partition_point(|t| t <= end_ms);
            series.timestamps = timestamps.get(from..to).unwrap_or_default().to_vec();
            series.values = values.get(from..to).unwrap_or_default().to_vec();
        }
        FetchKind::Rollup {
            function,
            params,
            grid,
        } => {
            let mut points = Vec::new();
            rollup::evaluate_grid(
                *function,
                params,
                timestamps,
                values,
                grid,
                scratch,
                &mut points,
            )
            .map_err(|e| EvalError::execution(e.to_string()))?;
            (series.timestamps, series.values) = points.into_iter().unzip();
        }
    }
    Ok((!series.timestamps.is_empty()).then_some(series))
}

impl SeriesSource for MemorySource {
    async fn fetch(&self, requests: &[FetchRequest]) -> Result<Vec<FetchResult>, EvalError> {
        let mut scratch = Scratch::default();
        requests
            .iter()
            .map(|r| self.answer(r, &mut scratch))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;
    use crate::model::{MatchOp, STALE_NAN_BITS};
    use crate::query::rollup::{RangeMode, RollupFunction, RollupGrid};

    #[test]
    fn answers_raw_and_rollup_fetches() {
        let mut source = MemorySource::new();
        let labels = Labels::from_pairs([("__name__", "x")]);
        for (t, v) in [
            (0, 1.0),
            (10_000, 2.0),
            (20_000, f64::from_bits(STALE_NAN_BITS)),
        ] {
            source.add_sample(&labels, t, v);
        }
        source.add_sample(&labels, 10_000, 3.0); // replaces the earlier sample
        let Ok(matcher) = Matcher::new(MatchOp::Equal, "__name__", "x") else {
            panic!("matcher must build");
        };
        let raw = FetchRequest {
            matchers: vec![matcher.clone()],
            kind: FetchKind::Raw {
                start_ms: 0,
                end_ms: 20_000,
            },
        };
        let latest = FetchRequest {
            matchers: vec![matcher],
            kind: FetchKind::Rollup {
                function: RollupFunction::Latest,
                params: Vec::new(),
                grid: RollupGrid {
                    start_ms: 0,
                    end_ms: 20_000,
                    step_ms: 10_000,
                    range_ms: 300_000,
                    offset_ms: 0,
                    mode: RangeMode::Plain,
                    lookback_ms: 300_000,
                },
            },
        };
        let Ok(results) = block_on(source.fetch(&[raw, latest])) else {
            panic!("memory fetches cannot fail");
        };
        let [raw, latest] = results.as_slice() else {
            panic!("one result per request");
        };
        // Raw windows are left-open and keep stale markers for the engine.
        assert_eq!(raw.series[0].timestamps, vec![10_000, 20_000]);
        assert_eq!(raw.series[0].values[0], 3.0);
        // The stale marker ends the series for the lookback at 20s.
        assert_eq!(latest.series[0].timestamps, vec![0, 10_000]);
        assert_eq!(latest.series[0].values, vec![1.0, 3.0]);
    }
}
