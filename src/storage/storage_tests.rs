//! Storage scenarios on one executor: parts outlive the queries reading them (deliverable 7), and
//! queries read index blocks through the bounded cache (deliverable 8).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::future::Future;
use std::path::{Path, PathBuf};

use glommio::{LocalExecutorBuilder, Placement};

use super::{Storage, StorageOptions};
use crate::ingest::IngestBatch;
use crate::model::{MatchOp, Matcher};

const SERIES: usize = 2_000;
const BASE_MS: i64 = 1_795_000_000_000;

fn run<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(1 << 20)
        .spawn(test)
        .expect("spawn executor")
        .join()
        .expect("test panicked in the executor");
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("strata-storage-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options() -> StorageOptions {
    StorageOptions {
        wal_sync: None,
        retention_ms: i64::MAX / 4,
        dedup_interval_ms: 0,
        index_cache_bytes: 16 << 20,
        time_checks: true,
        series_index: crate::index::IndexOptions::default(),
    }
}

/// One sample per series at round `round`.
fn round(round: usize) -> IngestBatch {
    let mut batch = IngestBatch::default();
    for i in 0..SERIES {
        batch.push_label(b"__name__", b"m");
        batch.push_label(b"instance", format!("i{i:05}").as_bytes());
        batch.push_sample(BASE_MS + 1000 * round as i64, (i * 100 + round) as f64);
        batch.end_series();
    }
    batch
}

/// Whether something besides the partition list holds a live data part (a running query).
fn query_holds_parts(storage: &Storage) -> bool {
    storage
        .partitions
        .borrow()
        .values()
        .flat_map(|p| p.parts.iter())
        .any(|live| std::rc::Rc::strong_count(&live.part) > 1)
}

fn part_dirs(shard: &Path) -> Vec<PathBuf> {
    let small = shard.join("data").join("small");
    let mut dirs = Vec::new();
    for month in std::fs::read_dir(small).unwrap() {
        for part in std::fs::read_dir(month.unwrap().path()).unwrap() {
            dirs.push(part.unwrap().path());
        }
    }
    dirs
}

fn all() -> Vec<Matcher> {
    vec![Matcher::new(MatchOp::Equal, "__name__", "m").unwrap()]
}

/// Every series has rounds 0..rounds, exactly.
fn assert_complete(result: &[super::SampleRange], rounds: usize) {
    assert_eq!(result.len(), SERIES);
    for (_, timestamps, values) in result {
        assert_eq!(timestamps.len(), rounds);
        let first = values.first().copied().unwrap_or(-1.0);
        for (k, (&t, &v)) in timestamps.iter().zip(values).enumerate() {
            assert_eq!(t, BASE_MS + 1000 * k as i64);
            assert_eq!(v, first + k as f64);
        }
    }
}

