//! Small helpers for the mergeset's binary formats: big-endian integers and length-prefixed bytes.

use crate::encoding::varint;

/// Appends `bytes` with a varint length in front.
pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    varint::put_uvarint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads length-prefixed bytes; returns them and the tail.
pub fn get_bytes(src: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let (len, rest) = varint::get_uvarint(src).ok_or("truncated length")?;
    let len = usize::try_from(len).map_err(|_| "length overflow")?;
    if rest.len() < len {
        return Err("truncated bytes".into());
    }
    Ok(rest.split_at(len))
}

/// Reads a varint; returns it and the tail.
pub fn get_uvarint(src: &[u8]) -> Result<(u64, &[u8]), String> {
    varint::get_uvarint(src).ok_or_else(|| "truncated varint".into())
}

/// Appends a varint.
pub fn put_uvarint(out: &mut Vec<u8>, value: u64) {
    varint::put_uvarint(out, value);
}

/// Reads a big-endian u64 at the start of `src`.
pub fn be_u64(src: &[u8]) -> Option<u64> {
    src.get(..8)?.try_into().ok().map(u64::from_be_bytes)
}
