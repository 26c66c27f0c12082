//! Builds the files of a part in memory from items given in ascending order.

use serde::{Deserialize, Serialize};

use super::block_header::BlockHeader;
use super::item_block::{ItemBlock, MAX_BLOCK_BYTES, ZSTD_LEVEL};
use super::metaindex_row::MetaindexRow;

/// Block headers per index block: one index block read (and cached) covers this many item blocks.
pub const HEADERS_PER_INDEX_BLOCK: usize = 128;

/// A part's summary, `metadata.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartMetadata {
    /// Items in the part.
    pub items: u64,
    /// Item blocks.
    pub blocks: u64,
}

/// The encoded files of a part.
#[derive(Debug, Default)]
pub struct PartFiles {
    /// Compressed item data, block after block.
    pub items: Vec<u8>,
    /// Compressed item lengths, block after block.
    pub lens: Vec<u8>,
    /// Compressed index blocks (block headers).
    pub index: Vec<u8>,
    /// Compressed metaindex rows.
    pub metaindex: Vec<u8>,
    /// The summary.
    pub metadata: PartMetadata,
}

/// Accumulates ascending items into blocks.
#[derive(Default)]
pub struct PartWriter {
    files: PartFiles,
    block: ItemBlock,
    last: Vec<u8>,
    headers: Vec<BlockHeader>,
    metaindex_raw: Vec<u8>,
}

impl PartWriter {
    /// A writer with no items.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an item; it must be greater than the previous one (equal ones are skipped).
    pub fn add(&mut self, item: &[u8]) {
        if self.files.metadata.items > 0 {
            match item.cmp(&self.last) {
                std::cmp::Ordering::Equal => return,
                std::cmp::Ordering::Less => {
                    panic!("BUG: mergeset items added out of order")
                }
                std::cmp::Ordering::Greater => {}
            }
        }
        if self.block.data_len() + item.len() > MAX_BLOCK_BYTES && !self.block.is_empty() {
            self.finish_block();
        }
        self.block.push(item);
        self.last.clear();
        self.last.extend_from_slice(item);
        self.files.metadata.items += 1;
    }

    /// Items added so far.
    pub fn items(&self) -> u64 {
        self.files.metadata.items
    }

    fn finish_block(&mut self) {
        if self.block.is_empty() {
            return;
        }
        let (items, lens) = self.block.encode();
        self.headers.push(BlockHeader {
            first_item: self.block.get(0).unwrap_or_default().to_vec(),
            items: self.block.len() as u32,
            data_len: self.block.data_len() as u32,
            items_offset: self.files.items.len() as u64,
            items_size: items.len() as u32,
            lens_offset: self.files.lens.len() as u64,
            lens_size: lens.len() as u32,
        });
        self.files.items.extend_from_slice(&items);
        self.files.lens.extend_from_slice(&lens);
        self.files.metadata.blocks += 1;
        self.block.clear();
        if self.headers.len() >= HEADERS_PER_INDEX_BLOCK {
            self.finish_index_block();
        }
    }

    fn finish_index_block(&mut self) {
        let Some(first) = self.headers.first() else {
            return;
        };
        let mut raw = Vec::new();
        for header in &self.headers {
            header.encode(&mut raw);
        }
        let compressed = compress(&raw);
        MetaindexRow {
            first_item: first.first_item.clone(),
            headers: self.headers.len() as u32,
            index_offset: self.files.index.len() as u64,
            index_size: compressed.len() as u32,
            index_len: raw.len() as u32,
        }
        .encode(&mut self.metaindex_raw);
        self.files.index.extend_from_slice(&compressed);
        self.headers.clear();
    }

    /// Finishes the last blocks and returns the files.
    pub fn finish(mut self) -> PartFiles {
        self.finish_block();
        self.finish_index_block();
        self.files.metaindex = compress(&self.metaindex_raw);
        self.files
    }
}

fn compress(raw: &[u8]) -> Vec<u8> {
    match zstd::bulk::compress(raw, ZSTD_LEVEL) {
        Ok(compressed) => compressed,
        Err(error) => panic!("BUG: zstd refused an in-memory buffer: {error}"),
    }
}
