//! `/api/v1/status/buildinfo`, `/metrics` and `/internal/force_flush`.

use std::fmt::Write;

use super::error::ApiError;
use super::json;
use super::Api;
use crate::http::Response;
use crate::shard::front_metrics::FrontMetrics;
use crate::shard::message::{ShardRequest, ShardStats};

/// The Prometheus version Strata reports. Grafana reads it to pick its feature set; 2.24.0 makes it send
/// `match[]` on label calls, as VictoriaMetrics reports for the same reason.
pub const PROMETHEUS_COMPATIBLE_VERSION: &str = "2.24.0";

/// `/api/v1/status/buildinfo`.
pub fn buildinfo() -> Response {
    let data = serde_json::json!({
        "version": PROMETHEUS_COMPATIBLE_VERSION,
        "revision": format!("strata-{}", env!("CARGO_PKG_VERSION")),
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    });
    Response::json(200, json::success(&data.to_string()))
}

impl Api {
    /// `/metrics`: Strata's own metrics in the Prometheus text format.
    pub async fn metrics(&self) -> Result<Response, ApiError> {
        let stats = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::Stats { reply })
            .await?;
        Ok(Response::text(200, render_metrics(&stats))
            .with_header("X-Content-Type", "text/plain; version=0.0.4"))
    }

    /// `/internal/force_flush`: writes every shard's buffered rows to parts.
    pub async fn force_flush(&self) -> Result<Response, ApiError> {
        let replies = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::Flush { reply })
            .await?;
        for reply in replies {
            reply.map_err(ApiError::internal)?;
        }
        Ok(Response::text(200, ""))
    }
}

/// A per-shard metric: name, type, help, and how to read it from a shard's stats.
type MetricSpec = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ShardStats) -> u64,
);

impl Api {
    /// `/internal/force_merge?partition_prefix=YYYY_MM`: flushes, then merges each partition down to one part.
    pub async fn force_merge(&self, params: &crate::http::Params) -> Result<Response, ApiError> {
        let prefix = params
            .get("partition_prefix")
            .unwrap_or_default()
            .to_string();
        self.force_flush().await?;
        let replies = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::ForceMerge {
                prefix: prefix.clone(),
                reply,
            })
            .await?;
        for reply in replies {
            reply.map_err(ApiError::internal)?;
        }
        Ok(Response::text(200, ""))
    }
}

/// Renders the per-shard counters.
pub fn render_metrics(stats: &[ShardStats]) -> String {
    let mut out = String::new();
    let storage_metrics: &[MetricSpec] = &[
        (
            "strata_rows_ingested_total",
            "counter",
            "Samples accepted.",
            |s| s.storage.rows_ingested,
        ),
        ("strata_series", "gauge", "Series registered.", |s| {
            s.storage.series
        }),
        ("strata_parts", "gauge", "Live parts on disk.", |s| {
            s.storage.parts
        }),
        ("strata_part_rows", "gauge", "Samples in live parts.", |s| {
            s.storage.part_rows
        }),
        (
            "strata_buffered_rows",
            "gauge",
            "Samples waiting in memory for the next flush.",
            |s| s.storage.buffered_rows,
        ),
        (
            "strata_flushes_total",
            "counter",
            "Flushes of buffered rows to parts.",
            |s| s.storage.flushes,
        ),
        ("strata_merges_total", "counter", "Part merges.", |s| {
            s.storage.merges
        }),
        (
            "strata_rows_rejected_too_old_total",
            "counter",
            "Samples rejected as older than --retention.",
            |s| s.storage.rows_too_old,
        ),
        (
            "strata_merged_rows_total",
            "counter",
            "Samples rewritten by merges.",
            |s| s.storage.merged_rows,
        ),
        ("strata_big_parts", "gauge", "Live big parts.", |s| {
            s.storage.big_parts
        }),
        (
            "strata_part_bytes",
            "gauge",
            "Bytes of live parts' column files.",
            |s| s.storage.part_bytes,
        ),
        (
            "strata_partitions_dropped_total",
            "counter",
            "Monthly partitions dropped by retention.",
            |s| s.storage.partitions_dropped,
        ),
    ];
    for &(name, kind, help, get) in storage_metrics {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (shard, s) in stats.iter().enumerate() {
            let _ = writeln!(out, "{name}{{shard=\"{shard}\"}} {}", get(s));
        }
    }
    let _ = writeln!(out, "# HELP strata_rows_rejected_total Samples rejected on ingest, by reason.\n# TYPE strata_rows_rejected_total counter");
    let too_new: u64 = stats.iter().map(|s| s.storage.rows_too_new).sum();
    let too_old: u64 = stats.iter().map(|s| s.storage.rows_too_old).sum();
    let mut front = FrontMetrics::default();
    for s in stats {
        front.add(&s.front);
    }
    let _ = writeln!(
        out,
        "strata_rows_rejected_total{{reason=\"too_old\"}} {too_old}"
    );
    let _ = writeln!(
        out,
        "strata_rows_rejected_total{{reason=\"too_new\"}} {too_new}"
    );
    let _ = writeln!(
        out,
        "strata_rows_rejected_total{{reason=\"invalid_series\"}} {}",
        front.invalid_samples
    );
    let front_metrics: [(&str, &str, u64); 3] = [
        (
            "strata_invalid_series_total",
            "Series rejected on ingest for invalid labels.",
            front.invalid_series,
        ),
        (
            "strata_histograms_dropped_total",
            "Native histogram samples received and dropped (not stored yet).",
            front.histograms_dropped,
        ),
        (
            "strata_exemplars_dropped_total",
            "Exemplars received and dropped (not stored).",
            front.exemplars_dropped,
        ),
    ];
    for (name, help, value) in front_metrics {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    let _ = writeln!(out, "# HELP strata_http_requests_total HTTP requests answered, by route and status code.\n# TYPE strata_http_requests_total counter");
    for ((path, code), count) in &front.requests {
        let _ = writeln!(
            out,
            "strata_http_requests_total{{path=\"{path}\",code=\"{code}\"}} {count}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
        crate::sys::resident_bytes()
    );
    out
}
