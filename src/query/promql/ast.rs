//! The PromQL syntax tree, as Prometheus' `parser/ast.go` shapes it.
//!
//! Invariants the parser guarantees (and the type checker has verified):
//! 1. A [`VectorSelector`] with a `name` also carries `__name__="<name>"` as its
//!    last matcher, as Prometheus does.
//! 2. A [`MatrixSelector`]'s `offset`/`@` live in its inner [`VectorSelector`].
//! 3. `Binary::matching` is `None` unless both operands are instant vectors; set
//!    operators always have [`Cardinality::ManyToMany`].
//! 4. Durations are milliseconds; `@` timestamps are milliseconds since the epoch.

use crate::model::Matcher;

use super::duration_expr::DurationExpr;
use super::functions::FunctionSpec;

/// A byte range of the query text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset just past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A PromQL expression.
///
/// Every variant is boxed so an `Expr` is two words: the parser, checker,
/// printer and evaluator recurse over it, and small frames keep deep queries
/// within the stack (see [`super::MAX_EXPRESSION_DEPTH`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `1.5`, `0x1f`, `Inf`; a unary minus on a literal is folded into it.
    Number(Box<NumberLiteral>),
    /// `"text"`
    String(Box<StringLiteral>),
    /// `metric{label="value"} offset 5m @ 100`
    VectorSelector(Box<VectorSelector>),
    /// `metric[5m]`
    MatrixSelector(Box<MatrixSelector>),
    /// `expr[30m:1m]`
    Subquery(Box<Subquery>),
    /// `rate(metric[5m])`
    Call(Box<Call>),
    /// `sum by (job) (metric)`
    Aggregate(Box<Aggregate>),
    /// `a + on(job) group_left b`
    Binary(Box<Binary>),
    /// `-expr`, `+expr`
    Unary(Box<Unary>),
    /// `(expr)`
    Paren(Box<Paren>),
}

impl Expr {
    /// The part of the query the expression was parsed from.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number(n) => n.span,
            Expr::String(s) => s.span,
            Expr::VectorSelector(v) => v.span,
            Expr::MatrixSelector(m) => m.span,
            Expr::Subquery(s) => s.span,
            Expr::Call(c) => c.span,
            Expr::Aggregate(a) => a.span,
            Expr::Binary(b) => b.span,
            Expr::Unary(u) => u.span,
            Expr::Paren(p) => p.span,
        }
    }

    /// Calls `visit` on this expression and every sub-expression, parents first.
    pub fn walk<'e>(&'e self, visit: &mut impl FnMut(&'e Expr)) {
        visit(self);
        match self {
            Expr::Number(_)
            | Expr::String(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_) => {}
            Expr::Subquery(s) => s.expr.walk(visit),
            Expr::Call(c) => c.args.iter().for_each(|arg| arg.walk(visit)),
            Expr::Aggregate(a) => {
                if let Some(param) = &a.param {
                    param.walk(visit);
                }
                a.expr.walk(visit);
            }
            Expr::Binary(b) => {
                b.lhs.walk(visit);
                b.rhs.walk(visit);
            }
            Expr::Unary(u) => u.expr.walk(visit),
            Expr::Paren(p) => p.expr.walk(visit),
        }
    }

    /// The expression with any enclosing parentheses removed.
    pub fn unparen(&self) -> &Expr {
        match self {
            Expr::Paren(p) => p.expr.unparen(),
            other => other,
        }
    }
}

/// A float literal.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberLiteral {
    /// The value (seconds for a duration literal).
    pub value: f64,
    /// Whether it was written as a duration (`5m`), which is how it prints.
    pub duration: bool,
    /// Where it was written.
    pub span: Span,
}

/// A string literal, escapes resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct StringLiteral {
    /// The value.
    pub value: String,
    /// Where it was written.
    pub span: Span,
}

/// The `@` modifier's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// `@ <seconds>`, stored in milliseconds since the epoch (rounded as Prometheus does).
    Timestamp(i64),
    /// `@ start()`: the query's start time.
    Start,
    /// `@ end()`: the query's end time.
    End,
}

/// An instant vector selector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    /// The metric name written before the braces, if any.
    pub name: Option<String>,
    /// All matchers; a `name` also appears here as the last, `__name__` equality matcher.
    pub matchers: Vec<Matcher>,
    /// `offset`, in milliseconds; negative looks into the future.
    pub offset_ms: i64,
    /// An `offset` written as a duration expression; when it uses `step()` or
    /// `range()`, `offset_ms` is 0 and the evaluator resolves it.
    pub offset_expr: Option<DurationExpr>,
    /// The `@` modifier.
    pub at: Option<At>,
    /// The experimental `anchored` modifier (extended range selectors).
    pub anchored: bool,
    /// The experimental `smoothed` modifier (extended range selectors).
    pub smoothed: bool,
    /// Where it was written.
    pub span: Span,
}

/// A range vector selector: `selector[range]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSelector {
    /// The selector; its `offset_ms` and `at` apply to the whole range.
    pub selector: VectorSelector,
    /// The range, in milliseconds.
    pub range_ms: i64,
    /// The range written as a duration expression; when it uses `step()` or
    /// `range()`, `range_ms` is 0 and the evaluator resolves it.
    pub range_expr: Option<DurationExpr>,
    /// Where it was written.
    pub span: Span,
}

