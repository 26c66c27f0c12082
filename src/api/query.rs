//! `/api/v1/query` and `/api/v1/query_range`.
//!
//! So far: vector selectors (with `offset`) and literals. Anything else is a
//! 400 saying it is not supported yet — never a wrong answer.

use super::error::ApiError;
use super::json;
use super::params::{parse_duration_param, time_param};
use super::Api;
use crate::http::{Params, Response};
use crate::query::promql::{self, Expr};
use crate::shard::message::{SelectRequest, SeriesPoints, ShardRequest};
use crate::shard::now_ms;

/// Prometheus' cap on points per series in a range query.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// The evaluation range of a query.
#[derive(Debug, Clone, Copy)]
struct Range {
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    instant: bool,
}

impl Api {
    /// Answers an instant (`instant`) or range query.
    pub async fn query(&self, params: &Params, instant: bool) -> Result<Response, ApiError> {
        let text = params.get("query").unwrap_or_default();
        let range = if instant {
            let time = time_param(params, "time", now_ms())?;
            Range {
                start_ms: time,
                end_ms: time,
                step_ms: 1,
                instant,
            }
        } else {
            parse_range(params)?
        };
        let expr = promql::parse(text).map_err(|e| ApiError::invalid_param("query", e))?;
        let data = self.evaluate(&expr, range).await?;
        Ok(Response::json(200, json::success(&data)))
    }

    async fn evaluate(&self, expr: &Expr, range: Range) -> Result<String, ApiError> {
        let mut out = String::new();
        match expr.unparen() {
            Expr::Number(number) => {
                if range.instant {
                    out.push_str("{\"resultType\":\"scalar\",\"result\":");
                    json::push_point(&mut out, range.start_ms, number.value);
                } else {
                    out.push_str(
                        "{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":[",
                    );
                    let mut t = range.start_ms;
                    let mut first = true;
                    while t <= range.end_ms {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        json::push_point(&mut out, t, number.value);
                        t += range.step_ms;
                    }
                    out.push_str("]}]");
                }
                out.push('}');
            }
            Expr::String(string) if range.instant => {
                out.push_str("{\"resultType\":\"string\",\"result\":[");
                json::push_timestamp(&mut out, range.start_ms);
                out.push(',');
                json::push_string(&mut out, &string.value);
                out.push_str("]}");
            }
            Expr::String(_) => {
                return Err(ApiError::bad_data("invalid expression type \"string\" for range query, must be Scalar or instant Vector"));
            }
            Expr::VectorSelector(selector) if selector.at.is_none() => {
                let request = SelectRequest {
                    matchers: selector.matchers.clone(),
                    start_ms: range.start_ms,
                    end_ms: range.end_ms,
                    step_ms: range.step_ms,
                    lookback_ms: self.flags.lookback_delta.as_millis() as i64,
                    offset_ms: selector.offset_ms,
                };
                let mut series = self.select(&request).await?;
                series.sort_by(|a, b| a.labels.cmp(&b.labels));
                write_series(&mut out, &series, range.instant);
            }
            Expr::MatrixSelector(_) if !range.instant => {
                return Err(ApiError::bad_data("invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"));
            }
            other => {
                return Err(ApiError::bad_data(format!(
                    "unsupported query {:?}: only vector selectors and literals are implemented so far",
                    other.to_string()
                )));
            }
        }
        Ok(out)
    }

    /// Runs a selector on every shard and concatenates the series.
    async fn select(&self, request: &SelectRequest) -> Result<Vec<SeriesPoints>, ApiError> {
        let replies = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::Select {
                request: request.clone(),
                reply,
            })
            .await?;
        let mut series = Vec::new();
        for reply in replies {
            series.extend(reply.map_err(ApiError::internal)?);
        }
        Ok(series)
    }
}

fn parse_range(params: &Params) -> Result<Range, ApiError> {
    let start_ms = required_time(params, "start")?;
    let end_ms = required_time(params, "end")?;
    let step_ms = parse_duration_param("step", params.get("step").unwrap_or_default())?;
    if end_ms < start_ms {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start time",
        ));
    }
    if step_ms <= 0 {
        return Err(ApiError::bad_data("zero or negative query resolution step widths are not accepted. Try a positive integer"));
    }
    if (end_ms - start_ms) / step_ms > MAX_POINTS_PER_SERIES {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    Ok(Range {
        start_ms,
        end_ms,
        step_ms,
        instant: false,
    })
}

fn required_time(params: &Params, name: &str) -> Result<i64, ApiError> {
    let text = params.get(name).unwrap_or_default();
    super::params::parse_time(text).ok_or_else(|| {
        ApiError::invalid_param(name, format!("cannot parse {text:?} to a valid timestamp"))
    })
}

fn write_series(out: &mut String, series: &[SeriesPoints], instant: bool) {
    out.push_str(if instant {
        "{\"resultType\":\"vector\",\"result\":["
    } else {
        "{\"resultType\":\"matrix\",\"result\":["
    });
    for (i, s) in series.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"metric\":");
        json::push_labels(out, &s.labels);
        if instant {
            out.push_str(",\"value\":");
            if let Some(&(t, v)) = s.points.first() {
                json::push_point(out, t, v);
            }
        } else {
            out.push_str(",\"values\":[");
            for (j, &(t, v)) in s.points.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                json::push_point(out, t, v);
            }
            out.push(']');
        }
        out.push('}');
    }
    out.push_str("]}");
}
