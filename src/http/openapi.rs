//! The OpenAPI 3 description of the REST API, generated from the handlers'
//! `#[utoipa::path]` annotations and the `ToSchema` types of their bodies, served at
//! `/api/openapi.json`, so that MES and machine integrations can generate clients
//! (and `scripts/api-fuzz` can hold the server to it). The WebSocket frames are
//! described in docs/PROTOCOL.md.
//!
//! The answers every handler shares because they come from the extractors (a bad
//! path, query or JSON body, a missing or dead token, the database unreachable) are
//! added to each operation by [`CommonErrors`] rather than repeated in every
//! annotation; handlers list only their own.

use std::borrow::Cow;

use actix_web::{HttpResponse, web};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::{
    auth, escalation, files, health, members, messages, milestones, notifications, pins, reports,
    rooms, routing, search, stats, templates, users, ws,
};
use crate::error::ErrorCode;

#[derive(OpenApi)]
#[openapi(
    info(title = "Andon", description = "Real-time incident rooms for production lines"),
    paths(
        auth::login,
        auth::logout,
        auth::me,
        users::search,
        rooms::create,
        rooms::list,
        rooms::get,
        rooms::update,
        rooms::join,
        rooms::leave,
        rooms::delete_permanently,
        rooms::list_events,
        milestones::acknowledge,
        milestones::contain,
        stats::figures,
        members::list,
        members::add,
        members::change_role,
        members::remove,
        members::transfer,
        templates::list,
        templates::create,
        templates::update,
        templates::delete,
        messages::history,
        messages::post,
        pins::list,
        pins::pin,
        pins::unpin,
        search::in_room,
        search::across_rooms,
        search::edits,
        files::upload,
        files::list,
        files::metadata,
        files::delete,
        files::content,
        files::thumbnail,
        reports::start,
        reports::list,
        reports::get,
        reports::content,
        escalation::list,
        escalation::get,
        escalation::put,
        routing::list,
        routing::create,
        routing::update,
        routing::delete,
        notifications::list,
        notifications::mark_read,
        notifications::get_settings,
        notifications::put_settings,
        ws::ticket,
        ws::upgrade,
        health::healthz,
        health::readyz,
        health::metrics,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &CommonErrors)
)]
pub struct ApiDoc;

/// The one error shape, `{"code", "message"}`, as a schema: `code` is one of the
/// codes of [`ErrorCode`], so the document cannot fall behind the table.
pub struct ErrorBody;

impl PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property(
                "code",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
                    .description(Some("Stable error code (docs/PROTOCOL.md)")),
            )
            .required("code")
            .property(
                "message",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("Human-readable text; may change")),
            )
            .required("message")
            .into()
    }
}

impl ToSchema for ErrorBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Error")
    }
}

/// `Role` lives in the actors crate, which does not depend on utoipa.
#[derive(ToSchema)]
#[schema(as = Role, rename_all = "snake_case")]
#[allow(dead_code)] // A schema only: roles are (de)serialized as `andon_actors` `Role`.
pub enum RoleSchema {
    Viewer,
    Editor,
    Owner,
}

/// A room event as stored and as sent (`andon_actors::realtime::StoredEvent`).
#[derive(ToSchema)]
#[schema(as = Event)]
#[allow(dead_code)] // A schema only.
pub struct EventSchema {
    room_id: uuid::Uuid,
    seq: i64,
    /// `message.created`, `member.added`, … (docs/PROTOCOL.md)
    kind: String,
    at: chrono::DateTime<chrono::Utc>,
    actor: String,
    /// The event's data; its shape depends on `kind`.
    #[schema(value_type = Object)]
    data: serde_json::Value,
}

/// A notification (`andon_actors::realtime::Notification`), as listed and as
/// sent in `notification` frames.
#[derive(ToSchema)]
#[schema(as = Notification)]
#[allow(dead_code)] // A schema only.
pub struct NotificationSchema {
    id: uuid::Uuid,
    kind: NotificationKindSchema,
    room_id: uuid::Uuid,
    /// The room's title now.
    room_title: String,
    /// The room event it is about.
    seq: Option<i64>,
    /// Who caused it; `null`: the system (a routing rule, an escalation ladder).
    actor: Option<String>,
    actor_name: Option<String>,
    /// Short English text; clients localise by `kind` from the other fields.
    text: String,
    created_at: chrono::DateTime<chrono::Utc>,
    read_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why someone got a notification (docs/PROTOCOL.md).
#[derive(ToSchema)]
#[schema(as = NotificationKind, rename_all = "snake_case")]
#[allow(dead_code)] // A schema only.
pub enum NotificationKindSchema {
    Routed,
    Escalated,
    Mentioned,
    Added,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Adds the answers of the shared extractors (src/http/mod.rs, src/auth) to every
/// operation they apply to.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                add_common_errors(op);
            }
        }
    }
}

fn add_common_errors(op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    let (path, query) = (has(ParameterIn::Path), has(ParameterIn::Query));
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());

    let mut bad_request = Vec::new();
    if path {
        bad_request.push(ErrorCode::InvalidPath);
    }
    if query {
        bad_request.push(ErrorCode::InvalidQuery);
    }
    if json_body {
        bad_request.push(ErrorCode::InvalidJson);
        add_error(op, &[ErrorCode::PayloadTooLarge]);
        add_error(op, &[ErrorCode::UnsupportedMediaType]);
    }
    if !bad_request.is_empty() {
        add_error(op, &bad_request);
    }
    if secured {
        add_error(
            op,
            &[
                ErrorCode::MissingToken,
                ErrorCode::InvalidToken,
                ErrorCode::SessionExpired,
                ErrorCode::SessionRevoked,
            ],
        );
        // Every authenticated request reads its session from the database.
        add_error(op, &[ErrorCode::Unavailable]);
    }
}

/// Documents `codes` (all of one status) on `op`, next to what the handler lists.
fn add_error(op: &mut Operation, codes: &[ErrorCode]) {
    let Some(first) = codes.first() else { return };
    let status = first.status().as_u16().to_string();
    let names = codes
        .iter()
        .map(|c| format!("`{}`", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    match op.responses.responses.get_mut(&status) {
        Some(RefOr::T(existing)) => {
            existing.description = format!("{}; {names}", existing.description);
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let mut response = Response::new(names);
            response.content.insert(
                "application/json".into(),
                Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    ErrorBody::name(),
                )))),
            );
            op.responses.responses.insert(status, RefOr::T(response));
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/openapi.json").get(document));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
