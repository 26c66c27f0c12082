//! `/api/v1/status/buildinfo`, `/metrics` and `/internal/force_flush`.

use std::fmt::Write;

use super::error::ApiError;
use super::json;
use super::Api;
use crate::config::ServerFlags;
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

/// `/api/v1/status/flags`: every flag and its value, as strings.
pub fn flags(flags: &ServerFlags) -> Response {
    let mut map = serde_json::Map::new();
    let mut put = |name: &str, value: String| {
        map.insert(name.to_string(), serde_json::Value::String(value));
    };
    put("listen", flags.listen.to_string());
    put("data-dir", flags.data_dir.display().to_string());
    put(
        "shards",
        flags
            .shards
            .map_or_else(|| "auto".to_string(), |s| s.to_string()),
    );
    put("retention", format!("{}s", flags.retention.as_secs()));
    put("max-request-bytes", flags.max_request_bytes.to_string());
    put(
        "max-labels-per-series",
        flags.max_labels_per_series.to_string(),
    );
    put(
        "max-label-name-bytes",
        flags.max_label_name_bytes.to_string(),
    );
    put(
        "max-label-value-bytes",
        flags.max_label_value_bytes.to_string(),
    );
    put(
        "dedup.min-scrape-interval",
        format!("{}ms", flags.dedup_min_scrape_interval.as_millis()),
    );
    put(
        "flush-interval",
        format!("{}ms", flags.flush_interval.as_millis()),
    );
    put(
        "inmemory-part-interval",
        format!("{}ms", flags.inmemory_part_interval.as_millis()),
    );
    put(
        "query.lookback-delta",
        format!("{}s", flags.lookback_delta.as_secs()),
    );
    put(
        "http.idle-timeout",
        format!("{}s", flags.http_idle_timeout.as_secs()),
    );
    put(
        "http.read-timeout",
        format!("{}s", flags.http_read_timeout.as_secs()),
    );
    // Secrets are reported as set or not, never their values.
    put(
        "http.auth.username",
        flags.http_auth_username.clone().unwrap_or_default(),
    );
    put(
        "http.auth.password",
        if flags.http_auth_password.is_some() {
            "<secret>"
        } else {
            ""
        }
        .to_string(),
    );
    put(
        "http.auth.bearer-token",
        if flags.http_auth_bearer_token.is_some() {
            "<secret>"
        } else {
            ""
        }
        .to_string(),
    );
    put(
        "admin-auth-key",
        if flags.admin_auth_key.is_some() {
            "<secret>"
        } else {
            ""
        }
        .to_string(),
    );
    Response::json(
        200,
        json::success(&serde_json::Value::Object(map).to_string()),
    )
}

/// `/api/v1/status/runtimeinfo`, with the fields Prometheus reports that mean something here.
pub fn runtimeinfo(flags: &ServerFlags, started_ms: i64) -> Response {
    let mut start = String::new();
    json::push_timestamp(&mut start, started_ms);
    let data = serde_json::json!({
        "startTime": rfc3339(started_ms),
        "CWD": std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
        "reloadConfigSuccess": true,
        "lastConfigTime": rfc3339(started_ms),
        "corruptionCount": 0,
        "goroutineCount": 0,
        "GOMAXPROCS": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "GOMEMLIMIT": 0,
        "GOGC": "",
        "GODEBUG": "",
        "storageRetention": format!("{}d", flags.retention.as_secs() / 86_400),
    });
    Response::json(200, json::success(&data.to_string()))
}

