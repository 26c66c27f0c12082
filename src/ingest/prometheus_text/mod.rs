//! Prometheus text exposition (0.0.4) and OpenMetrics, streamed line by line.
//!
//! Samples become rows (the `__name__` label first, then the line's labels in
//! order); a sample without a timestamp gets the request time. `# HELP`,
//! `# TYPE` and `# UNIT` fill [`Metadata`] by family name; other comments are
//! ignored; OpenMetrics exemplars (after ` # `) are dropped. `# EOF` ends the
//! body: later lines are skipped and counted. Prometheus timestamps are integer
//! milliseconds, OpenMetrics ones float seconds; like VictoriaMetrics, a
//! Prometheus-format timestamp below 2^31 is read as seconds, since no real
//! millisecond timestamp is that small.

#![deny(clippy::indexing_slicing)]

pub mod metadata;
pub mod sample;

pub use self::metadata::{FamilyMetadata, Metadata, MetricType};

use self::metadata::{parse_comment, Comment};
use self::sample::{parse_sample, TimestampUnit};
use super::line_splitter::{Line, LineSplitter};
use super::row::{ParseOptions, ParseStats, RowLabels, RowSink};

/// Longest accepted line; matches VictoriaMetrics' `-import.maxLineLen` order of magnitude for text.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Which dialect the body is in (from its Content-Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextFormat {
    /// `text/plain; version=0.0.4`: timestamps in milliseconds.
    #[default]
    Prometheus,
    /// `application/openmetrics-text`: timestamps in seconds.
    OpenMetrics,
}

impl TextFormat {
    /// Picks the dialect from a Content-Type: OpenMetrics when it says so, Prometheus text otherwise.
    pub fn from_content_type(value: &str) -> Self {
        let media_type = value.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
            TextFormat::OpenMetrics
        } else {
            TextFormat::Prometheus
        }
    }
}

/// What a finished body produced besides its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextOutcome {
    /// Rows and skipped lines.
    pub stats: ParseStats,
    /// HELP/TYPE/UNIT by family name.
    pub metadata: Metadata,
    /// Whether `# EOF` was seen.
    pub saw_eof: bool,
}

/// A streaming parser for one body: feed it in pieces, then finish.
#[derive(Debug)]
pub struct PrometheusTextParser {
    splitter: LineSplitter,
    state: LineState,
}

#[derive(Debug)]
struct LineState {
    unit: TimestampUnit,
    default_timestamp_ms: i64,
    labels: RowLabels,
    scratch: Vec<u8>,
    outcome: TextOutcome,
}

impl PrometheusTextParser {
    /// A parser for one request.
    pub fn new(format: TextFormat, options: &ParseOptions) -> Self {
        PrometheusTextParser {
            splitter: LineSplitter::new(MAX_LINE_BYTES),
            state: LineState {
                unit: match format {
                    TextFormat::Prometheus => TimestampUnit::Milliseconds,
                    TextFormat::OpenMetrics => TimestampUnit::Seconds,
                },
                default_timestamp_ms: options.default_timestamp_ms,
                labels: RowLabels::new(&options.extra_labels),
                scratch: Vec::new(),
                outcome: TextOutcome::default(),
            },
        }
    }

    /// Parses the complete lines in `chunk`.
    pub fn feed(&mut self, chunk: &[u8], sink: &mut impl RowSink) {
        let state = &mut self.state;
        self.splitter
            .feed(chunk, |number, line| state.line(number, line, sink));
    }

    /// Parses the last line and returns the outcome.
    pub fn finish(mut self, sink: &mut impl RowSink) -> TextOutcome {
        let state = &mut self.state;
        self.splitter
            .finish(|number, line| state.line(number, line, sink));
        self.state.outcome
    }
}

impl LineState {
    fn line(&mut self, number: u64, line: Line<'_>, sink: &mut impl RowSink) {
        let text = match line {
            Line::Text(text) => text.trim_ascii(),
            Line::TooLong { size_bytes } => {
                let reason = format!(
                    "line of {size_bytes} bytes is longer than the limit of {MAX_LINE_BYTES}"
                );
                self.outcome.stats.skip(number, reason);
                return;
            }
        };
        if text.is_empty() {
            return;
        }
        if self.outcome.saw_eof {
            self.outcome.stats.skip(number, "data after # EOF");
            return;
        }
        if text.starts_with(b"#") {
            match parse_comment(text, &mut self.outcome.metadata) {
                Ok(Comment::Eof) => self.outcome.saw_eof = true,
                Ok(Comment::Metadata | Comment::Other) => {}
                Err(e) => self.outcome.stats.skip(number, e.to_string()),
            }
            return;
        }
        match parse_sample(text, self.unit, &mut self.labels, &mut self.scratch) {
            Ok(sample) => {
                let timestamp_ms = sample.timestamp_ms.unwrap_or(self.default_timestamp_ms);
                sink.row(&self.labels, timestamp_ms, sample.value);
                self.outcome.stats.rows += 1;
            }
            Err(e) => self.outcome.stats.skip(number, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests;
