//! CPU time used by this process or the calling thread (getrusage), so a
//! benchmark can tell the client's cost apart from the server's.

use std::time::Duration;

/// User and system CPU time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTime {
    /// Time in user space.
    pub user: Duration,
    /// Time in the kernel on our behalf.
    pub system: Duration,
}

impl CpuTime {
    /// CPU time of the whole process so far.
    pub fn process() -> CpuTime {
        rusage(libc::RUSAGE_SELF)
    }

    /// CPU time of the calling thread so far.
    pub fn thread() -> CpuTime {
        rusage(libc::RUSAGE_THREAD)
    }

    /// User plus system time.
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// Time spent since `earlier`.
    pub fn since(&self, earlier: &CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }

    /// Sum of two measurements (e.g. of several threads).
    pub fn plus(&self, other: &CpuTime) -> CpuTime {
        CpuTime {
            user: self.user + other.user,
            system: self.system + other.system,
        }
    }
}

/// Clock ticks per second of `/proc` times (USER_HZ; 100 on common architectures).
pub fn clock_ticks_per_second() -> f64 {
    #[expect(unsafe_code, reason = "sysconf has no safe wrapper in std or libc")]
    // SAFETY: sysconf only reads a configuration value; any name is allowed.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

#[expect(unsafe_code, reason = "getrusage has no safe wrapper in std or libc")]
fn rusage(who: libc::c_int) -> CpuTime {
    let mut usage: libc::rusage = unsafe {
        // SAFETY: rusage is a plain C struct of integers; all-zero bytes are a valid value.
        std::mem::zeroed()
    };
    // SAFETY: `usage` is a valid, exclusively borrowed rusage for the call's duration.
    let rc = unsafe { libc::getrusage(who, &mut usage) };
    if rc != 0 {
        // Only EINVAL (a bad `who`) is possible, which would be a bug here.
        return CpuTime::default();
    }
    let duration = |tv: libc::timeval| {
        Duration::from_secs(tv.tv_sec.max(0) as u64)
            + Duration::from_micros(tv.tv_usec.max(0) as u64)
    };
    CpuTime {
        user: duration(usage.ru_utime),
        system: duration(usage.ru_stime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_thread_time_grows_and_stays_within_process_time() {
        // Spin until the thread has used 20 ms of CPU; a shared, busy machine
        // only makes this take longer, up to the wall-clock bound.
        let before = CpuTime::thread();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while CpuTime::thread().since(&before).total() < Duration::from_millis(20) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "thread CPU time does not grow"
            );
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        let spent = CpuTime::thread().since(&before);
        assert!(CpuTime::process().total() >= spent.total());
    }
}
