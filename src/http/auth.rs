//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me` (PRODUCT.md A2, A7).

use actix_web::{HttpRequest, HttpResponse, web};
use andon_actors::session::messages::{Forget, Track};
use andon_actors::session::{EndReason, SessionInfo};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::auth::ad::AdError;
use crate::auth::rate_limit::{account_key, log_tag};
use crate::auth::{AuthUser, aad, token};
use crate::db::{sessions, users};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/auth/login").post(login))
        .service(web::resource("/api/auth/logout").post(logout))
        .service(web::resource("/api/auth/me").get(me));
}

const MAX_USERNAME: usize = 256;
const MAX_PASSWORD: usize = 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    password: SecretString,
}

/// The user as the API shows them.
#[derive(Serialize)]
pub struct UserView {
    pub id: String,
    pub display_name: String,
    pub office_location: Option<String>,
    pub job_title: Option<String>,
    pub is_admin: bool,
}

impl UserView {
    pub fn new(user: users::User, is_admin: bool) -> Self {
        Self {
            id: user.id,
            display_name: user.display_name,
            office_location: user.office_location,
            job_title: user.job_title,
            is_admin,
        }
    }
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
    display_name: String,
    user: UserView,
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", responses((status = "default", description = "{username, password} → {token, display_name, user}; 401 invalid_credentials, 429 rate_limited, 503 ad_unavailable")))]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { username, password } = body.into_inner();
    let username = username.trim().to_string();
    let password_len = secrecy::ExposeSecret::expose_secret(&password).len();
    if username.is_empty() || username.len() > MAX_USERNAME {
        return Err(ApiError::validation(format!(
            "username must be 1 to {MAX_USERNAME} characters"
        )));
    }
    if password_len == 0 || password_len > MAX_PASSWORD {
        return Err(ApiError::validation(format!(
            "password must be 1 to {MAX_PASSWORD} characters"
        )));
    }

    let addr = req.peer_addr().map(|a| a.ip());
    let attempt = match state.login_limiter.begin(&username, addr) {
        Ok(attempt) => attempt,
        Err(wait) => {
            // What was typed as a username may be a password: logged as a tag.
            let account = log_tag(&account_key(&username));
            tracing::warn!(%account, "login rate limited");
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "Too many failed sign-in attempts; wait before trying again",
            )
            .with_retry_after(wait.as_secs().max(1)));
        }
    };
    let account = log_tag(attempt.account());

    let ad_login = match state.ad.login(&username, &password).await {
        Ok(l) => {
            attempt.succeeded();
            l
        }
        Err(AdError::Rejected { .. }) => {
            attempt.failed();
            tracing::info!(%account, "login rejected by AD");
            return Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "Invalid credentials",
            ));
        }
        // Not the account's fault: the attempt costs nothing (dropped).
        Err(AdError::Unavailable(reason)) => {
            tracing::warn!(%account, %reason, "AD unavailable at login");
            return Err(ApiError::new(
                ErrorCode::AdUnavailable,
                "The sign-in service is unavailable; try again shortly",
            )
            .with_retry_after(10));
        }
    };

    let session_id = uuid::Uuid::new_v4();
    let (token, token_hash) = token::generate().map_err(ApiError::internal)?;
    let keyring = &state.keyring;
    let (key_id, password_enc) = keyring
        .seal_str(&password, &aad(session_id, "password"))
        .map_err(ApiError::internal)?;
    let (_, ad_token_enc) = keyring
        .seal_str(&ad_login.access_token, &aad(session_id, "ad_token"))
        .map_err(ApiError::internal)?;

    let mut client = state.db_conn().await?;
    let tx = client.transaction().await?;
    let user = users::upsert_login(&tx, &ad_login.user).await?;
    sessions::insert(
        &tx,
        &sessions::NewSession {
            id: session_id,
            token_hash: &token_hash,
            user_id: &user.id,
            ad_username: &username,
            key_id: &key_id,
            password_enc: &password_enc,
            ad_token_enc: &ad_token_enc,
            ad_expires_at: ad_login.expires_at,
            client_addr: addr.map(|a| a.to_string()),
        },
    )
    .await?;
    tx.commit().await?;

    let now = chrono::Utc::now();
    state.supervisor.do_send(Track {
        session: SessionInfo {
            id: session_id,
            user_id: user.id.clone(),
            ad_expires_at: ad_login.expires_at,
            last_activity_at: now,
            last_refreshed_at: now,
            refresh_failures: 0,
        },
    });
    tracing::info!(user = %user.id, session = %session_id, "logged in");
    let is_admin = state.config.is_admin(&user.id);
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        display_name: user.display_name.clone(),
        user: UserView::new(user, is_admin),
    }))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = "default", description = "Ends the session and closes its sockets (204)")), security(("bearer" = [])))]
async fn logout(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    sessions::end(&client, user.session_id, EndReason::Logout).await?;
    state.supervisor.do_send(Forget {
        id: user.session_id,
        reason: EndReason::Logout,
    });
    tracing::info!(user = %user.id, session = %user.session_id, "logged out");
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = "default", description = "The current user with is_admin")), security(("bearer" = [])))]
async fn me(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    let found = users::get(&client, &user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("User"))?;
    Ok(HttpResponse::Ok().json(UserView::new(found, user.is_admin)))
}
