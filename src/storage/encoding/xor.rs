//! The lossless float fallback: each value's bits XORed with the previous
//! value's, with the zero bytes at both ends of the XOR dropped. Used when a
//! block's values are not decimals (ratios, NaN payloads, huge or tiny
//! magnitudes); any f64 bit pattern round-trips.
//!
//! ```text
//! (first value's bits: in BlockEncoding, not here)
//! per value after the first:
//! +---------------------------------------+----------------------------------+
//! | control: trailing zero bytes << 4 | n | n bytes: the XOR's middle bytes, BE |
//! +---------------------------------------+----------------------------------+
//! n = 0 (control 0x00): the value repeats the previous one
//! ```
//!
//! Byte-aligned rather than Gorilla's bit stream: simpler, faster, and zstd
//! on top (see [`super::compress`]) recovers much of the difference.

use super::error::{DecodeError, Section};

/// Appends the XOR encoding of `values` (the first value itself is not written).
pub fn encode(values: &[f64], out: &mut Vec<u8>) {
    for (previous, current) in values.iter().zip(values.iter().skip(1)) {
        let xor = previous.to_bits() ^ current.to_bits();
        if xor == 0 {
            out.push(0);
            continue;
        }
        let trailing_bytes = xor.trailing_zeros() / 8;
        let leading_bytes = xor.leading_zeros() / 8;
        let length = 8 - trailing_bytes - leading_bytes;
        out.push(((trailing_bytes << 4) | length) as u8);
        let bytes = (xor >> (8 * trailing_bytes)).to_be_bytes();
        out.extend_from_slice(bytes.get(8 - length as usize..).unwrap_or(&[]));
    }
}

/// Appends `rows` values, the first with bits `first_bits`, to `dst`; returns
/// the unread tail of `src`.
pub fn decode<'a>(
    first_bits: u64,
    rows: usize,
    mut src: &'a [u8],
    dst: &mut Vec<f64>,
) -> Result<&'a [u8], DecodeError> {
    const SECTION: Section = Section::Values;
    if rows == 0 {
        return Ok(src);
    }
    dst.reserve(rows);
    dst.push(f64::from_bits(first_bits));
    let mut bits = first_bits;
    for _ in 1..rows {
        let (&control, rest) = src
            .split_first()
            .ok_or(DecodeError::Truncated { section: SECTION })?;
        let trailing_bytes = u32::from(control >> 4);
        let length = usize::from(control & 0x0f);
        // Only canonical controls: a repeat is 0x00, and the shift below stays under 64.
        let repeat_with_shift = length == 0 && trailing_bytes != 0;
        if trailing_bytes as usize + length > 8 || repeat_with_shift {
            return Err(DecodeError::InvalidTag {
                section: SECTION,
                field: "xor control byte",
                value: i64::from(control),
            });
        }
        if rest.len() < length {
            return Err(DecodeError::Truncated { section: SECTION });
        }
        let (middle, rest) = rest.split_at(length);
        let xor = middle
            .iter()
            .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
        bits ^= xor << (8 * trailing_bytes);
        dst.push(f64::from_bits(bits));
        src = rest;
    }
    Ok(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[f64], want: &[u8]) {
        let mut out = Vec::new();
        encode(values, &mut out);
        assert_eq!(out, want);
        let mut decoded = Vec::new();
        let rest = decode(values[0].to_bits(), values.len(), &out, &mut decoded).unwrap();
        assert!(rest.is_empty());
        let bits: Vec<u64> = decoded.iter().map(|v| v.to_bits()).collect();
        let want_bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, want_bits);
    }

    #[test]
    fn drops_zero_bytes_of_the_xor() {
        check(&[1.0], &[]);
        check(&[1.0, 1.0], &[0]);
        // 1.0 = 0x3ff0..., 2.0 = 0x4000...: XOR 0x7ff0_0000_0000_0000.
        check(&[1.0, 2.0], &[0x62, 0x7f, 0xf0]);
        check(
            &[f64::from_bits(0), f64::from_bits(u64::MAX)],
            &[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        );
        check(
            &[f64::NAN, f64::from_bits(0x7ff8_0000_0000_0001)],
            &[0x01, 0x01],
        );
    }

    #[test]
    fn rejects_bad_control_bytes_and_truncation() {
        let mut decoded = Vec::new();
        assert!(matches!(
            decode(0, 2, &[0x19], &mut decoded),
            Err(DecodeError::InvalidTag { .. })
        ));
        assert!(matches!(
            decode(0, 2, &[0x80], &mut decoded),
            Err(DecodeError::InvalidTag { .. })
        ));
        assert!(matches!(
            decode(0, 2, &[0x02, 0x01], &mut decoded),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(
            decode(0, 3, &[0x00], &mut decoded),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
