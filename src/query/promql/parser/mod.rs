//! The parser: tokens to an [`Expr`], with Prometheus' grammar (`generated_parser.y`)
//! written as recursive descent with precedence climbing.
//!
//! Split by role: `expr.rs` (operators, primaries, literals), `selector.rs`
//! (selectors, ranges, subqueries, `offset`, `@`), `call.rs` (function calls,
//! aggregations, label lists). The parser stops at the first error.

mod call;
mod duration;
mod expr;
mod selector;

use super::ast::{Expr, Span};
use super::error::{ErrorKind, ParseError};
use super::lexer::tokenize;
use super::token::{Token, TokenKind};

/// Parses `input` into a syntax tree without type checking it.
pub fn parse_syntax(input: &str) -> Result<Expr, ParseError> {
    let lexed = tokenize(input);
    let mut parser = Parser {
        input,
        tokens: lexed.tokens,
        lex_error: lexed.error,
        index: 0,
        last_end: 0,
    };
    if parser.peek().kind == TokenKind::Eof {
        return Err(parser.error_at(
            ErrorKind::Invalid("no expression found in input".into()),
            Span::new(0, 0),
        ));
    }
    let expr = parser.parse_expr(0)?;
    let token = parser.peek();
    if token.kind != TokenKind::Eof {
        return Err(parser.unexpected(token, "", ""));
    }
    Ok(expr)
}

/// A cursor over the tokens of one query.
pub(super) struct Parser<'a> {
    input: &'a str,
    /// Never empty: the lexer always ends with `Eof` or `Error`.
    tokens: Vec<Token<'a>>,
    lex_error: Option<String>,
    index: usize,
    /// End of the last consumed token, for node spans.
    last_end: usize,
}

impl<'a> Parser<'a> {
    /// The token `ahead` positions after the current one (the last one if past the end).
    fn peek_at(&self, ahead: usize) -> Token<'a> {
        let index = self.index.saturating_add(ahead);
        match self.tokens.get(index).or_else(|| self.tokens.last()) {
            Some(token) => *token,
            None => Token {
                kind: TokenKind::Eof,
                pos: self.input.len(),
                text: "",
            },
        }
    }

    fn peek(&self) -> Token<'a> {
        self.peek_at(0)
    }

    /// Consumes the current token (the final `Eof`/`Error` is never passed).
    fn next(&mut self) -> Token<'a> {
        let token = self.peek();
        if !matches!(token.kind, TokenKind::Eof | TokenKind::Error) {
            self.index += 1;
            self.last_end = token.end();
        }
        token
    }

    fn error_at(&self, kind: ErrorKind, span: Span) -> ParseError {
        ParseError::new(self.input, kind, span.start, span.end)
    }

    fn invalid(&self, message: impl Into<String>, span: Span) -> ParseError {
        self.error_at(ErrorKind::Invalid(message.into()), span)
    }

    /// The error for meeting `token` where the grammar wants something else; a lexer
    /// error token reports the lexer's message instead.
    fn unexpected(
        &self,
        token: Token<'a>,
        context: &'static str,
        expected: &'static str,
    ) -> ParseError {
        let span = Span::new(token.pos, token.end());
        if token.kind == TokenKind::Error {
            let message = self.lex_error.clone().unwrap_or_default();
            return self.error_at(ErrorKind::Lex(message), span);
        }
        self.error_at(
            ErrorKind::Unexpected {
                found: token.to_string(),
                context,
                expected,
            },
            span,
        )
    }

    /// Consumes a token of `kind` or fails with an "unexpected" error.
    fn expect(
        &mut self,
        kind: TokenKind,
        context: &'static str,
        expected: &'static str,
    ) -> Result<Token<'a>, ParseError> {
        let token = self.peek();
        if token.kind != kind {
            return Err(self.unexpected(token, context, expected));
        }
        Ok(self.next())
    }
}
