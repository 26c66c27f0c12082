//! An integer column (timestamps, or value mantissas): the first value goes
//! into [`super::BlockEncoding`], the rest into a payload whose shape is
//! picked per block by measuring.
//!
//! | kind         | payload                                            | suits                          |
//! |--------------|----------------------------------------------------|--------------------------------|
//! | `Const`      | nothing                                            | all values equal (or no rows)  |
//! | `DeltaConst` | `varint d`                                         | `v[i] = v0 + i*d` (wrapping)   |
//! | `Delta`      | [`super::delta`]: step, varint difference less it  | gauges; steady counters        |
//! | `Delta2`     | [`super::delta2`]: varint change of difference     | counters with drifting rates   |
//! | `Grid`       | [`super::grid`]: step, varint residual per row     | jittered scrape timestamps     |
//!
//! `Const` and `DeltaConst` are taken whenever they fit. Of the last three,
//! [`candidates`] names those whose raw size is close enough to the smallest
//! that zstd might reorder them; the block encoder keeps whichever has the
//! smallest estimated size after zstd.

use super::error::{DecodeError, Section};
use super::{delta, delta2, grid};
use crate::encoding::varint::{get_varint, put_varint, zigzag_encode};

/// How an integer column's payload is laid out; stored as one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntEncoding {
    /// Every value equals the first; no payload.
    Const,
    /// An arithmetic progression from the first value; the payload is its step.
    DeltaConst,
    /// Nearest-delta: one varint difference per row after the first.
    Delta,
    /// Second-order delta: the first difference, then one varint change per row.
    Delta2,
    /// Residuals from an arithmetic progression: the step, then one varint per row.
    Grid,
}

impl IntEncoding {
    /// Every kind, for tests that must cover them all.
    pub const ALL: [IntEncoding; 5] = [
        IntEncoding::Const,
        IntEncoding::DeltaConst,
        IntEncoding::Delta,
        IntEncoding::Delta2,
        IntEncoding::Grid,
    ];

    /// The kind's byte in [`super::BlockEncoding`].
    pub fn tag(self) -> u8 {
        match self {
            IntEncoding::Const => 0,
            IntEncoding::DeltaConst => 1,
            IntEncoding::Delta => 2,
            IntEncoding::Delta2 => 3,
            IntEncoding::Grid => 4,
        }
    }

    /// Inverse of [`IntEncoding::tag`]; `None` for a byte no encoder writes.
    pub fn from_tag(tag: u8) -> Option<IntEncoding> {
        IntEncoding::ALL.into_iter().find(|kind| kind.tag() == tag)
    }
}

