//! Grid: each value as its residual from an arithmetic progression through
//! the first and last values. Suits scrape timestamps: Prometheus scrapes on
//! a ticker, so timestamps are `start + i*interval` plus a few ms of
//! independent jitter. The residual is that jitter itself, while a
//! second-order delta mixes three jitters into each row (`j[i] - 2j[i-1] +
//! j[i-2]`), a wider spread that costs about a bit more per row after zstd.
//!
//! ```text
//! (first value: in BlockEncoding, not here)
//! +-------------+-------------------------+-----+----------------------------------+
//! | varint step | varint v1 - (v0+step)   | ... | varint v[n-1] - (v0+(n-1)*step)  |
//! +-------------+-------------------------+-----+----------------------------------+
//! ```
//!
//! All arithmetic wraps, so any step decodes; the encoder picks the rounded
//! mean difference, which makes the last residual near zero.

use super::error::{DecodeError, Section};
use super::int_encoding::varint_size;
use crate::encoding::varint::{get_varint, put_varint};

/// The progression's step for `values`: their mean difference, rounded.
pub fn step(values: &[i64]) -> i64 {
    let (Some(first), Some(last)) = (values.first(), values.last()) else {
        return 0;
    };
    let gaps = i128::try_from(values.len().saturating_sub(1))
        .unwrap_or(1)
        .max(1);
    let span = i128::from(*last) - i128::from(*first);
    // Round half away from zero. Spans past i64 (extremes over few gaps) wrap
    // in the cast, and the wrapping decoder undoes exactly that step.
    let rounded = (span + span.signum() * gaps / 2) / gaps;
    rounded as i64
}

/// The residuals of `values` from the progression with `step`, after the first.
fn residuals(values: &[i64], step: i64) -> impl Iterator<Item = i64> + '_ {
    let first = values.first().copied().unwrap_or(0);
    values.iter().skip(1).scan(first, move |nominal, value| {
        *nominal = nominal.wrapping_add(step);
        Some(value.wrapping_sub(*nominal))
    })
}

/// Bytes [`encode`] would append for `values`.
pub fn encoded_size(values: &[i64]) -> usize {
    let step = step(values);
    varint_size(step) + residuals(values, step).map(varint_size).sum::<usize>()
}

/// Appends the step and the residuals (the first value itself is not written).
pub fn encode(values: &[i64], out: &mut Vec<u8>) {
    let step = step(values);
    put_varint(out, step);
    for residual in residuals(values, step) {
        put_varint(out, residual);
    }
}

/// Appends `rows` values starting at `first` to `dst`; returns the unread tail of `src`.
pub fn decode<'a>(
    first: i64,
    rows: usize,
    src: &'a [u8],
    section: Section,
    dst: &mut Vec<i64>,
) -> Result<&'a [u8], DecodeError> {
    let (step, mut src) = get_varint(src).ok_or(DecodeError::Truncated { section })?;
    if rows == 0 {
        return Ok(src);
    }
    dst.push(first);
    let mut nominal = first;
    for _ in 1..rows {
        let (residual, rest) = get_varint(src).ok_or(DecodeError::Truncated { section })?;
        nominal = nominal.wrapping_add(step);
        dst.push(nominal.wrapping_add(residual));
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
        let rest = decode(
            values[0],
            values.len(),
            &out,
            Section::Timestamps,
            &mut decoded,
        )
        .unwrap();
        assert!(rest.is_empty());
        assert_eq!(decoded, values);
    }

    #[test]
    fn encodes_residuals_from_the_mean_step() {
        check(&[5], &[0]);
        // step 10: residuals 1, -1, 0.
        check(&[0, 11, 19, 30], &[20, 2, 1, 0]);
        // The span 2^64-1 wraps to step -1, and MIN + -1 wraps to MAX.
        check(&[i64::MIN, i64::MAX], &[1, 0]);
        check(&[i64::MAX, i64::MIN, i64::MAX], &[0, 2, 0]);
    }

    #[test]
    fn step_rounds_the_mean_difference() {
        assert_eq!(step(&[]), 0);
        assert_eq!(step(&[0, 3, 5]), 3); // 2.5 rounds away from zero
        assert_eq!(step(&[0, -3, -5]), -3);
        assert_eq!(step(&[10, 0, 10]), 0);
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut decoded = Vec::new();
        for src in [&[][..], &[20][..]] {
            let result = decode(0, 2, src, Section::Timestamps, &mut decoded);
            assert_eq!(
                result,
                Err(DecodeError::Truncated {
                    section: Section::Timestamps
                })
            );
        }
    }
}
