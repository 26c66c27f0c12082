//! Skips: the categories that may be skipped (`skip_categories.txt`, with the data-dependent
//! rules `nhcb` and `histogram-series` that need to know what was loaded) and the evals
//! skipped (`skips.txt`, one `file:line -- reason` each).

use strata::model::Labels;
use strata::query::promql::{parse, Expr};

use super::script::Eval;
use super::{SKIPS, SKIP_CATEGORIES};

/// Series as compared: labels and `(timestamp_ms, value)` points.
pub type SeriesPoints = Vec<(Labels, Vec<(i64, f64)>)>;

/// One skip category.
pub struct Skip {
    target: String,
    /// Why evals of this category may be skipped.
    pub reason: String,
}

impl Skip {
    pub fn applies(
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
pub fn touches(query: &str, series: &[Labels]) -> bool {
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

pub fn collect_selectors<'e>(expr: &'e Expr, out: &mut Vec<&'e [strata::model::Matcher]>) {
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
pub fn nhcb_name(name: &str) -> Option<String> {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .map(str::to_string)
}

/// Whether `query` names `metric` as a whole identifier (or matches it by regex).
pub fn mentions(query: &str, metric: &str) -> bool {
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

/// The categories of `skip_categories.txt`.
pub fn skip_categories() -> Vec<Skip> {
    SKIP_CATEGORIES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            l.split_once(" -- ").map(|(t, reason)| Skip {
                target: t.trim().to_string(),
                reason: reason.trim().to_string(),
            })
        })
        .collect()
}

/// The evals listed in `skips.txt`, as `(file, line)`.
pub fn listed_skips() -> std::collections::HashSet<(String, usize)> {
    SKIPS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (target, _) = l.split_once(" -- ")?;
            let (file, line) = target.trim().rsplit_once(':')?;
            Some((file.to_string(), line.parse().ok()?))
        })
        .collect()
}
