//! Flushing: in-memory parts become one small part per partition on disk, committed through
//! `parts.json`; then the WAL segments they cover are deleted.

use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;

use super::fs;
use super::inmemory::InMemoryPart;
use super::merge::merge_blocks;
use super::part::builder::PartBuilder;
use super::part::Part;
use super::partition::{part_name, LivePart, PartitionKey};
use super::table::Storage;
use super::write_gate::DiskWork;

/// zstd level of blocks in flushed parts: fast, since flushes run on the ingest core.
pub const FLUSH_ZSTD_LEVEL: i32 = 1;

/// Unflushed rows (buffered or in in-memory parts) that trigger a flush before
/// `--flush-interval`. Without it memory grows with the ingest rate: a fast import reached
/// 250 MiB of RSS within one interval. The ingest that crosses it is answered after the flush,
/// so a client cannot outrun the flushes. Smaller means more (and smaller) parts to merge.
pub const MAX_UNFLUSHED_ROWS: u64 = 128 * 1024;

/// A new part to commit and the parts it replaces.
pub(crate) struct Commit<'a> {
    pub(crate) key: PartitionKey,
    pub(crate) builder: &'a PartBuilder,
    pub(crate) big: bool,
    pub(crate) replaced: &'a [u64],
}

impl Storage {
    /// Writes every in-memory part and buffered row (and new series) to disk as small parts, then
    /// deletes the WAL segments they cover. A flush that hits a full disk keeps its parts in
    /// memory (and the WAL) and pauses writes until a later flush succeeds.
    pub async fn flush(&self) -> io::Result<()> {
        let result = self.flush_at_least(0).await;
        self.note_disk_work(DiskWork::Flush, &result);
        result
    }

    /// Flushes when [`MAX_UNFLUSHED_ROWS`] or more rows wait; callers queue behind a flush in
    /// progress and check again once it is done, which is the ingest's backpressure.
    pub async fn flush_if_full(&self) -> io::Result<()> {
        if self.unflushed_rows() < MAX_UNFLUSHED_ROWS {
            return Ok(());
        }
        let result = self.flush_at_least(MAX_UNFLUSHED_ROWS).await;
        self.note_disk_work(DiskWork::Flush, &result);
        result
    }

    /// Flushes if, once the flush lock is held, at least `min_rows` rows are unflushed.
    async fn flush_at_least(&self, min_rows: u64) -> io::Result<()> {
        let Ok(_permit) = self.flush_lock.acquire_permit(1).await else {
            return Ok(());
        };
        if min_rows > 0 && self.unflushed_rows() < min_rows {
            return Ok(());
        }
        // Rows are appended to the WAL and buffered without an await in between, so every row in
        // a segment before `cut` is, once the seal below is done, in an in-memory part or on disk.
        let cut = match self.wal.get() {
            Some(wal) => Some(
                wal.rotate()
                    .await
                    .map_err(|e| io::Error::new(e.kind(), e.to_string()))?,
            ),
            None => None,
        };
        self.seal_buffer().await;
        let taken: Vec<InMemoryPart> = self.in_memory.borrow().clone();
        self.stats.borrow_mut().flush_in_flight = 1;
        let result = self.flush_in_memory(taken).await;
        self.stats.borrow_mut().flush_in_flight = 0;
        // On an error the parts not committed stay in memory, visible, and are retried next time.
        result?;
        if let (Some(wal), Some(cut)) = (self.wal.get(), cut) {
            // Those rows are in committed parts now: their segments are no longer needed.
            wal.remove_segments_before(cut)
                .await
                .map_err(|e| io::Error::new(e.kind(), e.to_string()))?;
        }
        self.stats.borrow_mut().flushes += 1;
        self.delete_retired().await;
        self.refresh_part_stats();
        Ok(())
    }

    /// Merges `taken` into one small part per partition and commits each; a committed partition's
    /// in-memory parts leave `in_memory` in the same step, so no query sees them twice or not at all.
    async fn flush_in_memory(&self, taken: Vec<InMemoryPart>) -> io::Result<()> {
        // Index items of the series these rows reference become durable first (with their
        // data, never after it): once the parts commit, the WAL that could re-create them goes.
        self.index.flush().await?;
        let mut by_partition: BTreeMap<PartitionKey, Vec<InMemoryPart>> = BTreeMap::new();
        for part in taken {
            by_partition.entry(part.key).or_default().push(part);
        }
        for (key, mut parts) in by_partition {
            // Oldest first: on equal timestamps the newer part's sample wins.
            parts.sort_by_key(|p| p.seq);
            let inputs: Vec<Rc<Part>> = parts.iter().map(|p| p.part.clone()).collect();
            let builder =
                merge_blocks(inputs, self.options.dedup_interval_ms, FLUSH_ZSTD_LEVEL).await?;
            let committed = self
                .commit_part(Commit {
                    key,
                    builder: &builder,
                    big: false,
                    replaced: &[],
                })
                .await?;
            if !committed {
                return Err(io::Error::other("storage is closing"));
            }
            // No await since the commit: the rows switch from memory to disk in one step.
            self.in_memory
                .borrow_mut()
                .retain(|p| !parts.iter().any(|f| Rc::ptr_eq(&f.part, &p.part)));
        }
        Ok(())
    }

