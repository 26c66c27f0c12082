//! Reading Prometheus' PromQL test scripts: commands, series lines, expanding
//! notation, expected results. Pure text handling, no evaluation.

use strata::model::{Labels, MatchOp};
use strata::query::promql::{parse, Expr};

/// One command of a script.
#[derive(Debug)]
pub enum Command {
    /// `load <interval>`: series with their samples; `true` for `load_with_nhcb`.
    Load(Vec<LoadedSeries>, bool),
    /// `clear`
    Clear,
    /// `eval …`
    Eval(Box<Eval>),
}

/// One series of a `load` block.
#[derive(Debug)]
pub struct LoadedSeries {
    /// Its labels.
    pub labels: Labels,
    /// `(timestamp_ms, value)`; native histogram slots load no sample (not supported).
    pub samples: Vec<(i64, f64)>,
    /// Whether the line held native histogram samples.
    pub histogram: bool,
}

/// One `eval` command.
#[derive(Debug, Default)]
pub struct Eval {
    /// Line of the `eval` line (1-based).
    pub line: usize,
    /// The query.
    pub query: String,
    /// `Some((start, end, step))` for a range query.
    pub range: Option<(i64, i64, i64)>,
    /// Evaluation time of an instant query.
    pub time_ms: i64,
    /// An error is expected; with an optional exact message or regex.
    pub fail: Option<FailExpectation>,
    /// `expect ordered`
    pub ordered: bool,
    /// `expect string "…"`
    pub string: Option<String>,
    /// `expect range vector from a to b step s`
    pub range_vector: Option<(i64, i64, i64)>,
    /// Expected series: labels and values per step (`None` = `_`).
    pub series: Vec<(Labels, Vec<Option<f64>>)>,
    /// An expected scalar.
    pub scalar: Option<f64>,
    /// `expect warn …` lines (and `eval_warn`).
    pub warn: Vec<TextMatch>,
    /// `expect info …` lines (and `eval_info`).
    pub info: Vec<TextMatch>,
    /// `expect no_warn`
    pub no_warn: bool,
    /// `expect no_info`
    pub no_info: bool,
    /// The raw result lines (for skip patterns).
    pub body: Vec<String>,
    /// Why the eval cannot be read, if so.
    pub unreadable: Option<String>,
}

/// How an expected annotation is matched.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// Any annotation of the kind.
    Any,
    /// The whole rendered text.
    Exact(String),
    /// A regex over the rendered text.
    Regex(String),
}

impl TextMatch {
    /// Whether `text` satisfies the expectation.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            TextMatch::Any => true,
            TextMatch::Exact(want) => want == text,
            TextMatch::Regex(re) => regex::Regex::new(re).is_ok_and(|r| r.is_match(text)),
        }
    }

    fn parse(rest: &str) -> TextMatch {
        let rest = rest.trim();
        if let Some(m) = rest.strip_prefix("msg:") {
            TextMatch::Exact(m.trim().to_string())
        } else if let Some(r) = rest.strip_prefix("regex:") {
            TextMatch::Regex(r.trim().to_string())
        } else {
            TextMatch::Any
        }
    }
}

/// What an expected failure must look like.
#[derive(Debug, Default, Clone)]
pub struct FailExpectation {
    /// The exact message.
    pub message: Option<String>,
    /// A regex the message must match.
    pub regex: Option<String>,
}

/// Parses a Prometheus duration such as `1m30s`, `0`, `-5m`, into milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if text == "0" {
        return Some(0);
    }
    let mut total = 0i64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let number: i64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = rest.get(..unit_len)?;
        rest = rest.get(unit_len..)?;
        let factor = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return None,
        };
        total += number * factor;
    }
    Some(if negative { -total } else { total })
}

/// Splits a series line into its selector text and the rest.
fn split_series(line: &str) -> Option<(&str, &str)> {
    let mut in_quote = false;
    let mut escaped = false;
    let mut depth = 0;
    for (i, c) in line.char_indices() {
        if in_quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_quote = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_quote = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((line.get(..=i)?, line.get(i + 1..)?.trim()));
                }
            }
            c if c.is_whitespace() && depth == 0 => {
                return Some((line.get(..i)?, line.get(i..)?.trim()))
            }
            _ => {}
        }
    }
    Some((line, ""))
}

/// The labels of a series written as a selector with equality matchers.
pub fn parse_labels(text: &str) -> Result<Labels, String> {
    if text.trim() == "{}" {
        return Ok(Labels::default());
    }
    match parse(text) {
        Ok(Expr::VectorSelector(vs)) => {
            let mut pairs = Vec::new();
            for m in &vs.matchers {
                if m.op != MatchOp::Equal {
                    return Err(format!("non-equality matcher in series {text}"));
                }
                pairs.push((m.name.clone(), m.value.clone()));
            }
            Ok(Labels::from_pairs(pairs))
        }
        Ok(_) => Err(format!("not a series: {text}")),
        Err(e) => Err(format!("series {text}: {e}")),
    }
}

