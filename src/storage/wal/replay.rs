//! Replay at open: every intact record of every segment, in order, once; a damaged tail of the
//! last segment is cut off (truncated on disk) and reported, damage anywhere else is an error.

use std::fmt;
use std::path::Path;

use super::error::{Damage, Error};
use super::reader;
use super::segment::{align_down, parse_segment_name, segment_path};
use super::RecordPosition;
use crate::storage::fs;

/// What replay found: log one line of it (its `Display`) at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Segments read.
    pub segments: u64,
    /// Intact records handed to the caller.
    pub records: u64,
    /// Payload bytes of those records.
    pub bytes: u64,
    /// Non-zero bytes cut off the end of the last segment (a torn or damaged tail).
    pub dropped_bytes: u64,
    /// Where the cut was made, if anything was dropped.
    pub dropped_from: Option<RecordPosition>,
    /// What was found at the cut.
    pub damage: Option<Damage>,
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wal replay: {} records, {} bytes from {} segments",
            self.records, self.bytes, self.segments
        )?;
        if let (Some(at), Some(damage)) = (self.dropped_from, self.damage) {
            write!(
                f,
                "; dropped {} bytes of a damaged tail at segment {:016x} offset {} ({damage})",
                self.dropped_bytes, at.segment, at.offset
            )?;
        }
        Ok(())
    }
}

/// Replay's result: the report, the segments on disk and where writing resumes.
pub(super) struct Recovered {
    pub report: ReplayReport,
    /// Sequence numbers of the segment files, oldest first (contiguous).
    pub segments: Vec<u64>,
    /// The last segment, if any: where its records end and its last partial block.
    pub resume: Option<Resume>,
}

/// Where writing continues in the last segment.
pub(super) struct Resume {
    pub seq: u64,
    /// Offset just past the last intact record.
    pub end: u64,
    /// The segment's bytes from `align_down(end)` to `end`.
    pub partial_block: Vec<u8>,
}

/// Reads every segment in `dir`, calling `on_record` for each intact record.
pub(super) async fn replay(
    dir: &Path,
    mut on_record: impl FnMut(RecordPosition, &[u8]),
) -> Result<Recovered, Error> {
    let segments = list_segments(dir).await?;
    let mut report = ReplayReport::default();
    let mut resume = None;
    for (index, &seq) in segments.iter().enumerate() {
        let path = segment_path(dir, seq);
        // One whole segment in memory (bounded by the segment size). std reads after O_DIRECT
        // writes are coherent, and avoid glommio's garbage past EOF (notes/GLOMMIO.md gotcha 2).
        let data = fs::read_small_file(&path)
            .await
            .map_err(|e| Error::io("read segment", &path, &e))?
            .unwrap_or_default();
        let scan = reader::scan(&data, |offset, payload| {
            report.records += 1;
            report.bytes += payload.len() as u64;
            on_record(
                RecordPosition {
                    segment: seq,
                    offset,
                },
                payload,
            );
        });
        report.segments += 1;
        let is_last = index + 1 == segments.len();
        if let Some(damage) = scan.damage {
            let at = RecordPosition {
                segment: seq,
                offset: scan.good_end,
            };
            if !is_last {
                return Err(Error::Corruption { at, damage });
            }
            report.dropped_bytes = scan.dropped_bytes;
            report.dropped_from = Some(at);
            report.damage = Some(damage);
            // New records must never follow garbage: cut it off durably before any write.
            truncate(&path, scan.good_end).await?;
        }
        if is_last {
            let start = usize::try_from(align_down(scan.good_end)).unwrap_or(usize::MAX);
            let end = usize::try_from(scan.good_end).unwrap_or(usize::MAX);
            resume = Some(Resume {
                seq,
                end: scan.good_end,
                partial_block: data.get(start..end).unwrap_or_default().to_vec(),
            });
        }
    }
    Ok(Recovered {
        report,
        segments,
        resume,
    })
}

/// The segment sequence numbers in `dir`, oldest first; a hole in the sequence is an error.
async fn list_segments(dir: &Path) -> Result<Vec<u64>, Error> {
    let names = fs::list_dir(dir)
        .await
        .map_err(|e| Error::io("list", dir, &e))?;
    let mut segments: Vec<u64> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
    segments.sort_unstable();
    for pair in segments.windows(2) {
        if let [older, newer] = pair {
            if *newer != older + 1 {
                return Err(Error::MissingSegment { missing: older + 1 });
            }
        }
    }
    Ok(segments)
}

/// Cuts `path` to `len` bytes and syncs it (on glommio's blocking thread).
async fn truncate(path: &Path, len: u64) -> Result<(), Error> {
    let owned = path.to_path_buf();
    glommio::executor()
        .spawn_blocking(move || {
            let file = std::fs::OpenOptions::new().write(true).open(&owned)?;
            file.set_len(len)?;
            file.sync_all()
        })
        .await
        .map_err(|e| Error::io("truncate", path, &e))
}
