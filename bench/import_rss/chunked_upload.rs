//! One POST whose body is generated while it is sent, with `Transfer-Encoding: chunked`: the
//! client holds one chunk at a time, so a 1 GiB body costs it 64 KiB.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::body_generator::BodyGenerator;

/// Body bytes per chunk.
const CHUNK_BYTES: usize = 64 << 10;
/// Largest response body kept (Strata answers imports with 204 or a short error).
const MAX_RESPONSE_BODY_BYTES: u64 = 64 << 10;

/// What one upload sent and got back.
#[derive(Debug)]
pub struct Upload {
    /// Body bytes sent (before chunk framing).
    pub body_bytes: u64,
    /// Samples in the body.
    pub samples: u64,
    /// From the first body byte to the response.
    pub elapsed: Duration,
    /// HTTP status.
    pub status: u16,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Response body (an error's text).
    pub body: String,
}

impl Upload {
    /// A response header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// POSTs `body_bytes` (rounded up to whole lines) of `generator`'s lines to `target` + `path`.
pub fn upload(
    target: &str,
    path: &str,
    generator: &mut BodyGenerator,
    body_bytes: u64,
    timeout: Duration,
) -> std::io::Result<Upload> {
    let mut stream = TcpStream::connect(target)?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_read_timeout(Some(timeout))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {target}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    let started = Instant::now();
    let samples_before = generator.samples;
    let mut sent = 0u64;
    let mut chunk = Vec::with_capacity(CHUNK_BYTES * 2);
    // A write error means the server answered early (e.g. 400) and closed: read that answer.
    let mut write_error = None;
    while sent < body_bytes {
        chunk.clear();
        let want = (body_bytes - sent).min(CHUNK_BYTES as u64) as usize;
        generator.fill(&mut chunk, want);
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if let Err(e) = stream.write_all(&framed) {
            write_error = Some(e);
            break;
        }
        sent += chunk.len() as u64;
    }
    if write_error.is_none() {
        if let Err(e) = stream.write_all(b"0\r\n\r\n") {
            write_error = Some(e);
        }
    }
    let response = read_response(&mut BufReader::new(&stream));
    let (status, headers, body) = match (response, write_error) {
        (Ok(response), _) => response,
        (Err(_), Some(e)) | (Err(e), None) => return Err(e),
    };
    Ok(Upload {
        body_bytes: sent,
        samples: generator.samples - samples_before,
        elapsed: started.elapsed(),
        status,
        headers,
        body,
    })
}

type Head = (u16, Vec<(String, String)>, String);

fn read_response(reader: &mut impl BufRead) -> std::io::Result<Head> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no HTTP status line"))?;
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(0)
        .min(MAX_RESPONSE_BODY_BYTES);
    let mut body = String::new();
    reader.take(length).read_to_string(&mut body)?;
    Ok((status, headers, body))
}
