//! The streaming contract shared by every text ingest format: parsers emit one
//! row (labels, timestamp, value) at a time into a [`RowSink`].
//!
//! A row's labels live in a reusable [`RowLabels`] buffer. The request's
//! `extra_label` pairs sit at its front, are set once per request, and
//! override same-named labels of every row: [`RowLabels::iter`] yields the
//! row's own labels minus the overridden ones, then the extra labels. Labels
//! come out in the order the format gave them; the sink sorts and validates.
//!
//! Invariants of `RowLabels`:
//! 1. `spans[..extra_count]` are the extra labels, `spans[extra_count..]` the row's.
//! 2. Every span lies inside `bytes`, and spans are in push order.

#![deny(clippy::indexing_slicing)]

use std::fmt;

/// Most `extra_label` pairs a request may carry: each costs a comparison per label per row.
pub const MAX_EXTRA_LABELS: usize = 32;

/// Where one label's name and value sit in [`RowLabels::bytes`].
#[derive(Debug, Clone, Copy)]
struct LabelSpan {
    name_start: u32,
    name_end: u32,
    value_end: u32,
}

/// The labels of the row being built, plus the request's extra labels.
#[derive(Debug, Default, Clone)]
pub struct RowLabels {
    /// Concatenated names and values.
    bytes: Vec<u8>,
    /// One span per label (see the invariants in the module docs).
    spans: Vec<LabelSpan>,
    /// How many leading spans are extra labels.
    extra_count: usize,
}

impl RowLabels {
    /// A buffer whose rows all get `extra` (later duplicates of a name win).
    pub fn new(extra: &[(String, String)]) -> Self {
        let mut labels = RowLabels::default();
        for (name, value) in extra.iter().take(MAX_EXTRA_LABELS) {
            labels.push(name.as_bytes(), value.as_bytes());
        }
        labels.extra_count = labels.spans.len();
        labels
    }

    /// Forgets the row's labels, keeping the extra labels and the capacity.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Keeps the first `count` labels of the row.
    pub fn truncate(&mut self, count: usize) {
        let keep = self.extra_count.saturating_add(count);
        if keep >= self.spans.len() {
            return;
        }
        self.spans.truncate(keep);
        let end = self.spans.last().map_or(0, |s| s.value_end as usize);
        self.bytes.truncate(end);
    }

    /// Number of labels the row itself has (extra labels not counted).
    pub fn len(&self) -> usize {
        self.spans.len().saturating_sub(self.extra_count)
    }

    /// Whether the row has no labels of its own.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a label to the row.
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        let name_start = self.offset();
        self.bytes.extend_from_slice(name);
        let name_end = self.offset();
        self.bytes.extend_from_slice(value);
        self.spans.push(LabelSpan {
            name_start,
            name_end,
            value_end: self.offset(),
        });
    }

    /// Adds a label whose value is the concatenation of `value_parts` (e.g. `measurement`, `_`, `field`).
    pub fn push_joined(&mut self, name: &[u8], value_parts: &[&[u8]]) {
        let name_start = self.offset();
        self.bytes.extend_from_slice(name);
        let name_end = self.offset();
        for part in value_parts {
            self.bytes.extend_from_slice(part);
        }
        self.spans.push(LabelSpan {
            name_start,
            name_end,
            value_end: self.offset(),
        });
    }

    /// The row's final labels: its own (minus those an extra label overrides), then the extra ones.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let extra = self.spans.get(..self.extra_count).unwrap_or_default();
        let own = self.spans.get(self.extra_count..).unwrap_or_default();
        own.iter()
            .map(|s| self.pair(s))
            .filter(move |(name, _)| !extra.iter().any(|e| self.pair(e).0 == *name))
            .chain(extra.iter().map(|s| self.pair(s)))
    }

    /// The value of `name` among the final labels, if present.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn pair(&self, span: &LabelSpan) -> (&[u8], &[u8]) {
        let name = self
            .bytes
            .get(span.name_start as usize..span.name_end as usize)
            .unwrap_or_default();
        let value = self
            .bytes
            .get(span.name_end as usize..span.value_end as usize)
            .unwrap_or_default();
        (name, value)
    }

    fn offset(&self) -> u32 {
        // A row's labels are bounded by the line length limit, far below 4 GiB.
        u32::try_from(self.bytes.len()).unwrap_or(u32::MAX)
    }
}

