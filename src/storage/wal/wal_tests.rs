//! End-to-end tests of the log on real files (ext4 temp dir, O_DIRECT) inside glommio executors.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};

use super::*;

fn run<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(1 << 20)
        .spawn(test)
        .expect("spawn executor")
        .join()
        .expect("test panicked in the executor");
}

/// A directory under the (ext4) temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("strata-wal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn wal(&self) -> PathBuf {
        self.0.join("wal")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic payload `i`: 50 to 349 bytes, none of them zero.
fn payload(i: usize) -> Vec<u8> {
    let len = 50 + (i * 37) % 300;
    (0..len)
        .map(|j| ((i * 31 + j * 7) % 251 + 1) as u8)
        .collect()
}

fn options(sync: SyncMode, segment_bytes: u64) -> WalOptions {
    WalOptions {
        sync,
        segment_bytes,
    }
}

type Records = Vec<(RecordPosition, Vec<u8>)>;

/// Opens the log, collecting the replayed records.
async fn open_collect(dir: &Path, opts: WalOptions) -> Result<(Wal, ReplayReport, Records), Error> {
    let mut records = Vec::new();
    let (wal, report) =
        Wal::open(dir, opts, |pos, bytes| records.push((pos, bytes.to_vec()))).await?;
    Ok((wal, report, records))
}

/// Appends `payloads`, committing each; returns their positions.
async fn write_all(wal: &Wal, payloads: &[Vec<u8>]) -> Vec<RecordPosition> {
    let mut positions = Vec::new();
    for p in payloads {
        let pos = wal.append(p).unwrap();
        wal.commit(pos).await.unwrap();
        positions.push(pos);
    }
    positions
}

fn segment_files(dir: &Path) -> Vec<u64> {
    let mut seqs: Vec<u64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| segment::parse_segment_name(&e.unwrap().file_name().to_string_lossy()))
        .collect();
    seqs.sort_unstable();
    seqs
}

#[test]
fn round_trip_across_segment_rotation() {
    let tmp = TempDir::new("roundtrip");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Always, 16 * 1024);
        let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
        assert_eq!(report, ReplayReport::default());
        assert!(records.is_empty());
        let payloads: Vec<Vec<u8>> = (0..500).map(payload).collect();
        let mut positions = Vec::new();
        for chunk in payloads.chunks(10) {
            let chunk_positions: Vec<_> = chunk.iter().map(|p| wal.append(p).unwrap()).collect();
            wal.commit(*chunk_positions.last().unwrap()).await.unwrap();
            positions.extend(chunk_positions);
        }
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        let stats = wal.stats();
        assert_eq!(stats.appends, 500);
        assert!(stats.segments_created >= 6, "{stats:?}");
        wal.close().await.unwrap();
        for seq in segment_files(&dir) {
            let len = std::fs::metadata(segment::segment_path(&dir, seq))
                .unwrap()
                .len();
            assert!(
                len <= 16 * 1024 && len % 4096 == 0,
                "segment {seq} has {len} bytes"
            );
        }

        let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
        assert_eq!(report.records, 500);
        assert_eq!(report.dropped_from, None);
        assert_eq!(report.segments, stats.segments_created);
        let want: Records = positions.into_iter().zip(payloads).collect();
        assert_eq!(records, want);
        wal.close().await.unwrap();

        // The same through `Replay`, awaiting between records, stopping early: open_after skips
        // the rest and appends after the last record.
        let mut replay = Replay::start(&dir).await.unwrap();
        let mut read = Records::new();
        while let Some((position, bytes)) = replay.next().await.unwrap() {
            read.push((position, bytes.to_vec()));
            glommio::executor().yield_if_needed().await;
            if read.len() == 300 {
                break;
            }
        }
        assert_eq!(read[..], want[..300]);
        let (wal, report) = Wal::open_after(replay, opts).await.unwrap();
        assert_eq!(report.records, 500);
        assert!(wal.append(b"next").unwrap() > want[499].0);
        wal.close().await.unwrap();
    });
}

