//! A parsed request: method, path, query parameters, the headers we use, and the body.

use super::params::Params;

/// Most header bytes (request line included) before the request is refused with 431.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most headers one request may carry.
pub const MAX_HEADERS: usize = 100;

/// The parts of a request head that Strata uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, percent-decoding not applied (routes are ASCII).
    pub path: String,
    /// The raw query string (after `?`), possibly empty.
    pub query: String,
    /// HTTP minor version: 0 or 1.
    pub minor_version: u8,
    /// `Content-Length`, when present.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
    /// The connection should close after this request.
    pub close: bool,
    /// `Content-Type`, as sent (parameters such as `proto=` are case-sensitive).
    pub content_type: String,
    /// `Content-Encoding`, lower-cased.
    pub content_encoding: String,
    /// `Authorization`, as sent.
    pub authorization: String,
    /// `X-Prometheus-Remote-Write-Version`.
    pub remote_write_version: String,
}

/// A full request as handed to the API.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The head.
    pub head: RequestHead,
    /// The body, de-chunked (still content-encoded).
    pub body: Vec<u8>,
}

impl Request {
    /// Query-string parameters, plus form-body parameters for form POSTs (body first, as Go's `r.Form`).
    pub fn params(&self) -> Params {
        let mut params = Params::default();
        let form = self
            .head
            .content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded");
        if self.head.method == "POST" && form {
            params.parse_into(&self.body);
        }
        params.parse_into(self.head.query.as_bytes());
        params
    }
}

/// Why a head could not be parsed; each maps to a status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// Malformed request line or headers (400).
    Malformed(String),
    /// Head larger than `MAX_HEADER_BYTES` or too many headers (431).
    TooLarge,
    /// Transfer-Encoding other than chunked (501).
    UnsupportedTransferEncoding(String),
}

/// Tries to parse a request head from the start of `buf`: `Ok(None)` when more bytes are needed,
/// else the head and its length in bytes.
pub fn parse_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let status = match request.parse(buf) {
        Ok(status) => status,
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(e) => return Err(HeadError::Malformed(e.to_string())),
    };
    let httparse::Status::Complete(head_len) = status else {
        if buf.len() > MAX_HEADER_BYTES {
            return Err(HeadError::TooLarge);
        }
        return Ok(None);
    };
    if head_len > MAX_HEADER_BYTES {
        return Err(HeadError::TooLarge);
    }
    let target = request.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let minor_version = request.version.unwrap_or(1);
    let mut head = RequestHead {
        method: request.method.unwrap_or("GET").to_string(),
        path: path.to_string(),
        query: query.to_string(),
        minor_version,
        close: minor_version == 0,
        ..Default::default()
    };
    for header in request.headers.iter() {
        let value = std::str::from_utf8(header.value)
            .map_err(|_| HeadError::Malformed(format!("header {} is not UTF-8", header.name)))?
            .trim();
        match header.name.to_ascii_lowercase().as_str() {
            "content-length" => {
                let length = value.parse::<u64>().map_err(|_| {
                    HeadError::Malformed(format!("invalid Content-Length {value:?}"))
                })?;
                if head.content_length.is_some_and(|l| l != length) {
                    return Err(HeadError::Malformed(
                        "conflicting Content-Length headers".into(),
                    ));
                }
                head.content_length = Some(length);
            }
            "transfer-encoding" => {
                let lower = value.to_ascii_lowercase();
                if lower == "chunked" {
                    head.chunked = true;
                } else if lower != "identity" {
                    return Err(HeadError::UnsupportedTransferEncoding(value.to_string()));
                }
            }
            "expect" => head.expect_continue = value.eq_ignore_ascii_case("100-continue"),
            "connection" => {
                for token in value.split(',').map(str::trim) {
                    if token.eq_ignore_ascii_case("close") {
                        head.close = true;
                    } else if token.eq_ignore_ascii_case("keep-alive") {
                        head.close = false;
                    }
                }
            }
            "content-type" => head.content_type = value.to_string(),
            "content-encoding" => head.content_encoding = value.to_ascii_lowercase(),
            "authorization" => head.authorization = value.to_string(),
            "x-prometheus-remote-write-version" => head.remote_write_version = value.to_string(),
            _ => {}
        }
    }
    if head.chunked && head.content_length.is_some() {
        // RFC 9112 §6.1: a sender must not send both; treat as request smuggling.
        return Err(HeadError::Malformed(
            "both Content-Length and Transfer-Encoding: chunked".into(),
        ));
    }
    Ok(Some((head, head_len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_head() {
        let raw = b"POST /api/v1/query?query=up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Type: Application/X-WWW-Form-Urlencoded\r\n\r\nabc";
        let (head, len) = parse_head(raw).unwrap().unwrap();
        assert_eq!(len, raw.len() - 3);
        assert_eq!(head.path, "/api/v1/query");
        assert_eq!(head.query, "query=up");
        assert_eq!(head.content_length, Some(3));
        assert_eq!(head.content_type, "Application/X-WWW-Form-Urlencoded");
        assert!(!head.close);
    }

    #[test]
    fn partial_and_errors() {
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost:"), Ok(None));
        assert!(matches!(
            parse_head(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
        assert!(matches!(
            parse_head(b"\x01\x02 / HTTP/1.1\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
        let big = vec![b'a'; MAX_HEADER_BYTES + 10];
        let mut raw = b"GET / HTTP/1.1\r\nX: ".to_vec();
        raw.extend_from_slice(&big);
        assert_eq!(parse_head(&raw), Err(HeadError::TooLarge));
        let both = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(parse_head(both), Err(HeadError::Malformed(_))));
        let http10 = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap().0;
        assert!(http10.close);
    }
}
