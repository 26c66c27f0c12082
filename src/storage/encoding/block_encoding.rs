//! [`BlockEncoding`]: the small fixed-size description of how one block's
//! two columns are encoded, stored inside the block header.
//!
//! ```text
//! 0        1          2            3       4           6                 14                22
//! +--------+----------+------------+-------+-----------+-----------------+-----------------+
//! | ts enc | vals enc | mantissa   | flags | exponent  | first timestamp | first value     |
//! | u8     | u8       | enc u8     | u8    | i16 BE    | i64 BE          | i64 BE          |
//! +--------+----------+------------+-------+-----------+-----------------+-----------------+
//! ts enc, mantissa enc: IntEncoding tag (0 const, 1 delta-const, 2 delta, 3 delta2, 4 grid)
//! vals enc: 0 decimal, 1 decimal with exceptions, 2 xor (mantissa enc and exponent then 0)
//! flags: bit 0 timestamps column is zstd, bit 1 values column is zstd, others 0
//! exponent: -22..=0; first value: first mantissa (decimal) or first value's bits (xor)
//! ```
//!
//! Invariant, checked on decode: every field holds a value some encoder
//! writes, so a decoded `BlockEncoding` can be trusted by the column decoders.

use super::decimal::MAX_DECIMAL_PLACES;
use super::error::{DecodeError, Section};
use super::int_encoding::IntEncoding;

/// How a block's values column is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueEncoding {
    /// Every value is `mantissa * 10^exponent`; the payload is the mantissa column.
    Decimal {
        /// The mantissa column's encoding.
        mantissas: IntEncoding,
        /// The shared decimal exponent, -22..=0.
        exponent: i16,
    },
    /// As `Decimal`, but the payload starts with the rows kept verbatim
    /// (see [`super::exceptions`]); the mantissa column holds the others.
    DecimalWithExceptions {
        /// The mantissa column's encoding.
        mantissas: IntEncoding,
        /// The shared decimal exponent, -22..=0.
        exponent: i16,
    },
    /// The lossless float fallback of [`super::xor`].
    Xor,
}

/// How one block's timestamps and values are encoded; see the module docs for its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockEncoding {
    /// The timestamps column's encoding.
    pub timestamps: IntEncoding,
    /// Whether the timestamps column is a zstd frame.
    pub timestamps_compressed: bool,
    /// The first row's timestamp (not in the column payload; 0 for an empty block).
    pub first_timestamp: i64,
    /// The values column's encoding.
    pub values: ValueEncoding,
    /// Whether the values column is a zstd frame.
    pub values_compressed: bool,
    /// The first mantissa (decimal; 0 when no row has one) or the first value's bits (xor).
    pub first_value: i64,
}

impl BlockEncoding {
    /// Bytes of [`BlockEncoding::encode`]'s output.
    pub const ENCODED_SIZE: usize = 22;

    /// Appends the fixed-size big-endian encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let (values_tag, mantissas, exponent) = match self.values {
            ValueEncoding::Decimal {
                mantissas,
                exponent,
            } => (0u8, mantissas, exponent),
            ValueEncoding::DecimalWithExceptions {
                mantissas,
                exponent,
            } => (1, mantissas, exponent),
            ValueEncoding::Xor => (2, IntEncoding::Const, 0),
        };
        let flags = u8::from(self.timestamps_compressed) | (u8::from(self.values_compressed) << 1);
        out.extend_from_slice(&[self.timestamps.tag(), values_tag, mantissas.tag(), flags]);
        out.extend_from_slice(&exponent.to_be_bytes());
        out.extend_from_slice(&self.first_timestamp.to_be_bytes());
        out.extend_from_slice(&self.first_value.to_be_bytes());
    }

    /// Reads an encoding written by [`BlockEncoding::encode`]; returns it and the unread tail.
    pub fn decode(src: &[u8]) -> Result<(BlockEncoding, &[u8]), DecodeError> {
        let (bytes, rest) = src
            .split_first_chunk::<{ BlockEncoding::ENCODED_SIZE }>()
            .ok_or(DecodeError::Truncated {
                section: Section::BlockEncoding,
            })?;
        let [timestamps, values_tag, mantissas, flags, e0, e1, fields @ ..] = *bytes;
        let (first_timestamp, first_value) = fields.split_at(8);
        let first_timestamp = i64::from_be_bytes(first_timestamp.try_into().unwrap_or_default());
        let first_value = i64::from_be_bytes(first_value.try_into().unwrap_or_default());
        let timestamps = int_encoding(timestamps, "timestamps encoding")?;
        let mantissas = int_encoding(mantissas, "mantissas encoding")?;
        let exponent = i16::from_be_bytes([e0, e1]);
        if !(-i16::from(MAX_DECIMAL_PLACES)..=0).contains(&exponent) {
            return Err(invalid("decimal exponent", i64::from(exponent)));
        }
        if flags > 0b11 {
            return Err(invalid("flags", i64::from(flags)));
        }
        let values = match values_tag {
            0 => ValueEncoding::Decimal {
                mantissas,
                exponent,
            },
            1 => ValueEncoding::DecimalWithExceptions {
                mantissas,
                exponent,
            },
            2 if mantissas == IntEncoding::Const && exponent == 0 => ValueEncoding::Xor,
            _ => return Err(invalid("values encoding", i64::from(values_tag))),
        };
        let encoding = BlockEncoding {
            timestamps,
            timestamps_compressed: flags & 1 != 0,
            first_timestamp,
            values,
            values_compressed: flags & 2 != 0,
            first_value,
        };
        Ok((encoding, rest))
    }
}

