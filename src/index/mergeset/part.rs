//! A mergeset part on disk: an immutable sorted run of items.
//!
//! ```text
//! <indexdb>/<part id hex>/metadata.json   items, blocks
//! <indexdb>/<part id hex>/metaindex.bin   zstd(metaindex rows): read whole at open, kept in memory
//! <indexdb>/<part id hex>/index.bin       zstd blocks of block headers, read through the index-block cache
//! <indexdb>/<part id hex>/items.bin       zstd item data per block, read through the item-block cache
//! <indexdb>/<part id hex>/lens.bin        zstd varint item lengths per block
//! ```
//!
//! Files are read with glommio DMA, clamped to the file size (notes/GLOMMIO.md gotcha 2).

use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::DmaFile;

use super::block_cache::BlockCache;
use super::block_header::BlockHeader;
use super::item_block::ItemBlock;
use super::metaindex_row::MetaindexRow;
use super::part_writer::{PartFiles, PartMetadata};
use crate::storage::fs;

/// Summary file name.
pub const METADATA_FILE: &str = "metadata.json";
/// Metaindex file name.
pub const METAINDEX_FILE: &str = "metaindex.bin";
/// Index file name.
pub const INDEX_FILE: &str = "index.bin";
/// Item data file name.
pub const ITEMS_FILE: &str = "items.bin";
/// Item lengths file name.
pub const LENS_FILE: &str = "lens.bin";

/// The caches every part of a table reads through.
pub struct PartCaches {
    /// Decoded index blocks.
    pub index_blocks: BlockCache<Vec<BlockHeader>>,
    /// Decoded item blocks.
    pub item_blocks: BlockCache<ItemBlock>,
}

/// An opened part.
pub struct FilePart {
    /// Its id (the directory name, hex).
    pub id: u64,
    /// Its directory.
    pub dir: PathBuf,
    /// Its summary.
    pub metadata: PartMetadata,
    metaindex: Vec<MetaindexRow>,
    index: SizedFile,
    items: SizedFile,
    lens: SizedFile,
    caches: Rc<PartCaches>,
}

struct SizedFile {
    file: DmaFile,
    size: u64,
}

impl SizedFile {
    async fn open(path: &Path) -> io::Result<SizedFile> {
        let file = DmaFile::open(path)
            .await
            .map_err(|e| fs::with_path(e.into(), "open", path))?;
        let size = file
            .file_size()
            .await
            .map_err(|e| fs::with_path(e.into(), "stat", path))?;
        Ok(SizedFile { file, size })
    }

    /// Reads `len` bytes at `offset`, refusing ranges past the end (glommio returns stale bytes there).
    async fn read(&self, offset: u64, len: u32) -> io::Result<Vec<u8>> {
        let end = offset.saturating_add(u64::from(len));
        if end > self.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "block beyond the end of its file",
            ));
        }
        if len == 0 {
            return Ok(Vec::new());
        }
        let buffer = self
            .file
            .read_at(offset, len as usize)
            .await
            .map_err(io::Error::from)?;
        let got = buffer
            .get(..len as usize)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "short read of a block"))?;
        Ok(got.to_vec())
    }

    async fn close(self) {
        let _ = self.file.close().await;
    }
}

