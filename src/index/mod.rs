//! The per-shard series index on a mergeset table (DESIGN.md "Index"): label set → TSID for
//! ingest, label pair → metric ids for search (globally and per day), metric id → labels.
//!
//! Nothing is loaded whole at start-up: the table keeps only its parts' metaindex in memory
//! and reads blocks through bounded caches; the deleted-id set (small) is the exception.
//!
//! Durability: items added by ingest become durable at the next [`Index::flush`], which the
//! storage runs before the data parts that reference them commit. Until then the WAL, which
//! carries every row's labels, re-registers the series on replay.

pub mod bounded_cache;
pub mod item;
pub mod mergeset;
pub mod regex_literal;
pub mod search;
pub mod series_log;
pub mod tsid;

#[cfg(test)]
mod search_tests;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io;
use std::path::Path;
use std::rc::Rc;

use ahash::RandomState;

use self::bounded_cache::BoundedCache;
use self::mergeset::block_cache::CacheStats;
use self::mergeset::{Table, TableOptions, TableStats};
use crate::model::labels::canonical_pairs;
use crate::model::{Labels, Matcher};
pub use tsid::Tsid;

/// Queries spanning at most this many days use the per-day index; longer ones the global one.
pub const MAX_DAYS_PER_DAY_SEARCH: i64 = 40;

/// Memory budgets of an index's caches.
#[derive(Debug, Clone, Copy)]
pub struct IndexOptions {
    /// label set → TSID, for ingest.
    pub name_cache_bytes: usize,
    /// metric id → labels, for answering searches.
    pub labels_cache_bytes: usize,
    /// (day, metric id) pairs already in the per-day index.
    pub day_cache_bytes: usize,
    /// selector → metric ids, per day.
    pub selector_cache_bytes: usize,
    /// The mergeset's block caches.
    pub table: TableOptions,
}

/// Default budget of the series index's caches, all shards together (`--cache.index-bytes`).
pub const DEFAULT_INDEX_CACHE_BYTES: u64 = 256 << 20;

impl IndexOptions {
    /// Splits one shard's cache budget among the caches: the ingest lookup (label set → TSID)
    /// gets the most, since every sample of a series it misses costs a table search.
    pub fn with_budget(bytes: u64) -> IndexOptions {
        let share = |percent: u64| (bytes / 100 * percent) as usize;
        IndexOptions {
            name_cache_bytes: share(40),
            labels_cache_bytes: share(15),
            day_cache_bytes: share(8),
            selector_cache_bytes: share(5),
            table: TableOptions {
                index_cache_bytes: share(7),
                item_cache_bytes: share(25),
            },
        }
    }
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions::with_budget(DEFAULT_INDEX_CACHE_BYTES / 2)
    }
}

/// Counters of an index for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexStats {
    /// Series registered by this process.
    pub series_created: u64,
    /// Series deleted by this process.
    pub series_deleted: u64,
    /// The mergeset.
    pub table: TableStats,
    /// label set → TSID cache.
    pub name_cache: CacheStats,
    /// metric id → labels cache.
    pub labels_cache: CacheStats,
    /// (day, metric id) cache.
    pub day_cache: CacheStats,
    /// selector → metric ids cache.
    pub selector_cache: CacheStats,
}

type IdCache<K, V> = BoundedCache<K, V, RandomState>;

/// A cached ingest lookup: the series' canonical labels (to confirm the hash) and TSID.
type NameEntry = Rc<(Box<[u8]>, Tsid)>;
/// A cached search result: the index generation it was computed at, and the ids.
type SelectorEntry = (u64, Rc<Vec<u64>>);

