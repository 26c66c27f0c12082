//! Accepting connections and serving requests on them, in order, with limits and timeouts.

use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};

use super::body::{ChunkError, ChunkedDecoder};
use super::body_stream::BodyStream;
use super::request::{parse_head, HeadError, Request, RequestHead};
use super::response::Response;

/// Bytes read from a socket at a time.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Serves requests: implemented by the API router.
pub trait Handler {
    /// Answers one request whose body was read whole.
    fn handle(&self, request: Request) -> impl Future<Output = Response>;

    /// Whether this request's body should be streamed to [`handle_stream`](Self::handle_stream)
    /// instead of being read whole (imports of any size).
    fn wants_stream(&self, head: &RequestHead) -> bool;

    /// Answers one request, reading its body piece by piece.
    fn handle_stream(
        &self,
        head: RequestHead,
        body: &mut BodyStream<'_>,
    ) -> impl Future<Output = Response>;
}

/// What one connection may cost us.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body (after de-chunking), else 413.
    pub max_body_bytes: usize,
    /// A connection with no request in progress is closed after this long.
    pub idle_timeout: Duration,
    /// A request's head and body must arrive within this long of its first byte, else 408.
    pub read_timeout: Duration,
}

/// Accepts connections forever, serving each on its own task.
pub async fn serve<H: Handler + 'static>(listener: TcpListener, handler: Rc<H>, limits: Limits) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                let handler = handler.clone();
                glommio::spawn_local(async move {
                    serve_connection(stream, handler, limits).await;
                })
                .detach();
            }
            Err(error) => {
                // EMFILE and friends: back off instead of spinning; never give up on the listener.
                log::warn!("accept failed: {error}");
                glommio::timer::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Why a connection stops.
enum Stop {
    /// The peer closed it or a timeout passed with nothing in progress.
    Quiet,
    /// Answer with this response, then close.
    Respond(Response),
}

async fn serve_connection<H: Handler>(mut stream: TcpStream, handler: Rc<H>, limits: Limits) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK_BYTES);
    let mut out: Vec<u8> = Vec::new();
    loop {
        let head = match read_head(&mut stream, &mut buf, &limits).await {
            Ok(head) => head,
            Err(Stop::Quiet) => break,
            Err(Stop::Respond(response)) => {
                out.clear();
                response.write_to(true, false, &mut out);
                let _ = stream.write_all(&out).await;
                break;
            }
        };
        if handler.wants_stream(&head.0) {
            let (head, _) = head;
            let close = head.close;
            let head_only = head.method == "HEAD";
            let wants_continue = head.expect_continue
                && (head.chunked || head.content_length.is_some_and(|l| l > 0))
                && buf.is_empty();
            if wants_continue
                && stream
                    .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                    .await
                    .is_err()
            {
                break;
            }
            let (response, finished) = {
                let mut body = BodyStream::new(
                    &mut stream,
                    &mut buf,
                    head.content_length,
                    head.chunked,
                    limits.read_timeout,
                );
                let response = handler.handle_stream(head, &mut body).await;
                // Keep the connection only if the body was consumed to its end.
                let finished = body.is_finished() || body.drain().await.is_ok();
                (response, finished)
            };
            out.clear();
            response.write_to(close || !finished, head_only, &mut out);
            if stream.write_all(&out).await.is_err() || close || !finished {
                break;
            }
            continue;
        }
        let request = match read_rest(&mut stream, &mut buf, &limits, head).await {
            Ok(request) => request,
            Err(Stop::Quiet) => break,
            Err(Stop::Respond(response)) => {
                out.clear();
                response.write_to(true, false, &mut out);
                let _ = stream.write_all(&out).await;
                break;
            }
        };
        let close = request.head.close;
        let head_only = request.head.method == "HEAD";
        let response = handler.handle(request).await;
        out.clear();
        response.write_to(close, head_only, &mut out);
        if stream.write_all(&out).await.is_err() || close {
            break;
        }
    }
    let _ = stream.close().await;
}

async fn read_head(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    limits: &Limits,
) -> Result<(RequestHead, Instant), Stop> {
    let mut started: Option<Instant> = (!buf.is_empty()).then(Instant::now);
    let head = loop {
        match parse_head(buf) {
            Ok(Some((head, len))) => {
                buf.drain(..len);
                break head;
            }
            Ok(None) => {}
            Err(error) => return Err(Stop::Respond(head_error_response(error))),
        }
        let wait = match started {
            None => limits.idle_timeout,
            Some(at) => limits.read_timeout.saturating_sub(at.elapsed()),
        };
        match read_more(stream, buf, wait).await {
            Ok(0) => return Err(Stop::Quiet),
            Ok(_) => {
                started.get_or_insert_with(Instant::now);
            }
            Err(ReadError::TimedOut) if started.is_some() => {
                return Err(Stop::Respond(timeout_response()))
            }
            Err(_) => return Err(Stop::Quiet),
        }
    };
    Ok((head, started.unwrap_or_else(Instant::now)))
}