fn parse_number(text: &str) -> Option<f64> {
    match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        "stale" => Some(f64::from_bits(strata::model::STALE_NAN_BITS)),
        _ if text.starts_with("0x") || text.starts_with("0X") => None,
        _ => text.parse().ok(),
    }
}

/// Expands one value token into slots (`None` = `_`, no sample).
pub fn expand(token: &str) -> Result<Vec<Option<f64>>, String> {
    if token == "_" {
        return Ok(vec![None]);
    }
    if let Some(v) = parse_number(token) {
        return Ok(vec![Some(v)]);
    }
    let Some((head, count)) = token.rsplit_once('x') else {
        return Err(format!("bad value {token}"));
    };
    let count: usize = count.parse().map_err(|_| format!("bad count in {token}"))?;
    if head == "_" {
        return Ok(vec![None; count]);
    }
    if let Some(v) = parse_number(head) {
        return Ok(vec![Some(v); count + 1]);
    }
    // `a+bxN` / `a-bxN`: the operator is the last sign not starting the token or an exponent.
    let bytes = head.as_bytes();
    let position = (1..bytes.len())
        .rev()
        .find(|&i| {
            matches!(bytes.get(i), Some(b'+' | b'-'))
                && !matches!(bytes.get(i - 1), Some(b'e' | b'E'))
        })
        .ok_or_else(|| format!("bad value {token}"))?;
    let start = parse_number(head.get(..position).unwrap_or_default())
        .ok_or_else(|| format!("bad value {token}"))?;
    let mut step = parse_number(head.get(position + 1..).unwrap_or_default())
        .ok_or_else(|| format!("bad value {token}"))?;
    if bytes.get(position) == Some(&b'-') {
        step = -step;
    }
    Ok((0..=count).map(|i| Some(start + step * i as f64)).collect())
}

/// Expands a whole values string; native histogram slots (`{{…}}`, `{{…}}xN`,
/// `{{…}}+{{…}}xN`) become gaps, as histograms are not supported.
pub fn expand_all(text: &str) -> Result<Vec<Option<f64>>, String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.starts_with("{{") {
            // Skip histogram literals and the operators between them.
            let mut end = 0;
            let mut scan = rest;
            while let Some(stripped) = scan.strip_prefix("{{") {
                let close = stripped.find("}}").ok_or("unterminated histogram")? + 4;
                end += close;
                scan = rest.get(end..).unwrap_or_default();
                if scan.starts_with("+{{") || scan.starts_with("-{{") {
                    end += 1;
                    scan = rest.get(end..).unwrap_or_default();
                }
            }
            let suffix_len = scan.find(char::is_whitespace).unwrap_or(scan.len());
            let suffix = scan.get(..suffix_len).unwrap_or_default();
            let count = match suffix.strip_prefix('x') {
                Some(n) => {
                    n.parse::<usize>()
                        .map_err(|_| format!("bad count {suffix}"))?
                        + 1
                }
                None => 1,
            };
            out.extend(std::iter::repeat_n(None, count));
            rest = scan.get(suffix_len..).unwrap_or_default().trim_start();
            continue;
        }
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.extend(expand(rest.get(..len).unwrap_or_default())?);
        rest = rest.get(len..).unwrap_or_default().trim_start();
    }
    Ok(out)
}

/// Parses a script into commands (with the line of each eval).
pub fn parse_script(text: &str) -> Vec<Command> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines.get(i).copied().unwrap_or_default();
        if line.is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let word = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if word == "clear" {
            // `clear` takes no body: a command may follow on the next line.
            commands.push(Command::Clear);
            continue;
        }
        while i < lines.len()
            && !lines
                .get(i)
                .is_some_and(|l| l.is_empty() || l.starts_with('#'))
        {
            i += 1;
        }
        let body: Vec<&str> = lines.get(start + 1..i).unwrap_or_default().to_vec();
        let word = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if word == "clear" {
            commands.push(Command::Clear);
        } else if word.starts_with("load") {
            commands.push(Command::Load(
                parse_load(line, &body),
                word == "load_with_nhcb",
            ));
        } else if word.starts_with("eval") {
            commands.push(Command::Eval(Box::new(parse_eval(start + 1, line, &body))));
        }
    }
    commands
}

