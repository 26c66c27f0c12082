//! The per-shard series index: label set → series, label pair → series, and series search.
//!
//! This is the server issue's simple index: the whole registry lives in memory and
//! is persisted as a series log (`series_log.rs`) that start-up reads back. The
//! mergeset index replaces it.

pub mod mergeset;
pub mod search;
pub mod series_log;
pub mod tsid;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use ahash::RandomState;

use crate::model::Labels;
pub use tsid::Tsid;

/// A hasher for keys that are already uniform 64-bit hashes.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// A position in the shard's series table.
pub type SeriesRef = u32;

/// One registered series.
#[derive(Debug, Clone)]
pub struct SeriesEntry {
    /// Its storage id.
    pub tsid: Tsid,
    /// Its labels.
    pub labels: Labels,
    /// Earliest sample timestamp seen (ms); `i64::MAX` before any sample.
    pub min_timestamp_ms: i64,
    /// Latest sample timestamp seen (ms); `i64::MIN` before any sample.
    pub max_timestamp_ms: i64,
}

/// label value → series holding it, ascending.
pub type ValuePostings = HashMap<Box<str>, Vec<SeriesRef>, RandomState>;

/// The in-memory registry of a shard's series with its postings.
#[derive(Default)]
pub struct Index {
    series: Vec<SeriesEntry>,
    /// Canonical label encoding of each series, by reference.
    canonical: Vec<Box<[u8]>>,
    /// xxh3 of the canonical labels → the first series with that hash. The hash comes with the
    /// ingest batch (the front computed it to route the series), so ingest hashes labels once.
    by_hash: HashMap<u64, SeriesRef, BuildHasherDefault<IdentityHasher>>,
    /// Series whose hash collides with an earlier one (64-bit xxh3: practically never).
    collided: HashMap<Box<[u8]>, SeriesRef, RandomState>,
    by_metric_id: HashMap<u64, SeriesRef, RandomState>,
    /// label name → label value → series holding that pair, ascending.
    postings: HashMap<Box<str>, ValuePostings, RandomState>,
    next_metric_id: u64,
    /// Series registered since the last series-log write.
    unpersisted: Vec<SeriesRef>,
}

impl Index {
    /// An empty index whose first metric id is 1.
    pub fn new() -> Self {
        Index {
            next_metric_id: 1,
            ..Default::default()
        }
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no series is registered.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The series at `series`.
    pub fn entry(&self, series: SeriesRef) -> Option<&SeriesEntry> {
        self.series.get(series as usize)
    }

    /// Every series, by reference order.
    pub fn entries(&self) -> &[SeriesEntry] {
        &self.series
    }

    /// The series with this canonical label encoding, if registered.
    pub fn lookup(&self, canonical: &[u8]) -> Option<SeriesRef> {
        self.lookup_hashed(xxhash_rust::xxh3::xxh3_64(canonical), canonical)
    }

    /// [`lookup`](Self::lookup) with the canonical encoding's xxh3 already known.
    pub fn lookup_hashed(&self, hash: u64, canonical: &[u8]) -> Option<SeriesRef> {
        let first = *self.by_hash.get(&hash)?;
        if self
            .canonical
            .get(first as usize)
            .is_some_and(|c| **c == *canonical)
        {
            return Some(first);
        }
        self.collided.get(canonical).copied()
    }

    /// The series with this metric id.
    pub fn by_metric_id(&self, metric_id: u64) -> Option<SeriesRef> {
        self.by_metric_id.get(&metric_id).copied()
    }

    /// Registers a new series (the caller checked [`lookup`](Self::lookup) first).
    pub fn register(&mut self, canonical: &[u8], labels: Labels) -> SeriesRef {
        self.register_hashed(xxhash_rust::xxh3::xxh3_64(canonical), canonical, labels)
    }

    /// [`register`](Self::register) with the canonical encoding's xxh3 already known.
    pub fn register_hashed(&mut self, hash: u64, canonical: &[u8], labels: Labels) -> SeriesRef {
        let metric_id = self.next_metric_id;
        self.next_metric_id += 1;
        let tsid = Tsid::new(&labels, metric_id);
        let series = self.insert(hash, tsid, canonical, labels);
        self.unpersisted.push(series);
        series
    }

    /// Adds a series read back from the series log.
    pub fn restore(&mut self, tsid: Tsid, canonical: &[u8], labels: Labels) {
        let hash = xxhash_rust::xxh3::xxh3_64(canonical);
        if self.lookup_hashed(hash, canonical).is_some() {
            return;
        }
        self.next_metric_id = self.next_metric_id.max(tsid.metric_id + 1);
        self.insert(hash, tsid, canonical, labels);
    }

    fn insert(&mut self, hash: u64, tsid: Tsid, canonical: &[u8], labels: Labels) -> SeriesRef {
        let series = SeriesRef::try_from(self.series.len()).unwrap_or(SeriesRef::MAX);
        assert!(
            series != SeriesRef::MAX,
            "BUG: more than 2^32 series on one shard"
        );
        for label in &labels {
            self.postings
                .entry(label.name.as_str().into())
                .or_default()
                .entry(label.value.as_str().into())
                .or_default()
                .push(series);
        }
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(canonical.into(), series);
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(series);
            }
        }
        self.canonical.push(canonical.into());
        self.by_metric_id.insert(tsid.metric_id, series);
        self.series.push(SeriesEntry {
            tsid,
            labels,
            min_timestamp_ms: i64::MAX,
            max_timestamp_ms: i64::MIN,
        });
        series
    }

    /// Widens a series' known time range to include `timestamp_ms`.
    pub fn note_timestamp(&mut self, series: SeriesRef, timestamp_ms: i64) {
        if let Some(entry) = self.series.get_mut(series as usize) {
            entry.min_timestamp_ms = entry.min_timestamp_ms.min(timestamp_ms);
            entry.max_timestamp_ms = entry.max_timestamp_ms.max(timestamp_ms);
        }
    }

    /// Takes the series registered since the last call, for the series log.
    pub fn take_unpersisted(&mut self) -> Vec<SeriesRef> {
        std::mem::take(&mut self.unpersisted)
    }

    /// Puts back series whose log write failed, so the next flush retries them.
    pub fn return_unpersisted(&mut self, mut series: Vec<SeriesRef>) {
        series.append(&mut self.unpersisted);
        self.unpersisted = series;
    }

    /// The values of label `name` and the series holding each.
    pub fn values_of(&self, name: &str) -> Option<&ValuePostings> {
        self.postings.get(name)
    }

    /// All label names with their value maps.
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.postings.keys().map(|k| &**k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_hashes_still_find_the_right_series() {
        let mut index = Index::new();
        let a = Labels::from_pairs([("__name__", "a")]);
        let b = Labels::from_pairs([("__name__", "b")]);
        let (ca, cb) = (a.to_canonical(), b.to_canonical());
        let sa = index.register_hashed(42, &ca, a);
        let sb = index.register_hashed(42, &cb, b);
        assert_ne!(sa, sb);
        assert_eq!(index.lookup_hashed(42, &ca), Some(sa));
        assert_eq!(index.lookup_hashed(42, &cb), Some(sb));
        assert_eq!(index.lookup_hashed(43, &ca), None);
        assert_eq!(
            index.lookup(&ca),
            None,
            "registered under a fake hash, so the real one misses"
        );
    }
}
