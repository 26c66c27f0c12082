//! A cursor over one part (in memory or on disk), and a cursor over a table's parts merged.

use std::io;
use std::rc::Rc;

use super::block_header::BlockHeader;
use super::item_block::ItemBlock;
use super::part::FilePart;

/// A position in one sorted part.
pub enum PartCursor {
    /// Over an in-memory part.
    Memory {
        /// The part.
        part: Rc<ItemBlock>,
        /// Current item.
        pos: usize,
    },
    /// Over a part on disk, one block at a time.
    File(FileCursor),
}

/// A position in a part on disk.
pub struct FileCursor {
    part: Rc<FilePart>,
    /// Whether blocks go through the caches (searches) or not (merges read each block once).
    cached: bool,
    row: usize,
    headers: Rc<Vec<BlockHeader>>,
    header: usize,
    block: Rc<ItemBlock>,
    pos: usize,
}

impl FileCursor {
    fn new(part: Rc<FilePart>, cached: bool) -> Self {
        FileCursor {
            part,
            cached,
            row: usize::MAX,
            headers: Rc::default(),
            header: 0,
            block: Rc::default(),
            pos: 0,
        }
    }

    fn current(&self) -> Option<&[u8]> {
        self.block.get(self.pos)
    }

    async fn load_row(&mut self, row: usize) -> io::Result<()> {
        self.row = row;
        self.header = 0;
        self.pos = 0;
        self.block = Rc::default();
        if row >= self.part.metaindex().len() {
            self.headers = Rc::default();
            return Ok(());
        }
        self.headers = self.part.index_block(row, self.cached).await?;
        Ok(())
    }

    async fn load_block(&mut self, header: usize) -> io::Result<()> {
        self.header = header;
        self.pos = 0;
        self.block = match self.headers.get(header) {
            Some(h) => self.part.item_block(h, self.cached).await?,
            None => Rc::default(),
        };
        Ok(())
    }

    /// Moves to the next non-empty block after the current one (or past the end).
    async fn next_block(&mut self) -> io::Result<()> {
        loop {
            if self.header + 1 < self.headers.len() {
                let next = self.header + 1;
                self.load_block(next).await?;
            } else if self.row.wrapping_add(1) < self.part.metaindex().len() {
                let next = self.row.wrapping_add(1);
                self.load_row(next).await?;
                self.load_block(0).await?;
            } else {
                self.row = self.part.metaindex().len();
                self.block = Rc::default();
                return Ok(());
            }
            if !self.block.is_empty() {
                return Ok(());
            }
        }
    }

    async fn seek(&mut self, key: &[u8]) -> io::Result<()> {
        let rows = self.part.metaindex();
        let row = rows
            .partition_point(|r| r.first_item.as_slice() <= key)
            .saturating_sub(1);
        if row != self.row {
            self.load_row(row).await?;
        }
        let header = self
            .headers
            .partition_point(|h| h.first_item.as_slice() <= key)
            .saturating_sub(1);
        if header != self.header || self.block.is_empty() {
            self.load_block(header).await?;
        }
        self.pos = self.block.lower_bound(key);
        if self.pos >= self.block.len() {
            self.next_block().await?;
        }
        Ok(())
    }

    async fn next(&mut self) -> io::Result<()> {
        self.pos += 1;
        if self.pos >= self.block.len() {
            self.next_block().await?;
        }
        Ok(())
    }
}

impl PartCursor {
    /// A cursor over an in-memory part, before its first item (call `seek`).
    pub fn memory(part: Rc<ItemBlock>) -> Self {
        PartCursor::Memory { part, pos: 0 }
    }

    /// A cursor over a part on disk (call `seek` first).
    pub fn file(part: Rc<FilePart>, cached: bool) -> Self {
        PartCursor::File(FileCursor::new(part, cached))
    }

    /// The item under the cursor; `None` past the end.
    pub fn current(&self) -> Option<&[u8]> {
        match self {
            PartCursor::Memory { part, pos } => part.get(*pos),
            PartCursor::File(cursor) => cursor.current(),
        }
    }

    /// Moves to the first item `>= key`.
    pub async fn seek(&mut self, key: &[u8]) -> io::Result<()> {
        match self {
            PartCursor::Memory { part, pos } => {
                *pos = part.lower_bound(key);
                Ok(())
            }
            PartCursor::File(cursor) => cursor.seek(key).await,
        }
    }

    /// Moves to the next item.
    pub async fn next(&mut self) -> io::Result<()> {
        match self {
            PartCursor::Memory { pos, .. } => {
                *pos += 1;
                Ok(())
            }
            PartCursor::File(cursor) => cursor.next().await,
        }
    }
}

/// A cursor over several parts at once: their union in ascending order, without duplicates.
pub struct MergedCursor {
    cursors: Vec<PartCursor>,
    /// Which cursor holds the smallest current item.
    smallest: Option<usize>,
    /// Scratch: cursors holding the current item.
    equal: Vec<usize>,
}

impl MergedCursor {
    /// A cursor over `cursors` (call `seek` first).
    pub fn new(cursors: Vec<PartCursor>) -> Self {
        MergedCursor {
            cursors,
            smallest: None,
            equal: Vec::new(),
        }
    }

    fn pick(&mut self) {
        let mut best: Option<(usize, &[u8])> = None;
        for (i, cursor) in self.cursors.iter().enumerate() {
            if let Some(item) = cursor.current() {
                if best.is_none_or(|(_, b)| item < b) {
                    best = Some((i, item));
                }
            }
        }
        self.smallest = best.map(|(i, _)| i);
    }

    /// The current item; `None` past the end.
    pub fn current(&self) -> Option<&[u8]> {
        self.cursors.get(self.smallest?)?.current()
    }

    /// Moves every part to its first item `>= key`.
    pub async fn seek(&mut self, key: &[u8]) -> io::Result<()> {
        for cursor in &mut self.cursors {
            cursor.seek(key).await?;
        }
        self.pick();
        Ok(())
    }

    /// Moves past the current item (in every part holding it).
    pub async fn next(&mut self) -> io::Result<()> {
        let mut equal = std::mem::take(&mut self.equal);
        equal.clear();
        let Some(current) = self.current() else {
            self.equal = equal;
            return Ok(());
        };
        equal.extend(
            self.cursors
                .iter()
                .enumerate()
                .filter(|(_, c)| c.current() == Some(current))
                .map(|(i, _)| i),
        );
        for &i in &equal {
            if let Some(cursor) = self.cursors.get_mut(i) {
                cursor.next().await?;
            }
        }
        self.equal = equal;
        self.pick();
        Ok(())
    }
}
