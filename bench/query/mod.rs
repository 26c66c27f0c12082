//! `strata-bench query`: runs the dashboard query set (`query_set`) against
//! one or more targets, N repetitions each, and reports latency percentiles
//! per query and whether each target's answers match a reference server's
//! (Prometheus) within promqltest's tolerance (`answer`).
//!
//! A 400 that says "not implemented" or "unsupported" (Strata while its PromQL engine lands)
//! is recorded as unsupported, not as a failure, so the same command shows
//! progress as the engine grows.

pub mod answer;
pub mod query_set;

use std::time::{Duration, Instant};

use clap::Args;
use hdrhistogram::Histogram;

use crate::duration_arg::parse_duration;
use crate::error::BenchError;
use crate::http_client::HttpConnection;
use crate::report::results::{AnswerCheck, Percentiles, QueryResult, QueryStatus};
use crate::workload_file;
use answer::Answer;
use query_set::QuerySpec;

/// Flags of `query`.
#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Workload file the targets were loaded with (gives the queried time range).
    #[arg(long, short)]
    pub file: String,
    /// Server to query, `host:port`; repeat for several. Answers of the first
    /// one that differ from `--reference` make the command fail.
    #[arg(long = "target", required = true)]
    pub targets: Vec<String>,
    /// Server whose answers are taken as right (Prometheus), `host:port`.
    #[arg(long)]
    pub reference: Option<String>,
    /// Times each query is sent to each target.
    #[arg(long, default_value_t = 10)]
    pub repetitions: u64,
    /// Per-request timeout.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json_out: Option<String>,
}

/// One target's results in `--json-out`.
#[derive(serde::Serialize)]
struct TargetQueries {
    /// `host:port`, with ` (reference)` for the reference.
    target: String,
    /// Per query, in set order.
    results: Vec<QueryResult>,
}

/// One target's answer to one query, before comparison.
pub struct QueryOutcome {
    /// Status and latency; `answer` is filled in by `check_answers`.
    pub result: QueryResult,
    /// The parsed answer of the last repetition, when it succeeded.
    pub answer: Option<Answer>,
}

/// Latency bounds: 1 µs to 10 min, 3 significant digits.
fn new_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, 600_000_000, 3) {
        Ok(histogram) => histogram,
        Err(e) => panic!("BUG: constant histogram bounds rejected: {e}"),
    }
}

/// Percentiles in ms of a histogram of µs.
pub fn percentiles(histogram: &Histogram<u64>) -> Percentiles {
    let ms = |micros: u64| micros as f64 / 1000.0;
    Percentiles {
        count: histogram.len(),
        p50: ms(histogram.value_at_quantile(0.5)),
        p90: ms(histogram.value_at_quantile(0.9)),
        p99: ms(histogram.value_at_quantile(0.99)),
        max: ms(histogram.max()),
    }
}

/// Classifies a non-2xx answer.
fn failure_status(status: u16, body: &[u8]) -> QueryStatus {
    let text = String::from_utf8_lossy(body.get(..300).unwrap_or(body)).to_string();
    let lower = text.to_ascii_lowercase();
    let unimplemented = ["not implemented", "unsupported", "implemented so far"]
        .iter()
        .any(|phrase| lower.contains(phrase));
    if status == 400 && unimplemented {
        QueryStatus::Unsupported(text)
    } else {
        QueryStatus::Error(format!("HTTP {status}: {text}"))
    }
}

/// Sends one query `repetitions` times over `connection` (reconnecting as needed).
fn run_one(
    target: &str,
    connection: &mut Option<HttpConnection>,
    spec: &QuerySpec,
    repetitions: u64,
    timeout: Duration,
) -> QueryOutcome {
    let mut histogram = new_histogram();
    let mut status = QueryStatus::Ok;
    let mut last_body = Vec::new();
    let path = spec.path();
    for _ in 0..repetitions {
        let started = Instant::now();
        let sent = match connection.take() {
            Some(conn) => Ok(conn),
            None => HttpConnection::connect(target, timeout),
        }
        .and_then(|mut conn| conn.get(&path).map(|answer| (conn, answer)));
        let (conn, (response, body)) = match sent {
            Ok(done) => done,
            Err(e) => {
                status = QueryStatus::Error(e.to_string());
                break;
            }
        };
        let micros = started.elapsed().as_micros() as u64;
        if !response.close {
            *connection = Some(conn);
        }
        if !(200..300).contains(&response.status) {
            status = failure_status(response.status, &body);
            break;
        }
        histogram.saturating_record(micros.max(1));
        last_body = body;
    }
    let answer = match status {
        QueryStatus::Ok => match answer::parse(&last_body) {
            Ok(answer) => Some(answer),
            Err(reason) => {
                status = QueryStatus::Error(format!("unreadable answer: {reason}"));
                None
            }
        },
        _ => None,
    };
    QueryOutcome {
        result: QueryResult {
            name: spec.name.to_string(),
            status,
            latency_ms: percentiles(&histogram),
            answer: AnswerCheck::NotCompared,
        },
        answer,
    }
}

