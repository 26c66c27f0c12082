//! Decoding one block's two columns back into timestamps and values; the
//! layouts are in [`super::block_encoder`]'s docs.
//!
//! Corrupt bytes give a [`DecodeError`], never a panic, and nothing is
//! allocated beyond [`MAX_ROWS_PER_BLOCK`] rows: the row count is checked
//! first, and zstd may fill only a column's worst-case raw size.

use super::block_encoding::{BlockEncoding, ValueEncoding};
use super::compress::Decompressor;
use super::decimal::{self, Exception};
use super::error::{DecodeError, Section};
use super::{exceptions, int_encoding, xor, MAX_ROWS_PER_BLOCK};

/// Most raw (pre-zstd) bytes any column payload takes per row: a 10-byte
/// varint, or for an exception a 2-byte gap, a tag and 8 raw bytes.
const MAX_PAYLOAD_BYTES_PER_ROW: usize = 11;

// An exception's gap varint fits 2 bytes only while positions stay below 2^14.
const _: () = assert!(MAX_ROWS_PER_BLOCK <= 1 << 14);

/// Raw bytes a column may take besides its rows (a step varint, a count).
const MAX_PAYLOAD_OVERHEAD_BYTES: usize = 16;

/// The most raw bytes a column of `rows` rows can take; decoders refuse more.
pub fn max_payload_size(rows: usize) -> usize {
    rows * MAX_PAYLOAD_BYTES_PER_ROW + MAX_PAYLOAD_OVERHEAD_BYTES
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
    /// `rows` rows. Corrupt input is an error, after which the destinations
    /// hold some unspecified prefix; `rows` over [`MAX_ROWS_PER_BLOCK`] is
    /// refused before anything is allocated.
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
        decode_values(
            encoding,
            rows,
            payload,
            &mut self.mantissas,
            &mut self.exceptions,
            values_dst,
        )
    }
}

/// Fills `dst` with the `rows` values of a raw values column; `mantissas` and
/// `exceptions` are scratch.
fn decode_values(
    encoding: &BlockEncoding,
    rows: usize,
    payload: &[u8],
    mantissas: &mut Vec<i64>,
    exceptions: &mut Vec<Exception>,
    dst: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    let (kind, exponent, payload) = match encoding.values {
        ValueEncoding::Xor => {
            let first_bits = encoding.first_value as u64;
            let rest = xor::decode(first_bits, rows, payload, dst)?;
            return expect_consumed(rest);
        }
        ValueEncoding::Decimal {
            mantissas,
            exponent,
        } => {
            exceptions.clear();
            (mantissas, exponent, payload)
        }
        ValueEncoding::DecimalWithExceptions {
            mantissas,
            exponent,
        } => {
            let rest = exceptions::decode(payload, rows, exceptions)?;
            (mantissas, exponent, rest)
        }
    };
    mantissas.clear();
    int_encoding::decode(
        kind,
        encoding.first_value,
        rows.saturating_sub(exceptions.len()),
        payload,
        Section::Values,
        mantissas,
    )?;
    let places = u8::try_from(exponent.unsigned_abs()).unwrap_or(u8::MAX);
    merge(mantissas, exceptions, decimal::scale(places), dst);
    Ok(())
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
