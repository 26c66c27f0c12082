//! The per-shard write-ahead log: opaque records, group commit, replay, checkpoint deletion.
//!
//! The log moves bytes and knows nothing about samples (as Prometheus' `wlog`); what a record
//! means is the caller's business ([`batch_record`] encodes an `IngestBatch`).
//!
//! # On disk
//!
//! `wal/<seq:016x>.seg`, one file per segment, sequence numbers contiguous. A segment holds
//! records back to back from offset 0, then zero bytes up to a 4096-byte boundary:
//!
//! ```text
//! segment:  | record | record | ... | record | 0 0 0 ... 0 (padding to 4096) |
//!
//! record:   0        4          8
//!           +--------+----------+----------------------+
//!           | len    | checksum | payload (len bytes)  |
//!           +--------+----------+----------------------+
//!           len      u32 LE, payload bytes
//!           checksum u32 LE, low 32 bits of xxh3_64(payload, seed = len)
//! ```
//!
//! A record never spans segments; a segment grows to at most [`SEGMENT_BYTES`] (rounded up to
//! a block). An all-zero header ends a segment's data.
//!
//! # Writing
//!
//! Segments are written with glommio DMA (O_DIRECT) in whole 4096-byte blocks, growing the file
//! (no pre-allocation: fdatasync then also persists the new size, and a crash never leaves a
//! pre-zeroed file that must be told apart from a torn one). The last, partial block is kept in
//! memory and rewritten, with more records, by the next write; see `segment.rs` for why this
//! cannot damage records already synced in it.
//!
//! [`Wal::append`] only buffers. [`Wal::commit`] is a group commit in two pipelined stages,
//! each run in its own task (so a dropped commit future never cancels I/O halfway), at most one
//! of each in flight:
//! - a *write round* writes everything appended by the time it starts in one DMA write. It
//!   yields once before writing, so the tasks already runnable append first and ride along: N
//!   concurrent appenders cause one write, not N (test `group_commit_shares_fsyncs`).
//! - an *fdatasync* of what the last round wrote. While it runs, the next write round writes the
//!   records appended meanwhile, and when it ends the next fdatasync starts at once: with
//!   `Always` the disk goes from sync to sync without waiting for a write in between.
//!
//! Commits wait on whichever stage they need and are woken when it ends; one not yet covered
//! starts what is missing. Measured before pipelining (release, this VM's ext4 on virtio, shared
//! 2 vCPUs; `throughput_*` test): `Always`, 64 appenders of 50 KB records: 7–15 k records/s,
//! 370–740 MB/s, 120–240 fsyncs/s (~62 records per fsync).
//!
//! Invariants:
//! 1. A record is acknowledged (commit returns) only after the bytes of every earlier record are
//!    written (and, with [`SyncMode::Always`], fdatasynced).
//! 2. A failed fdatasync (whatever the errno) or any write error but a full disk latches the
//!    log: every later call returns that error. A failed fsync is never retried on the same data;
//!    the shard reopens the log (which replays it). A write that hit ENOSPC (or came back short)
//!    is not latched: its round fails every commit waiting for it with [`Error::NoSpace`], so no
//!    record in it is acknowledged, and the records stay in the in-memory tail. The next round
//!    writes them again from the same block-aligned offset, so whatever part of the failed write
//!    reached the disk is overwritten with the same bytes, and the segment never holds a record
//!    that is not followed by valid data or zeros (a torn write there is cut at replay, as after
//!    a crash).
//! 3. Before a segment is left for the next one, it is written completely and synced, in every
//!    [`SyncMode`] (once per segment, so cheap); the next file's directory entry is synced when
//!    it is created. So only the last segment can have a torn tail; replay cuts that off and
//!    reports it, and treats damage in any other segment as an error naming segment and offset.
//! 4. The last segment is never deleted, so sequence numbers (and positions) only grow.
//!
//! # How the shard uses it
//!
//! ```text
//! open:   let (wal, report) = Wal::open(dir, WalOptions::new(SyncMode::Always), |pos, bytes| {
//!             if pos >= checkpoint { apply(batch_record::decode(bytes)?) }   // checkpoint: see below
//!         }).await?;  log(report)
//!         // or, to await per record: let mut replay = Replay::start(dir).await?;
//!         // while let Some((pos, bytes)) = replay.next().await? {..}  Wal::open_after(replay, options)
//! ingest: let pos = wal.append(&encoded_batch)?;  buffer rows;  wal.commit(pos).await?;  ack
//! flush:  let cut = wal.position();        // every row buffered so far was appended before `cut`
//!         write and commit the part (store `cut` with it as the checkpoint);
//!         wal.remove_segments_before(cut).await?;
//! stop:   let cut = wal.rotate().await?; final flush; commit part; wal.remove_segments_before(cut);
//!         wal.close().await   // the log now holds one empty segment: nothing to replay
//! ```
//!
//! Without a stored checkpoint, records of the segment holding `cut` that were already in a
//! part are replayed again (duplicates). Rotating at every flush start avoids that at the cost
//! of a file per flush; storing `cut` in the part commit (`parts.json`) is the exact fix.
//!
//! Errors: [`Error::is_no_space`] means answer 503 and retry later (the log is not latched); any
//! other write/commit error means the log is latched, so the shard turns read-only until it
//! reopens its storage.

