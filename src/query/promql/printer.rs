//! Prints an [`Expr`] back in Prometheus' canonical form (`promql.Expr.String()`):
//! one space around binary operators, matchers sorted, the metric name's own
//! matcher folded back into the name, durations in `model.Duration` form.

use std::fmt::{self, Display, Formatter, Write};

use crate::model::{MatchOp, Matcher, METRIC_NAME_LABEL};

use super::ast::{
    Aggregate, At, Binary, Call, Cardinality, Expr, MatrixSelector, NumberLiteral, Subquery,
    UnaryOp, VectorMatching, VectorSelector,
};
use super::duration::format_duration_ms;
use super::duration_expr::DurationExpr;

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(number) => write_number(f, number),
            Expr::String(string) => f.write_str(&go_quote(&string.value)),
            Expr::VectorSelector(selector) => write_selector(f, selector, true),
            Expr::MatrixSelector(matrix) => write_matrix(f, matrix),
            Expr::Subquery(subquery) => write_subquery(f, subquery),
            Expr::Call(call) => write_call(f, call),
            Expr::Aggregate(aggregate) => write_aggregate(f, aggregate),
            Expr::Binary(binary) => write_binary(f, binary),
            Expr::Unary(unary) => {
                let sign = match unary.op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Plus => "+",
                };
                f.write_str(sign)?;
                unary.expr.fmt(f)
            }
            Expr::Paren(paren) => {
                f.write_str("(")?;
                paren.expr.fmt(f)?;
                f.write_str(")")
            }
        }
    }
}

/// Formats a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`, which Prometheus
/// uses for number literals: shortest digits, never an exponent, `+Inf`, `NaN`.
pub fn format_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    format!("{value}")
}

/// Formats a float as Go's `%v` does, which Prometheus uses for fill values:
/// `%g` with the shortest digits, so an exponent appears when the decimal
/// exponent is below -4 or at least 6 (`1e+06`, `1e-05`, `123456`).
pub fn format_float_v(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Shortest round-trip digits and exponent, e.g. "1.234e6".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..6).contains(&exponent) {
        return format!("{value}");
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
}

