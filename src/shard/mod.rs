//! A shard: the series it owns, its storage, and how it answers requests from any front.

pub mod front_metrics;
pub mod message;

use std::cell::RefCell;
use std::rc::Rc;

use self::front_metrics::FrontMetrics;

use self::message::{SeriesPoints, ShardRequest, ShardStats};
use crate::query::lookback::instant_points;
use crate::storage::Storage;

/// One shard's state, owned by its thread.
pub struct Shard {
    /// Its position among the shards.
    pub index: usize,
    /// Its storage.
    pub storage: Rc<Storage>,
    /// Its HTTP front's counters.
    pub front_metrics: RefCell<FrontMetrics>,
}

/// Current wall-clock time in ms since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Shard {
    /// Answers one request; the reply goes through the request's channel.
    pub async fn handle(&self, request: ShardRequest) {
        match request {
            ShardRequest::Ingest { batch, reply } => {
                let _ = reply.send(self.storage.ingest(&batch, now_ms()));
            }
            ShardRequest::Select { request, reply } => {
                let min_ms = request.start_ms - request.offset_ms - request.lookback_ms;
                let max_ms = request.end_ms - request.offset_ms;
                let result = match self.storage.select(&request.matchers, min_ms, max_ms).await {
                    Ok(series) => Ok(series
                        .into_iter()
                        .filter_map(|(labels, timestamps, values)| {
                            let points = instant_points(&timestamps, &values, &request);
                            (!points.is_empty()).then_some(SeriesPoints { labels, points })
                        })
                        .collect()),
                    Err(error) => Err(format!("shard {}: {error}", self.index)),
                };
                let _ = reply.send(result);
            }
            ShardRequest::Series { request, reply } => {
                let _ = reply.send(self.storage.series(
                    &request.selectors,
                    request.start_ms,
                    request.end_ms,
                ));
            }
            ShardRequest::LabelNames { request, reply } => {
                let _ = reply.send(self.storage.label_names(
                    &request.selectors,
                    request.start_ms,
                    request.end_ms,
                ));
            }
            ShardRequest::LabelValues {
                name,
                request,
                reply,
            } => {
                let _ = reply.send(self.storage.label_values(
                    &name,
                    &request.selectors,
                    request.start_ms,
                    request.end_ms,
                ));
            }
            ShardRequest::Stats { reply } => {
                let _ = reply.send(ShardStats {
                    storage: self.storage.stats(),
                    front: self.front_metrics.borrow().clone(),
                });
            }
            ShardRequest::ForceMerge { prefix, reply } => {
                let result = self
                    .storage
                    .force_merge(&prefix)
                    .await
                    .map_err(|e| format!("shard {}: {e}", self.index));
                let _ = reply.send(result);
            }
            ShardRequest::Flush { reply } => {
                let result = self
                    .storage
                    .flush()
                    .await
                    .map_err(|e| format!("shard {}: {e}", self.index));
                let _ = reply.send(result);
            }
        }
    }
}
