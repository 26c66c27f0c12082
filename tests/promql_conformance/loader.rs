//! Puts a script's `load` data where the engine reads it: two embedded shards with real storage
//! in a temp dir, the server's path end to end. Samples are routed to their owner shard like
//! remote_write rows, buffered and flushed into parts; queries run on shard 0's front, which
//! asks both shards to search their index and compute the rollups next to the data.
//! Retention checks are off: the scripts' data starts in 1970.

use std::cell::RefCell;
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Parser;
use strata::api::Api;
use strata::config::Cli;
use strata::ingest::remote_write::decode::{LabelLimits, Router};
use strata::runtime::embedded::Embedded;
use strata::shard::message::ShardRequest;
use strata::storage::StorageOptions;

use super::script::LoadedSeries;

/// Shards the scripts run on.
const SHARDS: usize = 2;

/// Set to leave loaded samples in the shards' in-memory buffers instead of flushing them into parts.
const KEEP_BUFFERED_ENV: &str = "STRATA_PROMQL_KEEP_BUFFERED";

/// Distinguishes the directories of successive states (one per `clear`).
static GENERATION: AtomicUsize = AtomicUsize::new(0);

/// The storage the scripts run against: started at the first use after each `clear`.
pub struct TestStorage {
    shards: RefCell<Option<Embedded>>,
    dir: RefCell<PathBuf>,
}

/// How long `clear` waits for the shards to stop before leaving them behind.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A directory no earlier state used.
fn fresh_dir() -> PathBuf {
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "strata-promql-conformance-{}-{generation}",
        std::process::id()
    ))
}

impl Default for TestStorage {
    fn default() -> Self {
        TestStorage {
            shards: RefCell::new(None),
            dir: RefCell::new(fresh_dir()),
        }
    }
}

impl TestStorage {
    /// Runs `job` on shard 0's front (starting the shards if needed).
    pub fn run<T, F, Fut>(&self, job: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(Rc<Api>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let mut shards = self.shards.borrow_mut();
        if shards.is_none() {
            let dir = self.dir.borrow().clone();
            let _ = std::fs::remove_dir_all(&dir);
            let options = StorageOptions {
                // The WAL only adds durability, which these runs do not need.
                wal_sync: None,
                retention_ms: i64::MAX,
                dedup_interval_ms: 0,
                time_checks: false,
                series_index: strata::index::IndexOptions::default(),
                index_cache_bytes: 64 << 20,
            };
            let flags = Cli::try_parse_from(["strata"])
                .map_err(|e| format!("default flags: {e}"))?
                .server;
            *shards = Some(Embedded::start(&dir, SHARDS, options, flags)?);
        }
        match shards.as_ref() {
            Some(shards) => shards.run(job),
            None => Err("no shards".to_string()),
        }
    }

    /// Adds every float sample of a `load` block, routed to the owner shards, then flushes them into parts.
    pub fn load(&self, series: &[LoadedSeries]) -> Result<(), String> {
        let limits = LabelLimits {
            max_labels: usize::MAX,
            max_name_bytes: usize::MAX,
            max_value_bytes: usize::MAX,
        };
        let mut router = Router::new(SHARDS, &limits);
        for s in series {
            let labels: Vec<(&[u8], &[u8])> = s
                .labels
                .iter()
                .map(|l| (l.name.as_bytes(), l.value.as_bytes()))
                .collect();
            router.route(&labels, s.samples.iter().copied(), s.samples.len());
        }
        if let Some(rejection) = router.decoded.first_rejection.take() {
            return Err(rejection);
        }
        let batches = std::mem::take(&mut router.decoded.batches);
        let flush = std::env::var_os(KEEP_BUFFERED_ENV).is_none();
        self.run(move |api| async move {
            let (_, rejected) = api.ingest_batches(batches).await.map_err(|e| e.message)?;
            if rejected > 0 {
                return Err(format!("{rejected} samples rejected"));
            }
            if !flush {
                return Ok(());
            }
            let flushed = api
                .ask(&api.all_shards(), |_, reply| ShardRequest::Flush { reply })
                .await
                .map_err(|e| e.message)?;
            flushed.into_iter().collect::<Result<Vec<()>, String>>()?;
            Ok(())
        })?
    }

    /// Drops everything (`clear`): the next use starts fresh shards in an empty directory.
    pub fn clear(&self) {
        let Some(shards) = self.shards.borrow_mut().take() else {
            return;
        };
        // Stopped on a helper thread with a deadline: a glommio executor that a lost wakeup
        // leaves parked in io_uring past every kick must not hang the whole run. Its threads
        // are then left behind (they die with the process) and the next state gets a new dir.
        let (stopped, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = stopped.send(shards.stop());
        });
        if wait.recv_timeout(STOP_WAIT).is_ok() {
            let _ = std::fs::remove_dir_all(&*self.dir.borrow());
        } else {
            eprintln!(
                "promql conformance: embedded shards did not stop within {STOP_WAIT:?} \
                 (glommio lost wakeup); leaving them and starting the next state in a new dir"
            );
            *self.dir.borrow_mut() = fresh_dir();
        }
    }
}

impl Drop for TestStorage {
    fn drop(&mut self) {
        self.clear();
    }
}
