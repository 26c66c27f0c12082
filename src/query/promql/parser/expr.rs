//! Operators and primaries: precedence climbing over binary operators, unary
//! signs, literals and parentheses, then the postfix modifiers of a primary.

use super::super::ast::{
    Binary, BinaryOp, Cardinality, Expr, NumberLiteral, Paren, Span, StringLiteral, Unary, UnaryOp,
    VectorMatching,
};
use super::super::duration::parse_duration_ms;
use super::super::literal::{parse_number, unquote};
use super::super::token::{Keyword, Token, TokenKind};
use super::{ParseResult, Parser};

/// Binding strength of a unary sign's operand: like Prometheus (`%prec MUL`),
/// only `^` binds tighter, so `-2^2` is `-(2^2)` and `-a * b` is `(-a) * b`.
const UNARY_OPERAND_PRECEDENCE: u8 = 6;

/// What a primary expression starts with.
enum Primary {
    Paren,
    Call,
    Aggregate(Keyword),
    Leaf,
}

/// The modifiers between a binary operator and its right operand.
struct BinaryModifiers {
    return_bool: bool,
    matching: VectorMatching,
}

#[expect(
    clippy::boxed_local,
    reason = "parse_expr holds the modifiers across its recursive call; a box keeps that frame small"
)]
fn make_binary(op: BinaryOp, lhs: Expr, rhs: Expr, modifiers: Box<BinaryModifiers>) -> Expr {
    let span = Span::new(lhs.span().start, rhs.span().end);
    let BinaryModifiers {
        return_bool,
        matching,
    } = *modifiers;
    Expr::Binary(Box::new(Binary {
        op,
        lhs,
        rhs,
        return_bool,
        matching: Some(matching),
        span,
    }))
}

/// Applies a sign; a number literal absorbs it, as in Prometheus.
fn make_unary(op: UnaryOp, start: usize, operand: Expr) -> Expr {
    let span = Span::new(start, operand.span().end);
    match operand {
        Expr::Number(mut number) => {
            if op == UnaryOp::Neg {
                number.value = -number.value;
            }
            number.span = span;
            Expr::Number(number)
        }
        operand => Expr::Unary(Box::new(Unary {
            op,
            expr: operand,
            span,
        })),
    }
}

/// The binary operator a token stands for, if any.
fn binary_op(token: &Token<'_>) -> Option<BinaryOp> {
    let op = match token.kind {
        TokenKind::Add => BinaryOp::Add,
        TokenKind::Sub => BinaryOp::Sub,
        TokenKind::Mul => BinaryOp::Mul,
        TokenKind::Div => BinaryOp::Div,
        TokenKind::Mod => BinaryOp::Mod,
        TokenKind::Pow => BinaryOp::Pow,
        TokenKind::Eql => BinaryOp::Eql,
        TokenKind::Neq => BinaryOp::Neq,
        TokenKind::Lss => BinaryOp::Lss,
        TokenKind::Lte => BinaryOp::Lte,
        TokenKind::Gtr => BinaryOp::Gtr,
        TokenKind::Gte => BinaryOp::Gte,
        TokenKind::TrimUpper => BinaryOp::TrimUpper,
        TokenKind::TrimLower => BinaryOp::TrimLower,
        TokenKind::Keyword(Keyword::And) => BinaryOp::And,
        TokenKind::Keyword(Keyword::Or) => BinaryOp::Or,
        TokenKind::Keyword(Keyword::Unless) => BinaryOp::Unless,
        TokenKind::Keyword(Keyword::Atan2) => BinaryOp::Atan2,
        _ => return None,
    };
    Some(op)
}

