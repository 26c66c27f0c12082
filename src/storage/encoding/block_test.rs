//! Block-level tests: the contract every encoding kind must meet, realistic
//! sizes in bytes per sample, and a timing figure (ignored by default).

use super::*;
use crate::model::STALE_NAN_BITS;
use std::collections::HashSet;

/// A small deterministic generator (splitmix64), so sizes are reproducible.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    pub(super) fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next_u64() % (high - low + 1) as u64) as i64
    }
}

pub(super) fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// An encoded block, as a part would store it.
pub(super) struct Encoded {
    pub(super) encoding: BlockEncoding,
    pub(super) header: Vec<u8>,
    pub(super) timestamps: Vec<u8>,
    pub(super) values: Vec<u8>,
}

impl Encoded {
    pub(super) fn size(&self) -> usize {
        self.header.len() + self.timestamps.len() + self.values.len()
    }
}

/// Encodes a block and asserts that it decodes back bit-exactly.
pub(super) fn round_trip(timestamps: &[i64], values: &[f64], zstd_level: i32) -> Encoded {
    let mut timestamps_out = vec![0xAB];
    let mut values_out = vec![0xCD];
    let encoding = encode_block(
        timestamps,
        values,
        zstd_level,
        &mut timestamps_out,
        &mut values_out,
    );
    assert_eq!(timestamps_out[0], 0xAB, "encoder must append");
    assert_eq!(values_out[0], 0xCD, "encoder must append");
    let mut header = Vec::new();
    encoding.encode(&mut header);
    let (decoded_encoding, rest) = BlockEncoding::decode(&header).unwrap();
    assert_eq!(decoded_encoding, encoding);
    assert!(rest.is_empty());

    let mut decoded_timestamps = vec![1, 2, 3];
    let mut decoded_values = vec![4.0];
    decode_block(
        &decoded_encoding,
        timestamps.len(),
        &timestamps_out[1..],
        &values_out[1..],
        &mut decoded_timestamps,
        &mut decoded_values,
    )
    .unwrap_or_else(|e| panic!("{e} for {encoding:?}"));
    assert_eq!(decoded_timestamps, timestamps, "timestamps of {encoding:?}");
    assert_eq!(
        bits(&decoded_values),
        bits(values),
        "values of {encoding:?}"
    );
    Encoded {
        encoding,
        header,
        timestamps: timestamps_out.split_off(1),
        values: values_out.split_off(1),
    }
}

/// Decodes possibly corrupt bytes; must not panic, and on success must fill `rows` rows.
pub(super) fn decode_anything(
    decoder: &mut BlockDecoder,
    header: &[u8],
    rows: usize,
    timestamps: &[u8],
    values: &[u8],
) -> Result<(), DecodeError> {
    let (encoding, _) = BlockEncoding::decode(header)?;
    let mut decoded_timestamps = Vec::new();
    let mut decoded_values = Vec::new();
    decoder.decode(
        &encoding,
        rows,
        timestamps,
        values,
        &mut decoded_timestamps,
        &mut decoded_values,
    )?;
    assert_eq!(decoded_timestamps.len(), rows);
    assert_eq!(decoded_values.len(), rows);
    Ok(())
}

/// Scrape timestamps every `interval_ms` with ±`jitter_ms` of noise.
pub(super) fn scrape_timestamps(
    rng: &mut Rng,
    rows: usize,
    interval_ms: i64,
    jitter_ms: i64,
) -> Vec<i64> {
    let start = 1_700_000_000_000;
    (0..rows as i64)
        .map(|i| start + i * interval_ms + rng.range(-jitter_ms, jitter_ms))
        .collect()
}

/// A counter adding 90..=110 per scrape, reset to zero at `reset_at`.
pub(super) fn counter(rng: &mut Rng, rows: usize, reset_at: usize) -> Vec<f64> {
    let mut total = 123_456.0;
    (0..rows)
        .map(|i| {
            if i == reset_at {
                total = 0.0;
            }
            total += rng.range(90, 110) as f64;
            total
        })
        .collect()
}

