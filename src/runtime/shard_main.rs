//! What each shard's executor runs: open storage, join the mesh, serve, flush on a timer, stop cleanly.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use futures_channel::oneshot;
use glommio::net::TcpListener;

use super::mesh::MeshEnds;
use super::repoll::repoll;
use super::CROSS_SHARD_REPOLL;
use crate::api::Api;
use crate::config::ServerFlags;
use crate::http::server::{self, Limits};
use crate::index::IndexOptions;
use crate::shard::Shard;
use crate::storage::wal::SyncMode;
use crate::storage::{fs, Storage, StorageOptions};

/// CPU shares of the merge task queue against 1000 for serving: merges use what ingest leaves.
const MERGE_SHARES: usize = 100;
/// How often retention looks for expired partitions.
const RETENTION_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Wait after a failed merge (a full disk, typically), doubling per consecutive failure.
const MERGE_RETRY_MIN: Duration = Duration::from_secs(1);
/// See [`MERGE_RETRY_MIN`].
const MERGE_RETRY_MAX: Duration = Duration::from_secs(60);

/// How long shutdown waits for requests in progress to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What a shard reports to the main thread while starting.
#[derive(Debug)]
pub enum Startup {
    /// Its storage is open (WAL replayed); it is about to connect to the other shards.
    StorageOpen,
    /// It serves.
    Ready,
    /// It cannot start, and why.
    Failed(String),
}

/// Everything a shard needs to start.
pub struct ShardStart {
    /// Its index.
    pub index: usize,
    /// Number of shards.
    pub shards: usize,
    /// Its directory.
    pub dir: PathBuf,
    /// Where to listen (a concrete port).
    pub listen: SocketAddr,
    /// Server flags.
    pub flags: Arc<ServerFlags>,
    /// This shard's ends of the channel mesh (taken when the shard connects them).
    pub mesh: Option<MeshEnds>,
    /// Reports start-up success or failure.
    pub ready: mpsc::Sender<Startup>,
    /// Fires on SIGINT/SIGTERM.
    pub stop: oneshot::Receiver<()>,
    /// Shards that have finished serving requests; flushing waits for all.
    pub drained: Arc<AtomicUsize>,
}

/// The shard's main future.
pub async fn run(mut start: ShardStart) -> Result<(), String> {
    let ready = start.ready.clone();
    let mesh = start.mesh.take();
    match open(&start, mesh).await {
        Ok(serving) => {
            let _ = ready.send(Startup::Ready);
            serve_until_stopped(start, serving).await
        }
        Err(error) => {
            let _ = ready.send(Startup::Failed(error.clone()));
            Err(error)
        }
    }
}

struct Serving {
    api: Rc<Api>,
    listener: TcpListener,
}

async fn open(start: &ShardStart, mesh: Option<MeshEnds>) -> Result<Serving, String> {
    let index = start.index;
    let wal_sync = match start.flags.wal_sync.as_str() {
        "batch" => SyncMode::Batch(start.flags.wal_batch_interval),
        "none" => SyncMode::None,
        _ => SyncMode::Always,
    };
    let options = StorageOptions {
        wal_sync: Some(wal_sync),
        retention_ms: start.flags.retention.as_millis() as i64,
        dedup_interval_ms: start.flags.dedup_min_scrape_interval.as_millis() as i64,
        index_cache_bytes: start.flags.index_block_cache_bytes / start.shards.max(1) as u64,
        time_checks: true,
        series_index: IndexOptions::with_budget(
            start.flags.series_index_cache_bytes / start.shards.max(1) as u64,
        ),
    };
    let mesh = mesh.ok_or_else(|| format!("BUG: shard {index} has no mesh ends"))?;
    let opening = ShardOpening {
        index,
        shards: start.shards,
        dir: &start.dir,
        options,
        flags: start.flags.clone(),
    };
    let api = open_shard(opening, mesh, || {
        let _ = start.ready.send(Startup::StorageOpen);
    })
    .await?;
    let listener = TcpListener::bind(start.listen).map_err(|e| {
        format!(
            "cannot listen on {}: {e}; choose another --listen",
            start.listen
        )
    })?;
    Ok(Serving { api, listener })
}

/// What [`open_shard`] needs besides the mesh.
pub struct ShardOpening<'a> {
    /// The shard's index.
    pub index: usize,
    /// Number of shards.
    pub shards: usize,
    /// Its directory.
    pub dir: &'a Path,
    /// How its storage is set up.
    pub options: StorageOptions,
    /// Server flags (query limits, lookback) its front uses.
    pub flags: Arc<ServerFlags>,
}

