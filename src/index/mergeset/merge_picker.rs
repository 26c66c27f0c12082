//! Which parts to merge next: decided from part sizes alone.

/// Fewest parts worth a merge: merging two costs a full rewrite for little gain.
pub const MIN_PARTS_TO_MERGE: usize = 3;
/// Most parts merged at once (bounds the cursors a merge holds open).
pub const MAX_PARTS_TO_MERGE: usize = 16;
/// A part joins a merge only while it is at most this many times the picked parts' total, so
/// a big part is rewritten only when enough data has gathered next to it (each item is then
/// rewritten O(log n) times).
const SIZE_RATIO: u64 = 2;
/// Above this many parts, the smallest ones are merged whatever their sizes (bounds lookups).
pub const MAX_PARTS: usize = 24;

/// Picks parts to merge from `(id, items)`; empty when no merge is due.
pub fn pick(parts: &[(u64, u64)]) -> Vec<u64> {
    let mut sorted: Vec<(u64, u64)> = parts.to_vec();
    sorted.sort_by_key(|&(id, items)| (items, id));
    let mut picked: Vec<u64> = Vec::new();
    let mut total = 0u64;
    for &(id, items) in &sorted {
        if picked.len() >= MAX_PARTS_TO_MERGE {
            break;
        }
        if picked.len() >= 2 && items > total.saturating_mul(SIZE_RATIO) {
            break;
        }
        picked.push(id);
        total += items;
    }
    if picked.len() >= MIN_PARTS_TO_MERGE {
        return picked;
    }
    if parts.len() > MAX_PARTS {
        return sorted
            .iter()
            .take(MAX_PARTS_TO_MERGE)
            .map(|&(id, _)| id)
            .collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_similar_small_parts_not_a_big_one() {
        assert!(pick(&[(1, 10), (2, 10)]).is_empty());
        assert_eq!(pick(&[(1, 10), (2, 10), (3, 10)]), vec![1, 2, 3]);
        assert_eq!(
            pick(&[(9, 1_000_000), (1, 10), (2, 12), (3, 11)]),
            vec![1, 3, 2]
        );
        let many: Vec<(u64, u64)> = (0..30).map(|i| (i, 1u64 << (2 * i))).collect();
        assert_eq!(pick(&many).len(), MAX_PARTS_TO_MERGE);
        assert!(pick(&many[..20]).is_empty());
    }
}