/// `2026-11-23T12:00:00.000Z`.
fn rfc3339(ms: i64) -> String {
    let (year, month, day) = crate::storage::partition::civil_from_days(ms.div_euclid(86_400_000));
    let in_day = ms.rem_euclid(86_400_000);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
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
            "Samples not yet on disk (buffered or in in-memory parts); the WAL holds them.",
            |s| s.storage.buffered_rows,
        ),
        (
            "strata_inmemory_parts",
            "gauge",
            "In-memory parts waiting for the next flush to disk.",
            |s| s.storage.inmemory_parts,
        ),
        (
            "strata_index_block_cache_hits_total",
            "counter",
            "Index-block cache hits (decoded block headers of on-disk parts).",
            |s| s.storage.index_cache_hits,
        ),
        (
            "strata_index_block_cache_misses_total",
            "counter",
            "Index-block cache misses: an index block read from disk and decoded.",
            |s| s.storage.index_cache_misses,
        ),
        (
            "strata_index_block_cache_bytes",
            "gauge",
            "Bytes of decoded index blocks in the cache (bounded by --cache.index-blocks-bytes).",
            |s| s.storage.index_cache_bytes,
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
        (
            "strata_wal_commits_in_flight",
            "gauge",
            "WAL commits waiting for their write/fdatasync.",
            |s| s.storage.wal_commits_in_flight,
        ),
        (
            "strata_flush_in_flight",
            "gauge",
            "1 while a flush runs.",
            |s| s.storage.flush_in_flight,
        ),
        (
            "strata_merge_in_flight",
            "gauge",
            "1 while a merge runs.",
            |s| s.storage.merge_in_flight,
        ),
        (
            "strata_writes_paused",
            "gauge",
            "1 while a full disk pauses writes (they get 503 with Retry-After; resumes by itself).",
            |s| s.storage.writes_paused,
        ),
        (
            "strata_read_only",
            "gauge",
            "1 once a failed fsync made the shard read-only (until restart).",
            |s| s.storage.read_only,
        ),
        (
            "strata_wal_fsyncs_total",
            "counter",
            "fdatasyncs of WAL segments (one serves every request of its group commit).",
            |s| s.storage.wal_fsyncs,
        ),
        (
            "strata_disk_full_errors_total",
            "counter",
            "WAL writes, flushes and merges that hit a full disk.",
            |s| s.storage.no_space_errors,
        ),
    ];
    for &(name, kind, help, get) in storage_metrics {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (shard, s) in stats.iter().enumerate() {
            let _ = writeln!(out, "{name}{{shard=\"{shard}\"}} {}", get(s));
        }
    }
    render_index_metrics(&mut out, stats);
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
    let front_metrics: [(&str, &str, u64); 4] = [
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
        (
            "strata_import_lines_skipped_total",
            "Malformed lines of import bodies skipped (the good lines of the same body are kept).",
            front.import_lines_skipped,
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

/// The series index's gauges and its caches' hit/miss counters, per shard.
fn render_index_metrics(out: &mut String, stats: &[ShardStats]) {
    type IndexSpec = (
        &'static str,
        &'static str,
        &'static str,
        fn(&ShardStats) -> u64,
    );
    let gauges: &[IndexSpec] = &[
        (
            "strata_index_parts",
            "gauge",
            "Series index parts on disk.",
            |s| s.storage.index.table.file_parts,
        ),
        (
            "strata_index_items",
            "gauge",
            "Items in the series index's parts on disk.",
            |s| s.storage.index.table.file_items,
        ),
        (
            "strata_index_recent_items",
            "gauge",
            "Series index items in memory, not yet in a part on disk.",
            |s| s.storage.index.table.pending_items + s.storage.index.table.memory_items,
        ),
        (
            "strata_index_merges_total",
            "counter",
            "Series index part merges.",
            |s| s.storage.index.table.merges,
        ),
        (
            "strata_index_metaindex_bytes",
            "gauge",
            "Bytes of series index metaindex rows held in memory.",
            |s| s.storage.index.table.metaindex_bytes,
        ),
        (
            "strata_series_created_total",
            "counter",
            "Series registered since start.",
            |s| s.storage.index.series_created,
        ),
        (
            "strata_series_deleted_total",
            "counter",
            "Series deleted since start.",
            |s| s.storage.index.series_deleted,
        ),
    ];
    for &(name, kind, help, get) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (shard, s) in stats.iter().enumerate() {
            let _ = writeln!(out, "{name}{{shard=\"{shard}\"}} {}", get(s));
        }
    }
    type CacheGet = fn(&ShardStats) -> crate::index::mergeset::block_cache::CacheStats;
    let caches: [(&str, CacheGet); 6] = [
        ("index_name_to_tsid", |s| s.storage.index.name_cache),
        ("index_metric_id_to_name", |s| s.storage.index.labels_cache),
        ("index_day_metric_id", |s| s.storage.index.day_cache),
        ("index_selector", |s| s.storage.index.selector_cache),
        ("index_blocks", |s| s.storage.index.table.index_cache),
        ("index_item_blocks", |s| s.storage.index.table.item_cache),
    ];
    let _ = writeln!(out, "# HELP strata_cache_requests_total Cache lookups, by cache and result.\n# TYPE strata_cache_requests_total counter");
    for (cache, get) in caches {
        for (shard, s) in stats.iter().enumerate() {
            let c = get(s);
            let _ = writeln!(out, "strata_cache_requests_total{{cache=\"{cache}\",result=\"hit\",shard=\"{shard}\"}} {}", c.hits);
            let _ = writeln!(out, "strata_cache_requests_total{{cache=\"{cache}\",result=\"miss\",shard=\"{shard}\"}} {}", c.misses);
        }
    }
    let _ = writeln!(
        out,
        "# HELP strata_cache_bytes Bytes held by a cache.\n# TYPE strata_cache_bytes gauge"
    );
    for (cache, get) in caches {
        for (shard, s) in stats.iter().enumerate() {
            let _ = writeln!(
                out,
                "strata_cache_bytes{{cache=\"{cache}\",shard=\"{shard}\"}} {}",
                get(s).bytes
            );
        }
    }
}