/// A shard's series index.
pub struct Index {
    table: Table,
    /// xxh3 of the canonical labels (the front computed it to route) → series.
    names: IdCache<u64, NameEntry>,
    labels: IdCache<u64, Rc<Labels>>,
    days: IdCache<(u32, u64), ()>,
    selectors: IdCache<(String, Option<u32>), SelectorEntry>,
    deleted: RefCell<HashSet<u64, RandomState>>,
    /// Bumped whenever the answer of a search may change (new series, new day entries, deletes).
    generation: Cell<u64>,
    next_metric_id: Cell<u64>,
    series_created: Cell<u64>,
    series_deleted: Cell<u64>,
    scratch: RefCell<Vec<u8>>,
}

impl Index {
    /// Opens (or creates) the index under `dir`.
    pub async fn open(dir: &Path, options: IndexOptions) -> io::Result<Index> {
        let table = Table::open(dir, options.table).await?;
        let mut deleted = HashSet::default();
        table
            .scan_prefix(&[item::DELETED_METRIC_ID], |it| {
                if let Some(id) = it.get(1..).and_then(mergeset::codec::be_u64) {
                    deleted.insert(id);
                }
                true
            })
            .await?;
        // Metric ids only need to be unique within the shard: nanoseconds at start-up leave room
        // for a billion new series a second before a restart could reuse one (as VictoriaMetrics).
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Ok(Index {
            table,
            names: BoundedCache::new(options.name_cache_bytes),
            labels: BoundedCache::new(options.labels_cache_bytes),
            days: BoundedCache::new(options.day_cache_bytes),
            selectors: BoundedCache::new(options.selector_cache_bytes),
            deleted: RefCell::new(deleted),
            generation: Cell::new(0),
            next_metric_id: Cell::new(now_ns),
            series_created: Cell::new(0),
            series_deleted: Cell::new(0),
            scratch: RefCell::new(Vec::new()),
        })
    }

    /// The series with these canonical labels (whose xxh3 is `hash`), if registered and not deleted.
    pub async fn lookup(&self, hash: u64, canonical: &[u8]) -> io::Result<Option<Tsid>> {
        if let Some(entry) = self.names.get(&hash, name_entry_bytes) {
            if *entry.0 == *canonical {
                return Ok(Some(entry.1));
            }
        }
        let mut prefix = Vec::new();
        item::name_prefix(&mut prefix, canonical);
        let mut found = None;
        {
            // Items of series registered since the last cache rotation may still be pending
            // (unsorted); they are all in the name cache, so the sealed layers suffice here.
            let mut cursor = self.table.cursor_sealed();
            cursor.seek(&prefix).await?;
            while let Some(it) = cursor.current() {
                if !it.starts_with(&prefix) {
                    break;
                }
                if let Some(tsid) = item::tsid_after(prefix.len(), it) {
                    if !self.is_deleted(tsid.metric_id) {
                        found = Some(tsid);
                        break;
                    }
                }
                cursor.next().await?;
            }
        }
        if let Some(tsid) = found {
            self.remember_name(hash, canonical, tsid);
        }
        Ok(found)
    }

    fn remember_name(&self, hash: u64, canonical: &[u8], tsid: Tsid) {
        let entry: NameEntry = Rc::new((canonical.into(), tsid));
        let bytes = name_entry_bytes(&entry);
        if self.names.insert_rotating(hash, entry, bytes) {
            // Entries dropped by this rotation were inserted before the previous one, when the
            // pending items were sealed: `lookup` finds them in the sealed layers.
            self.table.seal();
        }
    }

    /// Registers a new series (the caller checked [`lookup`](Self::lookup) first).
    pub fn register(&self, hash: u64, canonical: &[u8], labels: &Labels) -> Tsid {
        let metric_id = self.next_metric_id.get();
        self.next_metric_id.set(metric_id + 1);
        let tsid = Tsid::new(labels, metric_id);
        self.add_series_items(hash, canonical, labels, tsid);
        tsid
    }

    /// Adds a series with a known TSID (imported from the interim index's series logs).
    pub async fn import(&self, canonical: &[u8], labels: &Labels, tsid: Tsid) -> io::Result<()> {
        let hash = xxhash_rust::xxh3::xxh3_64(canonical);
        if self.lookup(hash, canonical).await?.is_none() {
            self.add_series_items(hash, canonical, labels, tsid);
        }
        Ok(())
    }

