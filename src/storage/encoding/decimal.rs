//! Float values as integer mantissas sharing one decimal exponent per block:
//! `[1.5, 2.25]` becomes mantissas `[150, 225]` at exponent -2, which the
//! integer encodings then shrink to a byte or two per row.
//!
//! Lossless by construction: a value is given a mantissa only when
//! [`to_float`] — the very function the decoder runs — gives back its exact
//! bits. Values that cannot be (NaN of any payload, ±Inf, -0.0, subnormals,
//! more than 22 decimal places, too many significant digits next to the
//! block's other values) become exceptions, kept verbatim by the caller.
//!
//! Why the decoder's `m as f64 / 10^k` is exact for the values that matter:
//! with `|m| <= 2^53` and `k <= 22` both operands are exact doubles, and IEEE
//! division rounds the true quotient `m / 10^k` once, to the nearest double —
//! which is the original value whenever `m / 10^k` is one of its decimal
//! spellings. Nothing here relies on that argument for correctness, only for
//! how often the check succeeds.

/// Most decimal places a block may use: 10^22 is the largest power of ten a
/// double holds exactly, so the decoder's divisor is never itself rounded.
pub const MAX_DECIMAL_PLACES: u8 = 22;

/// 10^k for k in 0..=22, all exact in f64.
const POWERS_OF_TEN: [f64; MAX_DECIMAL_PLACES as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Integer powers of ten for rescaling mantissas; 10^18 is the largest in i64.
const INTEGER_POWERS_OF_TEN: [i64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// The divisor for `places` decimal places (`places <= MAX_DECIMAL_PLACES`,
/// checked when the block encoding is decoded; larger ones saturate).
#[inline]
pub fn scale(places: u8) -> f64 {
    POWERS_OF_TEN
        .get(usize::from(places))
        .copied()
        .unwrap_or(1e22)
}

/// The value a mantissa stands for; `scale` comes from [`scale`].
#[inline]
pub fn to_float(mantissa: i64, scale: f64) -> f64 {
    mantissa as f64 / scale
}

/// The mantissa of `value` at `scale`, if it round-trips bit-exactly.
#[inline]
fn mantissa_at(value: f64, scale: f64) -> Option<i64> {
    let scaled = value * scale;
    // Rounds half away from zero without libm's `round` (a call on baseline
    // x86-64). `as` saturates and maps NaN to 0, so NaN, ±Inf and values past
    // i64 get a wrong mantissa here, which the check below then rejects.
    let mantissa = (scaled + 0.5f64.copysign(scaled)) as i64;
    (to_float(mantissa, scale).to_bits() == value.to_bits()).then_some(mantissa)
}

/// A value kept verbatim because no mantissa at the block's exponent gives it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    /// Row index within the block.
    pub position: u32,
    /// The value's bits.
    pub bits: u64,
}

/// Failed searches for a wider exponent after which a block stops searching:
/// each costs up to 22 tries, about 100 ns, and a block with this many
/// non-decimal values (ratios, random bits) ends up as xor anyway.
const MAX_FAILED_WIDENINGS: u32 = 16;

/// Splits `values` into mantissas (for the rows that have one, in row order)
/// and exceptions; returns the shared number of decimal places (the exponent
/// negated). Clears both outputs first.
pub fn split(values: &[f64], mantissas: &mut Vec<i64>, exceptions: &mut Vec<Exception>) -> u8 {
    mantissas.clear();
    exceptions.clear();
    let mut places = 0u8;
    let mut current_scale = 1.0;
    let mut largest_magnitude = 0u64;
    let mut failed_widenings = 0;
    for (position, &value) in (0u32..).zip(values) {
        let found = mantissa_at(value, current_scale).or_else(|| {
            if failed_widenings >= MAX_FAILED_WIDENINGS {
                return None;
            }
            let widened = widen(value, places, largest_magnitude, mantissas);
            failed_widenings += u32::from(widened.is_none());
            let (wider, mantissa) = widened?;
            places = wider;
            current_scale = scale(places);
            largest_magnitude = mantissas
                .iter()
                .map(|m| m.unsigned_abs())
                .max()
                .unwrap_or(0);
            Some(mantissa)
        });
        match found {
            Some(mantissa) => {
                largest_magnitude = largest_magnitude.max(mantissa.unsigned_abs());
                mantissas.push(mantissa);
            }
            None => exceptions.push(Exception {
                position,
                bits: value.to_bits(),
            }),
        }
    }
    places
}

/// Tries more decimal places for `value`; on success rescales the mantissas
/// so far and returns the new places and `value`'s mantissa. Gives up, leaving
/// everything unchanged, when a rescaled mantissa would pass 2^53: below that
/// bound the rescaled mantissas provably decode to the same values (see the
/// module docs), so no row needs checking again and one odd value costs O(1).
fn widen(
    value: f64,
    places: u8,
    largest_magnitude: u64,
    mantissas: &mut [i64],
) -> Option<(u8, i64)> {
    const EXACT_MANTISSA_LIMIT: u64 = 1 << 53;
    if !value.is_finite() || value == 0.0 {
        return None;
    }
    let (wider, mantissa) = (places + 1..=MAX_DECIMAL_PLACES)
        .find_map(|wider| mantissa_at(value, scale(wider)).map(|m| (wider, m)))?;
    let factor = *INTEGER_POWERS_OF_TEN.get(usize::from(wider - places))?;
    let largest = largest_magnitude.checked_mul(factor.unsigned_abs())?;
    if largest > EXACT_MANTISSA_LIMIT {
        return None;
    }
    for m in mantissas.iter_mut() {
        *m = m.wrapping_mul(factor);
    }
    Some((wider, mantissa))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::STALE_NAN_BITS;

    fn check(values: &[f64], want_mantissas: &[i64], want_places: u8, want_exceptions: &[u32]) {
        let mut mantissas = Vec::new();
        let mut exceptions = Vec::new();
        let places = split(values, &mut mantissas, &mut exceptions);
        assert_eq!(mantissas, want_mantissas, "mantissas of {values:?}");
        assert_eq!(places, want_places, "places of {values:?}");
        let positions: Vec<u32> = exceptions.iter().map(|e| e.position).collect();
        assert_eq!(positions, want_exceptions, "exceptions of {values:?}");
        for e in &exceptions {
            assert_eq!(e.bits, values[e.position as usize].to_bits());
        }
    }

    #[test]
    fn shares_one_exponent() {
        check(&[1.5, 2.25], &[150, 225], 2, &[]);
        check(&[2.25, 1.5], &[225, 150], 2, &[]);
        check(&[0.0, 3.0, -7.0], &[0, 3, -7], 0, &[]);
        check(&[0.1, 0.2, 0.30000000000000004], &[1, 2], 1, &[2]);
        check(&[1e14, 0.5], &[1_000_000_000_000_000, 5], 1, &[]);
        // Rescaling 1e15 to one place would pass 2^53: 0.5 is kept verbatim instead.
        check(&[1e15, 0.5], &[1_000_000_000_000_000], 0, &[1]);
        check(&[9_007_199_254_740_993.0], &[9_007_199_254_740_992], 0, &[]);
    }

    #[test]
    fn specials_become_exceptions() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        check(
            &[1.5, stale, f64::INFINITY, -0.0, 2.5],
            &[15, 25],
            1,
            &[1, 2, 3],
        );
        check(&[f64::MIN_POSITIVE, 5e-324, 1e-30], &[], 0, &[0, 1, 2]);
        check(&[f64::MAX, f64::NAN, f64::NEG_INFINITY], &[], 0, &[0, 1, 2]);
    }

    #[test]
    fn every_mantissa_decodes_to_its_value() {
        let values = [123.456, 0.001, 1e-22, 42.0, -17.25, 3.3];
        let mut mantissas = Vec::new();
        let mut exceptions = Vec::new();
        let places = split(&values, &mut mantissas, &mut exceptions);
        let kept: Vec<f64> = values
            .iter()
            .enumerate()
            .filter(|(i, _)| !exceptions.iter().any(|e| e.position as usize == *i))
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(kept.len(), mantissas.len());
        for (v, m) in kept.iter().zip(&mantissas) {
            assert_eq!(to_float(*m, scale(places)).to_bits(), v.to_bits());
        }
    }
}
