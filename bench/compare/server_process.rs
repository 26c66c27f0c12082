//! One server under test as a child process: started pinned to the server
//! CPUs (`taskset`, which execs, so the PID is the server's), on a free port
//! with its own data directory, stopped by PID. The guard kills the child on
//! drop, so an error anywhere in `compare` leaves no server behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::BenchError;
use crate::http_client::HttpConnection;

/// How long a server may take to answer its health check after start.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Poll period while waiting for readiness or exit.
const POLL: Duration = Duration::from_millis(100);

/// The servers `compare` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    /// This project.
    Strata,
    /// VictoriaMetrics single-node.
    VictoriaMetrics,
    /// Prometheus with its remote_write receiver.
    Prometheus,
}

impl ServerKind {
    /// Name in results and file names.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Strata => "strata",
            ServerKind::VictoriaMetrics => "victoriametrics",
            ServerKind::Prometheus => "prometheus",
        }
    }

    /// Parses a `--servers` entry.
    pub fn parse(text: &str) -> Result<ServerKind, String> {
        match text {
            "strata" => Ok(ServerKind::Strata),
            "victoriametrics" | "vm" => Ok(ServerKind::VictoriaMetrics),
            "prometheus" | "prom" => Ok(ServerKind::Prometheus),
            other => Err(format!(
                "unknown server {other:?} (strata, victoriametrics, prometheus)"
            )),
        }
    }

    /// The path answering 200 once the server serves.
    fn ready_path(self) -> &'static str {
        match self {
            ServerKind::Prometheus => "/-/ready",
            _ => "/health",
        }
    }

    /// The flag that prints the version.
    fn version_flag(self) -> &'static str {
        match self {
            ServerKind::VictoriaMetrics => "-version",
            _ => "--version",
        }
    }

    /// Command-line arguments for serving on `port` with data in `data_dir`.
    fn args(self, port: u16, data_dir: &Path, work_dir: &Path) -> Vec<String> {
        let listen = format!("127.0.0.1:{port}");
        let data = data_dir.display().to_string();
        match self {
            ServerKind::Strata => vec![format!("--listen={listen}"), format!("--data-dir={data}")],
            ServerKind::VictoriaMetrics => vec![
                format!("-httpListenAddr={listen}"),
                format!("-storageDataPath={data}"),
                "-retentionPeriod=100y".to_string(),
                // Show the newest points too (default hides the last 30 s).
                "-search.latencyOffset=0s".to_string(),
                "-search.disableCache".to_string(),
            ],
            ServerKind::Prometheus => vec![
                format!(
                    "--config.file={}",
                    work_dir.join("prometheus.yml").display()
                ),
                format!("--storage.tsdb.path={data}"),
                format!("--web.listen-address={listen}"),
                "--web.enable-remote-write-receiver".to_string(),
                "--web.enable-admin-api".to_string(),
            ],
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released: a tiny race, fine here).
pub fn free_port() -> Result<u16, BenchError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BenchError::io("bind", "127.0.0.1:0", e))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| BenchError::io("read address of", "127.0.0.1:0", e))
}

/// The first line of `binary <version flag>`, or the path when that fails.
pub fn version(kind: ServerKind, binary: &Path) -> String {
    let output = Command::new(binary).arg(kind.version_flag()).output();
    let text = output
        .map(|o| {
            let mut text = String::from_utf8_lossy(&o.stdout).to_string();
            text.push_str(&String::from_utf8_lossy(&o.stderr));
            text
        })
        .unwrap_or_default();
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if !line.is_empty() {
        return line.trim().chars().take(60).collect();
    }
    package_version(binary).unwrap_or_else(|| binary.display().to_string())
}

/// `<package> <version>` of the Debian package that installed `binary`, if any.
fn package_version(binary: &Path) -> Option<String> {
    let owner = Command::new("dpkg").arg("-S").arg(binary).output().ok()?;
    let owner = String::from_utf8_lossy(&owner.stdout).to_string();
    let package = owner.split(':').next()?.trim().to_string();
    let version = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", &package])
        .output()
        .ok()?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    (!package.is_empty() && !version.is_empty()).then(|| format!("{package} {version}"))
}

/// A running server. Dropping it kills the process and removes its directory.
pub struct ServerProcess {
    /// Which server.
    pub kind: ServerKind,
    /// `127.0.0.1:port`.
    pub target: String,
    /// Its data directory (inside `work_dir`).
    pub data_dir: PathBuf,
    work_dir: PathBuf,
    child: Option<Child>,
}

