//! A bounded map with two generations: new entries go to the current one; when it reaches its
//! byte budget it becomes the previous one (dropping the old previous). A hit in the previous
//! generation moves the entry forward, so hot entries survive rotations. O(1) per operation,
//! no per-entry bookkeeping (the same scheme as VictoriaMetrics' workingsetcache).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use super::mergeset::block_cache::CacheStats;

struct Generations<K, V, S> {
    current: HashMap<K, V, S>,
    previous: HashMap<K, V, S>,
    current_bytes: usize,
    previous_bytes: usize,
}

/// A two-generation cache bounded by an estimate of its bytes.
pub struct BoundedCache<K, V, S> {
    generations: RefCell<Generations<K, V, S>>,
    /// Budget of one generation (the cache holds at most two).
    generation_bytes: usize,
    hits: Cell<u64>,
    misses: Cell<u64>,
}

impl<K: Hash + Eq + Clone, V: Clone, S: BuildHasher + Default> BoundedCache<K, V, S> {
    /// A cache holding at most about `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        BoundedCache {
            generations: RefCell::new(Generations {
                current: HashMap::default(),
                previous: HashMap::default(),
                current_bytes: 0,
                previous_bytes: 0,
            }),
            generation_bytes: (max_bytes / 2).max(1),
            hits: Cell::new(0),
            misses: Cell::new(0),
        }
    }

    /// The value for `key`, counting a hit or a miss; `size` estimates an entry's bytes.
    pub fn get(&self, key: &K, size: impl Fn(&V) -> usize) -> Option<V> {
        let mut g = self.generations.borrow_mut();
        if let Some(v) = g.current.get(key) {
            self.hits.set(self.hits.get() + 1);
            return Some(v.clone());
        }
        match g.previous.remove(key) {
            Some(v) => {
                self.hits.set(self.hits.get() + 1);
                let bytes = size(&v);
                g.previous_bytes = g.previous_bytes.saturating_sub(bytes);
                drop(g);
                self.insert(key.clone(), v.clone(), bytes);
                Some(v)
            }
            None => {
                self.misses.set(self.misses.get() + 1);
                None
            }
        }
    }

    /// Adds an entry of about `bytes` bytes.
    pub fn insert(&self, key: K, value: V, bytes: usize) {
        self.insert_rotating(key, value, bytes);
    }

    /// [`insert`](Self::insert), returning whether the generations rotated (the previous
    /// generation's entries were dropped).
    pub fn insert_rotating(&self, key: K, value: V, bytes: usize) -> bool {
        let mut g = self.generations.borrow_mut();
        let rotate = g.current_bytes + bytes > self.generation_bytes;
        if rotate {
            let current = std::mem::take(&mut g.current);
            g.previous = current;
            g.previous_bytes = g.current_bytes;
            g.current_bytes = 0;
        }
        if g.current.insert(key, value).is_none() {
            g.current_bytes += bytes;
        }
        rotate
    }

    /// Drops every entry (after deletions, whose effects entries may hide).
    pub fn clear(&self) {
        let mut g = self.generations.borrow_mut();
        g.current.clear();
        g.previous.clear();
        g.current_bytes = 0;
        g.previous_bytes = 0;
    }

    /// Current counters.
    pub fn stats(&self) -> CacheStats {
        let g = self.generations.borrow();
        CacheStats {
            hits: self.hits.get(),
            misses: self.misses.get(),
            bytes: (g.current_bytes + g.previous_bytes) as u64,
            entries: (g.current.len() + g.previous.len()) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_keeps_hot_entries() {
        let cache: BoundedCache<u64, u64, ahash::RandomState> = BoundedCache::new(1000);
        for i in 0..1000u64 {
            cache.insert(i, i, 10);
            assert_eq!(cache.get(&0, |_| 10), Some(0), "hot entry survives at {i}");
        }
        let stats = cache.stats();
        assert!(stats.bytes <= 1000 && stats.entries <= 100, "{stats:?}");
        assert_eq!(cache.get(&1, |_| 10), None);
    }
}
