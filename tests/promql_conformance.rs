//! Conformance: runs Prometheus' own PromQL test scripts (read in place from
//! `../shared/peer-tests/promql`) through the server's path and counts passing evals: the data
//! of each `load` goes into 2 embedded shards with real storage (routed to the owner shard,
//! flushed into parts, retention checks off since the data starts in 1970; a `clear` starts
//! fresh shards), and each query runs on shard 0's front, which has both shards search their
//! index and compute the rollups next to the data (`loader.rs`).
//!
//! Prints `file: N passed, M failed, K skipped` per file and a total line to stderr; fails
//! when the pass count drops below `promql_conformance/floor.txt`. The skipped evals are listed
//! by file and line with their reason in `promql_conformance/skips.txt`; each must fall in a
//! category of `promql_conformance/skip_categories.txt`.

#[path = "promql_conformance/checks.rs"]
mod checks;
#[path = "promql_conformance/compare.rs"]
mod compare;
#[path = "promql_conformance/loader.rs"]
mod loader;
#[path = "promql_conformance/script.rs"]
mod script;
#[path = "promql_conformance/skip.rs"]
mod skip;

use std::path::{Path, PathBuf};

use regex::Regex;
use strata::api::query::ShardSource;
use strata::model::Labels;
use strata::query::eval::{instant_query, range_query, QueryParams, QueryResult, Value};
use strata::query::promql::{parse, Expr};

use checks::{check_as_range, check_pinned, check_without_pushdown};
use compare::{check_annotations, compare, short};
use loader::TestStorage;
use script::{parse_script, Command, Eval};
use skip::{listed_skips, nhcb_name, skip_categories, Skip};

const SKIPS: &str = include_str!("promql_conformance/skips.txt");
const SKIP_CATEGORIES: &str = include_str!("promql_conformance/skip_categories.txt");
/// Set to regenerate `skips.txt`: every eval of a skip category is run, and those failing are listed.
const WRITE_SKIPS_ENV: &str = "STRATA_PROMQL_WRITE_SKIPS";
const FLOOR: &str = include_str!("promql_conformance/floor.txt");
/// Failures printed in full; the rest are only counted (keeps CI logs readable).
const MAX_PRINTED_FAILURES: usize = 60;
/// Prometheus' test harness limit on samples per query.
const MAX_SAMPLES: usize = 10_000;

fn scripts_dir() -> Option<PathBuf> {
    let relative = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peer-tests/promql");
    [relative, PathBuf::from("/work/shared/peer-tests/promql")]
        .into_iter()
        .find(|p| p.is_dir())
}

fn run_eval(storage: &TestStorage, eval: &Eval) -> Result<(), String> {
    if let Some(why) = &eval.unreadable {
        return Err(why.clone());
    }
    let result = evaluate(storage, eval);
    if let Ok(result) = &result {
        check_annotations(eval, result)?;
    }
    let result = result.map(|r| r.value);
    match (&eval.fail, result) {
        (Some(_), Ok(v)) => Err(format!("expected an error, got {}", short(&v))),
        (Some(fail), Err(message)) => {
            if let Some(want) = &fail.message {
                if want != &message {
                    return Err(format!("error message: want {want:?}, got {message:?}"));
                }
            }
            if let Some(re) = &fail.regex {
                let ok = Regex::new(re)
                    .map(|r| r.is_match(&message))
                    .unwrap_or(false);
                if !ok {
                    return Err(format!("error message {message:?} does not match {re:?}"));
                }
            }
            Ok(())
        }
        (None, Err(message)) => Err(format!("unexpected error: {message}")),
        (None, Ok(value)) => {
            compare(eval, &value)?;
            check_without_pushdown(storage, eval, &value)?;
            check_as_range(storage, eval)?;
            check_pinned(storage, eval, &value)
        }
    }
}

pub(crate) fn evaluate(storage: &TestStorage, eval: &Eval) -> Result<QueryResult, String> {
    let expr = parse(&eval.query).map_err(|e| e.to_string())?;
    evaluate_with(storage, eval, &expr, true)
}

pub(crate) fn evaluate_expr(
    storage: &TestStorage,
    eval: &Eval,
    expr: &Expr,
) -> Result<Value, String> {
    evaluate_with(storage, eval, expr, true).map(|r| r.value)
}

pub(crate) fn evaluate_with(
    storage: &TestStorage,
    eval: &Eval,
    expr: &Expr,
    pushdown: bool,
) -> Result<QueryResult, String> {
    let mut params = match eval.range {
        Some((start, end, step)) => QueryParams::range(start, end, step),
        None => QueryParams::instant(eval.time_ms),
    };
    params.max_samples = MAX_SAMPLES;
    params.pushdown_rollups = pushdown;
    // Prometheus' harness runs with type-and-unit labels on (they only matter
    // where series carry `__type__`/`__unit__`).
    params.type_and_unit_labels = true;
    let range = eval.range.is_some();
    let expr = expr.clone();
    storage.run(move |api| async move {
        let source = ShardSource::new(&api);
        let result = if range {
            range_query(&expr, &params, &source).await
        } else {
            instant_query(&expr, &params, &source).await
        };
        result.map_err(|e| e.to_string())
    })?
}

