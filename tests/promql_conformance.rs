//! Conformance: runs Prometheus' own PromQL test scripts (read in place from
//! `../shared/peer-tests/promql`) against the evaluator and counts passing evals.
//!
//! Prints `file: N passed, M failed, K skipped` per file and a total line; fails
//! when the pass count drops below `promql_conformance/floor.txt`. Skip rules
//! with reasons live in `promql_conformance/skips.txt`.

#[path = "promql_conformance/loader.rs"]
mod loader;
#[path = "promql_conformance/script.rs"]
mod script;

use std::path::{Path, PathBuf};

use regex::Regex;
use strata::model::Labels;
use strata::query::eval::{
    instant_query, range_query, AnnotationKind, QueryParams, QueryResult, Value,
};
use strata::query::promql::{parse, At, Expr};

use loader::TestStorage;
use script::{parse_script, Command, Eval};

const SKIPS: &str = include_str!("promql_conformance/skips.txt");
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

/// Series as compared: labels and `(timestamp_ms, value)` points.
type SeriesPoints = Vec<(Labels, Vec<(i64, f64)>)>;

/// One skip rule.
struct Skip {
    target: String,
}

impl Skip {
    fn applies(
        &self,
        file: &str,
        eval: &Eval,
        nhcb_names: &[String],
        histogram_series: &[Labels],
    ) -> bool {
        if self.target == "histogram-series" {
            return touches(&eval.query, histogram_series);
        }
        if self.target == "nhcb" {
            return nhcb_names.iter().any(|n| mentions(&eval.query, n));
        }
        if let Some(text) = self.target.strip_prefix("query~") {
            return eval.query.contains(text);
        }
        if let Some(text) = self.target.strip_prefix("result~") {
            return eval.body.iter().any(|l| l.contains(text));
        }
        match self.target.split_once(':') {
            Some((f, line)) => f == file && line.parse() == Ok(eval.line),
            None => self.target == file,
        }
    }
}

/// Whether any selector of `query` selects one of `series`.
fn touches(query: &str, series: &[Labels]) -> bool {
    if series.is_empty() {
        return false;
    }
    let Ok(expr) = parse(query) else {
        return false;
    };
    let mut selectors = Vec::new();
    collect_selectors(&expr, &mut selectors);
    selectors.iter().any(|matchers| {
        series
            .iter()
            .any(|labels| matchers.iter().all(|m| m.matches(labels.get(&m.name))))
    })
}

fn collect_selectors<'e>(expr: &'e Expr, out: &mut Vec<&'e [strata::model::Matcher]>) {
    match expr {
        Expr::VectorSelector(vs) => out.push(&vs.matchers),
        Expr::MatrixSelector(ms) => out.push(&ms.selector.matchers),
        Expr::Subquery(sq) => collect_selectors(&sq.expr, out),
        Expr::Call(c) => c.args.iter().for_each(|a| collect_selectors(a, out)),
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                collect_selectors(p, out);
            }
            collect_selectors(&a.expr, out);
        }
        Expr::Binary(b) => {
            collect_selectors(&b.lhs, out);
            collect_selectors(&b.rhs, out);
        }
        Expr::Unary(u) => collect_selectors(&u.expr, out),
        Expr::Paren(p) => collect_selectors(&p.expr, out),
        Expr::Number(_) | Expr::String(_) => {}
    }
}

/// The native histogram `load_with_nhcb` derives from a classic histogram series name.
fn nhcb_name(name: &str) -> Option<String> {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .map(str::to_string)
}

