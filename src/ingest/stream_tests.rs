//! The pieces together, as the HTTP layer will use them: a compressed body
//! arriving in chunks → [`BodyDecoder`] → a parser → [`ShardSink`], with the
//! batches handed over as they fill, so memory stays bounded.

use std::io::Write;

use super::content_encoding::{BodyDecoder, ContentEncoding};
use super::influx::{InfluxOptions, InfluxParser};
use super::remote_write::decode::LabelLimits;
use super::shard_sink::FLUSH_SAMPLES;
use super::ShardSink;

const LIMITS: LabelLimits = LabelLimits {
    max_labels: 30,
    max_name_bytes: 256,
    max_value_bytes: 1024,
};

#[test]
fn gzip_influx_body_streams_into_bounded_batches() {
    let lines = 250_000u64;
    let mut raw = Vec::new();
    for i in 0..lines {
        writeln!(
            raw,
            "cpu,host=h{} usage={i},idle={i}i {}",
            i % 100,
            i * 1_000_000
        )
        .unwrap();
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&raw).unwrap();
    let body = encoder.finish().unwrap();

    let mut decoder = BodyDecoder::new(ContentEncoding::Gzip, 1 << 30).unwrap();
    let mut parser = InfluxParser::new(InfluxOptions::default());
    let mut sink = ShardSink::new(4, LIMITS);
    let (mut flushed_samples, mut largest_flush) = (0usize, 0usize);
    let mut flush = |sink: &mut ShardSink| {
        let pending = sink.pending_samples();
        largest_flush = largest_flush.max(pending);
        flushed_samples += pending;
        sink.take_batches();
    };
    for chunk in body.chunks(8 * 1024) {
        decoder
            .feed(chunk, &mut |piece| parser.feed(piece, &mut sink))
            .unwrap();
        if sink.is_full() {
            flush(&mut sink);
        }
    }
    decoder
        .finish(&mut |piece| parser.feed(piece, &mut sink))
        .unwrap();
    let stats = parser.finish(&mut sink);
    flush(&mut sink);

    assert_eq!(stats.rows, 2 * lines);
    assert_eq!(stats.skipped_lines, 0);
    assert_eq!(flushed_samples as u64, 2 * lines);
    // One decompressed piece can add at most ~1 MiB of lines past the threshold.
    assert!(largest_flush < FLUSH_SAMPLES + 100_000, "{largest_flush}");
}
