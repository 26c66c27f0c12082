//! The payload of an ingest record: one [`IngestBatch`], bit-exact (stale-marker NaNs included),
//! so replay rebuilds the rows without the index.
//!
//! ```text
//! offset       size            field
//! 0            1               version = 1
//! 1            4               series        u32 LE, number of series (S)
//! 5            4               label_bytes   u32 LE, length of the canonical labels (L)
//! 9            4               samples       u32 LE, number of samples (N)
//! 13           8 * S           per series: labels_end u32 LE, samples_end u32 LE
//! 13+8S        L               canonical labels of all series, concatenated
//! ...          8 * N           timestamps, i64 LE (ms)
//! ...          8 * N           values, f64 bits as u64 LE
//! ```
//!
//! Fixed-width columns keep encoding a copy (the WAL is on the ingest path); the part encoder
//! compresses later. Decoding checks every count against the bytes present before allocating.
#![deny(clippy::indexing_slicing)]

use std::fmt;

use crate::ingest::batch::{BatchSeries, IngestBatch};

/// Format version byte.
const VERSION: u8 = 1;

/// Bytes before the per-series table.
const HEADER_BYTES: usize = 13;

/// Why a payload is not a batch record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchDecodeError {
    /// Unknown version byte.
    Version(u8),
    /// Fewer bytes than the counts announce, or more.
    Length {
        /// Bytes the counts need.
        want: u64,
        /// Bytes present.
        got: u64,
    },
    /// A series' label or sample end is before the previous one or past the total.
    SeriesEnds {
        /// Index of the offending series.
        series: u32,
    },
}

impl fmt::Display for BatchDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchDecodeError::Version(v) => write!(f, "batch record: unknown version {v}"),
            BatchDecodeError::Length { want, got } => {
                write!(f, "batch record: {got} bytes, counts need {want}")
            }
            BatchDecodeError::SeriesEnds { series } => {
                write!(f, "batch record: series {series} has out-of-order ends")
            }
        }
    }
}

impl std::error::Error for BatchDecodeError {}

/// Appends the record payload for `batch` to `out`.
pub fn encode(batch: &IngestBatch, out: &mut Vec<u8>) {
    assert_eq!(
        batch.timestamps.len(),
        batch.values.len(),
        "columns differ in length"
    );
    let count =
        |n: usize| u32::try_from(n).expect("batch sizes fit u32 (IngestBatch stores u32 ends)");
    out.reserve(encoded_len(
        batch.series.len(),
        batch.labels.len(),
        batch.timestamps.len(),
    ));
    out.push(VERSION);
    out.extend_from_slice(&count(batch.series.len()).to_le_bytes());
    out.extend_from_slice(&count(batch.labels.len()).to_le_bytes());
    out.extend_from_slice(&count(batch.timestamps.len()).to_le_bytes());
    for series in &batch.series {
        out.extend_from_slice(&series.labels_end.to_le_bytes());
        out.extend_from_slice(&series.samples_end.to_le_bytes());
    }
    out.extend_from_slice(&batch.labels);
    for timestamp in &batch.timestamps {
        out.extend_from_slice(&timestamp.to_le_bytes());
    }
    for value in &batch.values {
        out.extend_from_slice(&value.to_bits().to_le_bytes());
    }
}

/// Decodes a record payload into `batch` (cleared first, capacity kept).
pub fn decode_into(src: &[u8], batch: &mut IngestBatch) -> Result<(), BatchDecodeError> {
    batch.labels.clear();
    batch.series.clear();
    batch.timestamps.clear();
    batch.values.clear();
    let mut reader = Reader { src };
    let version = reader.u8()?;
    if version != VERSION {
        return Err(BatchDecodeError::Version(version));
    }
    let series = reader.u32()?;
    let label_bytes = reader.u32()?;
    let samples = reader.u32()?;
    let want = encoded_len(series as usize, label_bytes as usize, samples as usize) as u64;
    let got = src.len() as u64;
    if want != got {
        return Err(BatchDecodeError::Length { want, got });
    }
    batch.series.reserve(series as usize);
    let (mut last_labels, mut last_samples) = (0, 0);
    for index in 0..series {
        let labels_end = reader.u32()?;
        let samples_end = reader.u32()?;
        let ordered = labels_end >= last_labels && samples_end >= last_samples;
        if !ordered || labels_end > label_bytes || samples_end > samples {
            return Err(BatchDecodeError::SeriesEnds { series: index });
        }
        (last_labels, last_samples) = (labels_end, samples_end);
        // The hash is not stored: it is recomputed below, once the labels are read.
        batch.series.push(BatchSeries {
            labels_end,
            samples_end,
            hash: 0,
        });
    }
    if last_labels != label_bytes || last_samples != samples {
        return Err(BatchDecodeError::SeriesEnds {
            series: series.saturating_sub(1),
        });
    }
    batch
        .labels
        .extend_from_slice(reader.take(label_bytes as usize)?);
    let mut start = 0usize;
    for series in &mut batch.series {
        let end = series.labels_end as usize;
        series.hash = xxhash_rust::xxh3::xxh3_64(batch.labels.get(start..end).unwrap_or_default());
        start = end;
    }
    batch.timestamps.reserve(samples as usize);
    for _ in 0..samples {
        batch.timestamps.push(reader.u64()? as i64);
    }
    batch.values.reserve(samples as usize);
    for _ in 0..samples {
        batch.values.push(f64::from_bits(reader.u64()?));
    }
    Ok(())
}

