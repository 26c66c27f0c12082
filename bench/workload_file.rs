//! The workload file: pre-encoded remote_write requests, ready to send unchanged.
//!
//! ```text
//! offset 0   magic        8 bytes  "STRATAWL"
//! offset 8   version      u32 LE   FORMAT_VERSION
//! offset 12  header_len   u32 LE   bytes reserved for the header JSON
//! offset 16  header       header_len bytes: WorkloadHeader as JSON, padded with spaces
//! then, per request, in send order:
//!            body_len     u32 LE
//!            samples      u32 LE   samples in this request
//!            body         body_len bytes: snappy block-compressed protobuf WriteRequest
//! ```
//!
//! The header is written last (its totals are known only at the end) into the
//! space reserved before the first frame, so the file is produced in one pass.

use std::io::{Seek, SeekFrom, Write};

use crate::workload_header::WorkloadHeader;

/// The file's first bytes.
pub const MAGIC: &[u8; 8] = b"STRATAWL";
/// Bumped on any layout change; readers refuse other versions.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes reserved for the header JSON: parameters and totals fit in well under 1 KiB.
pub const HEADER_CAPACITY: u32 = 4096;
/// Largest request body a reader accepts: far above anything `gen` writes
/// (500 series ≈ 20 KiB), small enough that a corrupt length cannot ask for gigabytes.
pub const MAX_BODY_BYTES: u32 = 64 << 20;

/// Appends frames to a workload file, then fills in the header.
pub struct WorkloadWriter<W: Write + Seek> {
    out: W,
}

impl<W: Write + Seek> WorkloadWriter<W> {
    /// Writes the fixed preamble and reserves the header.
    pub fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        out.write_all(&HEADER_CAPACITY.to_le_bytes())?;
        out.write_all(&[b' '; HEADER_CAPACITY as usize])?;
        Ok(WorkloadWriter { out })
    }

    /// Appends one request.
    pub fn append(&mut self, body: &[u8], samples: u32) -> std::io::Result<()> {
        let body_len = u32::try_from(body.len())
            .ok()
            .filter(|len| *len <= MAX_BODY_BYTES)
            .ok_or_else(|| std::io::Error::other("request body over MAX_BODY_BYTES"))?;
        self.out.write_all(&body_len.to_le_bytes())?;
        self.out.write_all(&samples.to_le_bytes())?;
        self.out.write_all(body)
    }

    /// Writes the header into its reserved space and returns the output.
    pub fn finish(mut self, header: &WorkloadHeader) -> std::io::Result<W> {
        let json = serde_json::to_vec(header).map_err(std::io::Error::other)?;
        if json.len() > HEADER_CAPACITY as usize {
            return Err(std::io::Error::other("header JSON over HEADER_CAPACITY"));
        }
        self.out.seek(SeekFrom::Start(16))?;
        self.out.write_all(&json)?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Where one request sits inside the file's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Offset of the body.
    pub offset: usize,
    /// Body length.
    pub len: usize,
    /// Samples in the request.
    pub samples: u32,
}

/// A parsed workload file: the header and the frames of `bytes`.
pub struct Workload {
    /// Parameters and totals.
    pub header: WorkloadHeader,
    /// The whole file.
    pub bytes: Vec<u8>,
    /// Every request, in send order.
    pub frames: Vec<Frame>,
}

impl Workload {
    /// The body of `frame` (a frame of this workload, so always in bounds).
    pub fn body(&self, frame: &Frame) -> &[u8] {
        self.bytes
            .get(frame.offset..frame.offset + frame.len)
            .unwrap_or_default()
    }
}

/// Parses a whole workload file; every length is checked against the bytes present.
pub fn parse(bytes: Vec<u8>) -> Result<Workload, String> {
    let rest = bytes.strip_prefix(MAGIC).ok_or("bad magic")?;
    let (version, rest) = read_u32(rest).ok_or("truncated preamble")?;
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, this binary reads {FORMAT_VERSION}"
        ));
    }
    let (header_len, rest) = read_u32(rest).ok_or("truncated preamble")?;
    let (json, mut rest) = rest
        .split_at_checked(header_len as usize)
        .ok_or("truncated header")?;
    let header: WorkloadHeader =
        serde_json::from_slice(json).map_err(|e| format!("header JSON: {e}"))?;
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let offset = bytes.len() - rest.len();
        let (len, tail) = read_u32(rest).ok_or_else(|| format!("truncated frame at {offset}"))?;
        let (samples, tail) =
            read_u32(tail).ok_or_else(|| format!("truncated frame at {offset}"))?;
        if len > MAX_BODY_BYTES {
            return Err(format!("frame at {offset}: body of {len} bytes"));
        }
        let (_, tail) = tail
            .split_at_checked(len as usize)
            .ok_or_else(|| format!("frame at {offset}: body truncated"))?;
        frames.push(Frame {
            offset: offset + 8,
            len: len as usize,
            samples,
        });
        rest = tail;
    }
    // A file cut exactly at a frame boundary parses; the declared count catches it.
    if frames.len() as u64 != header.totals.requests {
        return Err(format!(
            "{} frames, header declares {}",
            frames.len(),
            header.totals.requests
        ));
    }
    Ok(Workload {
        header,
        bytes,
        frames,
    })
}

fn read_u32(src: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = src.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Bytes before the first frame.
    const FRAMES_OFFSET: u64 = 16 + HEADER_CAPACITY as u64;

    fn sample_file() -> Vec<u8> {
        let mut writer = WorkloadWriter::new(Cursor::new(Vec::new())).unwrap();
        writer.append(b"first", 3).unwrap();
        writer.append(b"", 0).unwrap();
        writer.append(b"third body", 500).unwrap();
        let mut header = WorkloadHeader {
            seed: 9,
            ..WorkloadHeader::default()
        };
        header.totals.requests = 3;
        writer.finish(&header).unwrap().into_inner()
    }

    #[test]
    fn frames_round_trip() {
        let workload = parse(sample_file()).unwrap();
        assert_eq!(workload.header.seed, 9);
        let got: Vec<(&[u8], u32)> = workload
            .frames
            .iter()
            .map(|f| (workload.body(f), f.samples))
            .collect();
        let want: Vec<(&[u8], u32)> = vec![(b"first", 3), (b"", 0), (b"third body", 500)];
        assert_eq!(got, want);
    }

    #[test]
    fn layout_is_pinned() {
        let bytes = sample_file();
        assert_eq!(&bytes[..8], b"STRATAWL");
        assert_eq!(&bytes[8..12], &1u32.to_le_bytes());
        assert_eq!(&bytes[12..16], &4096u32.to_le_bytes());
        assert_eq!(bytes[16], b'{');
        let first = FRAMES_OFFSET as usize;
        assert_eq!(&bytes[first..first + 8], &[5, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&bytes[first + 8..first + 13], b"first");
        assert_eq!(bytes.len(), first + (8 + 5) + 8 + (8 + 10));
    }

    #[test]
    fn rejects_corrupt_files_without_panicking() {
        let good = sample_file();
        for cut in 0..good.len() {
            assert!(parse(good[..cut].to_vec()).is_err(), "cut at {cut}");
        }
        let mut bad_magic = good.clone();
        bad_magic[0] = b'X';
        assert!(parse(bad_magic).is_err());
        let mut bad_version = good.clone();
        bad_version[8] = 2;
        assert!(parse(bad_version).is_err());
        let mut huge_len = good;
        let first = FRAMES_OFFSET as usize;
        huge_len[first..first + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse(huge_len).is_err());
    }
}