#[test]
fn group_commit_shares_fsyncs() {
    let tmp = TempDir::new("group");
    let dir = tmp.wal();
    run(move || async move {
        let (wal, _, _) = open_collect(&dir, options(SyncMode::Always, SEGMENT_BYTES))
            .await
            .unwrap();
        let wal = Rc::new(wal);
        // 64 appenders at once: the first leads one round for all (it yields before writing).
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let wal = wal.clone();
                glommio::spawn_local(async move {
                    let pos = wal.append(&payload(i)).unwrap();
                    wal.commit(pos).await.unwrap();
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        let stats = wal.stats();
        assert_eq!(stats.appends, 64);
        assert_eq!(stats.fsyncs, 1, "{stats:?}");
        assert_eq!(stats.writes, 1, "{stats:?}");

        // 64 appenders committing 20 records each, one after the other.
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let wal = wal.clone();
                glommio::spawn_local(async move {
                    for round in 0..20 {
                        let pos = wal.append(&payload(i * 20 + round)).unwrap();
                        wal.commit(pos).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        let after = wal.stats();
        let fsyncs = after.fsyncs - stats.fsyncs;
        println!("1280 commits from 64 appenders took {fsyncs} fsyncs");
        assert!(fsyncs <= 30, "{after:?}");
        let wal = Rc::try_unwrap(wal).ok().unwrap();
        wal.close().await.unwrap();
        let (_, report, _) = open_collect(&dir, options(SyncMode::Always, SEGMENT_BYTES))
            .await
            .unwrap();
        assert_eq!(report.records, 64 + 1280);
    });
}

#[test]
fn a_dropped_commit_does_not_cancel_its_round() {
    let tmp = TempDir::new("dropped");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Always, SEGMENT_BYTES);
        let (wal, _, _) = open_collect(&dir, opts).await.unwrap();
        let first = wal.append(b"first").unwrap();
        // Poll once (starts a round), then drop it, as a request timeout would.
        assert_eq!(wal.buffered_bytes(), 8 + 5);
        let pending = futures_lite::future::poll_once(wal.commit(first)).await;
        assert!(pending.is_none());
        let second = wal.append(b"second").unwrap();
        wal.commit(second).await.unwrap();
        assert!(wal.stats().fsyncs <= 2, "{:?}", wal.stats());
        assert_eq!(wal.buffered_bytes(), 0);
        wal.close().await.unwrap();
        let (wal, _, records) = open_collect(&dir, opts).await.unwrap();
        assert_eq!(records.len(), 2);
        wal.close().await.unwrap();
    });
}

#[test]
fn batch_mode_commits_on_write_and_syncs_on_a_timer() {
    let tmp = TempDir::new("batch");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Batch(Duration::from_millis(20)), SEGMENT_BYTES);
        let (wal, _, _) = open_collect(&dir, opts).await.unwrap();
        let pos = wal.append(b"a").unwrap();
        wal.commit(pos).await.unwrap();
        assert_eq!(wal.stats().writes, 1);
        assert_eq!(wal.stats().fsyncs, 0);
        glommio::timer::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            wal.stats().fsyncs,
            1,
            "the timer syncs once, then finds nothing new"
        );
        // None: never syncs on commit.
        wal.close().await.unwrap();
        let (wal, report, _) = open_collect(&dir, options(SyncMode::None, SEGMENT_BYTES))
            .await
            .unwrap();
        assert_eq!(report.records, 1);
        let pos = wal.append(b"b").unwrap();
        wal.commit(pos).await.unwrap();
        assert_eq!(wal.stats().fsyncs, 0);
        wal.close().await.unwrap();
    });
}

#[test]
fn torn_tail_at_every_byte_of_the_last_record() {
    let tmp = TempDir::new("torn");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Always, SEGMENT_BYTES);
        let (wal, _, _) = open_collect(&dir, opts).await.unwrap();
        let payloads: Vec<Vec<u8>> = (0..5).map(payload).collect();
        let positions = write_all(&wal, &payloads).await;
        wal.close().await.unwrap();
        let path = segment::segment_path(&dir, positions[4].segment);
        let original = std::fs::read(&path).unwrap();
        let last = positions[4].offset as usize;
        let last_len = RECORD_HEADER_BYTES + payloads[4].len();
        for kept in 0..last_len {
            std::fs::write(&path, &original[..last + kept]).unwrap();
            let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
            assert_eq!(records.len(), 4, "kept {kept} bytes of the last record");
            assert_eq!(records[3].1, payloads[3]);
            if kept == 0 {
                assert_eq!(report.dropped_from, None);
            } else {
                assert_eq!(report.dropped_from, Some(positions[4]), "kept {kept}");
                assert!(
                    (1..=kept as u64).contains(&report.dropped_bytes),
                    "{report:?}"
                );
                assert!(report.to_string().contains("dropped"), "{report}");
            }
            assert_eq!(std::fs::metadata(&path).unwrap().len(), last as u64);
            if kept == last_len / 2 {
                // New records go right after the last good one, never after garbage.
                let pos = wal.append(b"after recovery").unwrap();
                assert_eq!(pos, positions[4]);
                wal.commit(pos).await.unwrap();
                wal.close().await.unwrap();
                let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
                assert_eq!(report.dropped_from, None);
                assert_eq!(records.len(), 5);
                assert_eq!(records[4].1, b"after recovery");
                wal.close().await.unwrap();
            } else {
                wal.close().await.unwrap();
            }
        }
    });
}

