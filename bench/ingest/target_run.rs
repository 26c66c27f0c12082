//! Loading one target: its connection threads, the once-a-second progress
//! monitor that also records samples per interval, and the final report.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::connection_worker::{new_latency_histogram, run_worker, TargetJob, WorkerResult};
use super::live_counters::LiveCounters;
use super::report::{ClientCpu, LatencySummary, ServerCpu, TargetReport};
use super::server_cpu;
use crate::cpu_time::CpuTime;

/// How often the monitor checks whether the connections are done, between ticks.
const MONITOR_POLL: Duration = Duration::from_millis(20);
/// Interval of the progress line and of `samples_per_interval`.
const TICK: Duration = Duration::from_secs(1);

/// A target being loaded.
pub struct TargetRun {
    job: Arc<TargetJob>,
    workers: Vec<JoinHandle<WorkerResult>>,
    started: Instant,
    /// Samples accepted per completed tick.
    intervals: Vec<u64>,
    /// `samples_accepted` at the last tick.
    accepted_at_tick: u64,
    last_tick: Instant,
    /// When the monitor saw the last connection finish.
    finished: Option<Instant>,
    /// Length of the final, partial interval.
    last_interval: Duration,
    /// The server's process, with its CPU seconds at the start and when the run finished.
    server: Option<(u32, Option<f64>, Option<f64>)>,
}

impl TargetRun {
    /// Starts `connections` threads sending `job`'s requests.
    pub fn start(
        job: TargetJob,
        connections: u64,
        server_pid: Option<u32>,
    ) -> std::io::Result<TargetRun> {
        let job = Arc::new(job);
        let server = server_pid.map(|pid| (pid, server_cpu::process_cpu_seconds(pid), None));
        let started = Instant::now();
        let mut workers = Vec::new();
        for index in 0..connections {
            let job = Arc::clone(&job);
            LiveCounters::add(&job.live.workers_running, 1);
            let handle = std::thread::Builder::new()
                .name(format!("conn-{index}"))
                .spawn(move || {
                    let result = run_worker(&job);
                    job.live
                        .workers_running
                        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    result
                })?;
            workers.push(handle);
        }
        Ok(TargetRun {
            job,
            workers,
            started,
            intervals: Vec::new(),
            accepted_at_tick: 0,
            last_tick: started,
            finished: None,
            last_interval: Duration::ZERO,
            server,
        })
    }

    fn running(&self) -> bool {
        LiveCounters::get(&self.job.live.workers_running) > 0
    }

    /// Closes the current interval at `now`.
    fn tick(&mut self, now: Instant) {
        let accepted = LiveCounters::get(&self.job.live.samples_accepted);
        self.intervals.push(accepted - self.accepted_at_tick);
        self.accepted_at_tick = accepted;
        self.last_interval = now.saturating_duration_since(self.last_tick);
        self.last_tick = now;
    }

    fn progress_line(&self, now: Instant) -> String {
        let live = &self.job.live;
        let last = self.intervals.last().copied().unwrap_or(0);
        format!(
            "[{:>5.0}s] {}: {:>10} samples/s, {} samples ok, {}/{} requests, {} errors",
            (now - self.started).as_secs_f64(),
            self.job.target,
            last,
            LiveCounters::get(&live.samples_accepted),
            LiveCounters::get(&live.requests_sent),
            self.job.max_requests,
            LiveCounters::get(&live.errors),
        )
    }

    /// Joins the connections and builds the report.
    pub fn finish(self) -> TargetReport {
        let mut latency = new_latency_histogram();
        let mut errors = std::collections::BTreeMap::new();
        let mut error_examples = std::collections::BTreeMap::new();
        let mut cpu = CpuTime::default();
        let mut ended = None::<Instant>;
        for worker in self.workers {
            let Ok(result) = worker.join() else {
                *errors
                    .entry("client_thread_panicked".to_string())
                    .or_insert(0) += 1;
                continue;
            };
            // Same bounds on both sides, so adding cannot fail.
            let _ = latency.add(&result.latency_micros);
            for (key, count) in result.errors {
                *errors.entry(key).or_insert(0) += count;
            }
            for (key, message) in result.error_examples {
                error_examples.entry(key).or_insert(message);
            }
            cpu = cpu.plus(&result.cpu);
            ended = ended.max(Some(result.ended));
        }
        // The connections' own end times are exact; the monitor's is up to a poll late.
        let finished = ended.or(self.finished).unwrap_or_else(Instant::now);
        let elapsed = (finished - self.started).as_secs_f64().max(1e-9);
        let live = &self.job.live;
        let accepted = LiveCounters::get(&live.samples_accepted);
        TargetReport {
            target: self.job.target.clone(),
            requests_sent: LiveCounters::get(&live.requests_sent),
            requests_ok: LiveCounters::get(&live.requests_ok),
            samples_accepted: accepted,
            bytes_sent: LiveCounters::get(&live.bytes_sent),
            elapsed_seconds: elapsed,
            samples_per_second: accepted as f64 / elapsed,
            latency_ms: LatencySummary::from_micros(&latency),
            errors,
            error_examples,
            client_cpu: ClientCpu {
                user_seconds: cpu.user.as_secs_f64(),
                system_seconds: cpu.system.as_secs_f64(),
                ns_per_sample: (accepted > 0)
                    .then(|| cpu.total().as_nanos() as f64 / accepted as f64),
            },
            server_cpu: self.server.map(|(pid, start, end)| {
                let cpu_seconds = match (start, end) {
                    (Some(start), Some(end)) => end - start,
                    _ => f64::NAN,
                };
                ServerCpu {
                    pid,
                    cpu_seconds,
                    us_per_sample: (accepted > 0).then(|| cpu_seconds * 1e6 / accepted as f64),
                }
            }),
            samples_per_interval: self.intervals,
            last_interval_seconds: self.last_interval.as_secs_f64(),
        }
    }
}

/// Waits for every run to finish, recording an interval and printing a
/// progress line on stderr for each run every second.
pub fn monitor(runs: &mut [TargetRun]) {
    let start = Instant::now();
    let mut next_tick = start + TICK;
    loop {
        let now = Instant::now();
        for run in runs.iter_mut() {
            if run.finished.is_none() && !run.running() {
                run.finished = Some(now);
                if let Some((pid, _, end)) = &mut run.server {
                    *end = server_cpu::process_cpu_seconds(*pid);
                }
            }
        }
        if runs.iter().all(|run| run.finished.is_some()) {
            break;
        }
        if now >= next_tick {
            for run in runs.iter_mut().filter(|run| run.finished.is_none()) {
                run.tick(now);
                eprintln!("{}", run.progress_line(now));
            }
            next_tick += TICK;
            continue;
        }
        std::thread::sleep(MONITOR_POLL.min(next_tick - now));
    }
    // The last, partial interval.
    for run in runs.iter_mut() {
        let end = run.finished.unwrap_or_else(Instant::now);
        run.tick(end);
    }
}
