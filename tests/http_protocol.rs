//! Issue 2: the hand-written HTTP/1.1 server — keep-alive, pipelining in order, chunked bodies,
//! `Expect: 100-continue`, form POSTs, and timeouts for idle and slow clients.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{enc, read_response, Server, TempDir};

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

#[test]
fn http_protocol_behaviour() {
    let dir = TempDir::new("http");
    let server = Server::start(
        dir.path(),
        &["--http.idle-timeout", "1s", "--http.read-timeout", "2s"],
    );

    // Pipelining: three requests in one write, answered in order on one connection.
    let mut stream = connect(&server);
    let pipelined = format!(
        "GET /api/v1/query?query=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/query?query=2 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/query?query={} HTTP/1.1\r\nHost: x\r\n\r\n",
        enc("3")
    );
    stream.write_all(pipelined.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for want in ["1", "2", "3"] {
        let response = read_response(&mut reader).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.json()["data"]["result"][1], want);
    }

    // Keep-alive: the same connection serves a chunked form POST, sent in pieces.
    let body = format!("query={}", enc("42"));
    let (a, b) = body.split_at(5);
    let head = "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .write_all(format!("{:x}\r\n{a}\r\n", a.len()).as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    stream
        .write_all(format!("{:x};ext=1\r\n{b}\r\n0\r\n\r\n", b.len()).as_bytes())
        .unwrap();
    let response = read_response(&mut reader).unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["data"]["result"][1], "42");

    // Expect: 100-continue gets an interim 100 before the body is sent.
    let body = format!("query={}", enc("7"));
    let head = format!(
        "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut interim = [0u8; 25];
    reader.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(body.as_bytes()).unwrap();
    let response = read_response(&mut reader).unwrap();
    assert_eq!(response.json()["data"]["result"][1], "7");

    // HEAD answers headers only; Connection: close closes after the answer.
    stream
        .write_all(b"HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    let text = String::from_utf8_lossy(&rest);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.ends_with("\r\n\r\n"),
        "HEAD must have no body: {text:?}"
    );

    // HTTP/1.0 without keep-alive is closed after one response.
    let mut stream = connect(&server);
    stream.write_all(b"GET /health HTTP/1.0\r\n\r\n").unwrap();
    let mut all = Vec::new();
    stream.read_to_end(&mut all).unwrap();
    assert!(String::from_utf8_lossy(&all).contains("OK"));

    // An idle connection is closed after --http.idle-timeout.
    let mut stream = connect(&server);
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = stream.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "idle connection should be closed");
    assert!(started.elapsed() < Duration::from_secs(10));

    // A slow client that never finishes its headers gets 408 after --http.read-timeout.
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let response = read_response(&mut reader).unwrap();
    assert_eq!(response.status, 408);
    assert_eq!(response.json()["errorType"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(10));

    // A body that stalls halfway also times out.
    let mut stream = connect(&server);
    stream
        .write_all(b"POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nquery=")
        .unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(read_response(&mut reader).unwrap().status, 408);

    assert_eq!(server.get("/-/ready").status, 200);
    assert_eq!(server.get("/-/healthy").text(), "OK");
    assert!(server.stop().success());
}
