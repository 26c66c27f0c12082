//! VictoriaMetrics' JSON line import (`/api/v1/import`) and export formats.
//!
//! ```text
//! {"metric":{"__name__":"m","k":"v"},"values":[1,"NaN",null],"timestamps":[1700000000000,1700000010000,1700000020000]}
//! ```
//!
//! Each line is one series with parallel `values` and `timestamps` arrays.
//! As in VictoriaMetrics, a value may be a number, `null` (NaN) or one of the
//! strings `NaN`, `nan`, `null`, `Null`, `Inf`, `inf`, `Infinity`, `infinity`
//! (optionally with `-`); Strata also reads `+Inf` and `StaleNaN` (its export
//! of Prometheus' stale marker, see [`export`]). Unknown keys are skipped. A
//! line without labels, without values, or whose arrays differ in length is
//! skipped and counted. Timestamps are integer milliseconds.

#![deny(clippy::indexing_slicing)]

pub mod export;
pub mod json;

use self::json::{Cursor, JsonError};
use super::line_splitter::{Line, LineSplitter};
use super::row::{ParseOptions, ParseStats, RowLabels, RowSink};
use crate::model::STALE_NAN_BITS;

pub use self::export::write_series;

/// Longest accepted line by default: VictoriaMetrics' `-import.maxLineLen`, so
/// its exports (one line per series, months of samples) import unchanged. It is
/// also the memory one import may hold as a partial line; see
/// [`JsonLinesParser::with_max_line_bytes`] to choose less.
pub const MAX_LINE_BYTES: usize = 100 * 1024 * 1024;

/// A streaming JSON line importer: feed the body in pieces, then finish.
#[derive(Debug)]
pub struct JsonLinesParser {
    splitter: LineSplitter,
    state: LineState,
}

#[derive(Debug)]
struct LineState {
    labels: RowLabels,
    values: Vec<f64>,
    timestamps: Vec<i64>,
    name: Vec<u8>,
    value: Vec<u8>,
    stats: ParseStats,
}

impl JsonLinesParser {
    /// A parser for one request (`default_timestamp_ms` is unused: every sample carries a timestamp).
    pub fn new(options: &ParseOptions) -> Self {
        Self::with_max_line_bytes(options, MAX_LINE_BYTES)
    }

    /// Like [`new`](Self::new), skipping lines longer than `max_line_bytes`.
    pub fn with_max_line_bytes(options: &ParseOptions, max_line_bytes: usize) -> Self {
        JsonLinesParser {
            splitter: LineSplitter::new(max_line_bytes),
            state: LineState {
                labels: RowLabels::new(&options.extra_labels),
                values: Vec::new(),
                timestamps: Vec::new(),
                name: Vec::new(),
                value: Vec::new(),
                stats: ParseStats::default(),
            },
        }
    }

    /// Parses the complete lines in `chunk`.
    pub fn feed(&mut self, chunk: &[u8], sink: &mut impl RowSink) {
        let state = &mut self.state;
        self.splitter
            .feed(chunk, |number, line| state.line(number, line, sink));
    }

    /// Parses the last line and returns the statistics.
    pub fn finish(mut self, sink: &mut impl RowSink) -> ParseStats {
        let state = &mut self.state;
        self.splitter
            .finish(|number, line| state.line(number, line, sink));
        self.state.stats
    }
}

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonLineError {
    /// Not valid JSON of the expected shape.
    Json(JsonError),
    /// No `metric` object, or one without labels.
    MissingLabels,
    /// No `values` array, or an empty one.
    MissingValues,
    /// No `timestamps` array, or an empty one.
    MissingTimestamps,
    /// The arrays differ in length.
    LengthMismatch {
        /// Number of values.
        values: usize,
        /// Number of timestamps.
        timestamps: usize,
    },
    /// A value string that is not a special value.
    BadValue(String),
    /// A timestamp that is not an integer.
    BadTimestamp(String),
}

impl std::fmt::Display for JsonLineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonLineError::Json(e) => write!(f, "cannot parse JSON line: {e}"),
            JsonLineError::MissingLabels => f.write_str("missing or empty `metric` object"),
            JsonLineError::MissingValues => f.write_str("missing or empty `values` array"),
            JsonLineError::MissingTimestamps => f.write_str("missing or empty `timestamps` array"),
            JsonLineError::LengthMismatch { values, timestamps } => write!(
                f,
                "`timestamps` array size must match `values` array size; got {timestamps}; want {values}"
            ),
            JsonLineError::BadValue(v) => write!(f, "cannot parse value {v:?}"),
            JsonLineError::BadTimestamp(t) => write!(f, "cannot parse timestamp {t:?}"),
        }
    }
}

impl std::error::Error for JsonLineError {}

