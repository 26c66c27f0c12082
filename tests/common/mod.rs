//! Shared harness for end-to-end tests: start the real `strata` binary on an ephemeral port
//! with a temp data dir, talk HTTP to it, stop it with SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use prost::Message;
use strata::ingest::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};

/// How long start-up may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A temp directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory under the system temp dir (ext4 here, so O_DIRECT is exercised).
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path =
            std::env::temp_dir().join(format!("strata-test-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("STRATA_TEST_KEEP").is_some() {
            eprintln!("keeping {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running strata process.
pub struct Server {
    child: Option<Child>,
    /// `127.0.0.1:port`.
    pub addr: String,
    /// Its data dir.
    pub data_dir: PathBuf,
    /// Lines it wrote to stderr so far (collected by a thread).
    stderr: mpsc::Receiver<String>,
}

/// The path of the built binary, or `STRATA_BIN` when set: a long run (crash cycles) can use a
/// copy, so that builds meanwhile do not swap the binary under it.
pub fn strata_bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("STRATA_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_strata").to_string())
    })
}

impl Server {
    /// Starts strata with 2 shards on an ephemeral port, plus `extra` flags.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--listen", "127.0.0.1:0", "--shards", "2"];
        args.extend_from_slice(extra);
        Server::start_with_args(data_dir, &args)
    }

    /// Starts strata with exactly these flags plus `--data-dir`. A start that stalls (the known
    /// rare glommio lost wakeup, which strata reports and exits on) is tried again, at most twice.
    pub fn start_with_args(data_dir: &Path, args: &[&str]) -> Server {
        for attempt in 0..3 {
            match Server::try_start(data_dir, args) {
                Ok(server) => return server,
                Err(reason) if attempt < 2 && reason.contains("start-up stalled") => {
                    eprintln!("start attempt {attempt} stalled, starting again: {reason}");
                }
                Err(reason) => panic!("{reason}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    fn try_start(data_dir: &Path, args: &[&str]) -> Result<Server, String> {
        let mut child = Command::new(strata_bin())
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn strata");
        let (stderr_tx, stderr_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[strata] {line}");
                let _ = stderr_tx.send(line);
            }
        });
        let (addr_tx, addr_rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("strata listening on http://") {
                    let addr = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = addr_tx.send(addr);
                }
            }
        });
        let addr = match addr_rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => addr,
            Err(_) => {
                eprintln!(
                    "start timed out; threads of pid {}:\n{}",
                    child.id(),
                    thread_dump(child.id())
                );
                let _ = child.kill();
                let status = child.wait().ok();
                let lines: Vec<String> = stderr_rx.try_iter().collect();
                return Err(format!("strata did not start ({status:?}): {lines:?}"));
            }
        };
        Ok(Server {
            child: Some(child),
            addr,
            data_dir: data_dir.to_path_buf(),
            stderr: stderr_rx,
        })
    }

    /// Sends SIGTERM and waits (at most 10 s) for a clean exit; returns the status.
    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("strata did not exit within 10 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL (a crash) and waits for it.
    pub fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Stderr lines collected so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// GET `path` (with query string).
    pub fn get(&self, path: &str) -> HttpResponse {
        http(&self.addr, "GET", path, &[], b"")
    }

    /// POST a form body.
    pub fn post_form(&self, path: &str, form: &str) -> HttpResponse {
        http(
            &self.addr,
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        )
    }

    /// POST a remote_write request; returns the response.
    pub fn remote_write(&self, request: &WriteRequest) -> HttpResponse {
        let body = encode_remote_write(request);
        http(
            &self.addr,
            "POST",
            "/api/v1/write",
            &[
                ("Content-Type", "application/x-protobuf"),
                ("Content-Encoding", "snappy"),
                ("X-Prometheus-Remote-Write-Version", "0.1.0"),
            ],
            &body,
        )
    }

    /// GET and parse a JSON success response's `data`, asserting status 200.
    pub fn get_data(&self, path: &str) -> serde_json::Value {
        let response = self.get(path);
        assert_eq!(response.status, 200, "GET {path}: {}", response.text());
        let json = response.json();
        assert_eq!(json["status"], "success", "GET {path}: {json}");
        json["data"].clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Names, kernel wait channels and kernel stacks of a process' threads (for diagnosing hangs).
pub fn thread_dump(pid: u32) -> String {
    let mut out = String::new();
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default();
    for task in tasks {
        let path = task.path();
        let read = |f: &str| std::fs::read_to_string(path.join(f)).unwrap_or_default();
        out.push_str(&format!(
            "{} {} wchan={} \n{}\n",
            task.file_name().to_string_lossy(),
            read("comm").trim(),
            read("wchan"),
            read("stack")
        ));
    }
    out
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: sending a signal to our own child process by pid.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

/// A response.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One request on a fresh connection (`Connection: close`).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (name, value) in headers {
        raw.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);
    raw_exchange(addr, &raw)
}

/// Sends raw bytes on a fresh connection and reads one response.
pub fn raw_exchange(addr: &str, raw: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let mut reader = BufReader::new(stream);
    read_response(&mut reader).expect("a response")
}

/// Reads one response (Content-Length or no body) from a buffered stream.
pub fn read_response(reader: &mut impl BufRead) -> Option<HttpResponse> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    if status == 100 {
        return read_response(reader);
    }
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Builds a series for a remote_write request.
pub fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| Label {
                name: Bytes::copy_from_slice(n.as_bytes()),
                value: Bytes::copy_from_slice(v.as_bytes()),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        exemplars: vec![],
        histograms: vec![],
    }
}

/// Encodes a request as Prometheus sends it: protobuf in a snappy block.
pub fn encode_remote_write(request: &WriteRequest) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .unwrap()
}

/// Now in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Percent-encodes a query parameter value.
pub fn enc(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Parses a Prometheus JSON timestamp (seconds) into ms.
pub fn json_ms(value: &serde_json::Value) -> i64 {
    (value.as_f64().unwrap() * 1000.0).round() as i64
}

/// The layout of a "rounds" test: `series` series of `metric` (label `instance="i<n>"`), one
/// sample per round, round `k` at `base_ms + k * step_ms` with value `value_of(i, k)`.
pub struct RoundGrid {
    pub metric: &'static str,
    pub series: usize,
    pub step_ms: i64,
    pub value_of: fn(usize, usize) -> f64,
}

impl RoundGrid {
    /// Asserts that the first `rounds` rounds read back exactly, once, through `query_range`.
    pub fn check(&self, server: &Server, base_ms: i64, rounds: usize) {
        let end = base_ms + self.step_ms * (rounds as i64 - 1);
        let data = server.get_data(&format!(
            "/api/v1/query_range?query={}&start={}&end={}&step=1s",
            enc(self.metric),
            base_ms as f64 / 1000.0,
            end as f64 / 1000.0
        ));
        let result = data["result"].as_array().unwrap();
        assert_eq!(result.len(), self.series);
        for entry in result {
            let i: usize = entry["metric"]["instance"].as_str().unwrap()[1..]
                .parse()
                .unwrap();
            let values = entry["values"].as_array().unwrap();
            assert_eq!(values.len(), rounds, "series {i}");
            for (k, point) in values.iter().enumerate() {
                assert_eq!(json_ms(&point[0]), base_ms + self.step_ms * k as i64);
                assert_eq!(
                    point[1].as_str().unwrap().parse::<f64>().unwrap(),
                    (self.value_of)(i, k),
                    "series {i} round {k}"
                );
            }
        }
    }
}
