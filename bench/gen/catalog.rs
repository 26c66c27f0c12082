//! The series one node_exporter-like host exposes, with their starting values.
//!
//! Per host, with `c` CPUs: `node_cpu_seconds_total{cpu,mode}` (8 modes × c),
//! memory gauges, network and disk counters per device, filesystem sizes
//! (constant) and free space, load averages, boot time, a request-latency
//! histogram per handler, and the series Prometheus adds to every target
//! (`up`, `scrape_duration_seconds`, `scrape_samples_scraped`).

use bytes::Bytes;
use strata::ingest::remote_write::proto::Label;

use super::value_model::{round_to, ValueModel};
use crate::prng::Prng;

/// `job` label of every series.
pub const JOB: &str = "node";

/// CPU modes as node_exporter names them, with the mean share of a CPU each takes.
const CPU_MODES: [(&str, f64); 8] = [
    ("idle", 0.70),
    ("iowait", 0.02),
    ("irq", 0.005),
    ("nice", 0.005),
    ("softirq", 0.01),
    ("steal", 0.001),
    ("system", 0.06),
    ("user", 0.18),
];

const NETWORK_DEVICES: [&str; 3] = ["eth0", "eth1", "lo"];
/// Network counters with their mean rate per second on a busy interface.
const NETWORK_COUNTERS: [(&str, f64); 4] = [
    ("node_network_receive_bytes_total", 2.0e6),
    ("node_network_transmit_bytes_total", 1.5e6),
    ("node_network_receive_packets_total", 2.0e3),
    ("node_network_transmit_packets_total", 1.5e3),
];

const DISK_DEVICES: [&str; 2] = ["nvme0n1", "sda"];
/// Disk counters, mean rate per second, and the quantum their values come in.
const DISK_COUNTERS: [(&str, f64, f64); 5] = [
    ("node_disk_reads_completed_total", 150.0, 1.0),
    ("node_disk_writes_completed_total", 300.0, 1.0),
    ("node_disk_read_bytes_total", 6.0e6, 512.0),
    ("node_disk_written_bytes_total", 9.0e6, 512.0),
    ("node_disk_io_time_seconds_total", 0.2, 0.001),
];

/// (device, fstype, mountpoint) of each filesystem.
const FILESYSTEMS: [(&str, &str, &str); 3] = [
    ("/dev/nvme0n1p1", "ext4", "/"),
    ("/dev/sda1", "xfs", "/data"),
    ("tmpfs", "tmpfs", "/run"),
];

/// Handlers with a latency histogram, and the histogram's bucket bounds (`+Inf` last).
pub const HANDLERS: [&str; 2] = ["/api/v1/query_range", "/api/v1/write"];
/// Upper bounds of the histogram buckets in seconds, as Prometheus client libraries default them.
pub const BUCKET_BOUNDS: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];
const BUCKET_LABELS: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// Memory sizes a host may have, GiB.
const MEMORY_SIZES_GIB: [u64; 4] = [16, 32, 64, 128];

/// One series of a host: its labels (sorted by name) and how its value moves.
#[derive(Clone, Debug)]
pub struct HostSeries {
    /// Labels sorted by name, `__name__` included.
    pub labels: Vec<Label>,
    /// Sum of label name and value lengths.
    pub label_bytes: u64,
    /// The value and its evolution rule.
    pub model: ValueModel,
}

/// Builds a series' labels: `__name__`, `instance`, `job` and `extra`, sorted by name.
fn series(name: &str, instance: &Bytes, extra: &[(&str, &str)], model: ValueModel) -> HostSeries {
    let mut labels = Vec::with_capacity(3 + extra.len());
    labels.push(label("__name__", Bytes::copy_from_slice(name.as_bytes())));
    labels.push(label("instance", instance.clone()));
    labels.push(label("job", Bytes::from_static(JOB.as_bytes())));
    for (name, value) in extra {
        labels.push(label(name, Bytes::copy_from_slice(value.as_bytes())));
    }
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name));
    let label_bytes = labels
        .iter()
        .map(|l| (l.name.len() + l.value.len()) as u64)
        .sum();
    HostSeries {
        labels,
        label_bytes,
        model,
    }
}

fn label(name: &str, value: Bytes) -> Label {
    Label {
        name: Bytes::copy_from_slice(name.as_bytes()),
        value,
    }
}

