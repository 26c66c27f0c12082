//! `strata check-host` on this machine: the real binary names every check,
//! its memlock line shows the limit `ulimit -l` reports, its exit code is
//! non-zero exactly when a check FAILs, and under `prlimit --memlock=65536`
//! (64 KiB, below glommio's 512 KiB floor) the memlock check FAILs.

use std::process::{Command, Output};

const CHECKS: [&str; 12] = [
    "io_uring",
    "memlock",
    "nofile",
    "cpus",
    "irq_affinity",
    "block_scheduler",
    "filesystem",
    "transparent_hugepages",
    "swappiness",
    "somaxconn",
    "tcp_max_syn_backlog",
    "ip_local_port_range",
];

fn strata() -> &'static str {
    env!("CARGO_BIN_EXE_strata")
}

fn data_dir() -> String {
    std::env::temp_dir().display().to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn line_of<'a>(text: &'a str, check: &str) -> &'a str {
    text.lines()
        .find(|line| line.split_whitespace().nth(1) == Some(check))
        .unwrap_or_else(|| panic!("no line for check {check} in:\n{text}"))
}

/// What `ulimit -l` says, as check-host prints it.
fn expected_memlock_soft() -> String {
    let output = Command::new("sh")
        .args(["-c", "ulimit -l"])
        .output()
        .expect("run sh");
    let text = stdout(&output).trim().to_string();
    if text == "unlimited" {
        "soft unlimited".to_string()
    } else {
        format!("soft {text} KiB")
    }
}

#[test]
fn names_every_check_and_reports_the_memlock_limit() {
    let output = Command::new(strata())
        .args(["check-host", "--data-dir", &data_dir()])
        .output()
        .expect("run strata check-host");
    let text = stdout(&output);
    for check in CHECKS {
        let line = line_of(&text, check);
        let level = line.split_whitespace().next().unwrap_or("");
        assert!(["OK", "WARN", "FAIL"].contains(&level), "{line}");
    }
    let memlock = line_of(&text, "memlock");
    assert!(
        memlock.contains(&expected_memlock_soft()),
        "memlock line {memlock:?} does not show `ulimit -l` ({})",
        expected_memlock_soft()
    );
    let failed = text.lines().any(|line| line.starts_with("FAIL"));
    assert_eq!(
        output.status.success(),
        !failed,
        "exit code vs FAIL lines:\n{text}"
    );
    assert!(
        text.contains(" OK, ") && text.contains(" WARN, "),
        "no summary:\n{text}"
    );
}

#[test]
fn memlock_below_512_kib_fails() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    let output = Command::new("prlimit")
        .args([
            "--memlock=65536:65536",
            strata(),
            "check-host",
            "--data-dir",
        ])
        .arg(data_dir())
        .output()
        .expect("run prlimit strata check-host");
    let text = stdout(&output);
    let memlock = line_of(&text, "memlock");
    assert!(memlock.starts_with("FAIL"), "{memlock}");
    assert!(memlock.contains("soft 64 KiB, hard 64 KiB"), "{memlock}");
    assert!(
        !output.status.success(),
        "FAIL must give a non-zero exit code"
    );
    let next = text
        .lines()
        .skip_while(|line| !line.starts_with("FAIL"))
        .nth(1)
        .unwrap_or("");
    assert!(
        next.trim_start().starts_with("fix: "),
        "no fix after the FAIL line"
    );
}
