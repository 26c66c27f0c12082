//! Encoding one block — a series' timestamps and values, at most
//! [`MAX_ROWS_PER_BLOCK`] rows — into two column payloads plus a
//! [`BlockEncoding`] for the block header.
//!
//! ```text
//! timestamps column: IntEncoding payload                        (zstd frame if smaller)
//! values column, by ValueEncoding:
//!   Decimal                 mantissa IntEncoding payload        (zstd frame if smaller)
//!   DecimalWithExceptions   exceptions section | mantissa IntEncoding payload  (same)
//!   Xor                     xor payload                          (same)
//! ```
//!
//! Choosing by measuring: each plausible layout of a column (see
//! [`int_encoding::candidates`], plus xor for values that are not plain
//! decimals) is written and its stored size estimated from its entropy
//! ([`compress::estimated_size`]); only the winner goes through zstd, which
//! costs about 10 ns a byte at level 3 — more than all the rest together.

use super::block_decoder::max_payload_size;
use super::block_encoding::{BlockEncoding, ValueEncoding};
use super::compress::{self, Compressor};
use super::decimal::{self, Exception};
use super::int_encoding::{self, IntEncoding};
use super::{exceptions, xor, MAX_ROWS_PER_BLOCK};

/// Decimal blocks needing this many places or more are also tried as xor:
/// their mantissas carry about as many digits as the raw floats.
const MANY_DECIMAL_PLACES: u8 = 8;

/// Encodes blocks, reusing its buffers and zstd context from block to block.
#[derive(Default)]
pub struct BlockEncoder {
    compressor: Compressor,
    /// A candidate layout, before zstd.
    raw: Vec<u8>,
    /// The candidate with the smallest estimated stored size so far.
    best_raw: Vec<u8>,
    /// `best_raw`'s estimated stored size; `start_column` resets it to `usize::MAX`.
    best_estimate: usize,
    /// The exceptions section, written once and put before each mantissa candidate.
    exceptions_section: Vec<u8>,
    mantissas: Vec<i64>,
    exceptions: Vec<Exception>,
}

impl BlockEncoder {
    /// An encoder with empty buffers.
    pub fn new() -> Self {
        BlockEncoder::default()
    }

    /// Appends the timestamps column to `timestamps_out` and the values column
    /// to `values_out`; returns how they are encoded. zstd runs at `zstd_level`
    /// (stronger for big parts) and is kept only where it saves bytes.
    ///
    /// # Panics
    /// If the slices differ in length or hold more than [`MAX_ROWS_PER_BLOCK`] rows.
    pub fn encode(
        &mut self,
        timestamps: &[i64],
        values: &[f64],
        zstd_level: i32,
        timestamps_out: &mut Vec<u8>,
        values_out: &mut Vec<u8>,
    ) -> BlockEncoding {
        assert_eq!(timestamps.len(), values.len(), "BUG: column lengths differ");
        assert!(
            timestamps.len() <= MAX_ROWS_PER_BLOCK,
            "BUG: {} rows exceed MAX_ROWS_PER_BLOCK",
            timestamps.len()
        );
        self.start_column();
        let (timestamps_kind, first_timestamp) = self.encode_timestamps(timestamps);
        let timestamps_compressed =
            self.compressor
                .append(&self.best_raw, zstd_level, timestamps_out);

        self.start_column();
        let (values_kind, first_value) = self.encode_values(values);
        let values_compressed = self
            .compressor
            .append(&self.best_raw, zstd_level, values_out);
        BlockEncoding {
            timestamps: timestamps_kind,
            timestamps_compressed,
            first_timestamp,
            values: values_kind,
            values_compressed,
            first_value,
        }
    }

    /// Leaves the best raw timestamps column in `self.best_raw`; returns its
    /// encoding and first value.
    fn encode_timestamps(&mut self, timestamps: &[i64]) -> (IntEncoding, i64) {
        let mut choice = None;
        for kind in int_encoding::candidates(timestamps) {
            self.raw.clear();
            let Some(first) = int_encoding::encode_as(kind, timestamps, &mut self.raw) else {
                continue;
            };
            debug_assert!(self.raw.len() <= max_payload_size(timestamps.len()));
            if self.offer() {
                choice = Some((kind, first));
            }
        }
        choice.unwrap_or((IntEncoding::Const, 0))
    }

    /// Leaves the best raw values column in `self.best_raw`; returns its
    /// encoding and first value.
    fn encode_values(&mut self, values: &[f64]) -> (ValueEncoding, i64) {
        let places = decimal::split(values, &mut self.mantissas, &mut self.exceptions);
        let exponent = -i16::from(places);
        self.exceptions_section.clear();
        if !self.exceptions.is_empty() {
            exceptions::encode(&self.exceptions, &mut self.exceptions_section);
        }
        let mut choice = None;
        for kind in int_encoding::candidates(&self.mantissas) {
            self.raw.clear();
            self.raw.extend_from_slice(&self.exceptions_section);
            let Some(first) = int_encoding::encode_as(kind, &self.mantissas, &mut self.raw) else {
                continue;
            };
            debug_assert!(self.raw.len() <= max_payload_size(values.len()));
            if self.offer() {
                let encoding = if self.exceptions.is_empty() {
                    ValueEncoding::Decimal {
                        mantissas: kind,
                        exponent,
                    }
                } else {
                    ValueEncoding::DecimalWithExceptions {
                        mantissas: kind,
                        exponent,
                    }
                };
                choice = Some((encoding, first));
            }
        }
        if !self.exceptions.is_empty() || places >= MANY_DECIMAL_PLACES {
            self.raw.clear();
            xor::encode(values, &mut self.raw);
            if self.offer() {
                let first_bits = values.first().map_or(0, |v| v.to_bits());
                choice = Some((ValueEncoding::Xor, first_bits as i64));
            }
        }
        let fallback = ValueEncoding::Decimal {
            mantissas: IntEncoding::Const,
            exponent: 0,
        };
        choice.unwrap_or((fallback, 0))
    }

    /// Forgets the best candidate so far, to start on the next column.
    fn start_column(&mut self) {
        self.best_raw.clear();
        self.best_estimate = usize::MAX;
    }

    /// Keeps the candidate in `self.raw` as the best if its estimated stored
    /// size is smaller than the best so far (ties keep the earlier, smaller
    /// raw one); returns whether it was kept.
    fn offer(&mut self) -> bool {
        let estimate = compress::estimated_size(&self.raw);
        if estimate >= self.best_estimate {
            return false;
        }
        std::mem::swap(&mut self.best_raw, &mut self.raw);
        self.best_estimate = estimate;
        true
    }
}

/// Encodes one block with a fresh [`BlockEncoder`]; see [`BlockEncoder::encode`].
/// Hot paths keep a `BlockEncoder` instead, which allocates nothing per block.
pub fn encode_block(
    timestamps: &[i64],
    values: &[f64],
    zstd_level: i32,
    timestamps_out: &mut Vec<u8>,
    values_out: &mut Vec<u8>,
) -> BlockEncoding {
    BlockEncoder::new().encode(timestamps, values, zstd_level, timestamps_out, values_out)
}
