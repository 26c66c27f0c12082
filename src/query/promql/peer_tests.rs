//! Parses every expression of Prometheus' own PromQL test scripts and of the
//! PromQL compliance tester's query list, read in place from
//! `/work/shared/peer-tests` (skipped with a message when absent).
//!
//! An expression Prometheus parses must parse here. Expressions of evals that
//! expect failure (`eval_fail`, `expect fail`) may fail. Expressions using
//! experimental syntax this parser does not implement are listed with a reason
//! in `testdata/peer_skip.txt` as `<file>:<line> <reason>`.

use std::collections::BTreeMap;
use std::path::Path;

use super::parse;

const PROMQL_TESTS: &str = "/work/shared/peer-tests/promql";
const COMPLIANCE_QUERIES: &str =
    "/work/shared/peer-tests/promql-compliance/promql-test-queries.yml";
const SKIP_LIST: &str = include_str!("testdata/peer_skip.txt");

/// One `eval` command's expression.
struct EvalCase {
    line: usize,
    expr: String,
    may_fail: bool,
}

/// Printing, parsing the print and printing again must give the same text.
fn reprints_stably(expr: &super::Expr) -> Result<(), String> {
    let printed = expr.to_string();
    let again = parse(&printed).map_err(|e| format!("printed form {printed:?} fails: {e}"))?;
    if again.to_string() != printed {
        return Err(format!("printed form {printed:?} reprints as {again}"));
    }
    Ok(())
}

/// The expression of an `eval…` line: after `at <time>` or after `step <dur>`.
fn eval_expression(line: &str) -> Option<String> {
    let mut words = line.splitn(2, char::is_whitespace);
    let command = words.next()?;
    if !command.starts_with("eval") {
        return None;
    }
    let rest = words.next()?.trim_start();
    let skip = if rest.starts_with("instant") { 3 } else { 7 };
    // `instant at <t> <expr>` or `range from <t> to <t> step <d> <expr>`.
    let mut remaining = rest;
    for _ in 0..skip {
        let trimmed = remaining.trim_start();
        let end = trimmed.find(char::is_whitespace)?;
        remaining = trimmed.get(end..)?;
    }
    Some(remaining.trim().to_string())
}

/// Extracts the eval commands of one test script.
fn eval_cases(text: &str) -> Vec<EvalCase> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut cases = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(expr) = eval_expression(line) else {
            continue;
        };
        let block_expects_fail = lines
            .iter()
            .skip(index + 1)
            .take_while(|l| !l.is_empty() && !l.starts_with('#'))
            .any(|l| l.starts_with("expect fail"));
        cases.push(EvalCase {
            line: index + 1,
            expr,
            may_fail: line.starts_with("eval_fail") || block_expects_fail,
        });
    }
    cases
}

fn skip_list() -> BTreeMap<String, String> {
    SKIP_LIST
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("//"))
        .filter_map(|l| l.split_once(' '))
        .map(|(place, reason)| (place.to_string(), reason.to_string()))
        .collect()
}

#[test]
fn prometheus_test_scripts_parse() {
    let Ok(entries) = std::fs::read_dir(PROMQL_TESTS) else {
        println!("skipped: {PROMQL_TESTS} is absent");
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let skips = skip_list();
    let mut used_skips = 0;
    let mut unexpected = Vec::new();
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let text = std::fs::read_to_string(path).unwrap();
        let (mut parsed, mut failed, mut skipped) = (0, 0, 0);
        for case in eval_cases(&text) {
            let place = format!("{name}:{}", case.line);
            match parse(&case.expr) {
                Ok(expr) => {
                    parsed += 1;
                    if let Err(problem) = reprints_stably(&expr) {
                        unexpected.push(format!("{place}: {} => {problem}", case.expr));
                    }
                }
                Err(error) => {
                    failed += 1;
                    if skips.contains_key(&place) {
                        skipped += 1;
                        used_skips += 1;
                    } else if !case.may_fail {
                        unexpected.push(format!("{place}: {} => {error}", case.expr));
                    } else {
                        println!("  {place}: (expected to fail) {} => {error}", case.expr);
                    }
                }
            }
        }
        println!("{name}: {parsed} parsed, {failed} failed ({skipped} on the skip list)");
    }
    for line in &unexpected {
        println!("UNEXPECTED {line}");
    }
    assert!(
        unexpected.is_empty(),
        "{} expressions failed",
        unexpected.len()
    );
    assert_eq!(used_skips, skips.len(), "stale entries in peer_skip.txt");
}

