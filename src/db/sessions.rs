//! Login sessions and the tombstones of ended ones.

use andon_actors::session::{EndReason, SessionId, SessionInfo};
use chrono::{DateTime, Utc};

use super::GenericClient;

pub struct NewSession<'a> {
    pub id: SessionId,
    pub token_hash: &'a [u8; 32],
    pub user_id: &'a str,
    pub ad_username: &'a str,
    pub key_id: &'a str,
    pub password_enc: &'a [u8],
    pub ad_token_enc: &'a [u8],
    pub ad_expires_at: DateTime<Utc>,
    pub client_addr: Option<String>,
}

/// A session found by its token, with its user.
pub struct Authenticated {
    pub session_id: SessionId,
    pub user_id: String,
    pub display_name: String,
    /// Set when the stored row is past its end (idle too long, or struck out)
    /// but still there, e.g. because ending it failed: it must not be used.
    pub overdue: Option<EndReason>,
}

/// The stored credentials of a session, still sealed.
pub struct Credentials {
    pub ad_username: String,
    pub key_id: String,
    pub password_enc: Vec<u8>,
}

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

pub async fn insert(client: &impl GenericClient, s: &NewSession<'_>) -> Result<DateTime<Utc>> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO sessions (id, token_hash, user_id, ad_username, key_id, password_enc,
                                   ad_token_enc, ad_expires_at, last_activity_at,
                                   last_refreshed_at, client_addr)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now(), $9)
             RETURNING created_at",
        )
        .await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &s.id,
                &&s.token_hash[..],
                &s.user_id,
                &s.ad_username,
                &s.key_id,
                &s.password_enc,
                &s.ad_token_enc,
                &s.ad_expires_at,
                &s.client_addr,
            ],
        )
        .await?;
    Ok(row.get(0))
}

/// The session of a token. `idle_limit`: a session whose stored last activity is
/// older than this is `overdue` as expired; `max_strikes` rejected refreshes
/// make it overdue as forced.
pub async fn find_by_token(
    client: &impl GenericClient,
    hash: &[u8; 32],
    idle_limit: std::time::Duration,
    max_strikes: u32,
) -> Result<Option<Authenticated>> {
    let stmt = client
        .prepare_cached(
            "SELECT s.id, s.user_id, u.display_name,
                    CASE WHEN s.refresh_failures >= $3 THEN 'forced'
                         WHEN s.last_activity_at < now() - make_interval(secs => $2) THEN 'expired'
                    END
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1",
        )
        .await?;
    let idle_secs = idle_limit.as_secs_f64();
    let strikes = i32::try_from(max_strikes).unwrap_or(i32::MAX);
    Ok(client
        .query_opt(&stmt, &[&&hash[..], &idle_secs, &strikes])
        .await?
        .map(|row| Authenticated {
            session_id: row.get(0),
            user_id: row.get(1),
            display_name: row.get(2),
            overdue: match row.get::<_, Option<&str>>(3) {
                Some("forced") => Some(EndReason::Forced),
                Some(_) => Some(EndReason::Expired),
                None => None,
            },
        }))
}

/// Why the session of this token ended, if it did.
pub async fn ended_reason(client: &impl GenericClient, hash: &[u8; 32]) -> Result<Option<String>> {
    let stmt = client
        .prepare_cached("SELECT reason FROM ended_sessions WHERE token_hash = $1")
        .await?;
    Ok(client
        .query_opt(&stmt, &[&&hash[..]])
        .await?
        .map(|r| r.get(0)))
}

/// Deletes the session and leaves a tombstone with the reason; false if it was gone.
pub async fn end(client: &impl GenericClient, id: SessionId, reason: EndReason) -> Result<bool> {
    end_if_idle(client, id, reason, None).await
}

/// [`end`], only if the stored last activity is before `idle_since` (when
/// given); false if it was gone or active since.
pub async fn end_if_idle(
    client: &impl GenericClient,
    id: SessionId,
    reason: EndReason,
    idle_since: Option<DateTime<Utc>>,
) -> Result<bool> {
    let stmt = client
        .prepare_cached(
            "WITH gone AS (
                 DELETE FROM sessions
                 WHERE id = $1 AND ($3::timestamptz IS NULL OR last_activity_at < $3)
                 RETURNING token_hash)
             INSERT INTO ended_sessions (token_hash, reason)
             SELECT token_hash, $2 FROM gone
             ON CONFLICT (token_hash) DO UPDATE SET reason = EXCLUDED.reason, ended_at = now()",
        )
        .await?;
    Ok(client
        .execute(&stmt, &[&id, &reason.as_str(), &idle_since])
        .await?
        > 0)
}

