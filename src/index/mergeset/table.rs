//! A mergeset table: a sorted set of byte strings in parts, with a recent layer in memory and
//! background merges; committed through `parts.json`.
//!
//! Items live in three layers, all visible to searches:
//! 1. pending: added since the last seal, unsorted (adding is an append);
//! 2. in-memory parts: sealed, sorted; merged together when there are many;
//! 3. file parts: written by [`Table::flush`], listed in `parts.json`, merged in the background.
//!
//! A file part is durable once `parts.json` (written to a temp file, fdatasynced, renamed, its
//! directory fsynced) lists it; at open, directories it does not list are leftovers of a flush or
//! merge a crash interrupted, and are removed.

use std::cell::{Cell, RefCell};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::block_cache::{BlockCache, CacheStats};
use super::inmemory_part::{merge_in_memory, PendingItems};
use super::item_block::ItemBlock;
use super::merge_picker;
use super::part::{FilePart, PartCaches};
use super::part_cursor::{MergedCursor, PartCursor};
use super::part_writer::PartWriter;
use crate::storage::fs;

/// The commit point of a table.
pub const PARTS_FILE: &str = "parts.json";
/// Pending items sealed into an in-memory part at once: sorting is O(n log n), so sealing in
/// chunks keeps each seal short on the ingest core.
const MAX_PENDING_ITEMS: usize = 64 * 1024;
/// In-memory parts merged into one above this count (bounds the cursors of every search).
const MAX_MEMORY_PARTS: usize = 8;
/// Items merged between two scheduler checks.
const ITEMS_PER_YIELD: u64 = 4096;

/// `parts.json`: the committed file parts.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PartsList {
    /// Part ids (hex directory names).
    parts: Vec<String>,
}

/// Cache sizes of a table.
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    /// Budget of the decoded index-block cache.
    pub index_cache_bytes: usize,
    /// Budget of the decoded item-block cache.
    pub item_cache_bytes: usize,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            index_cache_bytes: 16 << 20,
            item_cache_bytes: 64 << 20,
        }
    }
}

/// Counters of a table.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableStats {
    /// Items waiting to be sealed.
    pub pending_items: u64,
    /// In-memory parts.
    pub memory_parts: u64,
    /// Items in in-memory parts.
    pub memory_items: u64,
    /// File parts.
    pub file_parts: u64,
    /// Items in file parts (duplicates across parts counted once per part).
    pub file_items: u64,
    /// Flushes done.
    pub flushes: u64,
    /// Merges done.
    pub merges: u64,
    /// Bytes of metaindex rows held in memory.
    pub metaindex_bytes: u64,
    /// Index-block cache.
    pub index_cache: CacheStats,
    /// Item-block cache.
    pub item_cache: CacheStats,
}

/// A mergeset table in a directory.
pub struct Table {
    dir: PathBuf,
    caches: Rc<PartCaches>,
    pending: RefCell<PendingItems>,
    memory_parts: RefCell<Vec<Rc<ItemBlock>>>,
    file_parts: RefCell<Vec<Rc<FilePart>>>,
    /// Parts merged away, closed and deleted once no cursor holds them.
    retired: RefCell<Vec<Rc<FilePart>>>,
    next_part_id: Cell<u64>,
    /// One flush at a time.
    flush_lock: glommio::sync::Semaphore,
    /// One merge at a time.
    merge_lock: glommio::sync::Semaphore,
    /// Serializes `parts.json` rewrites.
    commit_lock: glommio::sync::Semaphore,
    flushes: Cell<u64>,
    merges: Cell<u64>,
}