/// The placeholder values hard-coded in the compliance tester (`expand.go`).
fn placeholder_values(name: &str) -> &'static [&'static str] {
    match name {
        "range" => &["1s", "15s", "1m", "5m", "15m", "1h"],
        "offset" => &["1m", "5m", "10m"],
        "simpleAggrOp" => &["sum", "avg", "max", "min", "count", "stddev", "stdvar"],
        "simpleTimeAggrOp" => &[
            "sum", "avg", "max", "min", "count", "stddev", "stdvar", "absent", "last",
        ],
        "topBottomOp" => &["topk", "bottomk"],
        "quantile" => &[
            "-0.5", "0.1", "0.5", "0.75", "0.95", "0.90", "0.99", "1", "1.5",
        ],
        "arithBinOp" => &["+", "-", "*", "/", "%", "^"],
        "compBinOp" => &["==", "!=", "<", ">", "<=", ">="],
        "binOp" => &[
            "+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">=",
        ],
        "simpleMathFunc" => &[
            "abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10", "round",
        ],
        "extrapolatedRateFunc" => &["delta", "rate", "increase"],
        "clampFunc" => &["clamp_min", "clamp_max"],
        "instantRateFunc" => &["idelta", "irate"],
        "dateFunc" => &[
            "day_of_month",
            "day_of_week",
            "days_in_month",
            "hour",
            "minute",
            "month",
            "year",
        ],
        _ => &[],
    }
}

/// Every expansion of a templated query (cartesian product of its placeholders).
fn expand(query: &str) -> Vec<String> {
    let mut out = vec![query.to_string()];
    while let Some(open) = out.first().and_then(|q| q.find("{{.")) {
        let first = out.first().cloned().unwrap_or_default();
        let Some(close) = first.get(open..).and_then(|s| s.find("}}")) else {
            break;
        };
        let name = first.get(open + 3..open + close).unwrap_or("").to_string();
        let placeholder = format!("{{{{.{name}}}}}");
        let placeholder = placeholder.as_str();
        let values = placeholder_values(&name);
        assert!(!values.is_empty(), "unknown placeholder {name}");
        out = out
            .iter()
            .flat_map(|q| values.iter().map(move |v| q.replace(placeholder, v)))
            .collect();
    }
    out
}

/// The queries of the compliance list with their `should_fail` flag.
fn compliance_queries(text: &str) -> Vec<(String, bool)> {
    let mut queries: Vec<(String, bool)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start().trim_start_matches("- ").trim();
        if let Some(value) = trimmed.strip_prefix("query:") {
            let value = value.trim();
            let query = if let Some(inner) =
                value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
            {
                inner.replace("''", "'")
            } else if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                inner.replace("\\\"", "\"").replace("\\\\", "\\")
            } else {
                value.to_string()
            };
            queries.push((query, false));
        } else if trimmed == "should_fail: true" {
            if let Some(last) = queries.last_mut() {
                last.1 = true;
            }
        }
    }
    queries
}

#[test]
fn compliance_queries_parse() {
    let Ok(text) = std::fs::read_to_string(Path::new(COMPLIANCE_QUERIES)) else {
        println!("skipped: {COMPLIANCE_QUERIES} is absent");
        return;
    };
    let (mut parsed, mut failed, mut unexpected) = (0, 0, Vec::new());
    let entries = compliance_queries(&text);
    for (template, should_fail) in &entries {
        for query in expand(template) {
            match parse(&query) {
                Ok(expr) => {
                    parsed += 1;
                    if let Err(problem) = reprints_stably(&expr) {
                        unexpected.push(format!("{query} => {problem}"));
                    }
                }
                Err(error) => {
                    failed += 1;
                    if *should_fail {
                        println!("  (should fail) {query} => {error}");
                    } else {
                        unexpected.push(format!("{query} => {error}"));
                    }
                }
            }
        }
    }
    println!(
        "promql-test-queries.yml: {} entries, {parsed} parsed, {failed} failed",
        entries.len()
    );
    for line in &unexpected {
        println!("UNEXPECTED {line}");
    }
    assert!(unexpected.is_empty(), "{} queries failed", unexpected.len());
    assert_eq!(
        parsed + failed,
        539,
        "expansion count differs from the tester's"
    );
}
