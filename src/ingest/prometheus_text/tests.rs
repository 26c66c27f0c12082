use proptest::prelude::*;

use super::*;
use crate::ingest::row::OwnedRow;
use crate::ingest::test_support::{chunks, mangled};

const EXPOSITION: &[u8] = b"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000
http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000

# A histogram
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile=\"0.5\"} NaN
rpc_duration_seconds_sum 1.7560473e+07
metric_without_timestamp_and_labels 12.47
bad line here
";

fn parse_in_chunks(body: &[u8], format: TextFormat, chunk: usize) -> (Vec<OwnedRow>, TextOutcome) {
    let options = ParseOptions {
        extra_labels: vec![("job".into(), "import".into())],
        default_timestamp_ms: 99,
    };
    let mut rows = Vec::new();
    let mut parser = PrometheusTextParser::new(format, &options);
    for piece in chunks(body, chunk) {
        parser.feed(piece, &mut rows);
    }
    let outcome = parser.finish(&mut rows);
    (rows, outcome)
}

#[test]
fn parses_an_exposition() {
    let (rows, outcome) = parse_in_chunks(EXPOSITION, TextFormat::Prometheus, EXPOSITION.len());
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[0].labels,
        vec![
            ("__name__".to_string(), "http_requests_total".to_string()),
            ("method".into(), "post".into()),
            ("code".into(), "200".into()),
            ("job".into(), "import".into()),
        ]
    );
    assert_eq!(rows[0].timestamp_ms, 1395066363000);
    assert_eq!(rows[1].value, 3.0);
    assert!(rows[2].value.is_nan());
    assert_eq!(rows[2].timestamp_ms, 99);
    assert_eq!(rows[3].value, 1.7560473e7);
    assert_eq!(outcome.stats.rows, 5);
    assert_eq!(outcome.stats.skipped_lines, 1);
    assert_eq!(outcome.stats.first_error.as_ref().map(|e| e.line), Some(11));
    assert_eq!(
        outcome.metadata.get("http_requests_total"),
        Some(&FamilyMetadata {
            metric_type: Some(MetricType::Counter),
            help: Some("The total number of HTTP requests.".into()),
            unit: None,
        })
    );
    assert_eq!(
        outcome
            .metadata
            .get("rpc_duration_seconds")
            .and_then(|f| f.metric_type),
        Some(MetricType::Summary)
    );
    assert!(!outcome.saw_eof);
}

#[test]
fn open_metrics_with_exemplars_and_eof() {
    let body = b"# TYPE foo counter
# UNIT foo seconds
foo_total{a=\"b\"} 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67
foo_created 1520430000.123
# EOF
late 1
";
    let (rows, outcome) = parse_in_chunks(body, TextFormat::OpenMetrics, 5);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].timestamp_ms, 1_520_879_607_789);
    assert_eq!(rows[0].value, 17.0);
    assert!(outcome.saw_eof);
    assert_eq!(outcome.stats.skipped_lines, 1);
    assert_eq!(
        outcome.metadata.get("foo").and_then(|f| f.unit.clone()),
        Some("seconds".into())
    );
}

#[test]
fn chunking_does_not_change_the_result() {
    let whole = parse_in_chunks(EXPOSITION, TextFormat::Prometheus, EXPOSITION.len());
    for size in [1, 2, 3, 7, 64] {
        let (rows, outcome) = parse_in_chunks(EXPOSITION, TextFormat::Prometheus, size);
        assert_eq!(outcome, whole.1);
        assert_eq!(
            format!("{rows:?}"),
            format!("{:?}", whole.0),
            "chunk size {size}"
        );
    }
}

proptest! {
    #[test]
    fn garbage_never_panics(body in mangled(EXPOSITION)) {
        let (rows, outcome) = parse_in_chunks(&body, TextFormat::Prometheus, 11);
        prop_assert_eq!(rows.len() as u64, outcome.stats.rows);
        let (rows, outcome) = parse_in_chunks(&body, TextFormat::OpenMetrics, 3);
        prop_assert_eq!(rows.len() as u64, outcome.stats.rows);
    }
}

#[test]
fn format_from_content_type() {
    assert_eq!(
        TextFormat::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        TextFormat::OpenMetrics
    );
    assert_eq!(
        TextFormat::from_content_type("text/plain; version=0.0.4"),
        TextFormat::Prometheus
    );
    assert_eq!(TextFormat::from_content_type(""), TextFormat::Prometheus);
}

proptest! {
    #[test]
    fn escaped_label_values_read_back(value in "[a-z \"\\\\\n#{},=é]{0,20}", number in any::<f64>()) {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let line = format!("m{{l=\"{escaped}\"}} {number:?}\n");
        let (rows, outcome) = parse_in_chunks(line.as_bytes(), TextFormat::Prometheus, 4);
        prop_assert_eq!(outcome.stats.skipped_lines, 0, "{}", line);
        prop_assert_eq!(&rows[0].labels[1], &("l".to_string(), value));
        prop_assert!(rows[0].value.to_bits() == number.to_bits() || (number.is_nan() && rows[0].value.is_nan()));
    }
}
