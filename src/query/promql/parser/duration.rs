//! Durations in brackets and after `offset`: a plain number (seconds) or
//! duration literal, or an experimental duration expression (`[5m+1m]`,
//! `offset (step()*2)`), folded to milliseconds when it is constant.

use super::super::ast::{BinaryOp, Span};
use super::super::duration_expr::DurationExpr;
use super::super::token::{Keyword, TokenKind};
use super::{ParseResult, Parser};

/// A duration as written: its milliseconds (0 when it needs the query's step or
/// range) and the expression when it was not a plain literal.
pub(super) struct ParsedDuration {
    pub ms: i64,
    pub expr: Option<DurationExpr>,
}

/// Binding strength of a sign's operand: only `^` binds tighter, as for PromQL.
const UNARY_OPERAND_PRECEDENCE: u8 = 6;

fn duration_op(kind: TokenKind) -> Option<BinaryOp> {
    let op = match kind {
        TokenKind::Add => BinaryOp::Add,
        TokenKind::Sub => BinaryOp::Sub,
        TokenKind::Mul => BinaryOp::Mul,
        TokenKind::Div => BinaryOp::Div,
        TokenKind::Mod => BinaryOp::Mod,
        TokenKind::Pow => BinaryOp::Pow,
        _ => return None,
    };
    Some(op)
}