/// A gauge with 2 decimals wandering by up to ±0.50 per scrape.
pub(super) fn gauge(rng: &mut Rng, rows: usize) -> Vec<f64> {
    let mut hundredths: i64 = 4_321;
    (0..rows)
        .map(|_| {
            hundredths += rng.range(-50, 50);
            hundredths as f64 / 100.0
        })
        .collect()
}

fn contract_cases() -> Vec<(&'static str, Vec<i64>, Vec<f64>)> {
    let mut rng = Rng::new(7);
    let stale = f64::from_bits(STALE_NAN_BITS);
    let regular: Vec<i64> = (0..500).map(|i| 1_000 + 15_000 * i).collect();
    let jittered = scrape_timestamps(&mut rng, 500, 10_000, 5);
    let random_ts: Vec<i64> = (0..300).map(|_| rng.next_u64() as i64).collect();
    let random_bits: Vec<f64> = (0..300).map(|_| f64::from_bits(rng.next_u64())).collect();
    let mut counter_with_stale = counter(&mut rng, 500, 200);
    counter_with_stale[499] = stale;
    let ratios: Vec<f64> = (1..=500).map(|i| 1.0 / f64::from(i)).collect();
    let missed_scrapes: Vec<i64> = (0..500)
        .map(|i| 30_000 * i + if i > 250 { 30_000 } else { 0 } + rng.range(-3, 3))
        .collect();
    let noisy_trend: Vec<f64> = (0..500)
        .map(|i| (1_000 * i + rng.range(-40, 40)) as f64)
        .collect();
    vec![
        ("empty", vec![], vec![]),
        ("one row", vec![-5], vec![0.25]),
        ("constant", vec![7; 500], vec![1.0; 500]),
        (
            "regular, counter",
            regular.clone(),
            counter(&mut rng, 500, 600),
        ),
        ("jittered, gauge", jittered.clone(), gauge(&mut rng, 500)),
        ("short gauge", vec![1, 2, 3, 5], vec![0.5, 0.75, 0.5, 0.75]),
        (
            "progression",
            regular.clone(),
            (0..500).map(f64::from).collect(),
        ),
        ("stale marker", jittered.clone(), counter_with_stale),
        ("all stale", regular.clone(), vec![stale; 500]),
        ("constant then stale", regular.clone(), {
            let mut values = vec![1.0; 500];
            values[499] = stale;
            values
        }),
        ("ratios", jittered, ratios),
        ("missed scrapes, noisy trend", missed_scrapes, noisy_trend),
        ("random", random_ts, random_bits),
        (
            "extremes",
            vec![i64::MIN, i64::MAX, 0, -1, i64::MIN, i64::MIN, i64::MAX],
            vec![
                f64::MAX,
                f64::MIN_POSITIVE,
                5e-324,
                -0.0,
                f64::NEG_INFINITY,
                f64::NAN,
                f64::from_bits(0x7ff0_0000_0000_0001),
            ],
        ),
    ]
}

/// The contract every encoding meets, checked over inputs that between them
/// use every integer kind, every values kind, and zstd on and off.
#[test]
fn every_encoding_meets_the_contract() {
    let mut seen = HashSet::new();
    let mut decoder = BlockDecoder::new();
    for (name, timestamps, values) in contract_cases() {
        for zstd_level in [1, 3, 19] {
            let block = round_trip(&timestamps, &values, zstd_level);
            let encoding = block.encoding;
            seen.insert(format!("ts {:?}", encoding.timestamps));
            seen.insert(format!("ts zstd {}", encoding.timestamps_compressed));
            seen.insert(format!("values zstd {}", encoding.values_compressed));
            match encoding.values {
                ValueEncoding::Decimal { mantissas, .. } => {
                    seen.insert(format!("decimal {mantissas:?}"));
                }
                ValueEncoding::DecimalWithExceptions { mantissas, .. } => {
                    seen.insert(format!("decimal with exceptions {mantissas:?}"));
                }
                ValueEncoding::Xor => {
                    seen.insert("xor".to_string());
                }
            }
            check_corruption(&mut decoder, name, &block, timestamps.len());
        }
    }
    let mut want: Vec<String> = vec![
        "xor".into(),
        "ts zstd true".into(),
        "ts zstd false".into(),
        "values zstd true".into(),
        "values zstd false".into(),
        "decimal with exceptions Const".into(),
        "decimal with exceptions Delta".into(),
    ];
    for kind in IntEncoding::ALL {
        want.push(format!("ts {kind:?}"));
        want.push(format!("decimal {kind:?}"));
    }
    for kind in want {
        assert!(seen.contains(&kind), "no case uses {kind}; seen {seen:?}");
    }
}