fn int_encoding(tag: u8, field: &'static str) -> Result<IntEncoding, DecodeError> {
    IntEncoding::from_tag(tag).ok_or(invalid(field, i64::from(tag)))
}

fn invalid(field: &'static str, value: i64) -> DecodeError {
    DecodeError::InvalidTag {
        section: Section::BlockEncoding,
        field,
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BlockEncoding {
        BlockEncoding {
            timestamps: IntEncoding::Delta2,
            timestamps_compressed: true,
            first_timestamp: 1_700_000_000_000,
            values: ValueEncoding::DecimalWithExceptions {
                mantissas: IntEncoding::Delta,
                exponent: -2,
            },
            values_compressed: false,
            first_value: -150,
        }
    }

    #[test]
    fn encoded_size_and_bytes_are_pinned() {
        let mut out = vec![0xEE];
        sample().encode(&mut out);
        assert_eq!(out.len(), 1 + BlockEncoding::ENCODED_SIZE);
        assert_eq!(
            out[1..],
            [
                3, 1, 2, 0b01, 0xff, 0xfe, // kinds, flags, exponent -2
                0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // 1_700_000_000_000
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x6a, // -150
            ]
        );
        let (decoded, rest) = BlockEncoding::decode(&out[1..]).unwrap();
        assert_eq!(decoded, sample());
        assert!(rest.is_empty());
    }

    #[test]
    fn round_trips_every_kind() {
        let mut values_kinds = vec![ValueEncoding::Xor];
        for mantissas in IntEncoding::ALL {
            for exponent in [0, -1, -22] {
                values_kinds.push(ValueEncoding::Decimal {
                    mantissas,
                    exponent,
                });
                values_kinds.push(ValueEncoding::DecimalWithExceptions {
                    mantissas,
                    exponent,
                });
            }
        }
        for timestamps in IntEncoding::ALL {
            for values in &values_kinds {
                let encoding = BlockEncoding {
                    timestamps,
                    values: *values,
                    first_value: i64::MIN,
                    first_timestamp: i64::MAX,
                    ..sample()
                };
                let mut out = Vec::new();
                encoding.encode(&mut out);
                out.push(9);
                assert_eq!(BlockEncoding::decode(&out), Ok((encoding, &[9][..])));
            }
        }
    }

    #[test]
    fn rejects_what_no_encoder_writes() {
        let mut good = Vec::new();
        sample().encode(&mut good);
        for (index, byte) in [(0, 5), (1, 3), (2, 9), (3, 4), (4, 0x7f), (5, 0xe9)] {
            let mut bad = good.clone();
            bad[index] = byte;
            assert!(
                matches!(
                    BlockEncoding::decode(&bad),
                    Err(DecodeError::InvalidTag { .. })
                ),
                "byte {index} = {byte}"
            );
        }
        assert!(matches!(
            BlockEncoding::decode(&good[..21]),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
