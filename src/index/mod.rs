//! The per-shard series index: label set → series, label pair → series, and series search.
//!
//! This is the server issue's simple index: the whole registry lives in memory and
//! is persisted as a series log (`series_log.rs`) that start-up reads back. The
//! mergeset index replaces it.

pub mod search;
pub mod series_log;
pub mod tsid;

use std::collections::HashMap;

use ahash::RandomState;

use crate::model::Labels;
pub use tsid::Tsid;

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
    by_canonical: HashMap<Box<[u8]>, SeriesRef, RandomState>,
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
        self.by_canonical.get(canonical).copied()
    }

    /// The series with this metric id.
    pub fn by_metric_id(&self, metric_id: u64) -> Option<SeriesRef> {
        self.by_metric_id.get(&metric_id).copied()
    }

    /// Registers a new series (the caller checked [`lookup`](Self::lookup) first).
    pub fn register(&mut self, canonical: &[u8], labels: Labels) -> SeriesRef {
        let metric_id = self.next_metric_id;
        self.next_metric_id += 1;
        let tsid = Tsid::new(&labels, metric_id);
        let series = self.insert(tsid, canonical, labels);
        self.unpersisted.push(series);
        series
    }

    /// Adds a series read back from the series log.
    pub fn restore(&mut self, tsid: Tsid, canonical: &[u8], labels: Labels) {
        if self.by_canonical.contains_key(canonical) {
            return;
        }
        self.next_metric_id = self.next_metric_id.max(tsid.metric_id + 1);
        self.insert(tsid, canonical, labels);
    }

    fn insert(&mut self, tsid: Tsid, canonical: &[u8], labels: Labels) -> SeriesRef {
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
        self.by_canonical.insert(canonical.into(), series);
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
