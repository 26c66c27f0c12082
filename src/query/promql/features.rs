//! Feature gates: the syntax Prometheus only accepts behind `--enable-feature`
//! flags, checked after parsing with Prometheus' messages.
//!
//! [`super::parse`] accepts everything (Prometheus' own test suite runs with all
//! of it on); [`super::parse_with`] rejects what a given [`Features`] leaves off,
//! so the API layer can answer like a Prometheus with the same flags.

use super::ast::{Expr, Span, VectorSelector};
use super::error::{ErrorKind, ParseError};

/// Which experimental PromQL features are enabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// `promql-experimental-functions`: experimental functions, `limitk`, `limit_ratio`.
    pub experimental_functions: bool,
    /// `promql-duration-expr`: `[5m+1m]`, `offset step()`, `min_of`…
    pub duration_expressions: bool,
    /// `promql-extended-range-selectors`: `anchored` and `smoothed`.
    pub extended_range_selectors: bool,
    /// `promql-binop-fill-modifiers`: `fill`, `fill_left`, `fill_right`.
    pub fill_modifiers: bool,
}

impl Features {
    /// Prometheus' defaults: every experimental feature off.
    pub fn prometheus_default() -> Features {
        Features::default()
    }

    /// Everything on, as Prometheus' test suite runs.
    pub fn all() -> Features {
        Features {
            experimental_functions: true,
            duration_expressions: true,
            extended_range_selectors: true,
            fill_modifiers: true,
        }
    }
}

/// Fails on the first use of a feature `features` leaves off.
pub fn check_features(input: &str, expr: &Expr, features: &Features) -> Result<(), ParseError> {
    let mut problem: Option<(String, Span)> = None;
    expr.walk(&mut |node| {
        if problem.is_none() {
            problem = disabled_use(node, features);
        }
    });
    match problem {
        Some((message, span)) => Err(ParseError::new(
            input,
            ErrorKind::Invalid(message),
            span.start,
            span.end,
        )),
        None => Ok(()),
    }
}

/// The message and place of a disabled feature used by `node` itself.
fn disabled_use(node: &Expr, features: &Features) -> Option<(String, Span)> {
    match node {
        Expr::Call(call) if call.func.experimental && !features.experimental_functions => {
            let name = Span::new(call.span.start, call.span.start + call.func.name.len());
            Some((format!("function {:?} is not enabled", call.func.name), name))
        }
        Expr::Aggregate(aggregate)
            if aggregate.op.is_experimental() && !features.experimental_functions =>
        {
            Some((
                "limitk() and limit_ratio() are experimental and must be enabled with --enable-feature=promql-experimental-functions".to_string(),
                aggregate.span,
            ))
        }
        Expr::VectorSelector(selector) => selector_use(selector, None, features),
        Expr::MatrixSelector(matrix) => selector_use(
            &matrix.selector,
            matrix.range_expr.is_some().then_some(matrix.span),
            features,
        ),
        Expr::Subquery(subquery)
            if !features.duration_expressions
                && (subquery.range_expr.is_some()
                    || subquery.step_expr.is_some()
                    || subquery.offset_expr.is_some()) =>
        {
            Some(duration_disabled(subquery.span))
        }
        Expr::Binary(binary)
            if !features.fill_modifiers
                && binary
                    .matching
                    .as_ref()
                    .is_some_and(|m| m.fill_left.is_some() || m.fill_right.is_some()) =>
        {
            Some((
                "binary operator fill modifiers are experimental and not enabled".to_string(),
                binary.span,
            ))
        }
        _ => None,
    }
}

fn selector_use(
    selector: &VectorSelector,
    range_expr_span: Option<Span>,
    features: &Features,
) -> Option<(String, Span)> {
    if !features.duration_expressions {
        if let Some(span) = range_expr_span {
            return Some(duration_disabled(span));
        }
        if selector.offset_expr.is_some() {
            return Some(duration_disabled(selector.span));
        }
    }
    if !features.extended_range_selectors {
        for (set, name) in [
            (selector.anchored, "anchored"),
            (selector.smoothed, "smoothed"),
        ] {
            if set {
                return Some((
                    format!("{name} modifier is experimental and not enabled"),
                    selector.span,
                ));
            }
        }
    }
    None
}

fn duration_disabled(span: Span) -> (String, Span) {
    (
        "experimental duration expression is not enabled".to_string(),
        span,
    )
}

#[cfg(test)]
mod tests {
    use super::super::{parse, parse_with};
    use super::*;

    #[test]
    fn defaults_reject_experimental_syntax() {
        let off = Features::prometheus_default();
        let cases = [
            ("sort_by_label(up, \"a\")", "1:1: parse error: function \"sort_by_label\" is not enabled"),
            ("limitk(1, up)", "1:1: parse error: limitk() and limit_ratio() are experimental and must be enabled with --enable-feature=promql-experimental-functions"),
            ("up[5m+1m]", "1:1: parse error: experimental duration expression is not enabled"),
            ("rate(up[5m] anchored)", "1:6: parse error: anchored modifier is experimental and not enabled"),
            ("a + fill(0) b", "1:1: parse error: binary operator fill modifiers are experimental and not enabled"),
        ];
        for (input, want) in cases {
            let error = parse_with(input, &off).err().map(|e| e.to_string());
            assert_eq!(error.as_deref(), Some(want), "{input}");
            assert!(parse(input).is_ok(), "{input}");
            assert!(parse_with(input, &Features::all()).is_ok(), "{input}");
        }
        for input in ["rate(up[5m])", "sum by (a) (up) offset 5m"] {
            let result = parse_with(input, &off);
            assert_eq!(result.is_ok(), input.starts_with("rate"), "{input}");
        }
    }
}