impl FilePart {
    /// Writes a part's files into `dir` (which must not exist) durably: files fdatasynced, then the directory.
    pub async fn write(files: &PartFiles, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir).await?;
        fs::write_file(&dir.join(ITEMS_FILE), &files.items).await?;
        fs::write_file(&dir.join(LENS_FILE), &files.lens).await?;
        fs::write_file(&dir.join(INDEX_FILE), &files.index).await?;
        fs::write_file(&dir.join(METAINDEX_FILE), &files.metaindex).await?;
        let json = serde_json::to_vec(&files.metadata).map_err(io::Error::other)?;
        fs::write_file(&dir.join(METADATA_FILE), &json).await?;
        fs::sync_dir(dir).await
    }

    /// Opens a committed part: reads its summary and metaindex; blocks are read on demand.
    pub async fn open(id: u64, dir: &Path, caches: Rc<PartCaches>) -> io::Result<FilePart> {
        let corrupt = |what: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("index part {} is corrupt: {what}", dir.display()),
            )
        };
        let metadata_bytes = fs::read_small_file(&dir.join(METADATA_FILE))
            .await?
            .ok_or_else(|| corrupt("metadata.json missing".into()))?;
        let metadata: PartMetadata =
            serde_json::from_slice(&metadata_bytes).map_err(|e| corrupt(e.to_string()))?;
        let metaindex_bytes = fs::read_small_file(&dir.join(METAINDEX_FILE))
            .await?
            .ok_or_else(|| corrupt("metaindex.bin missing".into()))?;
        let raw = zstd::stream::decode_all(metaindex_bytes.as_slice())
            .map_err(|e| corrupt(format!("metaindex: {e}")))?;
        let mut metaindex = Vec::new();
        let mut rest = raw.as_slice();
        while !rest.is_empty() {
            let (row, tail) = MetaindexRow::decode(rest).map_err(corrupt)?;
            metaindex.push(row);
            rest = tail;
        }
        let headers: u64 = metaindex.iter().map(|r| u64::from(r.headers)).sum();
        if headers != metadata.blocks {
            return Err(corrupt(format!(
                "{headers} block headers, metadata says {}",
                metadata.blocks
            )));
        }
        Ok(FilePart {
            id,
            dir: dir.to_path_buf(),
            metadata,
            metaindex,
            index: SizedFile::open(&dir.join(INDEX_FILE)).await?,
            items: SizedFile::open(&dir.join(ITEMS_FILE)).await?,
            lens: SizedFile::open(&dir.join(LENS_FILE)).await?,
            caches,
        })
    }

    /// Closes the files and forgets the part's cached blocks.
    pub async fn close(self) {
        self.caches.index_blocks.remove_part(self.id);
        self.caches.item_blocks.remove_part(self.id);
        self.index.close().await;
        self.items.close().await;
        self.lens.close().await;
    }

    /// The in-memory metaindex.
    pub fn metaindex(&self) -> &[MetaindexRow] {
        &self.metaindex
    }

    /// Bytes of the metaindex held in memory.
    pub fn metaindex_bytes(&self) -> usize {
        self.metaindex
            .iter()
            .map(|r| r.first_item.capacity() + std::mem::size_of::<MetaindexRow>())
            .sum()
    }

    fn corrupt(&self, what: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("index part {} is corrupt: {what}", self.dir.display()),
        )
    }

    /// The block headers of metaindex row `row`.
    pub async fn index_block(&self, row: usize, cached: bool) -> io::Result<Rc<Vec<BlockHeader>>> {
        let meta = self
            .metaindex
            .get(row)
            .ok_or_else(|| self.corrupt("metaindex row out of range"))?;
        let key = (self.id, meta.index_offset);
        if cached {
            if let Some(block) = self.caches.index_blocks.get(key) {
                return Ok(block);
            }
        }
        let compressed = self.index.read(meta.index_offset, meta.index_size).await?;
        let raw = zstd::bulk::decompress(&compressed, meta.index_len as usize)
            .map_err(|e| self.corrupt(&format!("index block: {e}")))?;
        let mut headers = Vec::with_capacity(meta.headers as usize);
        let mut rest = raw.as_slice();
        while !rest.is_empty() {
            let (header, tail) = BlockHeader::decode(rest).map_err(|e| self.corrupt(&e))?;
            headers.push(header);
            rest = tail;
        }
        if headers.len() != meta.headers as usize {
            return Err(self.corrupt("index block header count"));
        }
        let bytes = raw.len() + headers.len() * std::mem::size_of::<BlockHeader>();
        let block = Rc::new(headers);
        if cached {
            self.caches.index_blocks.insert(key, block.clone(), bytes);
        }
        Ok(block)
    }

    /// The items of the block `header` describes.
    pub async fn item_block(
        &self,
        header: &BlockHeader,
        cached: bool,
    ) -> io::Result<Rc<ItemBlock>> {
        let key = (self.id, header.items_offset);
        if cached {
            if let Some(block) = self.caches.item_blocks.get(key) {
                return Ok(block);
            }
        }
        let items = self
            .items
            .read(header.items_offset, header.items_size)
            .await?;
        let lens = self.lens.read(header.lens_offset, header.lens_size).await?;
        let block = ItemBlock::decode(
            &items,
            &lens,
            header.items as usize,
            header.data_len as usize,
        )
        .map_err(|e| self.corrupt(&e))?;
        let bytes = block.heap_bytes();
        let block = Rc::new(block);
        if cached {
            self.caches.item_blocks.insert(key, block.clone(), bytes);
        }
        Ok(block)
    }
}
