//! Request body decompression by `Content-Encoding`, streamed where the format allows.
//!
//! Accepted, as VictoriaMetrics accepts them on every ingest path
//! (`lib/protoparser/protoparserutil`): no header, `identity` or `none`;
//! `gzip` (also `x-gzip`, concatenated members allowed); `deflate` (zlib
//! wrapped, as HTTP means it); `zstd` (concatenated frames allowed); and
//! `snappy`, which VictoriaMetrics reads as the snappy **block** format on
//! every path (remote write's framing). A block cannot be decoded before it is
//! whole, so a snappy body is buffered up to the limit and decoded at
//! [`BodyDecoder::finish`]; the others are decoded as the pieces arrive and
//! handed on in pieces of at most about [`MAX_PIECE_BYTES`], whatever the
//! compression ratio. Any other encoding is [`BodyError::Unsupported`], which
//! the HTTP layer answers with 415.

#![deny(clippy::indexing_slicing)]

use std::fmt;
use std::io::Write;

use zstd::stream::raw::Operation;

/// Compressed bytes handed to gzip/deflate per step: deflate expands at most
/// ~1032:1, so one step yields at most ~1 MiB of output.
const INPUT_STEP_BYTES: usize = 1024;

/// Largest zstd window accepted, as a power of two (16 MiB): bounds the decoder's
/// memory. zstd's levels up to 19 use at most 8 MiB; only `--ultra`/`--long`
/// frames need more and are refused as corrupt.
const ZSTD_WINDOW_LOG_MAX: u32 = 24;

/// Size of the buffer zstd decodes into, so the largest piece handed on.
pub const MAX_PIECE_BYTES: usize = 1024 * 1024;

/// A body's `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncoding {
    /// Not compressed.
    Identity,
    /// gzip.
    Gzip,
    /// zlib-wrapped deflate.
    Deflate,
    /// Zstandard.
    Zstd,
    /// Snappy block format.
    Snappy,
}

impl ContentEncoding {
    /// Reads the header value (absent or empty means identity; case and spaces ignored).
    pub fn from_header(value: Option<&str>) -> Result<Self, BodyError> {
        let value = value.unwrap_or("").trim();
        match value.to_ascii_lowercase().as_str() {
            "" | "identity" | "none" => Ok(ContentEncoding::Identity),
            "gzip" | "x-gzip" => Ok(ContentEncoding::Gzip),
            "deflate" => Ok(ContentEncoding::Deflate),
            "zstd" => Ok(ContentEncoding::Zstd),
            "snappy" => Ok(ContentEncoding::Snappy),
            _ => Err(BodyError::Unsupported(value.chars().take(64).collect())),
        }
    }
}

/// Why a body could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyError {
    /// An encoding Strata does not accept (415).
    Unsupported(String),
    /// The compressed data is broken or truncated (400).
    Corrupt {
        /// Which encoding.
        encoding: ContentEncoding,
        /// The decoder's message.
        reason: String,
    },
    /// The body decompresses (or, for snappy, arrives) larger than the limit (413).
    TooLarge {
        /// The limit in bytes.
        limit_bytes: u64,
    },
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Unsupported(e) => write!(
                f,
                "unsupported Content-Encoding {e:?}; supported: gzip, deflate, zstd, snappy, identity"
            ),
            BodyError::Corrupt { encoding, reason } => {
                write!(f, "cannot decompress {encoding:?} body: {reason}")
            }
            BodyError::TooLarge { limit_bytes } => {
                write!(f, "decompressed body is larger than the limit of {limit_bytes} bytes")
            }
        }
    }
}

impl std::error::Error for BodyError {}

enum Inner {
    Identity,
    Gzip(flate2::write::MultiGzDecoder<Vec<u8>>),
    Deflate(flate2::write::ZlibDecoder<Vec<u8>>),
    Zstd {
        decoder: Box<zstd::stream::raw::Decoder<'static>>,
        buffer: Vec<u8>,
        /// Whether the last frame is incomplete (zstd's "remaining" hint was non-zero).
        mid_frame: bool,
    },
    Snappy(Vec<u8>),
}

/// Decompresses one body fed in pieces, handing decompressed pieces to a callback.
pub struct BodyDecoder {
    encoding: ContentEncoding,
    inner: Inner,
    /// Compressed bytes fed so far.
    input_bytes: u64,
    /// Bytes handed on so far.
    output_bytes: u64,
    /// Most bytes the decompressed body may have.
    max_output_bytes: u64,
}

impl fmt::Debug for BodyDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyDecoder")
            .field("encoding", &self.encoding)
            .field("output_bytes", &self.output_bytes)
            .finish_non_exhaustive()
    }
}

impl BodyDecoder {
    /// A decoder for one body that may decompress to at most `max_output_bytes`.
    pub fn new(encoding: ContentEncoding, max_output_bytes: u64) -> Result<Self, BodyError> {
        let inner = match encoding {
            ContentEncoding::Identity => Inner::Identity,
            ContentEncoding::Gzip => Inner::Gzip(flate2::write::MultiGzDecoder::new(Vec::new())),
            ContentEncoding::Deflate => Inner::Deflate(flate2::write::ZlibDecoder::new(Vec::new())),
            ContentEncoding::Zstd => Inner::Zstd {
                decoder: Box::new(zstd_decoder().map_err(|e| corrupt(encoding, &e))?),
                buffer: vec![0; MAX_PIECE_BYTES],
                mid_frame: false,
            },
            ContentEncoding::Snappy => Inner::Snappy(Vec::new()),
        };
        Ok(BodyDecoder {
            encoding,
            inner,
            input_bytes: 0,
            output_bytes: 0,
            max_output_bytes,
        })
    }

