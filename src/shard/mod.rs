//! A shard: the series it owns, its storage, and how it answers requests from any front.

pub mod front_metrics;
pub mod message;

use std::cell::RefCell;
use std::rc::Rc;

use self::front_metrics::FrontMetrics;
use crate::ingest::prometheus_text::Metadata;

use self::message::{ShardRequest, ShardStats};
use crate::query::eval::plan::{FetchRequest, FetchResult};
use crate::query::eval::source::{answer_series, sample_window};
use crate::storage::Storage;

/// One shard's state, owned by its thread.
pub struct Shard {
    /// Its position among the shards.
    pub index: usize,
    /// Its storage.
    pub storage: Rc<Storage>,
    /// Its HTTP front's counters.
    pub front_metrics: RefCell<FrontMetrics>,
    /// Metric metadata (type, help, unit) received by this front, for `/api/v1/metadata`.
    pub metadata: RefCell<Metadata>,
}

/// Most metric families whose metadata a front remembers (bounded memory; Prometheus keeps it per target).
pub const MAX_METADATA_FAMILIES: usize = 100_000;

/// Current wall-clock time in ms since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Shard {
    /// Answers a query's fetches over the series this shard owns: rollups are computed here, next
    /// to the data, so only step-aligned points cross to the front.
    async fn fetch(&self, requests: &[FetchRequest]) -> Result<Vec<FetchResult>, String> {
        let mut scratch = crate::query::rollup::Scratch::default();
        let mut results = Vec::with_capacity(requests.len());
        for request in requests {
            let (min_ms, max_ms) = sample_window(&request.kind);
            let series = self
                .storage
                .select(&request.matchers, min_ms, max_ms)
                .await
                .map_err(|e| format!("shard {}: {e}", self.index))?;
            let mut result = FetchResult::default();
            for (labels, timestamps, values) in series {
                if let Some(fetched) =
                    answer_series(&request.kind, &labels, &timestamps, &values, &mut scratch)
                        .map_err(|e| e.to_string())?
                {
                    result.series.push(fetched);
                }
                glommio::yield_if_needed().await;
            }
            results.push(result);
        }
        Ok(results)
    }

    /// Raw samples of the series matching any selector (all series when none).
    async fn export(
        &self,
        request: &message::MetadataRequest,
    ) -> Result<Vec<crate::storage::SampleRange>, String> {
        let selectors: Vec<Vec<crate::model::Matcher>> = if request.selectors.is_empty() {
            vec![Vec::new()]
        } else {
            request.selectors.clone()
        };
        let mut all = Vec::new();
        for matchers in &selectors {
            let series = self
                .storage
                .select(matchers, request.start_ms, request.end_ms)
                .await
                .map_err(|e| format!("shard {}: {e}", self.index))?;
            all.extend(series);
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.dedup_by(|a, b| a.0 == b.0);
        Ok(all)
    }

    /// Keeps metadata from an ingest request (newer text replaces older; bounded).
    pub fn remember_metadata(&self, metadata: Metadata) {
        let mut known = self.metadata.borrow_mut();
        for (family, entry) in metadata {
            if known.len() < MAX_METADATA_FAMILIES || known.contains_key(&family) {
                known.insert(family, entry);
            }
        }
    }

    /// The value, or `None` with the error logged (the reply types of these requests carry no error).
    fn or_log<T>(&self, result: std::io::Result<T>, what: &str) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                log::error!("shard {}: {what} failed: {error}", self.index);
                None
            }
        }
    }

    /// Answers one request; the reply goes through the request's channel.
    pub async fn handle(&self, request: ShardRequest) {
        match request {
            ShardRequest::Ingest { batch, reply } => {
                let result = self.storage.ingest_durable(&batch, now_ms()).await;
                // Starts a flush in the background early; replying after a flush only at the
                // memory bound holds a sender back that outruns the flushes.
                if let Err(error) = self.storage.flush_for_ingest().await {
                    log::error!(
                        "shard {}: flush failed, rows stay in memory and are retried: {error}",
                        self.index
                    );
                }
                let _ = reply.send(result);
            }
            ShardRequest::Fetch { requests, reply } => {
                let _ = reply.send(self.fetch(&requests).await);
            }
            ShardRequest::Series { request, reply } => {
                let series = self
                    .storage
                    .series(&request.selectors, request.start_ms, request.end_ms)
                    .await;
                let series = self.or_log(series, "series").unwrap_or_default();
                let _ = reply.send(series.into_iter().map(Rc::unwrap_or_clone).collect());
            }
            ShardRequest::LabelNames { request, reply } => {
                let names = self
                    .storage
                    .label_names(&request.selectors, request.start_ms, request.end_ms)
                    .await;
                let _ = reply.send(self.or_log(names, "label names").unwrap_or_default());
            }
            ShardRequest::LabelValues {
                name,
                request,
                reply,
            } => {
                let values = self
                    .storage
                    .label_values(&name, &request.selectors, request.start_ms, request.end_ms)
                    .await;
                let _ = reply.send(self.or_log(values, "label values").unwrap_or_default());
            }
            ShardRequest::Export { request, reply } => {
                let _ = reply.send(self.export(&request).await);
            }
            ShardRequest::Metadata { reply } => {
                let _ = reply.send(self.metadata.borrow().clone());
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
            ShardRequest::Snapshot { target, reply } => {
                let result = self
                    .storage
                    .snapshot(&target)
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
