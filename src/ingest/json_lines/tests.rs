use proptest::prelude::*;

use super::*;
use crate::ingest::remote_write::decode::LabelLimits;
use crate::ingest::row::OwnedRow;
use crate::ingest::test_support::{chunks, mangled};
use crate::ingest::{IngestBatch, ShardSink};
use crate::model::Labels;

const LIMITS: LabelLimits = LabelLimits {
    max_labels: 30,
    max_name_bytes: 256,
    max_value_bytes: 4096,
};

fn parse_in_chunks(body: &[u8], chunk: usize, sink: &mut impl RowSink) -> ParseStats {
    let options = ParseOptions::default();
    let mut parser = JsonLinesParser::new(&options);
    for piece in chunks(body, chunk) {
        parser.feed(piece, sink);
    }
    parser.finish(sink)
}

fn rows(body: &[u8]) -> (Vec<OwnedRow>, ParseStats) {
    let mut rows = Vec::new();
    let stats = parse_in_chunks(body, body.len(), &mut rows);
    (rows, stats)
}

fn export(batches: &[IngestBatch]) -> Vec<u8> {
    let mut out = Vec::new();
    for batch in batches {
        for (labels, timestamps, values) in batch.iter() {
            write_series(&mut out, labels, timestamps, values).unwrap();
        }
    }
    out
}

/// Imports `body` into one shard and exports it again.
fn reexport(body: &[u8], chunk: usize) -> (Vec<u8>, ParseStats) {
    let mut sink = ShardSink::new(1, LIMITS);
    let stats = parse_in_chunks(body, chunk, &mut sink);
    (export(&sink.take_batches()), stats)
}

#[test]
fn imports_values_and_special_strings() {
    let body = br#"{"metric":{"__name__":"m","k":"v"},"values":[1,"NaN",null,"-Inf","+Inf","infinity",2.5e3],"timestamps":[1,2,3,4,5,6,7],"extra":{"x":[1]}}"#;
    let (rows, stats) = rows(body);
    assert_eq!(stats.rows, 7);
    assert_eq!(
        rows[0].labels,
        vec![
            ("__name__".to_string(), "m".to_string()),
            ("k".into(), "v".into())
        ]
    );
    let values: Vec<f64> = rows.iter().map(|r| r.value).collect();
    assert_eq!(values[0], 1.0);
    assert!(values[1].is_nan() && values[2].is_nan());
    assert_eq!(
        &values[3..],
        &[f64::NEG_INFINITY, f64::INFINITY, f64::INFINITY, 2500.0]
    );
    assert_eq!(rows[6].timestamp_ms, 7);
}

#[test]
fn bad_lines_are_skipped_and_counted() {
    let body = b"{\"metric\":{\"__name__\":\"ok\"},\"values\":[1],\"timestamps\":[1]}
{\"metric\":{},\"values\":[1],\"timestamps\":[1]}
{\"metric\":{\"a\":\"b\"},\"values\":[],\"timestamps\":[]}
{\"metric\":{\"a\":\"b\"},\"values\":[1,2],\"timestamps\":[1]}
{\"metric\":{\"a\":\"b\"},\"values\":[\"x\"],\"timestamps\":[1]}
{\"metric\":{\"a\":\"b\"},\"values\":[1],\"timestamps\":[1.5]}
{\"metric\":{\"a\":1},\"values\":[1],\"timestamps\":[1]}
{\"metric\":{\"a\":\"b\"},\"values\":[1],\"timestamps\":[1]} trailing
not json

{\"metric\":{\"__name__\":\"ok2\"},\"values\":[2],\"timestamps\":[2]}";
    let (rows, stats) = rows(body);
    assert_eq!(rows.len(), 2);
    assert_eq!(stats.skipped_lines, 8);
    let first = stats.first_error.unwrap();
    assert_eq!(first.line, 2);
    assert!(first.reason.contains("metric"), "{first}");
}

#[test]
fn export_import_export_is_byte_identical() {
    let labels = Labels::from_pairs([("__name__", "m"), ("Zone", "q\"\\\n\u{7}é😀"), ("job", "j")]);
    let values = [
        0.0,
        -0.0,
        1.0,
        0.1,
        -1.5e-7,
        1e300,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        f64::NAN,
        f64::from_bits(crate::model::STALE_NAN_BITS),
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let timestamps: Vec<i64> = (0..values.len() as i64)
        .map(|i| 1_700_000_000_000 + i)
        .collect();
    let mut first = Vec::new();
    write_series(&mut first, &labels.to_canonical(), &timestamps, &values).unwrap();
    let other = Labels::from_pairs([("__name__", "other")]);
    write_series(&mut first, &other.to_canonical(), &[-5], &[42.0]).unwrap();
    for chunk in [1, 13, first.len()] {
        let (second, stats) = reexport(&first, chunk);
        assert_eq!(stats.skipped_lines, 0);
        assert_eq!(
            String::from_utf8_lossy(&second),
            String::from_utf8_lossy(&first),
            "chunk {chunk}"
        );
    }
    let mut sink = ShardSink::new(1, LIMITS);
    parse_in_chunks(&first, 7, &mut sink);
    let batches = sink.take_batches();
    let (_, _, got) = batches[0].iter().next().unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let mut want = bits(&values);
    want[9] = f64::NAN.to_bits();
    assert_eq!(bits(got), want);
}

proptest! {
    #[test]
    fn round_trips_any_value(
        bits in proptest::collection::vec(any::<u64>(), 1..20),
        value in "[a-zA-Z0-9 \"\\\\\n\t\u{1}é]{1,20}",
    ) {
        let values: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).map(|v| {
            if v.is_nan() && !crate::model::is_stale_nan(v) { f64::NAN } else { v }
        }).collect();
        let timestamps: Vec<i64> = (0..values.len() as i64).collect();
        let labels = Labels::from_pairs([("__name__", "m"), ("l", value.as_str())]);
        let mut first = Vec::new();
        write_series(&mut first, &labels.to_canonical(), &timestamps, &values).unwrap();
        let (second, stats) = reexport(&first, 5);
        prop_assert_eq!(stats.skipped_lines, 0);
        prop_assert_eq!(second, first);
    }

    #[test]
    fn garbage_never_panics(body in mangled(b"{\"metric\":{\"__name__\":\"m\",\"k\":\"v\\u00e9\"},\"values\":[1,\"NaN\",null],\"timestamps\":[1,2,3]}\n{\"metric\":{\"a\":\"b\"},\"values\":[1],\"timestamps\":[1]}\n")) {
        let mut rows = Vec::new();
        let stats = parse_in_chunks(&body, 9, &mut rows);
        prop_assert_eq!(rows.len() as u64, stats.rows);
    }
}

#[test]
fn long_lines_are_skipped_by_the_chosen_limit() {
    let body = b"{\"metric\":{\"a\":\"b\"},\"values\":[1,2,3,4,5,6,7,8,9],\"timestamps\":[1,2,3,4,5,6,7,8,9]}\n{\"metric\":{\"a\":\"b\"},\"values\":[1],\"timestamps\":[1]}\n";
    let mut parser = JsonLinesParser::with_max_line_bytes(&ParseOptions::default(), 60);
    let mut rows = Vec::new();
    parser.feed(body, &mut rows);
    let stats = parser.finish(&mut rows);
    assert_eq!(rows.len(), 1);
    assert_eq!(stats.skipped_lines, 1);
    assert!(stats.first_error.unwrap().reason.contains("longer than"));
}