#[test]
fn zeroed_tail_is_cut_like_padding() {
    let tmp = TempDir::new("zeroed");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Always, SEGMENT_BYTES);
        let (wal, _, _) = open_collect(&dir, opts).await.unwrap();
        let payloads: Vec<Vec<u8>> = (0..3).map(payload).collect();
        let positions = write_all(&wal, &payloads).await;
        wal.close().await.unwrap();
        let path = segment::segment_path(&dir, 1);
        let mut bytes = std::fs::read(&path).unwrap();
        // Zeroing only the payload leaves a header whose checksum fails: reported.
        let last = positions[2].offset as usize;
        bytes[last + RECORD_HEADER_BYTES..].fill(0);
        std::fs::write(&path, &bytes).unwrap();
        let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(report.dropped_from, Some(positions[2]));
        assert_eq!(report.dropped_bytes, RECORD_HEADER_BYTES as u64);
        wal.close().await.unwrap();
        // A wholly zeroed record looks like padding (never-written data): silently the end.
        bytes[positions[1].offset as usize..].fill(0);
        std::fs::write(&path, &bytes).unwrap();
        let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(report.dropped_from, None);
        wal.close().await.unwrap();
    });
}

#[test]
fn flipped_bytes_in_the_last_segment_cut_at_the_damaged_record() {
    let tmp = TempDir::new("flip");
    let dir = tmp.wal();
    run(move || async move {
        // 100-byte payloads, 37 records per 4 KiB segment: segments of 37, 37 and 6 records.
        let opts = options(SyncMode::Always, 4096);
        let (wal, _, _) = open_collect(&dir, opts).await.unwrap();
        let payloads: Vec<Vec<u8>> = (0..80).map(|i| payload(i)[..50].repeat(2)).collect();
        let positions = write_all(&wal, &payloads).await;
        wal.close().await.unwrap();
        let last_segment = positions[79].segment;
        assert_eq!(positions[74].segment, last_segment);
        assert_ne!(positions[73].segment, last_segment);
        let path = segment::segment_path(&dir, last_segment);
        let original = std::fs::read(&path).unwrap();
        let data_end = positions[79].offset as usize + RECORD_HEADER_BYTES + 100;
        for at in 0..data_end {
            let mut bytes = original.clone();
            bytes[at] ^= 0x20;
            std::fs::write(&path, &bytes).unwrap();
            let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
            let damaged = positions
                .iter()
                .rposition(|p| p.segment == last_segment && p.offset as usize <= at)
                .unwrap();
            assert_eq!(records.len(), damaged, "flipped byte {at}");
            assert_eq!(
                report.dropped_from,
                Some(positions[damaged]),
                "flipped byte {at}"
            );
            assert!(report.dropped_bytes > 0);
            wal.close().await.unwrap();
        }
    });
}

#[test]
fn corrupt_middle_segment_is_an_error_naming_segment_and_offset() {
    let tmp = TempDir::new("middle");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Always, 4096);
        let (wal, _, _) = open_collect(&dir, opts).await.unwrap();
        let payloads: Vec<Vec<u8>> = (0..60).map(payload).collect();
        let positions = write_all(&wal, &payloads).await;
        wal.close().await.unwrap();
        let victim = positions
            .iter()
            .find(|p| p.segment == 2 && p.offset > 0)
            .copied()
            .unwrap();
        let path = segment::segment_path(&dir, 2);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[victim.offset as usize + RECORD_HEADER_BYTES + 3] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let error = open_collect(&dir, opts).await.err().unwrap();
        assert!(
            matches!(error, Error::Corruption { at, damage: Damage::ChecksumMismatch { .. } } if at == victim),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("segment 0000000000000002"),
            "{error}"
        );
        // A hole in the sequence is an error too.
        std::fs::remove_file(&path).unwrap();
        let error = open_collect(&dir, opts).await.err().unwrap();
        assert_eq!(error, Error::MissingSegment { missing: 2 });
    });
}

