//! The dashboard query set: what a node_exporter Grafana board asks, as range
//! and instant queries plus the label and series look-ups behind its variables.
//! Times come from the workload, so every server is asked the same questions.

/// One HTTP API call of the set.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryKind {
    /// `/api/v1/query` at one time (seconds since the epoch).
    Instant {
        /// PromQL.
        expr: String,
        /// Evaluation time, ms.
        time_ms: i64,
    },
    /// `/api/v1/query_range`.
    Range {
        /// PromQL.
        expr: String,
        /// First step, ms.
        start_ms: i64,
        /// Last step, ms.
        end_ms: i64,
        /// Step, ms.
        step_ms: i64,
    },
    /// `/api/v1/label/<name>/values` over a time range.
    LabelValues {
        /// Label name.
        label: String,
        /// Range start, ms.
        start_ms: i64,
        /// Range end, ms.
        end_ms: i64,
    },
    /// `/api/v1/series` for one selector over a time range.
    Series {
        /// The `match[]` selector.
        selector: String,
        /// Range start, ms.
        start_ms: i64,
        /// Range end, ms.
        end_ms: i64,
    },
}

/// A named query.
#[derive(Clone, Debug, PartialEq)]
pub struct QuerySpec {
    /// Short name for tables.
    pub name: &'static str,
    /// The call.
    pub kind: QueryKind,
}

/// Points a range query asks for at most; the step grows with the range.
const RANGE_POINTS: i64 = 60;
/// Smallest step, ms (one scrape interval of the default workload).
const MIN_STEP_MS: i64 = 10_000;

/// (name, PromQL, range?) of the dashboard. Range queries are what graphs ask;
/// instant ones are what stat panels and alerts ask.
const DASHBOARD: [(&str, &str, bool); 11] = [
    ("up", "up", false),
    ("memory_available", "node_memory_MemAvailable_bytes", true),
    ("cpu_rate", "rate(node_cpu_seconds_total[5m])", true),
    (
        "cpu_busy_by_instance",
        "sum by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[5m]))",
        true,
    ),
    (
        "memory_used_ratio",
        "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
        true,
    ),
    (
        "network_receive_rate",
        "sum by (instance) (rate(node_network_receive_bytes_total{device!=\"lo\"}[5m]))",
        true,
    ),
    (
        "request_latency_p90",
        "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        true,
    ),
    ("load1_avg", "avg(node_load1)", false),
    (
        "top5_disk_written",
        "topk(5, rate(node_disk_written_bytes_total[5m]))",
        false,
    ),
    (
        "filesystem_free_ratio",
        "min by (instance) (node_filesystem_avail_bytes / node_filesystem_size_bytes)",
        false,
    ),
    (
        "cpu_count_instant",
        "count(node_cpu_seconds_total{mode=\"idle\"})",
        false,
    ),
];

/// The set over data spanning `[min_ms, max_ms]`: instant queries at the last
/// sample's time, range queries over the whole span on whole-second steps.
pub fn dashboard(min_ms: i64, max_ms: i64) -> Vec<QuerySpec> {
    let end_ms = max_ms - max_ms.rem_euclid(1000);
    let span = (end_ms - min_ms).max(0);
    let step_ms = (span / RANGE_POINTS).max(MIN_STEP_MS);
    let step_ms = step_ms - step_ms % 1000;
    let start_ms = end_ms - (span / step_ms) * step_ms;
    let mut set: Vec<QuerySpec> = DASHBOARD
        .iter()
        .map(|&(name, expr, range)| QuerySpec {
            name,
            kind: if range {
                QueryKind::Range {
                    expr: expr.to_string(),
                    start_ms,
                    end_ms,
                    step_ms,
                }
            } else {
                QueryKind::Instant {
                    expr: expr.to_string(),
                    time_ms: end_ms,
                }
            },
        })
        .collect();
    set.push(QuerySpec {
        name: "label_values_instance",
        kind: QueryKind::LabelValues {
            label: "instance".to_string(),
            start_ms: min_ms,
            end_ms: max_ms,
        },
    });
    set.push(QuerySpec {
        name: "series_up",
        kind: QueryKind::Series {
            selector: "up".to_string(),
            start_ms: min_ms,
            end_ms: max_ms,
        },
    });
    set
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters pass).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Milliseconds as the API's float seconds, exactly (`1700000000.123`).
fn seconds(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

impl QuerySpec {
    /// The request path with its query string.
    pub fn path(&self) -> String {
        match &self.kind {
            QueryKind::Instant { expr, time_ms } => format!(
                "/api/v1/query?query={}&time={}",
                url_encode(expr),
                seconds(*time_ms)
            ),
            QueryKind::Range {
                expr,
                start_ms,
                end_ms,
                step_ms,
            } => format!(
                "/api/v1/query_range?query={}&start={}&end={}&step={}",
                url_encode(expr),
                seconds(*start_ms),
                seconds(*end_ms),
                seconds(*step_ms)
            ),
            QueryKind::LabelValues {
                label,
                start_ms,
                end_ms,
            } => format!(
                "/api/v1/label/{label}/values?start={}&end={}",
                seconds(*start_ms),
                seconds(*end_ms)
            ),
            QueryKind::Series {
                selector,
                start_ms,
                end_ms,
            } => format!(
                "/api/v1/series?match%5B%5D={}&start={}&end={}",
                url_encode(selector),
                seconds(*start_ms),
                seconds(*end_ms)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_and_steps_whole_seconds() {
        let set = dashboard(1_700_000_000_000, 1_700_000_600_004);
        assert_eq!(set.len(), DASHBOARD.len() + 2);
        let range = set.iter().find(|q| q.name == "cpu_rate").unwrap();
        assert_eq!(
            range.path(),
            "/api/v1/query_range?query=rate%28node_cpu_seconds_total%5B5m%5D%29\
             &start=1700000000.000&end=1700000600.000&step=10.000"
        );
        let instant = set.iter().find(|q| q.name == "up").unwrap();
        assert_eq!(instant.path(), "/api/v1/query?query=up&time=1700000600.000");
        assert_eq!(seconds(-1), "-0.001");
    }
}
