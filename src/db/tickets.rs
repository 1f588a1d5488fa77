//! WebSocket tickets (`POST /api/ws-ticket`, `GET /api/ws?ticket=`). A ticket lives
//! for seconds: both statements skip the wait for the WAL flush
//! (`set_config(…, true)` lasts until the statement's own commit). A ticket lost in
//! a crash only costs the client a retry.

use uuid::Uuid;

use super::GenericClient;

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// Stores a ticket's hash for `secs` seconds; expired tickets go on the way.
pub async fn insert(
    client: &impl GenericClient,
    hash: &[u8],
    session_id: Uuid,
    secs: i64,
) -> Result<()> {
    let stmt = client
        .prepare_cached(
            "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
                  expired AS (DELETE FROM ws_tickets WHERE expires_at < now() - interval '1 minute')
             INSERT INTO ws_tickets (ticket_hash, session_id, expires_at)
             SELECT $1, $2, now() + make_interval(secs => $3) FROM async_commit",
        )
        .await?;
    client
        .execute(&stmt, &[&hash, &session_id, &(secs as f64)])
        .await?;
    Ok(())
}

/// Whose a ticket was, if it is still valid.
pub struct Spent {
    pub session_id: Uuid,
    pub user_id: String,
    pub display_name: String,
}

/// Spends a ticket. Deleting is what makes a ticket single-use, even under
/// concurrent upgrades.
pub async fn spend(client: &impl GenericClient, hash: &[u8]) -> Result<Option<Spent>> {
    let stmt = client
        .prepare_cached(
            "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
                  spent AS (DELETE FROM ws_tickets WHERE ticket_hash = $1
                            RETURNING session_id, expires_at)
             SELECT s.id, s.user_id, u.display_name FROM spent
             JOIN sessions s ON s.id = spent.session_id JOIN users u ON u.id = s.user_id
             CROSS JOIN async_commit
             WHERE spent.expires_at > now()",
        )
        .await?;
    Ok(client.query_opt(&stmt, &[&hash]).await?.map(|row| Spent {
        session_id: row.get(0),
        user_id: row.get(1),
        display_name: row.get(2),
    }))
}
