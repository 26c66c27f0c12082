//! Second-order delta (delta-of-delta): the first difference, then every
//! change of the difference, as zig-zag varints. Suits counters and scrape
//! timestamps, whose steps are nearly equal: a 10 s interval with a few ms of
//! jitter costs one byte per row instead of two or three.
//!
//! ```text
//! (first value: in BlockEncoding, not here)
//! +--------------------+-------------------------+-----+--------------------------------+
//! | varint d1 = v1-v0  | varint d2-d1            | ... | varint d[n-1]-d[n-2]           |
//! +--------------------+-------------------------+-----+--------------------------------+
//!   where d[i] = v[i] - v[i-1]
//! ```
//!
//! All arithmetic wraps, as in [`super::delta`].

use super::error::{DecodeError, Section};
use super::int_encoding::varint_size;
use crate::encoding::varint::{get_varint, put_varint};

/// Bytes [`encode`] would append for `values`.
pub fn encoded_size(values: &[i64]) -> usize {
    let mut size = 0;
    let mut previous_delta = 0i64;
    for (previous, current) in values.iter().zip(values.iter().skip(1)) {
        let delta = current.wrapping_sub(*previous);
        size += varint_size(delta.wrapping_sub(previous_delta));
        previous_delta = delta;
    }
    size
}

/// Appends the second-order differences of `values` (the first value itself is not written).
pub fn encode(values: &[i64], out: &mut Vec<u8>) {
    let mut previous_delta = 0i64;
    for (previous, current) in values.iter().zip(values.iter().skip(1)) {
        let delta = current.wrapping_sub(*previous);
        put_varint(out, delta.wrapping_sub(previous_delta));
        previous_delta = delta;
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
    let mut delta = 0i64;
    for _ in 1..rows {
        let (change, rest) = get_varint(src).ok_or(DecodeError::Truncated { section })?;
        delta = delta.wrapping_add(change);
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
    fn encodes_changes_of_differences() {
        check(&[7], &[]);
        // d = 10, 10, 12: written as 10, 0, 2 (zig-zag 20, 0, 4).
        check(&[0, 10, 20, 32], &[20, 0, 4]);
        check(&[i64::MAX, i64::MIN, i64::MAX], &[2, 3]);
        // d1 = i64::MIN is the longest varint (zig-zag u64::MAX); d2 wraps to i64::MIN too.
        check(
            &[0, i64::MIN, 0],
            &[
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0,
            ],
        );
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut decoded = Vec::new();
        let result = decode(0, 3, &[20], Section::Timestamps, &mut decoded);
        assert_eq!(
            result,
            Err(DecodeError::Truncated {
                section: Section::Timestamps
            })
        );
    }
}
