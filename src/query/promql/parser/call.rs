//! Function calls, aggregations and the parenthesized label lists of
//! `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`.

use super::super::ast::{Aggregate, AggregateOp, Call, Expr, Span};
use super::super::functions::{lookup, FunctionSpec};
use super::super::token::{Keyword, TokenKind};
use super::{ParseResult, Parser};

/// The aggregation operator of a keyword (the caller knows it is one).
fn aggregate_op(keyword: Keyword) -> Option<AggregateOp> {
    let op = match keyword {
        Keyword::Sum => AggregateOp::Sum,
        Keyword::Avg => AggregateOp::Avg,
        Keyword::Count => AggregateOp::Count,
        Keyword::Min => AggregateOp::Min,
        Keyword::Max => AggregateOp::Max,
        Keyword::Group => AggregateOp::Group,
        Keyword::Stddev => AggregateOp::Stddev,
        Keyword::Stdvar => AggregateOp::Stdvar,
        Keyword::Topk => AggregateOp::Topk,
        Keyword::Bottomk => AggregateOp::Bottomk,
        Keyword::CountValues => AggregateOp::CountValues,
        Keyword::Quantile => AggregateOp::Quantile,
        Keyword::Limitk => AggregateOp::Limitk,
        Keyword::LimitRatio => AggregateOp::LimitRatio,
        _ => return None,
    };
    Some(op)
}

impl Parser<'_> {
    /// `name(args...)`; the name token is current.
    pub(super) fn parse_call(&mut self) -> ParseResult<Expr> {
        let start = self.peek().pos;
        let func = self.parse_function_name()?;
        let args = self.parse_call_args("function call")?;
        self.set_depth(self.last_depth + 1)?;
        Ok(Expr::Call(Box::new(Call {
            func,
            args,
            span: Span::new(start, self.last_end),
        })))
    }

    /// Consumes a function name and looks it up.
    fn parse_function_name(&mut self) -> ParseResult<&'static FunctionSpec> {
        let name = self.next();
        // `step()`, `start()`… are keywords, which match in any case.
        let found = if matches!(name.kind, TokenKind::Keyword(_)) {
            lookup(&name.text.to_ascii_lowercase())
        } else {
            lookup(name.text)
        };
        found.ok_or_else(|| {
            self.invalid(
                format!("unknown function with name {:?}", name.text),
                Span::new(name.pos, name.end()),
            )
        })
    }

    /// `(expr, expr, ...)` including both parentheses; leaves the depth of the
    /// deepest argument (0 for none) in `last_depth`.
    fn parse_call_args(&mut self, context: &'static str) -> ParseResult<Vec<Expr>> {
        self.expect(TokenKind::LeftParen, context, "\"(\"")?;
        let mut args = Vec::new();
        let mut deepest = 0;
        self.last_depth = 0;
        if self.peek().kind == TokenKind::RightParen {
            self.next();
            return Ok(args);
        }
        loop {
            args.push(self.parse_expr(0)?);
            deepest = deepest.max(self.last_depth);
            if self.end_of_args(context)? {
                self.last_depth = deepest;
                return Ok(args);
            }
        }
    }

    /// After an argument: `)` ends the list (true), `,` continues it (false).
    fn end_of_args(&mut self, context: &'static str) -> ParseResult<bool> {
        let token = self.next();
        match token.kind {
            TokenKind::RightParen => Ok(true),
            TokenKind::Comma if self.peek().kind == TokenKind::RightParen => Err(self.invalid(
                "trailing commas not allowed in function call args",
                Span::new(token.pos, token.end()),
            )),
            TokenKind::Comma => Ok(false),
            _ => Err(self.unexpected(token, context, "\",\" or \")\"")),
        }
    }

    /// `op [by|without (labels)] ([param,] expr) [by|without (labels)]`.
    pub(super) fn parse_aggregate(&mut self, keyword: Keyword) -> ParseResult<Expr> {
        let op_token = self.next();
        let Some(op) = aggregate_op(keyword) else {
            return Err(self.unexpected(op_token, "", ""));
        };
        let mut grouping = self.parse_grouping_clause()?;
        let args = self.parse_call_args("aggregation")?;
        let depth = self.last_depth + 1;
        if grouping.is_none() {
            grouping = self.parse_grouping_clause()?;
        }
        self.set_depth(depth)?;
        let span = Span::new(op_token.pos, self.last_end);
        let (without, grouping) = grouping.unwrap_or((false, Vec::new()));
        if args.is_empty() {
            return Err(self.invalid("no arguments for aggregate expression provided", span));
        }
        let wanted = if op.takes_param() { 2 } else { 1 };
        if args.len() != wanted {
            return Err(self.invalid(
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {wanted}, got {}",
                    args.len()
                ),
                span,
            ));
        }
        let mut args = args.into_iter();
        let param = if op.takes_param() { args.next() } else { None };
        let Some(expr) = args.next() else {
            return Err(self.invalid("no arguments for aggregate expression provided", span));
        };
        Ok(Expr::Aggregate(Box::new(Aggregate {
            op,
            expr,
            param,
            grouping,
            without,
            span,
        })))
    }

    /// An optional `by (...)` / `without (...)`: `Some((without, labels))` if present.
    fn parse_grouping_clause(&mut self) -> ParseResult<Option<(bool, Vec<String>)>> {
        let without = match self.peek().kind {
            TokenKind::Keyword(Keyword::By) => false,
            TokenKind::Keyword(Keyword::Without) => true,
            _ => return Ok(None),
        };
        self.next();
        Ok(Some((without, self.parse_label_list()?)))
    }

    /// `(label, "quoted.label", ...)` with an optional trailing comma.
    pub(super) fn parse_label_list(&mut self) -> ParseResult<Vec<String>> {
        self.expect(TokenKind::LeftParen, "grouping opts", "\"(\"")?;
        let mut labels = Vec::new();
        loop {
            let token = self.next();
            let label = match token.kind {
                TokenKind::RightParen => return Ok(labels),
                TokenKind::Identifier | TokenKind::Keyword(_) => token.text.to_string(),
                TokenKind::String => self.string_value(token)?,
                _ => return Err(self.unexpected(token, "grouping opts", "label")),
            };
            labels.push(label);
            let separator = self.next();
            match separator.kind {
                TokenKind::Comma => {}
                TokenKind::RightParen => return Ok(labels),
                _ => return Err(self.unexpected(separator, "grouping opts", "\",\" or \")\"")),
            }
        }
    }
}
