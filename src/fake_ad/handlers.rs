//! HTTP handlers of the fake AD. Response bodies follow PRODUCT.md A1 to the letter:
//! `{"success": bool, "message": ..., "data": ..., "timestamp": ...}`.

use std::sync::atomic::Ordering;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, error, web};
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{Directory, UserSpec};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().error_handler(|err, _req| {
        let message = format!("Malformed request: {err}");
        error::InternalError::from_response(err, reply(StatusCode::BAD_REQUEST, &message)).into()
    }))
    .route("/api/auth/login", web::post().to(login))
    .route("/admin/users", web::post().to(add_user))
    .route(
        "/admin/users/{username}/password",
        web::put().to(change_password),
    )
    .route("/admin/users/{username}/disable", web::post().to(disable))
    .route("/admin/outage", web::put().to(outage))
    .route("/admin/token-ttl", web::put().to(token_ttl))
    .route("/admin/stats", web::get().to(stats));
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A body without `data`: failures and admin acknowledgements.
fn reply(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "success": status.is_success(),
        "message": message,
        "timestamp": now(),
    }))
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

async fn login(dir: web::Data<Directory>, body: web::Json<LoginRequest>) -> HttpResponse {
    dir.login_requests.fetch_add(1, Ordering::Relaxed);
    if dir.outage.load(Ordering::Relaxed) {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "Authentication service unavailable",
        );
    }
    let user = {
        let users = dir
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        users.get(&body.username.to_lowercase()).cloned()
    };
    let user = match user {
        Some(u) if u.spec.password == body.password => u,
        _ => return reply(StatusCode::UNAUTHORIZED, "Invalid username or password"),
    };
    if user.disabled {
        return reply(StatusCode::UNAUTHORIZED, "User account is disabled");
    }
    let ttl = dir.token_ttl_secs.load(Ordering::Relaxed);
    let issued = Utc::now();
    // A lifetime set to play a broken AD may have no representable end.
    let expires = chrono::Duration::try_seconds(ttl)
        .and_then(|d| issued.checked_add_signed(d))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    let email = user.spec.username.to_lowercase();
    HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Login successful",
        "data": {
            "access_token": format!("fake-ad-access-{}", uuid::Uuid::new_v4().simple()),
            "id_token": format!("fake-ad-id-{}", uuid::Uuid::new_v4().simple()),
            "expires_in": ttl,
            "token_type": "Bearer",
            "userInfo": {
                "id": user.id,
                "name": user.spec.name,
                "email": email,
                "jobTitle": user.spec.job_title,
                "officeLocation": user.spec.office_location,
                "businessPhones": [],
            },
            "issuedAt": issued.to_rfc3339_opts(SecondsFormat::Secs, true),
            "expiresAt": expires,
        },
        "timestamp": now(),
    }))
}

async fn add_user(dir: web::Data<Directory>, body: web::Json<UserSpec>) -> HttpResponse {
    if body.username.trim().is_empty() || body.password.is_empty() {
        return reply(
            StatusCode::BAD_REQUEST,
            "username and password are required",
        );
    }
    dir.upsert(body.into_inner());
    reply(StatusCode::CREATED, "User saved")
}

/// Applies `change` to the named user, or answers 404.
fn with_user(
    dir: &Directory,
    username: &str,
    change: impl FnOnce(&mut super::User),
) -> HttpResponse {
    let mut users = dir
        .users
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match users.get_mut(&username.to_lowercase()) {
        Some(user) => {
            change(user);
            reply(StatusCode::OK, "User updated")
        }
        None => reply(StatusCode::NOT_FOUND, "No such user"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    password: String,
}

async fn change_password(
    dir: web::Data<Directory>,
    username: web::Path<String>,
    body: web::Json<PasswordChange>,
) -> HttpResponse {
    let password = body.into_inner().password;
    with_user(&dir, &username, |u| u.spec.password = password)
}

async fn disable(dir: web::Data<Directory>, username: web::Path<String>) -> HttpResponse {
    with_user(&dir, &username, |u| u.disabled = true)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Outage {
    on: bool,
}

async fn outage(dir: web::Data<Directory>, body: web::Json<Outage>) -> HttpResponse {
    dir.outage.store(body.on, Ordering::Relaxed);
    tracing::info!(on = body.on, "fake AD outage switched");
    reply(
        StatusCode::OK,
        if body.on { "Outage on" } else { "Outage off" },
    )
}

/// Any lifetime but zero: negative and huge ones let tests play a broken AD.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenTtl {
    seconds: i64,
}

async fn token_ttl(dir: web::Data<Directory>, body: web::Json<TokenTtl>) -> HttpResponse {
    if body.seconds == 0 {
        return reply(StatusCode::BAD_REQUEST, "seconds must not be 0");
    }
    dir.token_ttl_secs.store(body.seconds, Ordering::Relaxed);
    reply(StatusCode::OK, "Token lifetime updated")
}

async fn stats(dir: web::Data<Directory>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "login_requests": dir.login_requests.load(Ordering::Relaxed),
        "outage": dir.outage.load(Ordering::Relaxed),
        "token_ttl_secs": dir.token_ttl_secs.load(Ordering::Relaxed),
    }))
}
