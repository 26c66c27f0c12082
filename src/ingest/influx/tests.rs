use proptest::prelude::*;

use super::*;
use crate::ingest::row::OwnedRow;
use crate::ingest::test_support::{chunks, mangled};

fn parse_in_chunks(
    body: &[u8],
    options: InfluxOptions,
    chunk: usize,
) -> (Vec<OwnedRow>, ParseStats) {
    let mut rows = Vec::new();
    let mut parser = InfluxParser::new(options);
    for piece in chunks(body, chunk) {
        parser.feed(piece, &mut rows);
    }
    let stats = parser.finish(&mut rows);
    (rows, stats)
}

fn parse(body: &[u8], options: InfluxOptions) -> (Vec<OwnedRow>, ParseStats) {
    parse_in_chunks(body, options, body.len())
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

fn options() -> InfluxOptions {
    InfluxOptions {
        parse: ParseOptions {
            extra_labels: vec![],
            default_timestamp_ms: 42,
        },
        precision: Precision::Nanoseconds,
        db: None,
    }
}

#[test]
fn maps_fields_to_metrics() {
    let body = b"cpu,host=a,region=eu usage=1.5,count=2i,up=true,name=\"x\" 1700000000000000000\n";
    let (rows, stats) = parse(body, options());
    let tags = [("host", "a"), ("region", "eu")];
    let with = |name: &'static str| {
        let mut labels = tags.to_vec();
        labels.push(("__name__", name));
        labels
    };
    assert_eq!(
        rows,
        vec![
            row(&with("cpu_usage"), 1_700_000_000_000, 1.5),
            row(&with("cpu_count"), 1_700_000_000_000, 2.0),
            row(&with("cpu_up"), 1_700_000_000_000, 1.0),
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
fn empty_measurement_uses_the_field_key() {
    let (rows, _) = parse(b",host=a value=3\n", options());
    assert_eq!(
        rows,
        vec![row(&[("host", "a"), ("__name__", "value")], 42, 3.0)]
    );
}

#[test]
fn db_extra_labels_and_escapes() {
    let mut opts = options();
    opts.db = Some("telegraf".into());
    opts.parse.extra_labels = vec![("host".into(), "forced".into())];
    let body = b"m\\ x,host=a,t\\=k=v\\,w f\\ 1=1\nm,db=own f=2 0\n# comment\n\n";
    let (rows, stats) = parse(body, opts);
    assert_eq!(
        rows,
        vec![
            row(
                &[
                    ("t=k", "v,w"),
                    ("db", "telegraf"),
                    ("__name__", "m x_f 1"),
                    ("host", "forced")
                ],
                42,
                1.0
            ),
            row(
                &[("db", "own"), ("__name__", "m_f"), ("host", "forced")],
                42,
                2.0
            ),
        ]
    );
    assert_eq!(stats.rows, 2);
}

#[test]
fn precisions_convert_to_millis() {
    let check = |precision: &str, timestamp: i64, want_ms: i64| {
        let mut opts = options();
        opts.precision = Precision::from_query(precision);
        let body = format!("m f=1 {timestamp}");
        let (rows, _) = parse(body.as_bytes(), opts);
        assert_eq!(rows[0].timestamp_ms, want_ms, "{precision}");
    };
    check("", 1_700_000_000_123_456_789, 1_700_000_000_123);
    check("", 1_700_000_000_123_456, 1_700_000_000_123);
    check("", 1_700_000_000_123, 1_700_000_000_123);
    check("", 1_700_000_000, 1_700_000_000_000);
    check("bogus", 1_700_000_000, 1_700_000_000_000);
    check("ns", 1_500_000_000, 1_500);
    check("us", 1_500_000, 1_500);
    check("ms", 1_500, 1_500);
    check("s", 15, 15_000);
    check("m", 2, 120_000);
    check("h", 1, 3_600_000);
    assert_eq!(Precision::Minutes.default_millis(125_000), 120_000);
    assert_eq!(Precision::Auto.default_millis(125_001), 125_001);
}

#[test]
fn bad_lines_are_skipped_and_counted() {
    let body = b"ok f=1\nnofields\nm f=abc\nm f=1 notatime\nm f=\"open\nm =1\nm,t f=1\nok2 g=2";
    let (rows, stats) = parse(body, options());
    assert_eq!(rows.len(), 2);
    assert_eq!(stats.rows, 2);
    assert_eq!(stats.skipped_lines, 6);
    let first = stats.first_error.unwrap();
    assert_eq!(first.line, 2);
    assert!(first.reason.contains("missing fields"), "{first}");
}

#[test]
fn a_bad_field_rejects_the_whole_line() {
    let (rows, stats) = parse(b"m a=1,b=x\n", options());
    assert!(rows.is_empty());
    assert_eq!(stats.skipped_lines, 1);
}

#[test]
fn chunking_does_not_change_the_result() {
    let body: &[u8] =
        b"cpu,host=a usage=1.5 1700000000000000000\r\nmem,host=b free=2i\n\nbad\nm f=\"a b\"\n";
    let whole = parse(body, options());
    for size in 1..body.len() {
        assert_eq!(
            parse_in_chunks(body, options(), size),
            whole,
            "chunk size {size}"
        );
    }
}

#[test]
fn long_lines_are_skipped() {
    let mut body = vec![b'x'; MAX_LINE_BYTES + 10];
    body.extend_from_slice(b" f=1\nm f=2\n");
    let (rows, stats) = parse_in_chunks(&body, options(), 4096);
    assert_eq!(rows.len(), 1);
    assert_eq!(stats.skipped_lines, 1);
}

proptest! {
    #[test]
    fn garbage_never_panics(body in mangled(b"cpu,host=a\\ b usage=1.5,s=\"q,\\\" \" 1700000000000000000\nm f=2i\n")) {
        let (rows, stats) = parse_in_chunks(&body, options(), 7);
        prop_assert_eq!(rows.len() as u64, stats.rows);
    }
}
