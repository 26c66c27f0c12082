//! Background merges: combine similar-sized parts of a partition into one, streaming block by
//! block in TSID order, at low priority and yielding often so ingest never waits on them.

pub mod planner;

use std::collections::BinaryHeap;
use std::io;
use std::rc::Rc;

use self::planner::{plan_merge, PartSize, MAX_PARTS_PER_MERGE};
use super::dedup::deduplicate;
use super::flush::Commit;
use super::part::block_stream_reader::{BlockStreamReader, DecodedBlock};
use super::part::builder::PartBuilder;
use super::partition::{LivePart, PartitionKey};
use super::table::Storage;
use super::write_gate::DiskWork;
use crate::index::Tsid;

/// A merge output at least this large goes to `big/` with a stronger zstd level.
pub const BIG_PART_MIN_ROWS: u64 = 8_000_000;
/// zstd level for merged small parts.
const SMALL_MERGE_ZSTD_LEVEL: i32 = 3;
/// zstd level for big parts: they live longest and are rewritten least.
const BIG_MERGE_ZSTD_LEVEL: i32 = 7;

impl Storage {
    /// Runs planned merges until no partition needs one. A merge that hits a full disk removes
    /// its partial output (its inputs stay live) and pauses writes for a back-off.
    pub async fn merge_pending(&self) -> io::Result<usize> {
        let result = self.run_planned_merges().await;
        self.note_merge(&result);
        result
    }

    /// Tells the write gate how merging went; a pass that merged nothing proves nothing.
    fn note_merge(&self, result: &io::Result<usize>) {
        if !matches!(result, Ok(0)) {
            self.note_disk_work(DiskWork::Merge, result);
        }
    }

    async fn run_planned_merges(&self) -> io::Result<usize> {
        let Ok(_permit) = self.merge_lock.acquire_permit(1).await else {
            return Ok(0);
        };
        let mut merges = 0;
        while let Some((key, ids)) = self.next_planned_merge() {
            if !self.merge_parts(key, &ids).await? {
                break;
            }
            merges += 1;
        }
        self.delete_retired().await;
        self.refresh_part_stats();
        Ok(merges)
    }

    /// Merges every partition down to one part (`/internal/force_merge`); `prefix` limits it to
    /// partitions whose name (`YYYY_MM`) starts with it.
    pub async fn force_merge(&self, prefix: &str) -> io::Result<usize> {
        let result = self.merge_down(prefix).await;
        self.note_merge(&result);
        result
    }

    async fn merge_down(&self, prefix: &str) -> io::Result<usize> {
        let Ok(_permit) = self.merge_lock.acquire_permit(1).await else {
            return Ok(0);
        };
        let mut merges = 0;
        loop {
            let next = self
                .partitions
                .borrow()
                .iter()
                .find_map(|(key, partition)| {
                    (key.to_string().starts_with(prefix) && partition.parts.len() > 1).then(|| {
                        // The oldest ones: a merge takes parts adjacent in age (partition.rs).
                        let mut parts: Vec<&LivePart> = partition.parts.iter().collect();
                        parts.sort_by_key(|p| (p.newest_write, p.id));
                        let ids: Vec<u64> = parts
                            .iter()
                            .take(MAX_PARTS_PER_MERGE)
                            .map(|p| p.id)
                            .collect();
                        (*key, ids)
                    })
                });
            let Some((key, ids)) = next else { break };
            if !self.merge_parts(key, &ids).await? {
                break;
            }
            merges += 1;
        }
        self.delete_retired().await;
        self.refresh_part_stats();
        Ok(merges)
    }

    fn next_planned_merge(&self) -> Option<(PartitionKey, Vec<u64>)> {
        let partitions = self.partitions.borrow();
        partitions.iter().find_map(|(key, partition)| {
            let sizes: Vec<PartSize> = partition
                .parts
                .iter()
                .map(|p| PartSize {
                    id: p.id,
                    newest_write: p.newest_write,
                    rows: p.part.metadata.rows,
                })
                .collect();
            plan_merge(&sizes).map(|ids| (*key, ids))
        })
    }

