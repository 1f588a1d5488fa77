//! Group commit of sends (PRODUCT.md M3): durable before the ack, without one
//! WAL flush per message.
//!
//! One task takes sends off the queue in batches of everything waiting (up to
//! `max_batch`); up to four batches commit at once, each in one transaction on its
//! own connection. While they commit, new sends queue up for the next batch, so
//! batches grow with load by themselves and cost nothing when idle, and one
//! transaction carries the sends of many rooms. When a commit returns, every sender
//! of its batch gets the answer, then the batch's events are published.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::StoredEvent;
use crate::session::BackendError;

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
    async fn write(&self, batch: &[SendRequest]) -> Result<BatchOutcome, BackendError>;
}

type Reply = oneshot::Sender<Result<SendAck, SendError>>;

enum Job {
    Send(Box<SendRequest>, Reply),
    /// Answered once everything queued before it is committed.
    Flush(oneshot::Sender<()>),
}

/// Handle to the committing task; cloning is cheap.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Spawns the committing task on the current tokio runtime. `publish` receives
    /// each batch's events after its senders were answered.
    pub fn start(
        writer: Arc<dyn BatchWriter>,
        publish: impl Fn(Vec<StoredEvent>) + Send + Sync + 'static,
        max_batch: usize,
        queue_len: usize,
    ) -> Self {
        let (queue, rx) = mpsc::channel(queue_len);
        tokio::spawn(run(writer, publish, max_batch.max(1), rx));
        Self { queue }
    }

    /// Stores one message; answers after its batch committed.
    pub async fn submit(&self, req: SendRequest) -> Result<SendAck, SendError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send(Job::Send(Box::new(req), tx))
            .await
            .map_err(|_| SendError::ShuttingDown)?;
        rx.await.map_err(|_| SendError::ShuttingDown)?
    }

    /// Waits until every send queued so far is committed and answered.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.queue.send(Job::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

async fn run(
    writer: Arc<dyn BatchWriter>,
    publish: impl Fn(Vec<StoredEvent>) + Send + Sync + 'static,
    max_batch: usize,
    mut rx: mpsc::Receiver<Job>,
) {
    let publish = Arc::new(publish);
    // Batches in flight at once, each on its own connection. Sends to one room
    // still serialize on the room's row lock, so its numbers stay gap-free; the
    // room actor puts events of racing batches back in order.
    let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_BATCHES));
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
                Job::Flush(done) => flushes.push(done),
            }
            if requests.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !flushes.is_empty() {
            // Everything queued before the flush is in this batch or in flight:
            // wait for all of it, then answer.
            let slots = slots.clone();
            let (writer, publish) = (writer.clone(), publish.clone());
            if !requests.is_empty() {
                let permit = slots.clone().acquire_owned().await;
                commit_batch(writer.as_ref(), publish.as_ref(), requests, replies).await;
                drop(permit);
            }
            let all = slots.acquire_many(CONCURRENT_BATCHES as u32).await;
            drop(all);
            for done in flushes {
                let _ = done.send(());
            }
            continue;
        }
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (writer, publish) = (writer.clone(), publish.clone());
        tokio::spawn(async move {
            commit_batch(writer.as_ref(), publish.as_ref(), requests, replies).await;
            drop(permit);
        });
    }
}

/// Batches committing at the same time.
const CONCURRENT_BATCHES: usize = 4;

async fn commit_batch(
    writer: &dyn BatchWriter,
    publish: &(impl Fn(Vec<StoredEvent>) + ?Sized),
    requests: Vec<SendRequest>,
    replies: Vec<Reply>,
) {
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
        Err(e) => {
            tracing::warn!(error = %e, batch = requests.len(), "batch not committed");
            for reply in replies {
                let _ = reply.send(Err(SendError::Unavailable));
            }
        }
    }
}
