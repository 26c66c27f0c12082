//! How the storage reacts to disk errors: it feeds WAL, flush and merge results to its write
//! gate (`write_gate.rs`), logs each transition once and keeps the `/metrics` gauges current.

use std::io;
use std::time::Instant;

use super::table::Storage;
use super::wal;
use super::write_gate::{is_no_space, DiskWork, Transition, WriteRefused};

impl Storage {
    /// Whether a write may go ahead now (queries are never gated).
    pub(crate) fn admit_write(&self) -> Result<(), WriteRefused> {
        self.write_gate.borrow().admit(Instant::now())
    }

    /// A WAL append or commit failed: a full disk pauses writes, a record too large for a
    /// segment refuses just this request, anything else (the log is then latched) makes the
    /// shard read-only. Returns the refusal to answer.
    pub(crate) fn wal_failed(&self, error: &wal::Error) -> WriteRefused {
        let message = error.to_string();
        if matches!(error, wal::Error::RecordTooLarge { .. }) {
            // The request, not the disk: nothing was written.
            return WriteRefused::permanent(message);
        }
        self.disk_work_failed(DiskWork::Wal, &message, error.is_no_space());
        match self.admit_write() {
            Err(refused) => refused,
            // Another task's success reopened the gate meanwhile: still not acknowledged.
            Ok(()) => WriteRefused {
                message,
                retry_after: Some(super::write_gate::FIRST_BACKOFF),
            },
        }
    }

    /// Notes the outcome of a flush or a merge. Only a full disk pauses writes: a flush or merge
    /// that failed otherwise wrote new files only, is logged by its caller and tried again.
    pub(crate) fn note_disk_work<T>(&self, work: DiskWork, result: &io::Result<T>) {
        match result {
            Ok(_) => self.disk_work_succeeded(work),
            Err(error) if is_no_space(error) => {
                self.disk_work_failed(work, &error.to_string(), true)
            }
            Err(_) => {}
        }
    }

    pub(crate) fn disk_work_succeeded(&self, work: DiskWork) {
        let transition = self.write_gate.borrow_mut().succeeded(work);
        if transition == Transition::Resumed {
            log::info!(
                "{}: {} succeeded, there is room on the disk again: writes resumed",
                self.dir.display(),
                work.name()
            );
            self.update_gate_gauges();
        }
    }

    fn disk_work_failed(&self, work: DiskWork, message: &str, no_space: bool) {
        let transition = {
            let mut gate = self.write_gate.borrow_mut();
            if no_space {
                gate.no_space(work, message, Instant::now())
            } else {
                gate.failed(message)
            }
        };
        if no_space {
            self.stats.borrow_mut().no_space_errors += 1;
        }
        match transition {
            Transition::Paused => log::warn!(
                "{}: disk full during {}: {message}; writes are paused (answered 503 with \
                 Retry-After), queries go on, writes resume by themselves once space is freed",
                self.dir.display(),
                work.name()
            ),
            Transition::ReadOnly => log::error!(
                "{}: {message}; a failed fsync is never retried on the same data: this shard is \
                 read-only until strata is restarted (acknowledged rows are safe in the WAL)",
                self.dir.display()
            ),
            Transition::None | Transition::Resumed => {}
        }
        self.update_gate_gauges();
    }

    fn update_gate_gauges(&self) {
        let gate = self.write_gate.borrow();
        let mut stats = self.stats.borrow_mut();
        stats.writes_paused = u64::from(gate.paused());
        stats.read_only = u64::from(gate.read_only());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use glommio::{LocalExecutorBuilder, Placement};

    use crate::ingest::IngestBatch;
    use crate::storage::wal::SyncMode;
    use crate::storage::write_gate::FIRST_BACKOFF;
    use crate::storage::{Storage, StorageOptions};

    fn batch(timestamp_ms: i64) -> IngestBatch {
        let mut batch = IngestBatch::default();
        batch.push_label(b"__name__", b"disk_full_unit");
        batch.push_sample(timestamp_ms, 1.0);
        batch.end_series();
        batch
    }

    /// The storage's reaction to WAL failures, with faults injected into the WAL's I/O: ENOSPC
    /// pauses writes and the first commit after the back-off resumes them; a failed fdatasync
    /// makes the shard read-only; queries are answered throughout.
    #[test]
    fn wal_enospc_pauses_and_resumes_and_a_failed_fsync_is_final() {
        let dir = std::env::temp_dir().join(format!("strata-disk-full-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.clone();
        LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(1 << 20)
            .spawn(move || async move {
                let options = StorageOptions {
                    wal_sync: Some(SyncMode::Always),
                    retention_ms: i64::MAX / 4,
                    dedup_interval_ms: 0,
                    index_cache_bytes: 16 << 20,
                    time_checks: true,
                    series_index: crate::index::IndexOptions::default(),
                };
                let storage = Storage::open(&path, options).await.unwrap();
                let now = crate::shard::now_ms();
                storage.ingest_durable(&batch(now), now).await.unwrap();
                let wal = storage.wal.get().unwrap();

                wal.fail_next("write", 28);
                let refused = storage
                    .ingest_durable(&batch(now + 1), now)
                    .await
                    .unwrap_err();
                assert_eq!(refused.retry_after, Some(FIRST_BACKOFF), "{refused:?}");
                assert!(refused.message.contains("disk full"), "{}", refused.message);
                assert_eq!(storage.stats().writes_paused, 1);
                assert_eq!(storage.stats().no_space_errors, 1);
                // Paused: refused without touching the WAL.
                let appends = wal.stats().appends;
                assert!(storage.ingest_durable(&batch(now + 2), now).await.is_err());
                assert_eq!(wal.stats().appends, appends);
                // Queries go on.
                let series = storage.select(&[], 0, i64::MAX).await.unwrap();
                assert_eq!(series.len(), 1);
                // After the back-off a write probes, succeeds and reopens the gate.
                glommio::timer::sleep(FIRST_BACKOFF + Duration::from_millis(20)).await;
                storage.ingest_durable(&batch(now + 3), now).await.unwrap();
                assert_eq!(storage.stats().writes_paused, 0);
                storage.ingest_durable(&batch(now + 4), now).await.unwrap();

                wal.fail_next("fdatasync", 5);
                let refused = storage
                    .ingest_durable(&batch(now + 5), now)
                    .await
                    .unwrap_err();
                assert_eq!(refused.retry_after, None);
                assert!(refused.message.contains("read-only"), "{}", refused.message);
                assert_eq!(storage.stats().read_only, 1);
                glommio::timer::sleep(FIRST_BACKOFF * 2).await;
                let refused = storage
                    .ingest_durable(&batch(now + 6), now)
                    .await
                    .unwrap_err();
                assert!(refused.message.contains("read-only"), "{}", refused.message);
                assert_eq!(storage.select(&[], 0, i64::MAX).await.unwrap().len(), 1);
            })
            .unwrap()
            .join()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