pub mod batch_record;
mod commit;
mod error;
mod reader;
mod record;
mod replay;
mod segment;
#[cfg(test)]
mod wal_tests;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use futures_channel::oneshot;
use glommio::io::{DmaFile, OpenOptions};

use commit::sync_periodically;

use crate::storage::fs;
pub use error::{Damage, Error};
pub use record::RECORD_HEADER_BYTES;
pub use replay::{Replay, ReplayReport};
use segment::{segment_path, SegmentTail};

/// Largest size of a segment file. Bounds the memory replay needs per segment (it reads one
/// whole segment) and the granularity of checkpoint deletion (a segment is deleted only when
/// all of it is in parts); large enough that rotating (a new file, a directory fsync and a seal
/// fsync) stays rare: about once a second at 64 MB/s of ingest. Also bounds a record's size.
pub const SEGMENT_BYTES: u64 = 64 << 20;

/// Sequence number of the first segment of a new log.
const FIRST_SEGMENT: u64 = 1;

/// Where a record starts: totally ordered, stable across restarts (store it as a checkpoint).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct RecordPosition {
    /// The segment's sequence number.
    pub segment: u64,
    /// Byte offset of the record's header in the segment.
    pub offset: u64,
}

/// When a commit counts as durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Commit returns after the data is written and fdatasynced: survives power loss.
    Always,
    /// Commit returns after the write (survives `kill -9`); a timer fdatasyncs at most every period.
    Batch(Duration),
    /// Commit returns after the write; fdatasync only when a segment is sealed and on [`Wal::sync`].
    None,
}

/// How to open a log; every option is explicit at the call site.
#[derive(Debug, Clone, Copy)]
pub struct WalOptions {
    /// Durability of commits.
    pub sync: SyncMode,
    /// Segment size limit; [`SEGMENT_BYTES`] except in tests.
    pub segment_bytes: u64,
}

impl WalOptions {
    /// Options with the given sync mode and [`SEGMENT_BYTES`] segments.
    pub fn new(sync: SyncMode) -> WalOptions {
        WalOptions {
            sync,
            segment_bytes: SEGMENT_BYTES,
        }
    }
}

/// Counters since open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Records appended.
    pub appends: u64,
    /// DMA writes issued.
    pub writes: u64,
    /// fdatasyncs of segment files (directory syncs not counted).
    pub fsyncs: u64,
    /// Bytes written, block padding included (tail blocks count each time they are rewritten).
    pub bytes_written: u64,
    /// Segment files created.
    pub segments_created: u64,
}

