//! Reads the records of one segment's bytes, in order, up to its end or its first damage.
#![deny(clippy::indexing_slicing)]

use std::ops::Range;

use super::error::Damage;
use super::record::{self, Decoded, RECORD_HEADER_BYTES};

/// What starts at some offset of a segment's bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// An intact record; its payload is `segment[payload]`, the next record starts at its end.
    Record { payload: Range<usize> },
    /// The end of the data (nothing, or only zero padding, follows).
    End,
    /// Damage; `dropped_bytes` counts from here to the last non-zero byte.
    Damaged { damage: Damage, dropped_bytes: u64 },
}

/// Reads the record starting at `offset` of `segment`.
pub fn read_at(segment: &[u8], offset: usize) -> Step {
    let rest = segment.get(offset..).unwrap_or_default();
    match record::decode(rest) {
        Decoded::Record(payload) => {
            let start = offset + RECORD_HEADER_BYTES;
            Step::Record {
                payload: start..start + payload.len(),
            }
        }
        Decoded::End => Step::End,
        Decoded::Damaged(damage) => {
            let non_zero = rest.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            Step::Damaged {
                damage,
                dropped_bytes: non_zero as u64,
            }
        }
    }
}

/// How a segment's bytes ended.
#[cfg(test)]
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    /// Offset just past the last intact record.
    pub good_end: u64,
    /// The damage found at `good_end`, if the data does not end cleanly there.
    pub damage: Option<Damage>,
    /// Bytes from `good_end` to the last non-zero byte (zero padding is not counted).
    pub dropped_bytes: u64,
}

/// Calls `on_record(offset, payload)` for every intact record of `segment`, in order.
#[cfg(test)]
pub fn scan(segment: &[u8], mut on_record: impl FnMut(u64, &[u8])) -> Scan {
    let mut offset = 0usize;
    loop {
        match read_at(segment, offset) {
            Step::Record { payload } => {
                on_record(
                    offset as u64,
                    segment.get(payload.clone()).unwrap_or_default(),
                );
                offset = payload.end;
            }
            Step::End => {
                return Scan {
                    good_end: offset as u64,
                    damage: None,
                    dropped_bytes: 0,
                }
            }
            Step::Damaged {
                damage,
                dropped_bytes,
            } => {
                return Scan {
                    good_end: offset as u64,
                    damage: Some(damage),
                    dropped_bytes,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(segment: &[u8]) -> (Vec<(u64, Vec<u8>)>, Scan) {
        let mut got = Vec::new();
        let scan = scan(segment, |offset, payload| {
            got.push((offset, payload.to_vec()))
        });
        (got, scan)
    }

    #[test]
    fn reads_until_padding() {
        let mut segment = Vec::new();
        record::encode(b"one", &mut segment);
        record::encode(b"two!", &mut segment);
        segment.resize(4096, 0);
        let (got, scan) = records(&segment);
        assert_eq!(got, vec![(0, b"one".to_vec()), (11, b"two!".to_vec())]);
        assert_eq!(
            scan,
            Scan {
                good_end: 23,
                damage: None,
                dropped_bytes: 0
            }
        );
    }

    #[test]
    fn stops_at_damage_and_counts_non_zero_bytes() {
        let mut segment = Vec::new();
        record::encode(b"one", &mut segment);
        record::encode(b"two!", &mut segment);
        segment[15] ^= 0xff; // in the second header's checksum
        segment.resize(4096, 0);
        let (got, scan) = records(&segment);
        assert_eq!(got, vec![(0, b"one".to_vec())]);
        assert_eq!(scan.good_end, 11);
        assert!(matches!(scan.damage, Some(Damage::ChecksumMismatch { .. })));
        assert_eq!(scan.dropped_bytes, 12);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_yields_a_prefix_of_the_records(
            payloads in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), 0..20),
            cut in proptest::prelude::any::<usize>(),
            flip in proptest::prelude::any::<(usize, u8)>(),
        ) {
            let mut segment = Vec::new();
            for payload in &payloads {
                record::encode(payload, &mut segment);
            }
            let (got, scan) = records(&segment);
            assert_eq!(got.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>(), payloads);
            assert_eq!(scan.damage, None);
            // Cut or damaged: never a panic, and what comes back is a prefix of what was written.
            let cut_segment = &segment[..cut % (segment.len() + 1)];
            let (got, scan) = records(cut_segment);
            assert!(scan.good_end <= cut_segment.len() as u64);
            assert!(got.iter().zip(&payloads).all(|((_, a), b)| a == b));
            if !segment.is_empty() {
                let (at, mask) = flip;
                let index = at % segment.len();
                segment[index] ^= mask;
                let (got, _) = records(&segment);
                assert!(got.iter().zip(&payloads).all(|((_, a), b)| a == b));
            }
        }
    }
}
