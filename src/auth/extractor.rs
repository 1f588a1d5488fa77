//! `AuthUser`: the extractor every protected handler takes. It reads
//! `Authorization: Bearer <token>`, finds the session by the token's hash and
//! answers 401 with a code saying why not: `missing_token`, `invalid_token`,
//! `session_expired` or `session_revoked`. Activity goes to the session supervisor
//! as a message; the database is not written per request.

use std::time::Duration;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use andon_actors::session::messages::{Forget, Touch};
use andon_actors::session::{MAX_STRIKES, SessionId};
use futures_util::future::LocalBoxFuture;

use crate::db::sessions;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub session_id: SessionId,
    /// The user's e-mail, lower-case.
    pub id: String,
    pub display_name: String,
    pub is_admin: bool,
}

impl AuthUser {
    /// Allows system administrators only; others get 403 saying who manages
    /// `what` (e.g. "templates").
    pub fn require_admin(&self, what: &str) -> ApiResult<()> {
        if self.is_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "Only system administrators manage {what}"
            )))
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
            let token = token.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MissingToken,
                    "Sign in first: no `Authorization: Bearer` token was sent",
                )
            })?;
            authenticate(&state, &token).await
        })
    }
}

/// Last activity reaches the database in batches (every 15 s), and the supervisor
/// expires idle sessions itself; the lookup's own check, a backstop for a session
/// whose ending failed, allows for that lag.
const ACTIVITY_LAG: Duration = Duration::from_secs(60);

/// Resolves a token to its user, or the 401 that says why not.
pub async fn authenticate(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
    // Tokens are 43 characters; anything much longer is not worth hashing.
    if token.len() > 256 {
        return Err(ApiError::new(ErrorCode::InvalidToken, "Unknown token"));
    }
    let hash = crate::auth::token::hash(token);
    let client = state.db_conn().await?;
    let idle_limit = state.config.inactivity + ACTIVITY_LAG;
    if let Some(found) = sessions::find_by_token(&client, &hash, idle_limit, MAX_STRIKES).await? {
        // Fail closed: a row that outlived its end is refused, and ended again
        // (sockets closed, row deleted) by the supervisor.
        if let Some(reason) = found.overdue {
            tracing::warn!(session = %found.session_id, reason = reason.as_str(), "a session past its end was still stored; ending it");
            state.supervisor.do_send(Forget {
                id: found.session_id,
                reason,
            });
            return Err(ended(Some(reason.as_str())));
        }
        state.supervisor.do_send(Touch {
            id: found.session_id,
            at: chrono::Utc::now(),
        });
        return Ok(AuthUser {
            session_id: found.session_id,
            is_admin: state.config.is_admin(&found.user_id),
            id: found.user_id,
            display_name: found.display_name,
        });
    }
    Err(ended(
        sessions::ended_reason(&client, &hash).await?.as_deref(),
    ))
}

/// The 401 for a token whose session ended for `reason` (`None`: never existed).
fn ended(reason: Option<&str>) -> ApiError {
    match reason {
        Some("expired") => ApiError::new(
            ErrorCode::SessionExpired,
            "Session expired after inactivity; sign in again",
        ),
        Some("forced") => ApiError::new(
            ErrorCode::SessionRevoked,
            "Session revoked: AD no longer accepts your credentials; sign in again",
        ),
        Some(_) => ApiError::new(ErrorCode::SessionRevoked, "Session ended; sign in again"),
        None => ApiError::new(ErrorCode::InvalidToken, "Unknown token"),
    }
}
