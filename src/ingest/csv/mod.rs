//! CSV import (`/api/v1/import/csv?format=...`) as VictoriaMetrics does it.
//!
//! Each line gives one row per non-empty metric column, all sharing the line's
//! label columns and timestamp (the request time when there is no time
//! column, or when it holds 0, as in VictoriaMetrics). Columns past the
//! described ones are ignored. Cells may be quoted (`"a,b"`, `""` for a quote);
//! a quoted cell cannot span lines. A line with a bad number, timestamp or
//! quote, or one too short to reach any metric column, is skipped and counted.

#![deny(clippy::indexing_slicing)]

pub mod column_spec;

use std::borrow::Cow;

pub use self::column_spec::{parse_columns, Column, ColumnSpecError, TimeFormat};

use super::line_splitter::{Line, LineSplitter};
use super::row::{ParseOptions, ParseStats, RowLabels, RowSink};
use crate::model::METRIC_NAME_LABEL;

/// Longest accepted line.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// A streaming CSV importer for one request.
#[derive(Debug)]
pub struct CsvParser {
    splitter: LineSplitter,
    state: LineState,
}

#[derive(Debug)]
struct LineState {
    columns: Vec<Column>,
    default_timestamp_ms: i64,
    labels: RowLabels,
    /// (metric column index, value) of the current line.
    values: Vec<(usize, f64)>,
    stats: ParseStats,
}

impl CsvParser {
    /// A parser for the columns described by `format` (see [`parse_columns`]).
    pub fn new(format: &str, options: &ParseOptions) -> Result<Self, ColumnSpecError> {
        Ok(CsvParser {
            splitter: LineSplitter::new(MAX_LINE_BYTES),
            state: LineState {
                columns: parse_columns(format)?,
                default_timestamp_ms: options.default_timestamp_ms,
                labels: RowLabels::new(&options.extra_labels),
                values: Vec::new(),
                stats: ParseStats::default(),
            },
        })
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

impl LineState {
    fn line(&mut self, number: u64, line: Line<'_>, sink: &mut impl RowSink) {
        match line {
            Line::TooLong { size_bytes } => self.stats.skip(
                number,
                format!("line of {size_bytes} bytes is longer than the limit of {MAX_LINE_BYTES}"),
            ),
            Line::Text(b"") => {}
            Line::Text(text) => match self.parse(text) {
                Ok(timestamp_ms) => self.emit(timestamp_ms, sink),
                Err(reason) => self.stats.skip(number, reason),
            },
        }
    }

    /// Reads a line's cells into `labels` and `values`; returns its timestamp.
    fn parse(&mut self, mut text: &[u8]) -> Result<i64, String> {
        self.labels.clear();
        self.values.clear();
        let mut timestamp_ms = None;
        let mut column = 0usize;
        while column < self.columns.len() {
            let Some((cell, rest)) = next_cell(text)? else {
                break;
            };
            text = rest;
            match self.columns.get(column) {
                Some(Column::Metric(name)) if !cell.is_empty() => {
                    let value = std::str::from_utf8(&cell)
                        .ok()
                        .and_then(|c| c.trim().parse::<f64>().ok())
                        .ok_or_else(|| {
                            format!("cannot parse value {:?} of metric {name:?}", lossy(&cell))
                        })?;
                    self.values.push((column, value));
                }
                Some(Column::Label(name)) => self.labels.push(name.as_bytes(), &cell),
                Some(Column::Time(format)) => {
                    let parsed = std::str::from_utf8(&cell)
                        .ok()
                        .and_then(|c| format.parse_ms(c));
                    timestamp_ms = Some(
                        parsed
                            .ok_or_else(|| format!("cannot parse timestamp {:?}", lossy(&cell)))?,
                    );
                }
                _ => {}
            }
            column += 1;
        }
        if column < self.columns.len() && self.values.is_empty() {
            return Err(format!(
                "missing columns: got {column}, want at least {}",
                self.columns.len()
            ));
        }
        Ok(timestamp_ms
            .filter(|&t| t != 0)
            .unwrap_or(self.default_timestamp_ms))
    }

    fn emit(&mut self, timestamp_ms: i64, sink: &mut impl RowSink) {
        let base = self.labels.len();
        for &(column, value) in &self.values {
            if let Some(Column::Metric(name)) = self.columns.get(column) {
                self.labels.truncate(base);
                self.labels
                    .push(METRIC_NAME_LABEL.as_bytes(), name.as_bytes());
                sink.row(&self.labels, timestamp_ms, value);
                self.stats.rows += 1;
            }
        }
    }
}

/// A cell (borrowed unless it was quoted with `""` inside) and the rest of the line.
type Cell<'a> = (Cow<'a, [u8]>, &'a [u8]);

/// Splits the next cell off `line`: `None` once the line is used up.
fn next_cell(line: &[u8]) -> Result<Option<Cell<'_>>, String> {
    if line.is_empty() {
        return Ok(None);
    }
    let Some(quoted) = line.strip_prefix(b"\"") else {
        let end = line.iter().position(|&b| b == b',').unwrap_or(line.len());
        let (cell, rest) = line.split_at(end);
        return Ok(Some((
            Cow::Borrowed(cell),
            rest.get(1..).unwrap_or_default(),
        )));
    };
    let mut cell = Vec::new();
    let mut rest = quoted;
    loop {
        let quote = rest
            .iter()
            .position(|&b| b == b'"')
            .ok_or_else(|| format!("missing closing quote in {:?}", lossy(line)))?;
        let (text, after) = rest.split_at(quote);
        cell.extend_from_slice(text);
        let after = after.get(1..).unwrap_or_default();
        if let Some(after_escape) = after.strip_prefix(b"\"") {
            cell.push(b'"');
            rest = after_escape;
        } else if after.is_empty() {
            return Ok(Some((Cow::Owned(cell), after)));
        } else if let Some(after_comma) = after.strip_prefix(b",") {
            return Ok(Some((Cow::Owned(cell), after_comma)));
        } else {
            return Err(format!(
                "missing comma after quoted cell in {:?}",
                lossy(line)
            ));
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(128).collect()
}

#[cfg(test)]
mod tests;