fn counter(value: f64, rate_per_second: f64, quantum: f64) -> ValueModel {
    ValueModel::Counter {
        value,
        rate_per_second,
        quantum,
    }
}

fn gauge(value: f64, min: f64, max: f64, step: f64, quantum: f64) -> ValueModel {
    ValueModel::Gauge {
        value,
        min,
        max,
        step,
        quantum,
    }
}

/// Series of one host first scraped at `now_seconds`, in exposition order. The host
/// has been up for a random time, which sets the counters' starting values.
pub fn host_series(
    instance: &str,
    cpus: u32,
    prng: &mut Prng,
    now_seconds: f64,
) -> Vec<HostSeries> {
    let instance = Bytes::copy_from_slice(instance.as_bytes());
    let profile = Profile {
        uptime_seconds: prng.range_f64(3_600.0, 90.0 * 86_400.0),
        busy: prng.range_f64(0.2, 1.8),
    };
    let boot_time = (now_seconds - profile.uptime_seconds).round();
    let mut out = Vec::new();
    push_cpus(&mut out, &instance, cpus, &profile, prng);
    push_memory(&mut out, &instance, prng);
    push_devices(&mut out, &instance, &profile, prng);
    push_filesystems(&mut out, &instance, prng);
    let load_series = [
        ("node_load1", 0.3),
        ("node_load5", 0.1),
        ("node_load15", 0.05),
    ];
    for (name, step) in load_series {
        let load = round_to(profile.busy * f64::from(cpus) * 0.3, 0.01);
        let model = gauge(load, 0.0, f64::from(cpus) * 4.0, step, 0.01);
        out.push(series(name, &instance, &[], model));
    }
    let boot = ValueModel::BootTime(boot_time);
    out.push(series("node_boot_time_seconds", &instance, &[], boot));
    push_histograms(&mut out, &instance);
    out.push(series("up", &instance, &[], ValueModel::Constant(1.0)));
    let duration = gauge(0.02, 0.005, 0.2, 0.005, 1e-6);
    out.push(series("scrape_duration_seconds", &instance, &[], duration));
    let scraped = ValueModel::Constant((out.len() - 2) as f64);
    out.push(series("scrape_samples_scraped", &instance, &[], scraped));
    out
}

/// What makes hosts differ: how long they have been up and how loaded they are.
struct Profile {
    /// Time since boot at the first scrape; sets the counters' starting values.
    uptime_seconds: f64,
    /// Load factor in [0.2, 1.8): scales CPU use and I/O rates.
    busy: f64,
}

fn push_cpus(
    out: &mut Vec<HostSeries>,
    instance: &Bytes,
    cpus: u32,
    profile: &Profile,
    prng: &mut Prng,
) {
    let non_idle: f64 = CPU_MODES
        .iter()
        .filter(|(mode, _)| *mode != "idle")
        .map(|(_, share)| share * profile.busy)
        .sum();
    for cpu in 0..cpus {
        let cpu_text = cpu.to_string();
        for (mode, share) in CPU_MODES {
            let share = if mode == "idle" {
                1.0 - non_idle
            } else {
                share * profile.busy
            };
            let rate = share * prng.range_f64(0.8, 1.2);
            let start = round_to(rate * profile.uptime_seconds, 0.01);
            let labels = [("cpu", cpu_text.as_str()), ("mode", mode)];
            let model = counter(start, rate, 0.01);
            out.push(series("node_cpu_seconds_total", instance, &labels, model));
        }
    }
}

fn push_devices(out: &mut Vec<HostSeries>, instance: &Bytes, profile: &Profile, prng: &mut Prng) {
    let network = NETWORK_COUNTERS
        .iter()
        .map(|(name, rate)| (*name, *rate, 1.0));
    let devices = NETWORK_DEVICES
        .iter()
        .flat_map(|device| network.clone().map(move |counter| (*device, counter)));
    let disks = DISK_DEVICES
        .iter()
        .flat_map(|device| DISK_COUNTERS.iter().map(move |counter| (*device, *counter)));
    for (device, (name, rate, quantum)) in devices.chain(disks) {
        let rate = rate * profile.busy * prng.range_f64(0.1, 1.0);
        let start = round_to(rate * profile.uptime_seconds, quantum);
        let model = counter(start, rate, quantum);
        out.push(series(name, instance, &[("device", device)], model));
    }
}

