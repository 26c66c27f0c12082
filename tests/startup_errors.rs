//! Issue 2: start-up problems stop the server with one clear line naming the problem and the fix,
//! and a non-zero exit.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::process::Command;

use common::{strata_bin, Server, TempDir};

fn run_expect_failure(args: &[&str], wrapper: Option<&[&str]>) -> String {
    let mut command = match wrapper {
        Some(prefix) => {
            let mut c = Command::new(prefix[0]);
            c.args(&prefix[1..]).arg(strata_bin());
            c
        }
        None => Command::new(strata_bin()),
    };
    let output = command.args(args).output().expect("run strata");
    assert!(!output.status.success(), "expected failure for {args:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let last = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("strata: "))
        .unwrap_or_default()
        .to_string();
    assert!(
        !last.is_empty(),
        "no 'strata: ' error line for {args:?}: {stderr}"
    );
    last
}

#[test]
fn startup_errors_are_one_clear_line() {
    let dir = TempDir::new("startup");
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    // A running server holds the data dir and its port.
    let server = Server::start(std::path::Path::new(data), &[]);
    let line = run_expect_failure(
        &[
            "--listen",
            "127.0.0.1:0",
            "--shards",
            "2",
            "--data-dir",
            data,
        ],
        None,
    );
    assert!(line.contains("in use by another strata process"), "{line}");
    let other = dir.path().join("other");
    let line = run_expect_failure(
        &[
            "--listen",
            &server.addr,
            "--data-dir",
            other.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        line.contains("cannot listen on") && line.contains("choose another --listen"),
        "{line}"
    );
    assert!(server.stop().success());

    // A different shard count on an existing data dir.
    let line = run_expect_failure(
        &[
            "--listen",
            "127.0.0.1:0",
            "--shards",
            "1",
            "--data-dir",
            data,
        ],
        None,
    );
    assert!(
        line.contains("--shards 2") && line.contains("restart with --shards 2"),
        "{line}"
    );

    // An unknown format version.
    let versioned = dir.path().join("versioned");
    std::fs::create_dir_all(&versioned).unwrap();
    std::fs::write(
        versioned.join("strata.json"),
        r#"{"format_version":999,"shards":1}"#,
    )
    .unwrap();
    let line = run_expect_failure(
        &[
            "--listen",
            "127.0.0.1:0",
            "--shards",
            "1",
            "--data-dir",
            versioned.to_str().unwrap(),
        ],
        None,
    );
    assert!(line.contains("format version 999"), "{line}");

    // A data dir that cannot be created (its parent is a file).
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let below_file = file.join("data");
    let line = run_expect_failure(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            below_file.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        line.contains("cannot create data dir") && line.contains("--data-dir"),
        "{line}"
    );

    // Bad flags name the flag.
    let output = Command::new(strata_bin())
        .args(["--retention", "soon"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--retention"));
    let line = run_expect_failure(&["--shards", "0", "--data-dir", data], None);
    assert!(line.contains("--shards must be at least 1"), "{line}");

    // Too little locked memory for io_uring.
    if std::path::Path::new("/usr/bin/prlimit").exists() {
        let fresh = dir.path().join("memlock");
        let line = run_expect_failure(
            &[
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                fresh.to_str().unwrap(),
            ],
            Some(&["/usr/bin/prlimit", "--memlock=65536:65536"]),
        );
        assert!(
            line.contains("locked-memory limit") && line.contains("ulimit -l"),
            "{line}"
        );
    } else {
        println!("skipping the memlock case: prlimit (util-linux) is not installed");
    }
}
