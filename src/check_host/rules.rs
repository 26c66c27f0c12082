//! The checks as pure functions of `HostFacts`: thresholds and fixes live here.

use super::{
    finding, format_cpu_list, Finding, HostFacts, Level, Limit, BACKLOG_RECOMMENDED,
    LOCAL_PORTS_RECOMMENDED, MEMLOCK_MIN_BYTES, MEMLOCK_PER_SHARD_BYTES, NOFILE_RECOMMENDED,
    SWAPPINESS_MAX,
};

/// Every check, in the order `tuning/README.md` presents them.
pub fn evaluate(facts: &HostFacts) -> Vec<Finding> {
    vec![
        io_uring(facts),
        memlock(facts),
        nofile(facts),
        cpus(facts),
        irq_affinity(facts),
        block_scheduler(facts),
        filesystem(facts),
        transparent_hugepages(facts),
        swappiness(facts),
        somaxconn(facts),
        tcp_max_syn_backlog(facts),
        ip_local_port_range(facts),
    ]
}

fn io_uring(facts: &HostFacts) -> Finding {
    let fix = "sysctl -w kernel.io_uring_disabled=0 (or 1 with the service user in \
               kernel.io_uring_group)";
    match facts.io_uring_disabled {
        None => finding(
            "io_uring",
            Level::Ok,
            "no kernel.io_uring_disabled (kernel before 6.6): enabled".to_string(),
            "",
        ),
        Some(0) => finding(
            "io_uring",
            Level::Ok,
            "kernel.io_uring_disabled = 0".into(),
            "",
        ),
        Some(1) if facts.root => finding(
            "io_uring",
            Level::Ok,
            "kernel.io_uring_disabled = 1: allowed for root".to_string(),
            "",
        ),
        Some(1) => finding(
            "io_uring",
            Level::Warn,
            "kernel.io_uring_disabled = 1: only root and kernel.io_uring_group may use io_uring"
                .to_string(),
            fix,
        ),
        Some(value) => finding(
            "io_uring",
            Level::Fail,
            format!("kernel.io_uring_disabled = {value}: io_uring is off, Strata cannot start"),
            fix,
        ),
    }
}

fn kib(value: Option<u64>) -> String {
    value.map_or("unlimited".to_string(), |v| format!("{} KiB", v / 1024))
}

fn limit_text(limit: &Limit, show: fn(Option<u64>) -> String) -> String {
    format!("soft {}, hard {}", show(limit.soft), show(limit.hard))
}

const MEMLOCK_FIX: &str = "raise it: `ulimit -l unlimited` in the starting shell, \
    LimitMEMLOCK=infinity in the systemd unit, or `* - memlock unlimited` in /etc/security/limits.conf";

fn memlock(facts: &HostFacts) -> Finding {
    let limit = facts.memlock;
    let text = limit_text(&limit, kib);
    let below = |value: Option<u64>, floor: u64| value.is_some_and(|v| v < floor);
    if below(limit.hard, MEMLOCK_MIN_BYTES) {
        let detail = format!("{text}: below glommio's 512 KiB floor, Strata cannot start");
        return finding("memlock", Level::Fail, detail, MEMLOCK_FIX);
    }
    if below(limit.soft, MEMLOCK_MIN_BYTES) {
        let detail =
            format!("{text}: soft limit below 512 KiB (Strata raises soft to hard at start)");
        return finding("memlock", Level::Warn, detail, MEMLOCK_FIX);
    }
    let wanted = MEMLOCK_PER_SHARD_BYTES * facts.shards as u64;
    if !facts.root && below(limit.hard, wanted) {
        let detail = format!(
            "{text}: non-root, {} shard(s) want about {} MiB to register io_uring buffers",
            facts.shards,
            wanted >> 20
        );
        return finding("memlock", Level::Warn, detail, MEMLOCK_FIX);
    }
    let note = if limit.hard.is_none() {
        "unlimited"
    } else if facts.root {
        "enough (root: locked memory is not accounted); use unlimited for non-root services"
    } else {
        "enough for the planned shards"
    };
    finding("memlock", Level::Ok, format!("{text}: {note}"), "")
}

