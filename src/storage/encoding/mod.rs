//! Lossless block codecs: one series' samples (at most [`MAX_ROWS_PER_BLOCK`]
//! timestamps and values) as two compact column payloads plus a fixed-size
//! [`BlockEncoding`] for the block header. Pure code, no I/O.
//!
//! ```text
//! timestamps: &[i64] ──int_encoding──────────────────────────────► [zstd?] ► timestamps column
//! values: &[f64] ──decimal::split──► mantissas ──int_encoding──┐
//!                                └─► exceptions (stale NaN, …) ─┴► [zstd?] ► values column
//!                └─(not decimal, or smaller)── xor ───────────────► [zstd?] ► values column
//! ```
//!
//! - Values become integer mantissas sharing one decimal exponent per block
//!   ([`decimal`]) wherever that decodes back bit-exactly; rows that do not
//!   (NaNs, ±Inf, -0.0, …) are kept verbatim ([`exceptions`]), and blocks
//!   that are not decimal at all fall back to [`xor`].
//! - Integer columns (timestamps, mantissas) are constant, delta-constant,
//!   nearest-delta ([`delta`]), second-order delta ([`delta2`]) or residuals
//!   from a progression ([`grid`]) as zig-zag varints, whichever promises the
//!   fewest bytes after zstd ([`int_encoding`]); all arithmetic wraps, so any
//!   i64, in any order, round-trips.
//! - zstd goes on top of a column when it saves bytes ([`compress`]).
//!
//! Every f64 bit pattern and every i64 round-trips exactly. Decoders never
//! panic or allocate beyond [`MAX_ROWS_PER_BLOCK`] rows on corrupt input.
#![deny(missing_docs, clippy::indexing_slicing)]

pub mod block_decoder;
pub mod block_encoder;
pub mod block_encoding;
pub mod compress;
pub mod decimal;
pub mod delta;
pub mod delta2;
pub mod error;
pub mod exceptions;
pub mod grid;
pub mod int_encoding;
pub mod xor;

#[cfg(test)]
mod block_test;
#[cfg(test)]
mod proptest_test;

pub use block_decoder::{decode_block, BlockDecoder};
pub use block_encoder::{encode_block, BlockEncoder};
pub use block_encoding::{BlockEncoding, ValueEncoding};
pub use error::{DecodeError, Section};
pub use int_encoding::IntEncoding;

/// Most rows (samples of one series) in a block. Bounds what a decoder
/// allocates for one block (64 KiB per column) and the work of reading one
/// sample out of a block; blocks this large already compress about as well
/// as longer ones would. VictoriaMetrics uses the same figure.
pub const MAX_ROWS_PER_BLOCK: usize = 8192;

const _: () = assert!(
    MAX_ROWS_PER_BLOCK <= u32::MAX as usize,
    "exception positions are u32"
);
