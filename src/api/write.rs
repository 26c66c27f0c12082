//! `POST /api/v1/write`: Prometheus remote_write 1.0 and 2.0, and the shared path that hands
//! batches to their owner shards.

use super::error::ApiError;
use super::Api;
use crate::http::{Request, Response};
use crate::ingest::content_encoding::{BodyDecoder, ContentEncoding};
use crate::ingest::remote_write::decode::{decode_with_extra_labels, DecodeError, LabelLimits};
use crate::ingest::remote_write::v2::{decode_v2_with_extra_labels, WriteProto};
use crate::ingest::IngestBatch;
use crate::shard::message::ShardRequest;

impl Api {
    /// Sends each non-empty batch to its shard (batch i → shard i) and waits for every owner;
    /// returns (accepted, rejected) samples.
    pub async fn ingest_batches(&self, batches: Vec<IngestBatch>) -> Result<(u64, u64), ApiError> {
        let mut batches: Vec<Option<IngestBatch>> = batches.into_iter().map(Some).collect();
        let targets: Vec<usize> = batches
            .iter()
            .enumerate()
            .filter(|(_, b)| b.as_ref().is_some_and(|b| !b.is_empty()))
            .map(|(i, _)| i)
            .collect();
        let cell = std::cell::RefCell::new(&mut batches);
        let replies = self
            .ask(&targets, |shard, reply| ShardRequest::Ingest {
                batch: cell
                    .borrow_mut()
                    .get_mut(shard)
                    .and_then(Option::take)
                    .unwrap_or_default(),
                reply,
            })
            .await?;
        let (mut accepted, mut rejected) = (0, 0);
        for reply in replies {
            let (a, r) = reply.map_err(ApiError::write_refused)?;
            accepted += a;
            rejected += r;
        }
        Ok((accepted, rejected))
    }

    /// Decodes the body, sends each shard its rows and answers 204 once every owner has them.
    pub async fn remote_write(&self, request: &Request) -> Result<Response, ApiError> {
        let head = &request.head;
        // Prometheus always sends a Content-Type; VictoriaMetrics accepts bodies without one as 1.0.
        let content_type = if head.content_type.is_empty() {
            "application/x-protobuf"
        } else {
            head.content_type.as_str()
        };
        let proto = WriteProto::from_content_type(content_type).map_err(|e| ApiError {
            status: 415,
            error_type: "bad_data",
            retry_after_secs: None,
            message: e.to_string(),
        })?;
        let flags = &self.flags;
        let limits = LabelLimits {
            max_labels: flags.max_labels_per_series,
            max_name_bytes: flags.max_label_name_bytes,
            max_value_bytes: flags.max_label_value_bytes,
        };
        let params = request.params();
        let mut extra_labels = Vec::new();
        for argument in params.get_all("extra_label") {
            match argument.split_once('=') {
                Some((name, value)) if !name.is_empty() => {
                    extra_labels.push((name.to_string(), value.to_string()))
                }
                _ => {
                    return Err(ApiError::invalid_param(
                        "extra_label",
                        format!("{argument:?} is not name=value"),
                    ))
                }
            }
        }
        let snappy_body = self.to_snappy_block(request)?;
        let body = snappy_body.as_deref().unwrap_or(&request.body);
        let too_large = |e: DecodeError| match e {
            DecodeError::TooLarge { .. } => ApiError {
                status: 413,
                error_type: "bad_data",
                retry_after_secs: None,
                message: e.to_string(),
            },
            _ => ApiError::bad_data(e.to_string()),
        };
        let mut decoded = match proto {
            WriteProto::V1 => decode_with_extra_labels(
                body,
                self.shards,
                flags.max_request_bytes,
                &limits,
                &extra_labels,
            )
            .map_err(too_large)?,
            WriteProto::V2 => decode_v2_with_extra_labels(
                body,
                self.shards,
                flags.max_request_bytes,
                &limits,
                &extra_labels,
            )
            .map_err(too_large)?,
        };
        let v2_written = (proto == WriteProto::V2).then(|| decoded.written());
        self.shard
            .remember_metadata(std::mem::take(&mut decoded.metadata));
        let (rejected_series, rejected_samples) =
            (decoded.rejected_series, decoded.rejected_samples);
        {
            let mut metrics = self.shard.front_metrics.borrow_mut();
            metrics.histograms_dropped += decoded.histograms_dropped;
            metrics.exemplars_dropped += decoded.exemplars_dropped;
            metrics.invalid_series += rejected_series;
            metrics.invalid_samples += rejected_samples;
        }
        let rejection = decoded.first_rejection.take();
        let batches = std::mem::take(&mut decoded.batches);
        self.ingest_batches(batches).await?;
        if let Some(first) = rejection {
            return Err(ApiError::bad_data(format!(
                "{rejected_series} series ({rejected_samples} samples) rejected, the rest of the request was stored; first: {first}"
            )));
        }
        let mut response = Response::empty(204);
        if let Some(written) = v2_written {
            response = response
                .with_header(
                    "X-Prometheus-Remote-Write-Samples-Written",
                    written.samples.to_string(),
                )
                .with_header(
                    "X-Prometheus-Remote-Write-Histograms-Written",
                    written.histograms.to_string(),
                )
                .with_header(
                    "X-Prometheus-Remote-Write-Exemplars-Written",
                    written.exemplars.to_string(),
                );
        }
        Ok(response)
    }

    /// Remote write bodies are snappy blocks; a body sent with another `Content-Encoding` (zstd from
    /// vmagent, gzip, identity) is turned into one. `None` means the body already is one.
    fn to_snappy_block(&self, request: &Request) -> Result<Option<Vec<u8>>, ApiError> {
        let encoding = request.head.content_encoding.as_str();
        if matches!(encoding, "" | "snappy") {
            return Ok(None);
        }
        let unsupported = |e: crate::ingest::content_encoding::BodyError| ApiError {
            status: 415,
            error_type: "bad_data",
            retry_after_secs: None,
            message: format!("remote write body: {e}"),
        };
        let encoding = ContentEncoding::from_header(Some(encoding)).map_err(unsupported)?;
        let mut decoder =
            BodyDecoder::new(encoding, self.flags.max_request_bytes as u64).map_err(unsupported)?;
        let mut raw = Vec::new();
        decoder
            .feed(&request.body, &mut |piece| raw.extend_from_slice(piece))
            .map_err(|e| ApiError::bad_data(e.to_string()))?;
        decoder
            .finish(&mut |piece| raw.extend_from_slice(piece))
            .map_err(|e| ApiError::bad_data(e.to_string()))?;
        snap::raw::Encoder::new()
            .compress_vec(&raw)
            .map(Some)
            .map_err(|e| ApiError::internal(e.to_string()))
    }
}
