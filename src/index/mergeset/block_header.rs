//! The header of one item block, stored in `index.bin`.

use super::codec::{get_bytes, get_uvarint, put_bytes, put_uvarint};

/// Where one item block lives and what it starts with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockHeader {
    /// The block's smallest item: lookups binary-search these without touching the block.
    pub first_item: Vec<u8>,
    /// Number of items in the block.
    pub items: u32,
    /// Uncompressed bytes of item data (sizes the decompression buffer exactly).
    pub data_len: u32,
    /// Offset of the compressed item data in `items.bin`.
    pub items_offset: u64,
    /// Its compressed size.
    pub items_size: u32,
    /// Offset of the compressed lengths in `lens.bin`.
    pub lens_offset: u64,
    /// Their compressed size.
    pub lens_size: u32,
}

impl BlockHeader {
    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_bytes(out, &self.first_item);
        put_uvarint(out, u64::from(self.items));
        put_uvarint(out, u64::from(self.data_len));
        put_uvarint(out, self.items_offset);
        put_uvarint(out, u64::from(self.items_size));
        put_uvarint(out, self.lens_offset);
        put_uvarint(out, u64::from(self.lens_size));
    }

    /// Decodes one header; returns it and the tail.
    pub fn decode(src: &[u8]) -> Result<(BlockHeader, &[u8]), String> {
        let (first_item, rest) = get_bytes(src)?;
        let (items, rest) = get_uvarint(rest)?;
        let (data_len, rest) = get_uvarint(rest)?;
        let (items_offset, rest) = get_uvarint(rest)?;
        let (items_size, rest) = get_uvarint(rest)?;
        let (lens_offset, rest) = get_uvarint(rest)?;
        let (lens_size, rest) = get_uvarint(rest)?;
        let small =
            |v: u64| u32::try_from(v).map_err(|_| "block header field overflow".to_string());
        Ok((
            BlockHeader {
                first_item: first_item.to_vec(),
                items: small(items)?,
                data_len: small(data_len)?,
                items_offset,
                items_size: small(items_size)?,
                lens_offset,
                lens_size: small(lens_size)?,
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
        let header = BlockHeader {
            first_item: b"abc".to_vec(),
            items: 7,
            data_len: 70,
            items_offset: 1 << 40,
            items_size: 33,
            lens_offset: 5,
            lens_size: 9,
        };
        let mut out = Vec::new();
        header.encode(&mut out);
        out.push(0xff);
        let (back, rest) = BlockHeader::decode(&out).unwrap();
        assert_eq!(back, header);
        assert_eq!(rest, &[0xff]);
        assert!(BlockHeader::decode(&out[..3]).is_err());
    }
}
