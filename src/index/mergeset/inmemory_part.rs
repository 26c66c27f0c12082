//! The recent layer: items added since the last seal (unsorted), and sealing them into a
//! sorted in-memory part that searches read like any other part.

use super::item_block::ItemBlock;

/// Items added since the last seal, in arrival order, back to back in one buffer (one
/// allocation per many items, which keeps registering a new series cheap).
#[derive(Default)]
pub struct PendingItems {
    data: Vec<u8>,
    /// (start, len) of each item in `data`.
    spans: Vec<(u32, u32)>,
}

impl PendingItems {
    /// Adds an item.
    pub fn push(&mut self, item: &[u8]) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(item);
        self.spans.push((start, item.len() as u32));
    }

    /// Items held.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity() + self.spans.capacity() * 8
    }

    fn item(&self, span: (u32, u32)) -> &[u8] {
        let (start, len) = (span.0 as usize, span.1 as usize);
        self.data.get(start..start + len).unwrap_or_default()
    }

    /// Sorts and deduplicates the items into a part, leaving this empty.
    pub fn seal(&mut self) -> ItemBlock {
        let mut spans = std::mem::take(&mut self.spans);
        spans.sort_unstable_by(|&a, &b| self.item(a).cmp(self.item(b)));
        let mut part = ItemBlock::default();
        let mut last: Option<&[u8]> = None;
        for &span in &spans {
            let item = self.item(span);
            if last != Some(item) {
                part.push(item);
                last = Some(item);
            }
        }
        self.data.clear();
        part
    }
}

/// Merges sorted, deduplicated in-memory parts into one.
pub fn merge_in_memory(parts: &[&ItemBlock]) -> ItemBlock {
    let mut positions = vec![0usize; parts.len()];
    let mut out = ItemBlock::default();
    loop {
        let mut smallest: Option<&[u8]> = None;
        for (part, &pos) in parts.iter().zip(&positions) {
            if let Some(item) = part.get(pos) {
                if smallest.is_none_or(|s| item < s) {
                    smallest = Some(item);
                }
            }
        }
        let Some(item) = smallest else {
            return out;
        };
        out.push(item);
        for (part, pos) in parts.iter().zip(positions.iter_mut()) {
            if part.get(*pos) == Some(item) {
                *pos += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_sorts_and_dedups_and_merge_unions() {
        let mut pending = PendingItems::default();
        for item in [&b"c"[..], b"a", b"c", b"", b"b"] {
            pending.push(item);
        }
        let a = pending.seal();
        assert!(pending.is_empty());
        let got: Vec<&[u8]> = (0..a.len()).filter_map(|i| a.get(i)).collect();
        assert_eq!(got, vec![&b""[..], b"a", b"b", b"c"]);
        pending.push(b"bb");
        pending.push(b"a");
        let b = pending.seal();
        let merged = merge_in_memory(&[&a, &b]);
        let got: Vec<&[u8]> = (0..merged.len()).filter_map(|i| merged.get(i)).collect();
        assert_eq!(got, vec![&b""[..], b"a", b"b", b"bb", b"c"]);
    }
}
