//! The evaluator proper: evaluates an expression at one evaluation time over
//! data already fetched for the plan. Synchronous; no I/O.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Instant;

use crate::model::{is_stale_nan, Labels};
use crate::query::promql::{At, Expr, MatrixSelector, Span, Subquery, UnaryOp, VectorSelector};

use crate::query::rollup::{extended, RangeMode, RollupFunction, Window};

use super::annotation::{AnnotationKind, Annotations};
use super::error::EvalError;
use super::plan::{
    node_key, range_mode, resolve_at, subquery_grid, FetchKind, FetchResult, Grid, Plan, PlanNode,
    QueryParams,
};
use super::value::{Sample, Series, SeriesBuilder, Value};
use super::{aggregate, binary, call};

/// Evaluates expressions over the fetched data of one plan.
pub(crate) struct Engine<'a> {
    /// The query's time frame and limits.
    pub params: &'a QueryParams,
    plan: &'a Plan,
    data: &'a [FetchResult],
    deadline: Option<Instant>,
    /// Inner results of each subquery node by inner step time, so a range query
    /// evaluates each inner step once rather than once per outer step.
    subquery_cache: HashMap<usize, BTreeMap<i64, Rc<Vec<Sample>>>>,
    /// Warnings and infos raised so far.
    pub annotations: Annotations,
    /// Whether this is a range query (sorting functions are then ineffective).
    pub range_query: bool,
}

impl<'a> Engine<'a> {
    /// An engine over `data`, the answers to `plan.requests`.
    pub fn new(params: &'a QueryParams, plan: &'a Plan, data: &'a [FetchResult]) -> Self {
        Engine {
            params,
            plan,
            data,
            subquery_cache: HashMap::new(),
            annotations: Annotations::default(),
            range_query: false,
            deadline: params.timeout.and_then(|t| Instant::now().checked_add(t)),
        }
    }

    /// Raises a warning about the expression at `span`.
    pub fn warn(&mut self, text: String, span: Span) {
        self.annotations.add(AnnotationKind::Warning, text, span);
    }

    /// Raises an info about the expression at `span`.
    pub fn info(&mut self, text: String, span: Span) {
        self.annotations.add(AnnotationKind::Info, text, span);
    }

    /// Fails once the query's timeout has passed.
    pub fn check_deadline(&self) -> Result<(), EvalError> {
        match self.deadline {
            Some(deadline) if Instant::now() > deadline => Err(EvalError::Timeout),
            _ => Ok(()),
        }
    }

