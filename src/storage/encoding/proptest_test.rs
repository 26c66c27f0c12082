//! Property tests: random and adversarial blocks round-trip bit-exactly,
//! stay within their size bound, and corrupt bytes never panic the decoder.

use super::block_test::{decode_anything, round_trip, Encoded};
use super::*;
use crate::model::STALE_NAN_BITS;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const MAX_TEST_ROWS: usize = 400;

fn special_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::from_bits(STALE_NAN_BITS)),
        Just(f64::NAN),
        Just(-f64::NAN),
        // Any other NaN payload, either sign.
        any::<u64>()
            .prop_map(|m| f64::from_bits(0x7ff0_0000_0000_0001 | (m & 0x800f_ffff_ffff_ffff))),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        Just(-f64::MIN_POSITIVE),
        Just(5e-324),
        (1u64..1 << 52).prop_map(f64::from_bits), // subnormals
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::EPSILON),
        Just(9_007_199_254_740_993.0),
        Just(0.1 + 0.2),
    ]
}

/// Numbers with 0 to 4 decimals, as exporters print them.
fn decimal_float() -> impl Strategy<Value = f64> {
    (-10_000_000i64..10_000_000, 0i32..5).prop_map(|(m, places)| m as f64 / 10f64.powi(places))
}

fn any_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => decimal_float(),
        2 => special_float(),
        1 => any::<u64>().prop_map(f64::from_bits),
        1 => any::<f64>(),
    ]
}

fn any_timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        -1_000i64..1_000,
        1_600_000_000_000i64..1_800_000_000_000,
    ]
}

/// Rows of unrelated timestamps and values.
fn any_block() -> impl Strategy<Value = (Vec<i64>, Vec<f64>)> {
    (0..MAX_TEST_ROWS).prop_flat_map(|rows| {
        (
            prop::collection::vec(any_timestamp(), rows),
            prop::collection::vec(any_float(), rows),
        )
    })
}

/// Scrape timestamps: a fixed interval, a few ms of jitter, the odd missed scrape or duplicate.
fn scrape_timestamps(rows: usize) -> impl Strategy<Value = Vec<i64>> {
    (
        -2_000_000_000_000i64..2_000_000_000_000,
        prop::sample::select(vec![1_000i64, 5_000, 10_000, 15_000, 60_000]),
        prop::collection::vec((-5i64..=5, 0u8..100), rows),
    )
        .prop_map(|(start, interval, noise)| {
            let mut nominal = start;
            noise
                .into_iter()
                .map(|(jitter, event)| {
                    nominal += match event {
                        0 => 2 * interval, // a missed scrape
                        1 => 0,            // a duplicate
                        _ => interval,
                    };
                    nominal + jitter
                })
                .collect()
        })
}

/// Counters (with resets, integer or 2 decimals), gauges (1-2 decimals), constants.
fn realistic_values(rows: usize) -> impl Strategy<Value = Vec<f64>> {
    let counter = (
        prop::collection::vec((0i64..5_000, 0u8..200), rows),
        prop::bool::ANY,
    )
        .prop_map(|(steps, cents)| {
            let mut total = 0i64;
            steps
                .into_iter()
                .map(|(step, event)| {
                    total = if event == 0 { step } else { total + step };
                    if cents {
                        total as f64 / 100.0
                    } else {
                        total as f64
                    }
                })
                .collect::<Vec<f64>>()
        });
    let gauge = (
        prop::collection::vec(-300i64..300, rows),
        prop::sample::select(vec![10.0, 100.0]),
        -100_000i64..100_000,
    )
        .prop_map(|(steps, divisor, start)| {
            let mut level = start;
            steps
                .into_iter()
                .map(|step| {
                    level += step;
                    level as f64 / divisor
                })
                .collect::<Vec<f64>>()
        });
    let constant = any_float().prop_map(move |v| vec![v; rows]);
    prop_oneof![counter, gauge, constant]
}

/// A realistic series, with some rows possibly replaced by special values.
fn realistic_block() -> impl Strategy<Value = (Vec<i64>, Vec<f64>)> {
    (1..MAX_TEST_ROWS).prop_flat_map(|rows| {
        (
            scrape_timestamps(rows),
            realistic_values(rows),
            prop::collection::vec((0..rows, special_float()), 0..4),
        )
            .prop_map(|(timestamps, mut values, specials)| {
                for (row, special) in specials {
                    values[row] = special;
                }
                (timestamps, values)
            })
    })
}

/// The size bound: no column grows past its raw worst case.
fn assert_within_bound(block: &Encoded, rows: usize) {
    assert!(block.timestamps.len() <= 10 * rows + 16);
    assert!(block.values.len() <= 11 * rows + 16);
    assert_eq!(block.header.len(), BlockEncoding::ENCODED_SIZE);
}

