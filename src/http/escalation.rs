//! Escalation ladders per severity (issue 19), managed by system administrators.

use actix_web::{HttpResponse, web};
use andon_actors::escalation::Reload;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::db::escalation::{self, LevelSpec, Policy};
use crate::domain::rooms::Severity;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::ErrorBody;
use crate::state::AppState;

/// Levels in one ladder, at most.
pub const LEVELS_MAX: usize = 10;
/// People notified by one level, at most.
pub const NOTIFY_MAX: usize = 50;
/// The latest a level may come: a week after detection.
pub const AFTER_MAX_SECS: u64 = 7 * 24 * 3600;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/escalation-policies").get(list))
        .service(
            web::resource("/api/escalation-policies/{severity}")
                .get(get)
                .put(put),
        );
}

/// The severity in the path; another is 404, naming the four there are.
fn severity(raw: &str) -> ApiResult<Severity> {
    Severity::parse(raw).map_err(|e| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("No escalation ladder for that severity: {e}"),
        )
    })
}

#[derive(Serialize, ToSchema)]
struct PolicyList {
    /// One per severity, `low` to `critical`; no levels: no ladder.
    policies: Vec<Policy>,
}

#[utoipa::path(get, path = "/api/escalation-policies", tag = "escalation", responses(
    (status = 200, description = "Every severity's ladder", body = PolicyList),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
), security(("bearer" = [])))]
async fn list(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.require_admin("escalation ladders")?;
    let client = state.db_conn().await?;
    let mut policies = Vec::new();
    for s in [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ] {
        policies.push(escalation::get(&client, s).await?);
    }
    Ok(HttpResponse::Ok().json(PolicyList { policies }))
}

#[utoipa::path(get, path = "/api/escalation-policies/{severity}", tag = "escalation", params(("severity" = String, Path, description = "low, medium, high or critical")), responses(
    (status = 200, description = "The severity's ladder", body = Policy),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 404, description = "`not_found`: no such severity", body = ErrorBody),
), security(("bearer" = [])))]
async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    user.require_admin("escalation ladders")?;
    let severity = severity(&path)?;
    let client = state.db_conn().await?;
    Ok(HttpResponse::Ok().json(escalation::get(&client, severity).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PutPolicy {
    /// In order; each `after_secs` later than the one before. Empty: no ladder.
    levels: Vec<LevelInput>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LevelInput {
    #[schema(minimum = 1, maximum = 604800)]
    after_secs: u64,
    /// E-mails, 1 to 50.
    notify: Vec<String>,
}

/// The levels, validated: increasing times within a week, valid distinct
/// e-mails (lower-cased).
fn levels(input: Vec<LevelInput>) -> ApiResult<Vec<LevelSpec>> {
    if input.len() > LEVELS_MAX {
        return Err(ApiError::validation(format!(
            "levels: at most {LEVELS_MAX}"
        )));
    }
    let mut out: Vec<LevelSpec> = Vec::with_capacity(input.len());
    for (i, l) in input.into_iter().enumerate() {
        let n = i + 1;
        if l.after_secs == 0 || l.after_secs > AFTER_MAX_SECS {
            return Err(ApiError::validation(format!(
                "levels[{n}].after_secs: between 1 and {AFTER_MAX_SECS}"
            )));
        }
        if let Some(prev) = out.last()
            && l.after_secs <= prev.after_secs
        {
            return Err(ApiError::validation(format!(
                "levels[{n}].after_secs: must be later than level {i}'s ({} s)",
                prev.after_secs
            )));
        }
        if l.notify.is_empty() || l.notify.len() > NOTIFY_MAX {
            return Err(ApiError::validation(format!(
                "levels[{n}].notify: 1 to {NOTIFY_MAX} people"
            )));
        }
        let mut notify: Vec<String> = Vec::with_capacity(l.notify.len());
        for raw in &l.notify {
            let id = crate::domain::user_id(raw)
                .map_err(|e| ApiError::validation(format!("levels[{n}].notify: {e}")))?;
            if !notify.contains(&id) {
                notify.push(id);
            }
        }
        out.push(LevelSpec {
            after_secs: l.after_secs,
            notify,
        });
    }
    Ok(out)
}

#[utoipa::path(put, path = "/api/escalation-policies/{severity}", tag = "escalation", params(("severity" = String, Path, description = "low, medium, high or critical")), request_body = PutPolicy, responses(
    (status = 200, description = "The ladder now; open rooms follow it from now on", body = Policy),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 404, description = "`not_found`: no such severity", body = ErrorBody),
), security(("bearer" = [])))]
async fn put(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: web::Json<PutPolicy>,
) -> ApiResult<HttpResponse> {
    user.require_admin("escalation ladders")?;
    let severity = severity(&path)?;
    let levels = levels(body.into_inner().levels)?;
    let client = state.db_conn().await?;
    let policy = escalation::put(&client, severity, &levels, &user.id).await?;
    tracing::info!(severity = severity.as_str(), levels = levels.len(), by = %user.id, "escalation ladder set");
    // This node's actor now; the others at their next resync.
    state.escalation.do_send(Reload);
    Ok(HttpResponse::Ok().json(policy))
}
