//! Which parts to merge: a pure function of part sizes and ages, tested without a disk.
//!
//! Merging parts of similar size keeps write amplification logarithmic: each
//! sample is rewritten about log(total / flush size) times. A merge takes a run of
//! parts adjacent in age (`newest_write` order), so that the merged part can take its
//! inputs' place in that order and the newer write still wins on equal timestamps
//! (`partition.rs`). Among the runs of up to [`MAX_PARTS_PER_MERGE`] parts the planner
//! picks the best ratio of output size to the largest input — a run of equal parts
//! scores its length, while one big part plus crumbs scores near 1 and is left alone.
//! Under steady flushes sizes shrink with age, so similar parts are adjacent anyway.

/// Most parts one merge combines (VictoriaMetrics' `defaultPartsToMerge`).
pub const MAX_PARTS_PER_MERGE: usize = 15;
/// A merge must at least double the largest input, or it is not worth its I/O...
const MIN_MERGE_RATIO: f64 = 2.0;
/// ...unless the partition holds more parts than this: then the best window is merged anyway,
/// so that reads never have to visit an unbounded number of parts.
pub const MAX_PARTS_BEFORE_FORCED_MERGE: usize = 24;

/// A candidate part: its id, age and size (rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSize {
    /// Part id.
    pub id: u64,
    /// Id of the newest flush it holds: the order of age.
    pub newest_write: u64,
    /// Samples in the part.
    pub rows: u64,
}

/// The ids of the parts to merge next, or `None` when no merge is worth it.
pub fn plan_merge(parts: &[PartSize]) -> Option<Vec<u64>> {
    if parts.len() < 2 {
        return None;
    }
    let mut by_age = parts.to_vec();
    by_age.sort_by_key(|p| (p.newest_write, p.id));
    let mut best: Option<(f64, u64, usize, usize)> = None;
    for len in 2..=MAX_PARTS_PER_MERGE.min(by_age.len()) {
        for start in 0..=by_age.len() - len {
            let window = by_age.get(start..start + len)?;
            let total: u64 = window.iter().map(|p| p.rows).sum();
            let largest = window.iter().map(|p| p.rows).max().unwrap_or(1).max(1);
            let ratio = total as f64 / largest as f64;
            // Prefer the higher ratio; on a tie, the smaller output (cheaper merge).
            let better = match best {
                None => true,
                Some((r, t, _, _)) => ratio > r + 1e-9 || (ratio > r - 1e-9 && total < t),
            };
            if better {
                best = Some((ratio, total, start, len));
            }
        }
    }
    let (ratio, _, start, len) = best?;
    if ratio < MIN_MERGE_RATIO && parts.len() <= MAX_PARTS_BEFORE_FORCED_MERGE {
        return None;
    }
    let mut ids: Vec<u64> = by_age
        .get(start..start + len)?
        .iter()
        .map(|p| p.id)
        .collect();
    ids.sort_unstable();
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(rows: &[u64]) -> Vec<PartSize> {
        rows.iter()
            .enumerate()
            .map(|(i, &rows)| PartSize {
                id: i as u64,
                newest_write: i as u64,
                rows,
            })
            .collect()
    }

    #[test]
    fn merges_similar_parts() {
        assert_eq!(plan_merge(&parts(&[100, 100, 100])), Some(vec![0, 1, 2]));
        assert_eq!(plan_merge(&parts(&[100])), None);
        assert_eq!(plan_merge(&parts(&[])), None);
    }

    #[test]
    fn leaves_one_big_part_with_a_crumb() {
        assert_eq!(plan_merge(&parts(&[1_000_000, 10])), None);
        // The crumbs merge among themselves, not into the big part.
        assert_eq!(
            plan_merge(&parts(&[1_000_000, 10, 10, 10])),
            Some(vec![1, 2, 3])
        );
    }

    #[test]
    fn caps_the_window_and_forces_when_too_many() {
        let plan = plan_merge(&parts(&[5; 40])).unwrap();
        assert_eq!(plan.len(), MAX_PARTS_PER_MERGE);
        let lopsided: Vec<u64> = (0..30).map(|i| 1u64 << (i % 30)).collect();
        assert!(
            plan_merge(&parts(&lopsided)).is_some(),
            "more than the cap forces a merge"
        );
    }

    #[test]
    fn part_count_stays_bounded_under_steady_flushes() {
        // Simulate: one flush-sized part arrives, then merges run until none is planned.
        let mut live: Vec<PartSize> = Vec::new();
        let mut next_id = 0;
        let mut max_live = 0;
        for _ in 0..5000 {
            live.push(PartSize {
                id: next_id,
                newest_write: next_id,
                rows: 1000,
            });
            next_id += 1;
            while let Some(ids) = plan_merge(&live) {
                let merged: Vec<PartSize> = live
                    .iter()
                    .filter(|p| ids.contains(&p.id))
                    .copied()
                    .collect();
                let rows = merged.iter().map(|p| p.rows).sum();
                let newest_write = merged.iter().map(|p| p.newest_write).max().unwrap();
                live.retain(|p| !ids.contains(&p.id));
                live.push(PartSize {
                    id: next_id,
                    newest_write,
                    rows,
                });
                next_id += 1;
            }
            max_live = max_live.max(live.len());
        }
        assert!(
            max_live <= MAX_PARTS_BEFORE_FORCED_MERGE + 1,
            "{max_live} parts"
        );
        assert_eq!(live.iter().map(|p| p.rows).sum::<u64>(), 5_000_000);
    }

    #[test]
    fn merges_only_parts_adjacent_in_age() {
        // Ages 0..4: the two small parts are not adjacent, the big one sits between them.
        let live = [
            PartSize {
                id: 0,
                newest_write: 0,
                rows: 10,
            },
            PartSize {
                id: 1,
                newest_write: 1,
                rows: 1_000_000,
            },
            PartSize {
                id: 2,
                newest_write: 2,
                rows: 10,
            },
        ];
        assert_eq!(plan_merge(&live), None);
        // Many similar parts in any id order: every merge is a contiguous run of ages.
        let live: Vec<PartSize> = (0..20u64)
            .map(|i| PartSize {
                id: 100 - i,
                newest_write: i,
                rows: 100 + (i * 37) % 50,
            })
            .collect();
        let ids = plan_merge(&live).unwrap();
        let mut ages: Vec<u64> = live
            .iter()
            .filter(|p| ids.contains(&p.id))
            .map(|p| p.newest_write)
            .collect();
        ages.sort_unstable();
        assert!(ages.windows(2).all(|w| w[1] == w[0] + 1), "{ages:?}");
    }
}
