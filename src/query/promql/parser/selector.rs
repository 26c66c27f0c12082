//! Selectors and their modifiers: `name{matchers}`, `[range]`, `[range:step]`,
//! `offset` and `@`, with Prometheus' placement rules and messages.

use crate::model::{MatchOp, Matcher, METRIC_NAME_LABEL};

use super::super::ast::{At, Expr, MatrixSelector, Span, Subquery, VectorSelector};
use super::super::duration_expr::DurationExpr;
use super::super::error::ErrorKind;
use super::super::printer::format_float;
use super::super::token::{Keyword, Token, TokenKind};
use super::duration::ParsedDuration;
use super::{ParseResult, Parser};

const OFFSET_PLACEMENT: &str = "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery";
const AT_PLACEMENT: &str =
    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery";

/// The `offset`/`@` fields of whatever node a modifier attaches to.
struct ModifierTarget<'e> {
    offset_ms: &'e mut i64,
    offset_expr: &'e mut Option<DurationExpr>,
    at: &'e mut Option<At>,
    span: &'e mut Span,
}

/// Finds where a modifier attaches, or the placement error's message.
fn modifier_target(expr: &mut Expr) -> Option<ModifierTarget<'_>> {
    match expr {
        Expr::VectorSelector(selector) => Some(ModifierTarget {
            offset_ms: &mut selector.offset_ms,
            offset_expr: &mut selector.offset_expr,
            at: &mut selector.at,
            span: &mut selector.span,
        }),
        Expr::MatrixSelector(matrix) => Some(ModifierTarget {
            offset_ms: &mut matrix.selector.offset_ms,
            offset_expr: &mut matrix.selector.offset_expr,
            at: &mut matrix.selector.at,
            span: &mut matrix.span,
        }),
        Expr::Subquery(subquery) => Some(ModifierTarget {
            offset_ms: &mut subquery.offset_ms,
            offset_expr: &mut subquery.offset_expr,
            at: &mut subquery.at,
            span: &mut subquery.span,
        }),
        _ => None,
    }
}

impl<'a> Parser<'a> {
    /// `name`, `name{...}` or `{...}`; `name` is the already consumed name token.
    pub(super) fn parse_vector_selector(&mut self, name: Option<Token<'_>>) -> ParseResult<Expr> {
        let start = name.map_or(self.peek().pos, |token| token.pos);
        let mut matchers = Vec::new();
        if self.peek().kind == TokenKind::LeftBrace {
            self.next();
            self.parse_matchers(&mut matchers)?;
        }
        let end = self.last_end;
        let name = name.map(|token| token.text.to_string());
        if let Some(name) = &name {
            let matcher = Matcher::new(MatchOp::Equal, METRIC_NAME_LABEL, name.as_str()).map_err(
                |error| self.error_at(ErrorKind::BadRegex(error), Span::new(start, end)),
            )?;
            matchers.push(matcher);
        }
        Ok(Expr::VectorSelector(Box::new(VectorSelector {
            name,
            matchers,
            offset_ms: 0,
            offset_expr: None,
            at: None,
            anchored: false,
            smoothed: false,
            span: Span::new(start, end),
        })))
    }

    /// The matchers after `{`, up to and including `}`.
    fn parse_matchers(&mut self, matchers: &mut Vec<Matcher>) -> ParseResult<()> {
        loop {
            let token = self.next();
            match token.kind {
                TokenKind::RightBrace => return Ok(()),
                TokenKind::Identifier | TokenKind::String => {
                    matchers.push(self.parse_matcher(token)?);
                }
                _ => return Err(self.unexpected(token, "label matching", "identifier or \"}\"")),
            }
            let separator = self.next();
            match separator.kind {
                TokenKind::Comma => {}
                TokenKind::RightBrace => return Ok(()),
                _ => return Err(self.unexpected(separator, "label matching", "\",\" or \"}\"")),
            }
        }
    }

    /// One matcher whose label (or quoted metric name) token is consumed.
    fn parse_matcher(&mut self, label: Token<'_>) -> ParseResult<Matcher> {
        let name = if label.kind == TokenKind::String {
            self.string_value(label)?
        } else {
            label.text.to_string()
        };
        let op = match self.peek().kind {
            TokenKind::Assign => MatchOp::Equal,
            TokenKind::Neq => MatchOp::NotEqual,
            TokenKind::RegexMatch => MatchOp::RegexMatch,
            TokenKind::RegexNoMatch => MatchOp::RegexNoMatch,
            TokenKind::Comma | TokenKind::RightBrace if label.kind == TokenKind::String => {
                // `{"metric.name"}`: a quoted metric name inside the braces.
                let span = Span::new(label.pos, label.end());
                return Matcher::new(MatchOp::Equal, METRIC_NAME_LABEL, name)
                    .map_err(|error| self.error_at(ErrorKind::BadRegex(error), span));
            }
            _ => {
                let token = self.peek();
                return Err(self.unexpected(token, "label matching", "label matching operator"));
            }
        };
        self.next();
        let value = self.peek();
        if value.kind != TokenKind::String {
            return Err(self.unexpected(value, "label matching", "string"));
        }
        self.next();
        let text = self.string_value(value)?;
        let span = Span::new(label.pos, value.end());
        Matcher::new(op, name, text)
            .map_err(|error| self.error_at(ErrorKind::BadRegex(error), span))
    }