impl Parser<'_> {
    /// A range or step inside brackets, ending before `]` or `:`.
    pub(super) fn parse_bracket_duration(
        &mut self,
        context: &'static str,
        expected: &'static str,
    ) -> ParseResult<ParsedDuration> {
        // Duration expressions track their own depth; keep the enclosing one.
        let enclosing_depth = self.last_depth;
        let parsed = self.parse_bracket_duration_inner(context, expected)?;
        self.last_depth = enclosing_depth;
        Ok(parsed)
    }

    fn parse_bracket_duration_inner(
        &mut self,
        context: &'static str,
        expected: &'static str,
    ) -> ParseResult<ParsedDuration> {
        let first = self.peek();
        let plain = matches!(first.kind, TokenKind::Number | TokenKind::Duration)
            && matches!(
                self.peek_at(1).kind,
                TokenKind::RightBracket | TokenKind::Colon
            );
        if plain {
            let ms = self.parse_range_literal(context, expected)?;
            return Ok(ParsedDuration { ms, expr: None });
        }
        let start = first.pos;
        let expr = self.parse_duration_expr(0, context, expected)?;
        let span = Span::new(start, self.last_end);
        let ms = self.fold_duration(&expr, span)?;
        if expr.is_constant() && ms <= 0 {
            return Err(self.invalid("duration must be greater than 0", span));
        }
        Ok(ParsedDuration {
            ms,
            expr: Some(expr),
        })
    }

    /// The duration after `offset`: `[+|-]` then a literal, `(expr)`, `step()`,
    /// `range()`, `min_of(...)` or `max_of(...)`. Operators after it belong to
    /// the enclosing PromQL expression, as in Prometheus.
    pub(super) fn parse_offset_duration(&mut self) -> ParseResult<ParsedDuration> {
        let enclosing_depth = self.last_depth;
        let parsed = self.parse_offset_duration_inner()?;
        self.last_depth = enclosing_depth;
        Ok(parsed)
    }

    fn parse_offset_duration_inner(&mut self) -> ParseResult<ParsedDuration> {
        let mut negative = false;
        match self.peek().kind {
            TokenKind::Sub => {
                self.next();
                negative = true;
            }
            TokenKind::Add => {
                self.next();
            }
            _ => {}
        }
        if matches!(self.peek().kind, TokenKind::Number | TokenKind::Duration) {
            let (ms, _) = self.parse_duration_literal("offset", "number or duration")?;
            return Ok(ParsedDuration {
                ms: if negative { -ms } else { ms },
                expr: None,
            });
        }
        let start = self.peek().pos;
        let atom = self.parse_duration_atom("offset", "number or duration")?;
        let expr = if negative {
            DurationExpr::Neg(Box::new(atom))
        } else {
            atom
        };
        let ms = self.fold_duration(&expr, Span::new(start, self.last_end))?;
        Ok(ParsedDuration {
            ms,
            expr: Some(expr),
        })
    }

    /// The milliseconds of a constant expression (0 for one needing step/range).
    fn fold_duration(&self, expr: &DurationExpr, span: Span) -> ParseResult<i64> {
        if !expr.is_constant() {
            return Ok(0);
        }
        expr.eval_ms(0, 0).ok_or_else(|| {
            self.invalid("duration expression result is not a finite duration", span)
        })
    }

    fn parse_duration_expr(
        &mut self,
        min_precedence: u8,
        context: &'static str,
        expected: &'static str,
    ) -> ParseResult<DurationExpr> {
        self.enter_duration()?;
        let mut lhs = self.parse_duration_unary(context, expected)?;
        while let Some(op) = duration_op(self.peek().kind) {
            let precedence = op.precedence();
            if precedence < min_precedence {
                break;
            }
            self.next();
            let lhs_depth = self.last_depth;
            let rhs_min = if op.is_right_associative() {
                precedence
            } else {
                precedence + 1
            };
            let rhs = self.parse_duration_expr(rhs_min, context, expected)?;
            self.set_duration_depth(1 + lhs_depth.max(self.last_depth))?;
            lhs = DurationExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
        self.leave_duration();
        Ok(lhs)
    }

    fn parse_duration_unary(
        &mut self,
        context: &'static str,
        expected: &'static str,
    ) -> ParseResult<DurationExpr> {
        let negative = match self.peek().kind {
            TokenKind::Sub => true,
            TokenKind::Add => false,
            _ => return self.parse_duration_atom(context, expected),
        };
        self.next();
        let operand = self.parse_duration_expr(UNARY_OPERAND_PRECEDENCE, context, expected)?;
        if negative {
            self.set_duration_depth(self.last_depth + 1)?;
        }
        Ok(if negative {
            DurationExpr::Neg(Box::new(operand))
        } else {
            operand
        })
    }

    fn parse_duration_atom(
        &mut self,
        context: &'static str,
        expected: &'static str,
    ) -> ParseResult<DurationExpr> {
        let token = self.peek();
        self.last_depth = 1;
        match token.kind {
            TokenKind::Number => {
                self.next();
                Ok(DurationExpr::Literal {
                    seconds: self.number_value(token)?,
                    duration: false,
                })
            }
            TokenKind::Duration => {
                self.next();
                Ok(DurationExpr::Literal {
                    seconds: self.duration_ms(token)? as f64 / 1000.0,
                    duration: true,
                })
            }
            TokenKind::LeftParen => {
                self.next();
                let inner = self.parse_duration_expr(0, context, expected)?;
                self.expect(TokenKind::RightParen, "duration expression", "\")\"")?;
                self.set_duration_depth(self.last_depth + 1)?;
                Ok(DurationExpr::Paren(Box::new(inner)))
            }
            TokenKind::Keyword(keyword @ (Keyword::Step | Keyword::Range)) => {
                self.next();
                self.expect(TokenKind::LeftParen, "duration expression", "\"(\"")?;
                self.expect(TokenKind::RightParen, "duration expression", "\")\"")?;
                Ok(if keyword == Keyword::Step {
                    DurationExpr::Step
                } else {
                    DurationExpr::Range
                })
            }
            TokenKind::Identifier if token.text == "min_of" || token.text == "max_of" => {
                self.next();
                self.expect(TokenKind::LeftParen, "duration expression", "\"(\"")?;
                let a = self.parse_duration_expr(0, context, expected)?;
                let a_depth = self.last_depth;
                self.expect(TokenKind::Comma, "duration expression", "\",\"")?;
                let b = self.parse_duration_expr(0, context, expected)?;
                self.expect(TokenKind::RightParen, "duration expression", "\")\"")?;
                self.set_duration_depth(1 + a_depth.max(self.last_depth))?;
                let (a, b) = (Box::new(a), Box::new(b));
                Ok(if token.text == "min_of" {
                    DurationExpr::MinOf(a, b)
                } else {
                    DurationExpr::MaxOf(a, b)
                })
            }
            _ => Err(self.unexpected(token, context, expected)),
        }
    }
}
