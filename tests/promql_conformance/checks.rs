//! The extra checks Prometheus' harness runs on instant evals: the same query
//! as a range query, with `@` pinned at other times, and (ours) without pushdown.

use strata::model::Labels;
use strata::query::eval::Value;
use strata::query::promql::{parse, At, Expr};

use super::compare::{compare_series, same_value, short};
use super::loader::TestStorage;
use super::script::Eval;
use super::skip::SeriesPoints;
use super::{evaluate, evaluate_expr, evaluate_with};

/// The engine must give the same result when it computes the rollups itself.
pub fn check_without_pushdown(
    storage: &TestStorage,
    eval: &Eval,
    want: &Value,
) -> Result<(), String> {
    let expr = parse(&eval.query).map_err(|e| e.to_string())?;
    let got = evaluate_with(storage, eval, &expr, false)
        .map_err(|e| format!("without pushdown: {e}"))?
        .value;
    if !same_value(want, &got) {
        return Err(format!("without pushdown: got {}", short(&got)));
    }
    Ok(())
}

/// Functions whose result depends on the evaluation time itself.
pub const TIME_DEPENDENT: &[&str] = &[
    "time(",
    "timestamp(",
    "predict_linear(",
    "start(",
    "end(",
    "range(",
    "step(",
    "hour(",
    "minute(",
    "month(",
    "year(",
    "day_of_",
    "days_in_month(",
];

/// Like Prometheus' harness: with `@ <t>` pinned on every selector and subquery
/// lacking one, an instant eval must give the same result at other times.
pub fn check_pinned(storage: &TestStorage, eval: &Eval, want: &Value) -> Result<(), String> {
    if eval.range.is_some() || TIME_DEPENDENT.iter().any(|f| eval.query.contains(f)) {
        return Ok(());
    }
    let Ok(mut expr) = parse(&eval.query) else {
        return Ok(());
    };
    if !pin_at(&mut expr, eval.time_ms) {
        return Ok(());
    }
    let t = eval.time_ms;
    let times = if t == 0 {
        vec![-1000, 1000]
    } else {
        vec![-10 * t, 0, t / 5, 10 * t]
    };
    for time_ms in times {
        let moved = Eval {
            time_ms,
            query: eval.query.clone(),
            ..Eval::default()
        };
        let got = evaluate_expr(storage, &moved, &expr)
            .map_err(|e| format!("with @ pinned, at {time_ms}ms: {e}"))?;
        if !same_value(want, &got) {
            return Err(format!(
                "with @ pinned, at {time_ms}ms: got {}",
                short(&got)
            ));
        }
    }
    Ok(())
}

/// Sets `@ t` on every selector and subquery without one; whether anything was pinned.
pub fn pin_at(expr: &mut Expr, t_ms: i64) -> bool {
    match expr {
        Expr::VectorSelector(vs) => pin(&mut vs.at, t_ms),
        Expr::MatrixSelector(ms) => pin(&mut ms.selector.at, t_ms),
        Expr::Subquery(sq) => {
            // The inner expression runs on the subquery's own grid: leave it alone.
            pin(&mut sq.at, t_ms)
        }
        Expr::Call(c) => c
            .args
            .iter_mut()
            .fold(false, |any, a| pin_at(a, t_ms) | any),
        Expr::Aggregate(a) => {
            let param = a.param.as_mut().is_some_and(|p| pin_at(p, t_ms));
            pin_at(&mut a.expr, t_ms) | param
        }
        Expr::Binary(b) => pin_at(&mut b.lhs, t_ms) | pin_at(&mut b.rhs, t_ms),
        Expr::Unary(u) => pin_at(&mut u.expr, t_ms),
        Expr::Paren(p) => pin_at(&mut p.expr, t_ms),
        Expr::Number(_) | Expr::String(_) => false,
    }
}

pub fn pin(at: &mut Option<At>, t_ms: i64) -> bool {
    if at.is_none() {
        *at = Some(At::Timestamp(t_ms));
        return true;
    }
    false
}

/// Like Prometheus' harness: an instant eval expecting a vector or scalar is also
/// run as a range query from t-1m to t+1m step 1m, whose middle step must match.
pub fn check_as_range(storage: &TestStorage, eval: &Eval) -> Result<(), String> {
    let uses_frame = ["start()", "end()", "range()", "step()"]
        .iter()
        .any(|f| eval.query.contains(f));
    if eval.range.is_some()
        || eval.range_vector.is_some()
        || eval.string.is_some()
        || eval.ordered
        || uses_frame
    {
        return Ok(());
    }
    let range = Eval {
        range: Some((eval.time_ms - 60_000, eval.time_ms + 60_000, 60_000)),
        query: eval.query.clone(),
        ..Eval::default()
    };
    let value = evaluate(storage, &range)
        .map_err(|e| format!("as range query: {e}"))?
        .value;
    let Value::Matrix(series) = value else {
        return Err(format!("as range query: got {}", short(&value)));
    };
    let middle: SeriesPoints = series
        .iter()
        .filter_map(|s| {
            let point = s.points.iter().find(|p| p.0 == eval.time_ms)?;
            Some((s.labels.clone(), vec![*point]))
        })
        .collect();
    let expected: SeriesPoints = match eval.scalar {
        Some(v) => vec![(Labels::default(), vec![(eval.time_ms, v)])],
        None => eval
            .series
            .iter()
            .map(|(l, vs)| {
                let points = vs.iter().flatten().map(|&v| (eval.time_ms, v)).collect();
                (l.clone(), points)
            })
            .collect(),
    };
    compare_series(&expected, &middle, false).map_err(|e| format!("as range query: {e}"))
}