/// Whether `query` names `metric` as a whole identifier (or matches it by regex).
fn mentions(query: &str, metric: &str) -> bool {
    if query.contains("__name__=~") {
        return true;
    }
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    query.match_indices(metric).any(|(i, _)| {
        let before = query.get(..i).and_then(|s| s.chars().next_back());
        let after = query.get(i + metric.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn skip_rules() -> Vec<Skip> {
    SKIPS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            l.split_once(" -- ").map(|(t, _)| Skip {
                target: t.trim().to_string(),
            })
        })
        .collect()
}

/// Prometheus' `almost.Equal` with epsilon 1e-6.
fn almost_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < 1e-6 * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < 1e-6
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

/// The engine must give the same result when it computes the rollups itself.
fn check_without_pushdown(storage: &TestStorage, eval: &Eval, want: &Value) -> Result<(), String> {
    let expr = parse(&eval.query).map_err(|e| e.to_string())?;
    let got = evaluate_with(storage, eval, &expr, false)
        .map_err(|e| format!("without pushdown: {e}"))?
        .value;
    if !same_value(want, &got) {
        return Err(format!("without pushdown: got {}", short(&got)));
    }
    Ok(())
}

/// Functions whose result depends on the evaluation time itself.
const TIME_DEPENDENT: &[&str] = &[
    "time(",
    "timestamp(",
    "predict_linear(",
    "start(",
    "end(",
    "range(",
    "step(",
    "hour(",
    "minute(",
    "month(",
    "year(",
    "day_of_",
    "days_in_month(",
];

/// Like Prometheus' harness: with `@ <t>` pinned on every selector and subquery
/// lacking one, an instant eval must give the same result at other times.
fn check_pinned(storage: &TestStorage, eval: &Eval, want: &Value) -> Result<(), String> {
    if eval.range.is_some() || TIME_DEPENDENT.iter().any(|f| eval.query.contains(f)) {
        return Ok(());
    }
    let Ok(mut expr) = parse(&eval.query) else {
        return Ok(());
    };
    if !pin_at(&mut expr, eval.time_ms) {
        return Ok(());
    }
    let t = eval.time_ms;
    let times = if t == 0 {
        vec![-1000, 1000]
    } else {
        vec![-10 * t, 0, t / 5, 10 * t]
    };
    for time_ms in times {
        let moved = Eval {
            time_ms,
            query: eval.query.clone(),
            ..Eval::default()
        };
        let got = evaluate_expr(storage, &moved, &expr)
            .map_err(|e| format!("with @ pinned, at {time_ms}ms: {e}"))?;
        if !same_value(want, &got) {
            return Err(format!(
                "with @ pinned, at {time_ms}ms: got {}",
                short(&got)
            ));
        }
    }
    Ok(())
}

/// Sets `@ t` on every selector and subquery without one; whether anything was pinned.
fn pin_at(expr: &mut Expr, t_ms: i64) -> bool {
    match expr {
        Expr::VectorSelector(vs) => pin(&mut vs.at, t_ms),
        Expr::MatrixSelector(ms) => pin(&mut ms.selector.at, t_ms),
        Expr::Subquery(sq) => {
            // The inner expression runs on the subquery's own grid: leave it alone.
            pin(&mut sq.at, t_ms)
        }
        Expr::Call(c) => c
            .args
            .iter_mut()
            .fold(false, |any, a| pin_at(a, t_ms) | any),
        Expr::Aggregate(a) => {
            let param = a.param.as_mut().is_some_and(|p| pin_at(p, t_ms));
            pin_at(&mut a.expr, t_ms) | param
        }
        Expr::Binary(b) => pin_at(&mut b.lhs, t_ms) | pin_at(&mut b.rhs, t_ms),
        Expr::Unary(u) => pin_at(&mut u.expr, t_ms),
        Expr::Paren(p) => pin_at(&mut p.expr, t_ms),
        Expr::Number(_) | Expr::String(_) => false,
    }
}

fn pin(at: &mut Option<At>, t_ms: i64) -> bool {
    if at.is_none() {
        *at = Some(At::Timestamp(t_ms));
        return true;
    }
    false
}

/// Whether two results are equal up to float tolerance (instant vectors as sets).
fn same_value(a: &Value, b: &Value) -> bool {
    let as_points = |v: &Value| -> Option<SeriesPoints> {
        match v {
            Value::Vector(samples) => Some(
                samples
                    .iter()
                    .map(|s| (s.labels.clone(), vec![(0, s.value)]))
                    .collect(),
            ),
            Value::Matrix(series) => Some(
                series
                    .iter()
                    .map(|s| (s.labels.clone(), s.points.clone()))
                    .collect(),
            ),
            _ => None,
        }
    };
    match (a, b) {
        (Value::Scalar(x), Value::Scalar(y)) => almost_equal(*x, *y),
        (Value::String(x), Value::String(y)) => x == y,
        _ => match (as_points(a), as_points(b)) {
            (Some(x), Some(y)) => compare_series(&x, &y, false).is_ok(),
            _ => false,
        },
    }
}

/// Like Prometheus' harness: an instant eval expecting a vector or scalar is also
/// run as a range query from t-1m to t+1m step 1m, whose middle step must match.
fn check_as_range(storage: &TestStorage, eval: &Eval) -> Result<(), String> {
    let uses_frame = ["start()", "end()", "range()", "step()"]
        .iter()
        .any(|f| eval.query.contains(f));
    if eval.range.is_some()
        || eval.range_vector.is_some()
        || eval.string.is_some()
        || eval.ordered
        || uses_frame
    {
        return Ok(());
    }
    let range = Eval {
        range: Some((eval.time_ms - 60_000, eval.time_ms + 60_000, 60_000)),
        query: eval.query.clone(),
        ..Eval::default()
    };
    let value = evaluate(storage, &range)
        .map_err(|e| format!("as range query: {e}"))?
        .value;
    let Value::Matrix(series) = value else {
        return Err(format!("as range query: got {}", short(&value)));
    };
    let middle: SeriesPoints = series
        .iter()
        .filter_map(|s| {
            let point = s.points.iter().find(|p| p.0 == eval.time_ms)?;
            Some((s.labels.clone(), vec![*point]))
        })
        .collect();
    let expected: SeriesPoints = match eval.scalar {
        Some(v) => vec![(Labels::default(), vec![(eval.time_ms, v)])],
        None => eval
            .series
            .iter()
            .map(|(l, vs)| {
                let points = vs.iter().flatten().map(|&v| (eval.time_ms, v)).collect();
                (l.clone(), points)
            })
            .collect(),
    };
    compare_series(&expected, &middle, false).map_err(|e| format!("as range query: {e}"))
}

fn evaluate(storage: &TestStorage, eval: &Eval) -> Result<QueryResult, String> {
    let expr = parse(&eval.query).map_err(|e| e.to_string())?;
    evaluate_with(storage, eval, &expr, true)
}

/// Prometheus' rules: once a kind is expected, every expectation must match a
/// returned annotation of that kind and every returned one must match an expectation.
fn check_annotations(eval: &Eval, result: &QueryResult) -> Result<(), String> {
    for (kind, expected, none) in [
        (AnnotationKind::Warning, &eval.warn, eval.no_warn),
        (AnnotationKind::Info, &eval.info, eval.no_info),
    ] {
        let got: Vec<String> = result
            .annotations
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| a.render(&eval.query))
            .collect();
        if none && !got.is_empty() {
            return Err(format!("unexpected {kind:?} annotations: {got:?}"));
        }
        if expected.is_empty() {
            continue;
        }
        if got.is_empty() {
            return Err(format!("expected {kind:?} annotations, got none"));
        }
        for want in expected.iter() {
            if !got.iter().any(|g| want.matches(g)) {
                return Err(format!(
                    "no {kind:?} annotation matches {want:?}; got {got:?}"
                ));
            }
        }
        for g in &got {
            if !expected.iter().any(|want| want.matches(g)) {
                return Err(format!("unexpected {kind:?} annotation {g:?}"));
            }
        }
    }
    Ok(())
}

fn evaluate_expr(storage: &TestStorage, eval: &Eval, expr: &Expr) -> Result<Value, String> {
    evaluate_with(storage, eval, expr, true).map(|r| r.value)
}

fn evaluate_with(
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
    let future = async {
        if eval.range.is_some() {
            range_query(expr, &params, storage.source()).await
        } else {
            instant_query(expr, &params, storage.source()).await
        }
    };
    futures_lite::future::block_on(future).map_err(|e| e.to_string())
}

fn short(value: &Value) -> String {
    let text = format!("{value:?}");
    text.chars().take(300).collect()
}

fn compare(eval: &Eval, value: &Value) -> Result<(), String> {
    if let Some(want) = &eval.string {
        return match value {
            Value::String(s) if s == want => Ok(()),
            other => Err(format!("want string {want:?}, got {}", short(other))),
        };
    }
    if let Some(want) = eval.scalar {
        return match value {
            Value::Scalar(v) if almost_equal(*v, want) => Ok(()),
            other => Err(format!("want scalar {want}, got {}", short(other))),
        };
    }
    match value {
        Value::Vector(samples) => {
            if eval.range.is_some() || eval.range_vector.is_some() {
                return Err(format!("want range vector, got {}", short(value)));
            }
            let got: SeriesPoints = samples
                .iter()
                .map(|s| (s.labels.clone(), vec![(eval.time_ms, s.value)]))
                .collect();
            let expected: SeriesPoints = eval
                .series
                .iter()
                .map(|(l, vs)| {
                    (
                        l.clone(),
                        vs.iter().flatten().map(|&v| (eval.time_ms, v)).collect(),
                    )
                })
                .collect();
            compare_series(&expected, &got, eval.ordered)
        }
        Value::Matrix(series) => {
            let (start, step) = match (eval.range, eval.range_vector) {
                (Some((s, _, st)), _) | (None, Some((s, _, st))) => (s, st),
                _ => return Err(format!("want instant vector, got {}", short(value))),
            };
            let got: SeriesPoints = series
                .iter()
                .map(|s| (s.labels.clone(), s.points.clone()))
                .collect();
            let expected: SeriesPoints = eval
                .series
                .iter()
                .map(|(l, vs)| {
                    let points = vs
                        .iter()
                        .enumerate()
                        .filter_map(|(i, v)| v.map(|v| (start + i as i64 * step, v)))
                        .collect();
                    (l.clone(), points)
                })
                .collect();
            compare_series(&expected, &got, false)
        }
        other => Err(format!("want series, got {}", short(other))),
    }
}

fn compare_series(
    expected: &[(Labels, Vec<(i64, f64)>)],
    got: &[(Labels, Vec<(i64, f64)>)],
    ordered: bool,
) -> Result<(), String> {
    for (labels, want) in expected {
        let Some((index, (_, have))) = got.iter().enumerate().find(|(_, (l, _))| l == labels)
        else {
            return Err(format!("missing series {labels}; got {}", names(got)));
        };
        let same = want.len() == have.len()
            && want
                .iter()
                .zip(have)
                .all(|(a, b)| a.0 == b.0 && almost_equal(a.1, b.1));
        if !same {
            return Err(format!("{labels}: want {want:?}, got {have:?}"));
        }
        if ordered && expected.iter().position(|(l, _)| l == labels) != Some(index) {
            return Err(format!(
                "{labels}: want position {:?}, got {index}",
                expected.iter().position(|(l, _)| l == labels)
            ));
        }
    }
    if let Some((labels, points)) = got
        .iter()
        .find(|(l, _)| !expected.iter().any(|(e, _)| e == l))
    {
        return Err(format!("unexpected series {labels} {points:?}"));
    }
    Ok(())
}

fn names(series: &[(Labels, Vec<(i64, f64)>)]) -> String {
    let list: Vec<String> = series.iter().take(5).map(|(l, _)| l.to_string()).collect();
    format!(
        "[{}{}]",
        list.join(", "),
        if series.len() > 5 { ", …" } else { "" }
    )
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

    fn load(&mut self, series: &[script::LoadedSeries], nhcb: bool) {
        let histograms = series.iter().filter(|s| s.histogram);
        self.histogram_series
            .extend(histograms.map(|s| s.labels.clone()));
        if nhcb {
            let names = series
                .iter()
                .filter_map(|s| nhcb_name(s.labels.metric_name()));
            self.nhcb_names.extend(names);
        }
        self.storage.load(series);
    }
}

/// Runs one script; prints failures while `printed` is below the cap.
fn run_file(file: &str, text: &str, rules: &[Skip], printed: &mut usize) -> Counts {
    let mut counts = Counts::default();
    let mut state = ScriptState::default();
    for command in parse_script(text) {
        let eval = match command {
            Command::Clear => {
                state.clear();
                continue;
            }
            Command::Load(series, nhcb) => {
                state.load(&series, nhcb);
                continue;
            }
            Command::Eval(eval) => eval,
        };
        let skipped = rules
            .iter()
            .any(|r| r.applies(file, &eval, &state.nhcb_names, &state.histogram_series));
        if skipped {
            counts.skipped += 1;
            continue;
        }
        match run_eval(&state.storage, &eval) {
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

#[test]
fn prometheus_promql_test_scripts() {
    let Some(dir) = scripts_dir() else {
        println!("SKIPPED: Prometheus test scripts not found at ../shared/peer-tests/promql");
        return;
    };
    let rules = skip_rules();
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
        let counts = run_file(file, &text, &rules, &mut printed);
        println!(
            "{file}: {} passed, {} failed, {} skipped",
            counts.passed, counts.failed, counts.skipped
        );
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.skipped += counts.skipped;
    }
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    let floor: usize = FLOOR.trim().parse().unwrap_or(0);
    assert!(
        total.passed >= floor,
        "{} evals pass, fewer than the floor of {floor} in tests/promql_conformance/floor.txt",
        total.passed
    );
}
