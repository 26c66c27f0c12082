//! One record on disk: an 8-byte header (payload length, checksum) followed by the payload.
//!
//! ```text
//! offset  size  field
//! 0       4     len       payload length in bytes, u32 little-endian
//! 4       4     checksum  low 32 bits of xxh3_64(payload, seed = len), u32 little-endian
//! 8       len   payload   opaque bytes
//! ```
//!
//! Seeding the hash with the length makes a damaged length field fail the checksum even when
//! the shorter or longer payload happens to be readable. An all-zero header never belongs to a
//! record (the checksum of an empty payload is not zero, pinned below): it marks the zero padding
//! after the last record of a segment.
#![deny(clippy::indexing_slicing)]

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::error::Damage;

/// Bytes of a record header.
pub const RECORD_HEADER_BYTES: usize = 8;

/// The checksum stored in a header.
pub fn checksum(payload: &[u8]) -> u32 {
    let seed = payload.len() as u64;
    // Truncation to 32 bits is the format: 2^-32 odds that a damaged record passes.
    xxh3_64_with_seed(payload, seed) as u32
}

/// Appends the encoded record to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    let len =
        u32::try_from(payload.len()).expect("record length is checked against the segment size");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What starts at some offset of a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A complete, intact record of `RECORD_HEADER_BYTES + payload.len()` bytes.
    Record(&'a [u8]),
    /// The end of the data: nothing left, or only zero bytes.
    End,
    /// Neither a record nor padding.
    Damaged(Damage),
}

/// Decodes the record at the start of `src` (the rest of a segment).
pub fn decode(src: &[u8]) -> Decoded<'_> {
    let Some((header, rest)) = src.split_first_chunk::<RECORD_HEADER_BYTES>() else {
        return if all_zero(src) {
            Decoded::End
        } else {
            Decoded::Damaged(Damage::TruncatedHeader)
        };
    };
    if all_zero(header) {
        return if all_zero(rest) {
            Decoded::End
        } else {
            Decoded::Damaged(Damage::DataAfterPadding)
        };
    }
    let (len_bytes, sum_bytes) = header.split_at(4);
    let len = u32::from_le_bytes(len_bytes.try_into().unwrap_or_default());
    let stored = u32::from_le_bytes(sum_bytes.try_into().unwrap_or_default());
    let Some(payload) = rest.get(..len as usize) else {
        return Decoded::Damaged(Damage::TruncatedPayload { len });
    };
    let computed = checksum(payload);
    if computed != stored {
        return Decoded::Damaged(Damage::ChecksumMismatch { stored, computed });
    }
    Decoded::Record(payload)
}

/// Whether every byte is zero.
pub fn all_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_size_and_golden_bytes_are_pinned() {
        assert_eq!(RECORD_HEADER_BYTES, 8);
        let mut out = Vec::new();
        encode(b"abc", &mut out);
        let sum = checksum(b"abc").to_le_bytes();
        let mut want = vec![3, 0, 0, 0];
        want.extend_from_slice(&sum);
        want.extend_from_slice(b"abc");
        assert_eq!(out, want);
        // The checksum function itself is part of the format.
        assert_eq!(
            checksum(b"abc"),
            0x6bcc_efa0_u32,
            "got {:#x}",
            checksum(b"abc")
        );
        assert_ne!(
            checksum(b""),
            0,
            "an empty record must not look like padding"
        );
    }

    #[test]
    fn decodes_records_padding_and_damage() {
        let mut segment = Vec::new();
        encode(b"hello", &mut segment);
        encode(b"", &mut segment);
        let first_len = RECORD_HEADER_BYTES + 5;
        assert_eq!(decode(&segment), Decoded::Record(b"hello"));
        assert_eq!(decode(&segment[first_len..]), Decoded::Record(b""));
        assert_eq!(decode(&[]), Decoded::End);
        assert_eq!(decode(&[0; 100]), Decoded::End);
        assert_eq!(decode(&[0; 5]), Decoded::End);
        assert_eq!(decode(&[1, 0]), Decoded::Damaged(Damage::TruncatedHeader));
        let mut after_padding = vec![0; 20];
        after_padding[15] = 1;
        assert_eq!(
            decode(&after_padding),
            Decoded::Damaged(Damage::DataAfterPadding)
        );
        assert_eq!(
            decode(&segment[..first_len - 1]),
            Decoded::Damaged(Damage::TruncatedPayload { len: 5 })
        );
        let mut flipped = segment.clone();
        flipped[RECORD_HEADER_BYTES] ^= 1;
        assert!(matches!(
            decode(&flipped),
            Decoded::Damaged(Damage::ChecksumMismatch { .. })
        ));
        // A shorter length is caught by the checksum, not read as a shorter record.
        let mut shorter = segment.clone();
        shorter[0] = 4;
        assert!(matches!(
            decode(&shorter),
            Decoded::Damaged(Damage::ChecksumMismatch { .. })
        ));
    }
}
