//! The event log room actors read (`andon_actors::realtime::EventLog`): a room's
//! head, and ranges of its events to repair gaps.

use andon_actors::realtime::{EventLog, StoredEvent};
use andon_actors::session::BackendError;
use deadpool_postgres::Pool;
use uuid::Uuid;

use super::events;

pub struct PgEventLog {
    pub db: Pool,
}

/// Gap repairs read at most this many events at once.
const RANGE_PAGE: i64 = 10_000;

#[async_trait::async_trait]
impl EventLog for PgEventLog {
    async fn head(&self, room: Uuid) -> Result<Option<i64>, BackendError> {
        let client = self.db.get().await?;
        let stmt = client
            .prepare_cached("SELECT head_seq FROM rooms WHERE id = $1")
            .await?;
        Ok(client.query_opt(&stmt, &[&room]).await?.map(|r| r.get(0)))
    }

    async fn heads(&self, rooms: &[Uuid]) -> Result<Vec<(Uuid, i64)>, BackendError> {
        let client = self.db.get().await?;
        let stmt = client
            .prepare_cached("SELECT id, head_seq FROM rooms WHERE id = ANY($1)")
            .await?;
        let rows = client.query(&stmt, &[&rooms]).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn range(
        &self,
        room: Uuid,
        after: i64,
        upto: i64,
    ) -> Result<Vec<StoredEvent>, BackendError> {
        let client = self.db.get().await?;
        let limit = (upto - after).clamp(0, RANGE_PAGE);
        Ok(events::list(&client, room, after, limit).await?)
    }
}
