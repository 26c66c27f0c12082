//! The table against a `BTreeSet` model: random adds, seals, flushes, merges and reopens, on
//! real files (ext4 temp dir, O_DIRECT) inside a glommio executor.

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;

use glommio::{LocalExecutorBuilder, Placement};
use proptest::prelude::*;

use super::table::{Table, TableOptions};

fn run<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(1 << 20)
        .spawn(|| async move {
            // The first DMA open on a device must read a non-empty file (notes/GLOMMIO.md gotcha 1).
            let probe_dir = std::env::temp_dir().join(format!(
                "strata-probe-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::create_dir_all(&probe_dir).expect("probe dir");
            crate::storage::fs::prime_dma_probe(&probe_dir)
                .await
                .expect("prime dma probe");
            test().await
        })
        .expect("spawn executor")
        .join()
        .expect("test panicked in the executor");
}

fn temp_dir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "strata-mergeset-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Small caches, so that evictions happen in tests.
fn small_caches() -> TableOptions {
    TableOptions {
        index_cache_bytes: 4096,
        item_cache_bytes: 64 * 1024,
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<u8>),
    AddMany(u16, u8),
    Seal,
    Flush,
    Merge,
    MergeAll,
    Reopen,
    Scan(Vec<u8>),
    Seek(Vec<u8>),
}

fn item() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(0u8), Just(1u8), Just(b'a'), Just(b'b'), any::<u8>()],
        0..6,
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => item().prop_map(Op::Add),
        2 => (any::<u16>(), any::<u8>()).prop_map(|(n, seed)| Op::AddMany(n % 3000, seed)),
        1 => Just(Op::Seal),
        2 => Just(Op::Flush),
        1 => Just(Op::Merge),
        1 => Just(Op::MergeAll),
        1 => Just(Op::Reopen),
        3 => item().prop_map(Op::Scan),
        2 => item().prop_map(Op::Seek),
    ]
}

/// Deterministic items of ~40 bytes sharing prefixes, enough to fill several blocks.
fn many(n: u16, seed: u8) -> Vec<Vec<u8>> {
    (0..u32::from(n))
        .map(|i| {
            format!(
                "m{seed:03}/label{:02}/value-{i:08}-{}",
                i % 7,
                i * 31 % 1000
            )
            .into_bytes()
        })
        .collect()
}

async fn check_all(table: &Table, model: &BTreeSet<Vec<u8>>) {
    let mut got = Vec::new();
    table
        .scan_prefix(&[], |item| {
            got.push(item.to_vec());
            true
        })
        .await
        .unwrap();
    let want: Vec<Vec<u8>> = model.iter().cloned().collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "full scan differs from the model");
}

async fn apply(ops: Vec<Op>, dir: PathBuf) {
    let mut table = Table::open(&dir, small_caches()).await.unwrap();
    let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
    for op in ops {
        match op {
            Op::Add(item) => {
                table.add(&item);
                model.insert(item);
            }
            Op::AddMany(n, seed) => {
                for item in many(n, seed) {
                    table.add(&item);
                    model.insert(item);
                }
            }
            Op::Seal => table.seal(),
            Op::Flush => table.flush().await.unwrap(),
            Op::Merge => {
                table.merge_step().await.unwrap();
            }
            Op::MergeAll => table.merge_all().await.unwrap(),
            Op::Reopen => {
                // A clean stop flushes; whatever was flushed must come back.
                table.flush().await.unwrap();
                drop(table);
                table = Table::open(&dir, small_caches()).await.unwrap();
                check_all(&table, &model).await;
            }
            Op::Scan(prefix) => {
                let mut got = Vec::new();
                table
                    .scan_prefix(&prefix, |item| {
                        got.push(item.to_vec());
                        true
                    })
                    .await
                    .unwrap();
                let want: Vec<Vec<u8>> = model
                    .range(prefix.clone()..)
                    .take_while(|i| i.starts_with(&prefix))
                    .cloned()
                    .collect();
                assert_eq!(got, want, "scan {prefix:?}");
            }
            Op::Seek(key) => {
                let mut cursor = table.cursor();
                cursor.seek(&key).await.unwrap();
                let got: Vec<Vec<u8>> = {
                    let mut out = Vec::new();
                    while let Some(item) = cursor.current() {
                        out.push(item.to_vec());
                        if out.len() == 3 {
                            break;
                        }
                        cursor.next().await.unwrap();
                    }
                    out
                };
                let want: Vec<Vec<u8>> = model.range(key.clone()..).take(3).cloned().collect();
                assert_eq!(got, want, "seek {key:?}");
            }
        }
    }
    check_all(&table, &model).await;
    table.flush().await.unwrap();
    drop(table);
    let reopened = Table::open(&dir, small_caches()).await.unwrap();
    check_all(&reopened, &model).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn behaves_like_a_btreeset(ops in prop::collection::vec(op(), 1..60)) {
        let dir = temp_dir("model");
        let d = dir.clone();
        run(move || apply(ops, d));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn uncommitted_parts_are_removed_and_unflushed_items_are_lost_only_before_flush() {
    let dir = temp_dir("crash");
    let d = dir.clone();
    run(move || async move {
        let table = Table::open(&d, TableOptions::default()).await.unwrap();
        for item in many(5000, 1) {
            table.add(&item);
        }
        table.flush().await.unwrap();
        table.add(b"not flushed");
        drop(table);
        // Leftovers of an interrupted flush or merge.
        std::fs::create_dir_all(d.join("tmp-00000000000000ff")).unwrap();
        std::fs::write(d.join("tmp-00000000000000ff/items.bin"), b"junk").unwrap();
        std::fs::create_dir_all(d.join("00000000000000fe")).unwrap();
        std::fs::write(d.join("parts.json.tmp"), b"{").unwrap();
        let table = Table::open(&d, TableOptions::default()).await.unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&"parts.json".to_string()));
        let mut count = 0;
        table
            .scan_prefix(&[], |_| {
                count += 1;
                true
            })
            .await
            .unwrap();
        assert_eq!(count, 5000);
        assert!(table.first_with_prefix(b"not").await.unwrap().is_none());
        // New parts get ids past the leftovers'.
        table.add(b"x");
        table.flush().await.unwrap();
        let parts = table.committed_parts();
        assert_eq!(parts.len(), 2);
        assert!(
            parts.iter().any(|p| p.as_str() > "00000000000000ff"),
            "{parts:?}"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merges_keep_the_union_and_delete_inputs() {
    let dir = temp_dir("merge");
    let d = dir.clone();
    run(move || async move {
        let table = Table::open(&d, TableOptions::default()).await.unwrap();
        let mut model = BTreeSet::new();
        for round in 0..6u8 {
            for item in many(3000, round % 4) {
                table.add(&item);
                model.insert(item);
            }
            table.flush().await.unwrap();
        }
        assert_eq!(table.stats().file_parts, 6);
        while table.merge_step().await.unwrap() {}
        assert!(table.stats().file_parts < 3, "{:?}", table.stats());
        check_all(&table, &model).await;
        let dirs = std::fs::read_dir(&d).unwrap().count();
        assert_eq!(
            dirs as u64,
            table.stats().file_parts + 1,
            "merged inputs deleted"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}
