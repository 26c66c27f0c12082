//! The channel mesh between shards: one bounded SPSC channel per ordered pair of shards.
//!
//! Built on the main thread from `shared_channel` pairs instead of glommio's `MeshBuilder`,
//! whose join spawns internal connect tasks that a lost wakeup can park for ever (see
//! `repoll.rs`); here every connect is wrapped in [`repoll`]. Sends are not: a send waits
//! while the channel is full, and every poll of it leaves a waker clone in glommio's list
//! (see `repoll.rs`); the shard heartbeat has the reactor re-check the channel instead.

use glommio::channels::shared_channel::{
    self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};

use super::repoll::repoll;
use super::CROSS_SHARD_REPOLL;
use crate::shard::message::ShardRequest;

/// One shard's unconnected ends, movable to its executor thread.
pub struct MeshEnds {
    /// `senders[j]`: the channel to shard j (`None` for itself).
    senders: Vec<Option<SharedSender<ShardRequest>>>,
    /// `receivers[j]`: the channel from shard j (`None` for itself).
    receivers: Vec<Option<SharedReceiver<ShardRequest>>>,
}

/// Creates the ends of a full mesh of `shards` shards, `capacity` messages per channel.
pub fn build(shards: usize, capacity: usize) -> Vec<MeshEnds> {
    let mut ends: Vec<MeshEnds> = (0..shards)
        .map(|_| MeshEnds {
            senders: (0..shards).map(|_| None).collect(),
            receivers: (0..shards).map(|_| None).collect(),
        })
        .collect();
    for from in 0..shards {
        for to in 0..shards {
            if from == to {
                continue;
            }
            let (sender, receiver) = shared_channel::new_bounded(capacity);
            if let Some(slot) = ends.get_mut(from).and_then(|e| e.senders.get_mut(to)) {
                *slot = Some(sender);
            }
            if let Some(slot) = ends.get_mut(to).and_then(|e| e.receivers.get_mut(from)) {
                *slot = Some(receiver);
            }
        }
    }
    ends
}

/// The connected sending side of one shard.
pub struct MeshSenders {
    senders: Vec<Option<ConnectedSender<ShardRequest>>>,
}

impl MeshEnds {
    /// Connects this shard's ends (inside its executor); returns the senders and, per peer, its receiver.
    ///
    /// A connect waits for the peer to connect the other end, so all ends connect at once (as
    /// separate tasks): connecting them one by one deadlocks two shards on their first senders.
    pub async fn connect(self) -> (MeshSenders, Vec<(usize, ConnectedReceiver<ShardRequest>)>) {
        let sender_tasks: Vec<_> = self
            .senders
            .into_iter()
            .map(|sender| {
                sender.map(|s| glommio::spawn_local(repoll(CROSS_SHARD_REPOLL, s.connect())))
            })
            .collect();
        let receiver_tasks: Vec<_> = self
            .receivers
            .into_iter()
            .enumerate()
            .filter_map(|(peer, receiver)| {
                receiver.map(|r| {
                    (
                        peer,
                        glommio::spawn_local(repoll(CROSS_SHARD_REPOLL, r.connect())),
                    )
                })
            })
            .collect();
        let mut senders = Vec::with_capacity(sender_tasks.len());
        for task in sender_tasks {
            senders.push(match task {
                Some(task) => Some(task.await),
                None => None,
            });
        }
        let mut receivers = Vec::with_capacity(receiver_tasks.len());
        for (peer, task) in receiver_tasks {
            receivers.push((peer, task.await));
        }
        (MeshSenders { senders }, receivers)
    }
}

impl MeshSenders {
    /// Sends `request` to shard `to`; an error means that shard's channel is closed (or `to` is this shard).
    pub async fn send_to(&self, to: usize, request: ShardRequest) -> Result<(), ()> {
        let Some(Some(sender)) = self.senders.get(to) else {
            return Err(());
        };
        sender.send(request).await.map_err(drop)
    }
}
