//! Routing rules (issue 19): who is pulled into a room by its type, severity,
//! location and line. System administrators manage them.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::routing::{self, RoutingRule, RuleFields};
use crate::domain::bounded_text;
use crate::domain::rooms::{IncidentType, Severity};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::ErrorBody;
use crate::http::templates::{MemberInput, members};
use crate::state::AppState;

/// Longest location or line a rule matches (as rooms' own limit).
const MATCH_MAX: usize = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/routing-rules").get(list).post(create))
        .service(
            web::resource("/api/routing-rules/{id}")
                .patch(update)
                .delete(delete),
        );
}

/// Every field of a rule (create and update replace the whole rule). Match
/// fields left out or `null` match anything.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RuleInput {
    name: String,
    #[schema(value_type = Option<IncidentType>)]
    incident_type: Option<String>,
    #[schema(value_type = Option<Severity>)]
    severity: Option<String>,
    location: Option<String>,
    line: Option<String>,
    /// 1 to 200 people with `editor` or `viewer`.
    members: Vec<MemberInput>,
}

fn fields(input: RuleInput) -> ApiResult<RuleFields> {
    let invalid = |e: String| ApiError::validation(e);
    let text = |name: &str, v: Option<String>| {
        v.map(|v| bounded_text(name, &v, 0, MATCH_MAX))
            .transpose()
            .map(|v| v.filter(|v| !v.is_empty()))
            .map_err(invalid)
    };
    let members = members("members", input.members)?;
    if members.is_empty() {
        return Err(ApiError::validation(
            "members: a rule adds at least one person",
        ));
    }
    Ok(RuleFields {
        name: bounded_text("name", &input.name, 1, 100).map_err(invalid)?,
        incident_type: input
            .incident_type
            .map(|t| IncidentType::parse(&t))
            .transpose()
            .map_err(|e| invalid(format!("incident_type: {e}")))?,
        severity: input
            .severity
            .map(|s| Severity::parse(&s))
            .transpose()
            .map_err(|e| invalid(format!("severity: {e}")))?,
        location: text("location", input.location)?,
        line: text("line", input.line)?,
        members,
    })
}

fn name_taken(e: tokio_postgres::Error, name: &str) -> ApiError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        ApiError::new(
            ErrorCode::Conflict,
            format!("A routing rule named `{name}` already exists"),
        )
    } else {
        e.into()
    }
}

#[derive(Serialize, ToSchema)]
struct RuleList {
    rules: Vec<RoutingRule>,
}

#[utoipa::path(get, path = "/api/routing-rules", tag = "routing", responses(
    (status = 200, description = "Every rule, by name", body = RuleList),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
), security(("bearer" = [])))]
async fn list(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    user.require_admin("routing rules")?;
    let client = state.db_conn().await?;
    Ok(HttpResponse::Ok().json(RuleList {
        rules: routing::list(&client).await?,
    }))
}

#[utoipa::path(post, path = "/api/routing-rules", tag = "routing", request_body = RuleInput, responses(
    (status = 201, description = "The rule; it applies to rooms created or re-graded from now on", body = RoutingRule),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 409, description = "`conflict`: the name is taken", body = ErrorBody),
), security(("bearer" = [])))]
async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<RuleInput>,
) -> ApiResult<HttpResponse> {
    user.require_admin("routing rules")?;
    let f = fields(body.into_inner())?;
    let client = state.db_conn().await?;
    let rule = routing::insert(&client, Uuid::new_v4(), &f, &user.id)
        .await
        .map_err(|e| name_taken(e, &f.name))?;
    Ok(HttpResponse::Created().json(rule))
}

#[utoipa::path(patch, path = "/api/routing-rules/{id}", tag = "routing", params(("id" = Uuid, Path, description = "Rule id")), request_body = RuleInput, responses(
    (status = 200, description = "The rule", body = RoutingRule),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`conflict`: the name is taken", body = ErrorBody),
), security(("bearer" = [])))]
async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<RuleInput>,
) -> ApiResult<HttpResponse> {
    user.require_admin("routing rules")?;
    let f = fields(body.into_inner())?;
    let client = state.db_conn().await?;
    let rule = routing::update(&client, *id, &f)
        .await
        .map_err(|e| name_taken(e, &f.name))?
        .ok_or_else(|| ApiError::not_found("Routing rule"))?;
    Ok(HttpResponse::Ok().json(rule))
}

#[utoipa::path(delete, path = "/api/routing-rules/{id}", tag = "routing", params(("id" = Uuid, Path, description = "Rule id")), responses(
    (status = 204, description = "Deleted; members it added stay"),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require_admin("routing rules")?;
    let client = state.db_conn().await?;
    if !routing::delete(&client, *id).await? {
        return Err(ApiError::not_found("Routing rule"));
    }
    Ok(HttpResponse::NoContent().finish())
}
