//! Nearest-delta: every value after the first as the zig-zag varint of its
//! difference from the one before. Suits gauges, whose values wander by small
//! steps in both directions.
//!
//! ```text
//! (first value: in BlockEncoding, not here)
//! +--------------+--------------+-----+--------------------------+
//! | varint v1-v0 | varint v2-v1 | ... | varint v[n-1]-v[n-2]     |
//! +--------------+--------------+-----+--------------------------+
//! ```
//!
//! Differences wrap (two's complement), so every pair of i64s, i64::MIN and
//! i64::MAX included, has a difference and the decoder's wrapping sum undoes it.

use super::error::{DecodeError, Section};
use super::int_encoding::varint_size;
use crate::encoding::varint::{get_varint, put_varint};

/// Bytes [`encode`] would append for `values`.
pub fn encoded_size(values: &[i64]) -> usize {
    values
        .iter()
        .zip(values.iter().skip(1))
        .map(|(previous, current)| varint_size(current.wrapping_sub(*previous)))
        .sum()
}

/// Appends the differences of `values` (the first value itself is not written).
pub fn encode(values: &[i64], out: &mut Vec<u8>) {
    for (previous, current) in values.iter().zip(values.iter().skip(1)) {
        put_varint(out, current.wrapping_sub(*previous));
    }
}

/// Appends `rows` values starting at `first` to `dst`; returns the unread tail of `src`.
pub fn decode<'a>(
    first: i64,
    rows: usize,
    mut src: &'a [u8],
    section: Section,
    dst: &mut Vec<i64>,
) -> Result<&'a [u8], DecodeError> {
    if rows == 0 {
        return Ok(src);
    }
    dst.push(first);
    let mut value = first;
    for _ in 1..rows {
        let (delta, rest) = get_varint(src).ok_or(DecodeError::Truncated { section })?;
        value = value.wrapping_add(delta);
        dst.push(value);
        src = rest;
    }
    Ok(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[i64], want_bytes: &[u8]) {
        let mut out = Vec::new();
        encode(values, &mut out);
        assert_eq!(out, want_bytes, "encoding {values:?}");
        assert_eq!(encoded_size(values), out.len());
        let mut decoded = Vec::new();
        let rest = decode(values[0], values.len(), &out, Section::Values, &mut decoded).unwrap();
        assert!(rest.is_empty());
        assert_eq!(decoded, values);
    }

    #[test]
    fn encodes_differences() {
        check(&[5], &[]);
        check(&[5, 6, 4], &[2, 3]);
        check(&[0, 64], &[0x80, 0x01]);
        check(&[i64::MIN, i64::MAX], &[1]);
        check(&[i64::MAX, i64::MIN], &[2]);
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut decoded = Vec::new();
        let result = decode(0, 3, &[2], Section::Values, &mut decoded);
        assert_eq!(
            result,
            Err(DecodeError::Truncated {
                section: Section::Values
            })
        );
    }
}
