//! Byte-level encodings shared by the wire, the index and the storage formats.

pub mod varint;
