//! An item block: up to [`MAX_BLOCK_BYTES`] of sorted items, stored as two zstd streams (the
//! concatenated item bytes in `items.bin`, their varint lengths in `lens.bin`).

use crate::encoding::varint;

/// Target uncompressed size of a block: large enough for zstd to find the shared prefixes of
/// neighbouring items, small enough that one lookup decodes little.
pub const MAX_BLOCK_BYTES: usize = 64 * 1024;
/// zstd level of item and length streams (written by flushes and merges on the shard's core).
pub const ZSTD_LEVEL: i32 = 1;

/// A decoded block: items back to back plus where each ends.
#[derive(Debug, Default, Clone)]
pub struct ItemBlock {
    data: Vec<u8>,
    /// End offset of item i in `data`.
    ends: Vec<u32>,
}

impl ItemBlock {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the block holds no item.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Item `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 {
            0
        } else {
            *self.ends.get(i - 1)? as usize
        };
        self.data.get(start..end)
    }

    /// Index of the first item `>= key`.
    pub fn lower_bound(&self, key: &[u8]) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.get(mid).is_some_and(|item| item < key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Appends one item (the caller keeps them sorted).
    pub fn push(&mut self, item: &[u8]) {
        self.data.extend_from_slice(item);
        self.ends.push(self.data.len() as u32);
    }

    /// Bytes of item data.
    pub fn data_len(&self) -> usize {
        self.data.len()
    }

    /// Approximate heap size, for cache accounting.
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity() + self.ends.capacity() * 4
    }

    /// Empties the block, keeping its capacity.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    /// Encodes the block: (zstd of item bytes, zstd of varint lengths).
    pub fn encode(&self) -> (Vec<u8>, Vec<u8>) {
        let mut lens = Vec::with_capacity(self.len() * 2);
        let mut start = 0u32;
        for &end in &self.ends {
            varint::put_uvarint(&mut lens, u64::from(end - start));
            start = end;
        }
        (compress(&self.data), compress(&lens))
    }

    /// Decodes a block of `count` items whose data is `data_len` bytes.
    pub fn decode(
        items: &[u8],
        lens: &[u8],
        count: usize,
        data_len: usize,
    ) -> Result<ItemBlock, String> {
        let data = zstd::bulk::decompress(items, data_len).map_err(|e| format!("items: {e}"))?;
        if data.len() != data_len {
            return Err(format!("items: {} bytes, want {data_len}", data.len()));
        }
        let raw_lens =
            zstd::bulk::decompress(lens, count * 10).map_err(|e| format!("lens: {e}"))?;
        let mut ends = Vec::with_capacity(count);
        let mut rest = raw_lens.as_slice();
        let mut end = 0u64;
        for _ in 0..count {
            let (len, tail) = varint::get_uvarint(rest).ok_or("lens: truncated")?;
            end += len;
            ends.push(u32::try_from(end).map_err(|_| "lens: overflow")?);
            rest = tail;
        }
        if end != data_len as u64 || !rest.is_empty() {
            return Err("lens: do not add up to the data".into());
        }
        let block = ItemBlock { data, ends };
        for i in 1..block.len() {
            if block.get(i - 1) >= block.get(i) {
                return Err("items not strictly ascending".into());
            }
        }
        Ok(block)
    }
}

fn compress(raw: &[u8]) -> Vec<u8> {
    match zstd::bulk::compress(raw, ZSTD_LEVEL) {
        Ok(compressed) => compressed,
        Err(error) => panic!("BUG: zstd refused an in-memory buffer: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_search() {
        let mut block = ItemBlock::default();
        for item in [&b""[..], b"a", b"ab", b"b\x00", b"zz"] {
            block.push(item);
        }
        let (items, lens) = block.encode();
        let back = ItemBlock::decode(&items, &lens, block.len(), block.data_len()).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.get(2), Some(&b"ab"[..]));
        assert_eq!(back.lower_bound(b"aa"), 2);
        assert_eq!(back.lower_bound(b"zzz"), 5);
        assert_eq!(back.lower_bound(b""), 0);
        assert!(ItemBlock::decode(&items, &lens, 4, block.data_len()).is_err());
    }
}