/// A subquery: `expr[range:step]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Subquery {
    /// The instant-vector expression evaluated at each step.
    pub expr: Expr,
    /// The range, in milliseconds.
    pub range_ms: i64,
    /// The range as a duration expression (see [`MatrixSelector::range_expr`]).
    pub range_expr: Option<DurationExpr>,
    /// The step in milliseconds; `None` means the engine's default evaluation interval.
    pub step_ms: Option<i64>,
    /// The step as a duration expression (then `step_ms` is `Some(0)` if not constant).
    pub step_expr: Option<DurationExpr>,
    /// `offset`, in milliseconds.
    pub offset_ms: i64,
    /// The offset as a duration expression (see [`VectorSelector::offset_expr`]).
    pub offset_expr: Option<DurationExpr>,
    /// The `@` modifier.
    pub at: Option<At>,
    /// Where it was written.
    pub span: Span,
}

/// A function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function, from [`super::functions::FUNCTIONS`].
    pub func: &'static FunctionSpec,
    /// The arguments, in order.
    pub args: Vec<Expr>,
    /// Where it was written.
    pub span: Span,
}

/// An aggregation operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `count_values`
    CountValues,
    /// `quantile`
    Quantile,
    /// `limitk` (experimental in Prometheus)
    Limitk,
    /// `limit_ratio` (experimental in Prometheus)
    LimitRatio,
}

impl AggregateOp {
    /// The operator's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Quantile => "quantile",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// Whether the operator takes a parameter before the expression.
    pub fn takes_param(self) -> bool {
        matches!(
            self,
            AggregateOp::Topk
                | AggregateOp::Bottomk
                | AggregateOp::CountValues
                | AggregateOp::Quantile
                | AggregateOp::Limitk
                | AggregateOp::LimitRatio
        )
    }

    /// Whether Prometheus gates the operator behind `promql-experimental-functions`.
    pub fn is_experimental(self) -> bool {
        matches!(self, AggregateOp::Limitk | AggregateOp::LimitRatio)
    }
}

/// An aggregation: `op [by|without (labels)] ([param,] expr)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// The operator.
    pub op: AggregateOp,
    /// The aggregated instant vector.
    pub expr: Expr,
    /// The parameter of `topk`, `quantile`, `count_values`…
    pub param: Option<Expr>,
    /// The `by`/`without` labels (empty when absent).
    pub grouping: Vec<String>,
    /// `true` for `without`, `false` for `by` or no clause.
    pub without: bool,
    /// Where it was written.
    pub span: Span,
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `</`: keeps the part of a native histogram below the scalar.
    TrimUpper,
    /// `>/`: keeps the part of a native histogram above the scalar.
    TrimLower,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `<`
    Lss,
    /// `<=`
    Lte,
    /// `>`
    Gtr,
    /// `>=`
    Gte,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Lss => "<",
            BinaryOp::Lte => "<=",
            BinaryOp::Gtr => ">",
            BinaryOp::Gte => ">=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
        }
    }

    /// Binding strength, higher binds tighter (Prometheus' `%left`/`%right` order).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Lss
            | BinaryOp::Lte
            | BinaryOp::Gtr
            | BinaryOp::Gte => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod
            | BinaryOp::Atan2
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 5,
            BinaryOp::Pow => 6,
        }
    }

    /// Whether `a op b op c` groups as `a op (b op c)`; only `^` does.
    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }

    /// `==`, `!=`, `<`, `<=`, `>`, `>=`.
    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    /// `and`, `or`, `unless`.
    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }
}

/// How series on the two sides of a vector/vector operation are paired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cardinality {
    /// Each left series matches at most one right series and vice versa.
    OneToOne,
    /// `group_left`: many left series per right series.
    ManyToOne,
    /// `group_right`: many right series per left series.
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// Vector matching of a binary operation between two instant vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching {
    /// The pairing cardinality.
    pub card: Cardinality,
    /// The `on`/`ignoring` labels.
    pub labels: Vec<String>,
    /// `true` for `on(...)`, `false` for `ignoring(...)` or no clause.
    pub on: bool,
    /// The `group_left`/`group_right` labels copied from the "one" side.
    pub include: Vec<String>,
    /// The experimental `fill_left(v)`/`fill(v)`: the value used for a missing left operand.
    pub fill_left: Option<f64>,
    /// The experimental `fill_right(v)`/`fill(v)`: the value used for a missing right operand.
    pub fill_right: Option<f64>,
}

/// A binary operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Binary {
    /// The operator.
    pub op: BinaryOp,
    /// The left operand.
    pub lhs: Expr,
    /// The right operand.
    pub rhs: Expr,
    /// The `bool` modifier of comparisons.
    pub return_bool: bool,
    /// Vector matching; `None` unless both operands are instant vectors.
    pub matching: Option<VectorMatching>,
    /// Where it was written.
    pub span: Span,
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `+`
    Plus,
}

/// A unary operation on a scalar or instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Unary {
    /// The operator.
    pub op: UnaryOp,
    /// The operand.
    pub expr: Expr,
    /// Where it was written.
    pub span: Span,
}

/// A parenthesized expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Paren {
    /// The inner expression.
    pub expr: Expr,
    /// Where it was written, parentheses included.
    pub span: Span,
}