impl From<JsonError> for JsonLineError {
    fn from(e: JsonError) -> Self {
        JsonLineError::Json(e)
    }
}

impl LineState {
    fn line(&mut self, number: u64, line: Line<'_>, sink: &mut impl RowSink) {
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong { size_bytes } => {
                let reason = format!("line of {size_bytes} bytes is longer than the limit");
                self.stats.skip(number, reason);
                return;
            }
        };
        if text.trim_ascii().is_empty() {
            return;
        }
        match self.parse(text) {
            Ok(()) => {
                for (&timestamp_ms, &value) in self.timestamps.iter().zip(&self.values) {
                    sink.row(&self.labels, timestamp_ms, value);
                }
                self.stats.rows += self.values.len() as u64;
            }
            Err(e) => self.stats.skip(number, e.to_string()),
        }
    }

    fn parse(&mut self, text: &[u8]) -> Result<(), JsonLineError> {
        self.labels.clear();
        self.values.clear();
        self.timestamps.clear();
        let mut cursor = Cursor::new(text);
        cursor.expect(b'{', "'{'")?;
        if !cursor.eat(b'}') {
            loop {
                cursor.string(&mut self.name)?;
                cursor.expect(b':', "':'")?;
                match self.name.as_slice() {
                    b"metric" => self.metric(&mut cursor)?,
                    b"values" => self.values(&mut cursor)?,
                    b"timestamps" => self.timestamps(&mut cursor)?,
                    _ => cursor.skip_value(0, &mut self.value)?,
                }
                if !cursor.eat(b',') {
                    cursor.expect(b'}', "',' or '}'")?;
                    break;
                }
            }
        }
        if !cursor.at_end() {
            return Err(cursor.expected("the end of the line").into());
        }
        if self.labels.is_empty() {
            return Err(JsonLineError::MissingLabels);
        }
        if self.values.is_empty() {
            return Err(JsonLineError::MissingValues);
        }
        if self.timestamps.is_empty() {
            return Err(JsonLineError::MissingTimestamps);
        }
        if self.values.len() != self.timestamps.len() {
            return Err(JsonLineError::LengthMismatch {
                values: self.values.len(),
                timestamps: self.timestamps.len(),
            });
        }
        Ok(())
    }

    fn metric(&mut self, cursor: &mut Cursor<'_>) -> Result<(), JsonLineError> {
        self.labels.clear();
        cursor.expect(b'{', "a `metric` object")?;
        if cursor.eat(b'}') {
            return Ok(());
        }
        loop {
            cursor.string(&mut self.name)?;
            cursor.expect(b':', "':'")?;
            cursor.string(&mut self.value)?;
            self.labels.push(&self.name, &self.value);
            if !cursor.eat(b',') {
                return Ok(cursor.expect(b'}', "',' or '}'")?);
            }
        }
    }

    fn values(&mut self, cursor: &mut Cursor<'_>) -> Result<(), JsonLineError> {
        self.values.clear();
        cursor.expect(b'[', "a `values` array")?;
        if cursor.eat(b']') {
            return Ok(());
        }
        loop {
            let value = if cursor.peek() == Some(b'"') {
                cursor.string(&mut self.value)?;
                special_value(&self.value).ok_or_else(|| {
                    JsonLineError::BadValue(String::from_utf8_lossy(&self.value).into_owned())
                })?
            } else if cursor.literal(b"null") {
                f64::NAN
            } else {
                let text = cursor.number_text()?;
                text.parse::<f64>()
                    .map_err(|_| JsonLineError::BadValue(text.to_string()))?
            };
            self.values.push(value);
            if !cursor.eat(b',') {
                return Ok(cursor.expect(b']', "',' or ']'")?);
            }
        }
    }

    fn timestamps(&mut self, cursor: &mut Cursor<'_>) -> Result<(), JsonLineError> {
        self.timestamps.clear();
        cursor.expect(b'[', "a `timestamps` array")?;
        if cursor.eat(b']') {
            return Ok(());
        }
        loop {
            let text = cursor.number_text()?;
            let timestamp = text
                .parse::<i64>()
                .map_err(|_| JsonLineError::BadTimestamp(text.to_string()))?;
            self.timestamps.push(timestamp);
            if !cursor.eat(b',') {
                return Ok(cursor.expect(b']', "',' or ']'")?);
            }
        }
    }
}

/// The value a special string stands for.
fn special_value(text: &[u8]) -> Option<f64> {
    if text == export::STALE_NAN_TEXT.as_bytes() {
        return Some(f64::from_bits(STALE_NAN_BITS));
    }
    let (negative, word) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    match word {
        b"Inf" | b"inf" | b"Infinity" | b"infinity" => Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        b"NaN" | b"nan" | b"null" | b"Null" => Some(f64::NAN),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
