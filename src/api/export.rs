//! `/api/v1/export` (VictoriaMetrics JSON lines) and `/federate` (Prometheus text format).

use std::fmt::Write;

use super::error::ApiError;
use super::params::{selectors_param, time_param, MIN_TIME_MS};
use super::Api;
use crate::http::{Params, Response};
use crate::ingest::json_lines::write_series;
use crate::model::is_stale_nan;
use crate::shard::message::{MetadataRequest, ShardRequest};
use crate::shard::now_ms;
use crate::storage::SampleRange;

impl Api {
    async fn raw_series(&self, request: MetadataRequest) -> Result<Vec<SampleRange>, ApiError> {
        let replies = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::Export {
                request: request.clone(),
                reply,
            })
            .await?;
        let mut all = Vec::new();
        for reply in replies {
            all.extend(reply.map_err(ApiError::internal)?);
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    /// `/api/v1/export?match[]=...&start=&end=`: one JSON line per series with all its samples.
    pub async fn export(&self, params: &Params) -> Result<Response, ApiError> {
        let selectors = selectors_param(params)?;
        if selectors.is_empty() {
            return Err(ApiError::bad_data("missing match[] argument"));
        }
        let request = MetadataRequest {
            selectors,
            start_ms: time_param(params, "start", MIN_TIME_MS)?,
            end_ms: time_param(params, "end", now_ms())?,
        };
        let mut out = Vec::new();
        for (labels, timestamps, values) in self.raw_series(request).await? {
            write_series(&mut out, &labels.to_canonical(), &timestamps, &values)
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        let mut response = Response::json(200, out);
        response.content_type = "application/stream+json";
        Ok(response)
    }

    /// `/federate?match[]=...`: the latest sample (within the lookback) of every matching series.
    pub async fn federate(&self, params: &Params) -> Result<Response, ApiError> {
        let selectors = selectors_param(params)?;
        if selectors.is_empty() {
            return Err(ApiError::bad_data("missing match[] argument"));
        }
        let now = now_ms();
        let lookback = self.flags.lookback_delta.as_millis() as i64;
        let request = MetadataRequest {
            selectors,
            start_ms: now - lookback,
            end_ms: now,
        };
        let mut out = String::new();
        for (labels, timestamps, values) in self.raw_series(request).await? {
            let (Some(&t), Some(&v)) = (timestamps.last(), values.last()) else {
                continue;
            };
            if is_stale_nan(v) {
                continue;
            }
            out.push_str(labels.metric_name());
            out.push('{');
            let mut first = true;
            for label in labels
                .iter()
                .filter(|l| l.name != crate::model::METRIC_NAME_LABEL)
            {
                if !first {
                    out.push(',');
                }
                first = false;
                let escaped = label
                    .value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(out, "{}=\"{}\"", label.name, escaped);
            }
            out.push_str("} ");
            super::json::push_value(&mut out, v);
            let _ = writeln!(out, " {t}");
        }
        let mut response = Response::text(200, out);
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        Ok(response)
    }
}