/// A shard's write-ahead log. Methods take `&self`: share it between the shard's tasks in an `Rc`.
pub struct Wal {
    inner: Rc<Inner>,
}

/// A waiting commit; it is sent the full-disk error of a failed write round, `None` otherwise.
type Waiter = oneshot::Sender<Option<Error>>;

struct Inner {
    dir: PathBuf,
    options: WalOptions,
    state: RefCell<State>,
    /// Whether a write round is in flight (at most one: rounds rewrite the same tail block).
    writing: Cell<bool>,
    /// Whether an fdatasync of the current segment is in flight (at most one); it overlaps the
    /// next write round (pipelining).
    syncing: Cell<bool>,
    /// Commits waiting for their record to be written; woken when a write round ends, and told
    /// whether it hit a full disk.
    write_waiters: RefCell<Vec<Waiter>>,
    /// Commits waiting for their record to be fdatasynced; woken when an fdatasync ends (or a
    /// write round fails).
    sync_waiters: RefCell<Vec<Waiter>>,
    /// The first write/fdatasync failure; once set, every call returns it.
    failed: RefCell<Option<Error>>,
    stats: Cell<WalStats>,
    /// Test hook: the next I/O of this step fails with this errno.
    #[cfg(test)]
    fault: Cell<Option<(&'static str, i32)>>,
}

struct State {
    /// Segments not yet completely written and synced, oldest first. Never empty: the last one
    /// receives appends, all others are sealed. Only the write round removes from the front.
    open: VecDeque<OpenSegment>,
    /// Sequence numbers of the segment files on disk, oldest first.
    on_disk: VecDeque<u64>,
    /// End of the data written.
    written: RecordPosition,
    /// End of the data fdatasynced.
    synced: RecordPosition,
}

struct OpenSegment {
    seq: u64,
    /// Created by the first flush that reaches the segment.
    file: Option<Rc<DmaFile>>,
    tail: SegmentTail,
    written_end: u64,
    synced_end: u64,
}

impl OpenSegment {
    fn new(seq: u64) -> OpenSegment {
        OpenSegment {
            seq,
            file: None,
            tail: SegmentTail::default(),
            written_end: 0,
            synced_end: 0,
        }
    }
}

impl State {
    fn current(&self) -> &OpenSegment {
        self.open
            .back()
            .expect("invariant: the open segment list is never empty")
    }

    fn segment_mut(&mut self, seq: u64) -> &mut OpenSegment {
        self.open.iter_mut().find(|s| s.seq == seq).expect(
            "invariant: only the write round removes open segments, and not while it uses one",
        )
    }

    fn end(&self) -> RecordPosition {
        let current = self.current();
        RecordPosition {
            segment: current.seq,
            offset: current.tail.end(),
        }
    }
}

impl Wal {
    /// Opens (creating if needed) the log in `dir`: replays every intact record through
    /// `on_record` in order, cuts off a damaged tail of the last segment, and continues writing
    /// after the last intact record. Damage in an earlier segment is an error.
    pub async fn open(
        dir: &Path,
        options: WalOptions,
        mut on_record: impl FnMut(RecordPosition, &[u8]),
    ) -> Result<(Wal, ReplayReport), Error> {
        let mut replay = Replay::start(dir).await?;
        while let Some((position, payload)) = replay.next().await? {
            on_record(position, payload);
        }
        Wal::open_after(replay, options).await
    }

