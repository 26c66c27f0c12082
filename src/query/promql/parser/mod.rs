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

/// The deepest expression tree (and parser recursion) accepted.
///
/// Prometheus has no limit (Go stacks grow); Rust stacks do not, and the checker,
/// printer, `Drop` and the evaluator all recurse once per tree level. 1000 levels
/// is far beyond real queries (generated `or` chains of a few hundred terms) and
/// keeps every pass within a 2 MiB thread stack even in debug builds (the parser
/// measured about 1.4 KiB per nesting level, the checker and printer less).
pub const MAX_EXPRESSION_DEPTH: usize = 1000;

/// The deepest duration expression (`[...]`, `offset (...)`) accepted: real ones
/// are a few operators long, so a lower bound than [`MAX_EXPRESSION_DEPTH`]
/// leaves the stack to the expression around them.
pub const MAX_DURATION_EXPRESSION_DEPTH: usize = 100;

/// What the parser's functions return. The error is boxed so a result is two
/// words: the parser recurses once per nesting level and small frames let deep
/// queries parse within the stack.
pub(super) type ParseResult<T> = Result<T, Box<ParseError>>;

/// Parses `input` into a syntax tree without type checking it.
pub fn parse_syntax(input: &str) -> Result<Expr, ParseError> {
    let lexed = tokenize(input);
    let mut parser = Parser {
        input,
        tokens: lexed.tokens,
        lex_error: lexed.error,
        index: 0,
        last_end: 0,
        last_depth: 0,
        nesting: 0,
        duration_nesting: 0,
    };
    parser.parse_query().map_err(|error| *error)
}

impl<'a> Parser<'a> {
    /// The whole query: one expression, then the end of the input.
    fn parse_query(&mut self) -> ParseResult<Expr> {
        let parser = self;
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
    /// Tree depth of the expression the last parse function returned (see
    /// [`MAX_EXPRESSION_DEPTH`]); composite nodes add one to their deepest child.
    last_depth: usize,
    /// How many `parse_expr` calls are active (recursion depth).
    nesting: usize,
    /// How many `parse_duration_expr` calls are active.
    duration_nesting: usize,
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

    /// Records the depth of the expression about to be returned, failing past
    /// [`MAX_EXPRESSION_DEPTH`].
    fn set_depth(&mut self, depth: usize) -> ParseResult<()> {
        self.last_depth = depth;
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(self.too_deep());
        }
        Ok(())
    }

    /// Enters one level of parser recursion, failing past [`MAX_EXPRESSION_DEPTH`].
    fn enter(&mut self) -> ParseResult<()> {
        self.nesting += 1;
        if self.nesting > MAX_EXPRESSION_DEPTH {
            return Err(self.too_deep());
        }
        Ok(())
    }

    /// Leaves one level of parser recursion (errors abandon the parse, so only
    /// successful returns need to leave).
    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// [`Parser::set_depth`] for duration expression nodes.
    fn set_duration_depth(&mut self, depth: usize) -> ParseResult<()> {
        self.last_depth = depth;
        if depth > MAX_DURATION_EXPRESSION_DEPTH {
            return Err(self.duration_too_deep());
        }
        Ok(())
    }

    /// [`Parser::enter`] for duration expressions.
    fn enter_duration(&mut self) -> ParseResult<()> {
        self.duration_nesting += 1;
        if self.duration_nesting > MAX_DURATION_EXPRESSION_DEPTH {
            return Err(self.duration_too_deep());
        }
        Ok(())
    }

    fn leave_duration(&mut self) {
        self.duration_nesting = self.duration_nesting.saturating_sub(1);
    }

    fn duration_too_deep(&self) -> Box<ParseError> {
        let token = self.peek();
        self.invalid(
            format!(
                "duration expression is nested more than {MAX_DURATION_EXPRESSION_DEPTH} levels deep"
            ),
            Span::new(token.pos, token.end()),
        )
    }

    fn too_deep(&self) -> Box<ParseError> {
        let token = self.peek();
        self.invalid(
            format!("expression is nested more than {MAX_EXPRESSION_DEPTH} levels deep"),
            Span::new(token.pos, token.end()),
        )
    }

    fn error_at(&self, kind: ErrorKind, span: Span) -> Box<ParseError> {
        Box::new(ParseError::new(self.input, kind, span.start, span.end))
    }

    fn invalid(&self, message: impl Into<String>, span: Span) -> Box<ParseError> {
        self.error_at(ErrorKind::Invalid(message.into()), span)
    }

    /// The error for meeting `token` where the grammar wants something else; a lexer
    /// error token reports the lexer's message instead.
    fn unexpected(
        &self,
        token: Token<'a>,
        context: &'static str,
        expected: &'static str,
    ) -> Box<ParseError> {
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
    ) -> ParseResult<Token<'a>> {
        let token = self.peek();
        if token.kind != kind {
            return Err(self.unexpected(token, context, expected));
        }
        Ok(self.next())
    }
}
