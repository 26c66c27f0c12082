//! Start-up, the shards' executors, and shutdown.
//!
//! Every check that can fail before serving runs first on the main thread and
//! ends start-up with one line naming the problem and the fix. Then one glommio
//! executor per shard is spawned, shard i pinned to the i-th CPU the process may
//! use; each reports ready (or its error) before the server is announced.

pub mod embedded;
pub mod memlock;
pub mod mesh;
pub mod repoll;
pub mod shard_main;
pub mod shutdown;

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};

use crate::config::ServerFlags;
use crate::storage::data_dir::DataDir;

/// Capacity of each cross-shard channel: large, so senders rarely park (notes/GLOMMIO.md §3).
pub const MESH_CHANNEL_CAPACITY: usize = 1024;
/// How long a task queue may run before the scheduler looks at others: short, so a busy
/// flush or merge cannot delay socket reads by the 100 ms default (notes/GLOMMIO.md gotcha 5).
pub const PREEMPT_TIMER: Duration = Duration::from_millis(2);
/// An idle shard spins this long before parking: cuts a cross-shard round trip from ~65 µs to ~15 µs.
pub const SPIN_BEFORE_PARK: Duration = Duration::from_micros(50);
/// Longest the shards may take to connect to each other once their storage is open.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Cross-shard waits are polled again this often, to recover from a lost wakeup (see `repoll.rs`).
pub const CROSS_SHARD_REPOLL: Duration = Duration::from_millis(5);

/// Runs the server until SIGINT/SIGTERM; `Err` is the one-line reason start-up or shutdown failed.
pub fn run(flags: ServerFlags) -> Result<(), String> {
    flags.validate()?;
    let cpus = crate::sys::allowed_cpus();
    let shards = flags.shards.unwrap_or(cpus.len()).max(1);
    if shards > cpus.len() {
        log::warn!("--shards {shards} is more than the {} CPUs this process may use; shards will share CPUs", cpus.len());
    }
    memlock::check(shards)?;
    let data_dir = DataDir::open(&flags.data_dir, shards)?;
    let listen = reserve_listen_address(flags.listen)?;
    let flags = Arc::new(flags);
    let mut mesh = mesh::build(shards, MESH_CHANNEL_CAPACITY).into_iter();
    let (ready_tx, ready_rx) = mpsc::channel::<shard_main::Startup>();
    let stops = shutdown::install(shards)?;
    let drained = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(shards);
    for (index, stop) in stops.into_iter().enumerate() {
        let cpu = cpus.get(index % cpus.len()).copied().unwrap_or(0);
        let context = shard_main::ShardStart {
            index,
            shards,
            dir: data_dir.shard_path(index),
            listen,
            flags: flags.clone(),
            mesh: Some(mesh.next().ok_or("BUG: fewer mesh ends than shards")?),
            ready: ready_tx.clone(),
            stop,
            drained: drained.clone(),
        };
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("shard-{index}"))
            .preempt_timer(PREEMPT_TIMER)
            .spin_before_park(SPIN_BEFORE_PARK)
            .spawn(move || shard_main::run(context))
            .map_err(|e| format!("cannot start shard {index} on CPU {cpu}: {e}"))?;
        handles.push(handle);
    }
    drop(ready_tx);
    wait_for_shards(&ready_rx, shards, &mut handles)?;
    println!(
        "strata listening on http://{listen} ({shards} shards, data dir {})",
        data_dir.path().display()
    );
    let mut failure = None;
    for (index, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => failure = Some(error),
            Err(error) => failure = Some(format!("shard {index} failed: {error}")),
        }
    }
    drop(data_dir);
    match failure {
        Some(error) => Err(error),
        None => {
            log::info!("clean shutdown");
            Ok(())
        }
    }
}

/// A shard executor's join handle.
type ShardHandle = glommio::ExecutorJoinHandle<Result<(), String>>;

/// Waits until every shard serves. Opening storage may take long (WAL replay); connecting the
/// shards to each other must not, so only that phase has a deadline: a rare lost wakeup between
/// glommio executors can stall it, and exiting with an error beats hanging for ever.
fn wait_for_shards(
    ready: &mpsc::Receiver<shard_main::Startup>,
    shards: usize,
    handles: &mut Vec<ShardHandle>,
) -> Result<(), String> {
    let (mut opened, mut serving) = (0, 0);
    let mut deadline: Option<std::time::Instant> = None;
    while serving < shards {
        let message = match deadline {
            None => ready
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            Some(at) => ready.recv_timeout(at.saturating_duration_since(std::time::Instant::now())),
        };
        match message {
            Ok(shard_main::Startup::StorageOpen) => {
                opened += 1;
                if opened == shards {
                    deadline = Some(std::time::Instant::now() + STARTUP_TIMEOUT);
                }
            }
            Ok(shard_main::Startup::Ready) => serving += 1,
            Ok(shard_main::Startup::Failed(error)) => return Err(error),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "start-up stalled: the shards did not connect to each other within {}s (a rare lost wakeup between glommio executors); start strata again",
                    STARTUP_TIMEOUT.as_secs()
                ));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // A shard died before reporting: executor errors surface only at join (notes/GLOMMIO.md gotcha 9).
                for handle in handles.drain(..) {
                    if let Err(error) = handle.join() {
                        return Err(format!("a shard failed to start: {error}"));
                    }
                }
                return Err("a shard failed to start".to_string());
            }
        }
    }
    Ok(())
}

/// Checks the listen address is free (SO_REUSEPORT would hide a conflict, notes/GLOMMIO.md gotcha 8)
/// and resolves port 0 to one free port shared by all shards.
fn reserve_listen_address(listen: SocketAddr) -> Result<SocketAddr, String> {
    let probe = std::net::TcpListener::bind(listen).map_err(|e| {
        format!("cannot listen on {listen}: {e}; stop whatever uses that port or choose another --listen")
    })?;
    probe
        .local_addr()
        .map_err(|e| format!("cannot read the listen address: {e}"))
}
