//! Whether a shard accepts writes: open; paused by a full disk (resumes by itself); or read-only
//! after a failed fsync or another I/O error (until the process restarts).
//!
//! A full disk (ENOSPC, or a short write) during a WAL write, a flush or a merge pauses writes:
//! they are answered 503 with `Retry-After` while queries go on. The pause lasts a back-off that
//! starts at [`FIRST_BACKOFF`] and doubles per repeated ENOSPC up to [`MAX_BACKOFF`]. Then:
//!
//! - After a WAL or merge ENOSPC, writes are let through again; they are the probe. A write
//!   whose WAL commit succeeds reopens the gate; one that hits ENOSPC again pauses with a longer
//!   back-off. Nothing is acknowledged that is not in the WAL (the failed records stay
//!   unacknowledged, see `wal/commit.rs`).
//! - After a flush ENOSPC the gate stays closed until a flush succeeds (the flusher retries on
//!   its timer): until then every accepted row would stay in memory.
//!
//! Any other WAL failure (a failed fdatasync above all) is never retried on the same data: the
//! gate turns read-only for good. Queries are never gated.
//!
//! The gate is pure state (no I/O, no clock of its own): `Storage` feeds it results and times.

use std::time::{Duration, Instant};

/// First pause after an ENOSPC: short, since freeing space (a retention drop, an operator's
/// `rm`) is often quick, and a probe costs one small WAL write.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest pause between probes: bounds how late writes resume after space is freed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// The storage work that hit a full disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskWork {
    /// A WAL write (or segment creation) for an ingest request.
    Wal,
    /// Writing buffered rows into a part.
    Flush,
    /// Writing a merged part.
    Merge,
}

impl DiskWork {
    /// How log lines and 503 texts name it.
    pub fn name(self) -> &'static str {
        match self {
            DiskWork::Wal => "a WAL write",
            DiskWork::Flush => "a flush",
            DiskWork::Merge => "a merge",
        }
    }
}

/// Why a write was refused: the message for the 503 and, when the refusal is temporary, when
/// to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRefused {
    /// Says what is wrong and what happens next.
    pub message: String,
    /// `Some` for a full disk (send again after this), `None` when retrying will not help soon.
    pub retry_after: Option<Duration>,
}

impl WriteRefused {
    /// A refusal retrying will not fix (bad input found late, a read-only shard).
    pub fn permanent(message: impl Into<String>) -> WriteRefused {
        WriteRefused {
            message: message.into(),
            retry_after: None,
        }
    }
}

/// What changed in the gate, for the caller to log once per transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Nothing worth a log line.
    None,
    /// Writes were open and are now paused.
    Paused,
    /// Writes are open again.
    Resumed,
    /// The shard turned read-only.
    ReadOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Open,
    Paused {
        /// A flush ENOSPC is outstanding: only a successful flush reopens.
        flush_failed: bool,
        /// Writes are refused until then; afterwards they probe (unless `flush_failed`).
        retry_at: Instant,
        /// The pause that led to `retry_at`; doubles on the next ENOSPC.
        backoff: Duration,
        /// The last ENOSPC, for the 503 text.
        reason: String,
    },
    ReadOnly {
        reason: String,
    },
}

/// The write gate of one shard.
#[derive(Debug)]
pub struct WriteGate {
    state: State,
}

impl Default for WriteGate {
    fn default() -> Self {
        WriteGate { state: State::Open }
    }
}

impl WriteGate {
    /// Whether a write may go ahead at `now`.
    pub fn admit(&self, now: Instant) -> Result<(), WriteRefused> {
        match &self.state {
            State::Open => Ok(()),
            State::ReadOnly { reason } => Err(WriteRefused::permanent(format!(
                "this shard is read-only until strata is restarted: {reason}"
            ))),
            State::Paused {
                flush_failed,
                retry_at,
                reason,
                ..
            } => {
                if !flush_failed && now >= *retry_at {
                    return Ok(());
                }
                // A flush is retried on the flusher's timer, so a client need not come sooner.
                let wait = retry_at.saturating_duration_since(now).max(FIRST_BACKOFF);
                Err(WriteRefused {
                    message: format!(
                        "disk full, writes are paused until space is freed (queries still work): {reason}"
                    ),
                    retry_after: Some(wait),
                })
            }
        }
    }