#[test]
fn a_merged_away_part_is_deleted_only_after_the_query_reading_it_ends() {
    let dir = TempDir::new("retire");
    let path = dir.0.clone();
    run(move || async move {
        super::fs::prime_dma_probe(&path).await.unwrap();
        let storage = Storage::open(&path, options()).await.unwrap();
        for k in 0..3 {
            storage.ingest(&round(k), BASE_MS).await.unwrap();
            storage.flush().await.unwrap();
        }
        let inputs = part_dirs(&path);
        assert_eq!(inputs.len(), 3);
        let matchers = all();
        let mut query = Box::pin(storage.select(&matchers, BASE_MS, BASE_MS + 10_000));
        // The query first searches the index (which may read index parts), then takes its
        // snapshot of the data parts and starts a DMA read: poll until it holds the parts.
        let mut polls = 0;
        while !query_holds_parts(&storage) {
            assert!(
                futures_lite::future::poll_once(&mut query).await.is_none(),
                "the query is waiting on a read"
            );
            polls += 1;
            assert!(
                polls < 5_000,
                "the query never took its snapshot of the parts"
            );
            // A timer, not a yield: the reactor must run for the index read to complete.
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(storage.force_merge("").await.unwrap(), 1);
        assert_eq!(part_dirs(&path).len(), 4, "merge output plus its 3 inputs");
        for input in &inputs {
            assert!(
                input.exists(),
                "{} deleted under a running query",
                input.display()
            );
        }
        let result = query.await.unwrap();
        assert_complete(&result, 3);
        storage.delete_retired().await;
        for input in &inputs {
            assert!(
                !input.exists(),
                "{} kept after the query ended",
                input.display()
            );
        }
        assert_eq!(part_dirs(&path).len(), 1);
        assert_complete(
            &storage
                .select(&all(), BASE_MS, BASE_MS + 10_000)
                .await
                .unwrap(),
            3,
        );
    });
}

#[test]
fn queries_read_index_blocks_through_the_cache() {
    let dir = TempDir::new("cache");
    let path = dir.0.clone();
    run(move || async move {
        super::fs::prime_dma_probe(&path).await.unwrap();
        let storage = Storage::open(&path, options()).await.unwrap();
        for k in 0..2 {
            storage.ingest(&round(k), BASE_MS).await.unwrap();
            storage.flush().await.unwrap();
        }
        let before = storage.stats();
        assert_eq!((before.index_cache_hits, before.index_cache_misses), (0, 0));
        assert_complete(
            &storage
                .select(&all(), BASE_MS, BASE_MS + 10_000)
                .await
                .unwrap(),
            2,
        );
        let first = storage.stats();
        assert!(
            first.index_cache_misses > 0,
            "cold cache: blocks read from disk"
        );
        assert!(first.index_cache_bytes > 0);
        assert_complete(
            &storage
                .select(&all(), BASE_MS, BASE_MS + 10_000)
                .await
                .unwrap(),
            2,
        );
        let second = storage.stats();
        assert_eq!(
            second.index_cache_misses, first.index_cache_misses,
            "warm cache: no reads"
        );
        assert_eq!(
            second.index_cache_hits - first.index_cache_hits,
            first.index_cache_misses,
            "every block found in the cache"
        );
        // A part reopened after a restart starts cold, and its metaindex alone is in memory.
        drop(storage);
        let storage = Storage::open(&path, options()).await.unwrap();
        assert_complete(
            &storage
                .select(&all(), BASE_MS, BASE_MS + 10_000)
                .await
                .unwrap(),
            2,
        );
        assert_eq!(storage.stats().index_cache_misses, first.index_cache_misses);
    });
}

/// A batch of one sample of series `m{instance="i00000"}`.
fn one_sample(timestamp_ms: i64, value: f64) -> IngestBatch {
    let mut batch = IngestBatch::default();
    batch.push_label(b"__name__", b"m");
    batch.push_label(b"instance", b"i00000");
    batch.push_sample(timestamp_ms, value);
    batch.end_series();
    batch
}

#[test]
fn a_rewrite_flushed_during_a_merge_of_older_parts_wins() {
    let dir = TempDir::new("rewrite");
    let path = dir.0.clone();
    run(move || async move {
        super::fs::prime_dma_probe(&path).await.unwrap();
        let storage = Storage::open(&path, options()).await.unwrap();
        storage.ingest(&round(0), BASE_MS).await.unwrap();
        storage.flush().await.unwrap();
        storage.ingest(&round(1), BASE_MS).await.unwrap();
        storage.flush().await.unwrap();
        // Merge those two parts; while it runs, a newer value for a timestamp they hold is
        // flushed into a third part.
        let mut merge = Box::pin(storage.force_merge(""));
        let mut polls = 0;
        while storage.stats().merge_in_flight == 0 {
            assert!(futures_lite::future::poll_once(&mut merge).await.is_none());
            polls += 1;
            assert!(polls < 5_000, "the merge never started");
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        storage
            .ingest(&one_sample(BASE_MS, -1.0), BASE_MS)
            .await
            .unwrap();
        storage.flush().await.unwrap();
        assert!(merge.await.unwrap() >= 1);
        let matchers = vec![Matcher::new(MatchOp::Equal, "instance", "i00000").unwrap()];
        let result = storage
            .select(&matchers, BASE_MS, BASE_MS + 10_000)
            .await
            .unwrap();
        let (_, timestamps, values) = result.first().expect("the series");
        assert_eq!(timestamps, &[BASE_MS, BASE_MS + 1000]);
        assert_eq!(values, &[-1.0, 1.0], "the newest write of BASE_MS wins");
        // And still after everything is merged into one part and the storage reopened.
        storage.force_merge("").await.unwrap();
        drop(storage);
        let storage = Storage::open(&path, options()).await.unwrap();
        let result = storage
            .select(&matchers, BASE_MS, BASE_MS + 10_000)
            .await
            .unwrap();
        assert_eq!(result.first().map(|r| r.2.clone()), Some(vec![-1.0, 1.0]));
    });
}