    /// Merges the parts `ids` of partition `key` into one; false if nothing was committed.
    async fn merge_parts(&self, key: PartitionKey, ids: &[u64]) -> io::Result<bool> {
        let mut inputs: Vec<LivePart> = {
            let partitions = self.partitions.borrow();
            let Some(partition) = partitions.get(&key) else {
                return Ok(false);
            };
            partition
                .parts
                .iter()
                .filter(|p| ids.contains(&p.id))
                .cloned()
                .collect()
        };
        // Older parts first: on equal timestamps the newer part's sample wins.
        inputs.sort_by_key(|p| (p.newest_write, p.id));
        let rows: u64 = inputs.iter().map(|p| p.part.metadata.rows).sum();
        let big = rows >= BIG_PART_MIN_ROWS || inputs.iter().any(|p| p.big);
        let level = if big {
            BIG_MERGE_ZSTD_LEVEL
        } else {
            SMALL_MERGE_ZSTD_LEVEL
        };
        let parts: Vec<_> = inputs.iter().map(|p| p.part.clone()).collect();
        self.stats.borrow_mut().merge_in_flight = 1;
        let built = merge_blocks(parts, self.options.dedup_interval_ms, level).await;
        self.stats.borrow_mut().merge_in_flight = 0;
        let builder = built?;
        let replaced: Vec<u64> = inputs.iter().map(|p| p.id).collect();
        drop(inputs);
        let committed = self
            .commit_part(Commit {
                key,
                builder: &builder,
                big,
                replaced: &replaced,
            })
            .await?;
        if committed {
            let mut stats = self.stats.borrow_mut();
            stats.merges += 1;
            stats.merged_rows += rows;
        }
        Ok(committed)
    }
}

/// Heap entry: the next block of one input, ordered by (TSID, input order).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Head {
    tsid: std::cmp::Reverse<Tsid>,
    input: std::cmp::Reverse<usize>,
}

/// k-way merge of `parts` (oldest first) into one part: per series, samples of all inputs are
/// combined, sorted, and deduplicated (equal timestamps: the newest input wins).
pub async fn merge_blocks(
    parts: Vec<Rc<super::part::Part>>,
    dedup_interval_ms: i64,
    zstd_level: i32,
) -> io::Result<PartBuilder> {
    let mut readers: Vec<BlockStreamReader> = Vec::with_capacity(parts.len());
    for part in parts {
        readers.push(BlockStreamReader::new(part).await?);
    }
    let mut heap = BinaryHeap::new();
    for (input, reader) in readers.iter().enumerate() {
        if let Some(header) = reader.peek() {
            heap.push(Head {
                tsid: std::cmp::Reverse(header.tsid),
                input: std::cmp::Reverse(input),
            });
        }
    }
    let mut builder = PartBuilder::new(zstd_level);
    let mut block = DecodedBlock::default();
    // (timestamp, input, value) of the current series: sorting by (timestamp, input) puts newer inputs last.
    let mut samples: Vec<(i64, usize, f64)> = Vec::new();
    let mut timestamps: Vec<i64> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    while let Some(Head {
        tsid: std::cmp::Reverse(tsid),
        ..
    }) = heap.peek().map(|h| Head {
        tsid: h.tsid,
        input: h.input,
    }) {
        samples.clear();
        while heap.peek().is_some_and(|h| h.tsid.0 == tsid) {
            let Some(Head {
                input: std::cmp::Reverse(input),
                ..
            }) = heap.pop()
            else {
                break;
            };
            let Some(reader) = readers.get_mut(input) else {
                continue;
            };
            while reader.peek().is_some_and(|h| h.tsid == tsid) {
                reader.next_block(&mut block).await?;
                samples.extend(
                    block
                        .timestamps
                        .iter()
                        .zip(&block.values)
                        .map(|(&t, &v)| (t, input, v)),
                );
            }
            if let Some(header) = reader.peek() {
                heap.push(Head {
                    tsid: std::cmp::Reverse(header.tsid),
                    input: std::cmp::Reverse(input),
                });
            }
        }
        let sorted = samples
            .windows(2)
            .all(|w| (w[0].0, w[0].1) <= (w[1].0, w[1].1));
        if !sorted {
            samples.sort_by_key(|&(t, input, _)| (t, input));
        }
        timestamps.clear();
        values.clear();
        timestamps.extend(samples.iter().map(|s| s.0));
        values.extend(samples.iter().map(|s| s.2));
        deduplicate(&mut timestamps, &mut values, dedup_interval_ms);
        builder.add_series(tsid, &timestamps, &values);
        glommio::yield_if_needed().await;
    }
    Ok(builder)
}
