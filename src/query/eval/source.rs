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
            let mut series = FetchedSeries {
                labels: stored.labels.clone(),
                ..FetchedSeries::default()
            };
            match &request.kind {
                FetchKind::Raw { start_ms, end_ms } => {
                    let from = stored.timestamps.partition_point(|t| t <= start_ms);
                    let to = stored.timestamps.partition_point(|t| t <= end_ms);
                    series.timestamps =
                        stored.timestamps.get(from..to).unwrap_or_default().to_vec();
                    series.values = stored.values.get(from..to).unwrap_or_default().to_vec();
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
                        &stored.timestamps,
                        &stored.values,
                        grid,
                        scratch,
                        &mut points,
                    )
                    .map_err(|e| EvalError::execution(e.to_string()))?;
                    (series.timestamps, series.values) = points.into_iter().unzip();
                }
            }
            if !series.timestamps.is_empty() {
                result.series.push(series);
            }
        }
        Ok(result)
    }
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