/// Runs the whole set against `target`, printing progress on stderr.
pub fn run_set(
    target: &str,
    set: &[QuerySpec],
    repetitions: u64,
    timeout: Duration,
) -> Vec<QueryOutcome> {
    let mut connection = None;
    set.iter()
        .map(|spec| {
            let outcome = run_one(target, &mut connection, spec, repetitions, timeout);
            let r = &outcome.result;
            eprintln!(
                "query {target} {}: {} p50 {:.2} ms p99 {:.2} ms",
                spec.name,
                r.status.label(),
                r.latency_ms.p50,
                r.latency_ms.p99
            );
            outcome
        })
        .collect()
}

/// Fills in `answer` of every outcome against the reference's outcomes (same set order).
pub fn check_answers(reference: &[QueryOutcome], outcomes: &mut [QueryOutcome]) {
    for (expected, outcome) in reference.iter().zip(outcomes.iter_mut()) {
        outcome.result.answer = match (&expected.answer, &outcome.answer) {
            (Some(expected), Some(got)) => match answer::compare(expected, got) {
                Ok(()) => AnswerCheck::Equal,
                Err(why) => AnswerCheck::Different(why),
            },
            _ => AnswerCheck::NotCompared,
        };
    }
}

/// Marks the reference's own outcomes.
pub fn mark_reference(outcomes: &mut [QueryOutcome]) {
    for outcome in outcomes.iter_mut().filter(|o| o.answer.is_some()) {
        outcome.result.answer = AnswerCheck::Reference;
    }
}

/// The query set for a workload file's time range.
pub fn set_for_workload(path: &str) -> Result<Vec<QuerySpec>, BenchError> {
    let bytes = std::fs::read(path).map_err(|e| BenchError::io("read", path, e))?;
    let workload = workload_file::parse(bytes).map_err(|reason| BenchError::Format {
        path: path.to_string(),
        reason,
    })?;
    let totals = &workload.header.totals;
    Ok(query_set::dashboard(
        totals.min_timestamp_ms,
        totals.max_timestamp_ms,
    ))
}

fn print_results(targets: &[String], results: &[Vec<QueryResult>]) {
    for (target, results) in targets.iter().zip(results) {
        println!("target {target}");
        for r in results {
            let l = &r.latency_ms;
            let latency = if r.status == QueryStatus::Ok {
                format!(
                    "p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms",
                    l.p50, l.p90, l.p99
                )
            } else {
                format!("{:<44}", "-")
            };
            println!(
                "  {:<24} {:<11} {latency}  answer {}",
                r.name,
                r.status.label(),
                r.answer.label()
            );
            if let AnswerCheck::Different(why) = &r.answer {
                println!("      difference: {why:.300}");
            }
            if let QueryStatus::Error(why) | QueryStatus::Unsupported(why) = &r.status {
                println!("      {}: {why:.200}", r.status.label());
            }
        }
    }
}

/// Runs `query`.
pub fn run(args: &QueryArgs) -> Result<(), BenchError> {
    if args.repetitions == 0 {
        return Err(BenchError::InvalidArgs(
            "--repetitions must be positive".to_string(),
        ));
    }
    let set = set_for_workload(&args.file)?;
    let reference = args.reference.as_ref().map(|target| {
        let mut outcomes = run_set(target, &set, args.repetitions, args.timeout);
        mark_reference(&mut outcomes);
        outcomes
    });
    let mut names = args.targets.clone();
    let mut all = Vec::new();
    for target in &args.targets {
        let mut outcomes = run_set(target, &set, args.repetitions, args.timeout);
        if let Some(reference) = &reference {
            check_answers(reference, &mut outcomes);
        }
        all.push(outcomes.into_iter().map(|o| o.result).collect::<Vec<_>>());
    }
    if let (Some(target), Some(reference)) = (&args.reference, reference) {
        names.push(format!("{target} (reference)"));
        all.push(reference.into_iter().map(|o| o.result).collect());
    }
    print_results(&names, &all);
    if let Some(path) = &args.json_out {
        let by_target: Vec<TargetQueries> = names
            .iter()
            .zip(&all)
            .map(|(target, results)| TargetQueries {
                target: target.clone(),
                results: results.clone(),
            })
            .collect();
        let json = serde_json::to_vec_pretty(&by_target)
            .map_err(|e| BenchError::io("encode", path, e.into()))?;
        std::fs::write(path, json).map_err(|e| BenchError::io("write", path, e))?;
    }
    let differing = all.first().map_or(0, |first| {
        first
            .iter()
            .filter(|r| matches!(r.answer, AnswerCheck::Different(_)))
            .count()
    });
    if differing > 0 {
        return Err(BenchError::Failed(format!(
            "{differing} answer(s) of {} differ from the reference",
            args.targets.first().map_or("", String::as_str)
        )));
    }
    Ok(())
}
