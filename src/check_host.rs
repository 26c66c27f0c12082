//! `strata check-host`: reads this host's settings that matter to Strata and
//! prints, per check, OK / WARN / FAIL with the fix. Exits non-zero only on a
//! FAIL (a setting Strata cannot start or run correctly with).
//!
//! Reading (`HostFacts::read`) is split from judging (`evaluate`), so the
//! thresholds are plain functions of the facts. `tuning/README.md` explains
//! each setting and names the check that verifies it.

mod rules;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::ServerFlags;

/// glommio refuses to start an executor below this RLIMIT_MEMLOCK (notes/GLOMMIO.md §1).
pub const MEMLOCK_MIN_BYTES: u64 = 512 << 10;
/// Locked memory one shard wants as non-root: 3 rings × 10 MiB io_memory + ring memory
/// (the same figure as `runtime::memlock`).
pub const MEMLOCK_PER_SHARD_BYTES: u64 = 3 * 10 * 1024 * 1024 + 64 * 1024;
/// Open files recommended: remote_write connections plus part files per shard.
pub const NOFILE_RECOMMENDED: u64 = 65_536;
/// Listen backlog Strata asks for (glommio's `listen(1024)`); the kernel caps it at somaxconn.
pub const BACKLOG_RECOMMENDED: u64 = 4096;
/// Ephemeral ports recommended for hosts that also open many outbound connections.
pub const LOCAL_PORTS_RECOMMENDED: u64 = 28_000;
/// Swappiness above this lets the kernel swap out caches Strata keeps hot.
pub const SWAPPINESS_MAX: u64 = 10;

/// Flags of `check-host`.
#[derive(Debug, Clone, Args)]
pub struct CheckHostArgs {
    /// Data directory to check (its device and filesystem) [default: --data-dir].
    #[arg(long = "data-dir", id = "check_data_dir")]
    pub data_dir: Option<PathBuf>,
    /// Shards planned [default: --shards, else every CPU the process may use].
    #[arg(long = "shards", id = "check_shards")]
    pub shards: Option<usize>,
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Fine as is.
    Ok,
    /// Works, but costs performance or safety margin.
    Warn,
    /// Strata cannot start or run correctly.
    Fail,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        })
    }
}

/// One check's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Check name, as `tuning/README.md` refers to it.
    pub check: &'static str,
    /// Verdict.
    pub level: Level,
    /// What was found.
    pub detail: String,
    /// How to fix it (empty when OK).
    pub fix: String,
}

fn finding(check: &'static str, level: Level, detail: String, fix: &str) -> Finding {
    let fix = if level == Level::Ok { "" } else { fix };
    Finding {
        check,
        level,
        detail,
        fix: fix.to_string(),
    }
}

/// A soft/hard resource limit; `None` = unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limit {
    /// Soft limit.
    pub soft: Option<u64>,
    /// Hard limit.
    pub hard: Option<u64>,
}

/// The data directory's mount.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mount {
    /// Mount point.
    pub mount_point: String,
    /// `major:minor` of the device.
    pub device_number: String,
    /// Filesystem type (ext4, xfs, tmpfs…).
    pub fs_type: String,
    /// Mount source (/dev/nvme0n1p1…).
    pub source: String,
    /// Per-mount options (rw,noatime…).
    pub options: String,
}

/// Everything the checks look at, read once.
#[derive(Clone, Debug, Default)]
pub struct HostFacts {
    /// The process runs as root (memlock is then not accounted by the kernel).
    pub root: bool,
    /// RLIMIT_MEMLOCK, bytes.
    pub memlock: Limit,
    /// RLIMIT_NOFILE.
    pub nofile: Limit,
    /// kernel.io_uring_disabled (Linux 6.6+; `None` on older kernels): 0 on, 1 only
    /// for CAP_SYS_ADMIN or kernel.io_uring_group, 2 off.
    pub io_uring_disabled: Option<u64>,
    /// CPUs this process may use.
    pub allowed_cpus: Vec<usize>,
    /// CPUs online.
    pub online_cpus: Vec<usize>,
    /// CPUs isolated from the scheduler (isolcpus=).
    pub isolated_cpus: Vec<usize>,
    /// Shards planned.
    pub shards: usize,
    /// (irq number, CPUs it may run on).
    pub irqs: Vec<(String, Vec<usize>)>,
    /// The data dir (or the nearest existing parent) and its mount.
    pub data_dir: PathBuf,
    /// Its mount, if found.
    pub mount: Option<Mount>,
    /// (block device name, scheduler line) of the mount's disk.
    pub scheduler: Option<(String, String)>,
    /// /sys/kernel/mm/transparent_hugepage/enabled.
    pub thp: Option<String>,
    /// vm.swappiness.
    pub swappiness: Option<u64>,
    /// net.core.somaxconn.
    pub somaxconn: Option<u64>,
    /// net.ipv4.tcp_max_syn_backlog.
    pub syn_backlog: Option<u64>,
    /// net.ipv4.ip_local_port_range.
    pub port_range: Option<(u64, u64)>,
}

/// Parses a CPU list such as `0-3,8,10-11`.
pub fn parse_cpu_list(text: &str) -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(first), Ok(last)) = (first.trim().parse(), last.trim().parse::<usize>()) {
            cpus.extend(first..=last.min(first + 4096));
        }
    }
    cpus
}

/// Formats CPUs as a compact list (`0-3,8`).
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = cpus.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&(last + 1)) {
            last += 1;
            iter.next();
        }
        parts.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(",")
    }
}