fn push_memory(out: &mut Vec<HostSeries>, instance: &Bytes, prng: &mut Prng) {
    let size_gib = MEMORY_SIZES_GIB[prng.below(MEMORY_SIZES_GIB.len() as u64) as usize];
    let total = (size_gib << 30) as f64;
    let page = 4096.0;
    let walk = |fraction: f64, step_fraction: f64, prng: &mut Prng| {
        let start = round_to(total * fraction * prng.range_f64(0.5, 1.5), page);
        gauge(start.min(total), 0.0, total, total * step_fraction, page)
    };
    let series_list = [
        ("node_memory_MemTotal_bytes", ValueModel::Constant(total)),
        ("node_memory_MemFree_bytes", walk(0.2, 0.01, prng)),
        ("node_memory_MemAvailable_bytes", walk(0.5, 0.01, prng)),
        ("node_memory_Buffers_bytes", walk(0.02, 0.001, prng)),
        ("node_memory_Cached_bytes", walk(0.3, 0.005, prng)),
        ("node_memory_Active_bytes", walk(0.4, 0.005, prng)),
        ("node_memory_Inactive_bytes", walk(0.2, 0.005, prng)),
        ("node_memory_Dirty_bytes", walk(0.001, 0.0005, prng)),
        (
            "node_memory_SwapTotal_bytes",
            ValueModel::Constant(total / 4.0),
        ),
        ("node_memory_SwapFree_bytes", walk(0.2, 0.0001, prng)),
    ];
    for (name, model) in series_list {
        out.push(series(name, instance, &[], model));
    }
}

fn push_filesystems(out: &mut Vec<HostSeries>, instance: &Bytes, prng: &mut Prng) {
    for (device, fstype, mountpoint) in FILESYSTEMS {
        let labels = [
            ("device", device),
            ("fstype", fstype),
            ("mountpoint", mountpoint),
        ];
        let size = ((prng.below(2000) + 16) << 30) as f64;
        out.push(series(
            "node_filesystem_size_bytes",
            instance,
            &labels,
            ValueModel::Constant(size),
        ));
        let avail = round_to(size * prng.range_f64(0.1, 0.9), 4096.0);
        let model = gauge(avail, 0.0, size, size * 0.0005, 4096.0);
        out.push(series(
            "node_filesystem_avail_bytes",
            instance,
            &labels,
            model,
        ));
    }
}

fn push_histograms(out: &mut Vec<HostSeries>, instance: &Bytes) {
    for (histogram, handler) in HANDLERS.iter().enumerate() {
        for (bucket, le) in BUCKET_LABELS.iter().enumerate() {
            let model = ValueModel::HistogramBucket { histogram, bucket };
            let labels = [("handler", *handler), ("le", *le)];
            out.push(series(
                "http_request_duration_seconds_bucket",
                instance,
                &labels,
                model,
            ));
        }
        let labels = [("handler", *handler)];
        let sum = ValueModel::HistogramSum { histogram };
        out.push(series(
            "http_request_duration_seconds_sum",
            instance,
            &labels,
            sum,
        ));
        let count = ValueModel::HistogramCount { histogram };
        out.push(series(
            "http_request_duration_seconds_count",
            instance,
            &labels,
            count,
        ));
    }
}

/// Series per host with `cpus` CPUs; must match [`host_series`] (checked by a test).
pub fn series_per_host(cpus: u32) -> u64 {
    let fixed = 10 // memory
        + NETWORK_DEVICES.len() * NETWORK_COUNTERS.len()
        + DISK_DEVICES.len() * DISK_COUNTERS.len()
        + FILESYSTEMS.len() * 2
        + 3 // load
        + 1 // boot time
        + HANDLERS.len() * (BUCKET_BOUNDS.len() + 2)
        + 3; // up, scrape_duration_seconds, scrape_samples_scraped
    u64::from(cpus) * CPU_MODES.len() as u64 + fixed as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_is_unique_sorted_and_named() {
        let mut prng = Prng::new(1);
        let all = host_series("host-1:9100", 4, &mut prng, 1.7e9);
        assert_eq!(all.len(), series_per_host(4) as usize);
        let mut seen = std::collections::BTreeSet::new();
        for s in &all {
            assert_eq!(&s.labels[0].name[..], b"__name__");
            assert!(s.labels.windows(2).all(|w| w[0].name < w[1].name));
            assert!(seen.insert(
                s.labels
                    .clone()
                    .into_iter()
                    .map(|l| (l.name, l.value))
                    .collect::<Vec<_>>()
            ));
        }
    }
}
