//! Import bodies generated on the fly, one line at a time, for every streaming import format.
//!
//! The generator cycles over a fixed set of series (`rss_import{job="import-rss",series="<i>"}`),
//! one round of samples per pass, each round one `step_ms` later than the last. The client never
//! holds more than one chunk, and the server's index stays the same size whatever the body size,
//! so what grows with the body is only what the import path itself keeps.

use std::io::Write;

/// Metric name of every generated series (Influx adds `_value`, the field name).
pub const METRIC: &str = "rss_import";
/// The `job` label of every generated series.
pub const JOB: &str = "import-rss";
/// Samples per JSON line: VictoriaMetrics' export writes one line per series and block.
const SAMPLES_PER_JSON_LINE: u64 = 64;

/// A streaming import format and the path it is sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// VictoriaMetrics JSON lines, `/api/v1/import`.
    JsonLines,
    /// Prometheus text, `/api/v1/import/prometheus`.
    PrometheusText,
    /// CSV, `/api/v1/import/csv?format=...`.
    Csv,
    /// Influx line protocol, `/write?precision=ms`.
    Influx,
}

impl ImportFormat {
    /// Every format, in report order.
    pub const ALL: [ImportFormat; 4] = [
        ImportFormat::JsonLines,
        ImportFormat::PrometheusText,
        ImportFormat::Csv,
        ImportFormat::Influx,
    ];

    /// Name in flags and reports.
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::JsonLines => "json",
            ImportFormat::PrometheusText => "prometheus",
            ImportFormat::Csv => "csv",
            ImportFormat::Influx => "influx",
        }
    }

    /// Parses a `--formats` entry.
    pub fn parse(text: &str) -> Result<ImportFormat, String> {
        ImportFormat::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| format!("unknown format {text:?} (json, prometheus, csv, influx)"))
    }

    /// Request path with query string.
    pub fn path(self) -> &'static str {
        match self {
            ImportFormat::JsonLines => "/api/v1/import",
            ImportFormat::PrometheusText => "/api/v1/import/prometheus",
            ImportFormat::Csv => {
                "/api/v1/import/csv?format=1:label:job,2:label:series,3:metric:rss_import,4:time:unix_ms"
            }
            ImportFormat::Influx => "/write?precision=ms",
        }
    }
}

/// Writes lines of one format for `series` series, round after round.
#[derive(Debug)]
pub struct BodyGenerator {
    format: ImportFormat,
    series: u64,
    next_series: u64,
    round: u64,
    start_ms: i64,
    step_ms: i64,
    /// Samples written so far.
    pub samples: u64,
}

impl BodyGenerator {
    /// A generator whose first round is at `start_ms`, then every `step_ms`.
    pub fn new(format: ImportFormat, series: u64, start_ms: i64, step_ms: i64) -> BodyGenerator {
        BodyGenerator {
            format,
            series: series.max(1),
            next_series: 0,
            round: 0,
            start_ms,
            step_ms,
            samples: 0,
        }
    }

    /// The timestamp of the last round started so far.
    pub fn last_timestamp_ms(&self) -> i64 {
        self.timestamp_ms(self.round + self.rounds_per_line() - 1)
    }

    fn rounds_per_line(&self) -> u64 {
        match self.format {
            ImportFormat::JsonLines => SAMPLES_PER_JSON_LINE,
            _ => 1,
        }
    }

    fn timestamp_ms(&self, round: u64) -> i64 {
        self.start_ms + round as i64 * self.step_ms
    }

    /// A value that varies per series and round and prints short (multiples of 0.25).
    fn value(series: u64, round: u64) -> f64 {
        ((series * 7 + round) % 4000) as f64 / 4.0
    }

    /// Appends whole lines to `out` until it holds at least `min_bytes`.
    pub fn fill(&mut self, out: &mut Vec<u8>, min_bytes: usize) {
        while out.len() < min_bytes {
            self.write_line(out);
            self.next_series += 1;
            if self.next_series == self.series {
                self.next_series = 0;
                self.round += self.rounds_per_line();
            }
        }
    }

    fn write_line(&mut self, out: &mut Vec<u8>) {
        let (series, round) = (self.next_series, self.round);
        let timestamp = self.timestamp_ms(round);
        let value = Self::value(series, round);
        // Writing to a Vec cannot fail.
        let _ = match self.format {
            ImportFormat::JsonLines => return self.write_json_line(out),
            ImportFormat::PrometheusText => writeln!(
                out,
                "{METRIC}{{job=\"{JOB}\",series=\"{series}\"}} {value} {timestamp}"
            ),
            ImportFormat::Csv => writeln!(out, "{JOB},{series},{value},{timestamp}"),
            ImportFormat::Influx => writeln!(
                out,
                "{METRIC},job={JOB},series={series} value={value} {timestamp}"
            ),
        };
        self.samples += 1;
    }

    fn write_json_line(&mut self, out: &mut Vec<u8>) {
        let (series, round) = (self.next_series, self.round);
        let _ = write!(
            out,
            "{{\"metric\":{{\"__name__\":\"{METRIC}\",\"job\":\"{JOB}\",\"series\":\"{series}\"}},\"values\":["
        );
        for i in 0..SAMPLES_PER_JSON_LINE {
            let separator = if i == 0 { "" } else { "," };
            let _ = write!(out, "{separator}{}", Self::value(series, round + i));
        }
        out.extend_from_slice(b"],\"timestamps\":[");
        for i in 0..SAMPLES_PER_JSON_LINE {
            let separator = if i == 0 { "" } else { "," };
            let _ = write!(out, "{separator}{}", self.timestamp_ms(round + i));
        }
        out.extend_from_slice(b"]}\n");
        self.samples += SAMPLES_PER_JSON_LINE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cycle_over_the_series() {
        let mut generator = BodyGenerator::new(ImportFormat::PrometheusText, 2, 1000, 10);
        let mut out = Vec::new();
        for _ in 0..3 {
            let next = out.len() + 1;
            generator.fill(&mut out, next);
        }
        let text = String::from_utf8(out).unwrap_or_default();
        assert_eq!(
            text,
            "rss_import{job=\"import-rss\",series=\"0\"} 0 1000\n\
             rss_import{job=\"import-rss\",series=\"1\"} 1.75 1000\n\
             rss_import{job=\"import-rss\",series=\"0\"} 0.25 1010\n"
        );
        assert_eq!(generator.samples, 3);
    }

    #[test]
    fn json_lines_hold_a_run_of_rounds() {
        let mut generator = BodyGenerator::new(ImportFormat::JsonLines, 1, 0, 1);
        let mut out = Vec::new();
        generator.fill(&mut out, 1);
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(line["values"].as_array().map(Vec::len), Some(64));
        assert_eq!(line["timestamps"][63], 63);
        assert_eq!(generator.samples, 64);
    }
}