    fn add_series_items(&self, hash: u64, canonical: &[u8], labels: &Labels, tsid: Tsid) {
        let metric_id = tsid.metric_id;
        let mut it = self.scratch.borrow_mut();
        item::name_prefix(&mut it, canonical);
        tsid.encode(&mut it);
        self.table.add(&it);
        for label in labels {
            item::tag_item(
                &mut it,
                None,
                label.name.as_bytes(),
                label.value.as_bytes(),
                metric_id,
            );
            self.table.add(&it);
        }
        item::metric_id_prefix(&mut it, item::METRIC_ID_TO_TSID, metric_id);
        tsid.encode(&mut it);
        self.table.add(&it);
        item::metric_id_prefix(&mut it, item::METRIC_ID_TO_NAME, metric_id);
        it.extend_from_slice(canonical);
        self.table.add(&it);
        drop(it);
        self.remember_name(hash, canonical, tsid);
        self.series_created.set(self.series_created.get() + 1);
        self.generation.set(self.generation.get() + 1);
    }

    /// Records that series `tsid` (with these canonical labels) has samples on `day`.
    pub fn note_day(&self, tsid: &Tsid, canonical: &[u8], day: u32) {
        let key = (day, tsid.metric_id);
        if self.days.get(&key, |_| DAY_ENTRY_BYTES).is_some() {
            return;
        }
        let mut it = self.scratch.borrow_mut();
        item::day_prefix(&mut it, day);
        it.extend_from_slice(&tsid.metric_id.to_be_bytes());
        self.table.add(&it);
        for (name, value) in canonical_pairs(canonical).flatten() {
            item::tag_item(&mut it, Some(day), name, value, tsid.metric_id);
            self.table.add(&it);
        }
        drop(it);
        self.days.insert(key, (), DAY_ENTRY_BYTES);
        self.generation.set(self.generation.get() + 1);
    }

    /// Metric ids of the series matching `matchers` with samples in `[min_ms, max_ms]` (at day
    /// granularity; the global index, with every series, for ranges over
    /// [`MAX_DAYS_PER_DAY_SEARCH`] days), ascending, deleted ones removed.
    pub async fn search(
        &self,
        matchers: &[Matcher],
        min_ms: i64,
        max_ms: i64,
    ) -> io::Result<Vec<u64>> {
        let days = days_of(min_ms, max_ms);
        let mut result: Vec<u64> = Vec::new();
        match days {
            Some((first, last)) => {
                for day in first..=last {
                    let ids = self.search_cached(matchers, Some(day)).await?;
                    result = search::union(&result, &ids);
                }
            }
            None => result = self.search_cached(matchers, None).await?.to_vec(),
        }
        let deleted = self.deleted.borrow();
        if !deleted.is_empty() {
            result.retain(|id| !deleted.contains(id));
        }
        Ok(result)
    }

    async fn search_cached(
        &self,
        matchers: &[Matcher],
        day: Option<u32>,
    ) -> io::Result<Rc<Vec<u64>>> {
        let key = (selector_key(matchers), day);
        let generation = self.generation.get();
        if let Some((at, ids)) = self.selectors.get(&key, |(_, ids)| ids.len() * 8 + 64) {
            if at == generation {
                return Ok(ids);
            }
        }
        let ids = Rc::new(search::select(&self.table, day, matchers).await?);
        if self.generation.get() == generation {
            let bytes = ids.len() * 8 + key.0.len() + 64;
            self.selectors.insert(key, (generation, ids.clone()), bytes);
        }
        Ok(ids)
    }

