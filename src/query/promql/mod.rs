//! PromQL front end: lexer, parser, syntax tree, type checker and printer.
//!
//! [`parse`] turns a query into a type-checked [`Expr`] as Prometheus 3 accepts it
//! with every experimental feature on; [`parse_with`] applies [`Features`] gates
//! the way Prometheus' `--enable-feature` flags do. `Display` on [`Expr`] prints
//! Prometheus' canonical form. Pure code: no I/O, no evaluation.
//!
//! For the evaluator:
//! 1. Times are milliseconds: `range_ms`, `step_ms`, `offset_ms`, `At::Timestamp`.
//!    A subquery `step_ms` of `None` means the default evaluation interval.
//! 2. A range, step or offset written as a [`DurationExpr`] that uses `step()` or
//!    `range()` has `*_ms == 0` and `Some(*_expr)`; resolve it per query with
//!    [`DurationExpr::eval_ms`]. Constant expressions are already folded.
//! 3. A selector's matchers include its metric name as `__name__="<name>"`.
//! 4. `Binary::matching` is `None` when an operand is a scalar; set operators are
//!    [`Cardinality::ManyToMany`]; `fill_left`/`fill_right` carry fill values.
//! 5. Dispatch calls on `call.func.function` ([`Function`]); `holt_winters` is an
//!    alias of [`Function::DoubleExponentialSmoothing`].
//! 6. Trees are at most [`MAX_EXPRESSION_DEPTH`] deep; recursive passes over
//!    them must fit that depth in the stack.
#![deny(clippy::indexing_slicing)]

pub mod ast;
mod check;
pub mod duration;
pub mod duration_expr;
pub mod error;
pub mod features;
pub mod functions;
mod lexer;
mod literal;
mod parser;
pub mod printer;
mod token;
pub mod types;

#[cfg(test)]
mod parser_tests;
#[cfg(test)]
mod peer_tests;

pub use ast::{
    Aggregate, AggregateOp, At, Binary, BinaryOp, Call, Cardinality, Expr, MatrixSelector,
    NumberLiteral, Paren, Span, StringLiteral, Subquery, Unary, UnaryOp, VectorMatching,
    VectorSelector,
};
pub use duration_expr::DurationExpr;
pub use error::{ErrorKind, ParseError};
pub use features::Features;
pub use functions::{lookup as lookup_function, Function, FunctionSpec, FUNCTIONS};
pub use parser::{MAX_DURATION_EXPRESSION_DEPTH, MAX_EXPRESSION_DEPTH};
pub use types::ValueType;

/// Parses and type checks a PromQL query, accepting every experimental feature.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let mut expr = parser::parse_syntax(input)?;
    check::check(input, &mut expr)?;
    Ok(expr)
}

/// Parses and type checks a query, rejecting the experimental syntax `features`
/// leaves off, with Prometheus' messages.
pub fn parse_with(input: &str, features: &Features) -> Result<Expr, ParseError> {
    let expr = parse(input)?;
    features::check_features(input, &expr, features)?;
    Ok(expr)
}
