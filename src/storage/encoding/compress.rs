//! zstd on top of a column's payload, kept only when it makes the column
//! smaller. A compressed column is one zstd frame; whether a column is
//! compressed is a flag in [`super::BlockEncoding`].
//!
//! Both sides hold a zstd context and a scratch buffer so that a shard
//! encoding or decoding block after block allocates nothing per block.
//! Decompression writes into a buffer of fixed capacity — the most bytes an
//! encoder can produce for that many rows — so a corrupt frame claiming a huge
//! size fails instead of allocating.

use super::error::{DecodeError, Section};
use zstd::zstd_safe::{self, CCtx, CParameter, DCtx};

/// Payloads shorter than this are stored raw: a zstd frame's own header and
/// checksum-free block overhead (about 10 bytes) leave nothing to gain.
pub const MIN_COMPRESSIBLE_SIZE: usize = 64;

/// Bytes a zstd frame adds around its entropy-coded content: frame and
/// block headers plus the Huffman table, about what a 16-symbol table takes.
const FRAME_OVERHEAD_BYTES: usize = 24;

/// About how many bytes `raw` takes as stored (zstd only when smaller), from
/// the order-0 entropy of its bytes — what zstd's Huffman-coded literals
/// approach on these noise-like payloads, in about 1 ns per byte instead of
/// 10 for compressing. Used to rank candidate layouts so that only the
/// winner is compressed.
pub fn estimated_size(raw: &[u8]) -> usize {
    if raw.len() < MIN_COMPRESSIBLE_SIZE {
        return raw.len();
    }
    let mut counts = [0u32; 256];
    for &byte in raw {
        if let Some(count) = counts.get_mut(usize::from(byte)) {
            *count += 1;
        }
    }
    let total = raw.len() as f64;
    let bits: f64 = counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| f64::from(count) * (total / f64::from(count)).log2())
        .sum();
    let entropy_coded = (bits / 8.0).ceil() as usize + FRAME_OVERHEAD_BYTES;
    entropy_coded.min(raw.len())
}

/// zstd's longest minimum match. Column payloads are noise-like varints: a
/// short match in them is a coincidence that costs more than the literals it
/// replaces (720 jittered timestamps: 1.5% smaller than the default of 3-5).
const MIN_MATCH_BYTES: u32 = 7;

/// Compresses column payloads with a reusable zstd context.
pub struct Compressor {
    context: CCtx<'static>,
    scratch: Vec<u8>,
    /// The level the context is set up for; `None` before the first use or
    /// after zstd rejected a parameter.
    level: Option<i32>,
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor::new()
    }
}

impl Compressor {
    /// A compressor with a fresh zstd context.
    pub fn new() -> Self {
        Compressor {
            context: CCtx::create(),
            scratch: Vec::new(),
            level: None,
        }
    }

    /// Appends `raw` to `out`, as a zstd frame at `level` when that is
    /// smaller; returns whether it compressed. A zstd failure stores `raw`.
    pub fn append(&mut self, raw: &[u8], level: i32, out: &mut Vec<u8>) -> bool {
        if raw.len() >= MIN_COMPRESSIBLE_SIZE && self.set_level(level) {
            self.scratch.clear();
            self.scratch.reserve(zstd_safe::compress_bound(raw.len()));
            let compressed = self.context.compress2(&mut self.scratch, raw);
            if compressed.is_ok_and(|size| size < raw.len()) {
                out.extend_from_slice(&self.scratch);
                return true;
            }
        }
        out.extend_from_slice(raw);
        false
    }
}

impl Compressor {
    /// Sets the context's parameters for `level` unless already set; returns
    /// whether they are. The frame omits its content size (1-2 bytes): the
    /// decoder knows the bound from the row count.
    fn set_level(&mut self, level: i32) -> bool {
        if self.level == Some(level) {
            return true;
        }
        self.level = None;
        let parameters = [
            CParameter::CompressionLevel(level),
            CParameter::ContentSizeFlag(false),
            CParameter::MinMatch(MIN_MATCH_BYTES),
        ];
        for parameter in parameters {
            if self.context.set_parameter(parameter).is_err() {
                return false;
            }
        }
        self.level = Some(level);
        true
    }
}

/// Decompresses column payloads with a reusable zstd context.
pub struct Decompressor {
    context: DCtx<'static>,
    scratch: Vec<u8>,
}

impl Default for Decompressor {
    fn default() -> Self {
        Decompressor::new()
    }
}

impl Decompressor {
    /// A decompressor with a fresh zstd context.
    pub fn new() -> Self {
        Decompressor {
            context: DCtx::create(),
            scratch: Vec::new(),
        }
    }

    /// The raw payload of a column: `src` itself, or its decompression when
    /// `compressed`, which must not exceed `max_size` bytes.
    pub fn payload<'a>(
        &'a mut self,
        compressed: bool,
        src: &'a [u8],
        max_size: usize,
        section: Section,
    ) -> Result<&'a [u8], DecodeError> {
        if !compressed {
            return Ok(src);
        }
        self.scratch.clear();
        self.scratch.reserve_exact(max_size);
        // zstd fills at most the Vec's capacity, which a larger earlier
        // block may have left above max_size: hence the check after.
        match self.context.decompress(&mut self.scratch, src) {
            Ok(size) if size <= max_size => Ok(&self.scratch),
            Ok(_) => Err(DecodeError::Zstd {
                section,
                reason: "decompressed size exceeds the column's bound",
            }),
            Err(code) => Err(DecodeError::Zstd {
                section,
                reason: zstd_safe::get_error_name(code),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_follow_entropy() {
        assert_eq!(estimated_size(&[1, 2, 3]), 3);
        // One symbol: nothing but overhead.
        assert_eq!(estimated_size(&[7; 1000]), FRAME_OVERHEAD_BYTES);
        // 16 equally likely symbols: 4 bits each.
        let nibbles: Vec<u8> = (0..1000u32).map(|i| (i % 16) as u8).collect();
        assert_eq!(estimated_size(&nibbles), 500 + FRAME_OVERHEAD_BYTES);
        // All 256 symbols: incompressible, stored raw.
        let bytes: Vec<u8> = (0..1024u32).map(|i| (i % 256) as u8).collect();
        assert_eq!(estimated_size(&bytes), 1024);
    }

    #[test]
    fn compresses_only_when_smaller() {
        let mut compressor = Compressor::new();
        let mut decompressor = Decompressor::new();
        let short = [7u8; MIN_COMPRESSIBLE_SIZE - 1];
        let mut out = Vec::new();
        assert!(!compressor.append(&short, 3, &mut out));
        assert_eq!(out, short);

        let repetitive = [7u8; 1000];
        out.clear();
        assert!(compressor.append(&repetitive, 3, &mut out));
        assert!(out.len() < 100);
        let payload = decompressor
            .payload(true, &out, 1000, Section::Values)
            .unwrap();
        assert_eq!(payload, repetitive);

        // Too big for its bound: an error, not a larger allocation.
        assert!(matches!(
            decompressor.payload(true, &out, 999, Section::Values),
            Err(DecodeError::Zstd { .. })
        ));
        // Garbage is an error.
        assert!(matches!(
            decompressor.payload(true, &[1, 2, 3], 1000, Section::Values),
            Err(DecodeError::Zstd { .. })
        ));
    }
}
