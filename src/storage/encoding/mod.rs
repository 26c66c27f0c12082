//! Block codecs: how one series' timestamps and values are stored in a block.
//!
//! Placeholder until the compact codecs land: raw little-endian columns under zstd.

/// Most samples in one block: bounds decode buffers and lets a query skip blocks by time.
pub const MAX_ROWS_PER_BLOCK: usize = 8192;

/// A block that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt block: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// How a block's columns are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockEncoding {
    kind: u8,
}

/// Encoded size of a [`BlockEncoding`].
pub const BLOCK_ENCODING_SIZE: usize = 1;

impl BlockEncoding {
    /// Appends the fixed-size encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.kind);
    }

    /// Decodes it; returns the unread tail.
    pub fn decode(src: &[u8]) -> Result<(Self, &[u8]), DecodeError> {
        let (&kind, rest) = src
            .split_first()
            .ok_or_else(|| DecodeError("truncated encoding".into()))?;
        Ok((BlockEncoding { kind }, rest))
    }
}

/// Appends the encoded columns of one block.
pub fn encode_block(
    timestamps: &[i64],
    values: &[f64],
    zstd_level: i32,
    ts_out: &mut Vec<u8>,
    values_out: &mut Vec<u8>,
) -> BlockEncoding {
    assert_eq!(timestamps.len(), values.len(), "BUG: column lengths differ");
    let raw_ts: Vec<u8> = timestamps.iter().flat_map(|t| t.to_le_bytes()).collect();
    let raw_values: Vec<u8> = values
        .iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .collect();
    ts_out.extend_from_slice(&zstd::bulk::compress(&raw_ts, zstd_level).unwrap_or_default());
    values_out
        .extend_from_slice(&zstd::bulk::compress(&raw_values, zstd_level).unwrap_or_default());
    BlockEncoding { kind: 0 }
}

/// Decodes one block's columns into the (cleared) destination vectors.
pub fn decode_block(
    _encoding: &BlockEncoding,
    rows: usize,
    ts_bytes: &[u8],
    values_bytes: &[u8],
    ts_dst: &mut Vec<i64>,
    values_dst: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    if rows > MAX_ROWS_PER_BLOCK {
        return Err(DecodeError(format!("{rows} rows")));
    }
    let raw_ts =
        zstd::bulk::decompress(ts_bytes, rows * 8).map_err(|e| DecodeError(e.to_string()))?;
    let raw_values =
        zstd::bulk::decompress(values_bytes, rows * 8).map_err(|e| DecodeError(e.to_string()))?;
    if raw_ts.len() != rows * 8 || raw_values.len() != rows * 8 {
        return Err(DecodeError("column length".into()));
    }
    ts_dst.clear();
    values_dst.clear();
    for chunk in raw_ts.chunks_exact(8) {
        ts_dst.push(i64::from_le_bytes(
            chunk.try_into().map_err(|_| DecodeError("ts".into()))?,
        ));
    }
    for chunk in raw_values.chunks_exact(8) {
        values_dst.push(f64::from_bits(u64::from_le_bytes(
            chunk.try_into().map_err(|_| DecodeError("value".into()))?,
        )));
    }
    Ok(())
}
