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

    /// A WAL append or commit failed: a full disk pauses writes, anything else (the log is then
    /// latched) makes the shard read-only. Returns the refusal to answer.
    pub(crate) fn wal_failed(&self, error: &wal::Error) -> WriteRefused {
        let message = error.to_string();
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
