//! A request body read from the connection piece by piece, for handlers that stream (imports):
//! memory stays bounded by one read, whatever the body's size.

use std::time::Duration;

use glommio::net::TcpStream;

use super::body::{ChunkError, ChunkedDecoder};
use super::server::{read_more_pub, ReadOutcome};

/// Largest piece handed out at once.
const PIECE_BYTES: usize = 256 * 1024;

/// How the body's end is known.
enum Framing {
    /// `Content-Length`: bytes left.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked(ChunkedDecoder),
    /// No body.
    Empty,
}

/// Why the body could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyStreamError {
    /// The client went away or a read failed.
    Closed,
    /// No data for longer than the read timeout.
    TimedOut,
    /// A chunked body was malformed.
    Malformed(String),
}

impl std::fmt::Display for BodyStreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyStreamError::Closed => {
                f.write_str("the client closed the connection before the body ended")
            }
            BodyStreamError::TimedOut => {
                f.write_str("the body stopped arriving (--http.read-timeout)")
            }
            BodyStreamError::Malformed(reason) => write!(f, "malformed chunked body: {reason}"),
        }
    }
}

/// The body of one request, read on demand.
pub struct BodyStream<'c> {
    stream: &'c mut TcpStream,
    buf: &'c mut Vec<u8>,
    framing: Framing,
    idle_timeout: Duration,
    /// Decoded bytes waiting to be handed out (chunked framing).
    pending: Vec<u8>,
    finished: bool,
}

impl<'c> BodyStream<'c> {
    /// A stream over the body that follows a head; `buf` holds bytes already read past the head.
    pub(crate) fn new(
        stream: &'c mut TcpStream,
        buf: &'c mut Vec<u8>,
        content_length: Option<u64>,
        chunked: bool,
        idle_timeout: Duration,
    ) -> Self {
        let framing = match (content_length, chunked) {
            (_, true) => Framing::Chunked(ChunkedDecoder::new(usize::MAX)),
            (Some(length), false) if length > 0 => Framing::Length(length),
            _ => Framing::Empty,
        };
        BodyStream {
            stream,
            buf,
            framing,
            idle_timeout,
            pending: Vec::new(),
            finished: false,
        }
    }

    /// The next piece of the body, or `None` at its end.
    pub async fn next_piece(&mut self) -> Result<Option<Vec<u8>>, BodyStreamError> {
        loop {
            match &mut self.framing {
                Framing::Empty => {
                    self.finished = true;
                    return Ok(None);
                }
                Framing::Length(0) => {
                    self.finished = true;
                    return Ok(None);
                }
                Framing::Length(left) => {
                    if !self.buf.is_empty() {
                        let take =
                            (*left).min(self.buf.len() as u64).min(PIECE_BYTES as u64) as usize;
                        *left -= take as u64;
                        return Ok(Some(self.buf.drain(..take).collect()));
                    }
                }
                Framing::Chunked(decoder) => {
                    if decoder.is_done() && self.pending.is_empty() {
                        self.finished = true;
                        return Ok(None);
                    }
                    let used = decoder
                        .feed(self.buf, &mut self.pending)
                        .map_err(|e| match e {
                            ChunkError::Malformed(reason) => BodyStreamError::Malformed(reason),
                            ChunkError::TooLarge => {
                                BodyStreamError::Malformed("chunk too large".into())
                            }
                        })?;
                    self.buf.drain(..used);
                    if !self.pending.is_empty()
                        && (self.pending.len() >= PIECE_BYTES
                            || decoder.is_done()
                            || self.buf.is_empty())
                    {
                        return Ok(Some(std::mem::take(&mut self.pending)));
                    }
                    if decoder.is_done() {
                        continue;
                    }
                }
            }
            match read_more_pub(self.stream, self.buf, self.idle_timeout).await {
                ReadOutcome::Data => {}
                ReadOutcome::Closed => return Err(BodyStreamError::Closed),
                ReadOutcome::TimedOut => return Err(BodyStreamError::TimedOut),
            }
        }
    }

    /// Reads and discards the rest of the body (so the connection can serve the next request).
    pub async fn drain(&mut self) -> Result<(), BodyStreamError> {
        while self.next_piece().await?.is_some() {}
        Ok(())
    }

    /// Whether the body was read to its end.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}
