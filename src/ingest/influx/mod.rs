//! Influx line protocol, mapped to series the way VictoriaMetrics maps it.
//!
//! Each field of a line becomes one row: metric `measurement_field` (just
//! `field` when the measurement is empty), the tags as labels, the `db` query
//! argument as label `db` unless a tag already names `db`. Booleans are 1/0,
//! integers (`2i`, `3u`) and floats are values, quoted numbers are parsed, other
//! strings are skipped. Timestamps are converted from the request's precision
//! to milliseconds (without one, the unit is guessed from the magnitude, as
//! VictoriaMetrics does); a line without a timestamp (or with 0, as in
//! VictoriaMetrics) gets the request time, truncated to a coarse precision. Malformed lines are skipped and counted.

#![deny(clippy::indexing_slicing)]

pub mod line;

use self::line::{
    for_each_field, for_each_tag, split_line, unescape_into, FieldValue, InfluxLineError,
};
use super::line_splitter::{Line, LineSplitter};
use super::row::{ParseOptions, ParseStats, RowLabels, RowSink};
use crate::model::METRIC_NAME_LABEL;

/// Longest accepted line: VictoriaMetrics' `-influx.maxLineSize` default.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// The label the `db` query argument becomes.
pub const DB_LABEL: &str = "db";

/// The unit of the timestamps in a request (`precision` query argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// No (or an unknown) `precision`: guessed per timestamp from its magnitude, as VictoriaMetrics does.
    #[default]
    Auto,
    /// Nanoseconds.
    Nanoseconds,
    /// Microseconds.
    Microseconds,
    /// Milliseconds.
    Milliseconds,
    /// Seconds.
    Seconds,
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
}

impl Precision {
    /// Reads the `precision` query argument. Like VictoriaMetrics, an unknown
    /// value is not an error but means [`Precision::Auto`], so no agent that
    /// works with VictoriaMetrics is refused here.
    pub fn from_query(text: &str) -> Self {
        match text {
            "n" | "ns" => Precision::Nanoseconds,
            "u" | "us" | "µ" | "µs" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            "m" => Precision::Minutes,
            "h" => Precision::Hours,
            _ => Precision::Auto,
        }
    }

    /// Converts a (non-zero) timestamp in this precision to milliseconds (saturating).
    pub fn to_millis(self, timestamp: i64) -> i64 {
        match self {
            Precision::Auto => match timestamp {
                t if t >= 100_000_000_000_000_000 => t / 1_000_000,
                t if t >= 100_000_000_000_000 => t / 1_000,
                t if t >= 100_000_000_000 => t,
                t => t.saturating_mul(1_000),
            },
            Precision::Nanoseconds => timestamp / 1_000_000,
            Precision::Microseconds => timestamp / 1_000,
            Precision::Milliseconds => timestamp,
            Precision::Seconds => timestamp.saturating_mul(1_000),
            Precision::Minutes => timestamp.saturating_mul(60_000),
            Precision::Hours => timestamp.saturating_mul(3_600_000),
        }
    }

    /// The request time for lines without a timestamp: truncated to the unit when it is coarser than 1 ms.
    pub fn default_millis(self, now_ms: i64) -> i64 {
        let unit_ms = match self {
            Precision::Seconds => 1_000,
            Precision::Minutes => 60_000,
            Precision::Hours => 3_600_000,
            _ => 1,
        };
        now_ms - now_ms.rem_euclid(unit_ms)
    }
}

/// Everything an Influx request says about its body.
#[derive(Debug, Clone, Default)]
pub struct InfluxOptions {
    /// Extra labels and the default timestamp.
    pub parse: ParseOptions,
    /// Timestamp unit.
    pub precision: Precision,
    /// The `db` query argument, if any.
    pub db: Option<String>,
}

/// A streaming Influx line protocol parser: feed the body in pieces, then finish.
#[derive(Debug)]
pub struct InfluxParser {
    splitter: LineSplitter,
    state: LineState,
}

/// Everything but the splitter, so both can be borrowed at once.
#[derive(Debug)]
struct LineState {
    options: InfluxOptions,
    labels: RowLabels,
    measurement: Vec<u8>,
    key: Vec<u8>,
    value: Vec<u8>,
    stats: ParseStats,
}

impl InfluxParser {
    /// A parser for one request.
    pub fn new(options: InfluxOptions) -> Self {
        InfluxParser {
            splitter: LineSplitter::new(MAX_LINE_BYTES),
            state: LineState {
                labels: RowLabels::new(&options.parse.extra_labels),
                options,
                measurement: Vec::new(),
                key: Vec::new(),
                value: Vec::new(),
                stats: ParseStats::default(),
            },
        }
    }

    /// Parses the complete lines in `chunk` (plus the carried-over start of the first).
    pub fn feed(&mut self, chunk: &[u8], sink: &mut impl RowSink) {
        let state = &mut self.state;
        self.splitter
            .feed(chunk, |number, line| state.line(number, line, sink));
    }

    /// Parses the last line and returns the statistics of the body.
    pub fn finish(mut self, sink: &mut impl RowSink) -> ParseStats {
        let state = &mut self.state;
        self.splitter
            .finish(|number, line| state.line(number, line, sink));
        self.state.stats
    }
}

impl LineState {
    fn line(&mut self, number: u64, line: Line<'_>, sink: &mut impl RowSink) {
        match line {
            Line::TooLong { size_bytes } => self.stats.skip(
                number,
                format!("line of {size_bytes} bytes is longer than the limit of {MAX_LINE_BYTES}"),
            ),
            Line::Text(text) => {
                let text = text.trim_ascii_start();
                if text.is_empty() || text.starts_with(b"#") {
                    return;
                }
                if let Err(e) = self.parse(text, sink) {
                    self.stats.skip(number, e.to_string());
                }
            }
        }
    }

    /// Parses a whole line before emitting any row, so a bad line emits nothing.
    fn parse(&mut self, text: &[u8], sink: &mut impl RowSink) -> Result<(), InfluxLineError> {
        let parts = split_line(text)?;
        for_each_field(parts.fields, |_, _| {})?;
        self.labels.clear();
        let mut has_db = false;
        let (labels, key, value) = (&mut self.labels, &mut self.key, &mut self.value);
        for_each_tag(parts.tags, |k, v| {
            key.clear();
            value.clear();
            unescape_into(k, key);
            unescape_into(v, value);
            has_db |= key.as_slice() == DB_LABEL.as_bytes();
            labels.push(key, value);
        })?;
        if let Some(db) = self
            .options
            .db
            .as_deref()
            .filter(|db| !db.is_empty() && !has_db)
        {
            self.labels.push(DB_LABEL.as_bytes(), db.as_bytes());
        }
        self.measurement.clear();
        unescape_into(parts.measurement, &mut self.measurement);
        let timestamp_ms = match parts.timestamp {
            Some(t) if t != 0 => self.options.precision.to_millis(t),
            _ => self
                .options
                .precision
                .default_millis(self.options.parse.default_timestamp_ms),
        };
        let base = self.labels.len();
        let (labels, key, measurement) = (&mut self.labels, &mut self.key, &self.measurement);
        let mut rows = 0u64;
        for_each_field(parts.fields, |k, v| {
            let FieldValue::Number(number) = v else {
                return;
            };
            key.clear();
            unescape_into(k, key);
            labels.truncate(base);
            let separator: &[u8] = if measurement.is_empty() { b"" } else { b"_" };
            labels.push_joined(METRIC_NAME_LABEL.as_bytes(), &[measurement, separator, key]);
            sink.row(labels, timestamp_ms, number);
            rows += 1;
        })?;
        self.stats.rows += rows;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
