//! `# HELP`, `# TYPE` and `# UNIT` comment lines: metric family metadata.

use std::collections::BTreeMap;
use std::fmt;

/// Most metric families whose metadata one body may define: bounds memory for hostile bodies.
pub const MAX_FAMILIES: usize = 10_000;

/// A metric family's type, as `# TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics).
    GaugeHistogram,
    /// `summary`.
    Summary,
    /// `info` (OpenMetrics).
    Info,
    /// `stateset` (OpenMetrics).
    StateSet,
    /// `untyped` or `unknown`.
    Unknown,
}

impl MetricType {
    /// Parses a `# TYPE` word.
    pub fn from_word(word: &[u8]) -> Option<Self> {
        Some(match word {
            b"counter" => MetricType::Counter,
            b"gauge" => MetricType::Gauge,
            b"histogram" => MetricType::Histogram,
            b"gaugehistogram" => MetricType::GaugeHistogram,
            b"summary" => MetricType::Summary,
            b"info" => MetricType::Info,
            b"stateset" => MetricType::StateSet,
            b"untyped" | b"unknown" => MetricType::Unknown,
            _ => return None,
        })
    }
}

/// What the comments say about one metric family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyMetadata {
    /// From `# TYPE`.
    pub metric_type: Option<MetricType>,
    /// From `# HELP`, unescaped.
    pub help: Option<String>,
    /// From `# UNIT`.
    pub unit: Option<String>,
}

/// Metadata by family name.
pub type Metadata = BTreeMap<String, FamilyMetadata>;

/// A comment line that is metadata but malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// `# TYPE`, `# HELP` or `# UNIT` without a family name.
    MissingName,
    /// `# TYPE` with a word that is not a type.
    UnknownType(String),
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::MissingName => f.write_str("metadata comment without a metric name"),
            MetadataError::UnknownType(t) => write!(f, "unknown metric type {t:?}"),
        }
    }
}

impl std::error::Error for MetadataError {}

/// What a comment line was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comment {
    /// `# EOF`: the end of an OpenMetrics body.
    Eof,
    /// Metadata, recorded.
    Metadata,
    /// Any other comment, ignored.
    Other,
}

/// Reads a line starting with `#` and records any metadata into `metadata`.
pub fn parse_comment(line: &[u8], metadata: &mut Metadata) -> Result<Comment, MetadataError> {
    let body = line.strip_prefix(b"#").unwrap_or(line).trim_ascii();
    if body == b"EOF" {
        return Ok(Comment::Eof);
    }
    let mut words = body.splitn(2, |&b| b == b' ' || b == b'\t');
    let keyword = words.next().unwrap_or_default();
    if !matches!(keyword, b"HELP" | b"TYPE" | b"UNIT") {
        return Ok(Comment::Other);
    }
    let rest = words.next().unwrap_or_default().trim_ascii_start();
    let name_end = rest
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(rest.len());
    let (name, text) = rest.split_at(name_end);
    if name.is_empty() {
        return Err(MetadataError::MissingName);
    }
    let text = text.trim_ascii();
    let metric_type = if keyword == b"TYPE" {
        Some(MetricType::from_word(text).ok_or_else(|| MetadataError::UnknownType(lossy(text)))?)
    } else {
        None
    };
    let name = String::from_utf8_lossy(name).into_owned();
    if metadata.len() >= MAX_FAMILIES && !metadata.contains_key(&name) {
        return Ok(Comment::Metadata);
    }
    let family = metadata.entry(name).or_default();
    match keyword {
        b"TYPE" => family.metric_type = metric_type,
        b"HELP" => family.help = Some(unescape_help(text)),
        _ => family.unit = Some(lossy(text)),
    }
    Ok(Comment::Metadata)
}

/// HELP text unescapes `\\` and `\n` (and `\"` in OpenMetrics).
fn unescape_help(text: &[u8]) -> String {
    let mut out = Vec::with_capacity(text.len());
    super::sample::unescape_into(text, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_help_type_unit() {
        let mut metadata = Metadata::new();
        let lines: [&[u8]; 5] = [
            b"# HELP http_requests_total The total\\nnumber of \\\\ requests.",
            b"# TYPE http_requests_total counter",
            b"# UNIT http_requests_total requests",
            b"# just a comment",
            b"#TYPE x gauge",
        ];
        for line in lines {
            parse_comment(line, &mut metadata).unwrap();
        }
        assert_eq!(
            metadata.get("http_requests_total"),
            Some(&FamilyMetadata {
                metric_type: Some(MetricType::Counter),
                help: Some("The total\nnumber of \\ requests.".into()),
                unit: Some("requests".into()),
            })
        );
        assert_eq!(
            metadata.get("x").and_then(|f| f.metric_type),
            Some(MetricType::Gauge)
        );
        assert_eq!(parse_comment(b"# EOF", &mut metadata), Ok(Comment::Eof));
        assert_eq!(
            parse_comment(b"# HELP", &mut metadata),
            Err(MetadataError::MissingName)
        );
        assert!(matches!(
            parse_comment(b"# TYPE a flute", &mut metadata),
            Err(MetadataError::UnknownType(_))
        ));
    }

    #[test]
    fn family_count_is_bounded() {
        let mut metadata = Metadata::new();
        for i in 0..MAX_FAMILIES + 5 {
            parse_comment(format!("# TYPE m{i} gauge").as_bytes(), &mut metadata).unwrap();
        }
        assert_eq!(metadata.len(), MAX_FAMILIES);
    }
}
