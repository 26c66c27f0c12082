//! Chunked transfer decoding (RFC 9112 §7.1), incremental so a body can arrive in any pieces.

/// Most bytes of one chunk-size line (hex size plus extensions) we accept.
const MAX_CHUNK_LINE_BYTES: usize = 1024;

/// Where the decoder is inside the chunked stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk with this many data bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last (zero) chunk: trailer lines until an empty line.
    Trailer,
    /// The body is complete.
    Done,
}

/// A chunked body that is malformed or too large.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// Bad chunk size line or missing CRLF (400).
    Malformed(String),
    /// The decoded body exceeds the limit (413).
    TooLarge,
}

/// Incremental chunked decoder.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    limit: usize,
}

impl ChunkedDecoder {
    /// A decoder that refuses bodies larger than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        ChunkedDecoder {
            state: State::Size,
            limit,
        }
    }

    /// Whether the final chunk and trailer were read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes as much of `input` as possible, appending data to `body`; returns bytes consumed.
    /// Stops early (consuming less) when a line is incomplete: call again with more input.
    pub fn feed(&mut self, input: &[u8], body: &mut Vec<u8>) -> Result<usize, ChunkError> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            match self.state {
                State::Done => return Ok(pos),
                State::Size => {
                    let Some(line_len) = find_crlf(rest) else {
                        if rest.len() > MAX_CHUNK_LINE_BYTES {
                            return Err(ChunkError::Malformed("chunk size line too long".into()));
                        }
                        return Ok(pos);
                    };
                    let line = rest.get(..line_len).unwrap_or_default();
                    let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
                    let size_text = std::str::from_utf8(size_text)
                        .map_err(|_| ChunkError::Malformed("chunk size is not ASCII".into()))?
                        .trim();
                    if size_text.is_empty() || size_text.len() > 16 {
                        return Err(ChunkError::Malformed(format!(
                            "invalid chunk size {size_text:?}"
                        )));
                    }
                    let size = u64::from_str_radix(size_text, 16).map_err(|_| {
                        ChunkError::Malformed(format!("invalid chunk size {size_text:?}"))
                    })?;
                    pos += line_len + 2;
                    self.state = if size == 0 {
                        State::Trailer
                    } else {
                        State::Data(size)
                    };
                    if size > (self.limit.saturating_sub(body.len())) as u64 {
                        return Err(ChunkError::TooLarge);
                    }
                }
                State::Data(left) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let take = (left as usize).min(rest.len());
                    body.extend_from_slice(rest.get(..take).unwrap_or_default());
                    pos += take;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(pos);
                    }
                    if rest.get(..2) != Some(b"\r\n") {
                        return Err(ChunkError::Malformed(
                            "missing CRLF after chunk data".into(),
                        ));
                    }
                    pos += 2;
                    self.state = State::Size;
                }
                State::Trailer => {
                    let Some(line_len) = find_crlf(rest) else {
                        if rest.len() > MAX_CHUNK_LINE_BYTES {
                            return Err(ChunkError::Malformed("trailer line too long".into()));
                        }
                        return Ok(pos);
                    };
                    pos += line_len + 2;
                    if line_len == 0 {
                        self.state = State::Done;
                    }
                }
            }
        }
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]], limit: usize) -> Result<Vec<u8>, ChunkError> {
        let mut decoder = ChunkedDecoder::new(limit);
        let mut body = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        for piece in pieces {
            pending.extend_from_slice(piece);
            let used = decoder.feed(&pending, &mut body)?;
            pending.drain(..used);
        }
        assert!(decoder.is_done(), "not done");
        Ok(body)
    }

    #[test]
    fn decodes_in_any_split() {
        let raw = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n";
        let want = b"Wikipedia in\r\n\r\nchunks.".to_vec();
        for split in 0..raw.len() {
            let (a, b) = raw.split_at(split);
            assert_eq!(decode_all(&[a, b], 1000), Ok(want.clone()), "split {split}");
        }
        let bytewise: Vec<&[u8]> = raw.chunks(1).collect();
        assert_eq!(decode_all(&bytewise, 1000), Ok(want));
    }

    #[test]
    fn rejects_bad_and_large() {
        assert!(matches!(
            decode_all(&[b"zz\r\nab\r\n0\r\n\r\n"], 100),
            Err(ChunkError::Malformed(_))
        ));
        assert!(matches!(
            decode_all(&[b"2\r\nabX\r\n0\r\n\r\n"], 100),
            Err(ChunkError::Malformed(_))
        ));
        assert!(matches!(
            decode_all(&[b"ffffffffffffffffff\r\n"], 100),
            Err(ChunkError::Malformed(_))
        ));
        assert_eq!(decode_all(&[b"65\r\n"], 100), Err(ChunkError::TooLarge));
    }
}