impl Table {
    /// Opens (or creates) the table in `dir`, removing uncommitted leftovers.
    pub async fn open(dir: &Path, options: TableOptions) -> io::Result<Table> {
        fs::create_dir_all(dir).await?;
        let caches = Rc::new(PartCaches {
            index_blocks: BlockCache::new(options.index_cache_bytes),
            item_blocks: BlockCache::new(options.item_cache_bytes),
        });
        let list: PartsList = match fs::read_small_file(&dir.join(PARTS_FILE)).await? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is corrupt: {e}", dir.join(PARTS_FILE).display()),
                )
            })?,
            None => PartsList::default(),
        };
        let mut next_part_id = 1;
        let mut file_parts = Vec::new();
        for name in &list.parts {
            let id = u64::from_str_radix(name, 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: bad part name {name:?}", dir.join(PARTS_FILE).display()),
                )
            })?;
            next_part_id = next_part_id.max(id + 1);
            file_parts.push(Rc::new(
                FilePart::open(id, &dir.join(name), caches.clone()).await?,
            ));
        }
        for entry in fs::list_dir(dir).await? {
            if entry == PARTS_FILE {
                continue;
            }
            if let Ok(id) = u64::from_str_radix(entry.trim_start_matches("tmp-"), 16) {
                next_part_id = next_part_id.max(id + 1);
            }
            if list.parts.contains(&entry) {
                continue;
            }
            let path = dir.join(&entry);
            log::info!("removing uncommitted index part {}", path.display());
            if path.is_dir() {
                fs::remove_dir_all(&path).await?;
            } else {
                std::fs::remove_file(&path).map_err(|e| fs::with_path(e, "remove", &path))?;
            }
        }
        Ok(Table {
            dir: dir.to_path_buf(),
            caches,
            pending: RefCell::new(PendingItems::default()),
            memory_parts: RefCell::new(Vec::new()),
            file_parts: RefCell::new(file_parts),
            retired: RefCell::new(Vec::new()),
            next_part_id: Cell::new(next_part_id),
            flush_lock: glommio::sync::Semaphore::new(1),
            merge_lock: glommio::sync::Semaphore::new(1),
            commit_lock: glommio::sync::Semaphore::new(1),
            flushes: Cell::new(0),
            merges: Cell::new(0),
        })
    }

    /// The table's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds an item. Visible to searches at once; durable after the next [`flush`](Self::flush).
    pub fn add(&self, item: &[u8]) {
        let full = {
            let mut pending = self.pending.borrow_mut();
            pending.push(item);
            pending.len() >= MAX_PENDING_ITEMS
        };
        if full {
            self.seal();
        }
    }

    /// Sorts the pending items into an in-memory part (so searches can read them).
    pub fn seal(&self) {
        let part = {
            let mut pending = self.pending.borrow_mut();
            if pending.is_empty() {
                return;
            }
            pending.seal()
        };
        let mut parts = self.memory_parts.borrow_mut();
        parts.push(Rc::new(part));
        if parts.len() > MAX_MEMORY_PARTS {
            let refs: Vec<&ItemBlock> = parts.iter().map(|p| p.as_ref()).collect();
            let merged = merge_in_memory(&refs);
            *parts = vec![Rc::new(merged)];
        }
    }

    /// Items in the recent layer (pending plus in-memory parts): what the next flush writes.
    pub fn unflushed_items(&self) -> usize {
        self.pending.borrow().len()
            + self
                .memory_parts
                .borrow()
                .iter()
                .map(|p| p.len())
                .sum::<usize>()
    }

    /// A cursor over every item (call `seek` before reading).
    pub fn cursor(&self) -> MergedCursor {
        self.seal();
        self.cursor_sealed()
    }

    /// A cursor over the sealed layers only: items added since the last [`seal`](Self::seal) are
    /// not visible (lookups whose caller knows those items some other way skip the sort).
    pub fn cursor_sealed(&self) -> MergedCursor {
        let mut cursors: Vec<PartCursor> = Vec::new();
        for part in self.file_parts.borrow().iter() {
            cursors.push(PartCursor::file(part.clone(), true));
        }
        for part in self.memory_parts.borrow().iter() {
            cursors.push(PartCursor::memory(part.clone()));
        }
        MergedCursor::new(cursors)
    }

    /// Calls `visit` with every item starting with `prefix`, ascending, until it returns false.
    pub async fn scan_prefix(
        &self,
        prefix: &[u8],
        mut visit: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<()> {
        let mut cursor = self.cursor();
        cursor.seek(prefix).await?;
        while let Some(item) = cursor.current() {
            if !item.starts_with(prefix) || !visit(item) {
                break;
            }
            cursor.next().await?;
        }
        Ok(())
    }

    /// The first item starting with `prefix`, if any.
    pub async fn first_with_prefix(&self, prefix: &[u8]) -> io::Result<Option<Vec<u8>>> {
        let mut found = None;
        self.scan_prefix(prefix, |item| {
            found = Some(item.to_vec());
            false
        })
        .await?;
        Ok(found)
    }

    /// Writes the recent layer as a file part and commits it: everything added before the call
    /// is durable when it returns.
    pub async fn flush(&self) -> io::Result<()> {
        let Ok(_permit) = self.flush_lock.acquire_permit(1).await else {
            return Ok(());
        };
        self.seal();
        let taken: Vec<Rc<ItemBlock>> = self.memory_parts.borrow().clone();
        if taken.is_empty() {
            return Ok(());
        }
        let mut writer = PartWriter::new();
        {
            let mut cursor = MergedCursor::new(
                taken
                    .iter()
                    .map(|p| PartCursor::memory(p.clone()))
                    .collect(),
            );
            cursor.seek(&[]).await?;
            let mut count = 0u64;
            while let Some(item) = cursor.current() {
                writer.add(item);
                cursor.next().await?;
                count += 1;
                if count % ITEMS_PER_YIELD == 0 {
                    glommio::yield_if_needed().await;
                }
            }
        }
        self.write_and_commit(writer, &[]).await?;
        // The written parts are in a file part now (searches may briefly see both: the union is the same).
        self.memory_parts
            .borrow_mut()
            .retain(|p| !taken.iter().any(|t| Rc::ptr_eq(p, t)));
        self.flushes.set(self.flushes.get() + 1);
        Ok(())
    }

    async fn write_and_commit(&self, writer: PartWriter, replaced: &[u64]) -> io::Result<()> {
        let id = self.next_part_id.get();
        self.next_part_id.set(id + 1);
        let name = format!("{id:016x}");
        let tmp = self.dir.join(format!("tmp-{name}"));
        let final_dir = self.dir.join(&name);
        let new_part = if writer.items() == 0 {
            None
        } else {
            let files = writer.finish();
            FilePart::write(&files, &tmp).await?;
            fs::rename(&tmp, &final_dir).await?;
            fs::sync_dir(&self.dir).await?;
            Some(Rc::new(
                FilePart::open(id, &final_dir, self.caches.clone()).await?,
            ))
        };
        let Ok(_permit) = self.commit_lock.acquire_permit(1).await else {
            return Err(io::Error::other("index table is closing"));
        };
        let mut next: Vec<Rc<FilePart>> = self
            .file_parts
            .borrow()
            .iter()
            .filter(|p| !replaced.contains(&p.id))
            .cloned()
            .collect();
        if let Some(part) = &new_part {
            next.push(part.clone());
        }
        let list = PartsList {
            parts: next.iter().map(|p| format!("{:016x}", p.id)).collect(),
        };
        let json = serde_json::to_vec(&list).map_err(io::Error::other)?;
        fs::write_file_atomic(&self.dir.join(PARTS_FILE), &json).await?;
        let old = std::mem::replace(&mut *self.file_parts.borrow_mut(), next);
        self.retired
            .borrow_mut()
            .extend(old.into_iter().filter(|p| replaced.contains(&p.id)));
        Ok(())
    }

    /// Runs one merge if one is due; returns whether it merged.
    pub async fn merge_step(&self) -> io::Result<bool> {
        let parts: Vec<(u64, u64)> = self
            .file_parts
            .borrow()
            .iter()
            .map(|p| (p.id, p.metadata.items))
            .collect();
        let picked = merge_picker::pick(&parts);
        if picked.is_empty() {
            self.delete_retired().await;
            return Ok(false);
        }
        self.merge(&picked).await?;
        Ok(true)
    }

    /// Merges every file part into one (tests and `force_merge`).
    pub async fn merge_all(&self) -> io::Result<()> {
        let ids: Vec<u64> = self.file_parts.borrow().iter().map(|p| p.id).collect();
        if ids.len() > 1 {
            self.merge(&ids).await?;
        }
        Ok(())
    }

    async fn merge(&self, ids: &[u64]) -> io::Result<()> {
        let Ok(_permit) = self.merge_lock.acquire_permit(1).await else {
            return Ok(());
        };
        let inputs: Vec<Rc<FilePart>> = self
            .file_parts
            .borrow()
            .iter()
            .filter(|p| ids.contains(&p.id))
            .cloned()
            .collect();
        if inputs.len() != ids.len() {
            return Ok(());
        }
        let mut cursor = MergedCursor::new(
            inputs
                .iter()
                .map(|p| PartCursor::file(p.clone(), false))
                .collect(),
        );
        cursor.seek(&[]).await?;
        let mut writer = PartWriter::new();
        let mut count = 0u64;
        while let Some(item) = cursor.current() {
            writer.add(item);
            cursor.next().await?;
            count += 1;
            if count % ITEMS_PER_YIELD == 0 {
                glommio::yield_if_needed().await;
            }
        }
        drop(cursor);
        drop(inputs);
        self.write_and_commit(writer, ids).await?;
        self.merges.set(self.merges.get() + 1);
        self.delete_retired().await;
        Ok(())
    }

    /// Closes and deletes merged-away parts no cursor holds any more.
    async fn delete_retired(&self) {
        let free: Vec<Rc<FilePart>> = {
            let mut retired = self.retired.borrow_mut();
            let (free, busy): (Vec<_>, Vec<_>) =
                retired.drain(..).partition(|p| Rc::strong_count(p) == 1);
            *retired = busy;
            free
        };
        for part in free {
            let dir = part.dir.clone();
            if let Ok(part) = Rc::try_unwrap(part) {
                part.close().await;
            }
            if let Err(error) = fs::remove_dir_all(&dir).await {
                log::warn!("cannot remove merged index part {}: {error}", dir.display());
            }
        }
    }

    /// Names of the committed part directories (for snapshots), under the commit lock's view.
    pub fn committed_parts(&self) -> Vec<String> {
        self.file_parts
            .borrow()
            .iter()
            .map(|p| format!("{:016x}", p.id))
            .collect()
    }

    /// The `parts.json` listing exactly `parts` (a snapshot's commit point).
    pub fn parts_json(parts: &[Rc<FilePart>]) -> io::Result<Vec<u8>> {
        let list = PartsList {
            parts: parts.iter().map(|p| format!("{:016x}", p.id)).collect(),
        };
        serde_json::to_vec(&list).map_err(io::Error::other)
    }

    /// The committed file parts, held: while the caller keeps them, merges do not delete their
    /// files (snapshots link them).
    pub fn hold_committed_parts(&self) -> Vec<Rc<FilePart>> {
        self.file_parts.borrow().clone()
    }

    /// Current counters.
    pub fn stats(&self) -> TableStats {
        let memory = self.memory_parts.borrow();
        let files = self.file_parts.borrow();
        TableStats {
            pending_items: self.pending.borrow().len() as u64,
            memory_parts: memory.len() as u64,
            memory_items: memory.iter().map(|p| p.len() as u64).sum(),
            file_parts: files.len() as u64,
            file_items: files.iter().map(|p| p.metadata.items).sum(),
            flushes: self.flushes.get(),
            merges: self.merges.get(),
            metaindex_bytes: files.iter().map(|p| p.metaindex_bytes() as u64).sum(),
            index_cache: self.caches.index_blocks.stats(),
            item_cache: self.caches.item_blocks.stats(),
        }
    }

    /// Bytes the recent layer holds in memory.
    pub fn recent_bytes(&self) -> usize {
        self.pending.borrow().heap_bytes()
            + self
                .memory_parts
                .borrow()
                .iter()
                .map(|p| p.heap_bytes())
                .sum::<usize>()
    }
}