/// Decodes a record payload into a new batch.
pub fn decode(src: &[u8]) -> Result<IngestBatch, BatchDecodeError> {
    let mut batch = IngestBatch::default();
    decode_into(src, &mut batch)?;
    Ok(batch)
}

/// Encoded size of a batch with these counts.
fn encoded_len(series: usize, label_bytes: usize, samples: usize) -> usize {
    HEADER_BYTES + 8 * series + label_bytes + 16 * samples
}

struct Reader<'a> {
    src: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BatchDecodeError> {
        if n > self.src.len() {
            return Err(BatchDecodeError::Length {
                want: n as u64,
                got: self.src.len() as u64,
            });
        }
        let (head, tail) = self.src.split_at(n);
        self.src = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, BatchDecodeError> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }

    fn u32(&mut self) -> Result<u32, BatchDecodeError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }

    fn u64(&mut self) -> Result<u64, BatchDecodeError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Prometheus' stale marker.
    const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

    fn sample_batch() -> IngestBatch {
        let mut batch = IngestBatch::default();
        batch.push_label(b"__name__", b"up");
        batch.push_label(b"job", b"node");
        batch.push_sample(1_700_000_000_000, 1.0);
        batch.push_sample(1_700_000_015_000, f64::from_bits(STALE_NAN_BITS));
        batch.end_series();
        batch.push_label(b"__name__", b"temp");
        batch.push_sample(-5, -0.0);
        batch.push_sample(i64::MAX, f64::NAN);
        batch.end_series();
        batch
    }

    fn assert_bit_exact(a: &IngestBatch, b: &IngestBatch) {
        assert_eq!(a.labels, b.labels);
        let ends = |x: &IngestBatch| -> Vec<(u32, u32)> {
            x.series
                .iter()
                .map(|s| (s.labels_end, s.samples_end))
                .collect()
        };
        assert_eq!(ends(a), ends(b));
        assert_eq!(a.timestamps, b.timestamps);
        let bits = |x: &IngestBatch| -> Vec<u64> { x.values.iter().map(|v| v.to_bits()).collect() };
        assert_eq!(bits(a), bits(b));
    }

    #[test]
    fn round_trips_bit_exact_with_stale_markers() {
        let batch = sample_batch();
        let mut bytes = Vec::new();
        encode(&batch, &mut bytes);
        assert_eq!(bytes.len(), encoded_len(2, batch.labels.len(), 4));
        let back = decode(&bytes).unwrap();
        assert_bit_exact(&batch, &back);
        assert_eq!(back.values[1].to_bits(), STALE_NAN_BITS);
    }

    #[test]
    fn golden_bytes_of_an_empty_and_a_tiny_batch() {
        let mut bytes = Vec::new();
        encode(&IngestBatch::default(), &mut bytes);
        assert_eq!(bytes, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut batch = IngestBatch::default();
        batch.labels.push(b'x');
        batch.push_sample(2, 1.0);
        batch.end_series();
        bytes.clear();
        encode(&batch, &mut bytes);
        let want: Vec<u8> = [
            &[1u8, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0][..],
            &[1, 0, 0, 0, 1, 0, 0, 0],
            b"x",
            &[2, 0, 0, 0, 0, 0, 0, 0],
            &[0, 0, 0, 0, 0, 0, 0xf0, 0x3f],
        ]
        .concat();
        assert_eq!(bytes, want);
    }

    #[test]
    fn rejects_bad_payloads() {
        let mut bytes = Vec::new();
        encode(&sample_batch(), &mut bytes);
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 2;
        assert_eq!(
            decode(&wrong_version).unwrap_err(),
            BatchDecodeError::Version(2)
        );
        assert!(matches!(
            decode(&bytes[..bytes.len() - 1]).unwrap_err(),
            BatchDecodeError::Length { .. }
        ));
        let mut huge_count = bytes.clone();
        huge_count[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decode(&huge_count).unwrap_err(),
            BatchDecodeError::Length { .. }
        ));
        let mut disordered = bytes.clone();
        disordered[13..17].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(
            decode(&disordered).unwrap_err(),
            BatchDecodeError::SeriesEnds { series: 0 }
        );
    }

    fn arbitrary_batch() -> impl Strategy<Value = IngestBatch> {
        let series = (
            proptest::collection::vec(any::<u8>(), 0..40),
            proptest::collection::vec((any::<i64>(), any::<u64>()), 0..20),
        );
        proptest::collection::vec(series, 0..8).prop_map(|all| {
            let mut batch = IngestBatch::default();
            for (labels, samples) in all {
                batch.labels.extend_from_slice(&labels);
                for (t, bits) in samples {
                    batch.push_sample(t, f64::from_bits(bits));
                }
                batch.end_series();
            }
            batch
        })
    }

    proptest! {
        #[test]
        fn round_trips_any_batch(batch in arbitrary_batch()) {
            let mut bytes = Vec::new();
            encode(&batch, &mut bytes);
            let back = decode(&bytes).unwrap();
            assert_bit_exact(&batch, &back);
        }

        #[test]
        fn never_panics_on_damaged_payloads(batch in arbitrary_batch(), cut in any::<usize>(), flip in any::<(usize, u8)>()) {
            let mut bytes = Vec::new();
            encode(&batch, &mut bytes);
            let _ = decode(&bytes[..cut % (bytes.len() + 1)]);
            let (at, mask) = flip;
            let index = at % bytes.len();
            bytes[index] ^= mask;
            let _ = decode(&bytes);
        }
    }
}
