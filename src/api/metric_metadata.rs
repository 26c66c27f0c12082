//! `/api/v1/metadata`: type, help and unit per metric family, from remote_write metadata and the
//! text format's `# HELP`/`# TYPE`/`# UNIT`.

use std::collections::BTreeMap;

use super::error::ApiError;
use super::json;
use super::Api;
use crate::http::{Params, Response};
use crate::shard::message::ShardRequest;

impl Api {
    /// Gathers every front's metadata; `metric=` filters, `limit=` caps the families.
    pub async fn metric_metadata(&self, params: &Params) -> Result<Response, ApiError> {
        let metric = params.get("metric").unwrap_or_default();
        let limit = match params.get("limit") {
            None | Some("") => None,
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                ApiError::invalid_param("limit", format!("cannot parse {text:?} to a valid limit"))
            })?),
        };
        let replies = self
            .ask(&self.all_shards(), |_, reply| ShardRequest::Metadata {
                reply,
            })
            .await?;
        let mut merged = BTreeMap::new();
        for reply in replies {
            merged.extend(reply);
        }
        let mut data = serde_json::Map::new();
        for (family, entry) in merged {
            if !metric.is_empty() && family != metric {
                continue;
            }
            if limit.is_some_and(|l| l >= 0 && data.len() as i64 >= l) {
                break;
            }
            let item = serde_json::json!({
                "type": entry.metric_type.map_or("unknown", |t| t.as_str()),
                "help": entry.help.unwrap_or_default(),
                "unit": entry.unit.unwrap_or_default(),
            });
            data.insert(family, serde_json::Value::Array(vec![item]));
        }
        Ok(Response::json(
            200,
            json::success(&serde_json::Value::Object(data).to_string()),
        ))
    }
}
