//! `/healthz`: the process answers. `/readyz`: the database and the file storage
//! answer too, so a load
//! balancer only sends traffic to nodes that can serve it.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorCode;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `web::resource` (not `cfg.route`) so another method gets 405, not 404.
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz))
        .service(web::resource("/metrics").get(metrics));
}

#[derive(Serialize, ToSchema)]
struct Alive {
    #[schema(example = "ok")]
    status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is alive", body = Alive)))]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Alive { status: "ok" })
}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(crate::metrics::render(&state))
}

#[derive(Serialize, ToSchema)]
struct Ready {
    #[schema(example = "ready")]
    status: &'static str,
    #[schema(example = "ok")]
    database: &'static str,
    #[schema(example = "ok")]
    storage: &'static str,
}

/// Which dependency failed: a stable code, never the driver's text (which can
/// name hosts, users and paths; it goes to the log).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Reason {
    /// No pooled connection could be had in time.
    DatabaseUnreachable,
    /// A connection was had but `SELECT 1` failed.
    DatabaseQueryFailed,
    StorageUnreachable,
}

impl Reason {
    fn message(self) -> &'static str {
        match self {
            Reason::DatabaseUnreachable => "The database is unreachable",
            Reason::DatabaseQueryFailed => "The database does not answer queries",
            Reason::StorageUnreachable => "The file storage is unreachable",
        }
    }
}

/// The common error shape (`code` is always `not_ready`) plus the reason code.
#[derive(Serialize, ToSchema)]
struct NotReady {
    #[schema(example = "not_ready")]
    code: &'static str,
    message: &'static str,
    reason: Reason,
}

fn not_ready(reason: Reason, cause: &dyn std::fmt::Display) -> HttpResponse {
    tracing::warn!(reason = ?reason, error = %cause, "not ready");
    HttpResponse::build(ErrorCode::NotReady.status())
        .insert_header(("Retry-After", "5"))
        .json(NotReady {
            code: ErrorCode::NotReady.as_str(),
            message: reason.message(),
            reason,
        })
}

#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "The database and the file storage answer", body = Ready),
    (status = 503, description = "`not_ready`: a dependency is down; `reason` says which", body = NotReady),
))]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let client = match state.db_conn().await {
        Ok(c) => c,
        Err(e) => return not_ready(Reason::DatabaseUnreachable, &e),
    };
    if let Err(e) = client.simple_query("SELECT 1").await {
        return not_ready(Reason::DatabaseQueryFailed, &e);
    }
    if let Err(e) = state.storage.check().await {
        return not_ready(Reason::StorageUnreachable, &e);
    }
    HttpResponse::Ok().json(Ready {
        status: "ready",
        database: "ok",
        storage: "ok",
    })
}
