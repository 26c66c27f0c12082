//! Helpers shared by the ingest parsers' tests.

use proptest::prelude::*;

/// Bodies for robustness tests: arbitrary bytes, or a valid body cut and with one byte changed.
pub fn mangled(valid: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let garbage = proptest::collection::vec(any::<u8>(), 0..300);
    let mutated =
        (0..=valid.len(), 0..valid.len().max(1), any::<u8>()).prop_map(move |(cut, at, byte)| {
            let mut body = valid.to_vec();
            if let Some(b) = body.get_mut(at) {
                *b = byte;
            }
            body.truncate(cut);
            body
        });
    prop_oneof![garbage, mutated]
}

/// Splits `body` into chunks of `size` bytes (at least 1).
pub fn chunks(body: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    body.chunks(size.max(1))
}
