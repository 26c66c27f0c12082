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
        let before = CpuTime::thread();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let spent = CpuTime::thread().since(&before);
        assert!(spent.total() >= Duration::from_millis(20), "{spent:?}");
        assert!(CpuTime::process().total() >= spent.total());
    }
}