proptest! {
    // Failing seeds are kept beside this file (proptest_test.regressions).
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_blocks_round_trip((timestamps, values) in any_block(), level in 1i32..6) {
        let block = round_trip(&timestamps, &values, level);
        assert_within_bound(&block, timestamps.len());
    }

    #[test]
    fn arbitrary_bit_patterns_round_trip(
        raw in prop::collection::vec(any::<(i64, u64)>(), 0..MAX_TEST_ROWS),
    ) {
        let timestamps: Vec<i64> = raw.iter().map(|(t, _)| *t).collect();
        let values: Vec<f64> = raw.iter().map(|(_, v)| f64::from_bits(*v)).collect();
        round_trip(&timestamps, &values, 3);
    }

    #[test]
    fn realistic_blocks_round_trip((timestamps, values) in realistic_block()) {
        let block = round_trip(&timestamps, &values, 3);
        assert_within_bound(&block, timestamps.len());
    }

    #[test]
    fn sorted_scrapes_stay_small(rows in 100usize..MAX_TEST_ROWS, seed in any::<u64>()) {
        let mut rng = super::block_test::Rng::new(seed);
        let timestamps = super::block_test::scrape_timestamps(&mut rng, rows, 10_000, 5);
        let values = super::block_test::gauge(&mut rng, rows);
        let block = round_trip(&timestamps, &values, 3);
        // About 0.7 + 0.9 bytes per row; 2.5 leaves room for small blocks' overhead.
        prop_assert!(block.size() as f64 <= 2.5 * rows as f64, "{} bytes", block.size());
    }

    /// A handful of stale markers in a decimal gauge cost a few bytes each,
    /// not a fall back to raw floats.
    #[test]
    fn stale_markers_cost_little(
        steps in prop::collection::vec(-1_000i64..1_000, 50..MAX_TEST_ROWS),
        stale_rows in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        let timestamps: Vec<i64> = (0..steps.len() as i64).map(|i| i * 15_000).collect();
        let clean: Vec<f64> = steps
            .iter()
            .scan(0i64, |level, step| {
                *level += step;
                Some(*level as f64 / 100.0)
            })
            .collect();
        let mut stale = clean.clone();
        for row in &stale_rows {
            let at = row.index(stale.len());
            stale[at] = f64::from_bits(STALE_NAN_BITS);
        }
        let clean_size = round_trip(&timestamps, &clean, 3).values.len();
        let stale_size = round_trip(&timestamps, &stale, 3).values.len();
        prop_assert!(
            stale_size <= clean_size + 8 * stale_rows.len() + 16,
            "{stale_size} bytes with stale markers, {clean_size} without"
        );
    }

    #[test]
    fn corrupt_bytes_never_panic(
        (timestamps, values) in prop_oneof![any_block(), realistic_block()],
        mutations in prop::collection::vec((0usize..3, any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cuts in (0usize..3, any::<prop::sample::Index>()),
        claimed_rows in prop_oneof![Just(None), (0..=MAX_ROWS_PER_BLOCK).prop_map(Some)],
    ) {
        let block = round_trip(&timestamps, &values, 3);
        let rows = claimed_rows.unwrap_or(timestamps.len());
        let mut columns = [block.header.clone(), block.timestamps.clone(), block.values.clone()];
        for (column, index, flip) in mutations {
            let bytes = &mut columns[column];
            if !bytes.is_empty() {
                let at = index.index(bytes.len());
                bytes[at] ^= flip;
            }
        }
        let mut decoder = BlockDecoder::new();
        let [header, ts, vs] = &columns;
        let _ = decode_anything(&mut decoder, header, rows, ts, vs);
        let (column, cut) = cuts;
        let mut truncated = columns.clone();
        let bytes = &mut truncated[column];
        let keep = if bytes.is_empty() { 0 } else { cut.index(bytes.len()) };
        bytes.truncate(keep);
        let [header, ts, vs] = &truncated;
        let _ = decode_anything(&mut decoder, header, rows, ts, vs);
    }

    /// The integer-column contract, for every kind that can represent the
    /// values: decodes back exactly, and every strict prefix is an error.
    #[test]
    fn every_int_encoding_round_trips(
        values in prop_oneof![
            prop::collection::vec(any_timestamp(), 0..MAX_TEST_ROWS),
            (1usize..MAX_TEST_ROWS).prop_flat_map(scrape_timestamps),
            (any::<i64>(), any::<i64>(), 0usize..50)
                .prop_map(|(first, step, rows)| {
                    (0..rows as i64).map(|i| first.wrapping_add(step.wrapping_mul(i))).collect()
                }),
        ],
    ) {
        let mut fitted = 0;
        for kind in IntEncoding::ALL {
            let mut payload = Vec::new();
            let Some(first) = int_encoding::encode_as(kind, &values, &mut payload) else {
                continue;
            };
            fitted += 1;
            let mut decoded = vec![7];
            decoded.clear();
            int_encoding::decode(kind, first, values.len(), &payload, Section::Timestamps, &mut decoded)
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            prop_assert_eq!(&decoded, &values, "{:?}", kind);
            for cut in 0..payload.len() {
                decoded.clear();
                let result = int_encoding::decode(
                    kind, first, values.len(), &payload[..cut], Section::Timestamps, &mut decoded,
                );
                prop_assert!(result.is_err(), "{:?} cut at {}", kind, cut);
            }
        }
        // Delta, Delta2 and Grid represent anything.
        prop_assert!(fitted >= 3);
    }

    /// Arbitrary bytes under an arbitrary (valid) block encoding never panic.
    #[test]
    fn random_bytes_never_panic(
        header in prop::collection::vec(any::<u8>(), BlockEncoding::ENCODED_SIZE),
        timestamps in prop::collection::vec(any::<u8>(), 0..200),
        values in prop::collection::vec(any::<u8>(), 0..200),
        rows in 0..=MAX_ROWS_PER_BLOCK,
        kinds in (0u8..5, 0u8..3, 0u8..5, 0u8..4, 0i16..=22),
    ) {
        let mut header = header;
        let (timestamps_kind, values_kind, mantissas_kind, flags, places) = kinds;
        header[..4].copy_from_slice(&[timestamps_kind, values_kind, mantissas_kind, flags]);
        header[4..6].copy_from_slice(&(-places).to_be_bytes());
        let mut decoder = BlockDecoder::new();
        let _ = decode_anything(&mut decoder, &header, rows, &timestamps, &values);
        let _ = decode_anything(&mut decoder, &header, rows % 64, &timestamps, &values);
    }
}