/// Every strict prefix of a column is an error; flipped bytes never panic.
fn check_corruption(decoder: &mut BlockDecoder, name: &str, block: &Encoded, rows: usize) {
    let (header, ts, vs) = (&block.header, &block.timestamps, &block.values);
    for cut in 0..ts.len() {
        let result = decode_anything(decoder, header, rows, &ts[..cut], vs);
        assert!(result.is_err(), "{name}: timestamps cut at {cut} decoded");
    }
    for cut in 0..vs.len() {
        let result = decode_anything(decoder, header, rows, ts, &vs[..cut]);
        assert!(result.is_err(), "{name}: values cut at {cut} decoded");
    }
    for cut in 0..header.len() {
        assert!(decode_anything(decoder, &header[..cut], rows, ts, vs).is_err());
    }
    let mut longer = vs.clone();
    longer.push(0);
    if !block.encoding.values_compressed {
        assert!(decode_anything(decoder, header, rows, ts, &longer).is_err());
    }
    for (column, bytes) in [(0, header), (1, ts), (2, vs)] {
        for index in (0..bytes.len()).step_by(bytes.len() / 64 + 1) {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[index] ^= flip;
                let _ = match column {
                    0 => decode_anything(decoder, &bad, rows, ts, vs),
                    1 => decode_anything(decoder, header, rows, &bad, vs),
                    _ => decode_anything(decoder, header, rows, ts, &bad),
                };
            }
        }
    }
    assert_eq!(
        decode_anything(decoder, header, MAX_ROWS_PER_BLOCK + 1, ts, vs),
        Err(DecodeError::TooManyRows {
            rows: MAX_ROWS_PER_BLOCK + 1,
            max: MAX_ROWS_PER_BLOCK
        })
    );
}

#[test]
fn decimal_exponent_is_shared() {
    let block = round_trip(&[1, 2], &[1.5, 2.25], 3);
    assert_eq!(
        block.encoding.values,
        ValueEncoding::Decimal {
            mantissas: IntEncoding::DeltaConst,
            exponent: -2
        }
    );
    assert_eq!(block.encoding.first_value, 150);
    assert_eq!(block.values, [0x96, 0x01]); // the step 75, zig-zagged to 150
}

#[test]
fn a_full_block_round_trips() {
    let mut rng = Rng::new(11);
    let timestamps = scrape_timestamps(&mut rng, MAX_ROWS_PER_BLOCK, 1_000, 3);
    let values = gauge(&mut rng, MAX_ROWS_PER_BLOCK);
    round_trip(&timestamps, &values, 3);
    let random: Vec<f64> = (0..MAX_ROWS_PER_BLOCK)
        .map(|_| f64::from_bits(rng.next_u64()))
        .collect();
    let timestamps: Vec<i64> = (0..MAX_ROWS_PER_BLOCK)
        .map(|_| rng.next_u64() as i64)
        .collect();
    round_trip(&timestamps, &random, 3);
}

#[test]
#[should_panic(expected = "MAX_ROWS_PER_BLOCK")]
fn encoding_too_many_rows_is_a_bug() {
    let rows = MAX_ROWS_PER_BLOCK + 1;
    encode_block(
        &vec![0; rows],
        &vec![0.0; rows],
        3,
        &mut Vec::new(),
        &mut Vec::new(),
    );
}

#[test]
#[should_panic(expected = "column lengths differ")]
fn encoding_unequal_columns_is_a_bug() {
    encode_block(&[1, 2], &[1.0], 3, &mut Vec::new(), &mut Vec::new());
}

