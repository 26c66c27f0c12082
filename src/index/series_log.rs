//! The persisted list of a shard's series: append-only files under `indexdb/`.
//!
//! Each flush that registered new series writes one file `series-<seq>.bin`
//! (durably, before the data parts that reference those series commit):
//!
//! ```text
//! magic "STSL" | u32 version | u64 count | zstd(record*) | u64 xxh3 of everything before
//! record = tsid (24 B) | uvarint(len) canonical labels
//! ```
//!
//! zstd shrinks the label text about 8x: series of one target share most of it.
//!
//! ```text
//! ```
//!
//! This is the simple index of the server issue; the mergeset index replaces it.

use std::path::Path;

use super::tsid::Tsid;
use crate::encoding::varint;

const MAGIC: &[u8; 4] = b"STSL";
const VERSION: u32 = 2;
/// zstd level of the records: written once per flush, read once per start.
const ZSTD_LEVEL: i32 = 3;
const HEADER_SIZE: usize = 16;
const CHECKSUM_SIZE: usize = 8;

/// One series as stored in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRecord {
    /// Its storage id.
    pub tsid: Tsid,
    /// Its canonical label encoding.
    pub canonical: Vec<u8>,
}

/// Encodes a series log file.
pub fn encode<'a>(records: impl ExactSizeIterator<Item = (Tsid, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&(records.len() as u64).to_be_bytes());
    let mut raw = Vec::new();
    for (tsid, canonical) in records {
        tsid.encode(&mut raw);
        varint::put_uvarint(&mut raw, canonical.len() as u64);
        raw.extend_from_slice(canonical);
    }
    match zstd::bulk::compress(&raw, ZSTD_LEVEL) {
        Ok(compressed) => out.extend_from_slice(&compressed),
        Err(error) => panic!("BUG: zstd refused an in-memory buffer: {error}"),
    }
    let checksum = xxhash_rust::xxh3::xxh3_64(&out);
    out.extend_from_slice(&checksum.to_be_bytes());
    out
}

/// Decodes a series log file; `path` only names the file in errors.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Vec<SeriesRecord>, String> {
    let corrupt = |what: &str| format!("series log {} is corrupt: {what}", path.display());
    if bytes.len() < HEADER_SIZE + CHECKSUM_SIZE {
        return Err(corrupt("too short"));
    }
    let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_SIZE);
    let want = u64::from_be_bytes(checksum.try_into().map_err(|_| corrupt("checksum"))?);
    if xxhash_rust::xxh3::xxh3_64(body) != want {
        return Err(corrupt("checksum mismatch"));
    }
    let (header, compressed) = body.split_at(HEADER_SIZE);
    if header.get(..4) != Some(&MAGIC[..]) {
        return Err(corrupt("bad magic"));
    }
    let version = header
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes);
    if version != Some(VERSION) {
        return Err(corrupt("unknown version"));
    }
    let count = header
        .get(8..16)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt("count"))?;
    let raw = zstd::stream::decode_all(compressed).map_err(|e| corrupt(&format!("zstd: {e}")))?;
    let mut rest = raw.as_slice();
    let mut records = Vec::with_capacity(count.min(1 << 20) as usize);
    for _ in 0..count {
        let (tsid, tail) = Tsid::decode(rest).ok_or_else(|| corrupt("truncated tsid"))?;
        let (len, tail) = varint::get_uvarint(tail).ok_or_else(|| corrupt("truncated length"))?;
        let len = usize::try_from(len).map_err(|_| corrupt("length"))?;
        if tail.len() < len {
            return Err(corrupt("truncated labels"));
        }
        let (canonical, tail) = tail.split_at(len);
        records.push(SeriesRecord {
            tsid,
            canonical: canonical.to_vec(),
        });
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let tsid = Tsid {
            metric_group_id: 9,
            job_id: 1,
            instance_id: 2,
            metric_id: 3,
        };
        let labels = crate::model::Labels::from_pairs([("__name__", "up")]).to_canonical();
        let bytes = encode([(tsid, labels.as_slice())].into_iter());
        let path = Path::new("x");
        let records = decode(path, &bytes).unwrap();
        assert_eq!(
            records,
            vec![SeriesRecord {
                tsid,
                canonical: labels
            }]
        );
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert!(decode(path, &bad).is_err(), "flip at {i}");
        }
        assert!(decode(path, &bytes[..bytes.len() - 1]).is_err());
    }
}
