//! Encoding and decoding one block: a series' timestamps and values, at most
//! [`MAX_ROWS_PER_BLOCK`] rows, into two column payloads plus a
//! [`BlockEncoding`].
//!
//! ```text
//! timestamps column: IntEncoding payload            (then zstd if smaller)
//! values column, by ValueEncoding:
//!   Decimal                 mantissa IntEncoding payload
//!   DecimalWithExceptions   exceptions section | mantissa IntEncoding payload
//!   Xor                     xor payload        (each then zstd if smaller)
//! ```

use super::block_encoding::{BlockEncoding, ValueEncoding};
use super::compress::{Compressor, Decompressor};
use super::decimal::{self, Exception};
use super::error::{DecodeError, Section};
use super::int_encoding;
use super::{exceptions, xor, MAX_ROWS_PER_BLOCK};

/// Most raw (pre-zstd) bytes any column payload takes per row: a 10-byte
/// varint, or for an exception a 2-byte gap, a tag and 8 raw bytes.
const MAX_PAYLOAD_BYTES_PER_ROW: usize = 11;

// An exception's gap varint fits 2 bytes only while positions stay below 2^14.
const _: () = assert!(MAX_ROWS_PER_BLOCK <= 1 << 14);

/// Raw bytes a column may take besides its rows (a step varint, a count).
const MAX_PAYLOAD_OVERHEAD_BYTES: usize = 16;

/// Decimal blocks needing this many places or more are also tried as xor:
/// their mantissas carry about as many digits as the raw floats.
const MANY_DECIMAL_PLACES: u8 = 8;

/// The most raw bytes a column of `rows` rows can take; decoders refuse more.
fn max_payload_size(rows: usize) -> usize {
    rows * MAX_PAYLOAD_BYTES_PER_ROW + MAX_PAYLOAD_OVERHEAD_BYTES
}

/// Encodes blocks, reusing its buffers and zstd context from block to block.
#[derive(Default)]
pub struct BlockEncoder {
    compressor: Compressor,
    raw: Vec<u8>,
    alternative: Vec<u8>,
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
        self.raw.clear();
        let (timestamps_kind, first_timestamp) = int_encoding::encode(timestamps, &mut self.raw);
        debug_assert!(self.raw.len() <= max_payload_size(timestamps.len()));
        let timestamps_compressed = self
            .compressor
            .append(&self.raw, zstd_level, timestamps_out);

        self.raw.clear();
        let (values_kind, first_value) = self.encode_values(values);
        debug_assert!(self.raw.len() <= max_payload_size(values.len()));
        let values_compressed = self.compressor.append(&self.raw, zstd_level, values_out);
        BlockEncoding {
            timestamps: timestamps_kind,
            timestamps_compressed,
            first_timestamp,
            values: values_kind,
            values_compressed,
            first_value,
        }
    }

    /// Writes the smallest raw values payload into `self.raw`.
    fn encode_values(&mut self, values: &[f64]) -> (ValueEncoding, i64) {
        let places = decimal::split(values, &mut self.mantissas, &mut self.exceptions);
        let exponent = -i16::from(places);
        if !self.exceptions.is_empty() {
            exceptions::encode(&self.exceptions, &mut self.raw);
        }
        let (mantissas, first_mantissa) = int_encoding::encode(&self.mantissas, &mut self.raw);
        let decimal = if self.exceptions.is_empty() {
            ValueEncoding::Decimal {
                mantissas,
                exponent,
            }
        } else {
            ValueEncoding::DecimalWithExceptions {
                mantissas,
                exponent,
            }
        };
        if self.exceptions.is_empty() && places < MANY_DECIMAL_PLACES {
            return (decimal, first_mantissa);
        }
        self.alternative.clear();
        xor::encode(values, &mut self.alternative);
        if self.alternative.len() < self.raw.len() {
            std::mem::swap(&mut self.raw, &mut self.alternative);
            let first_bits = values.first().map_or(0, |v| v.to_bits());
            return (ValueEncoding::Xor, first_bits as i64);
        }
        (decimal, first_mantissa)
    }
}