impl Parser<'_> {
    /// Parses operators binding at least as tightly as `min_precedence`.
    ///
    /// This and the functions it recurses through (`parse_unary`,
    /// `parse_postfix`, `parse_primary`, `parse_paren`) keep their frames small:
    /// the work that does not recurse lives in helpers.
    pub(super) fn parse_expr(&mut self, min_precedence: u8) -> ParseResult<Expr> {
        self.enter()?;
        let mut lhs = self.parse_unary()?;
        while let Some(op) = self.next_binary_op(min_precedence) {
            let lhs_depth = self.last_depth;
            let modifiers = self.parse_binary_modifiers()?;
            let rhs_min = if op.is_right_associative() {
                op.precedence()
            } else {
                op.precedence() + 1
            };
            let rhs = self.parse_expr(rhs_min)?;
            self.set_depth(1 + lhs_depth.max(self.last_depth))?;
            lhs = make_binary(op, lhs, rhs, modifiers);
        }
        self.leave();
        Ok(lhs)
    }

    /// Consumes the next token if it is a binary operator binding at least as
    /// tightly as `min_precedence`.
    fn next_binary_op(&mut self, min_precedence: u8) -> Option<BinaryOp> {
        let op = binary_op(&self.peek()).filter(|op| op.precedence() >= min_precedence)?;
        self.next();
        Some(op)
    }

    /// `bool`, `on(...)`/`ignoring(...)`, `group_left(...)`/`group_right(...)`.
    fn parse_binary_modifiers(&mut self) -> ParseResult<Box<BinaryModifiers>> {
        let mut return_bool = false;
        if self.peek().kind == TokenKind::Keyword(Keyword::Bool) {
            self.next();
            return_bool = true;
        }
        let mut matching = VectorMatching {
            card: Cardinality::OneToOne,
            labels: Vec::new(),
            on: false,
            include: Vec::new(),
            fill_left: None,
            fill_right: None,
        };
        let on = match self.peek().kind {
            TokenKind::Keyword(Keyword::On) => Some(true),
            TokenKind::Keyword(Keyword::Ignoring) => Some(false),
            _ => None,
        };
        if let Some(on) = on {
            self.next();
            matching.on = on;
            matching.labels = self.parse_label_list()?;
            let card = match self.peek().kind {
                TokenKind::Keyword(Keyword::GroupLeft) => Some(Cardinality::ManyToOne),
                TokenKind::Keyword(Keyword::GroupRight) => Some(Cardinality::OneToMany),
                _ => None,
            };
            if let Some(card) = card {
                self.next();
                matching.card = card;
                if self.peek().kind == TokenKind::LeftParen {
                    matching.include = self.parse_label_list()?;
                }
            }
        }
        self.parse_fill_modifiers(&mut matching)?;
        Ok(Box::new(BinaryModifiers {
            return_bool,
            matching,
        }))
    }

    /// `fill(v)`, `fill_left(v)`, `fill_right(v)` (experimental in Prometheus).
    fn parse_fill_modifiers(&mut self, matching: &mut VectorMatching) -> ParseResult<()> {
        loop {
            let keyword = match self.peek().kind {
                TokenKind::Keyword(
                    k @ (Keyword::Fill | Keyword::FillLeft | Keyword::FillRight),
                ) => k,
                _ => return Ok(()),
            };
            self.next();
            self.expect(TokenKind::LeftParen, "fill modifier", "\"(\"")?;
            let mut sign = 1.0;
            match self.peek().kind {
                TokenKind::Sub => {
                    self.next();
                    sign = -1.0;
                }
                TokenKind::Add => {
                    self.next();
                }
                _ => {}
            }
            let token = self.expect(TokenKind::Number, "fill modifier", "number")?;
            let value = sign * self.number_value(token)?;
            self.expect(TokenKind::RightParen, "fill modifier", "\")\"")?;
            if keyword != Keyword::FillRight {
                matching.fill_left = Some(value);
            }
            if keyword != Keyword::FillLeft {
                matching.fill_right = Some(value);
            }
        }
    }

    /// A unary sign applies to everything binding tighter than `*`; a sign on a
    /// number literal is folded into it, as Prometheus does.
    fn parse_unary(&mut self) -> ParseResult<Expr> {
        let token = self.peek();
        let op = match token.kind {
            TokenKind::Add => UnaryOp::Plus,
            TokenKind::Sub => UnaryOp::Neg,
            _ => return self.parse_postfix(),
        };
        self.next();
        let operand = self.parse_expr(UNARY_OPERAND_PRECEDENCE)?;
        if !matches!(operand, Expr::Number(_)) {
            self.set_depth(self.last_depth + 1)?;
        }
        Ok(make_unary(op, token.pos, operand))
    }

    /// A primary followed by any `[range]`, `[range:step]`, `offset` and `@` modifiers.
    fn parse_postfix(&mut self) -> ParseResult<Expr> {
        let expr = self.parse_primary()?;
        self.parse_modifiers(expr)
    }

    fn parse_modifiers(&mut self, mut expr: Expr) -> ParseResult<Expr> {
        loop {
            expr = match self.peek().kind {
                TokenKind::LeftBracket => self.parse_range_or_subquery(expr)?,
                TokenKind::Keyword(Keyword::Offset) => self.parse_offset(expr)?,
                TokenKind::At => self.parse_at(expr)?,
                TokenKind::Keyword(keyword @ (Keyword::Anchored | Keyword::Smoothed)) => {
                    self.parse_extension(expr, keyword)?
                }
                _ => return Ok(expr),
            };
        }
    }

    fn parse_primary(&mut self) -> ParseResult<Expr> {
        match self.primary_kind() {
            Primary::Paren => self.parse_paren(),
            Primary::Call => self.parse_call(),
            Primary::Aggregate(keyword) => self.parse_aggregate(keyword),
            Primary::Leaf => self.parse_leaf(),
        }
    }

    /// What the current token starts.
    fn primary_kind(&self) -> Primary {
        let following = self.peek_at(1).kind;
        match self.peek().kind {
            TokenKind::LeftParen => Primary::Paren,
            TokenKind::Identifier if following == TokenKind::LeftParen => Primary::Call,
            TokenKind::Keyword(keyword)
                if keyword.is_aggregator()
                    && matches!(
                        following,
                        TokenKind::LeftParen
                            | TokenKind::Keyword(Keyword::By)
                            | TokenKind::Keyword(Keyword::Without)
                    ) =>
            {
                Primary::Aggregate(keyword)
            }
            TokenKind::Keyword(Keyword::Start | Keyword::End | Keyword::Step | Keyword::Range)
                if following == TokenKind::LeftParen =>
            {
                Primary::Call
            }
            _ => Primary::Leaf,
        }
    }

    fn parse_paren(&mut self) -> ParseResult<Expr> {
        let open = self.next();
        let inner = self.parse_expr(0)?;
        let close = self.expect(TokenKind::RightParen, "paren expression", "\")\"")?;
        self.set_depth(self.last_depth + 1)?;
        Ok(Expr::Paren(Box::new(Paren {
            expr: inner,
            span: Span::new(open.pos, close.end()),
        })))
    }

    /// Literals and selectors: primaries that do not recurse.
    fn parse_leaf(&mut self) -> ParseResult<Expr> {
        self.last_depth = 1;
        let token = self.peek();
        let span = Span::new(token.pos, token.end());
        match token.kind {
            TokenKind::Number => {
                self.next();
                let value = self.number_value(token)?;
                Ok(Expr::Number(Box::new(NumberLiteral {
                    value,
                    duration: false,
                    span,
                })))
            }
            TokenKind::Duration => {
                // A duration where a number is expected counts its seconds.
                self.next();
                let ms = self.duration_ms(token)?;
                Ok(Expr::Number(Box::new(NumberLiteral {
                    value: ms as f64 / 1000.0,
                    duration: true,
                    span,
                })))
            }
            TokenKind::String => {
                self.next();
                Ok(Expr::String(Box::new(StringLiteral {
                    value: self.string_value(token)?,
                    span,
                })))
            }
            TokenKind::LeftBrace => self.parse_vector_selector(None),
            TokenKind::Identifier | TokenKind::MetricIdentifier => {
                self.next();
                self.parse_vector_selector(Some(token))
            }
            TokenKind::Keyword(keyword) if keyword.can_be_metric_name() => {
                self.next();
                self.parse_vector_selector(Some(token))
            }
            _ => Err(self.unexpected(token, "", "")),
        }
    }

    /// The value of a number token.
    pub(super) fn number_value(&self, token: Token<'_>) -> ParseResult<f64> {
        parse_number(token.text).ok_or_else(|| {
            self.invalid(
                format!("error parsing number: {:?}: invalid syntax", token.text),
                Span::new(token.pos, token.end()),
            )
        })
    }

    /// The milliseconds of a duration token.
    pub(super) fn duration_ms(&self, token: Token<'_>) -> ParseResult<i64> {
        parse_duration_ms(token.text)
            .map_err(|message| self.invalid(message, Span::new(token.pos, token.end())))
    }

    /// The value of a string token.
    pub(super) fn string_value(&self, token: Token<'_>) -> ParseResult<String> {
        unquote(token.text)
            .map_err(|message| self.invalid(message, Span::new(token.pos, token.end())))
    }
}
