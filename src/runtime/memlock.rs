//! The locked-memory check: io_uring (through glommio) needs RLIMIT_MEMLOCK of at least 512 KiB.

use crate::sys;

/// glommio refuses to start below this (notes/GLOMMIO.md §1).
const MIN_MEMLOCK_BYTES: u64 = 512 * 1024;
/// Locked memory one executor registers when not root: 3 rings × 10 MiB io_memory plus ring memory.
const MEMLOCK_PER_SHARD_BYTES: u64 = 3 * 10 * 1024 * 1024 + 64 * 1024;

/// Raises the soft limit to the hard one, then fails with a fix if it is still too low.
pub fn check(shards: usize) -> Result<(), String> {
    let (soft, hard) =
        sys::memlock_limit().map_err(|e| format!("cannot read the locked-memory limit: {e}"))?;
    let mut soft = soft;
    if soft < hard && sys::set_memlock_soft(hard, hard).is_ok() {
        soft = hard;
    }
    if soft < MIN_MEMLOCK_BYTES {
        return Err(format!(
            "locked-memory limit is {} KiB, io_uring needs at least {} KiB: run `ulimit -l unlimited` (or set LimitMEMLOCK=infinity in the systemd unit) and start again",
            soft / 1024,
            MIN_MEMLOCK_BYTES / 1024
        ));
    }
    let wanted = MEMLOCK_PER_SHARD_BYTES * shards as u64;
    if !sys::is_root() && soft < wanted {
        log::warn!(
            "locked-memory limit is {} KiB, below the {} KiB that {shards} shards register for io_uring; I/O will run with unregistered buffers. Raise it with `ulimit -l unlimited`.",
            soft / 1024,
            wanted / 1024
        );
    }
    Ok(())
}
