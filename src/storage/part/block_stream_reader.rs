//! Reads a part's blocks in header order (TSID, then time) through large sequential DMA reads,
//! for merges: memory stays bounded by the read window and one index block, whatever the part's
//! size. Index blocks are read directly, not through the query cache, which a merge would flush.

use std::io;
use std::rc::Rc;

use super::block_header::BlockHeader;
use super::index_block_cache::IndexBlock;
use super::Part;
use crate::storage::encoding::BlockDecoder;

/// Bytes read from each column file at a time.
const READ_WINDOW_BYTES: u64 = 4 * 1024 * 1024;

/// One decoded block.
#[derive(Debug, Default)]
pub struct DecodedBlock {
    /// Its header.
    pub header: Option<BlockHeader>,
    /// Timestamps, ascending.
    pub timestamps: Vec<i64>,
    /// Values.
    pub values: Vec<f64>,
}

/// A cursor over one part's blocks.
pub struct BlockStreamReader {
    part: Rc<Part>,
    /// The index block being read and the next one to load.
    headers: IndexBlock,
    next_index_block: usize,
    /// Position of the next block's header in `headers`.
    next: usize,
    timestamps_window: Window,
    values_window: Window,
    decoder: BlockDecoder,
}

#[derive(Default)]
struct Window {
    start: u64,
    bytes: Vec<u8>,
}

impl Window {
    fn slice(&self, offset: u64, size: u32) -> Option<&[u8]> {
        let from = usize::try_from(offset.checked_sub(self.start)?).ok()?;
        self.bytes.get(from..from + size as usize)
    }
}

impl BlockStreamReader {
    /// A reader positioned at the part's first block.
    pub async fn new(part: Rc<Part>) -> io::Result<Self> {
        let mut reader = BlockStreamReader {
            part,
            headers: Rc::from(Vec::new()),
            next_index_block: 0,
            next: 0,
            timestamps_window: Window::default(),
            values_window: Window::default(),
            decoder: BlockDecoder::new(),
        };
        reader.load_headers().await?;
        Ok(reader)
    }

    /// Loads index blocks until one has a header left (or the part ends).
    async fn load_headers(&mut self) -> io::Result<()> {
        while self.next >= self.headers.len() && self.next_index_block < self.part.index_blocks() {
            self.headers = self.part.index_block(self.next_index_block, None).await?;
            self.next_index_block += 1;
            self.next = 0;
        }
        Ok(())
    }

    /// The header of the block `next_block` would return.
    pub fn peek(&self) -> Option<&BlockHeader> {
        self.headers.get(self.next)
    }

    /// Decodes the next block into `out`; false at the end.
    pub async fn next_block(&mut self, out: &mut DecodedBlock) -> io::Result<bool> {
        let Some(&header) = self.headers.get(self.next) else {
            return Ok(false);
        };
        self.next += 1;
        self.load_headers().await?;
        if self
            .timestamps_window
            .slice(header.timestamps_offset, header.timestamps_size)
            .is_none()
        {
            self.timestamps_window = self
                .load(true, header.timestamps_offset, header.timestamps_size)
                .await?;
        }
        if self
            .values_window
            .slice(header.values_offset, header.values_size)
            .is_none()
        {
            self.values_window = self
                .load(false, header.values_offset, header.values_size)
                .await?;
        }
        let timestamps = self
            .timestamps_window
            .slice(header.timestamps_offset, header.timestamps_size);
        let values = self
            .values_window
            .slice(header.values_offset, header.values_size);
        let (Some(timestamps), Some(values)) = (timestamps, values) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("part {}: short read", self.part.dir.display()),
            ));
        };
        self.decoder
            .decode(
                &header.encoding,
                header.rows as usize,
                timestamps,
                values,
                &mut out.timestamps,
                &mut out.values,
            )
            .map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("part {}: {e}", self.part.dir.display()),
                )
            })?;
        out.header = Some(header);
        Ok(true)
    }

    async fn load(&self, timestamps: bool, offset: u64, size: u32) -> io::Result<Window> {
        let length = READ_WINDOW_BYTES.max(u64::from(size));
        let bytes = self
            .part
            .read_column(timestamps, offset, offset + length)
            .await?;
        Ok(Window {
            start: offset,
            bytes,
        })
    }
}
