//! The mergeset: a sorted set of byte strings ("items") stored like the data, in immutable
//! parts merged in the background (DESIGN.md "Index"). The series index is built on it.

pub mod block_cache;
pub mod block_header;
pub mod codec;
pub mod inmemory_part;
pub mod item_block;
pub mod merge_picker;
pub mod metaindex_row;
pub mod part;
pub mod part_cursor;
pub mod part_writer;
pub mod table;

#[cfg(test)]
mod table_tests;

pub use table::{Table, TableOptions, TableStats};