    /// `work` hit a full disk at `now`: pause, or pause longer when a probe after the pause
    /// failed. (The many commits of one failed group commit report one failure: those arriving
    /// while the pause runs do not lengthen it.)
    pub fn no_space(&mut self, work: DiskWork, error: &str, now: Instant) -> Transition {
        let reason = format!("{} failed: {error}", work.name());
        let (transition, backoff, flush_failed) = match &mut self.state {
            State::ReadOnly { .. } => return Transition::None,
            State::Open => (Transition::Paused, FIRST_BACKOFF, false),
            State::Paused {
                flush_failed,
                retry_at,
                reason: last_reason,
                ..
            } if now < *retry_at => {
                *flush_failed |= work == DiskWork::Flush;
                *last_reason = reason;
                return Transition::None;
            }
            State::Paused {
                backoff,
                flush_failed,
                ..
            } => (
                Transition::None,
                (*backoff * 2).min(MAX_BACKOFF),
                *flush_failed,
            ),
        };
        self.state = State::Paused {
            flush_failed: flush_failed || work == DiskWork::Flush,
            retry_at: now + backoff,
            backoff,
            reason,
        };
        transition
    }

    /// `work` wrote to disk successfully. A WAL commit or a merge shows there is room again,
    /// unless a flush is still owed; a flush settles an owed flush. (A flush that was not owed
    /// proves little: it may have had nothing to write.)
    pub fn succeeded(&mut self, work: DiskWork) -> Transition {
        let State::Paused { flush_failed, .. } = &self.state else {
            return Transition::None;
        };
        if *flush_failed != (work == DiskWork::Flush) {
            return Transition::None;
        }
        self.state = State::Open;
        Transition::Resumed
    }

    /// An I/O failure that must not be retried (a failed fdatasync): read-only until restart.
    pub fn failed(&mut self, error: &str) -> Transition {
        if matches!(self.state, State::ReadOnly { .. }) {
            return Transition::None;
        }
        self.state = State::ReadOnly {
            reason: error.to_string(),
        };
        Transition::ReadOnly
    }

    /// 1 while writes are paused by a full disk.
    pub fn paused(&self) -> bool {
        matches!(self.state, State::Paused { .. })
    }

    /// 1 once the shard is read-only.
    pub fn read_only(&self) -> bool {
        matches!(self.state, State::ReadOnly { .. })
    }
}

