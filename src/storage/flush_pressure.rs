//! When ingest makes a flush happen: early in the background, and only at the memory bound in
//! the foreground.
//!
//! A flush writes parts and syncs files for tens of milliseconds. Requests that wait for it are
//! the ingest's p99 (200k series, `strata-bench ingest`: p99 104–135 ms against p90 4–8 ms, when
//! every ingest past [`MAX_UNFLUSHED_ROWS`] waited for the flush it started). So a flush starts in
//! the background once [`BACKGROUND_FLUSH_ROWS`] rows are unflushed, and ingest keeps going
//! meanwhile; only an ingest that finds [`MAX_UNFLUSHED_ROWS`] waiting (the flushes fall behind)
//! is answered after a flush, which still bounds memory under a fast import.

use std::io;
use std::rc::Rc;

use super::flush::MAX_UNFLUSHED_ROWS;
use super::table::Storage;

/// Unflushed rows at which an ingest starts a flush in the background: half the foreground
/// bound, so a flush has the time of another half to finish before ingest has to wait.
pub const BACKGROUND_FLUSH_ROWS: u64 = MAX_UNFLUSHED_ROWS / 2;

const _: () = assert!(BACKGROUND_FLUSH_ROWS < MAX_UNFLUSHED_ROWS);

impl Storage {
    /// Called after each ingest: starts a background flush past [`BACKGROUND_FLUSH_ROWS`] (unless
    /// one runs), and waits for a flush past [`MAX_UNFLUSHED_ROWS`] (the ingest's backpressure).
    pub async fn flush_for_ingest(self: &Rc<Self>) -> io::Result<()> {
        let unflushed = self.unflushed_rows();
        if unflushed >= MAX_UNFLUSHED_ROWS {
            return self.flush_if_full().await;
        }
        // A flush in progress takes what it sealed; the rows after it wait for the next one.
        if unflushed >= BACKGROUND_FLUSH_ROWS && self.flush_lock.available() > 0 {
            let storage = self.clone();
            glommio::spawn_local(async move {
                // Requests before this task ran may have spawned more: the first one flushes.
                if storage.flush_lock.available() == 0
                    || storage.unflushed_rows() < BACKGROUND_FLUSH_ROWS
                {
                    return;
                }
                if let Err(error) = storage.flush().await {
                    log::error!(
                        "{}: background flush failed, rows stay in memory and are retried: {error}",
                        storage.dir.display()
                    );
                }
            })
            .detach();
        }
        Ok(())
    }
}
