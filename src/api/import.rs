//! Streaming imports: JSON lines, Prometheus text / OpenMetrics (also Pushgateway-style paths),
//! CSV and Influx line protocol. The body is decompressed, parsed and routed piece by piece;
//! batches go to their shards whenever they fill (`ShardSink::is_full`), so memory stays bounded
//! for any size. Compressed input is decoded a few KiB at a time so that one network read of a
//! highly compressed body cannot overfill the batches between two checks.

use super::error::ApiError;
use super::Api;
use crate::http::body_stream::BodyStream;
use crate::http::request::RequestHead;
use crate::http::{Params, Response};
use crate::ingest::content_encoding::{BodyDecoder, BodyError, ContentEncoding};
use crate::ingest::csv::CsvParser;
use crate::ingest::influx::{InfluxOptions, InfluxParser, Precision};
use crate::ingest::json_lines::JsonLinesParser;
use crate::ingest::prometheus_text::{PrometheusTextParser, TextFormat};
use crate::ingest::remote_write::decode::LabelLimits;
use crate::ingest::{ParseOptions, ParseStats, RowSink, ShardSink};
use crate::shard::now_ms;

/// Most bytes a streamed body may decompress to: far above any real import, low enough that a
/// decompression bomb stops.
const MAX_DECOMPRESSED_IMPORT_BYTES: u64 = 64 << 30;

/// Compressed bytes decoded between two checks of the batches: at a typical 10–50:1 ratio for
/// text, well under one batch of output; gzip's worst case (1032:1) is 4 MiB.
const COMPRESSED_STEP_BYTES: usize = 4 * 1024;

/// Which import format a path speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportKind {
    /// `/api/v1/import`.
    JsonLines,
    /// `/api/v1/import/prometheus[/metrics/job/<job>/<label>/<value>...]`: the path's pairs become labels.
    PrometheusText(Vec<(String, String)>),
    /// `/api/v1/import/csv`.
    Csv,
    /// `/write`, `/influx/write`, `/api/v2/write`, `/influx/api/v2/write`.
    Influx,
}

impl ImportKind {
    /// The import format of a (prefix-stripped) path, if it is an import path.
    pub fn of_path(path: &str) -> Option<ImportKind> {
        match path {
            "/api/v1/import" => Some(ImportKind::JsonLines),
            "/api/v1/import/prometheus" => Some(ImportKind::PrometheusText(Vec::new())),
            "/api/v1/import/csv" => Some(ImportKind::Csv),
            "/write" | "/influx/write" | "/api/v2/write" | "/influx/api/v2/write" => {
                Some(ImportKind::Influx)
            }
            _ => {
                let rest = path.strip_prefix("/api/v1/import/prometheus/metrics/")?;
                let parts: Vec<&str> = rest.split('/').collect();
                if parts.len() < 2 || parts.len() % 2 != 0 || parts.first() != Some(&"job") {
                    return None;
                }
                let pairs = parts
                    .chunks(2)
                    .filter_map(|p| match p {
                        [name, value] => Some((
                            name.to_string(),
                            crate::http::params::percent_decode(value.as_bytes()),
                        )),
                        _ => None,
                    })
                    .collect();
                Some(ImportKind::PrometheusText(pairs))
            }
        }
    }

    /// The route label for `/metrics`.
    pub fn route(&self) -> &'static str {
        match self {
            ImportKind::JsonLines => "/api/v1/import",
            ImportKind::PrometheusText(_) => "/api/v1/import/prometheus",
            ImportKind::Csv => "/api/v1/import/csv",
            ImportKind::Influx => "/write",
        }
    }
}

/// One of the streaming parsers.
enum Parser {
    Json(JsonLinesParser),
    Text(PrometheusTextParser),
    Csv(CsvParser),
    Influx(InfluxParser),
}

impl Parser {
    fn feed(&mut self, piece: &[u8], sink: &mut impl RowSink) {
        match self {
            Parser::Json(p) => p.feed(piece, sink),
            Parser::Text(p) => p.feed(piece, sink),
            Parser::Csv(p) => p.feed(piece, sink),
            Parser::Influx(p) => p.feed(piece, sink),
        }
    }

    /// Finishes; text imports also give their HELP/TYPE/UNIT metadata.
    fn finish(
        self,
        sink: &mut impl RowSink,
    ) -> (ParseStats, Option<crate::ingest::prometheus_text::Metadata>) {
        match self {
            Parser::Json(p) => (p.finish(sink), None),
            Parser::Text(p) => {
                let outcome = p.finish(sink);
                (outcome.stats, Some(outcome.metadata))
            }
            Parser::Csv(p) => (p.finish(sink), None),
            Parser::Influx(p) => (p.finish(sink), None),
        }
    }
}