/// Opens a shard's storage, connects it to the other shards and starts answering their requests;
/// returns its front. `storage_open` runs once the storage is open, before the mesh connects.
/// The server and the embedded runtime (`embedded.rs`) start shards through this one path.
pub async fn open_shard(
    opening: ShardOpening<'_>,
    mesh: MeshEnds,
    storage_open: impl FnOnce(),
) -> Result<Rc<Api>, String> {
    let ShardOpening {
        index,
        shards,
        dir,
        options,
        flags,
    } = opening;
    // A heartbeat keeps the executor from parking for longer than a few ms, so that a lost
    // cross-executor wakeup (see repoll.rs) is always followed by another look at the tasks.
    glommio::spawn_local(async {
        loop {
            glommio::timer::sleep(CROSS_SHARD_REPOLL).await;
        }
    })
    .detach();
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create {}: {e}; check --data-dir", dir.display()))?;
    fs::prime_dma_probe(dir)
        .await
        .map_err(|e| format!("shard {index}: {e}"))?;
    // Re-polled: opening reads index and WAL files, and a rare lost wakeup in glommio 0.9 left
    // a start parked in io_uring with both shards idle (caught under gdb in tests/ecosystem_api).
    let storage = repoll(CROSS_SHARD_REPOLL, Storage::open(dir, options))
        .await
        .map_err(|e| format!("shard {index}: cannot open storage: {e}"))?;
    storage_open();
    let (senders, receivers) = mesh.connect().await;
    let shard = Rc::new(Shard {
        index,
        storage: Rc::new(storage),
        front_metrics: RefCell::new(Default::default()),
        metadata: RefCell::new(Default::default()),
    });
    for (_, receiver) in receivers {
        let shard = shard.clone();
        // One receive task per peer that only dispatches: never send on the mesh from here (notes/GLOMMIO.md §3).
        glommio::spawn_local(async move {
            // Not wrapped in `repoll`: glommio keeps a waker clone per poll of a pending channel
            // receive, and 32767 of them overflow the task's waker count (see repoll.rs). The
            // heartbeat above has the reactor re-check every channel each few ms instead.
            while let Some(request) = receiver.recv().await {
                let shard = shard.clone();
                glommio::spawn_local(async move { shard.handle(request).await }).detach();
            }
        })
        .detach();
    }
    Ok(Rc::new(Api {
        shard,
        senders,
        shards,
        flags,
        in_flight: Rc::new(Cell::new(0)),
        started_ms: crate::shard::now_ms(),
    }))
}

async fn serve_until_stopped(start: ShardStart, serving: Serving) -> Result<(), String> {
    let ShardStart {
        flags,
        stop,
        drained,
        shards,
        index,
        ..
    } = start;
    let storage = serving.api.shard.storage.clone();
    // The flusher is never cancelled mid-flush (that would drop rows taken from the buffer):
    // it checks `stopping` between flushes, and the final flush waits for one in progress.
    let stopping = Rc::new(Cell::new(false));
    {
        let storage = storage.clone();
        let interval = flags.flush_interval;
        let stopping = stopping.clone();
        glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(interval).await;
                if stopping.get() {
                    break;
                }
                if let Err(error) = storage.flush().await {
                    log::error!(
                        "shard {index}: flush failed, rows stay in memory and are retried: {error}"
                    );
                }
            }
        })
        .detach();
    }
    {
        let storage = storage.clone();
        let interval = flags.inmemory_part_interval;
        let stopping = stopping.clone();
        glommio::spawn_local(async move {
            while !stopping.get() {
                glommio::timer::sleep(interval).await;
                storage.seal_buffer().await;
            }
        })
        .detach();
    }
    spawn_merger(storage.clone(), index, stopping.clone())?;
    let limits = Limits {
        max_body_bytes: flags.max_request_bytes,
        idle_timeout: flags.http_idle_timeout,
        read_timeout: flags.http_read_timeout,
    };
    let acceptor =
        glommio::spawn_local(server::serve(serving.listener, serving.api.clone(), limits));
    let _ = stop.await;
    // Stop taking new connections, let requests in progress finish, then wait for every shard
    // to do the same (their requests may still send rows here) before the final flush.
    let _ = acceptor.cancel().await;
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while serving.api.in_flight.get() > 0 && Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
    drained.fetch_add(1, Ordering::SeqCst);
    while drained.load(Ordering::SeqCst) < shards && Instant::now() < deadline + DRAIN_TIMEOUT {
        glommio::timer::sleep(Duration::from_millis(2)).await;
    }
    stopping.set(true);
    storage
        .flush()
        .await
        .map_err(|e| format!("shard {index}: final flush failed: {e}"))?;
    Ok(())
}

/// Merges and retention run in their own task queue with few shares, and yield often, so that a
/// long merge never delays reading requests (notes/GLOMMIO.md §5). A merge cut short by shutdown
/// leaves only an uncommitted temp part, removed at the next start.
fn spawn_merger(
    storage: Rc<Storage>,
    index: usize,
    stopping: Rc<Cell<bool>>,
) -> Result<(), String> {
    let queue = glommio::executor().create_task_queue(
        glommio::Shares::Static(MERGE_SHARES),
        glommio::Latency::NotImportant,
        &format!("merge-{index}"),
    );
    let task = async move {
        let mut last_retention: Option<Instant> = None;
        let mut failed_merge_backoff = Duration::ZERO;
        while !stopping.get() {
            if last_retention.is_none_or(|at| at.elapsed() >= RETENTION_CHECK_INTERVAL) {
                last_retention = Some(Instant::now());
                if let Err(error) = storage.apply_retention(crate::shard::now_ms()).await {
                    log::error!("shard {index}: retention failed: {error}");
                }
            }
            match storage.merge_pending().await {
                Ok(_) => failed_merge_backoff = Duration::ZERO,
                Err(error) => {
                    // A merge that does not fit on a full disk is retried ever less often, so it
                    // pauses writes (write_gate.rs) ever more rarely.
                    failed_merge_backoff =
                        (failed_merge_backoff * 2).clamp(MERGE_RETRY_MIN, MERGE_RETRY_MAX);
                    log::error!(
                        "shard {index}: merge failed, its inputs stay live; next try in \
                         {failed_merge_backoff:?}: {error}"
                    );
                    glommio::timer::sleep(failed_merge_backoff).await;
                }
            }
            if let Err(error) = storage.merge_index().await {
                log::error!("shard {index}: index merge failed, its inputs stay live: {error}");
            }
            glommio::timer::sleep(Duration::from_millis(500)).await;
        }
    };
    glommio::spawn_local_into(task, queue)
        .map_err(|e| format!("shard {index}: cannot start the merger: {e}"))?
        .detach();
    Ok(())
}
