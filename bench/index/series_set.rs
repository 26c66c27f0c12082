//! The series of `strata-bench index`: `n` distinct series, one sample each, pre-encoded as
//! remote_write requests, and the selectors whose lookups are timed (with their answer sizes,
//! computed here, so a wrong answer is caught).

use bytes::Bytes;
use prost::Message;
use strata::ingest::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};

/// Metric names in the set; series `i` has name `i % NAMES`, and name 0 is `m`.
const NAMES: usize = 100;
/// Hosts; series `i` is on host `(i / NAMES) % HOSTS`.
const HOSTS: usize = 10_000;
/// Jobs; series `i` is in job `i % JOBS`.
const JOBS: usize = 7;

/// A series' labels, sorted by name as Prometheus sends them.
type SeriesLabels = [(&'static str, String); 5];

/// Labels of series `i`.
fn labels(i: usize) -> SeriesLabels {
    let name = match i % NAMES {
        0 => "m".to_string(),
        k => format!("m_{k}"),
    };
    [
        ("__name__", name),
        ("instance", format!("host-{}", (i / NAMES) % HOSTS)),
        ("job", format!("job-{}", i % JOBS)),
        ("pod", format!("pod-{i}")),
        ("zone", format!("zone-{}", i % 3)),
    ]
}

/// Snappy-compressed remote_write bodies, `per_request` series each, one sample at `ts_ms`.
pub fn encode_requests(n: usize, per_request: usize, ts_ms: i64) -> Vec<Vec<u8>> {
    let mut encoder = snap::raw::Encoder::new();
    (0..n)
        .step_by(per_request.max(1))
        .map(|start| {
            let timeseries = (start..(start + per_request).min(n))
                .map(|i| TimeSeries {
                    labels: labels(i)
                        .into_iter()
                        .map(|(name, value)| Label {
                            name: Bytes::from_static(name.as_bytes()),
                            value: Bytes::from(value),
                        })
                        .collect(),
                    samples: vec![Sample {
                        value: i as f64,
                        timestamp: ts_ms,
                    }],
                    exemplars: vec![],
                    histograms: vec![],
                })
                .collect();
            let request = WriteRequest {
                timeseries,
                metadata: vec![],
            };
            encoder
                .compress_vec(&request.encode_to_vec())
                .unwrap_or_default()
        })
        .collect()
}

/// A timed lookup: its selector and how many of the `n` series it must return.
pub struct Lookup {
    /// Short name in the report.
    pub name: &'static str,
    /// The PromQL selector.
    pub selector: String,
    /// Series it selects.
    pub expected: usize,
}

/// The lookups of the issue: a name with a regex prefix, and a 3-matcher selector.
pub fn lookups(n: usize) -> Vec<Lookup> {
    let count = |keep: &dyn Fn(&SeriesLabels) -> bool| {
        (0..n)
            .filter(|&i| i % NAMES == 0 && keep(&labels(i)))
            .count()
    };
    vec![
        Lookup {
            name: "name + regex prefix",
            selector: r#"{__name__="m", instance=~"host-1.*"}"#.to_string(),
            expected: count(&|l| l[1].1.starts_with("host-1")),
        },
        Lookup {
            name: "3 matchers",
            selector: r#"{__name__="m", job="job-3", instance=~"host-2.*"}"#.to_string(),
            expected: count(&|l| l[2].1 == "job-3" && l[1].1.starts_with("host-2")),
        },
    ]
}

/// A selector for exactly one known series (the start-up probe).
pub fn known_series_selector(n: usize) -> String {
    let last = n.saturating_sub(1);
    format!(r#"{{pod="pod-{last}"}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_distinct_and_lookups_select_some() {
        let n = 20_000;
        let set: std::collections::HashSet<_> = (0..n).map(labels).collect();
        assert_eq!(set.len(), n);
        let lookups = lookups(n);
        assert!(lookups
            .iter()
            .all(|l| l.expected > 0 && l.expected < n / NAMES));
        assert_eq!(encode_requests(n, 1000, 0).len(), 20);
    }
}