    /// Writes a new part (if not empty) under a temp name, renames it into place, then commits the
    /// partition's new part list atomically. Replaced parts retire once no query holds them.
    /// Returns false when the partition vanished meanwhile (retention) and nothing was committed.
    pub(crate) async fn commit_part(&self, commit: Commit<'_>) -> io::Result<bool> {
        let Commit {
            key,
            builder,
            big,
            replaced,
        } = commit;
        let id = self.next_part_id.get();
        self.next_part_id.set(id + 1);
        // A flush holds the newest writes; a merge's output takes the place of its inputs.
        let newest_write = if replaced.is_empty() {
            id
        } else {
            self.partitions
                .borrow()
                .get(&key)
                .into_iter()
                .flat_map(|p| p.parts.iter())
                .filter(|p| replaced.contains(&p.id))
                .map(|p| p.newest_write)
                .max()
                .unwrap_or(id)
        };
        let kind = if big { "big" } else { "small" };
        let partition_dir = self.dir.join("data").join(kind).join(key.to_string());
        let tmp_dir = partition_dir.join(format!("tmp-{}", part_name(id)));
        let final_dir = partition_dir.join(part_name(id));
        let new_part = if builder.is_empty() {
            None
        } else {
            let written =
                write_part_dir(builder, newest_write, &partition_dir, &tmp_dir, &final_dir).await;
            Some(Rc::new(
                remove_on_error(written, &[&tmp_dir, &final_dir]).await?,
            ))
        };
        let Ok(_permit) = self.commit_lock.acquire_permit(1).await else {
            return Ok(false);
        };
        let mut next = self
            .partitions
            .borrow()
            .get(&key)
            .cloned()
            .unwrap_or_default();
        if !replaced.is_empty()
            && !replaced
                .iter()
                .all(|id| next.parts.iter().any(|p| p.id == *id))
        {
            // The inputs are gone (retention dropped the partition): discard the output.
            drop(new_part);
            fs::remove_dir_all(&final_dir).await?;
            return Ok(false);
        }
        let mut retired: Vec<Rc<Part>> = Vec::new();
        next.parts.retain(|p| {
            let keep = !replaced.contains(&p.id);
            if !keep {
                retired.push(p.part.clone());
            }
            keep
        });
        if let Some(part) = new_part {
            next.parts.push(LivePart::new(id, big, part));
        }
        let json = serde_json::to_vec(&next.parts_list()).map_err(io::Error::other)?;
        let list_path = self.dir.join("data").join(format!("{key}.parts.json"));
        if let Err(error) = fs::write_file_atomic(&list_path, &json).await {
            // Not committed (a full disk, typically): the new part must not keep the space. If
            // the rename did happen (only its directory sync failed), the list names the part.
            let renamed = fs::read_small_file(&list_path).await.ok().flatten() == Some(json);
            let kept: &[&std::path::Path] = if renamed { &[] } else { &[&final_dir] };
            return remove_on_error(Err(error), kept).await;
        }
        self.partitions.borrow_mut().insert(key, next);
        self.retired.borrow_mut().extend(retired);
        Ok(true)
    }
}

/// Writes a part under `tmp_dir` and renames it to `final_dir`, durably.
async fn write_part_dir(
    builder: &PartBuilder,
    newest_write: u64,
    partition_dir: &std::path::Path,
    tmp_dir: &std::path::Path,
    final_dir: &std::path::Path,
) -> io::Result<Part> {
    fs::create_dir_all(partition_dir).await?;
    Part::write(builder, tmp_dir, newest_write).await?;
    fs::rename(tmp_dir, final_dir).await?;
    fs::sync_dir(partition_dir).await?;
    Part::open(final_dir).await
}

/// On error, removes what a failed part write left behind (best effort: start-up removes
/// whatever is not committed anyway), so a flush or merge that hit a full disk frees its space
/// and can be retried.
async fn remove_on_error<T>(result: io::Result<T>, dirs: &[&std::path::Path]) -> io::Result<T> {
    if result.is_err() {
        for dir in dirs {
            if let Err(error) = fs::remove_dir_all(dir).await {
                log::warn!("cannot remove {}: {error}", dir.display());
            }
        }
    }
    result
}