    /// A duration in brackets or after `offset`: a number of seconds or a duration literal.
    pub(super) fn parse_duration_literal(
        &mut self,
        context: &'static str,
        expected: &'static str,
    ) -> ParseResult<(i64, Token<'a>)> {
        let token = self.peek();
        let ms = match token.kind {
            TokenKind::Number => {
                let seconds = self.number_value(token)?;
                seconds_to_ms(seconds).ok_or_else(|| {
                    self.invalid(
                        format!("duration out of range: {}", token.text),
                        Span::new(token.pos, token.end()),
                    )
                })?
            }
            TokenKind::Duration => self.duration_ms(token)?,
            _ => return Err(self.unexpected(token, context, expected)),
        };
        self.next();
        Ok((ms, token))
    }

    /// A plain range or step literal (Prometheus' `number_duration_literal`).
    pub(super) fn parse_range_literal(
        &mut self,
        context: &'static str,
        expected: &'static str,
    ) -> ParseResult<i64> {
        let (ms, _) = self.parse_duration_literal(context, expected)?;
        Ok(ms)
    }

    /// `[range]` after a selector, or `[range:step]` / `[range:]` after any expression.
    pub(super) fn parse_range_or_subquery(&mut self, expr: Expr) -> ParseResult<Expr> {
        let open = self.next();
        let range = self.parse_bracket_duration("subquery selector", "number or duration")?;
        let token = self.next();
        match token.kind {
            TokenKind::RightBracket => self.make_matrix(expr, range, open, token),
            TokenKind::Colon => {
                let step = if self.peek().kind == TokenKind::RightBracket {
                    None
                } else {
                    Some(self.parse_bracket_duration(
                        "subquery selector",
                        "number or duration or \"]\"",
                    )?)
                };
                let close = self.expect(TokenKind::RightBracket, "subquery selector", "\"]\"")?;
                let span = Span::new(expr.span().start, close.end());
                // A zero step means the default step, as in Prometheus.
                let (step_ms, step_expr) = match step {
                    Some(step) if step.ms == 0 && step.expr.is_none() => (None, None),
                    Some(step) => (Some(step.ms), step.expr),
                    None => (None, None),
                };
                self.set_depth(self.last_depth + 1)?;
                Ok(Expr::Subquery(Box::new(Subquery {
                    expr,
                    range_ms: range.ms,
                    range_expr: range.expr,
                    step_ms,
                    step_expr,
                    offset_ms: 0,
                    offset_expr: None,
                    at: None,
                    span,
                })))
            }
            _ => Err(self.unexpected(token, "subquery or range", "\":\" or \"]\"")),
        }
    }

    fn make_matrix(
        &self,
        expr: Expr,
        range: ParsedDuration,
        open: Token<'_>,
        close: Token<'_>,
    ) -> ParseResult<Expr> {
        let brackets = Span::new(open.pos, close.end());
        let Expr::VectorSelector(selector) = expr else {
            return Err(self.invalid("ranges only allowed for vector selectors", brackets));
        };
        if selector.offset_ms != 0 || selector.offset_expr.is_some() {
            return Err(self.invalid("no offset modifiers allowed before range", brackets));
        }
        if selector.at.is_some() {
            return Err(self.invalid("no @ modifiers allowed before range", brackets));
        }
        let span = Span::new(selector.span.start, close.end());
        Ok(Expr::MatrixSelector(Box::new(MatrixSelector {
            selector: *selector,
            range_ms: range.ms,
            range_expr: range.expr,
            span,
        })))
    }

    /// `offset [-]duration`.
    pub(super) fn parse_offset(&mut self, mut expr: Expr) -> ParseResult<Expr> {
        self.next();
        let offset = self.parse_offset_duration()?;
        let end = self.last_end;
        let expr_span = expr.span();
        let Some(target) = modifier_target(&mut expr) else {
            return Err(self.invalid(OFFSET_PLACEMENT, expr_span));
        };
        if *target.offset_ms != 0 || target.offset_expr.is_some() {
            return Err(self.invalid("offset may not be set multiple times", expr_span));
        }
        *target.offset_ms = offset.ms;
        *target.offset_expr = offset.expr;
        target.span.end = end;
        Ok(expr)
    }