    /// Opens the log after the caller read its records with [`Replay::next`] (use this when
    /// applying a record needs to await). Records the caller did not read are skipped.
    pub async fn open_after(
        replay: Replay,
        options: WalOptions,
    ) -> Result<(Wal, ReplayReport), Error> {
        assert!(
            options.segment_bytes > RECORD_HEADER_BYTES as u64,
            "a segment must hold a record"
        );
        let dir = &replay.dir().to_path_buf();
        fs::create_dir_all(dir)
            .await
            .map_err(|e| Error::io("create dir", dir, &e))?;
        // A new `wal/` entry must survive power loss too, or so would not the records in it.
        fs::sync_parent(dir)
            .await
            .map_err(|e| Error::io("sync parent dir", dir, &e))?;
        // Harmless if the shard already did it; needed before our first DMA open.
        fs::prime_dma_probe(dir)
            .await
            .map_err(|e| Error::io("prime dma probe", dir, &e))?;
        let recovered = replay.finish().await?;
        let mut on_disk: VecDeque<u64> = recovered.segments.into_iter().collect();
        let segment = match recovered.resume {
            Some(resume) => {
                let path = segment_path(dir, resume.seq);
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .dma_open(&path)
                    .await
                    .map_err(|e| Error::io("open segment", &path, &e.into()))?;
                OpenSegment {
                    seq: resume.seq,
                    file: Some(Rc::new(file)),
                    tail: SegmentTail::resume(resume.end, &resume.partial_block),
                    written_end: resume.end,
                    synced_end: resume.end,
                }
            }
            None => OpenSegment::new(FIRST_SEGMENT),
        };
        let start = RecordPosition {
            segment: segment.seq,
            offset: segment.written_end,
        };
        let needs_file = segment.file.is_none();
        if !needs_file {
            debug_assert_eq!(on_disk.back(), Some(&segment.seq));
        } else {
            on_disk.clear();
        }
        let inner = Rc::new(Inner {
            dir: dir.to_path_buf(),
            options,
            state: RefCell::new(State {
                open: VecDeque::from([segment]),
                on_disk,
                written: start,
                synced: start,
            }),
            writing: Cell::new(false),
            syncing: Cell::new(false),
            write_waiters: RefCell::new(Vec::new()),
            sync_waiters: RefCell::new(Vec::new()),
            failed: RefCell::new(None),
            stats: Cell::new(WalStats::default()),
            #[cfg(test)]
            fault: Cell::new(None),
        });
        if needs_file {
            inner.segment_file(FIRST_SEGMENT).await?;
        }
        if let SyncMode::Batch(period) = options.sync {
            glommio::spawn_local(sync_periodically(Rc::downgrade(&inner), period)).detach();
        }
        Ok((Wal { inner }, recovered.report))
    }

    /// Buffers a record and returns its position; it is durable once [`commit`](Self::commit)
    /// of this (or a later) position returns.
    pub fn append(&self, payload: &[u8]) -> Result<RecordPosition, Error> {
        self.inner.check_failed()?;
        let max = self.max_record_bytes();
        if payload.len() > max {
            return Err(Error::RecordTooLarge {
                len: payload.len(),
                max,
            });
        }
        let record_bytes = (RECORD_HEADER_BYTES + payload.len()) as u64;
        let mut state = self.inner.state.borrow_mut();
        let current = state.current();
        let end = current.tail.end();
        if end > 0 && end + record_bytes > self.inner.options.segment_bytes {
            let next = OpenSegment::new(current.seq + 1);
            state.open.push_back(next);
        }
        let current = state
            .open
            .back_mut()
            .expect("invariant: the open segment list is never empty");
        let offset = current.tail.push_record(payload);
        let position = RecordPosition {
            segment: current.seq,
            offset,
        };
        drop(state);
        self.inner.count(|s| s.appends += 1);
        Ok(position)
    }

    /// Makes the record at `up_to` and every earlier one durable per the [`SyncMode`]; one write
    /// and one fdatasync serve every record appended before the round started.
    pub async fn commit(&self, up_to: RecordPosition) -> Result<(), Error> {
        assert!(up_to < self.position(), "commit of a record never appended");
        let always = self.inner.options.sync == SyncMode::Always;
        self.inner
            .flush_until(always, |state| {
                if always {
                    state.synced > up_to
                } else {
                    state.written > up_to
                }
            })
            .await
    }

    /// Writes and fdatasyncs everything appended so far, whatever the [`SyncMode`].
    pub async fn sync(&self) -> Result<(), Error> {
        self.inner.sync_all().await
    }

