//! A minimal HTTP/1.1 client over one persistent `TcpStream`: POST a body,
//! read the status, headers and body (by Content-Length, chunked, or to EOF).
//!
//! Just enough for load generation: no redirects, no TLS, no pipelining. The
//! request is written with a single `write` of head and body, and all buffers
//! are reused, so the client costs little next to the server it measures.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Largest response head (status line and headers) accepted.
const MAX_HEAD_BYTES: usize = 64 << 10;
/// Largest response body accepted from a write: they answer with a few bytes of text or JSON.
const MAX_BODY_BYTES: usize = 1 << 20;
/// Largest response body accepted from a GET: query answers can be big.
const MAX_GET_BODY_BYTES: usize = 512 << 20;
/// Headers parsed per response.
const MAX_HEADERS: usize = 64;
/// Body bytes kept from a response, to show what an error said.
const BODY_PREFIX_BYTES: usize = 256;
/// Bytes read from the socket at a time.
const READ_CHUNK_BYTES: usize = 16 << 10;

/// Why a request got no HTTP response.
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpError {
    /// Connecting failed.
    Connect(io::Error),
    /// Reading or writing timed out.
    Timeout,
    /// Another socket error.
    Io(io::Error),
    /// The server closed the connection before a complete response.
    Closed,
    /// The response is not HTTP/1.1 as we know it.
    Protocol(String),
}

impl HttpError {
    /// A short name for counting errors by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            HttpError::Connect(_) => "connect",
            HttpError::Timeout => "timeout",
            HttpError::Io(_) => "io",
            HttpError::Closed => "closed",
            HttpError::Protocol(_) => "protocol",
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Connect(e) => write!(f, "connect: {e}"),
            HttpError::Timeout => f.write_str("timeout"),
            HttpError::Io(e) => write!(f, "i/o: {e}"),
            HttpError::Closed => f.write_str("connection closed before the response"),
            HttpError::Protocol(reason) => write!(f, "bad response: {reason}"),
        }
    }
}

fn from_io(e: io::Error) -> HttpError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HttpError::Timeout,
        _ => HttpError::Io(e),
    }
}

/// A response: its status, the start of its body, and whether the server closes.
#[derive(Debug, Default)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// The first bytes of the body.
    pub body_prefix: Vec<u8>,
    /// The server said `Connection: close` (or spoke HTTP/1.0).
    pub close: bool,
}

/// One keep-alive connection.
pub struct HttpConnection {
    stream: TcpStream,
    host: String,
    out: Vec<u8>,
    input: Vec<u8>,
    /// Length of the last response's body at the end of `input`.
    body_len: usize,
}

