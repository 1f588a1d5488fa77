//! The database and AD side of the session supervisor ([`SessionBackend`]).

use std::sync::Arc;

use andon_actors::session::{
    BackendError, EndReason, Expiry, RefreshOutcome, SessionBackend, SessionId, SessionInfo,
};
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

use super::ad::{AdClient, AdError};
use super::crypto::Keyring;
use crate::db::sessions;

/// Ended-session tombstones are kept this long.
const TOMBSTONE_DAYS: i32 = 30;

pub struct DbSessionBackend {
    pub db: Pool,
    pub ad: AdClient,
    pub keyring: Arc<Keyring>,
    /// This node, for the refresh lease (several nodes on one database).
    pub node: uuid::Uuid,
    /// How long a claimed refresh stays this node's without a new attempt: longer
    /// than a retry interval plus an AD call, so one node counts a series of
    /// rejections.
    pub refresh_lease: std::time::Duration,
}

#[async_trait::async_trait]
impl SessionBackend for DbSessionBackend {
    async fn load_all(&self) -> Result<Vec<SessionInfo>, BackendError> {
        let client = self.db.get().await?;
        let pruned = sessions::prune_ended(&client, TOMBSTONE_DAYS).await?;
        if pruned > 0 {
            tracing::info!(pruned, "old ended-session records removed");
        }
        Ok(sessions::load_all(&client).await?)
    }

    async fn load(&self, id: SessionId) -> Result<Option<SessionInfo>, BackendError> {
        let client = self.db.get().await?;
        Ok(sessions::load(&client, id).await?)
    }

    async fn refresh(&self, id: SessionId) -> Result<RefreshOutcome, BackendError> {
        let client = self.db.get().await?;
        if !sessions::claim_refresh(&client, id, self.node, self.refresh_lease).await? {
            return Ok(match sessions::load(&client, id).await? {
                Some(stored) => RefreshOutcome::Elsewhere(stored),
                None => RefreshOutcome::Gone,
            });
        }
        let Some(creds) = sessions::credentials(&client, id).await? else {
            return Ok(RefreshOutcome::Gone);
        };
        let password = match self.keyring.open_str(
            &creds.key_id,
            &creds.password_enc,
            &super::aad(id, "password"),
        ) {
            Ok(p) => p,
            Err(e) => {
                // A removed key or a tampered row: the credentials are unusable,
                // which is as good as AD rejecting them.
                tracing::error!(session = %id, error = %e, "stored credentials cannot be decrypted");
                return Ok(RefreshOutcome::Rejected);
            }
        };
        // The pooled connection is not held while AD is asked.
        drop(client);
        let login = match self.ad.login(&creds.ad_username, &password).await {
            Ok(login) => login,
            Err(AdError::Rejected { .. }) => return Ok(RefreshOutcome::Rejected),
            Err(AdError::Unavailable(reason)) => {
                tracing::warn!(session = %id, %reason, "AD unavailable during refresh");
                return Ok(RefreshOutcome::Unavailable);
            }
        };
        let (key_id, password_enc) = self
            .keyring
            .seal_str(&password, &super::aad(id, "password"))?;
        let (_, token_enc) = self
            .keyring
            .seal_str(&login.access_token, &super::aad(id, "ad_token"))?;
        let client = self.db.get().await?;
        let stored = sessions::store_refresh(
            &client,
            id,
            &key_id,
            &password_enc,
            &token_enc,
            login.expires_at,
        )
        .await?;
        Ok(if stored {
            RefreshOutcome::Refreshed {
                ad_expires_at: login.expires_at,
            }
        } else {
            RefreshOutcome::Gone
        })
    }

    async fn record_failures(&self, id: SessionId, failures: u32) -> Result<(), BackendError> {
        let client = self.db.get().await?;
        Ok(sessions::record_failures(&client, id, failures).await?)
    }

    async fn end(&self, id: SessionId, reason: EndReason) -> Result<(), BackendError> {
        let client = self.db.get().await?;
        sessions::end(&client, id, reason).await?;
        Ok(())
    }

    async fn expire(
        &self,
        id: SessionId,
        idle_since: DateTime<Utc>,
    ) -> Result<Expiry, BackendError> {
        let client = self.db.get().await?;
        if sessions::end_if_idle(&client, id, EndReason::Expired, Some(idle_since)).await? {
            return Ok(Expiry::Expired);
        }
        Ok(match sessions::load(&client, id).await? {
            Some(stored) => Expiry::Active(stored),
            None => Expiry::Gone,
        })
    }

    async fn flush_activity(
        &self,
        batch: Vec<(SessionId, DateTime<Utc>)>,
    ) -> Result<(), BackendError> {
        let client = self.db.get().await?;
        Ok(sessions::flush_activity(&client, &batch).await?)
    }
}
