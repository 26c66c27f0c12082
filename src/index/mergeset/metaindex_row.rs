//! A metaindex row: one per index block, all of them kept in memory while a part is open.

use super::codec::{get_bytes, get_uvarint, put_bytes, put_uvarint};

/// Where one index block (a run of block headers) lives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetaindexRow {
    /// First item of the first block the index block describes.
    pub first_item: Vec<u8>,
    /// Block headers in the index block.
    pub headers: u32,
    /// Offset of the compressed index block in `index.bin`.
    pub index_offset: u64,
    /// Its compressed size.
    pub index_size: u32,
    /// Its uncompressed size.
    pub index_len: u32,
}

impl MetaindexRow {
    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_bytes(out, &self.first_item);
        put_uvarint(out, u64::from(self.headers));
        put_uvarint(out, self.index_offset);
        put_uvarint(out, u64::from(self.index_size));
        put_uvarint(out, u64::from(self.index_len));
    }

    /// Decodes one row; returns it and the tail.
    pub fn decode(src: &[u8]) -> Result<(MetaindexRow, &[u8]), String> {
        let (first_item, rest) = get_bytes(src)?;
        let (headers, rest) = get_uvarint(rest)?;
        let (index_offset, rest) = get_uvarint(rest)?;
        let (index_size, rest) = get_uvarint(rest)?;
        let (index_len, rest) = get_uvarint(rest)?;
        let small = |v: u64| u32::try_from(v).map_err(|_| "metaindex field overflow".to_string());
        Ok((
            MetaindexRow {
                first_item: first_item.to_vec(),
                headers: small(headers)?,
                index_offset,
                index_size: small(index_size)?,
                index_len: small(index_len)?,
            },
            rest,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let row = MetaindexRow {
            first_item: vec![0, 1, 2],
            headers: 3,
            index_offset: 99,
            index_size: 10,
            index_len: 40,
        };
        let mut out = Vec::new();
        row.encode(&mut out);
        assert_eq!(MetaindexRow::decode(&out).unwrap(), (row, &[][..]));
        assert!(MetaindexRow::decode(&out[..2]).is_err());
    }
}
