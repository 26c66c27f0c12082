//! Shards inside another program: N shard executors with real storage in a directory, connected
//! by the same mesh as the server's, without HTTP. The caller's thread hands jobs to shard 0's
//! front ([`Embedded::run`]), which reaches the other shards exactly as a server front does
//! (`ShardRequest` messages, rollups computed by the owner shard). Used by tests that must go
//! through the server's storage and query path without a process and a socket in between.
//!
//! glommio 0.9 rarely leaves an executor parked in the kernel past its own timers (a lost
//! wakeup; seen about once in a few hundred starts here, the peer then spins waiting for it).
//! Whoever waits on the shards longer than [`KICK_AFTER`] therefore interrupts their threads'
//! wait with a no-op signal: glommio treats EINTR as a wakeup and looks at its timers again.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use futures_channel::{mpsc as async_mpsc, oneshot};
use futures_lite::StreamExt;
use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};

use super::mesh;
use super::repoll::repoll;
use super::shard_main::{open_shard, ShardOpening};
use super::{CROSS_SHARD_REPOLL, MESH_CHANNEL_CAPACITY, PREEMPT_TIMER};
use crate::api::Api;
use crate::config::ServerFlags;
use crate::storage::StorageOptions;

/// How long a wait on the shards goes before their threads are kicked.
pub const KICK_AFTER: Duration = Duration::from_secs(1);
/// A job still unfinished after this is reported as an error rather than waited for forever.
pub const JOB_DEADLINE: Duration = Duration::from_secs(60);
/// Longest the shards may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends the kick signal to every listed shard thread.
fn kick(threads: &Mutex<Vec<libc::pthread_t>>) {
    if let Ok(list) = threads.lock() {
        for &thread in list.iter() {
            // A listed thread is running: it leaves the list (under this lock) before it ends.
            crate::sys::kick_thread(thread);
        }
    }
}

/// One embedded shard's life: open, report, then run jobs (shard 0) or wait for the stop.
async fn serve(
    opening: ShardOpening<'_>,
    ends: mesh::MeshEnds,
    ready: mpsc::Sender<Result<(), String>>,
    jobs: Option<async_mpsc::UnboundedReceiver<Job>>,
    stop: oneshot::Receiver<()>,
) -> Result<(), String> {
    let api = match open_shard(opening, ends, || {}).await {
        Ok(api) => {
            let _ = ready.send(Ok(()));
            api
        }
        Err(error) => {
            let _ = ready.send(Err(error.clone()));
            return Err(error);
        }
    };
    match jobs {
        Some(mut jobs) => {
            while let Some(job) = repoll(CROSS_SHARD_REPOLL, jobs.next()).await {
                job(api.clone()).await;
            }
        }
        None => {
            let _ = repoll(CROSS_SHARD_REPOLL, stop).await;
        }
    }
    Ok(())
}

/// A job for shard 0's front: builds a future on that shard's thread.
type Job = Box<dyn FnOnce(Rc<Api>) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// Running embedded shards; stopped (and their executors joined) on drop.
pub struct Embedded {
    jobs: Option<async_mpsc::UnboundedSender<Job>>,
    stops: Vec<oneshot::Sender<()>>,
    handles: Vec<ExecutorJoinHandle<Result<(), String>>>,
    /// The shards' threads, to kick.
    threads: Arc<Mutex<Vec<libc::pthread_t>>>,
}

