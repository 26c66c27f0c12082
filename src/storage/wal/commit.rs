//! The write path behind [`Wal::commit`](super::Wal::commit): group-commit write rounds and
//! fdatasyncs (pipelined: one of each in flight), segment files, DMA writes of the tail block,
//! the failure latch and the batch-sync timer.

use std::io;
use std::rc::{Rc, Weak};
use std::time::Duration;

use futures_channel::oneshot;
use glommio::io::{DmaFile, OpenOptions};

use super::segment::{align_up, segment_path};
use super::{Error, Inner, RecordPosition, State, Waiter, WalStats};
use crate::storage::fs;

impl Inner {
    pub(super) fn check_failed(&self) -> Result<(), Error> {
        match &*self.failed.borrow() {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    pub(super) fn count(&self, update: impl FnOnce(&mut WalStats)) {
        let mut stats = self.stats.get();
        update(&mut stats);
        self.stats.set(stats);
    }

    pub(super) async fn sync_all(self: &Rc<Self>) -> Result<(), Error> {
        let end = self.state.borrow().end();
        self.flush_until(true, |state| state.synced >= end).await
    }

    /// Group commit: returns once `done` holds, making sure a write round (and, with `sync`, an
    /// fdatasync) that can satisfy it is in flight, then waiting for it. A write round that hit a
    /// full disk returns its [`Error::NoSpace`] to everyone waiting on it.
    pub(super) async fn flush_until(
        self: &Rc<Self>,
        sync: bool,
        done: impl Fn(&State) -> bool,
    ) -> Result<(), Error> {
        loop {
            self.check_failed()?;
            if done(&self.state.borrow()) {
                return Ok(());
            }
            // Register before starting anything: glommio may run a spawned task before returning.
            let (sender, receiver) = oneshot::channel();
            if sync {
                self.sync_waiters.borrow_mut().push(sender);
            } else {
                self.write_waiters.borrow_mut().push(sender);
            }
            self.kick(sync);
            // A round that hit a full disk fails its waiters instead of being retried at once: the
            // caller answers 503 and the write gate decides when to try again.
            // Canceled cannot happen (rounds always end by waking everyone); either way: look again.
            if let Ok(Some(no_space)) = receiver.await {
                return Err(no_space);
            }
        }
    }

    /// Starts whatever is missing for progress: a write round when bytes wait to be written and
    /// none is in flight; with `sync`, an fdatasync when written bytes wait to be synced and none
    /// is in flight. The two overlap: while one round's fdatasync runs, the next round writes
    /// what was appended meanwhile, so the disk is never idle between two syncs.
    fn kick(self: &Rc<Self>, sync: bool) {
        let (needs_write, needs_sync) = {
            let state = self.state.borrow();
            let current = state.current();
            let needs_write = state.open.len() > 1
                || current.file.is_none()
                || current.tail.end() > current.written_end;
            (needs_write, sync && state.written > state.synced)
        };
        if needs_write && !self.writing.get() {
            self.start_write();
        }
        if needs_sync && !self.syncing.get() {
            self.start_sync();
        }
    }

    /// Starts a write round in its own task, so that a caller dropping its commit future can
    /// never cancel a write halfway (a later round could then race it on the same block).
    /// The round yields once before writing, so the tasks already runnable (typically the
    /// waiters of the previous round) append first and ride along: 64 appenders share one write
    /// instead of alternating rounds of 1 and 63.
    fn start_write(self: &Rc<Self>) {
        self.writing.set(true);
        let inner = self.clone();
        let round = async move {
            // Go to the back of the queue first: tasks already runnable append and ride along.
            futures_lite::future::yield_now().await;
            let result = inner.write_out().await;
            inner.writing.set(false);
            // A full disk leaves the unwritten records in the tail, to be written by a later
            // round from the same block on (invariant 2); anything else latches the log.
            match result {
                Err(error) if error.is_no_space() => {
                    // Nobody waiting on this round may be acknowledged: fail every waiter.
                    inner.wake(&inner.write_waiters, Some(&error));
                    inner.wake(&inner.sync_waiters, Some(&error));
                    return;
                }
                Err(error) => {
                    inner.failed.borrow_mut().get_or_insert(error);
                    inner.wake(&inner.write_waiters, None);
                    inner.wake(&inner.sync_waiters, None);
                    return;
                }
                Ok(()) => {}
            }
            // Those waiting for durability need an fdatasync of what was just written.
            if !inner.sync_waiters.borrow().is_empty() {
                inner.kick(true);
            }
            inner.wake(&inner.write_waiters, None);
        };
        glommio::spawn_local(round).detach();
    }

    /// Starts an fdatasync of the segment written last, in its own task (as [`start_write`]).
    fn start_sync(self: &Rc<Self>) {
        self.syncing.set(true);
        let inner = self.clone();
        let round = async move {
            let result = inner.sync_written().await;
            inner.syncing.set(false);
            if let Err(error) = result {
                // A failed fdatasync is never retried (invariant 2): latch, whatever the errno.
                inner.failed.borrow_mut().get_or_insert(error);
                inner.wake(&inner.write_waiters, None);
            }
            // Waiters not covered by this sync start the next one (their record was written
            // while it ran).
            inner.wake(&inner.sync_waiters, None);
        };
        glommio::spawn_local(round).detach();
    }

    fn wake(&self, waiters: &std::cell::RefCell<Vec<Waiter>>, error: Option<&Error>) {
        let waiters = std::mem::take(&mut *waiters.borrow_mut());
        for waiter in waiters {
            let _ = waiter.send(error.cloned());
        }
    }

    /// One write round: finishes sealed segments (written and synced, whatever the mode), then
    /// writes the current one. Its fdatasync is left to [`sync_written`](Self::sync_written).
    async fn write_out(&self) -> Result<(), Error> {
        loop {
            let (seq, sealed) = {
                let state = self.state.borrow();
                let front = state
                    .open
                    .front()
                    .expect("invariant: the open segment list is never empty");
                (front.seq, state.open.len() > 1)
            };
            let file = self.segment_file(seq).await?;
            self.write_segment(seq, &file).await?;
            if !sealed {
                // Also when nothing was left to do: a new, empty segment is written and synced
                // up to offset 0 once its predecessors are (sealed segments are always synced).
                let mut state = self.state.borrow_mut();
                let segment = state.segment_mut(seq);
                let written = RecordPosition {
                    segment: seq,
                    offset: segment.written_end,
                };
                let synced = RecordPosition {
                    segment: seq,
                    offset: segment.synced_end,
                };
                state.written = state.written.max(written);
                state.synced = state.synced.max(synced);
                return Ok(());
            }
            // Sealed: synced whatever the mode, so only the last segment can ever be torn.
            self.sync_segment(seq, &file).await?;
            self.state.borrow_mut().open.pop_front();
            file.close_rc().await.map_err(|e| {
                Error::io("close segment", &segment_path(&self.dir, seq), &e.into())
            })?;
        }
    }

    /// The open segment's file, created (and its directory entry synced) on first use.
    pub(super) async fn segment_file(&self, seq: u64) -> Result<Rc<DmaFile>, Error> {
        if let Some(file) = &self.state.borrow_mut().segment_mut(seq).file {
            return Ok(file.clone());
        }
        let path = segment_path(&self.dir, seq);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .dma_open(&path)
            .await
            .map_err(|e| Error::io("create segment", &path, &e.into()))?;
        // Created but not yet registered: a failed directory sync is a broken disk, not a full
        // one (the log latches), so the file is never created twice.
        fs::sync_dir(&self.dir)
            .await
            .map_err(|e| Error::sync_failed("sync dir", &self.dir, &e))?;
        let file = Rc::new(file);
        let mut state = self.state.borrow_mut();
        state.segment_mut(seq).file = Some(file.clone());
        state.on_disk.push_back(seq);
        drop(state);
        self.count(|s| s.segments_created += 1);
        Ok(file)
    }

    /// Writes the segment's unwritten bytes, from its partial block on, padded with zeros.
    async fn write_segment(&self, seq: u64, file: &DmaFile) -> Result<(), Error> {
        let (start, end, buffer) = {
            let mut state = self.state.borrow_mut();
            let segment = state.segment_mut(seq);
            if segment.tail.end() == segment.written_end {
                return Ok(());
            }
            let (start, bytes) = segment.tail.unwritten();
            let padded = usize::try_from(align_up(bytes.len() as u64)).unwrap_or(usize::MAX);
            let mut buffer = file.alloc_dma_buffer(padded);
            let (data, padding) = buffer.as_bytes_mut().split_at_mut(bytes.len());
            data.copy_from_slice(bytes);
            padding.fill(0);
            (start, start + bytes.len() as u64, buffer)
        };
        let path = segment_path(&self.dir, seq);
        let padded = buffer.len();
        self.fault("write")
            .map_err(|e| Error::io("write", &path, &e))?;
        let written = file
            .write_at(buffer, start)
            .await
            .map_err(|e| Error::io("write", &path, &e.into()))?;
        if written < padded {
            // O_DIRECT writes come back short when the file system ran out of blocks midway. The
            // bytes that made it are a prefix of the same data; the retry rewrites them.
            return Err(Error::NoSpace {
                step: "write (short)",
                path,
            });
        }
        let mut state = self.state.borrow_mut();
        let segment = state.segment_mut(seq);
        segment.tail.mark_written(end);
        segment.written_end = end;
        let position = RecordPosition {
            segment: seq,
            offset: end,
        };
        state.written = state.written.max(position);
        drop(state);
        self.count(|s| {
            s.writes += 1;
            s.bytes_written += padded as u64;
        });
        Ok(())
    }

    /// fdatasyncs the segment of the last completed write up to that write's end (concurrently
    /// with the next write round, which may meanwhile seal the segment and sync it itself).
    async fn sync_written(&self) -> Result<(), Error> {
        let target = {
            let state = self.state.borrow();
            let seq = state.written.segment;
            state
                .open
                .iter()
                .find(|s| s.seq == seq)
                .and_then(|s| s.file.clone().map(|file| (seq, file)))
        };
        // Gone from `open`: the write round sealed it, which synced it.
        let Some((seq, file)) = target else {
            return Ok(());
        };
        self.sync_segment(seq, &file).await
    }

    /// fdatasyncs the segment if anything was written since its last sync. The segment may leave
    /// `open` while the fdatasync runs (a write round sealed it); `synced` still only grows.
    async fn sync_segment(&self, seq: u64, file: &DmaFile) -> Result<(), Error> {
        let end = {
            let mut state = self.state.borrow_mut();
            let segment = state.segment_mut(seq);
            if segment.synced_end == segment.written_end {
                return Ok(());
            }
            segment.written_end
        };
        let path = segment_path(&self.dir, seq);
        self.fault("fdatasync")
            .map_err(|e| Error::sync_failed("fdatasync", &path, &e))?;
        file.fdatasync()
            .await
            .map_err(|e| Error::sync_failed("fdatasync", &path, &e.into()))?;
        let mut state = self.state.borrow_mut();
        if let Some(segment) = state.open.iter_mut().find(|s| s.seq == seq) {
            segment.synced_end = segment.synced_end.max(end);
        }
        let position = RecordPosition {
            segment: seq,
            offset: end,
        };
        state.synced = state.synced.max(position);
        drop(state);
        self.count(|s| s.fsyncs += 1);
        Ok(())
    }

    #[cfg(test)]
    fn fault(&self, step: &'static str) -> io::Result<()> {
        match self.fault.get() {
            Some((fault_step, errno)) if fault_step == step => {
                self.fault.set(None);
                Err(io::Error::from_raw_os_error(errno))
            }
            _ => Ok(()),
        }
    }

    #[cfg(not(test))]
    #[inline]
    fn fault(&self, _step: &'static str) -> io::Result<()> {
        Ok(())
    }
}

/// [`SyncMode::Batch`]: fdatasyncs written data at most once per `period`; stops with the log.
pub(super) async fn sync_periodically(inner: Weak<Inner>, period: Duration) {
    loop {
        glommio::timer::sleep(period).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if inner.failed.borrow().is_some() {
            return;
        }
        let behind = {
            let state = inner.state.borrow();
            state.written > state.synced
        };
        if behind {
            // A failure is latched inside and returned to every later caller.
            let _ = inner.sync_all().await;
        }
    }
}
