//! CPU time of a server process on this machine, read from `/proc/<pid>/stat`,
//! so a run can report the server's cost per sample next to the client's.

/// User plus system CPU seconds of process `pid` (all its threads), if readable.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = parse_stat_ticks(&stat)?;
    Some(ticks as f64 / crate::cpu_time::clock_ticks_per_second())
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line, in clock ticks.
/// The command name (field 2) may contain spaces and parentheses, so fields are
/// counted from the last `)`.
fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times_after_an_awkward_command_name() {
        let line =
            "4242 (victoria (x) m) S 1 4242 4242 0 -1 4194560 1234 0 0 0 700 20 0 0 20 0 12 0 99 0";
        assert_eq!(parse_stat_ticks(line), Some(720));
        assert_eq!(parse_stat_ticks("4242 (vm) S 1"), None);
    }

    #[test]
    fn reads_own_process() {
        let seconds = process_cpu_seconds(std::process::id());
        assert!(seconds.is_some_and(|s| s >= 0.0));
    }
}