fn nofile(facts: &HostFacts) -> Finding {
    let plain = |v: Option<u64>| v.map_or("unlimited".to_string(), |v| v.to_string());
    let text = limit_text(&facts.nofile, plain);
    if facts.nofile.soft.is_some_and(|v| v < NOFILE_RECOMMENDED) {
        return finding(
            "nofile",
            Level::Warn,
            format!("{text}: below {NOFILE_RECOMMENDED}; many remote_write clients and parts need descriptors"),
            "LimitNOFILE=1048576 in the systemd unit, or `ulimit -n 1048576`",
        );
    }
    finding("nofile", Level::Ok, text, "")
}

fn cpus(facts: &HostFacts) -> Finding {
    let detail = format!(
        "allowed {} of online {}, isolated {}, shards on {}",
        format_cpu_list(&facts.allowed_cpus),
        format_cpu_list(&facts.online_cpus),
        format_cpu_list(&facts.isolated_cpus),
        format_cpu_list(&facts.shard_cpus())
    );
    if facts.shards > facts.allowed_cpus.len() {
        return finding(
            "cpus",
            Level::Fail,
            format!("{detail}: more shards than usable CPUs"),
            "lower --shards to the number of CPUs in the affinity mask",
        );
    }
    let shard_cpus = facts.shard_cpus();
    if facts.isolated_cpus.is_empty() || !shard_cpus.iter().all(|c| facts.isolated_cpus.contains(c))
    {
        return finding(
            "cpus",
            Level::Warn,
            format!("{detail}: shard cores are shared with other tasks"),
            "on a dedicated host boot with isolcpus=<shard cores> nohz_full=<shard cores> and run \
             Strata with CPUAffinity=<shard cores> (or taskset -c)",
        );
    }
    finding("cpus", Level::Ok, detail, "")
}

fn irq_affinity(facts: &HostFacts) -> Finding {
    let shard_cpus = facts.shard_cpus();
    let overlapping: Vec<&str> = facts
        .irqs
        .iter()
        .filter(|(_, cpus)| cpus.iter().any(|c| shard_cpus.contains(c)))
        .map(|(irq, _)| irq.as_str())
        .collect();
    let detail = format!(
        "{} of {} IRQs may run on shard CPUs {}",
        overlapping.len(),
        facts.irqs.len(),
        format_cpu_list(&shard_cpus)
    );
    if overlapping.is_empty() {
        return finding("irq_affinity", Level::Ok, detail, "");
    }
    let examples = overlapping
        .iter()
        .take(8)
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    finding(
        "irq_affinity",
        Level::Warn,
        format!("{detail} (e.g. {examples})"),
        "steer IRQs to non-shard cores: echo <other cores> > /proc/irq/<n>/smp_affinity_list, \
         or IRQBALANCE_BANNED_CPULIST=<shard cores> for irqbalance",
    )
}

fn block_scheduler(facts: &HostFacts) -> Finding {
    let Some((device, line)) = &facts.scheduler else {
        return finding(
            "block_scheduler",
            Level::Warn,
            "could not find the block device of the data dir (not a local disk?)".to_string(),
            "put --data-dir on a local NVMe or SSD filesystem",
        );
    };
    let active = line
        .split_whitespace()
        .find(|s| s.starts_with('['))
        .map_or(line.as_str(), |s| s.trim_matches(|c| c == '[' || c == ']'));
    let detail = format!("{device}: {line}");
    let fix = format!("echo none > /sys/block/{device}/queue/scheduler (persist with a udev rule)");
    match active {
        "none" => finding("block_scheduler", Level::Ok, detail, ""),
        "mq-deadline" if !device.starts_with("nvme") => finding(
            "block_scheduler",
            Level::Ok,
            format!("{detail} (fine for a non-NVMe disk)"),
            "",
        ),
        _ => finding(
            "block_scheduler",
            Level::Warn,
            format!("{detail}: NVMe wants none (io_uring queues deep enough itself)"),
            &fix,
        ),
    }
}