impl HttpConnection {
    /// Connects to `target` (`host:port`) with `timeout` for connecting, reading and writing.
    pub fn connect(target: &str, timeout: Duration) -> Result<HttpConnection, HttpError> {
        let addr = target
            .to_socket_addrs()
            .map_err(HttpError::Connect)?
            .next()
            .ok_or_else(|| HttpError::Connect(io::Error::other("no address")))?;
        let stream = TcpStream::connect_timeout(&addr, timeout).map_err(HttpError::Connect)?;
        let setup = |s: &TcpStream| {
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(timeout))?;
            s.set_write_timeout(Some(timeout))
        };
        setup(&stream).map_err(HttpError::Connect)?;
        Ok(HttpConnection {
            stream,
            host: target.to_string(),
            out: Vec::new(),
            input: Vec::new(),
            body_len: 0,
        })
    }

    /// POSTs `body` to `path` with `headers` (name, value) and reads the whole response.
    pub fn post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, HttpError> {
        self.out.clear();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        self.out.extend_from_slice(head.as_bytes());
        for (name, value) in headers {
            for part in [name.as_bytes(), b": ", value.as_bytes(), b"\r\n"] {
                self.out.extend_from_slice(part);
            }
        }
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
        self.stream.write_all(&self.out).map_err(from_io)?;
        self.read_response(MAX_BODY_BYTES)
            .map(|(response, _)| response)
    }

    /// GETs `path` (with its query string) and returns the status and the whole
    /// body (de-chunked; no content encoding is asked for).
    pub fn get(&mut self, path: &str) -> Result<(Response, Vec<u8>), HttpError> {
        self.out.clear();
        let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.out.extend_from_slice(head.as_bytes());
        self.stream.write_all(&self.out).map_err(from_io)?;
        let (response, chunked) = self.read_response(MAX_GET_BODY_BYTES)?;
        let head_len = self.input.len() - self.body_len;
        let raw = self.input.get(head_len..).unwrap_or_default();
        let body = if chunked { dechunk(raw) } else { raw.to_vec() };
        Ok((response, body))
    }

    /// Reads one response; returns it and whether its body is chunked. The
    /// body is the last `body_len` bytes of `input`.
    fn read_response(&mut self, max_body: usize) -> Result<(Response, bool), HttpError> {
        self.input.clear();
        loop {
            let (head_len, mut response, framing) = match parse_head(&self.input)? {
                Some(parsed) => parsed,
                None if self.input.len() > MAX_HEAD_BYTES => {
                    return Err(HttpError::Protocol("response head too large".into()))
                }
                None => {
                    self.fill()?;
                    continue;
                }
            };
            let body_len = self.read_body(head_len, framing, max_body)?;
            self.input.truncate(head_len + body_len);
            self.body_len = body_len;
            let body = self.input.get(head_len..).unwrap_or_default();
            response.body_prefix = body
                .iter()
                .take(body_len.min(BODY_PREFIX_BYTES))
                .copied()
                .collect();
            if framing == BodyFraming::UntilClose {
                response.close = true;
            }
            return Ok((response, framing == BodyFraming::Chunked));
        }
    }

    /// Reads until the body after `head_len` is complete; returns its length on the wire.
    fn read_body(
        &mut self,
        head_len: usize,
        framing: BodyFraming,
        max_body: usize,
    ) -> Result<usize, HttpError> {
        loop {
            let available = self.input.len() - head_len;
            let done = match framing {
                BodyFraming::Length(len) => (available >= len).then_some(len),
                BodyFraming::Chunked => {
                    chunked_len(self.input.get(head_len..).unwrap_or_default())?
                }
                BodyFraming::UntilClose => None,
            };
            if let Some(len) = done {
                return Ok(len);
            }
            if available > max_body {
                return Err(HttpError::Protocol("response body too large".into()));
            }
            match (self.fill(), framing) {
                (Err(HttpError::Closed), BodyFraming::UntilClose) => return Ok(available),
                (result, _) => result?,
            }
        }
    }

    /// Appends what the socket has to `input`; `Closed` at EOF.
    fn fill(&mut self) -> Result<(), HttpError> {
        let old = self.input.len();
        self.input.resize(old + READ_CHUNK_BYTES, 0);
        let read = self
            .stream
            .read(self.input.get_mut(old..).unwrap_or_default());
        let n = *read.as_ref().unwrap_or(&0);
        self.input.truncate(old + n);
        match read {
            Ok(0) => Err(HttpError::Closed),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(from_io(e)),
        }
    }
}

/// How the response body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyFraming {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Parses a complete response head, if `input` holds one.
fn parse_head(input: &[u8]) -> Result<Option<(usize, Response, BodyFraming)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(input) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(HttpError::Protocol(e.to_string())),
    };
    let status = parsed.code.unwrap_or(0);
    let mut response = Response {
        status,
        body_prefix: Vec::new(),
        close: parsed.version == Some(0),
    };
    let mut framing = if status == 204 || status == 304 || (100..200).contains(&status) {
        BodyFraming::Length(0)
    } else {
        BodyFraming::UntilClose
    };
    for header in parsed.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            let len = value
                .parse()
                .map_err(|_| HttpError::Protocol(format!("Content-Length {value:?}")))?;
            framing = BodyFraming::Length(len);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding")
            && value.eq_ignore_ascii_case("chunked")
        {
            framing = BodyFraming::Chunked;
        } else if header.name.eq_ignore_ascii_case("connection")
            && value.eq_ignore_ascii_case("close")
        {
            response.close = true;
        }
    }
    Ok(Some((head_len, response, framing)))
}