#[test]
fn remove_segments_before_and_rotate_for_a_clean_shutdown() {
    let tmp = TempDir::new("remove");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Always, 4096);
        let (wal, _, _) = open_collect(&dir, opts).await.unwrap();
        let payloads: Vec<Vec<u8>> = (0..60).map(payload).collect();
        write_all(&wal, &payloads[..45]).await;
        let cut = wal.position();
        let after_cut = write_all(&wal, &payloads[45..]).await;
        assert!(cut.segment > 2, "{cut:?}");
        let removed = wal.remove_segments_before(cut).await.unwrap();
        assert_eq!(removed as u64, cut.segment - 1);
        assert_eq!(segment_files(&dir)[0], cut.segment);
        // Never the segment being written, whatever the caller asks.
        let current = wal.position().segment;
        wal.remove_segments_before(RecordPosition {
            segment: u64::MAX,
            offset: 0,
        })
        .await
        .unwrap();
        assert_eq!(segment_files(&dir), vec![current]);
        wal.close().await.unwrap();

        let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
        assert_eq!(records.last().unwrap().0, *after_cut.last().unwrap());
        assert_eq!(report.segments, 1);
        // Clean shutdown: rotate, (final flush), remove the rest: nothing left to replay.
        let start = wal.rotate().await.unwrap();
        assert_eq!(
            start,
            RecordPosition {
                segment: current + 1,
                offset: 0
            }
        );
        assert_eq!(wal.remove_segments_before(start).await.unwrap(), 1);
        wal.close().await.unwrap();
        let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
        assert!(records.is_empty());
        assert_eq!(report.segments, 1);
        // Positions keep growing across the restart.
        assert_eq!(wal.append(b"x").unwrap(), start);
        wal.close().await.unwrap();
    });
}

#[test]
fn failed_fsync_latches_and_enospc_is_told_apart() {
    let tmp = TempDir::new("latch");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Always, SEGMENT_BYTES);
        let (wal, _, _) = open_collect(&dir, opts).await.unwrap();
        write_all(&wal, &[b"kept".to_vec()]).await;
        let fsyncs = wal.stats().fsyncs;
        wal.fail_next("fdatasync", 5);
        let pos = wal.append(b"lost").unwrap();
        let error = wal.commit(pos).await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::Io {
                    step: "fdatasync",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(!error.is_no_space());
        // Latched: no retry of the fsync, every later call fails the same way.
        assert_eq!(wal.append(b"more").unwrap_err(), error);
        assert_eq!(wal.sync().await.unwrap_err(), error);
        assert_eq!(wal.stats().fsyncs, fsyncs);
        drop(wal);
        let (wal, _, records) = open_collect(&dir, opts).await.unwrap();
        assert_eq!(records[0].1, b"kept");

        // A full disk fails the round's commits but does not latch: the record stays in the
        // tail, unacknowledged, and the next round writes it (once, at its own offset).
        wal.fail_next("write", 28);
        let pos = wal.append(b"no room").unwrap();
        let error = wal.commit(pos).await.unwrap_err();
        assert!(error.is_no_space(), "{error:?}");
        let next = wal.append(b"room again").unwrap();
        wal.commit(next).await.unwrap();
        drop(wal);
        let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
        assert_eq!(report.dropped_bytes, 0, "{report}");
        // ("lost" was written before its fdatasync failed, so it may come back: never acknowledged.)
        let payloads: Vec<&[u8]> = records.iter().map(|(_, p)| p.as_slice()).collect();
        assert_eq!(
            payloads[payloads.len() - 2..],
            [b"no room".as_slice(), b"room again".as_slice()]
        );
        assert_eq!(records[records.len() - 2].0, pos);
        // ENOSPC from fdatasync is a failed fsync like any other: latched.
        wal.fail_next("fdatasync", 28);
        let pos = wal.append(b"unsynced").unwrap();
        let error = wal.commit(pos).await.unwrap_err();
        assert!(!error.is_no_space(), "{error:?}");
        assert_eq!(wal.append(b"x").unwrap_err(), error);
        drop(wal);

        let (wal, _, _) = open_collect(&dir, options(SyncMode::Always, 4096))
            .await
            .unwrap();
        let too_big = vec![1u8; 4096];
        assert_eq!(
            wal.append(&too_big).unwrap_err(),
            Error::RecordTooLarge {
                len: 4096,
                max: 4088
            }
        );
        wal.close().await.unwrap();
    });
}

