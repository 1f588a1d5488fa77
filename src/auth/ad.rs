//! Client of the AD authentication API (PRODUCT.md A1).
//!
//! `401` and any other 4xx mean the credentials were rejected; 5xx, timeouts and
//! connection errors mean AD is unavailable. The difference matters: only a
//! rejection counts as a strike against a session (A6).

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::auth::rate_limit::{account_key, log_tag};

/// The user as AD describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdUser {
    /// Lower-cased e-mail: Andon's user id.
    pub email: String,
    pub name: String,
    pub office_location: Option<String>,
    pub job_title: Option<String>,
}

/// A successful login.
pub struct AdLogin {
    pub access_token: SecretString,
    pub expires_at: DateTime<Utc>,
    pub user: AdUser,
}

#[derive(Debug, thiserror::Error)]
pub enum AdError {
    #[error("AD rejected the credentials ({status})")]
    Rejected { status: u16 },
    #[error("AD unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct AdClient {
    http: reqwest::Client,
    login_url: String,
}

#[derive(Deserialize)]
struct Envelope {
    success: bool,
    data: Option<LoginData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginData {
    #[serde(rename = "access_token")]
    access_token: String,
    #[serde(rename = "expires_in")]
    expires_in: Option<i64>,
    expires_at: Option<DateTime<Utc>>,
    user_info: UserInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserInfo {
    name: Option<String>,
    email: Option<String>,
    job_title: Option<String>,
    office_location: Option<String>,
}

/// Assumed token lifetime when AD gives none (A1).
const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// Longest token lifetime believed. A longer one would postpone for as long the
/// refresh that notices a changed password or a disabled account.
const MAX_LIFETIME_SECS: i64 = 30 * 24 * 3600;

/// When the token expires. `expires_in` counts from our own clock, so it wins
/// over `expiresAt`, which is AD's clock. A lifetime under one second would
/// make the session refresh in a loop, and a huge one overflows date arithmetic:
/// both are AD errors, answered like an AD that does not answer.
fn expiry(
    now: DateTime<Utc>,
    expires_in: Option<i64>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<DateTime<Utc>, AdError> {
    let lifetime = match (expires_in, expires_at) {
        (Some(secs), _) => secs,
        (None, Some(at)) => at.signed_duration_since(now).num_seconds(),
        (None, None) => DEFAULT_LIFETIME_SECS,
    };
    if !(1..=MAX_LIFETIME_SECS).contains(&lifetime) {
        return Err(AdError::Unavailable(format!(
            "AD gave a token lifetime of {lifetime} s, outside 1 s to {MAX_LIFETIME_SECS} s"
        )));
    }
    Ok(now + chrono::Duration::seconds(lifetime))
}

impl AdClient {
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            login_url: format!("{}/api/auth/login", base_url.trim_end_matches('/')),
        })
    }

    /// The span names the account by a tag only: a rejected username may be a
    /// password typed into the wrong field.
    #[tracing::instrument(skip_all, fields(account = %log_tag(&account_key(username))))]
    pub async fn login(&self, username: &str, password: &SecretString) -> Result<AdLogin, AdError> {
        let started = std::time::Instant::now();
        let result = self.call(username, password).await;
        metrics::histogram!("andon_ad_request_seconds").record(started.elapsed().as_secs_f64());
        if let Err(e) = &result {
            let reason = match e {
                AdError::Rejected { .. } => "rejected",
                AdError::Unavailable(_) => "unavailable",
            };
            metrics::counter!("andon_ad_failures_total", "reason" => reason).increment(1);
        }
        result
    }

    async fn call(&self, username: &str, password: &SecretString) -> Result<AdLogin, AdError> {
        let started = std::time::Instant::now();
        let response = self
            .http
            .post(&self.login_url)
            .json(&serde_json::json!({
                "username": username,
                "password": password.expose_secret(),
            }))
            .send()
            .await
            .map_err(|e| AdError::Unavailable(describe(&e)))?;
        let status = response.status();
        tracing::debug!(
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "AD answered"
        );
        if status.is_server_error() {
            return Err(AdError::Unavailable(format!("AD answered {status}")));
        }
        if status.is_client_error() {
            return Err(AdError::Rejected {
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(AdError::Unavailable(format!("unexpected status {status}")));
        }
        let body: Envelope = response
            .json()
            .await
            .map_err(|e| AdError::Unavailable(format!("unreadable AD answer: {}", describe(&e))))?;
        let data = match (body.success, body.data) {
            (true, Some(data)) => data,
            _ => return Err(AdError::Rejected { status: 200 }),
        };
        let expires_at = expiry(Utc::now(), data.expires_in, data.expires_at)?;
        let email = data
            .user_info
            .email
            .filter(|e| e.contains('@'))
            .or_else(|| username.contains('@').then(|| username.to_string()))
            .ok_or_else(|| AdError::Unavailable("AD returned no e-mail for the user".into()))?
            .trim()
            .to_lowercase();
        Ok(AdLogin {
            access_token: SecretString::from(data.access_token),
            expires_at,
            user: AdUser {
                name: data
                    .user_info
                    .name
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| email.clone()),
                email,
                office_location: data.user_info.office_location,
                job_title: data.user_info.job_title,
            },
        })
    }
}

/// Error text without the request body (which would hold the password).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_decode() {
        "malformed body".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetimes_out_of_range_are_ad_errors_not_panics() {
        let now = Utc::now();
        let secs = chrono::Duration::seconds;
        assert_eq!(expiry(now, Some(4999), None).unwrap(), now + secs(4999));
        assert_eq!(
            expiry(now, Some(60), Some(now - secs(600))).unwrap(),
            now + secs(60),
            "the relative lifetime wins over AD's clock"
        );
        assert_eq!(
            expiry(now, None, Some(now + secs(90))).unwrap(),
            now + secs(90)
        );
        assert_eq!(expiry(now, None, None).unwrap(), now + secs(3600));
        for bad in [i64::MAX, i64::MIN, -1, 0, MAX_LIFETIME_SECS + 1] {
            assert!(
                matches!(expiry(now, Some(bad), None), Err(AdError::Unavailable(_))),
                "{bad}"
            );
        }
        let far = DateTime::<Utc>::MAX_UTC;
        assert!(expiry(now, None, Some(far)).is_err());
        assert!(expiry(now, None, Some(now - secs(1))).is_err());
    }
}
