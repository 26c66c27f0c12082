//! `/snapshot/create`, `/snapshot/list`, `/snapshot/delete?snapshot=`, `/snapshot/delete_all`,
//! answered as VictoriaMetrics does (`{"status":"ok",...}`).

use std::path::PathBuf;

use super::error::ApiError;
use super::Api;
use crate::http::Response;
use crate::shard::message::ShardRequest;
use crate::storage::data_dir::shard_path;
use crate::storage::snapshot::valid_snapshot_name;

impl Api {
    fn snapshots_dir(&self) -> PathBuf {
        self.flags.data_dir.join("snapshots")
    }

    /// Flushes every shard and hard-links its committed parts into `snapshots/<name>/`.
    pub async fn snapshot_create(&self) -> Result<Response, ApiError> {
        let now = crate::shard::now_ms();
        let name = format!(
            "{}-{:08x}",
            now,
            (xxhash_rust::xxh3::xxh3_64(&now.to_be_bytes()) as u32)
        );
        let dir = self.snapshots_dir().join(&name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", dir.display())))?;
        let result = async {
            let replies = self
                .ask(&self.all_shards(), |shard, reply| ShardRequest::Snapshot {
                    target: shard_path(&dir, shard),
                    reply,
                })
                .await?;
            for reply in replies {
                reply.map_err(ApiError::internal)?;
            }
            std::fs::copy(
                self.flags.data_dir.join("strata.json"),
                dir.join("strata.json"),
            )
            .map_err(|e| ApiError::internal(e.to_string()))?;
            Ok::<(), ApiError>(())
        }
        .await;
        if let Err(error) = result {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(error);
        }
        ok(serde_json::json!({"status": "ok", "snapshot": name}))
    }

    /// Names of existing snapshots.
    pub fn snapshot_list(&self) -> Result<Response, ApiError> {
        let mut names: Vec<String> = std::fs::read_dir(self.snapshots_dir())
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        ok(serde_json::json!({"status": "ok", "snapshots": names}))
    }

    /// Deletes one snapshot.
    pub fn snapshot_delete(&self, name: &str) -> Result<Response, ApiError> {
        if !valid_snapshot_name(name) {
            return Err(ApiError::invalid_param(
                "snapshot",
                format!("{name:?} is not a snapshot name"),
            ));
        }
        let dir = self.snapshots_dir().join(name);
        if !dir.is_dir() {
            return Err(ApiError::not_found(format!("no snapshot named {name:?}")));
        }
        std::fs::remove_dir_all(&dir).map_err(|e| ApiError::internal(e.to_string()))?;
        ok(serde_json::json!({"status": "ok"}))
    }

    /// Deletes every snapshot.
    pub fn snapshot_delete_all(&self) -> Result<Response, ApiError> {
        let dir = self.snapshots_dir();
        if dir.is_dir() {
            std::fs::remove_dir_all(&dir).map_err(|e| ApiError::internal(e.to_string()))?;
        }
        ok(serde_json::json!({"status": "ok"}))
    }
}

fn ok(value: serde_json::Value) -> Result<Response, ApiError> {
    Ok(Response::json(200, value.to_string().into_bytes()))
}
