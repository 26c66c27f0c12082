//! Series search: label matchers → the metric ids they select, with Prometheus' semantics.
//!
//! A matcher that does not match the empty string selects exactly the series that have the
//! label with a matching value: a union of tag items. `=` reads one pair's items, a regex that
//! is a literal alternation reads one pair per alternative, one with a literal prefix reads only
//! the values under it; other regexes read all the label's values, testing each once. Such
//! sets are intersected, cheapest first. A matcher that matches the empty string also selects
//! series lacking the label, so it can only remove series: those having the label with a
//! non-matching value. With no matcher of the first kind the search starts from all series
//! (of the day, for the per-day index).

use std::io;

use super::item;
use super::mergeset::Table;
use super::regex_literal::{literal_alternation, literal_prefix};
use crate::model::{MatchOp, Matcher};

/// Which values of a label to read, cheapest first.
enum Values<'a> {
    /// Exactly these.
    Exact(Vec<String>),
    /// Those under a prefix that pass the test.
    Prefix(String, &'a dyn Fn(&str) -> bool),
    /// All, each tested.
    All(&'a dyn Fn(&str) -> bool),
}

impl Values<'_> {
    fn cost(&self) -> u8 {
        match self {
            Values::Exact(_) => 0,
            Values::Prefix(..) => 1,
            Values::All(_) => 2,
        }
    }
}

/// The values whose series a matcher selects (positive) or excludes (matches the empty
/// string); `test` is `matches` for the first, its negation for the second.
fn plan<'a>(matcher: &'a Matcher, test: &'a dyn Fn(&str) -> bool) -> Values<'a> {
    let (op, value) = (matcher.op, matcher.value.as_str());
    let positive = !matcher.matches_empty();
    match (op, positive) {
        (MatchOp::Equal, true) | (MatchOp::NotEqual, false) => Values::Exact(vec![value.into()]),
        (MatchOp::RegexMatch, true) | (MatchOp::RegexNoMatch, false) => {
            match literal_alternation(value) {
                Some(values) => Values::Exact(values),
                None => {
                    let prefix = literal_prefix(value);
                    if prefix.is_empty() {
                        Values::All(test)
                    } else {
                        Values::Prefix(prefix, test)
                    }
                }
            }
        }
        _ => Values::All(test),
    }
}

/// Metric ids of series having `name` with a value in `values` (sorted, unique).
async fn ids_with_values(
    table: &Table,
    day: Option<u32>,
    name: &str,
    values: &Values<'_>,
) -> io::Result<Vec<u64>> {
    let mut ids = Vec::new();
    let mut prefix = Vec::new();
    match values {
        Values::Exact(list) => {
            for value in list {
                if value.is_empty() {
                    // A label with an empty value is the same as no label (Prometheus).
                    continue;
                }
                item::tag_pair_prefix(&mut prefix, day, name.as_bytes(), value.as_bytes());
                let start = prefix.len();
                table
                    .scan_prefix(&prefix, |it| {
                        ids.extend(item::metric_ids(it.get(start..).unwrap_or_default()));
                        true
                    })
                    .await?;
            }
        }
        Values::Prefix(_, test) | Values::All(test) => {
            let value_prefix = match values {
                Values::Prefix(p, _) => p.as_str(),
                _ => "",
            };
            item::tag_name_prefix(&mut prefix, day, name.as_bytes());
            let values_start = prefix.len();
            item::put_escaped_open(&mut prefix, value_prefix.as_bytes());
            // Consecutive items share a value: test each value once.
            let mut last_value: Vec<u8> = Vec::new();
            let mut last_verdict = false;
            let mut have_last = false;
            table
                .scan_prefix(&prefix, |it| {
                    let rest = it.get(values_start..).unwrap_or_default();
                    let Some(end) = rest.iter().position(|&b| b == 0) else {
                        return true;
                    };
                    let raw = rest.get(..end).unwrap_or_default();
                    if !have_last || raw != last_value.as_slice() {
                        last_value.clear();
                        last_value.extend_from_slice(raw);
                        have_last = true;
                        let mut escaped = raw.to_vec();
                        escaped.push(0);
                        last_verdict = match item::get_escaped(&escaped) {
                            Some((value, _)) => {
                                !value.is_empty() && test(&String::from_utf8_lossy(&value))
                            }
                            None => false,
                        };
                    }
                    if last_verdict {
                        ids.extend(item::metric_ids(rest.get(end + 1..).unwrap_or_default()));
                    }
                    true
                })
                .await?;
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Every metric id of the index (global) or of one day.
pub async fn all_ids(table: &Table, day: Option<u32>) -> io::Result<Vec<u64>> {
    let mut prefix = Vec::new();
    match day {
        None => prefix.push(item::METRIC_ID_TO_TSID),
        Some(day) => item::day_prefix(&mut prefix, day),
    }
    let start = prefix.len();
    let mut ids = Vec::new();
    table
        .scan_prefix(&prefix, |it| {
            if let Some(id) = it
                .get(start..start + 8)
                .and_then(super::mergeset::codec::be_u64)
            {
                ids.push(id);
            }
            true
        })
        .await?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A test of one label value.
type ValueTest<'a> = Box<dyn Fn(&str) -> bool + 'a>;

/// The metric ids selected by all `matchers` (before removing deleted ones), ascending.
pub async fn select(table: &Table, day: Option<u32>, matchers: &[Matcher]) -> io::Result<Vec<u64>> {
    let tests: Vec<ValueTest<'_>> = matchers
        .iter()
        .map(|m| -> Box<dyn Fn(&str) -> bool + '_> {
            if m.matches_empty() {
                Box::new(move |v: &str| !m.matches(v))
            } else {
                Box::new(move |v: &str| m.matches(v))
            }
        })
        .collect();
    let mut positive: Vec<(&Matcher, Values<'_>)> = Vec::new();
    let mut negative: Vec<(&Matcher, Values<'_>)> = Vec::new();
    for (matcher, test) in matchers.iter().zip(&tests) {
        if matcher.op == MatchOp::RegexMatch && matcher.value == ".*" {
            // Matches every value and absence: selects everything, excludes nothing.
            continue;
        }
        let values = plan(matcher, test.as_ref());
        if matcher.matches_empty() {
            negative.push((matcher, values));
        } else {
            positive.push((matcher, values));
        }
    }
    positive.sort_by_key(|(_, v)| v.cost());
    let mut result: Option<Vec<u64>> = None;
    for (matcher, values) in &positive {
        let ids = ids_with_values(table, day, &matcher.name, values).await?;
        let next = match result {
            None => ids,
            Some(acc) => intersect(&acc, &ids),
        };
        let empty = next.is_empty();
        result = Some(next);
        if empty {
            return Ok(Vec::new());
        }
    }
    let mut result = match result {
        Some(r) => r,
        None => all_ids(table, day).await?,
    };
    for (matcher, values) in &negative {
        if result.is_empty() {
            break;
        }
        let excluded = ids_with_values(table, day, &matcher.name, values).await?;
        result = subtract(&result, &excluded);
    }
    Ok(result)
}

/// Sorted intersection.
pub fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Sorted difference `a - b`.
pub fn subtract(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while b.get(j).is_some_and(|&y| y < x) {
            j += 1;
        }
        if b.get(j) != Some(&x) {
            out.push(x);
        }
    }
    out
}

/// Sorted union.
pub fn union(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    out.sort_unstable();
    out.dedup();
    out
}