/// Reads a limit row ("Max locked memory") of `/proc/self/limits`.
pub fn parse_limit(limits: &str, row: &str) -> Limit {
    let Some(line) = limits.lines().find(|l| l.starts_with(row)) else {
        return Limit::default();
    };
    let mut values = line.get(row.len()..).unwrap_or("").split_whitespace();
    let value = |v: Option<&str>| v.and_then(|v| v.parse().ok());
    Limit {
        soft: value(values.next()),
        hard: value(values.next()),
    }
}

/// The mountinfo entry with the longest mount point containing `path`.
pub fn find_mount(mountinfo: &str, path: &Path) -> Option<Mount> {
    let mut best: Option<Mount> = None;
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(device), Some(point), Some(options)) = (left.get(2), left.get(4), left.get(5))
        else {
            continue;
        };
        let point = point.replace("\\040", " ");
        let inside = path.starts_with(&point);
        let longer = best
            .as_ref()
            .is_none_or(|b| point.len() >= b.mount_point.len());
        if inside && longer {
            best = Some(Mount {
                mount_point: point,
                device_number: device.to_string(),
                fs_type: right.first().unwrap_or(&"").to_string(),
                source: right.get(1).unwrap_or(&"").to_string(),
                options: options.to_string(),
            });
        }
    }
    best
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn read_number(path: &str) -> Option<u64> {
    read_trimmed(path)?.parse().ok()
}

/// The whole disk behind `major:minor` (a partition's parent) and its scheduler.
fn read_scheduler(device_number: &str) -> Option<(String, String)> {
    let sys = std::fs::canonicalize(format!("/sys/dev/block/{device_number}")).ok()?;
    let disk = if sys.join("partition").exists() {
        sys.parent()?.to_path_buf()
    } else {
        sys
    };
    let name = disk.file_name()?.to_string_lossy().to_string();
    let scheduler = read_trimmed(&format!("{}/queue/scheduler", disk.display()))?;
    Some((name, scheduler))
}

fn read_irqs() -> Vec<(String, Vec<usize>)> {
    let Ok(entries) = std::fs::read_dir("/proc/irq") else {
        return Vec::new();
    };
    let mut irqs: Vec<(String, Vec<usize>)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().to_string();
            let list = std::fs::read_to_string(entry.path().join("smp_affinity_list")).ok()?;
            Some((name, parse_cpu_list(&list)))
        })
        .collect();
    irqs.sort_by_key(|(name, _)| name.parse::<u64>().unwrap_or(u64::MAX));
    irqs
}

/// The path itself if it exists, else its nearest existing ancestor.
fn existing_ancestor(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut current = absolute.as_path();
    loop {
        if current.exists() {
            return std::fs::canonicalize(current).unwrap_or_else(|_| current.to_path_buf());
        }
        match current.parent() {
            Some(parent) => current = parent,
            None => return PathBuf::from("/"),
        }
    }
}

impl HostFacts {
    /// Reads this host's settings for a data dir and planned shard count.
    pub fn read(data_dir: &Path, shards: Option<usize>) -> HostFacts {
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let allowed_cpus = crate::sys::allowed_cpus();
        let data_dir = existing_ancestor(data_dir);
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mount = find_mount(&mountinfo, &data_dir);
        let scheduler = mount
            .as_ref()
            .and_then(|m| read_scheduler(&m.device_number));
        let port_range = read_trimmed("/proc/sys/net/ipv4/ip_local_port_range").and_then(|r| {
            let mut parts = r.split_whitespace().map(str::parse::<u64>);
            Some((parts.next()?.ok()?, parts.next()?.ok()?))
        });
        HostFacts {
            root: crate::sys::is_root(),
            memlock: parse_limit(&limits, "Max locked memory"),
            nofile: parse_limit(&limits, "Max open files"),
            io_uring_disabled: read_number("/proc/sys/kernel/io_uring_disabled"),
            shards: shards.unwrap_or(allowed_cpus.len()).max(1),
            allowed_cpus,
            online_cpus: parse_cpu_list(
                &read_trimmed("/sys/devices/system/cpu/online").unwrap_or_default(),
            ),
            isolated_cpus: parse_cpu_list(
                &read_trimmed("/sys/devices/system/cpu/isolated").unwrap_or_default(),
            ),
            irqs: read_irqs(),
            data_dir,
            mount,
            scheduler,
            thp: read_trimmed("/sys/kernel/mm/transparent_hugepage/enabled"),
            swappiness: read_number("/proc/sys/vm/swappiness"),
            somaxconn: read_number("/proc/sys/net/core/somaxconn"),
            syn_backlog: read_number("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
            port_range,
        }
    }

    /// The CPUs shard i = 0..shards would be pinned to.
    pub fn shard_cpus(&self) -> Vec<usize> {
        self.allowed_cpus
            .iter()
            .copied()
            .take(self.shards)
            .collect()
    }
}

/// Runs `check-host`: prints every finding and a summary; FAIL → exit code 1.
pub fn run(args: &CheckHostArgs, server: &ServerFlags) -> ExitCode {
    let data_dir = args.data_dir.as_ref().unwrap_or(&server.data_dir);
    let facts = HostFacts::read(data_dir, args.shards.or(server.shards));
    println!(
        "strata check-host: data dir {} ({}), {} shard(s) on CPUs {}",
        data_dir.display(),
        facts.data_dir.display(),
        facts.shards,
        format_cpu_list(&facts.shard_cpus())
    );
    let findings = rules::evaluate(&facts);
    for f in &findings {
        println!("{:<5} {:<22} {}", f.level.to_string(), f.check, f.detail);
        if !f.fix.is_empty() {
            println!("      fix: {}", f.fix);
        }
    }
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    println!(
        "{} OK, {} WARN, {} FAIL",
        count(Level::Ok),
        count(Level::Warn),
        count(Level::Fail)
    );
    if count(Level::Fail) > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
