//! The rows of a decimal values column that have no mantissa — stale markers,
//! other NaNs, ±Inf, -0.0, odd values — kept verbatim, so that one stale
//! marker does not push a whole block to the float fallback.
//!
//! ```text
//! +-----------------+   then per exception, in row order:
//! | uvarint count   |   +--------------+-----+----------------------------+
//! +-----------------+   | uvarint gap  | tag | 8 bytes BE if tag = 5 (raw) |
//!                       +--------------+-----+----------------------------+
//! gap: rows skipped since the previous exception (the first: its row index)
//! tag: 0 stale NaN 0x7ff0000000000002, 1 NaN 0x7ff8000000000000, 2 +Inf, 3 -Inf, 4 -0.0, 5 raw bits
//! ```

use super::decimal::Exception;
use super::error::{DecodeError, Section};
use crate::encoding::varint::{get_uvarint, put_uvarint};
use crate::model::STALE_NAN_BITS;

/// Bit patterns with a one-byte tag, indexed by tag.
const COMMON_BITS: [u64; 5] = [
    STALE_NAN_BITS,
    0x7ff8_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x8000_0000_0000_0000,
];

/// The tag of a value stored as its 8 raw bytes.
const RAW_TAG: u8 = 5;

/// Appends the exceptions section.
pub fn encode(exceptions: &[Exception], out: &mut Vec<u8>) {
    put_uvarint(out, exceptions.len() as u64);
    let mut next_position = 0u32;
    for exception in exceptions {
        debug_assert!(
            exception.position >= next_position,
            "BUG: unsorted exceptions"
        );
        put_uvarint(out, u64::from(exception.position - next_position));
        next_position = exception.position + 1;
        match (0u8..)
            .zip(COMMON_BITS)
            .find(|(_, bits)| *bits == exception.bits)
        {
            Some((tag, _)) => out.push(tag),
            None => {
                out.push(RAW_TAG);
                out.extend_from_slice(&exception.bits.to_be_bytes());
            }
        }
    }
}

/// Reads the exceptions section of a block of `rows` rows into `dst` (cleared
/// first); returns the unread tail.
pub fn decode<'a>(
    src: &'a [u8],
    rows: usize,
    dst: &mut Vec<Exception>,
) -> Result<&'a [u8], DecodeError> {
    const SECTION: Section = Section::Values;
    dst.clear();
    let (count, mut src) = get_uvarint(src).ok_or(DecodeError::Truncated { section: SECTION })?;
    if count > rows as u64 {
        return Err(DecodeError::InvalidTag {
            section: SECTION,
            field: "special value count",
            value: i64::try_from(count).unwrap_or(i64::MAX),
        });
    }
    dst.reserve(count as usize);
    let mut next_position = 0u64;
    for _ in 0..count {
        let (gap, rest) = get_uvarint(src).ok_or(DecodeError::Truncated { section: SECTION })?;
        let position = next_position.saturating_add(gap);
        let in_range = u32::try_from(position)
            .ok()
            .filter(|p| (*p as usize) < rows);
        let Some(position) = in_range else {
            return Err(DecodeError::BadPosition { position, rows });
        };
        let (&tag, rest) = rest
            .split_first()
            .ok_or(DecodeError::Truncated { section: SECTION })?;
        let (bits, rest) = read_bits(tag, rest)?;
        dst.push(Exception { position, bits });
        next_position = u64::from(position) + 1;
        src = rest;
    }
    Ok(src)
}

/// The bits a tag stands for, reading 8 more bytes for a raw one.
fn read_bits(tag: u8, src: &[u8]) -> Result<(u64, &[u8]), DecodeError> {
    if let Some(bits) = COMMON_BITS.get(usize::from(tag)) {
        return Ok((*bits, src));
    }
    if tag != RAW_TAG {
        return Err(DecodeError::InvalidTag {
            section: Section::Values,
            field: "special value tag",
            value: i64::from(tag),
        });
    }
    let (raw, rest) = src.split_first_chunk::<8>().ok_or(DecodeError::Truncated {
        section: Section::Values,
    })?;
    Ok((u64::from_be_bytes(*raw), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exception(position: u32, bits: u64) -> Exception {
        Exception { position, bits }
    }

    fn check(rows: usize, exceptions: &[Exception], want: &[u8]) {
        let mut out = Vec::new();
        encode(exceptions, &mut out);
        assert_eq!(out, want);
        let mut decoded = Vec::new();
        let rest = decode(&out, rows, &mut decoded).unwrap();
        assert!(rest.is_empty());
        assert_eq!(decoded, exceptions);
    }

    #[test]
    fn tags_common_values_and_keeps_others_raw() {
        check(10, &[], &[0]);
        check(10, &[exception(9, STALE_NAN_BITS)], &[1, 9, 0]);
        check(
            10,
            &[
                exception(0, f64::INFINITY.to_bits()),
                exception(1, (-0.0f64).to_bits()),
                exception(5, 0x7ff8_0000_0000_0001),
            ],
            &[3, 0, 2, 0, 4, 3, 5, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1],
        );
    }

    #[test]
    fn rejects_positions_past_the_block_and_huge_counts() {
        let mut decoded = Vec::new();
        assert_eq!(
            decode(&[1, 10, 0], 10, &mut decoded),
            Err(DecodeError::BadPosition {
                position: 10,
                rows: 10
            })
        );
        assert!(matches!(
            decode(&[0xff, 0xff, 0xff, 0xff, 0x0f], 10, &mut decoded),
            Err(DecodeError::InvalidTag { .. })
        ));
        assert!(matches!(
            decode(&[1, 0, 6], 10, &mut decoded),
            Err(DecodeError::InvalidTag { .. })
        ));
        assert!(matches!(
            decode(&[1, 0, 5, 1, 2], 10, &mut decoded),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
