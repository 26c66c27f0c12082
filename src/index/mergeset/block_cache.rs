//! A bounded cache of decoded blocks. DMA reads bypass the page cache, so without it every
//! lookup would go to the device (~95 µs per read here, notes/GLOMMIO.md §4).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use ahash::RandomState;

/// (part id, byte offset of the block in its file).
pub type BlockKey = (u64, u64);

struct Entries<V> {
    map: HashMap<BlockKey, (Rc<V>, usize), RandomState>,
    /// Insertion order, for eviction: first in, first out (cheap and good enough for index blocks,
    /// whose hot set is small next to the budget).
    order: VecDeque<BlockKey>,
    bytes: usize,
}

/// A cache of blocks of one kind, bounded in bytes.
pub struct BlockCache<V> {
    entries: RefCell<Entries<V>>,
    max_bytes: usize,
    hits: Cell<u64>,
    misses: Cell<u64>,
}

/// A cache's counters for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to read.
    pub misses: u64,
    /// Bytes held.
    pub bytes: u64,
    /// Entries held.
    pub entries: u64,
}

impl<V> BlockCache<V> {
    /// A cache holding at most about `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        BlockCache {
            entries: RefCell::new(Entries {
                map: HashMap::default(),
                order: VecDeque::new(),
                bytes: 0,
            }),
            max_bytes,
            hits: Cell::new(0),
            misses: Cell::new(0),
        }
    }

    /// The cached block, counting a hit or a miss.
    pub fn get(&self, key: BlockKey) -> Option<Rc<V>> {
        let found = self.entries.borrow().map.get(&key).map(|(v, _)| v.clone());
        match &found {
            Some(_) => self.hits.set(self.hits.get() + 1),
            None => self.misses.set(self.misses.get() + 1),
        }
        found
    }

    /// Adds a block of `bytes` heap bytes, evicting the oldest ones over the budget.
    pub fn insert(&self, key: BlockKey, value: Rc<V>, bytes: usize) {
        let mut entries = self.entries.borrow_mut();
        if let Some((_, old)) = entries.map.insert(key, (value, bytes)) {
            entries.bytes -= old;
        } else {
            entries.order.push_back(key);
        }
        entries.bytes += bytes;
        while entries.bytes > self.max_bytes {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some((_, size)) = entries.map.remove(&oldest) {
                entries.bytes -= size;
            }
        }
    }

    /// Drops every block of a part (it was merged away).
    pub fn remove_part(&self, part_id: u64) {
        let mut entries = self.entries.borrow_mut();
        let Entries { map, order, bytes } = &mut *entries;
        map.retain(|key, (_, size)| {
            let keep = key.0 != part_id;
            if !keep {
                *bytes -= *size;
            }
            keep
        });
        order.retain(|key| key.0 != part_id);
    }

    /// Current counters.
    pub fn stats(&self) -> CacheStats {
        let entries = self.entries.borrow();
        CacheStats {
            hits: self.hits.get(),
            misses: self.misses.get(),
            bytes: entries.bytes as u64,
            entries: entries.map.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_budget_and_counts() {
        let cache = BlockCache::new(100);
        for i in 0..10u64 {
            cache.insert((1, i), Rc::new(i), 30);
        }
        let stats = cache.stats();
        assert!(stats.bytes <= 100, "{stats:?}");
        assert_eq!(stats.entries, 3);
        assert!(cache.get((1, 9)).is_some());
        assert!(cache.get((1, 0)).is_none());
        cache.remove_part(1);
        let stats = cache.stats();
        assert_eq!(
            (stats.hits, stats.misses, stats.entries, stats.bytes),
            (1, 1, 0, 0)
        );
    }
}
