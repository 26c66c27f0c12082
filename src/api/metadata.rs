//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`.

use std::collections::BTreeSet;

use super::error::ApiError;
use super::json;
use super::params::{selectors_param, time_param, MAX_TIME_MS, MIN_TIME_MS};
use super::Api;
use crate::http::{Params, Response};
use crate::model::Labels;
use crate::shard::message::{MetadataRequest, ShardRequest};

impl Api {
    /// `/api/v1/series`: label sets of matching series.
    pub async fn series(&self, params: &Params) -> Result<Response, ApiError> {
        let request = metadata_request(params)?;
        if request.selectors.is_empty() {
            return Err(ApiError::bad_data("no match[] parameter provided"));
        }
        let limit = limit_param(params)?;
        let replies = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::Series {
                request: request.clone(),
                reply,
            })
            .await?;
        let mut all: Vec<Labels> = replies.into_iter().flatten().collect();
        all.sort();
        let warnings = truncate(&mut all, limit);
        let mut out = String::from("[");
        for (i, labels) in all.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::push_labels(&mut out, labels);
        }
        out.push(']');
        Ok(Response::json(
            200,
            json::success_with_warnings(&out, &warnings),
        ))
    }

    /// `/api/v1/labels`: label names of matching series.
    pub async fn labels(&self, params: &Params) -> Result<Response, ApiError> {
        let request = metadata_request(params)?;
        let limit = limit_param(params)?;
        let replies = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::LabelNames {
                request: request.clone(),
                reply,
            })
            .await?;
        string_list(replies, limit)
    }

    /// `/api/v1/label/<name>/values`: values of one label over matching series.
    pub async fn label_values(&self, name: &str, params: &Params) -> Result<Response, ApiError> {
        let request = metadata_request(params)?;
        let limit = limit_param(params)?;
        let replies = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::LabelValues {
                name: name.to_string(),
                request: request.clone(),
                reply,
            })
            .await?;
        string_list(replies, limit)
    }
}

fn metadata_request(params: &Params) -> Result<MetadataRequest, ApiError> {
    let start_ms = time_param(params, "start", MIN_TIME_MS)?;
    let end_ms = time_param(params, "end", MAX_TIME_MS)?;
    if end_ms < start_ms {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start time",
        ));
    }
    Ok(MetadataRequest {
        selectors: selectors_param(params)?,
        start_ms,
        end_ms,
    })
}

fn limit_param(params: &Params) -> Result<Option<usize>, ApiError> {
    match params.get("limit") {
        None | Some("") | Some("0") => Ok(None),
        Some(text) => text.parse::<usize>().map(Some).map_err(|_| {
            ApiError::invalid_param("limit", format!("cannot parse {text:?} to a valid limit"))
        }),
    }
}

fn truncate<T>(items: &mut Vec<T>, limit: Option<usize>) -> Vec<String> {
    match limit {
        Some(limit) if items.len() > limit => {
            items.truncate(limit);
            vec!["results truncated due to limit".to_string()]
        }
        _ => Vec::new(),
    }
}

fn string_list(replies: Vec<Vec<String>>, limit: Option<usize>) -> Result<Response, ApiError> {
    let set: BTreeSet<String> = replies.into_iter().flatten().collect();
    let mut all: Vec<String> = set.into_iter().collect();
    let warnings = truncate(&mut all, limit);
    let data = serde_json::to_string(&all).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Response::json(
        200,
        json::success_with_warnings(&data, &warnings),
    ))
}
