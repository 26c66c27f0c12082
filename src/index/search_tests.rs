//! Must-show correctness test: every matcher kind (regex edge cases, empty values, label absent
//! vs empty) against a brute-force scan of the same series, with the items in memory, in file
//! parts, and across a reopen; through the global and the per-day index.

use std::future::Future;
use std::path::PathBuf;

use glommio::{LocalExecutorBuilder, Placement};

use super::{item, Index, IndexOptions};
use crate::model::{Labels, MatchOp, Matcher};

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
    let dir = std::env::temp_dir().join(format!("strata-index-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Series with absent and empty labels, shared prefixes, regex metacharacters and bytes 0/1.
fn series() -> Vec<Labels> {
    let mut out: Vec<Labels> = vec![
        Labels::from_pairs([("__name__", "a"), ("job", "x")]),
        Labels::from_pairs([("__name__", "a"), ("job", "y"), ("env", "")]),
        Labels::from_pairs([("__name__", "a")]),
        Labels::from_pairs([("__name__", "b"), ("job", "x"), ("env", "prod")]),
        Labels::from_pairs([("__name__", "b"), ("env", "dev")]),
        Labels::from_pairs([("__name__", "b"), ("env", "pro")]),
        Labels::from_pairs([("__name__", "c.d"), ("job", "a|b")]),
        Labels::from_pairs([("__name__", "c"), ("job", "\u{0}\u{1}z")]),
        Labels::from_pairs([("__name__", "m"), ("instance", "host-1")]),
        Labels::from_pairs([("__name__", "m"), ("instance", "host-10:9100")]),
        Labels::from_pairs([("__name__", "m"), ("instance", "host-2")]),
        Labels::from_pairs([("__name__", "m"), ("instance", "Host-1")]),
        Labels::from_pairs([("__name__", "m"), ("instance", "héllo")]),
    ];
    for i in 0..300 {
        out.push(Labels::from_pairs([
            ("__name__", format!("gen_{}", i % 7)),
            ("instance", format!("host-{}", i % 23)),
            ("job", format!("job{}", i % 3)),
        ]));
    }
    out
}

fn matcher_cases() -> Vec<Vec<Matcher>> {
    use MatchOp::*;
    let m = |name: &str, op: MatchOp, value: &str| Matcher::new(op, name, value).unwrap();
    let mut cases: Vec<Vec<Matcher>> = Vec::new();
    let names = ["__name__", "job", "env", "instance", "nope"];
    let values = [
        "",
        "a",
        "x",
        "b",
        "prod",
        "pro",
        ".*",
        ".+",
        "a|b",
        "x|y",
        "x|",
        "|x",
        "pro.*",
        "pro.+",
        "pro",
        "host-1.*",
        "host-1",
        "host-(1|2)",
        "host-1?",
        "(?i)host-1",
        "c\\.d",
        "c.d",
        "[a-c]",
        "\u{0}\u{1}z",
        ".*\u{1}.*",
        "h.llo",
        "héllo",
        "gen_[0-3]",
        "job[12]",
        "^a$",
        "a*",
        "(a)",
        "(|a)",
        "x(y)?",
    ];
    for name in names {
        for value in values {
            for op in [Equal, NotEqual, RegexMatch, RegexNoMatch] {
                if let Ok(matcher) = Matcher::new(op, name, value) {
                    cases.push(vec![matcher]);
                }
            }
        }
    }
    cases.extend([
        vec![
            m("__name__", RegexMatch, "a|b"),
            m("env", RegexNoMatch, "pro.*"),
        ],
        vec![m("__name__", Equal, "b"), m("job", Equal, "x")],
        vec![
            m("__name__", Equal, "m"),
            m("instance", RegexMatch, "host-1.*"),
        ],
        vec![
            m("__name__", RegexMatch, "gen_.*"),
            m("job", Equal, "job1"),
            m("instance", RegexMatch, "host-1.*"),
        ],
        vec![m("job", Equal, ""), m("env", NotEqual, "")],
        vec![m("job", RegexMatch, ".*"), m("env", RegexMatch, ".+")],
        vec![m("job", NotEqual, "x"), m("env", RegexMatch, "")],
        vec![m("__name__", NotEqual, "a"), m("job", RegexNoMatch, ".*")],
        vec![m("nope", Equal, ""), m("__name__", Equal, "a")],
        vec![],
    ]);
    cases
}

async fn check(index: &Index, all: &[(u64, Labels)], min_ms: i64, max_ms: i64, when: &str) {
    for matchers in matcher_cases() {
        let got = index.search(&matchers, min_ms, max_ms).await.unwrap();
        let mut want: Vec<u64> = all
            .iter()
            .filter(|(_, l)| matchers.iter().all(|m| m.matches(l.get(&m.name))))
            .map(|(id, _)| *id)
            .collect();
        want.sort_unstable();
        assert_eq!(got, want, "{when}: {matchers:?}");
    }
}

#[test]
fn every_matcher_kind_agrees_with_brute_force() {
    let dir = temp_dir("brute");
    let d = dir.clone();
    run(move || async move {
        let day_ms = item::DAY_MS * 20_000;
        let index = Index::open(&d, IndexOptions::default()).await.unwrap();
        let mut all = Vec::new();
        for labels in series() {
            let canonical = labels.to_canonical();
            let hash = xxhash_rust::xxh3::xxh3_64(&canonical);
            assert!(index.lookup(hash, &canonical).await.unwrap().is_none());
            let tsid = index.register(hash, &canonical, &labels);
            index.note_day(&tsid, &canonical, item::day_of(day_ms));
            assert_eq!(index.lookup(hash, &canonical).await.unwrap(), Some(tsid));
            all.push((tsid.metric_id, labels));
        }
        check(&index, &all, i64::MIN, i64::MAX, "global, in memory").await;
        check(&index, &all, day_ms, day_ms + 1000, "per day, in memory").await;
        // Another day has no series.
        let none = index
            .search(&[], day_ms + item::DAY_MS, day_ms + item::DAY_MS + 1)
            .await
            .unwrap();
        assert!(none.is_empty());
        index.flush().await.unwrap();
        check(&index, &all, i64::MIN, i64::MAX, "global, flushed").await;
        drop(index);
        let index = Index::open(&d, IndexOptions::default()).await.unwrap();
        check(&index, &all, i64::MIN, i64::MAX, "global, reopened").await;
        check(
            &index,
            &all,
            day_ms - 5 * item::DAY_MS,
            day_ms,
            "per day, reopened",
        )
        .await;
        // Lookups after a reopen find the series in the parts (the name cache is empty).
        for (id, labels) in &all {
            let canonical = labels.to_canonical();
            let hash = xxhash_rust::xxh3::xxh3_64(&canonical);
            let tsid = index.lookup(hash, &canonical).await.unwrap().unwrap();
            assert_eq!(tsid.metric_id, *id);
        }
        // Labels come back for every id.
        let ids: Vec<u64> = all.iter().map(|(id, _)| *id).collect();
        let series = index.series_of(&ids).await.unwrap();
        assert_eq!(series.len(), all.len());
        for ((tsid, labels), (id, want)) in series.iter().zip(&all) {
            assert_eq!((tsid.metric_id, labels.as_ref()), (*id, want));
        }
        // Deleting removes from search and lookup; the same labels register a new series.
        let (victim, labels) = all.remove(0);
        index.delete(&[victim]);
        check(&index, &all, i64::MIN, i64::MAX, "after delete").await;
        let canonical = labels.to_canonical();
        let hash = xxhash_rust::xxh3::xxh3_64(&canonical);
        assert!(index.lookup(hash, &canonical).await.unwrap().is_none());
        let again = index.register(hash, &canonical, &labels);
        assert_ne!(again.metric_id, victim);
        index.flush().await.unwrap();
        drop(index);
        let index = Index::open(&d, IndexOptions::default()).await.unwrap();
        assert!(index.is_deleted(victim));
        assert_eq!(index.lookup(hash, &canonical).await.unwrap(), Some(again));
    });
    let _ = std::fs::remove_dir_all(&dir);
}
