//! Nearest-delta: every value after the first as the zig-zag varint of its
//! difference from the one before, less a step common to the whole block.
//! With step 0 this suits gauges, which wander both ways; with the typical
//! difference as the step it suits counters that grow by a steady rate plus
//! noise (a 90..110 increment costs its noise, not its size).
//!
//! ```text
//! (first value: in BlockEncoding, not here)
//! +-------------+---------------------+-----+-----------------------------+
//! | varint step | varint v1-v0-step   | ... | varint v[n-1]-v[n-2]-step   |
//! +-------------+---------------------+-----+-----------------------------+
//! ```
//!
//! The encoder picks step 0 or the median difference, whichever makes a
//! sample of the differences smaller.
//! Differences wrap (two's complement), so every pair of i64s, i64::MIN and
//! i64::MAX included, has a difference and the decoder's wrapping sum undoes it.

use super::error::{DecodeError, Section};
use super::int_encoding::varint_size;
use crate::encoding::varint::{get_varint, put_varint};

/// Differences sampled for the median step: enough that a counter reset or a
/// missed scrape does not move it, few enough to sort on the stack.
const STEP_SAMPLE_SIZE: usize = 63;

/// The differences of consecutive values.
fn differences(values: &[i64]) -> impl Iterator<Item = i64> + '_ {
    values
        .iter()
        .zip(values.iter().skip(1))
        .map(|(previous, current)| current.wrapping_sub(*previous))
}

/// Up to [`STEP_SAMPLE_SIZE`] evenly spaced differences, sorted; returns
/// the array and how many of it are filled.
fn sampled_differences(values: &[i64]) -> ([i64; STEP_SAMPLE_SIZE], usize) {
    let count = values.len().saturating_sub(1);
    let taken = count.min(STEP_SAMPLE_SIZE);
    let mut sample = [0i64; STEP_SAMPLE_SIZE];
    for (k, slot) in sample.iter_mut().take(taken).enumerate() {
        let at = k * count / taken;
        if let (Some(previous), Some(current)) = (values.get(at), values.get(at + 1)) {
            *slot = current.wrapping_sub(*previous);
        }
    }
    if let Some(filled) = sample.get_mut(..taken) {
        filled.sort_unstable();
    }
    (sample, taken)
}

/// The step [`encode`] uses: 0 or the median difference, whichever makes the
/// sampled differences smaller — a sample is enough to tell a gauge from a
/// steadily growing counter, and costs no pass over the block.
fn step(values: &[i64]) -> i64 {
    let (sample, taken) = sampled_differences(values);
    let sample = sample.get(..taken).unwrap_or_default();
    let median = sample.get(taken / 2).copied().unwrap_or(0);
    let size = |step: i64| -> usize {
        sample
            .iter()
            .map(|difference| varint_size(difference.wrapping_sub(step)))
            .sum()
    };
    if median != 0 && size(median) < size(0) {
        median
    } else {
        0
    }
}

/// Bytes [`encode`] would append for `values`.
pub fn encoded_size(values: &[i64]) -> usize {
    let step = step(values);
    varint_size(step)
        + differences(values)
            .map(|difference| varint_size(difference.wrapping_sub(step)))
            .sum::<usize>()
}

/// Appends the step and the differences less it (the first value itself is not written).
pub fn encode(values: &[i64], out: &mut Vec<u8>) {
    let step = step(values);
    put_varint(out, step);
    for difference in differences(values) {
        put_varint(out, difference.wrapping_sub(step));
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
    let mut value = first;
    for _ in 1..rows {
        let (residual, rest) = get_varint(src).ok_or(DecodeError::Truncated { section })?;
        value = value.wrapping_add(step).wrapping_add(residual);
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
        check(&[5], &[0]);
        // A gauge: step 0, differences 1, -2, 1.
        check(&[5, 6, 4, 5], &[0, 2, 3, 2]);
        check(&[0, 64], &[0x80, 0x01, 0]);
        check(&[i64::MIN, i64::MAX], &[0, 1]);
        check(&[i64::MAX, i64::MIN], &[0, 2]);
    }

    #[test]
    fn a_steady_counter_pays_for_its_noise_only() {
        // Differences 100, 105, 95, 100, 110, and a reset: median step 100.
        check(
            &[0, 100, 205, 300, 400, 510, 3],
            &[0xc8, 0x01, 0, 10, 9, 0, 20, 0xbd, 0x09],
        );
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut decoded = Vec::new();
        let result = decode(0, 3, &[0, 2], Section::Values, &mut decoded);
        assert_eq!(
            result,
            Err(DecodeError::Truncated {
                section: Section::Values
            })
        );
    }
}