    /// The position the next record will get (or a later one): every record appended so far is
    /// before it. Take it when a flush starts; once the part holding those rows is committed,
    /// [`remove_segments_before`](Self::remove_segments_before) it.
    pub fn position(&self) -> RecordPosition {
        self.inner.state.borrow().end()
    }

    /// Starts a new segment (writing and syncing the current one) and returns its start: after a
    /// final flush, removing the segments before it leaves nothing to replay.
    pub async fn rotate(&self) -> Result<RecordPosition, Error> {
        self.inner.check_failed()?;
        let start = {
            let mut state = self.inner.state.borrow_mut();
            let current = state.current();
            if current.tail.end() == 0 {
                state.end()
            } else {
                let seq = current.seq + 1;
                state.open.push_back(OpenSegment::new(seq));
                RecordPosition {
                    segment: seq,
                    offset: 0,
                }
            }
        };
        self.inner
            .flush_until(false, |state| {
                state.open.len() == 1 && state.current().file.is_some()
            })
            .await?;
        Ok(start)
    }

    /// Deletes the segment files all of whose records are before `position` (whole segments
    /// only; never the segment being written). Returns how many were deleted.
    pub async fn remove_segments_before(&self, position: RecordPosition) -> Result<usize, Error> {
        let doomed: Vec<u64> = {
            let mut state = self.inner.state.borrow_mut();
            let oldest_open = state.open.front().map_or(0, |s| s.seq);
            let limit = position.segment.min(oldest_open);
            let mut doomed = Vec::new();
            while let Some(&seq) = state.on_disk.front() {
                if seq >= limit {
                    break;
                }
                state.on_disk.pop_front();
                doomed.push(seq);
            }
            doomed
        };
        for &seq in &doomed {
            let path = segment_path(&self.inner.dir, seq);
            glommio::io::remove(&path)
                .await
                .map_err(|e| Error::io("remove segment", &path, &e.into()))?;
        }
        if !doomed.is_empty() {
            fs::sync_dir(&self.inner.dir)
                .await
                .map_err(|e| Error::io("sync dir", &self.inner.dir, &e))?;
        }
        Ok(doomed.len())
    }

    /// Writes (and, unless [`SyncMode::None`], syncs) what is buffered and closes the files.
    pub async fn close(self) -> Result<(), Error> {
        let end = self.position();
        let sync = self.inner.options.sync != SyncMode::None;
        self.inner
            .flush_until(sync, |state| {
                if sync {
                    state.synced >= end
                } else {
                    state.written >= end
                }
            })
            .await?;
        let file = self
            .inner
            .state
            .borrow_mut()
            .open
            .back_mut()
            .and_then(|s| s.file.take());
        if let Some(file) = file {
            file.close_rc()
                .await
                .map_err(|e| Error::io("close segment", &self.inner.dir, &e.into()))?;
        }
        Ok(())
    }

    /// Bytes appended but not yet written: appends only buffer, so a caller that wants to bound
    /// memory (or push back on ingest) watches this.
    pub fn buffered_bytes(&self) -> u64 {
        let state = self.inner.state.borrow();
        state
            .open
            .iter()
            .map(|s| s.tail.end() - s.written_end)
            .sum()
    }

    /// Counters since open.
    pub fn stats(&self) -> WalStats {
        self.inner.stats.get()
    }

    /// The largest payload a record may have.
    pub fn max_record_bytes(&self) -> usize {
        let max = self.inner.options.segment_bytes - RECORD_HEADER_BYTES as u64;
        usize::try_from(max).unwrap_or(usize::MAX)
    }

    /// Test hook: the next I/O of `step` ("write" or "fdatasync") fails with `errno`.
    #[cfg(test)]
    pub(crate) fn fail_next(&self, step: &'static str, errno: i32) {
        self.inner.fault.set(Some((step, errno)));
    }
}