/// ENOSPC, also after a wrapper kept only the kind, or only the message (WAL errors turned into
/// `io::Error` keep the kind; some glommio paths keep only the text).
pub fn is_no_space(error: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    error.kind() == std::io::ErrorKind::StorageFull
        || error.raw_os_error() == Some(ENOSPC)
        || error.to_string().contains("No space left on device")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn wal_enospc_pauses_then_probes_and_resumes() {
        let t0 = Instant::now();
        let mut gate = WriteGate::default();
        assert_eq!(gate.admit(t0), Ok(()));
        assert_eq!(
            gate.no_space(DiskWork::Wal, "ENOSPC", t0),
            Transition::Paused
        );
        let refused = gate.admit(t0).unwrap_err();
        assert_eq!(refused.retry_after, Some(FIRST_BACKOFF));
        assert!(refused.message.contains("disk full"), "{}", refused.message);
        assert!(refused.message.contains("a WAL write failed: ENOSPC"));
        // Once the back-off is over, a write probes.
        assert_eq!(gate.admit(t0 + FIRST_BACKOFF), Ok(()));
        assert!(gate.paused());
        // The probe fails again: the back-off doubles, no new transition to log.
        let t1 = t0 + FIRST_BACKOFF;
        assert_eq!(gate.no_space(DiskWork::Wal, "ENOSPC", t1), Transition::None);
        assert!(gate.admit(t1 + FIRST_BACKOFF).is_err());
        assert_eq!(gate.admit(t1 + FIRST_BACKOFF * 2), Ok(()));
        // A flush that was not owed does not end the pause: only the probe does.
        assert_eq!(gate.succeeded(DiskWork::Flush), Transition::None);
        assert_eq!(gate.succeeded(DiskWork::Wal), Transition::Resumed);
        assert_eq!(gate.admit(t1), Ok(()));
        assert!(!gate.paused());
        // A fresh pause starts from the first back-off again.
        gate.no_space(DiskWork::Wal, "ENOSPC", t1);
        assert_eq!(gate.admit(t1).unwrap_err().retry_after, Some(FIRST_BACKOFF));
    }

    #[test]
    fn backoff_is_capped() {
        let mut now = Instant::now();
        let mut gate = WriteGate::default();
        for _ in 0..20 {
            gate.no_space(DiskWork::Merge, "ENOSPC", now);
            now += MAX_BACKOFF;
        }
        now -= MAX_BACKOFF;
        assert_eq!(gate.admit(now).unwrap_err().retry_after, Some(MAX_BACKOFF));
        assert_eq!(gate.admit(now + MAX_BACKOFF), Ok(()));
    }

    #[test]
    fn failures_within_a_pause_do_not_lengthen_it() {
        let t0 = Instant::now();
        let mut gate = WriteGate::default();
        // Sixteen commits of one failed group commit.
        for _ in 0..16 {
            gate.no_space(DiskWork::Wal, "ENOSPC", t0);
        }
        assert_eq!(gate.admit(t0).unwrap_err().retry_after, Some(FIRST_BACKOFF));
        // But a flush failing meanwhile is remembered.
        gate.no_space(DiskWork::Flush, "ENOSPC", t0 + ms(10));
        assert!(gate.admit(t0 + ms(60_000)).is_err());
        assert!(gate
            .admit(t0)
            .unwrap_err()
            .message
            .contains("a flush failed"));
    }

    #[test]
    fn flush_enospc_holds_until_a_flush_succeeds() {
        let t0 = Instant::now();
        let mut gate = WriteGate::default();
        gate.no_space(DiskWork::Flush, "ENOSPC", t0);
        let later = t0 + ms(60_000);
        let refused = gate.admit(later).unwrap_err();
        assert_eq!(refused.retry_after, Some(FIRST_BACKOFF));
        // A WAL commit or a merge is not enough: the rows are still only in memory and the WAL.
        assert_eq!(gate.succeeded(DiskWork::Wal), Transition::None);
        assert_eq!(gate.succeeded(DiskWork::Merge), Transition::None);
        assert!(gate.admit(later).is_err());
        // A WAL ENOSPC meanwhile does not forget the owed flush.
        gate.no_space(DiskWork::Wal, "ENOSPC", later);
        assert!(gate.admit(later + ms(60_000)).is_err());
        assert_eq!(gate.succeeded(DiskWork::Flush), Transition::Resumed);
        assert_eq!(gate.admit(later), Ok(()));
    }

    #[test]
    fn merge_enospc_pauses_and_a_wal_commit_resumes() {
        let t0 = Instant::now();
        let mut gate = WriteGate::default();
        assert_eq!(
            gate.no_space(DiskWork::Merge, "ENOSPC", t0),
            Transition::Paused
        );
        assert!(gate.admit(t0).is_err());
        assert_eq!(gate.admit(t0 + FIRST_BACKOFF), Ok(()));
        assert_eq!(gate.succeeded(DiskWork::Wal), Transition::Resumed);
    }

    #[test]
    fn read_only_is_final() {
        let t0 = Instant::now();
        let mut gate = WriteGate::default();
        gate.no_space(DiskWork::Wal, "ENOSPC", t0);
        assert_eq!(gate.failed("fdatasync: EIO"), Transition::ReadOnly);
        assert_eq!(gate.failed("again"), Transition::None);
        assert_eq!(gate.succeeded(DiskWork::Flush), Transition::None);
        assert_eq!(gate.no_space(DiskWork::Wal, "ENOSPC", t0), Transition::None);
        let refused = gate.admit(t0 + ms(3_600_000)).unwrap_err();
        assert_eq!(refused.retry_after, None);
        assert!(refused
            .message
            .contains("read-only until strata is restarted"));
        assert!(refused.message.contains("fdatasync: EIO"));
        assert!(gate.read_only());
        assert!(!gate.paused());
    }

    #[test]
    fn no_space_is_recognised_through_wrappers() {
        assert!(is_no_space(&std::io::Error::from_raw_os_error(28)));
        let kept_kind = std::io::Error::new(std::io::ErrorKind::StorageFull, "wal: write x");
        assert!(is_no_space(&kept_kind));
        let text_only = std::io::Error::other("write x: No space left on device (os error 28)");
        assert!(is_no_space(&text_only));
        assert!(!is_no_space(&std::io::Error::from_raw_os_error(5)));
    }
}
