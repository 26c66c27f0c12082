//! Series search: label matchers → the set of series they select, with Prometheus' semantics.
//!
//! A matcher that does not match the empty string selects exactly the series that
//! have the label with a matching value: the union of those values' postings.
//! Such sets are intersected, smallest first. A matcher that matches the empty
//! string also selects series lacking the label, so it can only remove series:
//! those having the label with a non-matching value. With no matcher of the
//! first kind the search starts from all series.

use super::{Index, SeriesRef};
use crate::model::{MatchOp, Matcher};

/// The series selected by all `matchers`, ascending, restricted to series with samples overlapping `[min_ms, max_ms]`.
pub fn select(index: &Index, matchers: &[Matcher], min_ms: i64, max_ms: i64) -> Vec<SeriesRef> {
    let mut positive: Vec<Vec<SeriesRef>> = Vec::new();
    let mut negative: Vec<&Matcher> = Vec::new();
    for matcher in matchers {
        if matcher.matches_empty() {
            negative.push(matcher);
        } else {
            positive.push(postings_for(index, matcher));
        }
    }
    positive.sort_by_key(Vec::len);
    let mut result: Vec<SeriesRef> = match positive.split_first() {
        Some((first, rest)) => {
            let mut acc = first.clone();
            for set in rest {
                acc = intersect(&acc, set);
                if acc.is_empty() {
                    break;
                }
            }
            acc
        }
        None => (0..index.len() as SeriesRef).collect(),
    };
    for matcher in negative {
        let Some(values) = index.values_of(&matcher.name) else {
            continue;
        };
        let mut excluded: Vec<SeriesRef> = Vec::new();
        for (value, series) in values {
            if !matcher.matches(value) {
                excluded.extend_from_slice(series);
            }
        }
        if !excluded.is_empty() {
            excluded.sort_unstable();
            result = subtract(&result, &excluded);
        }
    }
    result.retain(|&s| {
        index
            .entry(s)
            .is_some_and(|e| e.min_timestamp_ms <= max_ms && e.max_timestamp_ms >= min_ms)
    });
    result
}

fn postings_for(index: &Index, matcher: &Matcher) -> Vec<SeriesRef> {
    let Some(values) = index.values_of(&matcher.name) else {
        return Vec::new();
    };
    if matcher.op == MatchOp::Equal {
        return values
            .get(matcher.value.as_str())
            .cloned()
            .unwrap_or_default();
    }
    let mut union: Vec<SeriesRef> = Vec::new();
    for (value, series) in values {
        if matcher.matches(value) {
            union.extend_from_slice(series);
        }
    }
    union.sort_unstable();
    union.dedup();
    union
}

fn intersect(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
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

fn subtract(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Labels;

    fn index_of(series: &[&[(&str, &str)]]) -> Index {
        let mut index = Index::new();
        for pairs in series {
            let labels = Labels::from_pairs(pairs.iter().copied());
            let s = index.register(&labels.to_canonical(), labels);
            index.note_timestamp(s, 0);
        }
        index
    }

    fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
        Matcher::new(op, name, value).unwrap()
    }

    /// Every matcher kind against a brute-force scan of the same series.
    #[test]
    fn agrees_with_brute_force() {
        let series: Vec<&[(&str, &str)]> = vec![
            &[("__name__", "a"), ("job", "x")],
            &[("__name__", "a"), ("job", "y"), ("env", "")],
            &[("__name__", "a")],
            &[("__name__", "b"), ("job", "x"), ("env", "prod")],
            &[("__name__", "b"), ("env", "dev")],
        ];
        let index = index_of(&series);
        let cases = vec![
            vec![m("__name__", MatchOp::Equal, "a")],
            vec![m("job", MatchOp::NotEqual, "x")],
            vec![m("job", MatchOp::Equal, "")],
            vec![m("job", MatchOp::NotEqual, "")],
            vec![m("job", MatchOp::RegexMatch, ".*")],
            vec![m("job", MatchOp::RegexMatch, ".+")],
            vec![m("job", MatchOp::RegexMatch, "")],
            vec![m("job", MatchOp::RegexNoMatch, "x|y")],
            vec![
                m("__name__", MatchOp::RegexMatch, "a|b"),
                m("env", MatchOp::RegexNoMatch, "pro.*"),
            ],
            vec![
                m("__name__", MatchOp::Equal, "b"),
                m("job", MatchOp::Equal, "x"),
            ],
            vec![m("nope", MatchOp::Equal, "")],
            vec![m("nope", MatchOp::Equal, "z")],
        ];
        for matchers in cases {
            let got = select(&index, &matchers, i64::MIN, i64::MAX);
            let want: Vec<SeriesRef> = index
                .entries()
                .iter()
                .enumerate()
                .filter(|(_, e)| matchers.iter().all(|m| m.matches(e.labels.get(&m.name))))
                .map(|(i, _)| i as SeriesRef)
                .collect();
            assert_eq!(got, want, "{matchers:?}");
        }
    }

    #[test]
    fn time_range_filters_series() {
        let mut index = index_of(&[&[("__name__", "a")]]);
        index.note_timestamp(0, 100);
        let all = [m("__name__", MatchOp::Equal, "a")];
        assert_eq!(select(&index, &all, 50, 60), vec![0]);
        assert!(select(&index, &all, 101, 200).is_empty());
    }
}