impl Api {
    /// Streams one import body into the shards.
    pub async fn import(
        &self,
        kind: &ImportKind,
        head: &RequestHead,
        body: &mut BodyStream<'_>,
    ) -> Result<Response, ApiError> {
        let mut params = Params::default();
        params.parse_into(head.query.as_bytes());
        let mut options = ParseOptions {
            extra_labels: Vec::new(),
            default_timestamp_ms: now_ms(),
        };
        if let ImportKind::PrometheusText(pairs) = kind {
            options.extra_labels.extend(pairs.iter().cloned());
        }
        for argument in params.get_all("extra_label") {
            options
                .push_extra_label(argument)
                .map_err(|e| ApiError::invalid_param("extra_label", e))?;
        }
        let mut parser = match kind {
            ImportKind::JsonLines => Parser::Json(JsonLinesParser::new(&options)),
            ImportKind::PrometheusText(_) => Parser::Text(PrometheusTextParser::new(
                TextFormat::from_content_type(&head.content_type),
                &options,
            )),
            ImportKind::Csv => {
                let format = params.get("format").unwrap_or_default();
                Parser::Csv(
                    CsvParser::new(format, &options)
                        .map_err(|e| ApiError::invalid_param("format", e))?,
                )
            }
            ImportKind::Influx => Parser::Influx(InfluxParser::new(InfluxOptions {
                parse: options.clone(),
                precision: Precision::from_query(params.get("precision").unwrap_or_default()),
                db: params
                    .get("db")
                    .or_else(|| params.get("bucket"))
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
            })),
        };
        let encoding =
            (!head.content_encoding.is_empty()).then_some(head.content_encoding.as_str());
        let encoding = ContentEncoding::from_header(encoding).map_err(body_error)?;
        // A snappy block cannot be decoded before it is whole, so that body is held: it gets the
        // request size limit instead of the streaming one.
        let limit_bytes = match encoding {
            ContentEncoding::Snappy => self.flags.max_request_bytes as u64,
            _ => MAX_DECOMPRESSED_IMPORT_BYTES,
        };
        let mut decoder = BodyDecoder::new(encoding, limit_bytes).map_err(body_error)?;
        let limits = LabelLimits {
            max_labels: self.flags.max_labels_per_series,
            max_name_bytes: self.flags.max_label_name_bytes,
            max_value_bytes: self.flags.max_label_value_bytes,
        };
        let mut sink = ShardSink::new(self.shards, limits);
        let mut accepted = 0u64;
        let step = match encoding {
            ContentEncoding::Identity => usize::MAX,
            _ => COMPRESSED_STEP_BYTES,
        };
        while let Some(piece) = body
            .next_piece()
            .await
            .map_err(|e| ApiError::bad_data(e.to_string()))?
        {
            for input in piece.chunks(step) {
                decoder
                    .feed(input, &mut |decoded| parser.feed(decoded, &mut sink))
                    .map_err(body_error)?;
                if sink.is_full() {
                    accepted += self.ingest_batches(sink.take_batches()).await?.0;
                }
            }
        }
        decoder
            .finish(&mut |decoded| parser.feed(decoded, &mut sink))
            .map_err(body_error)?;
        let (stats, metadata) = parser.finish(&mut sink);
        accepted += self.ingest_batches(sink.take_batches()).await?.0;
        if let Some(metadata) = metadata {
            self.shard.remember_metadata(metadata);
        }
        {
            let mut metrics = self.shard.front_metrics.borrow_mut();
            metrics.invalid_samples += sink.rejected_samples;
            metrics.import_lines_skipped += stats.skipped_lines;
        }
        let problem = stats
            .first_error
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| sink.first_rejection.clone());
        let skipped = stats.skipped_lines + sink.rejected_samples;
        if *kind == ImportKind::Influx && skipped > 0 {
            // Influx answers a partial write with 400 and says which line failed; the good lines are kept.
            return Err(ApiError::bad_data(format!(
                "partial write: {skipped} lines or samples skipped, {accepted} samples stored; first: {}",
                problem.unwrap_or_default()
            )));
        }
        let mut response = Response::empty(204)
            .with_header("X-Strata-Samples-Imported", accepted.to_string())
            .with_header("X-Strata-Lines-Skipped", skipped.to_string());
        if let Some(problem) = problem {
            response = response.with_header("X-Strata-First-Error", sanitize_header(&problem));
        }
        Ok(response)
    }
}

fn body_error(error: BodyError) -> ApiError {
    match error {
        BodyError::Unsupported(encoding) => ApiError {
            status: 415,
            error_type: "bad_data",
            retry_after_secs: None,
            message: format!("unsupported Content-Encoding {encoding:?}; use gzip, zstd, snappy, deflate or identity"),
        },
        BodyError::TooLarge { limit_bytes } => ApiError {
            status: 413,
            error_type: "bad_data",
            retry_after_secs: None,
            message: format!("body decompresses to more than {limit_bytes} bytes"),
        },
        other => ApiError::bad_data(other.to_string()),
    }
}

/// A header value must be one line of visible ASCII.
fn sanitize_header(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_paths() {
        assert_eq!(
            ImportKind::of_path("/api/v1/import"),
            Some(ImportKind::JsonLines)
        );
        assert_eq!(
            ImportKind::of_path("/api/v2/write"),
            Some(ImportKind::Influx)
        );
        assert_eq!(
            ImportKind::of_path("/api/v1/import/prometheus/metrics/job/batch/instance/h%201"),
            Some(ImportKind::PrometheusText(vec![
                ("job".into(), "batch".into()),
                ("instance".into(), "h 1".into())
            ]))
        );
        assert_eq!(
            ImportKind::of_path("/api/v1/import/prometheus/metrics/job"),
            None
        );
        assert_eq!(ImportKind::of_path("/api/v1/importx"), None);
    }
}