/// Quotes a string as Go's `%q` / `strconv.Quote` does.
pub fn go_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0b}' => out.push_str("\\v"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let code = u32::from(c);
                if code < 0x10000 {
                    let _ = write!(out, "\\u{code:04x}");
                } else {
                    let _ = write!(out, "\\U{code:08x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a label or metric name needs quotes (not `[a-zA-Z_][a-zA-Z0-9_]*`).
fn needs_quotes(name: &str, allow_colon: bool) -> bool {
    name.is_empty()
        || name.chars().enumerate().any(|(i, c)| {
            !(c == '_'
                || c.is_ascii_alphabetic()
                || (i > 0 && c.is_ascii_digit())
                || (allow_colon && c == ':'))
        })
}

/// A label name as Prometheus 3 prints it: bare when legacy-valid, quoted otherwise.
fn label_name(name: &str) -> String {
    if needs_quotes(name, false) {
        go_quote(name)
    } else {
        name.to_string()
    }
}

fn matcher_string(matcher: &Matcher) -> String {
    format!(
        "{}{}{}",
        label_name(&matcher.name),
        matcher.op.as_str(),
        go_quote(&matcher.value)
    )
}

fn write_modifiers(
    f: &mut Formatter<'_>,
    at: Option<At>,
    offset_ms: i64,
    offset_expr: Option<&DurationExpr>,
) -> fmt::Result {
    write_at(f, at)?;
    write_offset(f, offset_ms, offset_expr)
}

fn write_at(f: &mut Formatter<'_>, at: Option<At>) -> fmt::Result {
    match at {
        Some(At::Timestamp(ms)) => write!(f, " @ {:.3}", ms as f64 / 1000.0),
        Some(At::Start) => f.write_str(" @ start()"),
        Some(At::End) => f.write_str(" @ end()"),
        None => Ok(()),
    }
}

fn write_offset(
    f: &mut Formatter<'_>,
    offset_ms: i64,
    offset_expr: Option<&DurationExpr>,
) -> fmt::Result {
    if let Some(expr) = offset_expr {
        write!(f, " offset {expr}")
    } else if offset_ms != 0 {
        write!(f, " offset {}", format_duration_ms(offset_ms))
    } else {
        Ok(())
    }
}

/// A number literal; one written as a duration prints as a duration (`5m`).
fn write_number(f: &mut Formatter<'_>, number: &NumberLiteral) -> fmt::Result {
    let ms = (number.value * 1000.0).round();
    if number.duration && ms.is_finite() && ms.abs() < i64::MAX as f64 {
        f.write_str(&format_duration_ms(ms as i64))
    } else {
        f.write_str(&format_float(number.value))
    }
}

fn write_selector(
    f: &mut Formatter<'_>,
    selector: &VectorSelector,
    with_modifiers: bool,
) -> fmt::Result {
    let name = selector.name.as_deref().unwrap_or("");
    let mut labels: Vec<String> = selector
        .matchers
        .iter()
        .filter(|m| {
            !(m.name == METRIC_NAME_LABEL
                && m.op == MatchOp::Equal
                && m.value == name
                && !m.value.is_empty())
        })
        .map(matcher_string)
        .collect();
    labels.sort();
    let quoted_name = !name.is_empty() && needs_quotes(name, true);
    if quoted_name {
        labels.insert(0, go_quote(name));
    } else {
        f.write_str(name)?;
    }
    if !labels.is_empty() {
        write!(f, "{{{}}}", labels.join(", ").replace(", ", ","))?;
    }
    if with_modifiers {
        write_at(f, selector.at)?;
        write_extension(f, selector)?;
        write_offset(f, selector.offset_ms, selector.offset_expr.as_ref())?;
    }
    Ok(())
}

fn write_extension(f: &mut Formatter<'_>, selector: &VectorSelector) -> fmt::Result {
    if selector.anchored {
        f.write_str(" anchored")
    } else if selector.smoothed {
        f.write_str(" smoothed")
    } else {
        Ok(())
    }
}

fn write_matrix(f: &mut Formatter<'_>, matrix: &MatrixSelector) -> fmt::Result {
    write_selector(f, &matrix.selector, false)?;
    write!(
        f,
        "[{}]",
        duration_text(matrix.range_ms, matrix.range_expr.as_ref())
    )?;
    let selector = &matrix.selector;
    write_extension(f, selector)?;
    write_modifiers(
        f,
        selector.at,
        selector.offset_ms,
        selector.offset_expr.as_ref(),
    )
}

fn write_subquery(f: &mut Formatter<'_>, subquery: &Subquery) -> fmt::Result {
    subquery.expr.fmt(f)?;
    write!(
        f,
        "[{}:",
        duration_text(subquery.range_ms, subquery.range_expr.as_ref())
    )?;
    if let Some(step) = subquery.step_ms {
        f.write_str(&duration_text(step, subquery.step_expr.as_ref()))?;
    }
    f.write_str("]")?;
    write_modifiers(
        f,
        subquery.at,
        subquery.offset_ms,
        subquery.offset_expr.as_ref(),
    )
}

/// A range or step: the duration expression as written, or the duration.
fn duration_text(ms: i64, expr: Option<&DurationExpr>) -> String {
    match expr {
        Some(expr) => expr.to_string(),
        None => format_duration_ms(ms),
    }
}

fn join_labels(labels: &[String]) -> String {
    labels
        .iter()
        .map(|l| label_name(l))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_call(f: &mut Formatter<'_>, call: &Call) -> fmt::Result {
    f.write_str(call.func.name)?;
    f.write_str("(")?;
    for (index, arg) in call.args.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        arg.fmt(f)?;
    }
    f.write_str(")")
}

fn write_aggregate(f: &mut Formatter<'_>, aggregate: &Aggregate) -> fmt::Result {
    f.write_str(aggregate.op.as_str())?;
    if aggregate.without {
        write!(f, " without ({}) ", join_labels(&aggregate.grouping))?;
    } else if !aggregate.grouping.is_empty() {
        write!(f, " by ({}) ", join_labels(&aggregate.grouping))?;
    }
    f.write_str("(")?;
    if let Some(param) = &aggregate.param {
        param.fmt(f)?;
        f.write_str(", ")?;
    }
    aggregate.expr.fmt(f)?;
    f.write_str(")")
}

fn write_binary(f: &mut Formatter<'_>, binary: &Binary) -> fmt::Result {
    binary.lhs.fmt(f)?;
    f.write_str(" ")?;
    f.write_str(binary.op.as_str())?;
    if binary.return_bool {
        f.write_str(" bool")?;
    }
    if let Some(matching) = &binary.matching {
        write_matching(f, matching)?;
    }
    f.write_str(" ")?;
    binary.rhs.fmt(f)
}

/// ` on (a) group_left (b) fill (0)` as Prometheus' `getMatchingStr` prints it.
fn write_matching(f: &mut Formatter<'_>, matching: &VectorMatching) -> fmt::Result {
    let side = match matching.card {
        Cardinality::ManyToOne => Some("left"),
        Cardinality::OneToMany => Some("right"),
        Cardinality::OneToOne | Cardinality::ManyToMany => None,
    };
    if !matching.labels.is_empty() || matching.on || side.is_some() {
        let tag = if matching.on { "on" } else { "ignoring" };
        write!(f, " {tag} ({})", join_labels(&matching.labels))?;
    }
    if let Some(side) = side {
        write!(f, " group_{side} ({})", join_labels(&matching.include))?;
    }
    match (matching.fill_left, matching.fill_right) {
        (Some(l), Some(r)) if l.to_bits() == r.to_bits() => {
            write!(f, " fill ({})", format_float_v(l))?;
        }
        (left, right) => {
            if let Some(l) = left {
                write!(f, " fill_left ({})", format_float_v(l))?;
            }
            if let Some(r) = right {
                write!(f, " fill_right ({})", format_float_v(r))?;
            }
        }
    }
    Ok(())
}