/// Decodes blocks, reusing its buffers and zstd context from block to block.
#[derive(Default)]
pub struct BlockDecoder {
    decompressor: Decompressor,
    mantissas: Vec<i64>,
    exceptions: Vec<Exception>,
}

impl BlockDecoder {
    /// A decoder with empty buffers.
    pub fn new() -> Self {
        BlockDecoder::default()
    }

    /// Clears `timestamps_dst` and `values_dst` and fills them with the block's
    /// `rows` rows. Corrupt input is an error; `rows` over
    /// [`MAX_ROWS_PER_BLOCK`] is refused before anything is allocated.
    pub fn decode(
        &mut self,
        encoding: &BlockEncoding,
        rows: usize,
        timestamps_bytes: &[u8],
        values_bytes: &[u8],
        timestamps_dst: &mut Vec<i64>,
        values_dst: &mut Vec<f64>,
    ) -> Result<(), DecodeError> {
        timestamps_dst.clear();
        values_dst.clear();
        if rows > MAX_ROWS_PER_BLOCK {
            return Err(DecodeError::TooManyRows {
                rows,
                max: MAX_ROWS_PER_BLOCK,
            });
        }
        let payload = self.decompressor.payload(
            encoding.timestamps_compressed,
            timestamps_bytes,
            max_payload_size(rows),
            Section::Timestamps,
        )?;
        int_encoding::decode(
            encoding.timestamps,
            encoding.first_timestamp,
            rows,
            payload,
            Section::Timestamps,
            timestamps_dst,
        )?;
        let payload = self.decompressor.payload(
            encoding.values_compressed,
            values_bytes,
            max_payload_size(rows),
            Section::Values,
        )?;
        let (mantissas, exponent, payload) = match encoding.values {
            ValueEncoding::Xor => {
                let first_bits = encoding.first_value as u64;
                let rest = xor::decode(first_bits, rows, payload, values_dst)?;
                return expect_consumed(rest);
            }
            ValueEncoding::Decimal {
                mantissas,
                exponent,
            } => {
                self.exceptions.clear();
                (mantissas, exponent, payload)
            }
            ValueEncoding::DecimalWithExceptions {
                mantissas,
                exponent,
            } => {
                let rest = exceptions::decode(payload, rows, &mut self.exceptions)?;
                (mantissas, exponent, rest)
            }
        };
        self.mantissas.clear();
        int_encoding::decode(
            mantissas,
            encoding.first_value,
            rows.saturating_sub(self.exceptions.len()),
            payload,
            Section::Values,
            &mut self.mantissas,
        )?;
        let places = u8::try_from(exponent.unsigned_abs()).unwrap_or(u8::MAX);
        merge(
            &self.mantissas,
            &self.exceptions,
            decimal::scale(places),
            values_dst,
        );
        Ok(())
    }
}

/// Fills `dst` with the rows: exceptions at their positions, mantissas in between.
fn merge(mantissas: &[i64], exceptions: &[Exception], scale: f64, dst: &mut Vec<f64>) {
    dst.reserve(mantissas.len() + exceptions.len());
    let mut mantissas = mantissas.iter();
    for exception in exceptions {
        let before = (exception.position as usize).saturating_sub(dst.len());
        dst.extend(
            mantissas
                .by_ref()
                .take(before)
                .map(|&m| decimal::to_float(m, scale)),
        );
        dst.push(f64::from_bits(exception.bits));
    }
    dst.extend(mantissas.map(|&m| decimal::to_float(m, scale)));
}

fn expect_consumed(rest: &[u8]) -> Result<(), DecodeError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::TrailingBytes {
            section: Section::Values,
            count: rest.len(),
        })
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

/// Decodes one block with a fresh [`BlockDecoder`]; see [`BlockDecoder::decode`].
/// Hot paths keep a `BlockDecoder` instead, which allocates nothing per block.
pub fn decode_block(
    encoding: &BlockEncoding,
    rows: usize,
    timestamps_bytes: &[u8],
    values_bytes: &[u8],
    timestamps_dst: &mut Vec<i64>,
    values_dst: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    BlockDecoder::new().decode(
        encoding,
        rows,
        timestamps_bytes,
        values_bytes,
        timestamps_dst,
        values_dst,
    )
}
