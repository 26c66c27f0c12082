//! Type checking, as Prometheus' `checkAST`: operand types of operators,
//! aggregations and functions, vector-matching rules and selector sanity.
//!
//! It also normalizes what Prometheus normalizes there: vector matching is dropped
//! when an operand is a scalar, and set operators become many-to-many.

use crate::model::METRIC_NAME_LABEL;

use super::ast::{
    Aggregate, AggregateOp, Binary, Call, Cardinality, Expr, Span, Subquery, Unary, VectorSelector,
};
use super::error::{ErrorKind, ParseError};
use super::functions::Function;
use super::types::ValueType;

/// Checks `expr` and returns its type.
pub fn check(input: &str, expr: &mut Expr) -> Result<ValueType, ParseError> {
    Checker { input }.check(expr).map_err(|error| *error)
}

/// Boxed errors keep results, and so the recursive frames, small.
type CheckResult<T> = Result<T, Box<ParseError>>;

struct Checker<'a> {
    input: &'a str,
}

impl Checker<'_> {
    fn invalid(&self, message: impl Into<String>, span: Span) -> Box<ParseError> {
        Box::new(ParseError::new(
            self.input,
            ErrorKind::Invalid(message.into()),
            span.start,
            span.end,
        ))
    }

    /// Checks `expr` and returns its type. Only dispatches: it recurses once per
    /// tree level, so the per-node work lives in helpers to keep its frame small.
    fn check(&self, expr: &mut Expr) -> CheckResult<ValueType> {
        match expr {
            Expr::Number(_) => Ok(ValueType::Scalar),
            Expr::String(_) => Ok(ValueType::String),
            Expr::Paren(paren) => self.check(&mut paren.expr),
            Expr::VectorSelector(selector) => {
                self.check_selector(selector, false)?;
                Ok(ValueType::Vector)
            }
            Expr::MatrixSelector(matrix) => {
                self.check_selector(&matrix.selector, false)?;
                Ok(ValueType::Matrix)
            }
            Expr::Subquery(subquery) => self.check_subquery(subquery),
            Expr::Unary(unary) => self.check_unary(unary),
            Expr::Aggregate(aggregate) => self.check_aggregate(aggregate),
            Expr::Call(call) => self.check_call(call),
            Expr::Binary(binary) => self.check_binary(binary),
        }
    }

    fn check_subquery(&self, subquery: &mut Subquery) -> CheckResult<ValueType> {
        let inner = self.check(&mut subquery.expr)?;
        if inner != ValueType::Vector {
            return Err(self.invalid(
                format!(
                    "subquery is only allowed on instant vector, got {} instead",
                    inner.name()
                ),
                subquery.span,
            ));
        }
        Ok(ValueType::Matrix)
    }

    fn check_unary(&self, unary: &mut Unary) -> CheckResult<ValueType> {
        let inner = self.check(&mut unary.expr)?;
        if inner != ValueType::Scalar && inner != ValueType::Vector {
            return Err(self.invalid(
                format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                    inner.documented_name()
                ),
                unary.span,
            ));
        }
        Ok(inner)
    }

    fn expect_type(
        &self,
        expr: &mut Expr,
        want: ValueType,
        context: impl Into<String>,
    ) -> CheckResult<()> {
        let got = self.check(expr)?;
        if got != want {
            let span = expr.span();
            return Err(Box::new(ParseError::new(
                self.input,
                ErrorKind::WrongType {
                    context: context.into(),
                    expected: want,
                    got,
                },
                span.start,
                span.end,
            )));
        }
        Ok(())
    }

    /// `allow_empty` is for `info`'s data-label selector, where `{}`-like selectors
    /// are meaningful (Prometheus' `BypassEmptyMatcherCheck`).
    fn check_selector(&self, selector: &VectorSelector, allow_empty: bool) -> CheckResult<()> {
        if let Some(name) = &selector.name {
            // The last matcher is the one for the name written before the braces.
            let explicit = selector
                .matchers
                .split_last()
                .map_or(&[][..], |(_, rest)| rest);
            if let Some(other) = explicit.iter().find(|m| m.name == METRIC_NAME_LABEL) {
                return Err(self.invalid(
                    format!(
                        "metric name must not be set twice: {name:?} or {:?}",
                        other.value
                    ),
                    selector.span,
                ));
            }
            return Ok(());
        }
        if !allow_empty && selector.matchers.iter().all(|m| m.matches_empty()) {
            return Err(self.invalid(
                "vector selector must contain at least one non-empty matcher",
                selector.span,
            ));
        }
        Ok(())
    }

    fn check_aggregate(&self, aggregate: &mut Aggregate) -> CheckResult<ValueType> {
        self.expect_type(
            &mut aggregate.expr,
            ValueType::Vector,
            "aggregation expression",
        )?;
        let param_type = match aggregate.op {
            AggregateOp::CountValues => Some(ValueType::String),
            op if op.takes_param() => Some(ValueType::Scalar),
            _ => None,
        };
        if let (Some(want), Some(param)) = (param_type, aggregate.param.as_mut()) {
            self.expect_type(param, want, "aggregation parameter")?;
        }
        Ok(ValueType::Vector)
    }

    fn check_call(&self, call: &mut Call) -> CheckResult<ValueType> {
        let spec = call.func;
        let count = call.args.len();
        let min = spec.min_args();
        if spec.variadic == 0 && count != min {
            return Err(self.invalid(
                format!(
                    "expected {min} argument(s) in call to {:?}, got {count}",
                    spec.name
                ),
                call.span,
            ));
        }
        if count < min {
            return Err(self.invalid(
                format!(
                    "expected at least {min} argument(s) in call to {:?}, got {count}",
                    spec.name
                ),
                call.span,
            ));
        }
        if let Some(max) = spec.max_args() {
            if count > max {
                return Err(self.invalid(
                    format!(
                        "expected at most {max} argument(s) in call to {:?}, got {count}",
                        spec.name
                    ),
                    call.span,
                ));
            }
        }
        let context = format!("call to function {:?}", spec.name);
        if spec.function == Function::Info {
            self.check_info_selector(call)?;
        }
        for (index, arg) in call.args.iter_mut().enumerate() {
            if spec.function == Function::Info && index == 1 {
                continue;
            }
            match spec.arg_type(index) {
                Some(want) => self.expect_type(arg, want, context.as_str())?,
                None => break,
            }
        }
        Ok(spec.return_type)
    }

    /// `info`'s second argument must be a selector of data labels without a metric
    /// name; it may match the empty string (Prometheus' `BypassEmptyMatcherCheck`).
    fn check_info_selector(&self, call: &Call) -> CheckResult<()> {
        let Some(arg) = call.args.get(1) else {
            return Ok(());
        };
        if arg.value_type() != ValueType::Vector {
            return Err(self.invalid(
                format!(
                    "expected type instant vector in call to function \"info\", got {}",
                    arg.value_type()
                ),
                call.span,
            ));
        }
        match arg {
            Expr::VectorSelector(selector) if selector.name.is_some() => Err(self.invalid(
                "expected label selectors only, got vector selector instead",
                arg.span(),
            )),
            Expr::VectorSelector(selector) => self.check_selector(selector, true),
            _ => Err(self.invalid("expected label selectors only", arg.span())),
        }
    }

    /// The operator's position: the text between the operands, trimmed.
    fn operator_span(&self, binary: &Binary) -> Span {
        let from = binary.lhs.span().end;
        let to = binary.rhs.span().start;
        let between = self.input.get(from..to).unwrap_or("");
        let leading = between.len() - between.trim_start().len();
        let trailing = between.len() - between.trim_end().len();
        Span::new(
            from + leading,
            to.saturating_sub(trailing).max(from + leading),
        )
    }

    fn check_binary(&self, binary: &mut Binary) -> CheckResult<ValueType> {
        let left = self.check(&mut binary.lhs)?;
        let right = self.check(&mut binary.rhs)?;
        self.check_operands(binary, left, right)?;
        if left == ValueType::Scalar && right == ValueType::Scalar {
            Ok(ValueType::Scalar)
        } else {
            Ok(ValueType::Vector)
        }
    }

    /// The rules on a binary operation whose operands have types `left`, `right`.
    fn check_operands(
        &self,
        binary: &mut Binary,
        left: ValueType,
        right: ValueType,
    ) -> CheckResult<()> {
        let op_span = self.operator_span(binary);
        self.check_binary_modifiers(binary, left, right, op_span)?;
        for (side, span) in [(left, binary.lhs.span()), (right, binary.rhs.span())] {
            if side != ValueType::Scalar && side != ValueType::Vector {
                return Err(self.invalid(
                    "binary expression must contain only scalar and instant vector types",
                    span,
                ));
            }
        }
        let both_vectors = left == ValueType::Vector && right == ValueType::Vector;
        // Prometheus reports these at the whole expression, not the operator.
        if both_vectors {
            self.check_set_matching(binary)?;
        } else {
            self.drop_matching(binary)?;
        }
        if !both_vectors && binary.op.is_set_operator() {
            return Err(self.invalid(
                format!(
                    "set operator {:?} not allowed in binary scalar expression",
                    binary.op.as_str()
                ),
                binary.span,
            ));
        }
        Ok(())
    }

    /// `bool` only on comparisons (and required between scalars), set operators
    /// are many-to-many, `on` labels may not be `group_*` labels too.
    fn check_binary_modifiers(
        &self,
        binary: &mut Binary,
        left: ValueType,
        right: ValueType,
        op_span: Span,
    ) -> CheckResult<()> {
        let op = binary.op;
        if binary.return_bool && !op.is_comparison() {
            return Err(self.invalid(
                "bool modifier can only be used on comparison operators",
                op_span,
            ));
        }
        if op.is_comparison()
            && !binary.return_bool
            && left == ValueType::Scalar
            && right == ValueType::Scalar
        {
            return Err(self.invalid(
                "comparisons between scalars must use BOOL modifier",
                op_span,
            ));
        }
        let Some(matching) = binary.matching.as_mut() else {
            return Ok(());
        };
        if op.is_set_operator() && matching.card == Cardinality::OneToOne {
            matching.card = Cardinality::ManyToMany;
        }
        if matching.on {
            if let Some(label) = matching
                .labels
                .iter()
                .find(|l| matching.include.contains(l))
            {
                return Err(self.invalid(
                    format!("label {label:?} must not occur in ON and GROUP clause at once"),
                    op_span,
                ));
            }
        }
        Ok(())
    }

    /// With a scalar operand there is no vector matching: `on`/`ignoring` labels
    /// and fill modifiers are errors, the rest is dropped as Prometheus does.
    fn drop_matching(&self, binary: &mut Binary) -> CheckResult<()> {
        if let Some(matching) = &binary.matching {
            if !matching.labels.is_empty() {
                return Err(self.invalid(
                    "vector matching only allowed between instant vectors",
                    binary.span,
                ));
            }
            if matching.fill_left.is_some() || matching.fill_right.is_some() {
                return Err(self.invalid(
                    "filling in missing series only allowed between instant vectors",
                    binary.span,
                ));
            }
        }
        binary.matching = None;
        Ok(())
    }

    /// Set operators between vectors take no `group_left`/`group_right`.
    fn check_set_matching(&self, binary: &Binary) -> CheckResult<()> {
        let Some(matching) = &binary.matching else {
            return Ok(());
        };
        if !binary.op.is_set_operator() {
            return Ok(());
        }
        if matches!(
            matching.card,
            Cardinality::OneToMany | Cardinality::ManyToOne
        ) {
            return Err(self.invalid(
                format!("no grouping allowed for {:?} operation", binary.op.as_str()),
                binary.span,
            ));
        }
        if matching.card != Cardinality::ManyToMany {
            return Err(self.invalid("set operations must always be many-to-many", binary.span));
        }
        if matching.fill_left.is_some() || matching.fill_right.is_some() {
            return Err(self.invalid(
                "filling in missing series not allowed for set operators",
                binary.span,
            ));
        }
        Ok(())
    }
}