/// Bytes per sample (header, timestamps and values together) for realistic
/// 720-sample blocks: two hours of a 10 s scrape. VictoriaMetrics typically
/// lands at 0.4–1 byte per sample on real data.
#[test]
fn realistic_blocks_are_small() {
    const ROWS: usize = 720;
    let mut rng = Rng::new(42);
    let jittered = scrape_timestamps(&mut rng, ROWS, 10_000, 5);
    let regular: Vec<i64> = (0..ROWS as i64)
        .map(|i| 1_700_000_000_000 + 10_000 * i)
        .collect();
    let cases: [(&str, &[i64], Vec<f64>, f64); 5] = [
        (
            "counter, ±5 ms jitter",
            &jittered,
            counter(&mut rng, ROWS, 500),
            1.25,
        ),
        (
            "gauge 2 decimals, ±5 ms jitter",
            &jittered,
            gauge(&mut rng, ROWS),
            1.5,
        ),
        ("constant, ±5 ms jitter", &jittered, vec![1.0; ROWS], 0.6),
        ("constant, regular", &regular, vec![1.0; ROWS], 0.05),
        (
            "counter, regular",
            &regular,
            counter(&mut rng, ROWS, 900),
            0.7,
        ),
    ];
    for (name, timestamps, values, ceiling) in cases {
        let block = round_trip(timestamps, &values, 3);
        let per_sample = |bytes: usize| bytes as f64 / ROWS as f64;
        println!(
            "{name:32} {:.3} bytes/sample (timestamps {:.3}, values {:.3}, header {:.3}) {:?}",
            per_sample(block.size()),
            per_sample(block.timestamps.len()),
            per_sample(block.values.len()),
            per_sample(block.header.len()),
            block.encoding,
        );
        assert!(
            per_sample(block.size()) <= ceiling,
            "{name} over {ceiling} bytes/sample"
        );
    }
}

/// Encode and decode speed in a release build:
/// `cargo test --release --lib storage::encoding -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn encode_and_decode_speed() {
    const ROWS: usize = 720;
    const BLOCKS: usize = 2_000;
    let mut rng = Rng::new(3);
    let blocks: Vec<(&str, Vec<i64>, Vec<f64>)> = vec![
        (
            "counter",
            scrape_timestamps(&mut rng, ROWS, 10_000, 5),
            counter(&mut rng, ROWS, 500),
        ),
        (
            "gauge",
            scrape_timestamps(&mut rng, ROWS, 10_000, 5),
            gauge(&mut rng, ROWS),
        ),
        (
            "random floats",
            scrape_timestamps(&mut rng, ROWS, 10_000, 5),
            (0..ROWS).map(|_| f64::from_bits(rng.next_u64())).collect(),
        ),
    ];
    let mut encoder = BlockEncoder::new();
    let mut decoder = BlockDecoder::new();
    let (mut ts_out, mut vs_out) = (Vec::new(), Vec::new());
    let (mut ts_dst, mut vs_dst) = (Vec::new(), Vec::new());
    for zstd_level in [1, 3] {
        for (name, timestamps, values) in &blocks {
            let start = std::time::Instant::now();
            let mut encoding = None;
            for _ in 0..BLOCKS {
                ts_out.clear();
                vs_out.clear();
                encoding =
                    Some(encoder.encode(timestamps, values, zstd_level, &mut ts_out, &mut vs_out));
            }
            let encode_ns = start.elapsed().as_nanos() as f64 / (BLOCKS * ROWS) as f64;
            let encoding = encoding.unwrap();
            let start = std::time::Instant::now();
            for _ in 0..BLOCKS {
                decoder
                    .decode(&encoding, ROWS, &ts_out, &vs_out, &mut ts_dst, &mut vs_dst)
                    .unwrap();
            }
            let decode_ns = start.elapsed().as_nanos() as f64 / (BLOCKS * ROWS) as f64;
            assert_eq!(bits(&vs_dst), bits(values));
            let bytes = (ts_out.len() + vs_out.len()) as f64 / ROWS as f64;
            println!(
                "zstd {zstd_level} {name:14} encode {encode_ns:5.1} ns/sample, \
                 decode {decode_ns:5.1} ns/sample, {bytes:.3} bytes/sample"
            );
        }
    }
}
