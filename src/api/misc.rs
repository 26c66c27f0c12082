//! Endpoints Grafana and promtool call that have little to say yet: exemplars, rules, alerts,
//! and `format_query`.

use super::error::ApiError;
use super::json;
use crate::http::{Params, Response};
use crate::query::promql;

/// `/api/v1/query_exemplars`: exemplars are not stored, so always an empty list.
pub fn query_exemplars() -> Response {
    Response::json(200, json::success("[]"))
}

/// `/api/v1/rules`: Strata evaluates no rules.
pub fn rules() -> Response {
    Response::json(200, json::success(r#"{"groups":[]}"#))
}

/// `/api/v1/alerts`: and so has no alerts.
pub fn alerts() -> Response {
    Response::json(200, json::success(r#"{"alerts":[]}"#))
}

/// `/api/v1/format_query`: the query printed in Prometheus' canonical form.
pub fn format_query(params: &Params) -> Result<Response, ApiError> {
    let text = params.get("query").unwrap_or_default();
    let expr = promql::parse(text).map_err(|e| ApiError::invalid_param("query", e))?;
    let mut out = String::new();
    json::push_string(&mut out, &expr.to_string());
    Ok(Response::json(200, json::success(&out)))
}
