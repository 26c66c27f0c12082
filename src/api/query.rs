//! `/api/v1/query` and `/api/v1/query_range`: PromQL through the engine, with the shards as its
//! series source — each shard answers the plan's fetches over the series it owns, computing
//! rollups next to the data.

use super::error::ApiError;
use super::json;
use super::params::{parse_duration_param, time_param};
use super::Api;
use crate::http::{Params, Response};
use crate::query::eval::plan::{FetchRequest, FetchResult};
use crate::query::eval::{
    instant_query, range_query, AnnotationKind, ErrorType, EvalError, QueryParams, SeriesSource,
    Value,
};
use crate::query::promql;
use crate::shard::message::ShardRequest;
use crate::shard::now_ms;

/// Prometheus' cap on points per series in a range query.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// The shards as the engine's series source: every shard answers each fetch over the series it owns.
pub struct ShardSource<'a> {
    api: &'a Api,
}

impl<'a> ShardSource<'a> {
    /// The shards reachable from `api`'s front.
    pub fn new(api: &'a Api) -> Self {
        ShardSource { api }
    }
}

impl SeriesSource for ShardSource<'_> {
    async fn fetch(&self, requests: &[FetchRequest]) -> Result<Vec<FetchResult>, EvalError> {
        let replies = self
            .api
            .ask(&self.api.all_shards(), |_, reply| ShardRequest::Fetch {
                requests: requests.to_vec(),
                reply,
            })
            .await
            .map_err(|e| EvalError::Source(e.message))?;
        let mut merged: Vec<FetchResult> = vec![FetchResult::default(); requests.len()];
        for reply in replies {
            for (slot, result) in merged.iter_mut().zip(reply.map_err(EvalError::Source)?) {
                slot.series.extend(result.series);
            }
        }
        Ok(merged)
    }
}

impl Api {
    /// Answers an instant (`instant`) or range query.
    pub async fn query(&self, params: &Params, instant: bool) -> Result<Response, ApiError> {
        let text = params.get("query").unwrap_or_default();
        let mut query_params = if instant {
            QueryParams::instant(time_param(params, "time", now_ms())?)
        } else {
            parse_range(params)?
        };
        query_params.lookback_ms = self.flags.lookback_delta.as_millis() as i64;
        query_params.max_samples = self.flags.query_max_samples;
        query_params.max_series = self.flags.query_max_series;
        let mut timeout = self.flags.query_timeout;
        if let Some(text) = params.get("timeout").filter(|t| !t.is_empty()) {
            let ms = parse_duration_param("timeout", text)?;
            timeout = timeout.min(std::time::Duration::from_millis(ms.max(0) as u64));
        }
        query_params.timeout = Some(timeout);
        let expr = promql::parse(text).map_err(|e| ApiError::invalid_param("query", e))?;
        let source = ShardSource { api: self };
        let result = if instant {
            instant_query(&expr, &query_params, &source).await
        } else {
            range_query(&expr, &query_params, &source).await
        }
        .map_err(eval_error)?;
        let mut data = String::new();
        write_value(&mut data, &result.value, query_params.start_ms);
        let mut warnings = Vec::new();
        let mut infos = Vec::new();
        for annotation in result.annotations.iter() {
            match annotation.kind {
                AnnotationKind::Warning => warnings.push(annotation.render(text)),
                AnnotationKind::Info => infos.push(annotation.render(text)),
            }
        }
        Ok(Response::json(200, envelope(&data, &warnings, &infos)))
    }
}

fn eval_error(error: EvalError) -> ApiError {
    let message = error.to_string();
    match error.error_type() {
        ErrorType::BadData => ApiError::bad_data(message),
        ErrorType::Timeout => ApiError {
            status: 503,
            error_type: "timeout",
            retry_after_secs: None,
            message,
        },
        _ => ApiError {
            status: 422,
            error_type: "execution",
            retry_after_secs: None,
            message,
        },
    }
}

fn parse_range(params: &Params) -> Result<QueryParams, ApiError> {
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
    Ok(QueryParams::range(start_ms, end_ms, step_ms))
}

fn required_time(params: &Params, name: &str) -> Result<i64, ApiError> {
    let text = params.get(name).unwrap_or_default();
    super::params::parse_time(text).ok_or_else(|| {
        ApiError::invalid_param(name, format!("cannot parse {text:?} to a valid timestamp"))
    })
}

/// `{"status":"success","data":...,"warnings":[...],"infos":[...]}`.
fn envelope(data: &str, warnings: &[String], infos: &[String]) -> Vec<u8> {
    let mut out = String::with_capacity(data.len() + 64);
    out.push_str("{\"status\":\"success\",\"data\":");
    out.push_str(data);
    if !warnings.is_empty() {
        out.push_str(",\"warnings\":");
        out.push_str(&serde_json::to_string(warnings).unwrap_or_else(|_| "[]".into()));
    }
    if !infos.is_empty() {
        out.push_str(",\"infos\":");
        out.push_str(&serde_json::to_string(infos).unwrap_or_else(|_| "[]".into()));
    }
    out.push('}');
    out.into_bytes()
}

/// Writes a result value in Prometheus' JSON shape; `time_ms` stamps scalars, strings and vectors.
fn write_value(out: &mut String, value: &Value, time_ms: i64) {
    match value {
        Value::Scalar(v) => {
            out.push_str("{\"resultType\":\"scalar\",\"result\":");
            json::push_point(out, time_ms, *v);
            out.push('}');
        }
        Value::String(s) => {
            out.push_str("{\"resultType\":\"string\",\"result\":[");
            json::push_timestamp(out, time_ms);
            out.push(',');
            json::push_string(out, s);
            out.push_str("]}");
        }
        Value::Vector(samples) => {
            out.push_str("{\"resultType\":\"vector\",\"result\":[");
            for (i, sample) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                json::push_labels(out, &sample.labels);
                out.push_str(",\"value\":");
                json::push_point(out, time_ms, sample.value);
                out.push('}');
            }
            out.push_str("]}");
        }
        Value::Matrix(series) => {
            out.push_str("{\"resultType\":\"matrix\",\"result\":[");
            for (i, s) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                json::push_labels(out, &s.labels);
                out.push_str(",\"values\":[");
                for (j, &(t, v)) in s.points.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    json::push_point(out, t, v);
                }
                out.push_str("]}");
            }
            out.push_str("]}");
        }
    }
}