async fn read_rest(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    limits: &Limits,
    (head, started): (RequestHead, Instant),
) -> Result<Request, Stop> {
    let body = read_body(stream, buf, &head, limits, started).await?;
    Ok(Request { head, body })
}

/// What one read from the socket gave.
pub(crate) enum ReadOutcome {
    /// Bytes were appended.
    Data,
    /// The peer closed, or the read failed.
    Closed,
    /// Nothing arrived within the wait.
    TimedOut,
}

/// Reads more bytes onto `buf` waiting at most `wait` (for streamed bodies).
pub(crate) async fn read_more_pub(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    wait: Duration,
) -> ReadOutcome {
    match read_more(stream, buf, wait).await {
        Ok(0) | Err(ReadError::Io) => ReadOutcome::Closed,
        Ok(_) => ReadOutcome::Data,
        Err(ReadError::TimedOut) => ReadOutcome::TimedOut,
    }
}

async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    head: &RequestHead,
    limits: &Limits,
    started: Instant,
) -> Result<Vec<u8>, Stop> {
    let too_large = || {
        Stop::Respond(Response::prometheus_error(
            413,
            "bad_data",
            &format!(
                "request body is larger than the limit of {} bytes (--max-request-bytes)",
                limits.max_body_bytes
            ),
        ))
    };
    let expects_body = head.chunked || head.content_length.is_some_and(|l| l > 0);
    if let Some(length) = head.content_length {
        if length > limits.max_body_bytes as u64 {
            return Err(too_large());
        }
    }
    if head.expect_continue && expects_body && buf.is_empty() {
        stream
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .map_err(|_| Stop::Quiet)?;
    }
    if let Some(length) = head.content_length {
        let length = length as usize;
        while buf.len() < length {
            read_with_deadline(stream, buf, limits, started).await?;
        }
        return Ok(buf.drain(..length).collect());
    }
    if !head.chunked {
        return Ok(Vec::new());
    }
    let mut decoder = ChunkedDecoder::new(limits.max_body_bytes);
    let mut body = Vec::new();
    loop {
        match decoder.feed(buf, &mut body) {
            Ok(used) => {
                buf.drain(..used);
            }
            Err(ChunkError::TooLarge) => return Err(too_large()),
            Err(ChunkError::Malformed(reason)) => {
                return Err(Stop::Respond(Response::prometheus_error(
                    400,
                    "bad_data",
                    &format!("malformed chunked body: {reason}"),
                )));
            }
        }
        if decoder.is_done() {
            return Ok(body);
        }
        read_with_deadline(stream, buf, limits, started).await?;
    }
}

async fn read_with_deadline(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    limits: &Limits,
    started: Instant,
) -> Result<(), Stop> {
    match read_more(
        stream,
        buf,
        limits.read_timeout.saturating_sub(started.elapsed()),
    )
    .await
    {
        Ok(0) => Err(Stop::Quiet),
        Ok(_) => Ok(()),
        Err(ReadError::TimedOut) => Err(Stop::Respond(timeout_response())),
        Err(ReadError::Io) => Err(Stop::Quiet),
    }
}

enum ReadError {
    TimedOut,
    Io,
}

/// Reads what is available (up to `READ_CHUNK_BYTES`) onto the end of `buf`.
async fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    wait: Duration,
) -> Result<usize, ReadError> {
    if wait.is_zero() {
        return Err(ReadError::TimedOut);
    }
    let old_len = buf.len();
    buf.resize(old_len + READ_CHUNK_BYTES, 0);
    let tail = buf.get_mut(old_len..).unwrap_or_default();
    let result = glommio::timer::timeout(wait, async {
        stream.read(tail).await.map_err(glommio::GlommioError::from)
    })
    .await;
    match result {
        Ok(n) => {
            buf.truncate(old_len + n);
            Ok(n)
        }
        Err(glommio::GlommioError::TimedOut(_)) => {
            buf.truncate(old_len);
            Err(ReadError::TimedOut)
        }
        Err(_) => {
            buf.truncate(old_len);
            Err(ReadError::Io)
        }
    }
}

fn timeout_response() -> Response {
    Response::prometheus_error(
        408,
        "timeout",
        "request not received in time (--http.read-timeout)",
    )
}

fn head_error_response(error: HeadError) -> Response {
    match error {
        HeadError::Malformed(reason) => Response::prometheus_error(
            400,
            "bad_data",
            &format!("malformed HTTP request: {reason}"),
        ),
        HeadError::TooLarge => {
            Response::prometheus_error(431, "bad_data", "request headers are too large")
        }
        HeadError::UnsupportedTransferEncoding(te) => Response::prometheus_error(
            501,
            "bad_data",
            &format!("unsupported Transfer-Encoding {te:?}"),
        ),
    }
}
