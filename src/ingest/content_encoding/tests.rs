use std::io::Write;

use proptest::prelude::*;

use super::*;

/// A compressible body of `size_bytes`.
fn body(size_bytes: usize) -> Vec<u8> {
    (0..size_bytes)
        .map(|i| b"metric_a{job=\"x\"} 1 1700000000000\n"[i % 34])
        .collect()
}

fn compress(encoding: ContentEncoding, raw: &[u8]) -> Vec<u8> {
    match encoding {
        ContentEncoding::Identity => raw.to_vec(),
        ContentEncoding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(raw).unwrap();
            e.finish().unwrap()
        }
        ContentEncoding::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(raw).unwrap();
            e.finish().unwrap()
        }
        ContentEncoding::Zstd => zstd::encode_all(raw, 1).unwrap(),
        ContentEncoding::Snappy => snap::raw::Encoder::new().compress_vec(raw).unwrap(),
    }
}

/// Decodes `compressed` fed in `chunk`-byte pieces; returns the output and the largest piece.
fn decode(
    encoding: ContentEncoding,
    compressed: &[u8],
    chunk: usize,
    limit: u64,
) -> Result<(Vec<u8>, usize), BodyError> {
    let mut out = Vec::new();
    let mut largest = 0;
    let mut collect = |piece: &[u8]| {
        largest = largest.max(piece.len());
        out.extend_from_slice(piece);
    };
    let mut decoder = BodyDecoder::new(encoding, limit)?;
    for piece in compressed.chunks(chunk.max(1)) {
        decoder.feed(piece, &mut collect)?;
    }
    decoder.finish(&mut collect)?;
    Ok((out, largest))
}

const ALL: [ContentEncoding; 5] = [
    ContentEncoding::Identity,
    ContentEncoding::Gzip,
    ContentEncoding::Deflate,
    ContentEncoding::Zstd,
    ContentEncoding::Snappy,
];

#[test]
fn header_values() {
    assert_eq!(
        ContentEncoding::from_header(None),
        Ok(ContentEncoding::Identity)
    );
    assert_eq!(
        ContentEncoding::from_header(Some(" GZIP ")),
        Ok(ContentEncoding::Gzip)
    );
    assert_eq!(
        ContentEncoding::from_header(Some("x-gzip")),
        Ok(ContentEncoding::Gzip)
    );
    assert_eq!(
        ContentEncoding::from_header(Some("none")),
        Ok(ContentEncoding::Identity)
    );
    assert_eq!(
        ContentEncoding::from_header(Some("zstd")),
        Ok(ContentEncoding::Zstd)
    );
    assert_eq!(
        ContentEncoding::from_header(Some("snappy")),
        Ok(ContentEncoding::Snappy)
    );
    assert_eq!(
        ContentEncoding::from_header(Some("deflate")),
        Ok(ContentEncoding::Deflate)
    );
    assert_eq!(
        ContentEncoding::from_header(Some("br")),
        Err(BodyError::Unsupported("br".into()))
    );
}

#[test]
fn round_trips_in_bounded_pieces() {
    let raw = body(3 * 1024 * 1024 + 17);
    for encoding in ALL {
        let compressed = compress(encoding, &raw);
        for chunk in [7, 64 * 1024, compressed.len()] {
            let (out, largest) = decode(encoding, &compressed, chunk, 1 << 30).unwrap();
            assert!(out == raw, "{encoding:?} chunk {chunk}");
            if !matches!(encoding, ContentEncoding::Identity) {
                assert!(
                    largest <= 2 * MAX_PIECE_BYTES,
                    "{encoding:?}: piece of {largest}"
                );
            }
        }
    }
}

#[test]
fn concatenated_members_and_frames() {
    for encoding in [ContentEncoding::Gzip, ContentEncoding::Zstd] {
        let mut compressed = compress(encoding, b"first\n");
        compressed.extend(compress(encoding, b"second\n"));
        let (out, _) = decode(encoding, &compressed, 3, 1 << 20).unwrap();
        assert_eq!(out, b"first\nsecond\n", "{encoding:?}");
    }
}

#[test]
fn empty_bodies_are_empty() {
    for encoding in ALL {
        assert_eq!(
            decode(encoding, b"", 10, 100).map(|r| r.0),
            Ok(vec![]),
            "{encoding:?}"
        );
    }
}

#[test]
fn truncated_and_garbage_bodies_are_corrupt() {
    let raw = body(100_000);
    for encoding in [
        ContentEncoding::Gzip,
        ContentEncoding::Zstd,
        ContentEncoding::Snappy,
    ] {
        let compressed = compress(encoding, &raw);
        let truncated = &compressed[..compressed.len() - 5];
        assert!(
            matches!(
                decode(encoding, truncated, 1000, 1 << 30),
                Err(BodyError::Corrupt { .. })
            ),
            "{encoding:?}"
        );
    }
    for encoding in [
        ContentEncoding::Gzip,
        ContentEncoding::Deflate,
        ContentEncoding::Zstd,
        ContentEncoding::Snappy,
    ] {
        assert!(
            matches!(
                decode(encoding, b"\x10\xffnot compressed at all", 4, 1 << 20),
                Err(BodyError::Corrupt { .. })
            ),
            "{encoding:?}"
        );
    }
}

#[test]
fn bombs_stop_at_the_limit() {
    let zeros = vec![0u8; 20 * 1024 * 1024];
    for encoding in ALL {
        let compressed = compress(encoding, &zeros);
        assert_eq!(
            decode(encoding, &compressed, 64 * 1024, 1024 * 1024),
            Err(BodyError::TooLarge {
                limit_bytes: 1024 * 1024
            }),
            "{encoding:?}"
        );
    }
}

proptest! {
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..400) {
        for encoding in ALL {
            let _ = decode(encoding, &bytes, 13, 1 << 20);
            let valid = compress(encoding, &bytes);
            let cut = cut.min(valid.len());
            let _ = decode(encoding, &valid[..cut], 5, 1 << 20);
        }
    }
}

#[test]
fn zstd_windows_past_the_limit_are_refused() {
    let raw = body(64 * 1024);
    let wide = |window_log: u32| {
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.window_log(window_log).unwrap();
        encoder.write_all(&raw).unwrap();
        encoder.finish().unwrap()
    };
    assert!(decode(
        ContentEncoding::Zstd,
        &wide(ZSTD_WINDOW_LOG_MAX),
        4096,
        1 << 30
    )
    .is_ok());
    let refused = decode(ContentEncoding::Zstd, &wide(27), 4096, 1 << 30);
    assert!(
        matches!(&refused, Err(BodyError::Corrupt { reason, .. }) if reason.contains("memory")),
        "{refused:?}"
    );
}