    /// The TSID and labels of each metric id (ids without a name item are skipped).
    pub async fn series_of(&self, ids: &[u64]) -> io::Result<Vec<(Tsid, Rc<Labels>)>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut missing: Vec<u64> = Vec::new();
        for &id in ids {
            match self.labels.get(&id, labels_bytes) {
                Some(labels) => out.push((Tsid::new(&labels, id), labels)),
                None => missing.push(id),
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        missing.sort_unstable();
        let mut cursor = self.table.cursor();
        let mut prefix = Vec::new();
        for (n, &id) in missing.iter().enumerate() {
            item::metric_id_prefix(&mut prefix, item::METRIC_ID_TO_NAME, id);
            cursor.seek(&prefix).await?;
            let Some(it) = cursor.current().filter(|it| it.starts_with(&prefix)) else {
                continue;
            };
            let canonical = it.get(prefix.len()..).unwrap_or_default();
            let labels = Labels::decode_canonical(canonical).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "index {}: metric id {id} has corrupt labels",
                        self.table.dir().display()
                    ),
                )
            })?;
            let labels = Rc::new(labels);
            self.labels
                .insert(id, labels.clone(), labels_bytes(&labels));
            out.push((Tsid::new(&labels, id), labels));
            if n % 1024 == 1023 {
                glommio::yield_if_needed().await;
            }
        }
        Ok(out)
    }

    /// Marks series deleted: they vanish from every search at once; a later write of the same
    /// labels registers a new series.
    pub fn delete(&self, ids: &[u64]) {
        let mut it = Vec::new();
        let mut deleted = self.deleted.borrow_mut();
        for &id in ids {
            if deleted.insert(id) {
                item::metric_id_prefix(&mut it, item::DELETED_METRIC_ID, id);
                self.table.add(&it);
                self.series_deleted.set(self.series_deleted.get() + 1);
            }
        }
        drop(deleted);
        // The name cache may point at deleted series; clearing it requires the pending items be
        // sealed (see `remember_name`).
        self.table.seal();
        self.names.clear();
        self.labels.clear();
        self.generation.set(self.generation.get() + 1);
    }

    /// Whether a metric id was deleted.
    pub fn is_deleted(&self, id: u64) -> bool {
        self.deleted.borrow().contains(&id)
    }

    /// Makes every item added so far durable.
    pub async fn flush(&self) -> io::Result<()> {
        self.table.flush().await
    }

    /// Runs one background merge of the index's parts if one is due.
    pub async fn merge_step(&self) -> io::Result<bool> {
        self.table.merge_step().await
    }

    /// Merges every part into one.
    pub async fn merge_all(&self) -> io::Result<()> {
        self.table.merge_all().await
    }

    /// The mergeset (snapshots, label scans).
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Current counters.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            series_created: self.series_created.get(),
            series_deleted: self.series_deleted.get(),
            table: self.table.stats(),
            name_cache: self.names.stats(),
            labels_cache: self.labels.stats(),
            day_cache: self.days.stats(),
            selector_cache: self.selectors.stats(),
        }
    }
}

/// The first and last day of `[min_ms, max_ms]` when short enough for the per-day index.
pub fn days_of(min_ms: i64, max_ms: i64) -> Option<(u32, u32)> {
    if min_ms > max_ms || min_ms < 0 {
        return None;
    }
    let (first, last) = (min_ms / item::DAY_MS, max_ms / item::DAY_MS);
    if last - first >= MAX_DAYS_PER_DAY_SEARCH {
        return None;
    }
    Some((item::day_of(min_ms), item::day_of(max_ms)))
}

/// A selector's cache key: matchers in a canonical order.
fn selector_key(matchers: &[Matcher]) -> String {
    let mut parts: Vec<String> = matchers.iter().map(ToString::to_string).collect();
    parts.sort();
    parts.join(",")
}

const DAY_ENTRY_BYTES: usize = 32;

fn name_entry_bytes(entry: &NameEntry) -> usize {
    entry.0.len() + 96
}

fn labels_bytes(labels: &Rc<Labels>) -> usize {
    labels
        .iter()
        .map(|l| l.name.len() + l.value.len() + 48)
        .sum::<usize>()
        + 64
}
