//! A bounded cache of decoded index blocks (block headers), one per shard.
//!
//! Part files are read with O_DIRECT, so the page cache never holds them: without this cache every
//! query would read and decompress `index.bin` blocks again. Two generations, as VictoriaMetrics'
//! workingsetcache: lookups check `current`, then `previous` (and promote a hit); when `current`
//! reaches half the budget it becomes `previous` and the old `previous` is dropped. That bounds the
//! memory at the budget with O(1) work per access and keeps what is used repeatedly.
//!
//! Entries of a deleted part are not removed eagerly: part ids are never reused, so they are never
//! hit again and age out with their generation.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use ahash::RandomState;

use super::block_header::BlockHeader;

/// Default budget of all shards' caches together (`--cache.index-blocks-bytes`). A decoded
/// header takes ~100 bytes, so 128 MiB holds ~1.3M of them: the recent blocks of about a million
/// series, while staying small next to the ingest buffers.
pub const DEFAULT_INDEX_BLOCK_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// (part uid, index block number).
type Key = (u64, u32);

/// Decoded headers of one index block.
pub type IndexBlock = Rc<[BlockHeader]>;

/// A shard's cache of decoded index blocks, bounded in bytes.
pub struct IndexBlockCache {
    budget_bytes: u64,
    current: RefCell<Generation>,
    previous: RefCell<Generation>,
    hits: Cell<u64>,
    misses: Cell<u64>,
}

#[derive(Default)]
struct Generation {
    blocks: HashMap<Key, IndexBlock, RandomState>,
    bytes: u64,
}

/// Memory an entry is charged: its headers plus the map slot.
fn charge(block: &IndexBlock) -> u64 {
    (std::mem::size_of_val::<[BlockHeader]>(block) + 64) as u64
}

impl IndexBlockCache {
    /// A cache holding at most `budget_bytes` of decoded headers.
    pub fn new(budget_bytes: u64) -> Self {
        IndexBlockCache {
            budget_bytes,
            current: RefCell::default(),
            previous: RefCell::default(),
            hits: Cell::new(0),
            misses: Cell::new(0),
        }
    }

    /// The block, if cached; counts a hit or a miss.
    pub fn get(&self, part_uid: u64, block: u32) -> Option<IndexBlock> {
        let key = (part_uid, block);
        if let Some(found) = self.current.borrow().blocks.get(&key) {
            self.hits.set(self.hits.get() + 1);
            return Some(found.clone());
        }
        let promoted = self.previous.borrow_mut().take(&key);
        match promoted {
            Some(found) => {
                self.hits.set(self.hits.get() + 1);
                self.insert_uncounted(key, found.clone());
                Some(found)
            }
            None => {
                self.misses.set(self.misses.get() + 1);
                None
            }
        }
    }

    /// Keeps a block just read.
    pub fn insert(&self, part_uid: u64, block: u32, headers: IndexBlock) {
        self.insert_uncounted((part_uid, block), headers);
    }

    fn insert_uncounted(&self, key: Key, headers: IndexBlock) {
        let size = charge(&headers);
        if size > self.budget_bytes / 2 {
            return;
        }
        let mut current = self.current.borrow_mut();
        if current.bytes + size > self.budget_bytes / 2 {
            let full = std::mem::take(&mut *current);
            *self.previous.borrow_mut() = full;
        }
        if let Some(old) = current.blocks.insert(key, headers) {
            current.bytes -= charge(&old);
        }
        current.bytes += size;
    }

    /// (hits, misses) so far.
    pub fn counters(&self) -> (u64, u64) {
        (self.hits.get(), self.misses.get())
    }

    /// Bytes held now (at most the budget).
    pub fn bytes(&self) -> u64 {
        self.current.borrow().bytes + self.previous.borrow().bytes
    }
}

impl Generation {
    fn take(&mut self, key: &Key) -> Option<IndexBlock> {
        let found = self.blocks.remove(key)?;
        self.bytes -= charge(&found);
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Tsid;
    use crate::storage::encoding::encode_block;

    fn block(n: usize) -> IndexBlock {
        let encoding = encode_block(&[1], &[1.0], 1, &mut Vec::new(), &mut Vec::new());
        let header = BlockHeader {
            tsid: Tsid::default(),
            min_timestamp_ms: 0,
            max_timestamp_ms: 0,
            rows: 1,
            timestamps_offset: 0,
            timestamps_size: 0,
            values_offset: 0,
            values_size: 0,
            encoding,
        };
        vec![header; n].into()
    }

    #[test]
    fn counts_hits_and_misses() {
        let cache = IndexBlockCache::new(1 << 20);
        assert!(cache.get(1, 0).is_none());
        cache.insert(1, 0, block(4));
        assert_eq!(cache.get(1, 0).map(|b| b.len()), Some(4));
        assert!(cache.get(2, 0).is_none());
        assert_eq!(cache.counters(), (1, 2));
    }

    #[test]
    fn stays_within_budget_and_keeps_what_is_used() {
        let one = charge(&block(256));
        let cache = IndexBlockCache::new(one * 10);
        for i in 0..1000 {
            cache.insert(7, i, block(256));
            // Block 0 is used all the time: promotion keeps it although 1000 others pass through.
            assert!(cache.get(7, 0).is_some(), "block 0 evicted at {i}");
            assert!(cache.bytes() <= one * 10, "{} bytes at {i}", cache.bytes());
        }
        assert!(
            cache.get(7, 1).is_none(),
            "an old, unused block was evicted"
        );
    }

    #[test]
    fn an_entry_larger_than_half_the_budget_is_not_kept() {
        let cache = IndexBlockCache::new(100);
        cache.insert(1, 0, block(256));
        assert!(cache.get(1, 0).is_none());
        assert_eq!(cache.bytes(), 0);
    }
}