/// Receives parsed rows, one sample each.
pub trait RowSink {
    /// Takes one sample of the series named by `labels`.
    fn row(&mut self, labels: &RowLabels, timestamp_ms: i64, value: f64);
}

/// A row copied out of a parser: handy for tests and small callers.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedRow {
    /// Final labels as strings (lossy UTF-8), in emission order.
    pub labels: Vec<(String, String)>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The value, bit-exact.
    pub value: f64,
}

impl RowSink for Vec<OwnedRow> {
    fn row(&mut self, labels: &RowLabels, timestamp_ms: i64, value: f64) {
        self.push(OwnedRow {
            labels: labels
                .iter()
                .map(|(n, v)| {
                    (
                        String::from_utf8_lossy(n).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect(),
            timestamp_ms,
            value,
        });
    }
}

/// Settings every text parser takes from the request.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// `extra_label=name=value` pairs; they override same-named labels of every row.
    pub extra_labels: Vec<(String, String)>,
    /// The timestamp of rows that carry none: the request's arrival time (ms).
    pub default_timestamp_ms: i64,
}

/// An `extra_label` query argument without `=` or with an empty name (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadExtraLabel(pub String);

impl fmt::Display for BadExtraLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "extra_label {:?} must look like name=value", self.0)
    }
}

impl std::error::Error for BadExtraLabel {}

impl ParseOptions {
    /// Adds one `extra_label=name=value` query argument (already URL-decoded), as VictoriaMetrics reads it.
    pub fn push_extra_label(&mut self, argument: &str) -> Result<(), BadExtraLabel> {
        match argument.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                self.extra_labels
                    .push((name.to_string(), value.to_string()));
                Ok(())
            }
            _ => Err(BadExtraLabel(argument.chars().take(128).collect())),
        }
    }
}

/// A line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the (decompressed) body.
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for LineError {}

/// What a parser did with a body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Rows (samples) handed to the sink.
    pub rows: u64,
    /// Lines skipped as malformed (or too long).
    pub skipped_lines: u64,
    /// The first malformed line, with its number and the reason.
    pub first_error: Option<LineError>,
}

impl ParseStats {
    /// Records a malformed line.
    pub fn skip(&mut self, line: u64, reason: impl Into<String>) {
        self.skipped_lines += 1;
        if self.first_error.is_none() {
            self.first_error = Some(LineError {
                line,
                reason: reason.into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(labels: &RowLabels) -> Vec<(&[u8], &[u8])> {
        labels.iter().collect()
    }

    #[test]
    fn extra_labels_override_and_survive_clear() {
        let mut labels = RowLabels::new(&[("job".into(), "x".into())]);
        labels.push(b"__name__", b"up");
        labels.push(b"job", b"overridden");
        labels.push(b"instance", b"a");
        assert_eq!(labels.len(), 3);
        assert_eq!(
            pairs(&labels),
            vec![
                (&b"__name__"[..], &b"up"[..]),
                (b"instance", b"a"),
                (b"job", b"x")
            ]
        );
        labels.truncate(1);
        assert_eq!(
            pairs(&labels),
            vec![(&b"__name__"[..], &b"up"[..]), (b"job", b"x")]
        );
        labels.clear();
        assert!(labels.is_empty());
        assert_eq!(pairs(&labels), vec![(&b"job"[..], &b"x"[..])]);
        labels.push_joined(b"__name__", &[b"cpu", b"_", b"usage"]);
        assert_eq!(labels.get(b"__name__"), Some(&b"cpu_usage"[..]));
    }

    #[test]
    fn extra_label_arguments() {
        let mut options = ParseOptions::default();
        options.push_extra_label("env=prod=eu").unwrap();
        options.push_extra_label("empty=").unwrap();
        assert_eq!(
            options.extra_labels,
            vec![
                ("env".into(), "prod=eu".into()),
                ("empty".into(), String::new())
            ]
        );
        assert!(options.push_extra_label("novalue").is_err());
        assert!(options.push_extra_label("=v").is_err());
    }

    #[test]
    fn stats_keep_the_first_error() {
        let mut stats = ParseStats::default();
        stats.skip(3, "bad");
        stats.skip(7, "worse");
        assert_eq!(stats.skipped_lines, 2);
        assert_eq!(
            stats.first_error.map(|e| e.to_string()),
            Some("line 3: bad".to_string())
        );
    }
}
