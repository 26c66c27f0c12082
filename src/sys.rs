//! Thin wrappers over the few libc calls Strata needs: locks, limits, CPU affinity.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::fd::AsRawFd;

/// Takes an exclusive, non-blocking `flock` on `file`; false when another process holds it.
pub fn try_lock_exclusive(file: &File) -> bool {
    // SAFETY: flock on a valid, open file descriptor has no memory-safety preconditions.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// The soft and hard RLIMIT_MEMLOCK in bytes (`u64::MAX` = unlimited).
pub fn memlock_limit() -> std::io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass; it lives for the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// Raises the soft RLIMIT_MEMLOCK to `soft` (at most the hard limit).
pub fn set_memlock_soft(soft: u64, hard: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we pass; it lives for the call.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Whether the process runs as root (CAP_IPC_LOCK makes memlock accounting moot).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The CPUs this process may run on, in ascending order (honours taskset, cgroups, systemd CPUAffinity).
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: we pass the size of the set we own; the kernel fills it.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads within the set for indexes below CPU_SETSIZE.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Resident set size of this process in bytes, from /proc/self/statm.
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// The no-op signal [`kick_thread`] sends.
const KICK_SIGNAL: libc::c_int = libc::SIGUSR2;

extern "C" fn ignore_kick(_: libc::c_int) {}

/// The calling thread's id, for [`kick_thread`].
pub fn current_thread() -> libc::pthread_t {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

/// Installs a handler that does nothing for the kick signal, without SA_RESTART, so that a
/// kicked thread's blocking wait returns EINTR. Idempotent.
pub fn install_kick_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the handler does nothing (async-signal-safe); the struct is zeroed, then filled.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = ignore_kick as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(KICK_SIGNAL, &action, std::ptr::null_mut());
        }
    });
}

/// Interrupts `thread`'s blocking wait (after [`install_kick_handler`]). The caller guarantees
/// the thread has not ended.
pub fn kick_thread(thread: libc::pthread_t) {
    // SAFETY: the caller guarantees the thread is running; the signal's handler does nothing.
    unsafe { libc::pthread_kill(thread, KICK_SIGNAL) };
}
