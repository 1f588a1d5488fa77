//! The OpenAPI 3 description of the REST API, generated from the handlers'
//! `#[utoipa::path]` annotations and served at `/api/openapi.json`, so that MES and
//! machine integrations can generate clients. The WebSocket frames are described in
//! docs/PROTOCOL.md.

use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, files, health, members, messages, rooms, templates, users, ws};

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
        files::upload,
        files::list,
        files::metadata,
        files::delete,
        files::content,
        files::thumbnail,
        ws::ticket,
        ws::upgrade,
        health::healthz,
        health::readyz,
        health::metrics,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

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

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/openapi.json").get(document));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