fn filesystem(facts: &HostFacts) -> Finding {
    let Some(mount) = &facts.mount else {
        return finding(
            "filesystem",
            Level::Warn,
            format!("no mount found for {}", facts.data_dir.display()),
            "put --data-dir on an ext4 or xfs filesystem",
        );
    };
    let detail = format!(
        "{} is {} on {} ({}), options {}",
        facts.data_dir.display(),
        mount.fs_type,
        mount.mount_point,
        mount.source,
        mount.options
    );
    let options: Vec<&str> = mount.options.split(',').collect();
    match mount.fs_type.as_str() {
        "tmpfs" | "ramfs" => finding(
            "filesystem",
            Level::Warn,
            format!("{detail}: in memory, lost on reboot, and glommio turns O_DIRECT off there"),
            "put --data-dir on ext4 or xfs on a local disk",
        ),
        "ext4" | "xfs" if options.contains(&"noatime") => {
            finding("filesystem", Level::Ok, detail, "")
        }
        "ext4" | "xfs" => {
            let why = if options.contains(&"relatime") {
                "relatime still writes an access time once a day per file read"
            } else {
                "every read writes an access time"
            };
            finding(
                "filesystem",
                Level::Warn,
                format!("{detail}: {why}"),
                "mount with noatime (fstab: defaults,noatime)",
            )
        }
        _ => finding(
            "filesystem",
            Level::Warn,
            format!("{detail}: untested filesystem for O_DIRECT and io_uring"),
            "use ext4 or xfs, mounted noatime",
        ),
    }
}

fn transparent_hugepages(facts: &HostFacts) -> Finding {
    let Some(line) = &facts.thp else {
        return finding(
            "transparent_hugepages",
            Level::Ok,
            "not available".into(),
            "",
        );
    };
    if line.contains("[always]") {
        return finding(
            "transparent_hugepages",
            Level::Warn,
            format!("{line}: compaction stalls and RSS bloat under allocation churn"),
            "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled",
        );
    }
    finding("transparent_hugepages", Level::Ok, line.clone(), "")
}

fn sysctl_at_least(
    check: &'static str,
    value: Option<u64>,
    wanted: u64,
    why: &str,
    fix: &str,
) -> Finding {
    match value {
        Some(v) if v >= wanted => finding(check, Level::Ok, v.to_string(), ""),
        Some(v) => finding(
            check,
            Level::Warn,
            format!("{v}: below {wanted}; {why}"),
            fix,
        ),
        None => finding(check, Level::Warn, "unreadable".to_string(), fix),
    }
}

fn swappiness(facts: &HostFacts) -> Finding {
    match facts.swappiness {
        Some(v) if v <= SWAPPINESS_MAX => finding("swappiness", Level::Ok, v.to_string(), ""),
        other => finding(
            "swappiness",
            Level::Warn,
            format!(
                "{}: the kernel may swap out Strata's caches and buffers",
                other.map_or("unreadable".to_string(), |v| v.to_string())
            ),
            "sysctl -w vm.swappiness=1 (persist in /etc/sysctl.d/90-strata.conf)",
        ),
    }
}

fn somaxconn(facts: &HostFacts) -> Finding {
    sysctl_at_least(
        "somaxconn",
        facts.somaxconn,
        BACKLOG_RECOMMENDED,
        "bursts of remote_write connects overflow the accept queue",
        "sysctl -w net.core.somaxconn=4096 (persist in /etc/sysctl.d/90-strata.conf)",
    )
}

