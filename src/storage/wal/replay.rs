//! Replay at open: every intact record of every segment, in order, once; a damaged tail of the
//! last segment is cut off (truncated on disk) and reported, damage anywhere else is an error.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{Damage, Error};
use super::reader::{self, Step};
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

/// The records of a log directory, one at a time, so the caller may await between them:
/// `Replay::start`, `next` until `None`, then [`Wal::open_after`](super::Wal::open_after).
/// Reading never changes the files; cutting a damaged tail happens when the log opens.
pub struct Replay {
    dir: PathBuf,
    segments: Vec<u64>,
    /// Index in `segments` of the segment held in `data`; `None` before the first is read.
    index: Option<usize>,
    /// The whole current segment (bounded by the segment size). std reads after O_DIRECT writes
    /// are coherent and avoid glommio's garbage past EOF (notes/GLOMMIO.md gotcha 2).
    data: Vec<u8>,
    /// Offset in `data` of the next record.
    offset: usize,
    finished: bool,
    /// Damage in a segment other than the last: every later call returns it.
    corruption: Option<Error>,
    report: ReplayReport,
}

impl Replay {
    /// Lists the segments of `dir` (a missing dir is an empty log).
    pub async fn start(dir: &Path) -> Result<Replay, Error> {
        let segments = list_segments(dir).await?;
        Ok(Replay {
            dir: dir.to_path_buf(),
            finished: segments.is_empty(),
            segments,
            index: None,
            data: Vec::new(),
            offset: 0,
            corruption: None,
            report: ReplayReport::default(),
        })
    }

    /// The next intact record in log order, `None` after the last one (or a damaged tail of the
    /// last segment, see [`report`](Self::report)); damage in an earlier segment is an error.
    pub async fn next(&mut self) -> Result<Option<(RecordPosition, &[u8])>, Error> {
        loop {
            if let Some(error) = &self.corruption {
                return Err(error.clone());
            }
            if self.finished {
                return Ok(None);
            }
            let index = match self.index {
                Some(index) => index,
                None => self.load(0).await?,
            };
            let seq = self.segments.get(index).copied().unwrap_or_default();
            let is_last = index + 1 == self.segments.len();
            let at = RecordPosition {
                segment: seq,
                offset: self.offset as u64,
            };
            match reader::read_at(&self.data, self.offset) {
                Step::Record { payload } => {
                    self.offset = payload.end;
                    self.report.records += 1;
                    self.report.bytes += payload.len() as u64;
                    return Ok(Some((at, self.data.get(payload).unwrap_or_default())));
                }
                Step::End if is_last => self.finished = true,
                Step::End => {
                    self.load(index + 1).await?;
                }
                Step::Damaged { damage, .. } if !is_last => {
                    self.corruption = Some(Error::Corruption { at, damage });
                }
                Step::Damaged {
                    damage,
                    dropped_bytes,
                } => {
                    self.report.dropped_bytes = dropped_bytes;
                    self.report.dropped_from = Some(at);
                    self.report.damage = Some(damage);
                    self.finished = true;
                }
            }
        }
    }

    /// What was read so far (all of it once `next` returned `None`).
    pub fn report(&self) -> &ReplayReport {
        &self.report
    }

    /// The directory being replayed.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the segment at `index` into `data`.
    async fn load(&mut self, index: usize) -> Result<usize, Error> {
        let seq = self.segments.get(index).copied().unwrap_or_default();
        let path = segment_path(&self.dir, seq);
        self.data = fs::read_small_file(&path)
            .await
            .map_err(|e| Error::io("read segment", &path, &e))?
            .unwrap_or_default();
        self.offset = 0;
        self.index = Some(index);
        self.report.segments += 1;
        Ok(index)
    }

    /// Skips what the caller did not read, cuts a damaged tail off the last segment (durably:
    /// new records must never follow garbage) and says where writing resumes.
    pub(super) async fn finish(mut self) -> Result<Recovered, Error> {
        while self.next().await?.is_some() {}
        let mut resume = None;
        if let Some(&seq) = self.segments.last() {
            let good_end = self.offset as u64;
            if self.report.dropped_from.is_some() {
                truncate(&segment_path(&self.dir, seq), good_end).await?;
            }
            let start = usize::try_from(align_down(good_end)).unwrap_or(usize::MAX);
            resume = Some(Resume {
                seq,
                end: good_end,
                partial_block: self
                    .data
                    .get(start..self.offset)
                    .unwrap_or_default()
                    .to_vec(),
            });
        }
        Ok(Recovered {
            report: self.report,
            segments: self.segments,
            resume,
        })
    }
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

/// Cuts `path` to `len` bytes and syncs it. Called directly, not through glommio's
/// `spawn_blocking` (see `storage/fs.rs`): it runs once, at start-up, on a damaged tail.
async fn truncate(path: &Path, len: u64) -> Result<(), Error> {
    let cut = || -> std::io::Result<()> {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(len)?;
        file.sync_all()
    };
    cut().map_err(|e| Error::io("truncate", path, &e))
}
