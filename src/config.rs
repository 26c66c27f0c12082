//! Command-line flags (with `STRATA_*` environment fallbacks) and their validation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::duration::parse_duration_ms;

/// Strata: a thread-per-core time series database for Prometheus data.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None)]
pub struct Cli {
    /// Server flags (used when no subcommand is given).
    #[command(flatten)]
    pub server: ServerFlags,
    /// An optional subcommand instead of running the server.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands other than serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Copy a snapshot (a directory under <data>/snapshots/) into a new, empty data dir.
    Restore {
        /// The snapshot directory.
        #[arg(long)]
        from: std::path::PathBuf,
        /// The data dir to create from it (must not exist or be empty).
        #[arg(long)]
        data_dir: std::path::PathBuf,
    },
    /// Check this host's limits, CPUs, disk and kernel settings for Strata; non-zero exit on FAIL.
    CheckHost(crate::check_host::CheckHostArgs),
}

/// Flags of the server.
#[derive(Debug, Clone, Args)]
pub struct ServerFlags {
    /// Address to serve HTTP on. Port 0 picks one free port shared by all shards.
    #[arg(long, env = "STRATA_LISTEN", default_value = "127.0.0.1:8428")]
    pub listen: SocketAddr,

    /// Directory holding all data; created if missing. One process per directory.
    #[arg(long, env = "STRATA_DATA_DIR", default_value = "./strata-data")]
    pub data_dir: PathBuf,

    /// Number of shards (one pinned thread each). Default: every CPU the process may use.
    /// Fixed for a data dir once it is created.
    #[arg(long, env = "STRATA_SHARDS")]
    pub shards: Option<usize>,

    /// How long samples are kept, e.g. 31d, 12w, 1y. Older samples are rejected on ingest.
    #[arg(long, env = "STRATA_RETENTION", default_value = "31d", value_parser = parse_retention)]
    pub retention: Duration,

    /// Largest accepted request body in bytes after decompression; larger bodies get 413.
    #[arg(long, env = "STRATA_MAX_REQUEST_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_request_bytes: usize,

    /// Most labels one series may have; series with more are rejected (400 naming the series).
    #[arg(long, env = "STRATA_MAX_LABELS_PER_SERIES", default_value_t = 40)]
    pub max_labels_per_series: usize,

    /// Longest label name in bytes.
    #[arg(long, env = "STRATA_MAX_LABEL_NAME_BYTES", default_value_t = 256)]
    pub max_label_name_bytes: usize,

    /// Longest label value in bytes.
    #[arg(long, env = "STRATA_MAX_LABEL_VALUE_BYTES", default_value_t = 4096)]
    pub max_label_value_bytes: usize,

    /// Keep one sample per series per interval (the latest; on a tie the largest value), applied at
    /// merge and at query time. 0 turns deduplication off.
    #[arg(long = "dedup.min-scrape-interval", env = "STRATA_DEDUP_MIN_SCRAPE_INTERVAL", default_value = "0", value_parser = parse_optional_duration)]
    pub dedup_min_scrape_interval: Duration,

    /// Require HTTP basic auth with this user on every endpoint except /health (needs --http.auth.password).
    #[arg(long = "http.auth.username", env = "STRATA_HTTP_AUTH_USERNAME")]
    pub http_auth_username: Option<String>,

    /// The basic-auth password for --http.auth.username.
    #[arg(long = "http.auth.password", env = "STRATA_HTTP_AUTH_PASSWORD")]
    pub http_auth_password: Option<String>,

    /// Require `Authorization: Bearer <token>` on every endpoint except /health.
    #[arg(long = "http.auth.bearer-token", env = "STRATA_HTTP_AUTH_BEARER_TOKEN")]
    pub http_auth_bearer_token: Option<String>,

    /// Admin endpoints (/internal/*, snapshots, series deletion) also require `authKey=<key>`.
    #[arg(long = "admin-auth-key", env = "STRATA_ADMIN_AUTH_KEY")]
    pub admin_auth_key: Option<String>,

    /// When an acknowledged write is durable: `always` (fdatasync before acknowledging; survives
    /// power loss), `batch` (acknowledge after the write, fdatasync every --wal.batch-interval;
    /// survives kill -9) or `none` (no fdatasync; for benchmarks).
    #[arg(long = "wal.sync", env = "STRATA_WAL_SYNC", default_value = "always", value_parser = ["always", "batch", "none"])]
    pub wal_sync: String,

    /// Longest time between fdatasyncs with --wal.sync=batch.
    #[arg(long = "wal.batch-interval", env = "STRATA_WAL_BATCH_INTERVAL", default_value = "100ms", value_parser = parse_flag_duration)]
    pub wal_batch_interval: Duration,

