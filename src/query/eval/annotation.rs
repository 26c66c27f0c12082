//! Annotations: the warnings and infos Prometheus returns beside a result
//! (`PromQL warning: …`, `PromQL info: …`), each pointing at a sub-expression.

use crate::query::promql::Span;

/// Whether an annotation is a warning or an info.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnnotationKind {
    /// Returned in the API's `warnings`.
    Warning,
    /// Returned in the API's `infos`.
    Info,
}

/// One annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Warning or info.
    pub kind: AnnotationKind,
    /// The text after the `PromQL warning: `/`PromQL info: ` prefix.
    pub text: String,
    /// The sub-expression it is about.
    pub span: Span,
}

impl Annotation {
    /// The text Prometheus shows: prefix, text and `(line:column)` of the span start in `query`.
    pub fn render(&self, query: &str) -> String {
        let prefix = match self.kind {
            AnnotationKind::Warning => "PromQL warning",
            AnnotationKind::Info => "PromQL info",
        };
        let position = query.get(..self.span.start).map_or_else(
            || "unknown position".to_string(),
            |before| {
                let line = before.matches('\n').count() + 1;
                let column = self.span.start - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{line}:{column}")
            },
        );
        format!("{prefix}: {} ({position})", self.text)
    }
}

/// The annotations of one query, without duplicates, in the order first raised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotations(Vec<Annotation>);

impl Annotations {
    /// Adds an annotation unless the same one is already there.
    pub fn add(&mut self, kind: AnnotationKind, text: String, span: Span) {
        let annotation = Annotation { kind, text, span };
        if !self.0.contains(&annotation) {
            self.0.push(annotation);
        }
    }

    /// All annotations.
    pub fn iter(&self) -> std::slice::Iter<'_, Annotation> {
        self.0.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `rate`/`increase` over a series whose name does not look like a counter's.
pub(crate) fn possible_non_counter(metric_name: &str) -> String {
    format!(
        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric_name:?}"
    )
}

/// A quantile outside [0, 1] (or NaN).
pub(crate) fn invalid_quantile(q: f64) -> String {
    let q = if q.is_nan() {
        "NaN".to_string()
    } else if q.is_infinite() {
        if q > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{q}")
    };
    format!("quantile value should be between 0 and 1, got {q}")
}

/// A classic bucket series without a parsable `le`.
pub(crate) fn bad_bucket_label(metric_name: &str, le: &str) -> String {
    format!("bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {metric_name:?}")
}

/// Classic bucket counts that had to be made monotonic.
pub(crate) fn forced_monotonicity(metric_name: &str) -> String {
    format!("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {metric_name:?}")
}

/// `sort*` in a range query.
pub(crate) const SORT_IN_RANGE_QUERY: &str =
    "sort is ineffective for range queries since results are always ordered by labels";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_and_column() {
        let a = Annotation {
            kind: AnnotationKind::Info,
            text: possible_non_counter("x"),
            span: Span::new(5, 10),
        };
        assert_eq!(
            a.render("rate(x[5m])"),
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"x\" (1:6)"
        );
        assert!(a.render("sum(\n rate(x[5m]))").ends_with("(2:1)"));
    }
}
