//! `POST /api/v1/write`: Prometheus remote_write 1.0.

use super::error::ApiError;
use super::Api;
use crate::http::{Request, Response};
use crate::ingest::remote_write::decode::{decode, DecodeError, LabelLimits};
use crate::shard::message::ShardRequest;

impl Api {
    /// Decodes the body, sends each shard its rows and answers 204 once every owner has them.
    pub async fn remote_write(&self, request: &Request) -> Result<Response, ApiError> {
        let head = &request.head;
        if head.content_type.contains("io.prometheus.write.v2.request") {
            return Err(ApiError {
                status: 415,
                error_type: "bad_data",
                message: "remote write 2.0 (io.prometheus.write.v2.Request) is not supported yet; send remote write 1.0".into(),
            });
        }
        if !head.content_type.is_empty() && !head.content_type.starts_with("application/x-protobuf")
        {
            return Err(ApiError {
                status: 415,
                error_type: "bad_data",
                message: format!("unsupported Content-Type {:?} for remote write; expected application/x-protobuf", head.content_type),
            });
        }
        if !matches!(head.content_encoding.as_str(), "" | "snappy") {
            return Err(ApiError {
                status: 415,
                error_type: "bad_data",
                message: format!(
                    "unsupported Content-Encoding {:?} for remote write; expected snappy",
                    head.content_encoding
                ),
            });
        }
        let flags = &self.flags;
        let limits = LabelLimits {
            max_labels: flags.max_labels_per_series,
            max_name_bytes: flags.max_label_name_bytes,
            max_value_bytes: flags.max_label_value_bytes,
        };
        let decoded = decode(&request.body, self.shards, flags.max_request_bytes, &limits)
            .map_err(|e| match e {
                DecodeError::TooLarge { .. } => ApiError {
                    status: 413,
                    error_type: "bad_data",
                    message: e.to_string(),
                },
                _ => ApiError::bad_data(e.to_string()),
            })?;
        {
            let mut metrics = self.shard.front_metrics.borrow_mut();
            metrics.histograms_dropped += decoded.histograms_dropped;
            metrics.exemplars_dropped += decoded.exemplars_dropped;
            metrics.invalid_series += decoded.rejected_series;
            metrics.invalid_samples += decoded.rejected_samples;
        }
        let mut batches: Vec<_> = decoded.batches.into_iter().map(Some).collect();
        let targets: Vec<usize> = batches
            .iter()
            .enumerate()
            .filter(|(_, b)| b.as_ref().is_some_and(|b| !b.is_empty()))
            .map(|(i, _)| i)
            .collect();
        let batches_cell = std::cell::RefCell::new(&mut batches);
        let replies = self
            .ask(&targets, |shard, reply| ShardRequest::Ingest {
                batch: batches_cell
                    .borrow_mut()
                    .get_mut(shard)
                    .and_then(Option::take)
                    .unwrap_or_default(),
                reply,
            })
            .await?;
        for reply in replies {
            reply.map_err(ApiError::internal)?;
        }
        if let Some(first) = decoded.first_rejection {
            return Err(ApiError::bad_data(format!(
                "{} series ({} samples) rejected, the rest of the request was stored; first: {first}",
                decoded.rejected_series, decoded.rejected_samples
            )));
        }
        Ok(Response::empty(204))
    }
}
