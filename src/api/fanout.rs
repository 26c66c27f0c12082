//! Sending one request to each shard and gathering the replies.

use futures_channel::oneshot;

use super::error::ApiError;
use super::Api;
use crate::runtime::repoll::repoll;
use crate::runtime::CROSS_SHARD_REPOLL;
use crate::shard::message::{Reply, ShardRequest};

impl Api {
    /// Sends `make(shard, reply)` to each shard in `targets` (the local one is handled inline, after the
    /// others were sent, so they work in parallel) and returns the replies in `targets` order.
    pub async fn ask<T>(
        &self,
        targets: &[usize],
        make: impl Fn(usize, Reply<T>) -> ShardRequest,
    ) -> Result<Vec<T>, ApiError> {
        let mut receivers = Vec::with_capacity(targets.len());
        let mut local = None;
        for &shard in targets {
            let (reply, receiver) = oneshot::channel();
            let request = make(shard, reply);
            if shard == self.shard.index {
                local = Some(request);
            } else if self.senders.send_to(shard, request).await.is_err() {
                return Err(ApiError::unavailable(format!(
                    "shard {shard} is not running"
                )));
            }
            receivers.push((shard, receiver));
        }
        if let Some(request) = local {
            self.shard.handle(request).await;
        }
        let mut replies = Vec::with_capacity(receivers.len());
        for (shard, receiver) in receivers {
            let reply = repoll(CROSS_SHARD_REPOLL, receiver)
                .await
                .map_err(|_| ApiError::unavailable(format!("shard {shard} dropped the request")))?;
            replies.push(reply);
        }
        Ok(replies)
    }

    /// Every shard index.
    pub fn all_shards(&self) -> Vec<usize> {
        (0..self.shards).collect()
    }
}