#[derive(Default)]
struct Counts {
    passed: usize,
    failed: usize,
    skipped: usize,
}

/// What the commands of one script have set up so far.
#[derive(Default)]
struct ScriptState {
    storage: TestStorage,
    /// Base names of the native histograms `load_with_nhcb` would derive.
    nhcb_names: Vec<String>,
    /// Series that hold native histogram samples.
    histogram_series: Vec<Labels>,
}

impl ScriptState {
    fn clear(&mut self) {
        self.storage.clear();
        self.nhcb_names.clear();
        self.histogram_series.clear();
    }

    fn load(&mut self, series: &[script::LoadedSeries], nhcb: bool) -> Result<(), String> {
        let histograms = series.iter().filter(|s| s.histogram);
        self.histogram_series
            .extend(histograms.map(|s| s.labels.clone()));
        if nhcb {
            let names = series
                .iter()
                .filter_map(|s| nhcb_name(s.labels.metric_name()));
            self.nhcb_names.extend(names);
        }
        self.storage.load(series)
    }
}

/// What decides the skips of a run.
struct Skips {
    categories: Vec<Skip>,
    listed: std::collections::HashSet<(String, usize)>,
    /// `Some` when regenerating `skips.txt`: its lines so far.
    writing: Option<Vec<String>>,
}

/// Runs one script; prints failures while `printed` is below the cap.
fn run_file(file: &str, text: &str, skips: &mut Skips, printed: &mut usize) -> Counts {
    let mut counts = Counts::default();
    let mut state = ScriptState::default();
    let mut load_failed = false;
    for command in parse_script(text) {
        let eval = match command {
            Command::Clear => {
                state.clear();
                load_failed = false;
                continue;
            }
            Command::Load(series, nhcb) => {
                if let Err(error) = state.load(&series, nhcb) {
                    // Every later eval of the script would read incomplete data.
                    println!("LOAD FAILED {file}: {error}");
                    load_failed = true;
                }
                continue;
            }
            Command::Eval(eval) => eval,
        };
        let category = skips
            .categories
            .iter()
            .find(|r| r.applies(file, &eval, &state.nhcb_names, &state.histogram_series));
        let skipped = match (&mut skips.writing, category) {
            (Some(lines), Some(category)) => {
                let fails = load_failed || run_eval(&state.storage, &eval).is_err();
                if fails {
                    lines.push(format!("{file}:{} -- {}", eval.line, category.reason));
                }
                fails
            }
            (Some(_), None) => false,
            (None, _) => skips.listed.contains(&(file.to_string(), eval.line)),
        };
        if skipped && category.is_none() {
            counts.failed += 1;
            println!(
                "FAIL {file}:{}: listed in skips.txt but in no category of skip_categories.txt",
                eval.line
            );
            continue;
        }
        if skipped {
            counts.skipped += 1;
            continue;
        }
        let outcome = if load_failed {
            Err("its data did not load".to_string())
        } else {
            run_eval(&state.storage, &eval)
        };
        match outcome {
            Ok(()) => counts.passed += 1,
            Err(diff) => {
                counts.failed += 1;
                if *printed < MAX_PRINTED_FAILURES {
                    *printed += 1;
                    println!("FAIL {file}:{}: {}\n    {diff}", eval.line, eval.query);
                }
            }
        }
    }
    counts
}

/// The comment heading `skips.txt`.
const SKIPS_HEADER: &str = "\
# Evals tests/promql_conformance.rs skips: `<file>:<line of its eval> -- <reason>`.
# Generated by `STRATA_PROMQL_WRITE_SKIPS=1 cargo test --release --test promql_conformance`:
# the evals of a category in skip_categories.txt that fail. Never edit by hand to hide a failure.
";

/// Writes a summary line straight to stderr: libtest captures `println!` of passing tests, and
/// these counts must show in CI's log.
fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn prometheus_promql_test_scripts() {
    let Some(dir) = scripts_dir() else {
        report("SKIPPED: Prometheus test scripts not found at ../shared/peer-tests/promql");
        return;
    };
    let mut skips = Skips {
        categories: skip_categories(),
        listed: listed_skips(),
        writing: std::env::var_os(WRITE_SKIPS_ENV).map(|_| Vec::new()),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "test"));
    files.sort();
    let mut total = Counts::default();
    let mut printed = 0usize;
    for path in files {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let counts = run_file(file, &text, &mut skips, &mut printed);
        report(&format!(
            "{file}: {} passed, {} failed, {} skipped",
            counts.passed, counts.failed, counts.skipped
        ));
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.skipped += counts.skipped;
    }
    report(&format!(
        "promql: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    ));
    if let Some(lines) = &skips.writing {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/promql_conformance/skips.txt");
        let text = format!("{SKIPS_HEADER}{}\n", lines.join("\n"));
        if let Err(e) = std::fs::write(&path, text) {
            panic!("cannot write {}: {e}", path.display());
        }
        report(&format!(
            "wrote {} skips to {}",
            lines.len(),
            path.display()
        ));
    }
    let floor: usize = FLOOR.trim().parse().unwrap_or(0);
    assert!(
        total.passed >= floor,
        "{} evals pass, fewer than the floor of {floor} in tests/promql_conformance/floor.txt",
        total.passed
    );
}