    /// How often in-memory parts (and buffered samples) are written to a small part on disk; the
    /// WAL keeps them until then.
    #[arg(long, env = "STRATA_FLUSH_INTERVAL", default_value = "5s", value_parser = parse_flag_duration)]
    pub flush_interval: Duration,

    /// How often buffered samples are sealed into an in-memory part (sorted, compressed blocks).
    #[arg(long = "inmemory-part-interval", env = "STRATA_INMEMORY_PART_INTERVAL", default_value = "1s", value_parser = parse_flag_duration)]
    pub inmemory_part_interval: Duration,

    /// Memory for decoded index blocks of on-disk parts, all shards together; part files are read
    /// with O_DIRECT, so this cache is what keeps repeated queries off the disk.
    #[arg(long = "cache.index-blocks-bytes", env = "STRATA_CACHE_INDEX_BLOCKS_BYTES", default_value_t = crate::storage::part::index_block_cache::DEFAULT_INDEX_BLOCK_CACHE_BYTES)]
    pub index_block_cache_bytes: u64,

    /// Memory for the series index's caches (label set → series for ingest, series → labels,
    /// search results, index blocks), all shards together. Beyond it, lookups read index blocks.
    #[arg(long = "cache.index-bytes", env = "STRATA_CACHE_INDEX_BYTES", default_value_t = crate::index::DEFAULT_INDEX_CACHE_BYTES)]
    pub series_index_cache_bytes: u64,

    /// How far back an instant vector selector looks for the latest sample.
    #[arg(long = "query.lookback-delta", env = "STRATA_QUERY_LOOKBACK_DELTA", default_value = "5m", value_parser = parse_flag_duration)]
    pub lookback_delta: Duration,

    /// Most samples a query may hold in memory at once (as Prometheus' --query.max-samples); 422 above it.
    #[arg(
        long = "query.max-samples",
        env = "STRATA_QUERY_MAX_SAMPLES",
        default_value_t = 50_000_000
    )]
    pub query_max_samples: usize,

    /// Most series one selector of a query may match; 422 above it.
    #[arg(
        long = "query.max-series",
        env = "STRATA_QUERY_MAX_SERIES",
        default_value_t = 1_000_000
    )]
    pub query_max_series: usize,

    /// Longest a query may run (the request's `timeout` may shorten it); 503 `timeout` after it.
    #[arg(long = "query.timeout", env = "STRATA_QUERY_TIMEOUT", default_value = "2m", value_parser = parse_flag_duration)]
    pub query_timeout: Duration,

    /// A connection that sends no complete request for this long is closed.
    #[arg(long = "http.idle-timeout", env = "STRATA_HTTP_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_flag_duration)]
    pub http_idle_timeout: Duration,

    /// A request whose headers and body take longer than this to arrive is answered 408 and closed.
    #[arg(long = "http.read-timeout", env = "STRATA_HTTP_READ_TIMEOUT", default_value = "30s", value_parser = parse_flag_duration)]
    pub http_read_timeout: Duration,
}

/// Parses a flag duration such as `5m` or `1h30m` (Prometheus syntax).
fn parse_flag_duration(text: &str) -> Result<Duration, String> {
    let ms = parse_duration_ms(text).map_err(|e| e.to_string())?;
    u64::try_from(ms)
        .ok()
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?} must be a positive duration"))
}

/// Parses a duration that may be `0` (off).
fn parse_optional_duration(text: &str) -> Result<Duration, String> {
    let ms = parse_duration_ms(text).map_err(|e| e.to_string())?;
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| format!("{text:?} must not be negative"))
}

/// Parses `--retention`; at least one day, since partitions are monthly and retention checks use days.
fn parse_retention(text: &str) -> Result<Duration, String> {
    let duration = parse_flag_duration(text)?;
    if duration < Duration::from_secs(24 * 3600) {
        return Err(format!(
            "{text:?} is shorter than the minimum retention of 1d"
        ));
    }
    Ok(duration)
}

impl ServerFlags {
    /// Checks flag combinations clap cannot check alone.
    pub fn validate(&self) -> Result<(), String> {
        if self.shards == Some(0) {
            return Err("--shards must be at least 1".to_string());
        }
        if self.http_auth_username.is_some() != self.http_auth_password.is_some() {
            return Err("--http.auth.username and --http.auth.password go together".to_string());
        }
        if self.max_request_bytes < 1024 {
            return Err("--max-request-bytes must be at least 1024".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let cli = Cli::try_parse_from(["strata"]).map_err(|e| e.to_string());
        let cli = cli.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.server.listen.port(), 8428);
        assert_eq!(cli.server.retention, Duration::from_secs(31 * 24 * 3600));
        assert!(cli.server.validate().is_ok());
    }

    #[test]
    fn retention_must_be_a_day() {
        assert!(Cli::try_parse_from(["strata", "--retention", "1h"]).is_err());
        assert!(Cli::try_parse_from(["strata", "--retention", "bogus"]).is_err());
    }
}
