//! Incident reports (issue 18): start one, list them, a report's status and
//! sections (the preview), and its .docx.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::reports::{self, Report, ReportDetail};
use crate::error::{ApiError, ApiResult};
use crate::http::files::serve_attachment;
use crate::http::openapi::ErrorBody;
use crate::reports::model::Language;
use crate::reports::{DOCX_MIME, Request};
use crate::rooms::RoomAccess;
use crate::state::AppState;

/// Reports listed at most (newest first).
const LIST_MAX: i64 = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/rooms/{id}/reports")
            .get(list)
            .post(start),
    )
    .service(web::resource("/api/rooms/{id}/reports/{report_id}").get(get))
    .service(web::resource("/api/rooms/{id}/reports/{report_id}/content").get(content));
}

/// The language is taken as text so that a wrong one gets `validation_failed`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartReport {
    /// `zh-TW` or `en`: the language of the headings and of the text.
    language: String,
    /// Have the configured model write the Summary and Resolution process
    /// (400 when the server has none; see `ai_available` in the list).
    #[serde(default)]
    ai: bool,
}

#[utoipa::path(post, path = "/api/rooms/{id}/reports", tag = "reports", params(("id" = Uuid, Path, description = "Room id")), request_body = StartReport, responses(
    (status = 202, description = "Queued; progress comes as `report_progress` frames to the requester's sockets in the room", body = Report),
    (status = 200, description = "A report of the same language and kind is still running: that one", body = Report),
    (status = 400, description = "`validation_failed`: unknown language, or `ai` without a model", body = ErrorBody),
    (status = 403, description = "`forbidden`: viewers and non-members", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 503, description = "`unavailable`: too many reports queued", body = ErrorBody),
), security(("bearer" = [])))]
async fn start(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<StartReport>,
) -> ApiResult<HttpResponse> {
    let language = Language::parse(&body.language).ok_or_else(|| {
        ApiError::validation(format!(
            "language: `{}` is not one of: zh-TW, en",
            body.language
        ))
    })?;
    let (report, new) = state
        .reports
        .start(
            &user,
            *id,
            Request {
                language,
                ai: body.ai,
            },
        )
        .await?;
    Ok(if new {
        HttpResponse::Accepted().json(report)
    } else {
        HttpResponse::Ok().json(report)
    })
}

#[derive(Serialize, ToSchema)]
struct ReportList {
    /// Newest first (at most 100).
    reports: Vec<Report>,
    /// Whether `ai: true` may be asked for (a model is configured).
    ai_available: bool,
}

#[utoipa::path(get, path = "/api/rooms/{id}/reports", tag = "reports", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 200, description = "The room's reports", body = ReportList),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, *id, &user).await?;
    Ok(HttpResponse::Ok().json(ReportList {
        reports: reports::list(&client, access.room.id, LIST_MAX).await?,
        ai_available: state.reports.ai_available(),
    }))
}

async fn readable_report(
    state: &AppState,
    user: &AuthUser,
    room: Uuid,
    report: Uuid,
) -> ApiResult<ReportDetail> {
    let client = state.db_conn().await?;
    RoomAccess::readable(&client, room, user).await?;
    reports::get(&client, room, report)
        .await?
        .ok_or_else(|| ApiError::not_found("Report"))
}

#[utoipa::path(get, path = "/api/rooms/{id}/reports/{report_id}", tag = "reports", params(("id" = Uuid, Path, description = "Room id"), ("report_id" = Uuid, Path, description = "Report id")), responses(
    (status = 200, description = "The report's status, and its sections once completed", body = ReportDetail),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (room, report) = path.into_inner();
    Ok(HttpResponse::Ok().json(readable_report(&state, &user, room, report).await?))
}

#[utoipa::path(get, path = "/api/rooms/{id}/reports/{report_id}/content", tag = "reports", params(("id" = Uuid, Path, description = "Room id"), ("report_id" = Uuid, Path, description = "Report id")), responses(
    (status = 200, description = "The .docx, as an attachment named after the room (local storage, or S3 without a public endpoint)", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (status = 302, description = "S3 storage with a public endpoint: to a URL presigned for one hour"),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`: no such report, or not completed", body = ErrorBody),
    (status = 503, description = "`unavailable`: the file storage is unreachable", body = ErrorBody),
), security(("bearer" = [])))]
async fn content(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (room, report) = path.into_inner();
    let r = readable_report(&state, &user, room, report).await?.report;
    let (Some(key), Some(name)) = (r.storage_key, r.file_name) else {
        return Err(ApiError::not_found("Report document (not completed)"));
    };
    serve_attachment(&state, &req, &key, DOCX_MIME, &name).await
}