impl ServerProcess {
    /// Starts `binary` pinned to `cpus` in a fresh `work_dir` and waits until it serves;
    /// `extra_args` go after the listen and data flags.
    pub fn start(
        kind: ServerKind,
        binary: &Path,
        cpus: &str,
        work_dir: PathBuf,
        extra_args: &[String],
    ) -> Result<ServerProcess, BenchError> {
        let work = work_dir.display().to_string();
        std::fs::create_dir_all(&work_dir).map_err(|e| BenchError::io("create", &work, e))?;
        let data_dir = work_dir.join("data");
        if kind == ServerKind::Prometheus {
            let config = work_dir.join("prometheus.yml");
            std::fs::write(&config, "global:\n")
                .map_err(|e| BenchError::io("write", &config.display().to_string(), e))?;
        }
        let port = free_port()?;
        let log_path = work_dir.join("server.log");
        let log_name = log_path.display().to_string();
        let log = File::create(&log_path).map_err(|e| BenchError::io("create", &log_name, e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| BenchError::io("open", &log_name, e))?;
        let child = Command::new("taskset")
            .arg("-c")
            .arg(cpus)
            .arg(binary)
            .args(kind.args(port, &data_dir, &work_dir))
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| BenchError::io("start taskset for", &binary.display().to_string(), e))?;
        let mut server = ServerProcess {
            kind,
            target: format!("127.0.0.1:{port}"),
            data_dir,
            work_dir,
            child: Some(child),
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.work_dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(8).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    fn failed(&self, what: String) -> BenchError {
        BenchError::Failed(format!(
            "{} {what}; log tail:\n{}",
            self.kind.name(),
            self.log_tail()
        ))
    }

    fn wait_ready(&mut self) -> Result<(), BenchError> {
        let started = Instant::now();
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(self.failed(format!("exited during start-up ({status})")));
            }
            let ready = HttpConnection::connect(&self.target, Duration::from_secs(2))
                .and_then(|mut conn| conn.get(self.kind.ready_path()))
                .is_ok_and(|(response, _)| response.status == 200);
            if ready {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(self.failed(format!("not ready after {READY_TIMEOUT:?}")));
            }
            std::thread::sleep(POLL);
        }
    }

    /// GETs `path` on the server; the status and body.
    pub fn get(&self, path: &str, timeout: Duration) -> Result<(u16, String), BenchError> {
        let (response, body) = HttpConnection::connect(&self.target, timeout)
            .and_then(|mut conn| conn.get(path))
            .map_err(|e| self.failed(format!("GET {path}: {e}")))?;
        Ok((response.status, String::from_utf8_lossy(&body).to_string()))
    }

    /// POSTs an empty body to `path`; the status and the start of the body.
    pub fn post(&self, path: &str, timeout: Duration) -> Result<(u16, String), BenchError> {
        let response = HttpConnection::connect(&self.target, timeout)
            .and_then(|mut conn| conn.post(path, &[], b""))
            .map_err(|e| self.failed(format!("POST {path}: {e}")))?;
        let body = String::from_utf8_lossy(&response.body_prefix).to_string();
        Ok((response.status, body))
    }

    /// The version the running server reports: Prometheus' `/api/v1/status/buildinfo`,
    /// VictoriaMetrics' `vm_app_version` metric. Strata's buildinfo names the
    /// Prometheus version it is compatible with, so it has none here.
    pub fn reported_version(&self) -> Option<String> {
        let timeout = Duration::from_secs(10);
        match self.kind {
            ServerKind::Strata => None,
            ServerKind::Prometheus => {
                let (_, body) = self.get("/api/v1/status/buildinfo", timeout).ok()?;
                let json: serde_json::Value = serde_json::from_str(&body).ok()?;
                Some(json.pointer("/data/version")?.as_str()?.to_string())
            }
            ServerKind::VictoriaMetrics => {
                let (_, metrics) = self.get("/metrics", timeout).ok()?;
                let key = "vm_app_version{version=\"";
                let rest = metrics.get(metrics.find(key)? + key.len()..)?;
                let version = rest.get(..rest.find('"')?)?;
                // Distribution builds may leave the version empty.
                (!version.is_empty()).then(|| version.to_string())
            }
        }
    }

    /// Sends SIGTERM (by PID) and waits for a clean exit; kills after `STOP_TIMEOUT`.
    pub fn stop(&mut self) -> Result<(), BenchError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if started.elapsed() < STOP_TIMEOUT => std::thread::sleep(POLL),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.failed(format!("did not stop within {STOP_TIMEOUT:?}")));
                }
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.work_dir);
    }
}

/// The binary to run for `kind`: Strata's (given, or the `strata` next to this executable), else
/// `peer`; an error naming it when it is not there.
pub fn server_binary(
    kind: ServerKind,
    strata: Option<&Path>,
    peer: &Path,
) -> Result<PathBuf, BenchError> {
    let path = match (kind, strata) {
        (ServerKind::Strata, Some(path)) => path.to_path_buf(),
        (ServerKind::Strata, None) => std::env::current_exe()
            .map_err(|e| BenchError::io("locate", "current executable", e))?
            .with_file_name("strata"),
        _ => peer.to_path_buf(),
    };
    if !path.is_file() {
        return Err(BenchError::InvalidArgs(format!(
            "{} binary {} not found",
            kind.name(),
            path.display()
        )));
    }
    Ok(path)
}