/// Bytes the zig-zag varint of `value` takes.
#[inline]
pub fn varint_size(value: i64) -> usize {
    let bits = 64 - (zigzag_encode(value) | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends the smallest raw payload for `values`; returns its kind and the
/// first value (0 for an empty column). The choice for a column stored
/// without zstd; with zstd, the block encoder measures [`candidates`].
pub fn encode(values: &[i64], out: &mut Vec<u8>) -> (IntEncoding, i64) {
    let kind = candidates(values)
        .min_by_key(|kind| encoded_size(*kind, values))
        .unwrap_or(IntEncoding::Const);
    let first = encode_as(kind, values, out);
    debug_assert!(first.is_some(), "BUG: chosen kind {kind:?} cannot encode");
    (kind, first.unwrap_or(0))
}

/// Bytes of `kind`'s payload for `values`, for kinds that can represent them.
fn encoded_size(kind: IntEncoding, values: &[i64]) -> usize {
    match kind {
        IntEncoding::Const => 0,
        IntEncoding::DeltaConst => match values {
            [first, second, ..] => varint_size(second.wrapping_sub(*first)),
            _ => 0,
        },
        IntEncoding::Delta => delta::encoded_size(values),
        IntEncoding::Delta2 => delta2::encoded_size(values),
        IntEncoding::Grid => grid::encoded_size(values),
    }
}

/// The kinds worth measuring for `values`: just `Const` or `DeltaConst` when
/// the values fit them (nothing beats an empty or one-varint payload), else
/// `Delta2`, `Delta` and `Grid`. Raw sizes do not rank the last three: zstd
/// codes a payload by the entropy of its bytes, not their count, so a wider
/// but more regular one can end up smaller (a counter's differences less
/// their step against its changes of difference).
pub fn candidates(values: &[i64]) -> impl Iterator<Item = IntEncoding> {
    const MEASURED: [IntEncoding; 3] = [IntEncoding::Delta2, IntEncoding::Delta, IntEncoding::Grid];
    let fitting = match values {
        [first, second, ..] => {
            let step = second.wrapping_sub(*first);
            if !is_progression(values, step) {
                None
            } else if step == 0 {
                Some(IntEncoding::Const)
            } else {
                Some(IntEncoding::DeltaConst)
            }
        }
        _ => Some(IntEncoding::Const),
    };
    let measured = if fitting.is_some() {
        &[][..]
    } else {
        &MEASURED[..]
    };
    fitting.into_iter().chain(measured.iter().copied())
}

/// Whether every difference of consecutive values is `step`.
fn is_progression(values: &[i64], step: i64) -> bool {
    values
        .iter()
        .zip(values.iter().skip(1))
        .all(|(previous, current)| current.wrapping_sub(*previous) == step)
}

/// Appends `values` as `kind`; returns the first value, or `None` (appending nothing)
/// when `kind` cannot represent them (`Const`/`DeltaConst` on other shapes).
pub fn encode_as(kind: IntEncoding, values: &[i64], out: &mut Vec<u8>) -> Option<i64> {
    let first = values.first().copied().unwrap_or(0);
    let step = match values {
        [a, b, ..] => b.wrapping_sub(*a),
        _ => 0,
    };
    match kind {
        IntEncoding::Const => {
            if !is_progression(values, 0) {
                return None;
            }
        }
        IntEncoding::DeltaConst => {
            if !is_progression(values, step) {
                return None;
            }
            put_varint(out, step);
        }
        IntEncoding::Delta => delta::encode(values, out),
        IntEncoding::Delta2 => delta2::encode(values, out),
        IntEncoding::Grid => grid::encode(values, out),
    }
    Some(first)
}

/// Appends the `rows` values of a column to `dst`; the payload `src` must be
/// consumed exactly.
pub fn decode(
    kind: IntEncoding,
    first: i64,
    rows: usize,
    src: &[u8],
    section: Section,
    dst: &mut Vec<i64>,
) -> Result<(), DecodeError> {
    dst.reserve(rows);
    let rest = match kind {
        IntEncoding::Const => {
            dst.extend(std::iter::repeat_n(first, rows));
            src
        }
        IntEncoding::DeltaConst => {
            let (step, rest) = get_varint(src).ok_or(DecodeError::Truncated { section })?;
            let mut value = first;
            for _ in 0..rows {
                dst.push(value);
                value = value.wrapping_add(step);
            }
            rest
        }
        IntEncoding::Delta => delta::decode(first, rows, src, section, dst)?,
        IntEncoding::Delta2 => delta2::decode(first, rows, src, section, dst)?,
        IntEncoding::Grid => grid::decode(first, rows, src, section, dst)?,
    };
    if rest.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::TrailingBytes {
            section,
            count: rest.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes `values`, checks the chosen kind and payload, and decodes them back.
    fn check(values: &[i64], want_kind: IntEncoding, want_payload: &[u8]) {
        let mut out = vec![0xAA];
        let (kind, first) = encode(values, &mut out);
        assert_eq!(kind, want_kind, "kind for {values:?}");
        assert_eq!(&out[1..], want_payload, "payload for {values:?}");
        let mut decoded = vec![42];
        decoded.clear();
        decode(
            kind,
            first,
            values.len(),
            &out[1..],
            Section::Timestamps,
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded, values);
    }

    #[test]
    fn picks_the_smallest_kind() {
        check(&[], IntEncoding::Const, &[]);
        check(&[-9], IntEncoding::Const, &[]);
        check(&[3, 3, 3], IntEncoding::Const, &[]);
        check(&[10, 20, 30, 40], IntEncoding::DeltaConst, &[20]);
        check(
            &[i64::MAX, i64::MIN, i64::MIN + 1],
            IntEncoding::DeltaConst,
            &[2],
        );
        // A gauge: differences take 1 byte, their changes 2.
        check(&[0, 40, 0, 40, 0], IntEncoding::Delta, &[0, 80, 79, 80, 79]);
        // A jittery 10 s scrape: changes of differences are tiny.
        check(
            &[0, 10_000, 20_001, 30_000, 40_002],
            IntEncoding::Delta2,
            &[0xa0, 0x9c, 0x01, 2, 3, 6],
        );
    }

    #[test]
    fn grid_wins_when_jitter_is_wide() {
        // Residuals ±30 take 1 byte; changes of difference up to ±120 take 2.
        check(
            &[0, 10_030, 19_970, 30_030, 39_970, 50_000],
            IntEncoding::Grid,
            &[0xa0, 0x9c, 0x01, 60, 59, 60, 59, 0],
        );
    }

    #[test]
    fn candidates_are_the_fitting_kind_or_the_measured_three() {
        let kinds = |values: &[i64]| candidates(values).collect::<Vec<_>>();
        assert_eq!(kinds(&[]), [IntEncoding::Const]);
        assert_eq!(kinds(&[1, 1]), [IntEncoding::Const]);
        assert_eq!(kinds(&[1, 3, 5]), [IntEncoding::DeltaConst]);
        assert_eq!(
            kinds(&[0, 100, 205]),
            [IntEncoding::Delta2, IntEncoding::Delta, IntEncoding::Grid]
        );
    }

    #[test]
    fn varint_size_matches_put_varint() {
        for value in [0, 1, -1, 63, -64, 64, -65, 8191, 8192, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(varint_size(value), out.len(), "{value}");
        }
    }

    #[test]
    fn tags_round_trip_and_unknown_tags_are_rejected() {
        for kind in IntEncoding::ALL {
            assert_eq!(IntEncoding::from_tag(kind.tag()), Some(kind));
        }
        assert_eq!(IntEncoding::from_tag(5), None);
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut decoded = Vec::new();
        let result = decode(
            IntEncoding::Const,
            1,
            2,
            &[0],
            Section::Timestamps,
            &mut decoded,
        );
        assert_eq!(
            result,
            Err(DecodeError::TrailingBytes {
                section: Section::Timestamps,
                count: 1
            })
        );
    }
}