fn parse_load(line: &str, body: &[&str]) -> Vec<LoadedSeries> {
    let interval = line
        .split_whitespace()
        .nth(1)
        .and_then(parse_duration)
        .unwrap_or(0);
    let mut out: Vec<LoadedSeries> = Vec::new();
    for row in body {
        let Some((series, values)) = split_series(row) else {
            continue;
        };
        if series.ends_with("@st") {
            continue;
        }
        let Ok(labels) = parse_labels(series) else {
            continue;
        };
        let mut samples = Vec::new();
        if let Ok(slots) = expand_all(values) {
            for (k, slot) in slots.into_iter().enumerate() {
                if let Some(v) = slot {
                    samples.push((k as i64 * interval, v));
                }
            }
        }
        out.retain(|s| s.labels != labels);
        let histogram = values.contains("{{");
        out.push(LoadedSeries {
            labels,
            samples,
            histogram,
        });
    }
    out
}

fn parse_eval(line_number: usize, line: &str, body: &[&str]) -> Eval {
    let mut eval = Eval {
        line: line_number,
        ..Eval::default()
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let command = words.first().copied().unwrap_or_default();
    match command {
        "eval_fail" => eval.fail = Some(FailExpectation::default()),
        "eval_ordered" => eval.ordered = true,
        "eval_warn" => eval.warn.push(TextMatch::Any),
        "eval_info" => eval.info.push(TextMatch::Any),
        _ => {}
    }
    let result = if words.get(1) == Some(&"instant") && words.get(2) == Some(&"at") {
        words.get(3).and_then(|t| parse_duration(t)).map(|t| {
            eval.time_ms = t;
            4
        })
    } else if words.get(1) == Some(&"range") && words.get(2) == Some(&"from") {
        let start = words.get(3).and_then(|t| parse_duration(t));
        let end = words.get(5).and_then(|t| parse_duration(t));
        let step = words.get(7).and_then(|t| parse_duration(t));
        match (start, end, step) {
            (Some(s), Some(e), Some(st)) => {
                eval.range = Some((s, e, st));
                Some(8)
            }
            _ => None,
        }
    } else {
        None
    };
    let Some(skip_words) = result else {
        eval.unreadable = Some(format!("cannot read eval line: {line}"));
        return eval;
    };
    // The query is the rest of the line after the first `skip_words` words.
    let mut rest = line;
    for _ in 0..skip_words {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest.get(end..).unwrap_or_default();
    }
    eval.query = rest.trim().to_string();
    for row in body {
        eval.body.push((*row).to_string());
        if let Err(e) = parse_body_line(&mut eval, row) {
            eval.unreadable = Some(e);
        }
    }
    eval
}

fn parse_body_line(eval: &mut Eval, row: &str) -> Result<(), String> {
    if let Some(rest) = row.strip_prefix("expected_fail_message") {
        let fail = eval.fail.get_or_insert_with(FailExpectation::default);
        fail.message = Some(rest.trim().to_string());
        return Ok(());
    }
    if let Some(rest) = row.strip_prefix("expected_fail_regexp") {
        let fail = eval.fail.get_or_insert_with(FailExpectation::default);
        fail.regex = Some(rest.trim().to_string());
        return Ok(());
    }
    if let Some(rest) = row.strip_prefix("expect ") {
        let rest = rest.trim();
        if let Some(f) = rest.strip_prefix("fail") {
            let f = f.trim();
            let mut fail = FailExpectation::default();
            if let Some(m) = f.strip_prefix("msg:") {
                fail.message = Some(m.trim().to_string());
            } else if let Some(r) = f.strip_prefix("regex:") {
                fail.regex = Some(r.trim().to_string());
            }
            eval.fail = Some(fail);
        } else if rest == "ordered" {
            eval.ordered = true;
        } else if let Some(s) = rest.strip_prefix("string") {
            let s = s.trim();
            let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or_default();
            eval.string = Some(inner.to_string());
        } else if let Some(r) = rest.strip_prefix("range vector") {
            let words: Vec<&str> = r.split_whitespace().collect();
            let get = |i: usize| words.get(i).and_then(|w| parse_duration(w));
            match (get(1), get(3), get(5)) {
                (Some(a), Some(b), Some(s)) => {
                    eval.range_vector = Some((a, b, s));
                    eval.time_ms = b;
                }
                _ => return Err(format!("bad expect line: {row}")),
            }
        } else if rest == "no_warn" {
            eval.no_warn = true;
        } else if rest == "no_info" {
            eval.no_info = true;
        } else if let Some(w) = rest.strip_prefix("warn") {
            eval.warn.push(TextMatch::parse(w));
        } else if let Some(i) = rest.strip_prefix("info") {
            eval.info.push(TextMatch::parse(i));
        }
        return Ok(());
    }
    if let Some(v) = parse_number(row) {
        eval.scalar = Some(v);
        return Ok(());
    }
    let (series, values) = split_series(row).ok_or_else(|| format!("bad result line: {row}"))?;
    let labels = parse_labels(series)?;
    if values.contains("{{") {
        return Err("native histogram in expected result".to_string());
    }
    eval.series.push((labels, expand_all(values)?));
    Ok(())
}