/// Tombstones older than this are forgotten: such a token just gets `invalid_token`.
pub async fn prune_ended(client: &impl GenericClient, older_than_days: i32) -> Result<u64> {
    let stmt = client
        .prepare_cached(
            "DELETE FROM ended_sessions WHERE ended_at < now() - make_interval(days => $1)",
        )
        .await?;
    client.execute(&stmt, &[&older_than_days]).await
}

const SESSION_INFO: &str =
    "SELECT id, user_id, ad_expires_at, last_activity_at, last_refreshed_at, refresh_failures
     FROM sessions";

fn session_info(r: &tokio_postgres::Row) -> SessionInfo {
    SessionInfo {
        id: r.get(0),
        user_id: r.get(1),
        ad_expires_at: r.get(2),
        last_activity_at: r.get(3),
        last_refreshed_at: r.get(4),
        refresh_failures: r.get::<_, i32>(5).max(0) as u32,
    }
}

pub async fn load_all(client: &impl GenericClient) -> Result<Vec<SessionInfo>> {
    let stmt = client.prepare_cached(SESSION_INFO).await?;
    Ok(client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(session_info)
        .collect())
}

/// Claims the refresh of session `id` for `node` for `lease`: taken when free,
/// expired or already `node`'s (then renewed). `false` when another node holds
/// it, or when the session does not exist.
pub async fn claim_refresh(
    client: &impl GenericClient,
    id: SessionId,
    node: uuid::Uuid,
    lease: std::time::Duration,
) -> Result<bool> {
    let stmt = client
        .prepare_cached(
            "UPDATE sessions
             SET refresh_node = $2, refresh_lease_until = now() + make_interval(secs => $3)
             WHERE id = $1
               AND (refresh_node IS NULL OR refresh_node = $2 OR refresh_lease_until < now())",
        )
        .await?;
    let secs = lease.as_secs_f64();
    Ok(client.execute(&stmt, &[&id, &node, &secs]).await? == 1)
}

/// One live session, for a node that does not look after it yet.
pub async fn load(client: &impl GenericClient, id: SessionId) -> Result<Option<SessionInfo>> {
    let stmt = client
        .prepare_cached(&format!("{SESSION_INFO} WHERE id = $1"))
        .await?;
    Ok(client
        .query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(session_info))
}

pub async fn credentials(
    client: &impl GenericClient,
    id: SessionId,
) -> Result<Option<Credentials>> {
    let stmt = client
        .prepare_cached("SELECT ad_username, key_id, password_enc FROM sessions WHERE id = $1")
        .await?;
    Ok(client.query_opt(&stmt, &[&id]).await?.map(|r| Credentials {
        ad_username: r.get(0),
        key_id: r.get(1),
        password_enc: r.get(2),
    }))
}

/// Stores a successful refresh: new token and expiry, credentials re-sealed under
/// the current key, strikes reset.
pub async fn store_refresh(
    client: &impl GenericClient,
    id: SessionId,
    key_id: &str,
    password_enc: &[u8],
    ad_token_enc: &[u8],
    ad_expires_at: DateTime<Utc>,
) -> Result<bool> {
    let stmt = client
        .prepare_cached(
            "UPDATE sessions SET key_id = $2, password_enc = $3, ad_token_enc = $4,
                    ad_expires_at = $5, refresh_failures = 0, last_refreshed_at = now()
             WHERE id = $1",
        )
        .await?;
    Ok(client
        .execute(
            &stmt,
            &[&id, &key_id, &password_enc, &ad_token_enc, &ad_expires_at],
        )
        .await?
        > 0)
}

pub async fn record_failures(
    client: &impl GenericClient,
    id: SessionId,
    failures: u32,
) -> Result<()> {
    let stmt = client
        .prepare_cached("UPDATE sessions SET refresh_failures = $2 WHERE id = $1")
        .await?;
    client.execute(&stmt, &[&id, &(failures as i32)]).await?;
    Ok(())
}

/// Many sessions' last activity in one statement; never moves a time backwards.
pub async fn flush_activity(
    client: &impl GenericClient,
    batch: &[(SessionId, DateTime<Utc>)],
) -> Result<()> {
    let (ids, times): (Vec<SessionId>, Vec<DateTime<Utc>>) = batch.iter().copied().unzip();
    let stmt = client
        .prepare_cached(
            // Rows are locked in id order first: several nodes flush overlapping
            // batches (a user with sockets on each), and rows locked in each
            // batch's own order deadlocked (measured: 12 of 14 three-node runs).
            "WITH b AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS b(id, at)),
                  locked AS (SELECT s.id FROM sessions s WHERE s.id IN (SELECT id FROM b)
                             ORDER BY s.id FOR UPDATE)
             UPDATE sessions s SET last_activity_at = GREATEST(s.last_activity_at, b.at)
             FROM locked l JOIN b ON b.id = l.id
             WHERE s.id = l.id",
        )
        .await?;
    client.execute(&stmt, &[&ids, &times]).await?;
    Ok(())
}
