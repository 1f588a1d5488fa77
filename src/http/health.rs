//! `/healthz`: the process answers. `/readyz`: the database and the file storage
//! answer too, so a load
//! balancer only sends traffic to nodes that can serve it.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `web::resource` (not `cfg.route`) so another method gets 405, not 404.
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz))
        .service(web::resource("/metrics").get(metrics));
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = "default", description = "The process is alive")))]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = "default", description = "Prometheus text format")))]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(crate::metrics::render(&state))
}

#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = "default", description = "Database and storage reachable (503 otherwise)")))]
async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let not_ready = |reason: String| {
        tracing::warn!(%reason, "not ready");
        ApiError::new(ErrorCode::NotReady, reason).with_retry_after(5)
    };
    let client = state
        .db_conn()
        .await
        .map_err(|e| not_ready(format!("database unreachable: {e}")))?;
    client
        .simple_query("SELECT 1")
        .await
        .map_err(|e| not_ready(format!("database query failed: {e}")))?;
    state
        .storage
        .check()
        .await
        .map_err(|e| not_ready(format!("storage unreachable: {e}")))?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": "ok", "storage": "ok"})))
}
