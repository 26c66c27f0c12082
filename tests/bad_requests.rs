//! Issue 2: every bad request gets the right status and a Prometheus error naming the problem,
//! never a panic or hang, and the server answers good requests afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{enc, encode_remote_write, http, now_ms, raw_exchange, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const MAX_BODY: usize = 100_000;

struct Case {
    name: &'static str,
    raw: Vec<u8>,
    status: u16,
    error_type: &'static str,
    error_contains: &'static str,
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut raw =
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        raw.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    raw.extend_from_slice(body);
    raw
}

fn write(body: &[u8]) -> Vec<u8> {
    request(
        "POST",
        "/api/v1/write",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
        ],
        body,
    )
}

fn write_series(list: Vec<strata::ingest::remote_write::proto::TimeSeries>) -> Vec<u8> {
    write(&encode_remote_write(&WriteRequest {
        timeseries: list,
        metadata: vec![],
    }))
}

fn get(path: &str) -> Vec<u8> {
    request("GET", path, &[], b"")
}

fn case(
    name: &'static str,
    raw: Vec<u8>,
    status: u16,
    error_type: &'static str,
    error_contains: &'static str,
) -> Case {
    Case {
        name,
        raw,
        status,
        error_type,
        error_contains,
    }
}

#[test]
fn bad_requests_get_clear_errors() {
    let dir = TempDir::new("bad-requests");
    let max = MAX_BODY.to_string();
    let server = Server::start(dir.path(), &["--max-request-bytes", &max]);
    let now = now_ms();
    let ok_labels = [("__name__", "kept_metric"), ("job", "bad-requests")];
    let huge_decompressed = snap::raw::Encoder::new()
        .compress_vec(&vec![0u8; MAX_BODY * 2])
        .unwrap();
    let long_value = "v".repeat(5000);
    let many_labels: Vec<(String, String)> = (0..41)
        .map(|i| (format!("l{i:02}"), "x".to_string()))
        .collect();
    let many_labels_ref: Vec<(&str, &str)> = many_labels
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut chunked_bad = b"POST /api/v1/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".to_vec();
    let mut chunked_big =
        b"POST /api/v1/write HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunked_big.extend_from_slice(format!("{:x}\r\n", MAX_BODY + 1).as_bytes());
    let mut big_header = b"GET /api/v1/labels HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    big_header.extend_from_slice(&vec![b'a'; 70_000]);
    big_header.extend_from_slice(b"\r\n\r\n");
    let both_lengths = b"POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunked_bad.shrink_to_fit();

    let cases = vec![
        case(
            "broken snappy",
            write(b"\xff\xff\xff\xff not snappy"),
            400,
            "bad_data",
            "cannot decompress snappy body",
        ),
        case(
            "broken protobuf",
            write(
                &snap::raw::Encoder::new()
                    .compress_vec(b"\x0a\xff\xff\xff")
                    .unwrap(),
            ),
            400,
            "bad_data",
            "cannot decode protobuf",
        ),
        case(
            "oversized body",
            write(&vec![0u8; MAX_BODY + 1]),
            413,
            "bad_data",
            "--max-request-bytes",
        ),
        case(
            "oversized after decompression",
            write(&huge_decompressed),
            413,
            "bad_data",
            "decompressed body",
        ),
        case(
            "bad chunk size",
            chunked_bad,
            400,
            "bad_data",
            "invalid chunk size",
        ),
        case(
            "oversized chunked body",
            chunked_big,
            413,
            "bad_data",
            "--max-request-bytes",
        ),
        case(
            "Content-Length and chunked",
            both_lengths,
            400,
            "bad_data",
            "both Content-Length and Transfer-Encoding",
        ),
        case(
            "headers too large",
            big_header,
            431,
            "bad_data",
            "headers are too large",
        ),
        case(
            "malformed request line",
            b"GARBAGE\x01 / HTTP/1.1\r\n\r\n".to_vec(),
            400,
            "bad_data",
            "malformed HTTP request",
        ),
        case(
            "unknown path",
            get("/api/v1/nope"),
            404,
            "not_found",
            "unknown path /api/v1/nope",
        ),
        case(
            "wrong method on query",
            request("DELETE", "/api/v1/query", &[], b""),
            405,
            "bad_data",
            "method DELETE is not allowed",
        ),
        case(
            "GET on write",
            get("/api/v1/write"),
            405,
            "bad_data",
            "use POST",
        ),
        case(
            "unknown remote write proto",
            request(
                "POST",
                "/api/v1/write",
                &[(
                    "Content-Type",
                    "application/x-protobuf;proto=io.example.Nope",
                )],
                b"x",
            ),
            415,
            "bad_data",
            "io.example.Nope",
        ),
        case(
            "unsupported encoding on remote write",
            request(
                "POST",
                "/api/v1/write",
                &[
                    ("Content-Type", "application/x-protobuf"),
                    ("Content-Encoding", "br"),
                ],
                b"x",
            ),
            415,
            "bad_data",
            "Content-Encoding",
        ),
        case(
            "bad matcher regex",
            get(&format!("/api/v1/query?query={}", enc(r#"{job=~"("}"#))),
            400,
            "bad_data",
            "invalid parameter \"query\"",
        ),
        case(
            "syntax error",
            get(&format!("/api/v1/query?query={}", enc("up{"))),
            400,
            "bad_data",
            "parse error",
        ),
        case(
            "empty query",
            get("/api/v1/query"),
            400,
            "bad_data",
            "invalid parameter \"query\"",
        ),
        case(
            "bad time",
            get("/api/v1/query?query=up&time=yesterday"),
            400,
            "bad_data",
            "invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp",
        ),
        case(
            "missing start",
            get("/api/v1/query_range?query=up&end=10&step=1"),
            400,
            "bad_data",
            "invalid parameter \"start\"",
        ),
        case(
            "bad step",
            get("/api/v1/query_range?query=up&start=1&end=10&step=fast"),
            400,
            "bad_data",
            "invalid parameter \"step\": cannot parse \"fast\" to a valid duration",
        ),
        case(
            "zero step",
            get("/api/v1/query_range?query=up&start=1&end=10&step=0"),
            400,
            "bad_data",
            "zero or negative query resolution step",
        ),
        case(
            "end before start",
            get("/api/v1/query_range?query=up&start=10&end=1&step=1"),
            400,
            "bad_data",
            "end timestamp must not be before start time",
        ),
        case(
            "too many points",
            get("/api/v1/query_range?query=up&start=0&end=100000&step=1"),
            400,
            "bad_data",
            "exceeded maximum resolution of 11,000 points",
        ),
        case(
            "unsupported experimental PromQL",
            get(&format!("/api/v1/query?query={}", enc("limitk(1, up)"))),
            422,
            "execution",
            "is experimental and not supported",
        ),
        case(
            "range vector in range query",
            get(&format!(
                "/api/v1/query_range?query={}&start=1&end=10&step=1",
                enc("up[5m]")
            )),
            400,
            "bad_data",
            "invalid expression type \"range vector\"",
        ),
        case(
            "series without match[]",
            get("/api/v1/series"),
            400,
            "bad_data",
            "no match[] parameter provided",
        ),
        case(
            "series with bad match[]",
            get(&format!("/api/v1/series?match[]={}", enc("sum(up)"))),
            400,
            "bad_data",
            "invalid parameter \"match[]\"",
        ),
        case(
            "bad limit",
            get("/api/v1/labels?limit=lots"),
            400,
            "bad_data",
            "invalid parameter \"limit\"",
        ),
        case(
            "bad start on labels",
            get("/api/v1/labels?start=never"),
            400,
            "bad_data",
            "invalid parameter \"start\"",
        ),
        case(
            "duplicate label keeps the valid series",
            write_series(vec![
                series(&ok_labels, &[(now, 1.5)]),
                series(
                    &[("__name__", "dup"), ("job", "a"), ("job", "b")],
                    &[(now, 1.0)],
                ),
            ]),
            400,
            "bad_data",
            "duplicate label name \"job\"",
        ),
        case(
            "empty label name",
            write_series(vec![series(&[("__name__", "x"), ("", "v")], &[(now, 1.0)])]),
            400,
            "bad_data",
            "empty label name",
        ),
        case(
            "too many labels",
            write_series(vec![series(&many_labels_ref, &[(now, 1.0)])]),
            400,
            "bad_data",
            "--max-labels-per-series",
        ),
        case(
            "label value too long",
            write_series(vec![series(
                &[("__name__", "x"), ("v", &long_value)],
                &[(now, 1.0)],
            )]),
            400,
            "bad_data",
            "--max-label-value-bytes",
        ),
    ];
    assert!(cases.len() >= 20);
    for case in &cases {
        let response = raw_exchange(&server.addr, &case.raw);
        assert_eq!(
            response.status,
            case.status,
            "{}: {}",
            case.name,
            response.text()
        );
        assert_eq!(
            response.header("content-type"),
            Some("application/json"),
            "{}",
            case.name
        );
        let json = response.json();
        assert_eq!(json["status"], "error", "{}", case.name);
        assert_eq!(json["errorType"], case.error_type, "{}: {json}", case.name);
        let error = json["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(case.error_contains),
            "{}: error {error:?} lacks {:?}",
            case.name,
            case.error_contains
        );
    }

    // The valid series of the request with a duplicate label was kept.
    let data = server.get_data(&format!(
        "/api/v1/query?query={}",
        enc(r#"kept_metric{job="bad-requests"}"#)
    ));
    assert_eq!(data["result"][0]["value"][1], "1.5", "{data}");
    // And a good query works afterwards, on a keep-alive connection too.
    let response = http(
        &server.addr,
        "GET",
        "/api/v1/query?query=kept_metric",
        &[],
        b"",
    );
    assert_eq!(response.status, 200);
    let metrics = server.get("/metrics").text();
    assert!(
        metrics.contains("strata_http_requests_total{path=\"/api/v1/query\",code=\"400\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("strata_invalid_series_total 4"),
        "{metrics}"
    );
    assert!(server.stop().success());
}
