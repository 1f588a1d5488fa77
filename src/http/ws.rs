//! `POST /api/ws-ticket` and `GET /api/ws?ticket=` (PRODUCT.md M1): browsers cannot
//! set headers on a WebSocket, so a REST call with the bearer token buys a
//! single-use ticket valid for 30 seconds, and the upgrade spends it.

use actix::{Actor, AsyncContext};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{AuthUser, token};
use crate::db::tickets;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::ErrorBody;
use crate::realtime::SocketActor;
use crate::realtime::protocol::FRAME_MAX;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/ws-ticket").post(ticket))
        .service(web::resource("/api/ws").get(upgrade));
}

const TICKET_SECS: i64 = 30;

#[derive(Serialize, ToSchema)]
struct Ticket {
    /// Single use, for `GET /api/ws?ticket=`.
    ticket: String,
    /// Seconds.
    expires_in: i64,
}

#[utoipa::path(post, path = "/api/ws-ticket", tag = "realtime", responses(
    (status = 200, description = "A WebSocket ticket", body = Ticket),
), security(("bearer" = [])))]
async fn ticket(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let limits = &state.realtime.session_limits;
    if let Err(wait) = limits.check_ticket(user.session_id) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many WebSocket tickets for this session; retry later",
        )
        .with_retry_after(wait.as_secs().max(1)));
    }
    // Checked again, atomically, at the upgrade: here it tells the client why
    // before it tries.
    if limits.open_sockets(user.session_id) >= limits.max_sockets() {
        return Err(too_many_sockets(limits.max_sockets()));
    }
    let (ticket, hash) = token::generate().map_err(ApiError::internal)?;
    let client = state.db_conn().await?;
    tickets::insert(&client, &hash, user.session_id, TICKET_SECS).await?;
    Ok(HttpResponse::Ok().json(Ticket {
        ticket,
        expires_in: TICKET_SECS,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Upgrade {
    /// From `POST /api/ws-ticket`.
    ticket: Option<String>,
}

fn too_many_sockets(max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::TooManySockets,
        format!("This session has {max} WebSockets open already: close one first"),
    )
}

fn invalid_ticket() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidTicket,
        "Missing, unknown, expired or already used ticket: get a new one from POST /api/ws-ticket",
    )
}

#[utoipa::path(get, path = "/api/ws", tag = "realtime", params(Upgrade), responses(
    (status = 101, description = "Switched to the WebSocket protocol; frames: docs/PROTOCOL.md"),
    (status = 400, description = "`bad_request`: not a WebSocket upgrade", body = ErrorBody),
    (status = 401, description = "`invalid_ticket`", body = ErrorBody),
    (status = 503, description = "`unavailable`", body = ErrorBody),
))]
async fn upgrade(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<Upgrade>,
) -> ApiResult<HttpResponse> {
    let ticket = query
        .ticket
        .as_deref()
        .filter(|t| t.len() <= 256)
        .ok_or_else(invalid_ticket)?;
    let hash = token::hash(ticket);
    let client = state.db_conn().await?;
    let spent = tickets::spend(&client, &hash).await?;
    drop(client);
    let spent = spent.ok_or_else(invalid_ticket)?;
    let user = AuthUser {
        session_id: spent.session_id,
        is_admin: state.config.is_admin(&spent.user_id),
        id: spent.user_id,
        display_name: spent.display_name,
    };
    let slot = state
        .realtime
        .session_limits
        .claim_socket(user.session_id)
        .ok_or_else(|| too_many_sockets(state.realtime.session_limits.max_sockets()))?;
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?;
    let stream = stream.max_frame_size(FRAME_MAX);
    let deps = state.socket_deps.clone();
    SocketActor::create(move |ctx| {
        ctx.add_stream(stream);
        SocketActor::new(deps, user, session, slot)
    });
    Ok(response)
}