/// Length of a complete chunked body at the start of `body` (trailers included), or
/// `None` if more bytes are needed.
fn chunked_len(body: &[u8]) -> Result<Option<usize>, HttpError> {
    let mut pos = 0;
    loop {
        let rest = body.get(pos..).unwrap_or_default();
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = rest.get(..line_end).unwrap_or_default();
        let size_text = line.split(|b| *b == b';').next().unwrap_or_default();
        let size_text = std::str::from_utf8(size_text).unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Protocol(format!("chunk size {size_text:?}")))?;
        pos += line_end + 2;
        if size == 0 {
            // Trailers, then an empty line.
            loop {
                let rest = body.get(pos..).unwrap_or_default();
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(Some(pos));
                }
            }
        }
        if size > MAX_GET_BODY_BYTES {
            return Err(HttpError::Protocol("chunk too large".into()));
        }
        if body.len() < pos + size + 2 {
            return Ok(None);
        }
        pos += size + 2;
    }
}

/// The payload of a complete chunked body (sizes, extensions and trailers dropped).
fn dechunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = rest.get(..line_end).unwrap_or_default();
        let size_text = line.split(|b| *b == b';').next().unwrap_or_default();
        let size_text = std::str::from_utf8(size_text).unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let data = rest
            .get(line_end + 2..line_end + 2 + size)
            .unwrap_or_default();
        out.extend_from_slice(data);
        rest = rest.get(line_end + 2 + size + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn chunked_bodies_are_measured_only_when_complete() {
        assert_eq!(chunked_len(b"5\r\nhello\r\n0\r\n\r\n").unwrap(), Some(15));
        assert_eq!(
            chunked_len(b"5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n").unwrap(),
            Some(29)
        );
        assert_eq!(chunked_len(b"5\r\nhel").unwrap(), None);
        assert_eq!(chunked_len(b"5\r\nhello\r\n0\r\n").unwrap(), None);
        assert!(chunked_len(b"zz\r\n").is_err());
    }

    /// Serves canned responses to consecutive requests on one connection and
    /// returns what the client sent.
    fn serve(responses: Vec<&'static [u8]>) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let handle = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            for response in responses {
                let mut buf = [0u8; 4096];
                let n = socket.read(&mut buf).unwrap();
                seen.extend_from_slice(&buf[..n]);
                socket.write_all(response).unwrap();
            }
            seen
        });
        (addr, handle)
    }

    #[test]
    fn keep_alive_requests_with_each_body_framing() {
        let (addr, server) = serve(vec![
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\n\r\nbad row",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        ]);
        let mut conn = HttpConnection::connect(&addr, Duration::from_secs(5)).unwrap();
        let headers = [("Content-Encoding", "snappy")];
        let got: Vec<(u16, Vec<u8>, bool)> = (0..4)
            .map(|_| {
                let r = conn.post("/api/v1/write", &headers, b"abc").unwrap();
                (r.status, r.body_prefix, r.close)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (204, vec![], false),
                (400, b"bad row".to_vec(), false),
                (200, b"2\r\nok\r\n0\r\n\r\n".to_vec(), false),
                (503, vec![], true),
            ]
        );
        let sent = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(sent.starts_with("POST /api/v1/write HTTP/1.1\r\n"));
        assert!(sent.contains("Content-Length: 3\r\nContent-Encoding: snappy\r\n\r\nabc"));
    }

    #[test]
    fn get_returns_whole_dechunked_bodies() {
        let (addr, server) = serve(vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n2\r\n\":\r\n2\r\n1}\r\n0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nnope!",
        ]);
        let mut conn = HttpConnection::connect(&addr, Duration::from_secs(5)).unwrap();
        let (first, body) = conn.get("/api/v1/query?query=up").unwrap();
        assert_eq!((first.status, body.as_slice()), (200, &b"{\"a\":1}"[..]));
        let (second, body) = conn.get("/x").unwrap();
        assert_eq!((second.status, body.as_slice()), (400, &b"nope!"[..]));
        let sent = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(sent.starts_with("GET /api/v1/query?query=up HTTP/1.1\r\n"));
    }

    #[test]
    fn early_close_is_an_error() {
        let (addr, server) = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]);
        let mut conn = HttpConnection::connect(&addr, Duration::from_secs(5)).unwrap();
        let result = conn.post("/", &[], b"x");
        drop(server.join());
        assert!(matches!(result, Err(HttpError::Closed)), "{result:?}");
    }
}
