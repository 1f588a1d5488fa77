//! Group commit of sends (PRODUCT.md M3): durable before the ack, without one
//! WAL flush per message.
//!
//! Sends are split over [`LANES`] lanes by room, so that every room belongs to
//! exactly one lane. Each lane is one task that takes everything waiting (up to
//! `max_batch`) and commits it in one transaction on its own connection, one batch
//! at a time. While a batch commits, new sends queue up for the lane's next batch,
//! so batches grow with load by themselves and cost nothing when idle, and one
//! transaction carries the sends of many rooms. Lanes never share a room, so their
//! transactions never wait for each other's room locks: before lanes, four batches
//! committing at once all locked the same busy rooms and ran one after another.
//! When a commit returns, every sender of its batch gets the answer, then the
//! batch's events are published.
//!
//! A batch the database refuses for its data (a value it cannot store slipped past
//! the checks at the edge) is split in halves and each half committed again, down
//! to the one send at fault: one bad row fails its own send, never the sends of
//! other users and rooms that happened to share its batch.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::StoredEvent;
use crate::session::BackendError;
use std::future::Future;

/// One message to store.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub room_id: Uuid,
    pub sender: String,
    pub sender_name: String,
    pub sender_is_admin: bool,
    pub client_id: String,
    pub message_type: String,
    pub content: String,
    pub metadata: Value,
}

/// The acknowledgement of a stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAck {
    pub message_id: Uuid,
    pub seq: i64,
    /// The same `client_id` was stored before: nothing new was written.
    pub duplicate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Forbidden(String),
    #[error("room not found")]
    NotFound,
    #[error("the database is unavailable")]
    Unavailable,
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The database refused to store this message's data.
    #[error("the message could not be stored")]
    Rejected,
}

/// Why a batch was not committed.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The database refused the batch's data: some row of it cannot be stored.
    /// Committing its sends apart finds the one at fault.
    #[error("the database refused the batch's data: {0}")]
    Rejected(BackendError),
    /// The database could not be reached or failed: nothing was stored.
    #[error("the batch was not committed: {0}")]
    Failed(BackendError),
}

/// What a batch produced: one result per request, in order, and the new events.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub results: Vec<Result<SendAck, SendError>>,
    pub events: Vec<StoredEvent>,
}

/// Writes a batch in one transaction (PostgreSQL in the server, memory in tests).
#[async_trait::async_trait]
pub trait BatchWriter: Send + Sync + 'static {
    async fn write(&self, batch: &[SendRequest]) -> Result<BatchOutcome, BatchError>;
}

type Reply = oneshot::Sender<Result<SendAck, SendError>>;

enum Job {
    Send(Box<SendRequest>, Reply),
    /// Answered once everything queued before it is committed.
    Flush(oneshot::Sender<()>),
}

/// Handle to the committing lanes; cloning is cheap.
#[derive(Clone)]
pub struct GroupCommit {
    lanes: Arc<[mpsc::Sender<Job>]>,
}

/// Lanes committing at the same time, each on its own connection. More lanes
/// overlap more commits' WAL flushes but run more PostgreSQL backends at once; on
/// the 2-core machine of docs/BENCHMARKS.md two lanes stored more messages per
/// PostgreSQL CPU-second than four, at a lower ack p99.
pub const LANES: usize = 2;

impl GroupCommit {
    /// Spawns the lanes on the current tokio runtime. `publish` receives each
    /// batch's events after its senders were answered.
    pub fn start(
        writer: Arc<dyn BatchWriter>,
        publish: impl Fn(Vec<StoredEvent>) + Send + Sync + 'static,
        max_batch: usize,
        queue_len: usize,
    ) -> Self {
        let publish: Arc<dyn Fn(Vec<StoredEvent>) + Send + Sync> = Arc::new(publish);
        let lanes = (0..LANES)
            .map(|_| {
                let (queue, rx) = mpsc::channel(queue_len.div_ceil(LANES).max(1));
                tokio::spawn(run(writer.clone(), publish.clone(), max_batch.max(1), rx));
                queue
            })
            .collect();
        Self { lanes }
    }

    /// The lane that commits every send to `room`.
    pub fn lane_of(room: Uuid) -> usize {
        (room.as_u128() % LANES as u128) as usize
    }

    /// Stores one message; answers after its batch committed.
    pub async fn submit(&self, req: SendRequest) -> Result<SendAck, SendError> {
        let (tx, rx) = oneshot::channel();
        self.lanes[Self::lane_of(req.room_id)]
            .send(Job::Send(Box::new(req), tx))
            .await
            .map_err(|_| SendError::ShuttingDown)?;
        rx.await.map_err(|_| SendError::ShuttingDown)?
    }

    /// Waits until every send queued so far is committed and answered.
    pub async fn flush(&self) {
        let mut waits = Vec::with_capacity(self.lanes.len());
        for lane in self.lanes.iter() {
            let (tx, rx) = oneshot::channel();
            if lane.send(Job::Flush(tx)).await.is_ok() {
                waits.push(rx);
            }
        }
        for rx in waits {
            let _ = rx.await;
        }
    }
}

/// One lane: batches of everything waiting, committed one after another.
async fn run(
    writer: Arc<dyn BatchWriter>,
    publish: Arc<dyn Fn(Vec<StoredEvent>) + Send + Sync>,
    max_batch: usize,
    mut rx: mpsc::Receiver<Job>,
) {
    while let Some(first) = rx.recv().await {
        let mut requests = Vec::new();
        let mut replies = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Send(req, reply) => {
                    requests.push(*req);
                    replies.push(reply);
                }
                // Everything queued before the flush is in this batch.
                Job::Flush(done) => flushes.push(done),
            }
            if requests.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !requests.is_empty() {
            commit_batch(writer.as_ref(), publish.as_ref(), requests, replies).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Commits `requests` and answers each; a batch refused for its data is split in
/// halves, each committed on its own (in order, so each room's events still come
/// out in `seq` order), until the refused send stands alone.
fn commit_batch<'a>(
    writer: &'a dyn BatchWriter,
    publish: &'a (dyn Fn(Vec<StoredEvent>) + Send + Sync),
    mut requests: Vec<SendRequest>,
    mut replies: Vec<Reply>,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        metrics::histogram!("andon_commit_batch_size").record(requests.len() as f64);
        let started = std::time::Instant::now();
        let written = writer.write(&requests).await;
        metrics::histogram!("andon_commit_seconds").record(started.elapsed().as_secs_f64());
        match written {
            Ok(outcome) => {
                for (reply, result) in replies.into_iter().zip(outcome.results) {
                    let _ = reply.send(result);
                }
                if !outcome.events.is_empty() {
                    publish(outcome.events);
                }
            }
            Err(BatchError::Rejected(e)) if requests.len() > 1 => {
                tracing::warn!(error = %e, batch = requests.len(), "batch refused: committing its halves apart");
                metrics::counter!("andon_commit_splits_total").increment(1);
                let half = requests.len() / 2;
                let (later, later_replies) = (requests.split_off(half), replies.split_off(half));
                commit_batch(writer, publish, requests, replies).await;
                commit_batch(writer, publish, later, later_replies).await;
            }
            Err(BatchError::Rejected(e)) => {
                tracing::warn!(error = %e, "message refused by the database");
                for reply in replies {
                    let _ = reply.send(Err(SendError::Rejected));
                }
            }
            Err(BatchError::Failed(e)) => {
                tracing::warn!(error = %e, batch = requests.len(), "batch not committed");
                for reply in replies {
                    let _ = reply.send(Err(SendError::Unavailable));
                }
            }
        }
    })
}