/// Throughput with `Always` and 64 concurrent appenders of 50 KB records. Run in release:
/// `cargo test --release --lib storage::wal::wal_tests::throughput -- --ignored --nocapture`
#[test]
#[ignore]
fn throughput_always_64_appenders_50kb() {
    let tmp = TempDir::new("throughput");
    let dir = tmp.wal();
    LocalExecutorBuilder::new(Placement::Unbound)
        .spawn(move || async move {
            let (wal, _, _) = open_collect(&dir, WalOptions::new(SyncMode::Always))
                .await
                .unwrap();
            let wal = Rc::new(wal);
            let record = vec![0xabu8; 50_000];
            let per_task = 100;
            let started = Instant::now();
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    let wal = wal.clone();
                    let record = record.clone();
                    glommio::spawn_local(async move {
                        for _ in 0..per_task {
                            let pos = wal.append(&record).unwrap();
                            wal.commit(pos).await.unwrap();
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
            let seconds = started.elapsed().as_secs_f64();
            let stats = wal.stats();
            let records = (64 * per_task) as f64;
            println!(
                "{records} records of 50 KB in {seconds:.2} s: {:.0} records/s, {:.1} MB/s, \
                 {} fsyncs ({:.0}/s), {} writes, {} segments",
                records / seconds,
                records * 50_000.0 / seconds / 1e6,
                stats.fsyncs,
                stats.fsyncs as f64 / seconds,
                stats.writes,
                stats.segments_created
            );
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn reopen_and_append_after_recovery_continues_the_partial_block() {
    let tmp = TempDir::new("reopen");
    let dir = tmp.wal();
    run(move || async move {
        let opts = options(SyncMode::Always, 16 * 1024);
        let payloads: Vec<Vec<u8>> = (0..120).map(payload).collect();
        let mut positions = Vec::new();
        // Three lives of the log, each resuming mid-block (and mid-segment) where the last ended.
        for life in payloads.chunks(40) {
            let (wal, report, records) = open_collect(&dir, opts).await.unwrap();
            assert_eq!(report.dropped_from, None);
            assert_eq!(records.len(), positions.len());
            let resumed_at = wal.position();
            assert!(positions.last().is_none_or(|last| *last < resumed_at));
            positions.extend(write_all(&wal, life).await);
            wal.close().await.unwrap();
        }
        let (wal, _, records) = open_collect(&dir, opts).await.unwrap();
        let want: Records = positions.into_iter().zip(payloads).collect();
        assert_eq!(records, want);
        wal.close().await.unwrap();
    });
}

/// Environment variable that turns [`crash_child_appends_until_killed`] on, naming its WAL dir.
const CRASH_DIR_ENV: &str = "STRATA_WAL_CRASH_DIR";

/// Every commit acknowledged before `kill -9` is replayed: a child process (this test binary
/// running the ignored test below) appends from 8 tasks and prints each acknowledged position;
/// the parent kills it mid-stream and replays.
#[test]
fn acknowledged_records_survive_kill_9() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let tmp = TempDir::new("kill9");
    let dir = tmp.wal();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "storage::wal::wal_tests::crash_child_appends_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env(CRASH_DIR_ENV, &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(ack) = line.strip_prefix("acked ") {
                let fields: Vec<u64> = ack.split(' ').map(|f| f.parse().unwrap()).collect();
                let _ = sender.send((fields[0], fields[1], fields[2]));
            }
        }
    });
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.len() < 2000 && Instant::now() < deadline {
        if let Ok(ack) = receiver.recv_timeout(Duration::from_millis(100)) {
            acked.push(ack);
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    acked.extend(receiver.try_iter());
    assert!(
        acked.len() >= 2000,
        "the child acknowledged only {}",
        acked.len()
    );

    run(move || async move {
        let (wal, report, records) = open_collect(&dir, options(SyncMode::Always, 64 * 1024))
            .await
            .unwrap();
        let replayed: std::collections::HashMap<RecordPosition, Vec<u8>> =
            records.into_iter().collect();
        for (segment, offset, i) in acked {
            let position = RecordPosition { segment, offset };
            assert_eq!(
                replayed.get(&position),
                Some(&payload(i as usize)),
                "acknowledged record {i} at {position:?} lost; {report}"
            );
        }
        wal.close().await.unwrap();
    });
}

/// The child of [`acknowledged_records_survive_kill_9`]; does nothing unless its env var is set.
#[test]
#[ignore]
fn crash_child_appends_until_killed() {
    use std::io::Write;

    let Some(dir) = std::env::var_os(CRASH_DIR_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    run(move || async move {
        let (wal, _, _) = open_collect(&dir, options(SyncMode::Always, 64 * 1024))
            .await
            .unwrap();
        let wal = Rc::new(wal);
        let tasks: Vec<_> = (0..8)
            .map(|task| {
                let wal = wal.clone();
                glommio::spawn_local(async move {
                    for n in 0.. {
                        let i = task * 1_000_000 + n;
                        let position = wal.append(&payload(i)).unwrap();
                        wal.commit(position).await.unwrap();
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "acked {} {} {i}", position.segment, position.offset)
                            .unwrap();
                        out.flush().unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    });
}
