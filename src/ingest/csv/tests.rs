use proptest::prelude::*;

use super::*;
use crate::ingest::row::OwnedRow;
use crate::ingest::test_support::{chunks, mangled};

const FORMAT: &str = "2:metric:ask,3:metric:bid,1:label:ticker,4:label:market,5:time:unix_s";

fn parse_in_chunks(format: &str, body: &[u8], chunk: usize) -> (Vec<OwnedRow>, ParseStats) {
    let options = ParseOptions {
        extra_labels: vec![("market".into(), "forced".into())],
        default_timestamp_ms: 7,
    };
    let mut rows = Vec::new();
    let mut parser = CsvParser::new(format, &options).unwrap();
    for piece in chunks(body, chunk) {
        parser.feed(piece, &mut rows);
    }
    let stats = parser.finish(&mut rows);
    (rows, stats)
}

fn row(labels: &[(&str, &str)], timestamp_ms: i64, value: f64) -> OwnedRow {
    OwnedRow {
        labels: labels
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        timestamp_ms,
        value,
    }
}

#[test]
fn rows_per_metric_column() {
    let body = b"GOOG,1.23,4.56,NYSE,1700000000\r\n\"MS,FT\",3.21,,NASDAQ,0,extra\n\n";
    let (rows, stats) = parse_in_chunks(FORMAT, body, body.len());
    assert_eq!(
        rows,
        vec![
            row(
                &[
                    ("ticker", "GOOG"),
                    ("__name__", "ask"),
                    ("market", "forced")
                ],
                1_700_000_000_000,
                1.23
            ),
            row(
                &[
                    ("ticker", "GOOG"),
                    ("__name__", "bid"),
                    ("market", "forced")
                ],
                1_700_000_000_000,
                4.56
            ),
            row(
                &[
                    ("ticker", "MS,FT"),
                    ("__name__", "ask"),
                    ("market", "forced")
                ],
                7,
                3.21
            ),
        ]
    );
    assert_eq!(
        stats,
        ParseStats {
            rows: 3,
            skipped_lines: 0,
            first_error: None
        }
    );
}

#[test]
fn quoted_cells() {
    let (rows, _) = parse_in_chunks("1:label:a,2:metric:m", b"\"say \"\"hi\"\"\",\"2\"", 100);
    assert_eq!(
        rows,
        vec![row(
            &[("a", "say \"hi\""), ("__name__", "m"), ("market", "forced")],
            7,
            2.0
        )]
    );
}

#[test]
fn bad_lines_are_skipped_and_counted() {
    let body = b"A,1,2,X,1700000000
A,x,2,X,1
A,1,2,X,never
\"A,1,2
\"A\"B,1,2,X,1
A,,
B,5,6,X,1";
    let (rows, stats) = parse_in_chunks(FORMAT, body, 3);
    assert_eq!(rows.len(), 4);
    assert_eq!(stats.skipped_lines, 5);
    let first = stats.first_error.unwrap();
    assert_eq!(first.line, 2);
    assert!(first.reason.contains("ask"), "{first}");
}

#[test]
fn short_lines_with_a_value_are_kept() {
    let (rows, stats) = parse_in_chunks(FORMAT, b"A,1", 100);
    assert_eq!(rows.len(), 1);
    assert_eq!(stats.skipped_lines, 0);
}

#[test]
fn bad_format_is_an_error() {
    assert!(CsvParser::new("1:label:x", &ParseOptions::default()).is_err());
}

proptest! {
    #[test]
    fn garbage_never_panics(body in mangled(b"GOOG,1.23,4.56,NYSE,1700000000\n\"MS,\"\"FT\",3.21,,NASDAQ,0\n")) {
        let (rows, stats) = parse_in_chunks(FORMAT, &body, 5);
        prop_assert_eq!(rows.len() as u64, stats.rows);
        let (rows, stats) = parse_in_chunks("1:time:rfc3339,2:metric:m", &body, 64);
        prop_assert_eq!(rows.len() as u64, stats.rows);
    }
}