impl Embedded {
    /// Starts `shards` shards storing under `dir` (one subdirectory each) with `options`; `flags`
    /// supply the fronts' query settings. Returns once every shard serves.
    pub fn start(
        dir: &Path,
        shards: usize,
        options: StorageOptions,
        flags: ServerFlags,
    ) -> Result<Embedded, String> {
        let shards = shards.max(1);
        crate::sys::install_kick_handler();
        let flags = Arc::new(flags);
        let (jobs_tx, jobs_rx) = async_mpsc::unbounded::<Job>();
        let mut jobs_rx = Some(jobs_rx);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let mut embedded = Embedded {
            jobs: Some(jobs_tx),
            stops: Vec::with_capacity(shards),
            handles: Vec::with_capacity(shards),
            threads: Arc::new(Mutex::new(Vec::with_capacity(shards))),
        };
        for (index, ends) in mesh::build(shards, MESH_CHANNEL_CAPACITY)
            .into_iter()
            .enumerate()
        {
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            embedded.stops.push(stop_tx);
            let jobs = if index == 0 { jobs_rx.take() } else { None };
            let dir = dir.join(format!("shard-{index}"));
            let flags = flags.clone();
            let ready = ready_tx.clone();
            let threads = embedded.threads.clone();
            let handle = LocalExecutorBuilder::new(Placement::Unbound)
                .name(&format!("embedded-shard-{index}"))
                .preempt_timer(PREEMPT_TIMER)
                .spawn(move || async move {
                    let thread = crate::sys::current_thread();
                    if let Ok(mut list) = threads.lock() {
                        list.push(thread);
                    }
                    let opening = ShardOpening {
                        index,
                        shards,
                        dir: &dir,
                        options,
                        flags,
                    };
                    let result = serve(opening, ends, ready, jobs, stop_rx).await;
                    // Off the list before the thread ends, so that no kick can reach a finished thread.
                    if let Ok(mut list) = threads.lock() {
                        list.retain(|&t| t != thread);
                    }
                    result
                })
                .map_err(|e| format!("cannot start embedded shard {index}: {e}"))?;
            embedded.handles.push(handle);
        }
        drop(ready_tx);
        let deadline = Instant::now() + START_TIMEOUT;
        let mut ready = 0;
        while ready < shards {
            match ready_rx.recv_timeout(KICK_AFTER) {
                Ok(Ok(())) => ready += 1,
                Ok(Err(error)) => return Err(error),
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    embedded.kick()
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err("embedded shards did not start within 60s".to_string())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err("an embedded shard died while starting".to_string())
                }
            }
        }
        Ok(embedded)
    }

    /// Runs `job` on shard 0's front and returns its output once it finishes.
    pub fn run<T, F, Fut>(&self, job: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(Rc<Api>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let (tx, rx) = mpsc::sync_channel::<T>(1);
        let job: Job = Box::new(move |api| {
            Box::pin(async move {
                let _ = tx.send(job(api).await);
            })
        });
        self.jobs
            .as_ref()
            .ok_or("embedded shards are stopped")?
            .unbounded_send(job)
            .map_err(|_| "embedded shard 0 is not running".to_string())?;
        let deadline = Instant::now() + JOB_DEADLINE;
        loop {
            match rx.recv_timeout(KICK_AFTER) {
                Ok(value) => return Ok(value),
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => self.kick(),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "embedded shard 0 did not finish a job within {JOB_DEADLINE:?}"
                    ))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err("embedded shard 0 dropped the job".to_string())
                }
            }
        }
    }

    /// Interrupts every shard thread's wait (see the module comment).
    fn kick(&self) {
        kick(&self.threads);
    }

    /// Stops every shard and waits for their threads; the first shard error, if any.
    pub fn stop(mut self) -> Result<(), String> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), String> {
        self.jobs = None;
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        // Kick until every shard has finished: a parked shard must not hang the join. The kicker
        // ends as soon as `finished` is dropped.
        let (finished, until_finished) = mpsc::channel::<()>();
        let kicker = {
            let threads = self.threads.clone();
            std::thread::spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    until_finished.recv_timeout(KICK_AFTER)
                {
                    kick(&threads);
                }
            })
        };
        let mut failure = Ok(());
        for (index, handle) in self.handles.drain(..).enumerate() {
            match handle.join() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => failure = Err(error),
                Err(error) => failure = Err(format!("embedded shard {index} failed: {error}")),
            }
        }
        drop(finished);
        let _ = kicker.join();
        failure
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}
