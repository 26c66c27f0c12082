//! The series index's items: one prefix byte per kind, then fields whose byte order is the
//! order searches need. Integers are big-endian; label names and values are escaped (0x00 →
//! 0x01 0x01, 0x01 → 0x01 0x02) and end with 0x00, so a pair is a prefix of every item about
//! it, a name is a prefix of every pair with it, and escaping keeps byte order.
//!
//! ```text
//! NAME_TO_TSID      0 | uvarint len | canonical labels | tsid (24)
//! TAG_TO_METRIC_IDS 1 | name 0 | value 0 | metric id (8) ...
//! METRIC_ID_TO_TSID 2 | metric id | tsid
//! METRIC_ID_TO_NAME 3 | metric id | canonical labels
//! DELETED_METRIC_ID 4 | metric id
//! DAY_TO_METRIC_ID  5 | day (4) | metric id
//! DAY_TAG_TO_IDS    6 | day (4) | name 0 | value 0 | metric id ...
//! ```
//!
//! An item carries one metric id when written; a tag item may carry several (the reader takes
//! every 8-byte id after the value), which is what lets merges pack them.

use super::tsid::{Tsid, TSID_SIZE};
use crate::encoding::varint;

/// name → TSID.
pub const NAME_TO_TSID: u8 = 0;
/// label pair → metric ids.
pub const TAG_TO_METRIC_IDS: u8 = 1;
/// metric id → TSID.
pub const METRIC_ID_TO_TSID: u8 = 2;
/// metric id → canonical labels.
pub const METRIC_ID_TO_NAME: u8 = 3;
/// deleted metric id.
pub const DELETED_METRIC_ID: u8 = 4;
/// day → metric id.
pub const DAY_TO_METRIC_ID: u8 = 5;
/// (day, label pair) → metric ids.
pub const DAY_TAG_TO_METRIC_IDS: u8 = 6;

/// Milliseconds per day.
pub const DAY_MS: i64 = 86_400_000;

/// The day (since the epoch) of a timestamp, clamped to u32.
pub fn day_of(timestamp_ms: i64) -> u32 {
    timestamp_ms
        .div_euclid(DAY_MS)
        .clamp(0, i64::from(u32::MAX)) as u32
}

/// Appends `bytes` escaped and terminated.
pub fn put_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    put_escaped_open(out, bytes);
    out.push(0);
}

/// Appends `bytes` escaped, without the terminator (for prefix searches).
pub fn put_escaped_open(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            0 => out.extend_from_slice(&[1, 1]),
            1 => out.extend_from_slice(&[1, 2]),
            _ => out.push(b),
        }
    }
}

/// Reads an escaped, terminated string; returns it and the tail.
pub fn get_escaped(src: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = src.get(i) {
        match b {
            0 => return Some((out, src.get(i + 1..)?)),
            1 => {
                out.push(src.get(i + 1)?.checked_sub(1)?);
                i += 2;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// Prefix of the tag items of `name` (global when `day` is `None`).
pub fn tag_name_prefix(out: &mut Vec<u8>, day: Option<u32>, name: &[u8]) {
    out.clear();
    match day {
        None => out.push(TAG_TO_METRIC_IDS),
        Some(day) => {
            out.push(DAY_TAG_TO_METRIC_IDS);
            out.extend_from_slice(&day.to_be_bytes());
        }
    }
    put_escaped(out, name);
}

/// Prefix of the tag items of one pair.
pub fn tag_pair_prefix(out: &mut Vec<u8>, day: Option<u32>, name: &[u8], value: &[u8]) {
    tag_name_prefix(out, day, name);
    put_escaped(out, value);
}

/// The item for a pair and one metric id.
pub fn tag_item(out: &mut Vec<u8>, day: Option<u32>, name: &[u8], value: &[u8], metric_id: u64) {
    tag_pair_prefix(out, day, name, value);
    out.extend_from_slice(&metric_id.to_be_bytes());
}

/// Splits a tag item after its kind (and day) prefix: (name, value, packed metric ids).
pub fn parse_tag(after_kind: &[u8]) -> Option<(Vec<u8>, Vec<u8>, &[u8])> {
    let (name, rest) = get_escaped(after_kind)?;
    let (value, ids) = get_escaped(rest)?;
    Some((name, value, ids))
}

/// The metric ids packed in a tag item's tail.
pub fn metric_ids(packed: &[u8]) -> impl Iterator<Item = u64> + '_ {
    packed
        .chunks_exact(8)
        .filter_map(|c| c.try_into().ok().map(u64::from_be_bytes))
}

/// Prefix of the name→TSID items of a series.
pub fn name_prefix(out: &mut Vec<u8>, canonical: &[u8]) {
    out.clear();
    out.push(NAME_TO_TSID);
    varint::put_uvarint(out, canonical.len() as u64);
    out.extend_from_slice(canonical);
}

/// The TSID at the end of a name→TSID item.
pub fn tsid_after(prefix_len: usize, item: &[u8]) -> Option<Tsid> {
    let tail = item.get(prefix_len..)?;
    if tail.len() != TSID_SIZE {
        return None;
    }
    Tsid::decode(tail).map(|(tsid, _)| tsid)
}

/// `kind | metric id`, the prefix of the per-metric-id items.
pub fn metric_id_prefix(out: &mut Vec<u8>, kind: u8, metric_id: u64) {
    out.clear();
    out.push(kind);
    out.extend_from_slice(&metric_id.to_be_bytes());
}

/// `DAY_TO_METRIC_ID | day`.
pub fn day_prefix(out: &mut Vec<u8>, day: u32) {
    out.clear();
    out.push(DAY_TO_METRIC_ID);
    out.extend_from_slice(&day.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_and_keeps_order() {
        let values: Vec<&[u8]> = vec![
            b"",
            b"\x00",
            b"\x00\x00",
            b"\x01",
            b"\x01a",
            b"\x02",
            b"a",
            b"a\x00",
            b"ab",
        ];
        let mut encoded = Vec::new();
        for v in &values {
            let mut out = Vec::new();
            put_escaped(&mut out, v);
            let (back, rest) = get_escaped(&out).unwrap();
            assert_eq!(&back, v);
            assert!(rest.is_empty());
            encoded.push(out);
        }
        let mut sorted = encoded.clone();
        sorted.sort();
        assert_eq!(sorted, encoded, "escaped order = raw order");
        let mut item = Vec::new();
        tag_item(&mut item, Some(3), b"job", b"a\x00b", 42);
        let (name, value, ids) = parse_tag(item.get(5..).unwrap()).unwrap();
        assert_eq!(
            (name.as_slice(), value.as_slice()),
            (&b"job"[..], &b"a\x00b"[..])
        );
        assert_eq!(metric_ids(ids).collect::<Vec<_>>(), vec![42]);
    }
}
