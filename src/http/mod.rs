//! The REST API: routes and the request-parsing configuration shared by every handler.

mod auth;
mod escalation;
pub(crate) mod files;
mod health;
mod members;
mod messages;
mod milestones;
mod notifications;
pub(crate) mod openapi;
mod pins;
pub(crate) mod reports;
mod rooms;
pub(crate) mod routing;
mod search;
pub mod security_headers;
pub mod spa;
mod stats;
pub(crate) mod templates;
mod users;
mod ws;

use actix_web::{HttpRequest, HttpResponse, error, web};

use crate::error::{ApiError, ErrorCode};

/// Largest JSON body any endpoint accepts (uploads use multipart, not JSON).
pub const JSON_LIMIT: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json_config())
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!("Invalid query string: {err}"),
            )
            .into()
        }))
        .app_data(web::PathConfig::default().error_handler(|err, _| {
            ApiError::new(ErrorCode::InvalidPath, format!("Invalid path: {err}")).into()
        }))
        .configure(health::configure)
        .configure(auth::configure)
        .configure(users::configure)
        .configure(rooms::configure)
        .configure(members::configure)
        .configure(milestones::configure)
        .configure(templates::configure)
        .configure(search::configure)
        .configure(messages::configure)
        .configure(pins::configure)
        .configure(files::configure)
        .configure(reports::configure)
        .configure(escalation::configure)
        .configure(routing::configure)
        .configure(notifications::configure)
        .configure(stats::configure)
        .configure(ws::configure)
        .configure(openapi::configure);
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .error_handler(|err, _| {
            let api = match &err {
                error::JsonPayloadError::OverflowKnownLength { .. }
                | error::JsonPayloadError::Overflow { .. } => ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("JSON body larger than {JSON_LIMIT} bytes"),
                ),
                error::JsonPayloadError::ContentType => ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "Expected Content-Type: application/json",
                ),
                other => ApiError::new(
                    ErrorCode::InvalidJson,
                    format!("Invalid JSON body: {other}"),
                ),
            };
            api.into()
        })
}

/// Answer for any path or method no route matches, in the common error shape.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    ApiError::new(
        ErrorCode::NotFound,
        format!("No route for {} {}", req.method(), req.path()),
    )
    .error_response()
}

/// Rewrites actix's empty 405 (a route exists for another method) into the common
/// error shape. Installed with `ErrorHandlers` in [`crate::startup`].
pub fn method_not_allowed<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::ResponseError;
    let (req, _) = res.into_parts();
    let body = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} is not allowed on {}", req.method(), req.path()),
    )
    .error_response();
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, body).map_into_right_body(),
    ))
}