    /// Evaluates `expr` at time `t_ms`.
    pub fn eval(&mut self, expr: &Expr, t_ms: i64) -> Result<Value, EvalError> {
        match expr {
            Expr::Number(n) => Ok(Value::Scalar(n.value)),
            Expr::String(s) => Ok(Value::String(s.value.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t_ms),
            Expr::VectorSelector(vs) => Ok(Value::Vector(self.vector_selector(vs, t_ms))),
            Expr::MatrixSelector(ms) => Ok(Value::Matrix(self.matrix_value(ms, t_ms)?)),
            Expr::Subquery(sq) => Ok(Value::Matrix(self.subquery(sq, t_ms)?)),
            Expr::Unary(u) => {
                let value = self.eval(&u.expr, t_ms)?;
                Ok(match (u.op, value) {
                    (UnaryOp::Plus, v) => v,
                    (UnaryOp::Neg, Value::Scalar(v)) => Value::Scalar(-v),
                    (UnaryOp::Neg, Value::Vector(samples)) => Value::Vector(
                        samples
                            .into_iter()
                            .map(|s| Sample {
                                value: -s.value,
                                drop_name: true,
                                ..s
                            })
                            .collect(),
                    ),
                    (UnaryOp::Neg, other) => other,
                })
            }
            Expr::Call(c) => call::eval_call(self, c, t_ms),
            Expr::Aggregate(a) => aggregate::eval_aggregate(self, a, t_ms),
            Expr::Binary(b) => binary::eval_binary(self, b, t_ms),
        }
    }

    /// Evaluates an expression that must give an instant vector.
    pub fn eval_vector(&mut self, expr: &Expr, t_ms: i64) -> Result<Vec<Sample>, EvalError> {
        match self.eval(expr, t_ms)? {
            Value::Vector(v) => Ok(v),
            Value::Scalar(v) => Ok(vec![Sample {
                labels: Labels::default(),
                value: v,
                drop_name: false,
            }]),
            other => Err(EvalError::execution(format!(
                "expected instant vector, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates an expression that must give a scalar.
    pub fn eval_scalar(&mut self, expr: &Expr, t_ms: i64) -> Result<f64, EvalError> {
        match self.eval(expr, t_ms)? {
            Value::Scalar(v) => Ok(v),
            other => Err(EvalError::execution(format!(
                "expected scalar, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates an expression that must give a string.
    pub fn eval_string(&mut self, expr: &Expr, t_ms: i64) -> Result<String, EvalError> {
        match self.eval(expr, t_ms)? {
            Value::String(s) => Ok(s),
            other => Err(EvalError::execution(format!(
                "expected string, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates an expression that must give a range vector.
    pub fn eval_matrix(&mut self, expr: &Expr, t_ms: i64) -> Result<Vec<Series>, EvalError> {
        match self.eval(expr, t_ms)? {
            Value::Matrix(m) => Ok(m),
            other => Err(EvalError::execution(format!(
                "expected range vector, got {}",
                other.type_name()
            ))),
        }
    }

    /// The evaluation time of a node with modifier `at` when its parent is at `t_ms`.
    pub fn key(&self, at: Option<At>, t_ms: i64) -> i64 {
        let grid = Grid {
            start_ms: t_ms,
            end_ms: t_ms,
            step_ms: 1,
        };
        resolve_at(at, grid, self.params).start_ms
    }

    /// The fetched series of a node, if the plan fetched it with `kind`-like shape.
    pub fn fetched<T: PlanNode>(&self, node: &T) -> Option<(&'a FetchResult, &'a FetchKind)> {
        let slot = self.plan.slot(node)?;
        Some((self.data.get(slot)?, &self.plan.requests.get(slot)?.kind))
    }

    /// Rollup points of a pushed-down node at evaluation time `key`, one per series with a point.
    pub fn rollup_points<T: PlanNode>(&self, node: &T, key: i64) -> Vec<(&'a Labels, f64)> {
        let Some((result, _)) = self.fetched(node) else {
            return Vec::new();
        };
        result
            .series
            .iter()
            .filter_map(|s| {
                let i = s.timestamps.binary_search(&key).ok()?;
                Some((&s.labels, *s.values.get(i)?))
            })
            .collect()
    }

    fn vector_selector(&self, vs: &VectorSelector, t_ms: i64) -> Vec<Sample> {
        let key = self.key(vs.at, t_ms);
        self.rollup_points(vs, key)
            .into_iter()
            .map(|(labels, value)| Sample {
                labels: labels.clone(),
                value,
                drop_name: false,
            })
            .collect()
    }

    /// A range selector's value at `t_ms`: its samples, with synthetic edge points
    /// under `anchored`/`smoothed` as Prometheus shows them.
    pub fn matrix_value(&self, ms: &MatrixSelector, t_ms: i64) -> Result<Vec<Series>, EvalError> {
        let (series, window) = self.matrix_selector(ms, t_ms)?;
        if window.mode == RangeMode::Plain {
            return Ok(series);
        }
        let smoothed = window.mode == RangeMode::Smoothed;
        let mut out = Vec::with_capacity(series.len());
        for s in series {
            let (ts, vs): (Vec<i64>, Vec<f64>) = s.points.iter().copied().unzip();
            let points =
                extended::extend_points(&ts, &vs, window.start_ms, window.end_ms, smoothed);
            if !points.is_empty() {
                out.push(Series { points, ..s });
            }
        }
        Ok(out)
    }

    /// The raw samples a range selector reads at `t_ms` (its window, widened under
    /// `anchored`/`smoothed`), stale markers removed, and the window itself.
    pub fn matrix_selector(
        &self,
        ms: &MatrixSelector,
        t_ms: i64,
    ) -> Result<(Vec<Series>, Window), EvalError> {
        let key = self.key(ms.selector.at, t_ms);
        let end = key.saturating_sub(ms.selector.offset_ms);
        let window = Window {
            mode: range_mode(&ms.selector),
            lookback_ms: self.params.lookback_ms,
            ..Window::plain(end.saturating_sub(ms.range_ms), end, t_ms)
        };
        let Some((result, FetchKind::Raw { .. })) = self.fetched(ms) else {
            return Ok((Vec::new(), window));
        };
        let (from_ms, to_ms) = window.read_span(RollupFunction::Rate);
        let mut total = 0usize;
        let mut out = Vec::new();
        for s in &result.series {
            let from = s.timestamps.partition_point(|&t| t <= from_ms);
            let to = s.timestamps.partition_point(|&t| t <= to_ms);
            let points: Vec<(i64, f64)> = s
                .timestamps
                .iter()
                .zip(&s.values)
                .take(to)
                .skip(from)
                .filter(|(_, v)| !is_stale_nan(**v))
                .map(|(t, v)| (*t, *v))
                .collect();
            total += points.len();
            if !points.is_empty() {
                out.push(Series {
                    labels: s.labels.clone(),
                    points,
                    drop_name: false,
                });
            }
        }
        self.check_samples(total)?;
        Ok((out, window))
    }

    /// Fails when `count` samples exceed the per-query limit.
    pub fn check_samples(&self, count: usize) -> Result<(), EvalError> {
        if count > self.params.max_samples {
            return Err(EvalError::TooManySamples {
                limit: self.params.max_samples,
            });
        }
        Ok(())
    }

    /// The points of a subquery's inner expression in its window at `t_ms`.
    pub fn subquery(&mut self, sq: &Subquery, t_ms: i64) -> Result<Vec<Series>, EvalError> {
        let key = self.key(sq.at, t_ms);
        let step = sq.step_ms.unwrap_or(self.params.default_subquery_step_ms);
        let outer = Grid {
            start_ms: key,
            end_ms: key,
            step_ms: 1,
        };
        let inner = subquery_grid(outer, sq.range_ms, step, sq.offset_ms);
        let node = node_key(sq);
        // Steps before this window are not asked for again while time moves forward.
        if let Some(cache) = self.subquery_cache.get_mut(&node) {
            *cache = cache.split_off(&inner.start_ms);
        }
        let mut builder = SeriesBuilder::default();
        let mut total = 0usize;
        let mut ti = inner.start_ms;
        while ti <= inner.end_ms {
            let samples = self.subquery_step(sq, node, ti)?;
            total += samples.len();
            self.check_samples(total)?;
            self.check_deadline()?;
            for sample in samples.iter() {
                builder.push(ti, sample);
            }
            match ti.checked_add(inner.step_ms) {
                Some(next) => ti = next,
                None => break,
            }
        }
        Ok(builder.finish())
    }

    /// The inner expression of a subquery at one inner step, remembered in range queries.
    fn subquery_step(
        &mut self,
        sq: &Subquery,
        node: usize,
        ti: i64,
    ) -> Result<Rc<Vec<Sample>>, EvalError> {
        if let Some(samples) = self.subquery_cache.get(&node).and_then(|c| c.get(&ti)) {
            return Ok(Rc::clone(samples));
        }
        let samples = Rc::new(self.eval_vector(&sq.expr, ti)?);
        // An instant query evaluates each inner step once anyway.
        if self.params.end_ms > self.params.start_ms {
            self.subquery_cache
                .entry(node)
                .or_default()
                .insert(ti, Rc::clone(&samples));
        }
        Ok(samples)
    }
}