    /// The experimental `anchored` / `smoothed` modifiers of (range) selectors.
    pub(super) fn parse_extension(
        &mut self,
        mut expr: Expr,
        keyword: Keyword,
    ) -> ParseResult<Expr> {
        let token = self.next();
        let name = token.text.to_ascii_lowercase();
        let span = expr.span();
        let selector = match &mut expr {
            Expr::VectorSelector(selector) => selector,
            Expr::MatrixSelector(matrix) => &mut matrix.selector,
            Expr::Subquery(_) => {
                return Err(self.invalid(
                    format!("{name} modifier is not supported for subqueries"),
                    span,
                ))
            }
            _ => {
                return Err(self.invalid(format!("{name} modifier not implemented"), span));
            }
        };
        if selector.anchored || selector.smoothed {
            return Err(self.invalid(
                "anchored and smoothed modifiers cannot be used together",
                span,
            ));
        }
        if keyword == Keyword::Anchored {
            selector.anchored = true;
        } else {
            selector.smoothed = true;
        }
        let end = token.end();
        match &mut expr {
            Expr::VectorSelector(selector) => selector.span.end = end,
            Expr::MatrixSelector(matrix) => matrix.span.end = end,
            _ => {}
        }
        Ok(expr)
    }

    /// `@ <timestamp>`, `@ start()` or `@ end()`.
    pub(super) fn parse_at(&mut self, mut expr: Expr) -> ParseResult<Expr> {
        self.next();
        let token = self.peek();
        let at = match token.kind {
            TokenKind::Keyword(keyword @ (Keyword::Start | Keyword::End)) => {
                self.next();
                self.expect(TokenKind::LeftParen, "@", "\"(\"")?;
                self.expect(TokenKind::RightParen, "@", "\")\"")?;
                if keyword == Keyword::Start {
                    At::Start
                } else {
                    At::End
                }
            }
            _ => self.parse_at_timestamp(expr.span())?,
        };
        let end = self.last_end;
        let expr_span = expr.span();
        let Some(target) = modifier_target(&mut expr) else {
            return Err(self.invalid(AT_PLACEMENT, expr_span));
        };
        if target.at.is_some() {
            return Err(self.invalid("@ <timestamp> may not be set multiple times", expr_span));
        }
        *target.at = Some(at);
        target.span.end = end;
        Ok(expr)
    }

    /// `[+|-]number` or a duration, in seconds since the epoch, as milliseconds.
    fn parse_at_timestamp(&mut self, expr_span: Span) -> ParseResult<At> {
        let mut sign = 1.0;
        match self.peek().kind {
            TokenKind::Add => {
                self.next();
            }
            TokenKind::Sub => {
                self.next();
                sign = -1.0;
            }
            _ => {}
        }
        let token = self.peek();
        let seconds = match token.kind {
            TokenKind::Number => self.number_value(token)?,
            TokenKind::Duration => self.duration_ms(token)? as f64 / 1000.0,
            _ => return Err(self.unexpected(token, "@", "timestamp")),
        };
        self.next();
        let seconds = sign * seconds;
        // i64::MAX as f64 rounds up to 2^63, so `>=` rejects exactly what Go rejects.
        let bound = i64::MAX as f64;
        if !seconds.is_finite() || seconds >= bound || seconds <= -bound {
            return Err(self.invalid(
                format!(
                    "timestamp out of bounds for @ modifier: {}",
                    go_fixed6(seconds)
                ),
                expr_span,
            ));
        }
        let ms = (seconds * 1000.0).round();
        if ms >= bound || ms <= -bound {
            return Err(self.invalid(
                format!(
                    "timestamp out of bounds for @ modifier: {}",
                    go_fixed6(seconds)
                ),
                expr_span,
            ));
        }
        Ok(At::Timestamp(ms as i64))
    }
}

/// Formats like Go's `%f`: six decimals, `+Inf`/`-Inf`/`NaN` for the rest.
fn go_fixed6(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.6}")
    } else {
        format_float(value)
    }
}

/// Seconds (possibly fractional) as whole milliseconds, `None` when not representable.
fn seconds_to_ms(seconds: f64) -> Option<i64> {
    let ms = (seconds * 1000.0).round();
    let bound = i64::MAX as f64;
    (ms.is_finite() && ms < bound && ms > -bound).then_some(ms as i64)
}