    /// Decompresses the next piece of the body, calling `out` with each decompressed piece.
    pub fn feed(&mut self, chunk: &[u8], out: &mut impl FnMut(&[u8])) -> Result<(), BodyError> {
        let encoding = self.encoding;
        self.input_bytes += chunk.len() as u64;
        let (limit, counter) = (self.max_output_bytes, &mut self.output_bytes);
        let mut emit = |piece: &[u8]| -> Result<(), BodyError> {
            *counter += piece.len() as u64;
            if *counter > limit {
                return Err(BodyError::TooLarge { limit_bytes: limit });
            }
            if !piece.is_empty() {
                out(piece);
            }
            Ok(())
        };
        match &mut self.inner {
            Inner::Identity => emit(chunk),
            Inner::Gzip(decoder) => write_in_steps(decoder, chunk, encoding, &mut emit),
            Inner::Deflate(decoder) => write_in_steps(decoder, chunk, encoding, &mut emit),
            Inner::Zstd {
                decoder,
                buffer,
                mid_frame,
            } => zstd_feed(decoder, buffer, mid_frame, chunk, &mut emit),
            Inner::Snappy(body) => {
                // The compressed size can only be smaller than the decompressed one.
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(BodyError::TooLarge { limit_bytes: limit });
                }
                body.extend_from_slice(chunk);
                Ok(())
            }
        }
    }

    /// Ends the body: checks that it was complete and hands out what is left.
    pub fn finish(mut self, out: &mut impl FnMut(&[u8])) -> Result<(), BodyError> {
        let encoding = self.encoding;
        let limit = self.max_output_bytes;
        if self.input_bytes == 0 {
            // An empty body is empty whatever its declared encoding.
            return Ok(());
        }
        match std::mem::replace(&mut self.inner, Inner::Identity) {
            Inner::Identity => Ok(()),
            Inner::Gzip(decoder) => {
                let rest = decoder.finish().map_err(|e| corrupt(encoding, &e))?;
                self.feed(&rest, out)
            }
            Inner::Deflate(decoder) => {
                let rest = decoder.finish().map_err(|e| corrupt(encoding, &e))?;
                self.feed(&rest, out)
            }
            Inner::Zstd { mid_frame, .. } if mid_frame => Err(BodyError::Corrupt {
                encoding,
                reason: "truncated zstd frame".into(),
            }),
            Inner::Zstd { .. } => Ok(()),
            Inner::Snappy(body) => {
                let size = snap::raw::decompress_len(&body).map_err(|e| corrupt(encoding, &e))?;
                if size as u64 > limit {
                    return Err(BodyError::TooLarge { limit_bytes: limit });
                }
                let raw = snap::raw::Decoder::new()
                    .decompress_vec(&body)
                    .map_err(|e| corrupt(encoding, &e))?;
                for piece in raw.chunks(MAX_PIECE_BYTES) {
                    self.feed(piece, out)?;
                }
                Ok(())
            }
        }
    }
}

/// Writes `chunk` into a flate2 writer a step at a time, handing on the output after each step.
fn write_in_steps<W: Write + DrainOutput>(
    decoder: &mut W,
    chunk: &[u8],
    encoding: ContentEncoding,
    emit: &mut impl FnMut(&[u8]) -> Result<(), BodyError>,
) -> Result<(), BodyError> {
    for step in chunk.chunks(INPUT_STEP_BYTES) {
        decoder.write_all(step).map_err(|e| corrupt(encoding, &e))?;
        let output = decoder.output();
        let result = emit(output);
        output.clear();
        result?;
    }
    Ok(())
}

/// Access to the decompressed bytes a flate2 writer collected.
trait DrainOutput {
    fn output(&mut self) -> &mut Vec<u8>;
}

impl DrainOutput for flate2::write::MultiGzDecoder<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
}

impl DrainOutput for flate2::write::ZlibDecoder<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
}

fn zstd_decoder() -> std::io::Result<zstd::stream::raw::Decoder<'static>> {
    let mut decoder = zstd::stream::raw::Decoder::new()?;
    decoder.set_parameter(zstd::stream::raw::DParameter::WindowLogMax(
        ZSTD_WINDOW_LOG_MAX,
    ))?;
    Ok(decoder)
}

fn zstd_feed(
    decoder: &mut zstd::stream::raw::Decoder<'static>,
    buffer: &mut [u8],
    mid_frame: &mut bool,
    mut input: &[u8],
    emit: &mut impl FnMut(&[u8]) -> Result<(), BodyError>,
) -> Result<(), BodyError> {
    loop {
        let status = decoder
            .run_on_buffers(input, buffer)
            .map_err(|e| corrupt(ContentEncoding::Zstd, &e))?;
        input = input.get(status.bytes_read..).unwrap_or_default();
        emit(buffer.get(..status.bytes_written).unwrap_or_default())?;
        *mid_frame = status.remaining != 0;
        let buffer_full = status.bytes_written == buffer.len();
        if input.is_empty() && !buffer_full {
            return Ok(());
        }
        if status.bytes_read == 0 && status.bytes_written == 0 {
            return Err(BodyError::Corrupt {
                encoding: ContentEncoding::Zstd,
                reason: "decoder made no progress".into(),
            });
        }
    }
}

fn corrupt(encoding: ContentEncoding, error: &dyn fmt::Display) -> BodyError {
    BodyError::Corrupt {
        encoding,
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests;
