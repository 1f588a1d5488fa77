//! The caller's notification inbox and settings (issue 19). Everyone reaches
//! only their own: there is no user in these paths.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::notifications;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::{ErrorBody, NotificationSchema};
use crate::notifications::{QuietHours, QuietHoursText, Ring, Settings};
use crate::state::AppState;

/// Ids one `POST /api/notifications/read` may name, at most.
const MAX_IDS: usize = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/notifications").get(list))
        .service(web::resource("/api/notifications/read").post(mark_read))
        .service(
            web::resource("/api/me/settings")
                .get(get_settings)
                .put(put_settings),
        );
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only unread notifications.
    unread: Option<bool>,
    /// Only notifications created before this time (RFC 3339): the next page
    /// after one whose oldest entry was created then.
    before: Option<DateTime<Utc>>,
    /// 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct Inbox {
    /// Newest first.
    #[schema(value_type = Vec<NotificationSchema>)]
    notifications: Vec<andon_actors::realtime::Notification>,
    /// The caller's unread notifications, all of them.
    unread: i64,
}

#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(ListQuery), responses(
    (status = 200, description = "The caller's notifications, newest first", body = Inbox),
), security(("bearer" = [])))]
async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "limit must be 1 to 100",
        ));
    }
    let client = state.db_conn().await?;
    let found = notifications::list(
        &client,
        &user.id,
        q.unread.unwrap_or(false),
        q.before,
        limit,
    )
    .await?;
    let unread = notifications::unread_count(&client, &user.id).await?;
    Ok(HttpResponse::Ok().json(Inbox {
        notifications: found,
        unread,
    }))
}

/// Either `ids` or `all: true`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MarkRead {
    /// The caller's notifications to mark read (others' are ignored), at most 500.
    ids: Option<Vec<Uuid>>,
    /// Marks every notification of the caller's read.
    all: Option<bool>,
}

#[derive(Serialize, ToSchema)]
struct Unread {
    /// The caller's unread notifications now.
    unread: i64,
}

#[utoipa::path(post, path = "/api/notifications/read", tag = "notifications", request_body = MarkRead, responses(
    (status = 200, description = "Marked read", body = Unread),
    (status = 400, description = "`validation_failed`: neither or both of `ids` and `all`, or too many ids", body = ErrorBody),
), security(("bearer" = [])))]
async fn mark_read(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<MarkRead>,
) -> ApiResult<HttpResponse> {
    let ids = match (&body.ids, body.all) {
        (Some(ids), None) if ids.len() <= MAX_IDS => Some(ids.as_slice()),
        (Some(_), None) => {
            return Err(ApiError::validation(format!("ids: at most {MAX_IDS}")));
        }
        (None, Some(true)) => None,
        _ => {
            return Err(ApiError::validation("give either `ids` or `\"all\": true`"));
        }
    };
    let client = state.db_conn().await?;
    notifications::mark_read(&client, &user.id, ids).await?;
    let unread = notifications::unread_count(&client, &user.id).await?;
    Ok(HttpResponse::Ok().json(Unread { unread }))
}

#[utoipa::path(get, path = "/api/me/settings", tag = "notifications", responses(
    (status = 200, description = "The caller's settings, or the defaults: every kind rings, no quiet hours", body = Settings),
), security(("bearer" = [])))]
async fn get_settings(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    let settings = notifications::settings(&client, &user.id).await?;
    Ok(HttpResponse::Ok().json(settings))
}

/// New settings, replacing the old.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PutSettings {
    /// The kinds that ring; a kind left out rings.
    ring: Ring,
    /// `null`: no quiet hours. Read in the server's time zone (`ANDON_TIMEZONE`).
    quiet_hours: Option<QuietHoursText>,
}

#[utoipa::path(put, path = "/api/me/settings", tag = "notifications", request_body = PutSettings, responses(
    (status = 200, description = "The caller's settings now", body = Settings),
    (status = 400, description = "`validation_failed`: quiet hours that are not two different times HH:MM", body = ErrorBody),
), security(("bearer" = [])))]
async fn put_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<PutSettings>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let quiet_hours = body
        .quiet_hours
        .map(QuietHours::try_from)
        .transpose()
        .map_err(ApiError::validation)?;
    let settings = Settings {
        ring: body.ring,
        quiet_hours,
    };
    let client = state.db_conn().await?;
    notifications::put_settings(&client, &user.id, &settings).await?;
    Ok(HttpResponse::Ok().json(settings))
}
