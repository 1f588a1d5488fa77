//! Room templates (PRODUCT.md R6): everyone may list them (to create rooms from
//! them); only system administrators create, change or delete them.

use actix_web::{HttpResponse, web};
use andon_actors::permissions::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::templates::{self, DefaultMember, Template, TemplateFields};
use crate::domain::rooms::{DESCRIPTION_MAX, IncidentType, Severity};
use crate::domain::{bounded_text, user_id};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::{ErrorBody, RoleSchema};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/templates").get(list).post(create))
        .service(
            web::resource("/api/templates/{id}")
                .patch(update)
                .delete(delete),
        );
}

const MAX_DEFAULT_MEMBERS: usize = 200;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberInput {
    user_id: String,
    /// `editor` or `viewer`: the creator owns the room.
    #[schema(value_type = RoleSchema)]
    role: String,
}

/// Create takes every required field; update takes any subset.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TemplateInput {
    name: Option<String>,
    #[schema(value_type = Option<IncidentType>)]
    incident_type: Option<String>,
    #[schema(value_type = Option<Severity>)]
    default_severity: Option<String>,
    default_description: Option<String>,
    default_members: Option<Vec<MemberInput>>,
}

fn invalid(e: String) -> ApiError {
    ApiError::validation(e)
}

/// Applies `input` over `base` (the existing template, or nothing for a new one).
fn fields(input: TemplateInput, base: Option<TemplateFields>) -> ApiResult<TemplateFields> {
    let missing = |f: &str| ApiError::validation(format!("{f} is required"));
    let name = match (input.name, &base) {
        (Some(n), _) => bounded_text("name", &n, 1, 100).map_err(invalid)?,
        (None, Some(b)) => b.name.clone(),
        (None, None) => return Err(missing("name")),
    };
    let incident_type = match (input.incident_type, &base) {
        (Some(t), _) => {
            IncidentType::parse(&t).map_err(|e| invalid(format!("incident_type: {e}")))?
        }
        (None, Some(b)) => b.incident_type,
        (None, None) => return Err(missing("incident_type")),
    };
    let default_severity = match (input.default_severity, &base) {
        (Some(s), _) => {
            Severity::parse(&s).map_err(|e| invalid(format!("default_severity: {e}")))?
        }
        (None, Some(b)) => b.default_severity,
        (None, None) => return Err(missing("default_severity")),
    };
    let default_description = match (input.default_description, &base) {
        (Some(d), _) => {
            bounded_text("default_description", &d, 0, DESCRIPTION_MAX).map_err(invalid)?
        }
        (None, Some(b)) => b.default_description.clone(),
        (None, None) => String::new(),
    };
    let default_members = match (input.default_members, base) {
        (Some(list), _) => members("default_members", list)?,
        (None, Some(b)) => b.default_members,
        (None, None) => Vec::new(),
    };
    Ok(TemplateFields {
        name,
        incident_type,
        default_severity,
        default_description,
        default_members,
    })
}

/// People with an `editor` or `viewer` role (the creator owns the room), each
/// once, at most [`MAX_DEFAULT_MEMBERS`]: templates' default members and
/// routing rules' people.
pub(crate) fn members(field: &str, list: Vec<MemberInput>) -> ApiResult<Vec<DefaultMember>> {
    if list.len() > MAX_DEFAULT_MEMBERS {
        return Err(invalid(format!(
            "{field}: at most {MAX_DEFAULT_MEMBERS} people"
        )));
    }
    let mut out: Vec<DefaultMember> = Vec::with_capacity(list.len());
    for m in list {
        let id = user_id(&m.user_id).map_err(|e| invalid(format!("{field}: {e}")))?;
        let role = match Role::parse(&m.role) {
            Some(r @ (Role::Editor | Role::Viewer)) => r,
            _ => {
                return Err(invalid(format!(
                    "{field}: role `{}` must be editor or viewer (the creator owns the room)",
                    m.role
                )));
            }
        };
        if out.iter().any(|o| o.user_id == id) {
            return Err(invalid(format!("{field}: {id} is listed twice")));
        }
        out.push(DefaultMember { user_id: id, role });
    }
    Ok(out)
}

fn name_taken(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        format!("A template named `{name}` already exists"),
    )
}

#[derive(Serialize, ToSchema)]
struct TemplateList {
    templates: Vec<Template>,
}

#[utoipa::path(get, path = "/api/templates", tag = "templates", responses(
    (status = 200, description = "Every template, by name", body = TemplateList),
), security(("bearer" = [])))]
async fn list(state: web::Data<AppState>, _user: AuthUser) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    Ok(HttpResponse::Ok().json(TemplateList {
        templates: templates::list(&client).await?,
    }))
}

#[utoipa::path(post, path = "/api/templates", tag = "templates", request_body(content = TemplateInput, description = "`name`, `incident_type` and `default_severity` are required"), responses(
    (status = 201, description = "The template", body = Template),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 409, description = "`conflict`: the name is taken", body = ErrorBody),
), security(("bearer" = [])))]
async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<TemplateInput>,
) -> ApiResult<HttpResponse> {
    user.require_admin("templates")?;
    let f = fields(body.into_inner(), None)?;
    let client = state.db_conn().await?;
    let created = templates::insert(&client, &f, &user.id)
        .await?
        .ok_or_else(|| name_taken(&f.name))?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(patch, path = "/api/templates/{id}", tag = "templates", params(("id" = Uuid, Path, description = "Template id")), request_body(content = TemplateInput, description = "Any subset of the fields"), responses(
    (status = 200, description = "The template", body = Template),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`conflict`: the name is taken", body = ErrorBody),
), security(("bearer" = [])))]
async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<TemplateInput>,
) -> ApiResult<HttpResponse> {
    user.require_admin("templates")?;
    let client = state.db_conn().await?;
    let existing = templates::get(&client, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("Template"))?;
    let base = TemplateFields {
        name: existing.name,
        incident_type: existing.incident_type,
        default_severity: existing.default_severity,
        default_description: existing.default_description,
        default_members: existing.default_members,
    };
    let f = fields(body.into_inner(), Some(base))?;
    match templates::update(&client, *id, &f).await {
        Ok(Some(t)) => Ok(HttpResponse::Ok().json(t)),
        Ok(None) => Err(ApiError::not_found("Template")),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
            Err(name_taken(&f.name))
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(delete, path = "/api/templates/{id}", tag = "templates", params(("id" = Uuid, Path, description = "Template id")), responses(
    (status = 204, description = "Deleted"),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require_admin("templates")?;
    let client = state.db_conn().await?;
    if !templates::delete(&client, *id).await? {
        return Err(ApiError::not_found("Template"));
    }
    Ok(HttpResponse::NoContent().finish())
}
