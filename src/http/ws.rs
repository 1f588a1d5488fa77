//! `POST /api/ws-ticket` and `GET /api/ws?ticket=` (PRODUCT.md M1): browsers cannot
//! set headers on a WebSocket, so a REST call with the bearer token buys a
//! single-use ticket valid for 30 seconds, and the upgrade spends it.

use actix::{Actor, AsyncContext};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{AuthUser, token};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::realtime::SocketActor;
use crate::realtime::protocol::FRAME_MAX;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/ws-ticket").post(ticket))
        .service(web::resource("/api/ws").get(upgrade));
}

const TICKET_SECS: i64 = 30;

#[utoipa::path(post, path = "/api/ws-ticket", tag = "realtime", responses((status = "default", description = "{ticket, expires_in}: single use, 30 s")), security(("bearer" = [])))]
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
    // A ticket lives for seconds: its commit does not wait for the WAL flush
    // (`set_config(…, true)` lasts until this statement's own commit). A ticket lost
    // in a crash only costs the client a retry.
    let stmt = client
        .prepare_cached(
            "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
                  expired AS (DELETE FROM ws_tickets WHERE expires_at < now() - interval '1 minute')
             INSERT INTO ws_tickets (ticket_hash, session_id, expires_at)
             SELECT $1, $2, now() + make_interval(secs => $3) FROM async_commit",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[&&hash[..], &user.session_id, &(TICKET_SECS as f64)],
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "ticket": ticket, "expires_in": TICKET_SECS })))
}

#[derive(Deserialize)]
struct Upgrade {
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

#[utoipa::path(get, path = "/api/ws", tag = "realtime", params(("ticket" = String, Query)), responses((status = "default", description = "WebSocket upgrade (101); 401 invalid_ticket. Frames: docs/PROTOCOL.md")))]
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
    // Deleting is what makes a ticket single-use, even under concurrent upgrades;
    // like the insert, the delete does not wait for the WAL flush.
    let stmt = client
        .prepare_cached(
            "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
                  spent AS (DELETE FROM ws_tickets WHERE ticket_hash = $1
                            RETURNING session_id, expires_at)
             SELECT s.id, s.user_id, u.display_name FROM spent
             JOIN sessions s ON s.id = spent.session_id JOIN users u ON u.id = s.user_id
             CROSS JOIN async_commit
             WHERE spent.expires_at > now()",
        )
        .await?;
    let row = client.query_opt(&stmt, &[&&hash[..]]).await?;
    drop(client);
    let row = row.ok_or_else(invalid_ticket)?;
    let user_id: String = row.get(1);
    let user = AuthUser {
        session_id: row.get(0),
        is_admin: state.config.is_admin(&user_id),
        id: user_id,
        display_name: row.get(2),
    };
    let slot = state
        .realtime
        .session_limits
        .claim_socket(user.session_id)
        .ok_or_else(|| too_many_sockets(state.realtime.session_limits.max_sockets()))?;
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?;
    let stream = stream.max_frame_size(FRAME_MAX);
    let app = state.clone();
    SocketActor::create(move |ctx| {
        ctx.add_stream(stream);
        SocketActor::new(app, user, session, slot)
    });
    Ok(response)
}