fn tcp_max_syn_backlog(facts: &HostFacts) -> Finding {
    sysctl_at_least(
        "tcp_max_syn_backlog",
        facts.syn_backlog,
        BACKLOG_RECOMMENDED,
        "half-open connections are dropped when many clients reconnect at once",
        "sysctl -w net.ipv4.tcp_max_syn_backlog=4096 (persist in /etc/sysctl.d/90-strata.conf)",
    )
}

fn ip_local_port_range(facts: &HostFacts) -> Finding {
    let fix = "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"";
    match facts.port_range {
        Some((low, high)) if high.saturating_sub(low) + 1 >= LOCAL_PORTS_RECOMMENDED => finding(
            "ip_local_port_range",
            Level::Ok,
            format!("{low} {high}"),
            "",
        ),
        Some((low, high)) => finding(
            "ip_local_port_range",
            Level::Warn,
            format!(
                "{low} {high}: {} ports; proxies and relays in front of Strata run out",
                high.saturating_sub(low) + 1
            ),
            fix,
        ),
        None => finding(
            "ip_local_port_range",
            Level::Warn,
            "unreadable".to_string(),
            fix,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_host::{find_mount, parse_cpu_list, parse_limit};

    fn facts() -> HostFacts {
        HostFacts {
            root: false,
            memlock: Limit {
                soft: None,
                hard: None,
            },
            shards: 2,
            allowed_cpus: vec![0, 1, 2, 3],
            online_cpus: vec![0, 1, 2, 3],
            ..HostFacts::default()
        }
    }

    #[test]
    fn memlock_levels() {
        let mut f = facts();
        assert_eq!(memlock(&f).level, Level::Ok);
        f.memlock = Limit {
            soft: Some(65536),
            hard: Some(65536),
        };
        assert_eq!(memlock(&f).level, Level::Fail);
        assert!(memlock(&f).detail.starts_with("soft 64 KiB, hard 64 KiB"));
        f.memlock = Limit {
            soft: Some(65536),
            hard: None,
        };
        assert_eq!(memlock(&f).level, Level::Warn);
        f.memlock = Limit {
            soft: Some(8 << 20),
            hard: Some(8 << 20),
        };
        assert_eq!(
            memlock(&f).level,
            Level::Warn,
            "non-root, 2 shards want 62 MiB"
        );
        f.root = true;
        assert_eq!(memlock(&f).level, Level::Ok);
    }

    #[test]
    fn io_uring_levels() {
        let mut f = facts();
        assert_eq!(io_uring(&f).level, Level::Ok);
        f.io_uring_disabled = Some(2);
        assert_eq!(io_uring(&f).level, Level::Fail);
        f.io_uring_disabled = Some(1);
        assert_eq!(io_uring(&f).level, Level::Warn);
        f.root = true;
        assert_eq!(io_uring(&f).level, Level::Ok);
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_cpu_list("0-2,5\n"), vec![0, 1, 2, 5]);
        assert_eq!(format_cpu_list(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        let limits = "Max open files            20000                unlimited            files\n";
        assert_eq!(
            parse_limit(limits, "Max open files"),
            Limit {
                soft: Some(20000),
                hard: None
            }
        );
        let mountinfo = "garbage line\n\
                         27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n\
                         40 27 0:40 / /data rw,noatime - xfs /dev/nvme0n1p1 rw\n";
        let mount = find_mount(mountinfo, std::path::Path::new("/data/strata")).unwrap();
        assert_eq!(
            (mount.fs_type.as_str(), mount.options.as_str()),
            ("xfs", "rw,noatime")
        );
        let root = find_mount(mountinfo, std::path::Path::new("/database")).unwrap();
        assert_eq!(root.device_number, "254:0");
    }

    #[test]
    fn irqs_on_shard_cores_are_reported() {
        let mut f = facts();
        f.irqs = vec![("24".into(), vec![2, 3]), ("25".into(), vec![0, 1, 2, 3])];
        let found = irq_affinity(&f);
        assert_eq!(found.level, Level::Warn);
        assert!(found.detail.starts_with("1 of 2 IRQs"), "{}", found.detail);
    }
}
