//! Which parts to merge: a pure function of part sizes, tested without a disk.
//!
//! Merging parts of similar size keeps write amplification logarithmic: each
//! sample is rewritten about log(total / flush size) times. The planner looks
//! at the parts sorted by size and picks the window of up to
//! [`MAX_PARTS_PER_MERGE`] consecutive parts with the best ratio of output
//! size to the largest input — a window of equal parts scores its length,
//! while one big part plus crumbs scores near 1 and is left alone.

/// Most parts one merge combines (VictoriaMetrics' `defaultPartsToMerge`).
pub const MAX_PARTS_PER_MERGE: usize = 15;
/// A merge must at least double the largest input, or it is not worth its I/O...
const MIN_MERGE_RATIO: f64 = 2.0;
/// ...unless the partition holds more parts than this: then the best window is merged anyway,
/// so that reads never have to visit an unbounded number of parts.
pub const MAX_PARTS_BEFORE_FORCED_MERGE: usize = 24;

/// A candidate part: its id and its size (rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSize {
    /// Part id.
    pub id: u64,
    /// Samples in the part.
    pub rows: u64,
}

/// The ids of the parts to merge next, or `None` when no merge is worth it.
pub fn plan_merge(parts: &[PartSize]) -> Option<Vec<u64>> {
    if parts.len() < 2 {
        return None;
    }
    let mut sorted = parts.to_vec();
    sorted.sort_by_key(|p| (p.rows, p.id));
    let mut best: Option<(f64, usize, usize)> = None;
    for len in 2..=MAX_PARTS_PER_MERGE.min(sorted.len()) {
        for start in 0..=sorted.len() - len {
            let window = sorted.get(start..start + len)?;
            let total: u64 = window.iter().map(|p| p.rows).sum();
            let largest = window.last().map_or(1, |p| p.rows.max(1));
            let ratio = total as f64 / largest as f64;
            // Prefer the higher ratio; on a tie, the smaller parts (cheaper merge).
            if best.is_none_or(|(r, _, _)| ratio > r + 1e-9) {
                best = Some((ratio, start, len));
            }
        }
    }
    let (ratio, start, len) = best?;
    if ratio < MIN_MERGE_RATIO && parts.len() <= MAX_PARTS_BEFORE_FORCED_MERGE {
        return None;
    }
    let mut ids: Vec<u64> = sorted
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
            .map(|(i, &rows)| PartSize { id: i as u64, rows })
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
                rows: 1000,
            });
            next_id += 1;
            while let Some(ids) = plan_merge(&live) {
                let rows = live
                    .iter()
                    .filter(|p| ids.contains(&p.id))
                    .map(|p| p.rows)
                    .sum();
                live.retain(|p| !ids.contains(&p.id));
                live.push(PartSize { id: next_id, rows });
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
}
