//! One error shape for every REST error: `{"code": "...", "message": "..."}`.
//!
//! Each [`ErrorCode`] names its HTTP status and the code a WebSocket `error` frame
//! carries ([`WsCode`]) in one table, `error_codes!` below. Internal errors are
//! opaque to clients: the client sees `internal`, the log gets the whole cause chain.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use andon_actors::realtime::{SendError, WsCode};
use serde::Serialize;

macro_rules! error_codes {
    ($($variant:ident => ($status:ident, $code:literal, $ws:ident),)*) => {
        /// Stable, documented error codes (see docs/PROTOCOL.md).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The code of the same error over the WebSocket, which has fewer codes.
            pub fn ws(self) -> WsCode {
                match self { $(ErrorCode::$variant => WsCode::$ws,)* }
            }
        }
    };
}

error_codes! {
    // variant => (HTTP status, REST code, WebSocket code)
    BadRequest => (BAD_REQUEST, "bad_request", BadRequest),
    InvalidJson => (BAD_REQUEST, "invalid_json", BadRequest),
    InvalidQuery => (BAD_REQUEST, "invalid_query", BadRequest),
    InvalidPath => (BAD_REQUEST, "invalid_path", BadRequest),
    ValidationFailed => (BAD_REQUEST, "validation_failed", BadRequest),
    MissingToken => (UNAUTHORIZED, "missing_token", Unauthorized),
    InvalidToken => (UNAUTHORIZED, "invalid_token", Unauthorized),
    SessionExpired => (UNAUTHORIZED, "session_expired", Unauthorized),
    SessionRevoked => (UNAUTHORIZED, "session_revoked", Unauthorized),
    InvalidCredentials => (UNAUTHORIZED, "invalid_credentials", Unauthorized),
    InvalidTicket => (UNAUTHORIZED, "invalid_ticket", Unauthorized),
    Forbidden => (FORBIDDEN, "forbidden", Forbidden),
    NotFound => (NOT_FOUND, "not_found", NotFound),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed", BadRequest),
    Conflict => (CONFLICT, "conflict", BadRequest),
    AlreadyMember => (CONFLICT, "already_member", BadRequest),
    RoomArchived => (CONFLICT, "room_archived", Forbidden),
    InvalidTransition => (CONFLICT, "invalid_transition", BadRequest),
    OwnerMustTransfer => (CONFLICT, "owner_must_transfer", BadRequest),
    EditWindowPassed => (CONFLICT, "edit_window_passed", EditWindowPassed),
    MessageDeleted => (CONFLICT, "message_deleted", MessageDeleted),
    PinLimitReached => (CONFLICT, "pin_limit_reached", PinLimitReached),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large", TooLarge),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", BadRequest),
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited", RateLimited),
    TooManySockets => (TOO_MANY_REQUESTS, "too_many_sockets", BadRequest),
    Internal => (INTERNAL_SERVER_ERROR, "internal", Internal),
    AdUnavailable => (SERVICE_UNAVAILABLE, "ad_unavailable", Unavailable),
    Unavailable => (SERVICE_UNAVAILABLE, "unavailable", Unavailable),
    NotReady => (SERVICE_UNAVAILABLE, "not_ready", Unavailable),
}

/// An error answered to a REST client.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'static str,
    message: &'a str,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Logs the cause chain and returns the opaque 500.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let err = err.into();
        tracing::error!(error = format!("{err:#}"), "internal error");
        Self::new(ErrorCode::Internal, "Internal server error")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn validation(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after {
            response.insert_header(("Retry-After", secs.to_string()));
        }
        response.json(Body {
            code: self.code.as_str(),
            message: &self.message,
        })
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        // No connection could be had in time: the database is down or saturated.
        // Tell the client to retry rather than calling it an internal bug.
        tracing::warn!(error = %err, "database pool unavailable");
        Self::new(
            ErrorCode::Unavailable,
            "Database unavailable, retry shortly",
        )
        .with_retry_after(5)
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(err: tokio_postgres::Error) -> Self {
        if err.is_closed() {
            tracing::warn!(error = %err, "database connection lost");
            return Self::new(
                ErrorCode::Unavailable,
                "Database unavailable, retry shortly",
            )
            .with_retry_after(5);
        }
        // A text the database cannot store (NUL) that no check at the edge caught:
        // the client's input, not a server fault. Nothing was written.
        if let Some(code) = err.code()
            && matches!(code.code(), "22021" | "22P05")
        {
            tracing::info!(error = %err, "input refused by the database");
            return Self::new(
                ErrorCode::BadRequest,
                "The input contains a character that cannot be stored (NUL)",
            );
        }
        // Cancelled by `statement_timeout` (ANDON_DATABASE_STATEMENT_TIMEOUT_SECS).
        if err.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) {
            tracing::warn!(error = %err, "statement cancelled by the statement timeout");
            return Self::new(
                ErrorCode::Unavailable,
                "The database took too long to answer, retry shortly",
            )
            .with_retry_after(5);
        }
        Self::internal(err)
    }
}

impl From<SendError> for ApiError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Forbidden(m) => ApiError::forbidden(m),
            SendError::NotFound => ApiError::not_found("Room"),
            SendError::Unavailable | SendError::ShuttingDown => {
                ApiError::new(ErrorCode::Unavailable, e.to_string()).with_retry_after(1)
            }
            SendError::Rejected => ApiError::validation(e.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use andon_actors::realtime::CloseCode;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
        }
    }

    #[actix_web::test]
    async fn response_has_code_message_and_retry_after() {
        let err = ApiError::new(ErrorCode::RateLimited, "Too many attempts").with_retry_after(7);
        let resp = err.error_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers().get("Retry-After").unwrap(), "7");
        let body = actix_web::body::to_bytes(resp.into_body()).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "rate_limited");
        assert_eq!(json["message"], "Too many attempts");
    }

    #[test]
    fn every_error_code_has_the_websocket_code_of_its_kind() {
        for code in ErrorCode::ALL {
            let ws = code.ws();
            if let Some(same) = WsCode::ALL.iter().find(|w| w.as_str() == code.as_str()) {
                assert_eq!(ws, *same, "{code:?}");
            }
            match code.status() {
                StatusCode::UNAUTHORIZED => assert_eq!(ws, WsCode::Unauthorized, "{code:?}"),
                StatusCode::SERVICE_UNAVAILABLE => assert_eq!(ws, WsCode::Unavailable, "{code:?}"),
                StatusCode::BAD_REQUEST => assert_eq!(ws, WsCode::BadRequest, "{code:?}"),
                _ => {}
            }
        }
        assert_eq!(ErrorCode::PayloadTooLarge.ws(), WsCode::TooLarge);
        assert_eq!(ErrorCode::RoomArchived.ws(), WsCode::Forbidden);
    }

    #[test]
    fn send_errors_map_once() {
        let forbidden = ApiError::from(SendError::Forbidden("Viewers cannot send".into()));
        assert_eq!(
            (forbidden.code, forbidden.message.as_ref()),
            (ErrorCode::Forbidden, "Viewers cannot send")
        );
        let missing = ApiError::from(SendError::NotFound);
        assert_eq!(
            (missing.code, missing.message.as_ref()),
            (ErrorCode::NotFound, "Room not found")
        );
        for e in [SendError::Unavailable, SendError::ShuttingDown] {
            let e = ApiError::from(e);
            assert_eq!((e.code, e.retry_after), (ErrorCode::Unavailable, Some(1)));
        }
        let rejected = ApiError::from(SendError::Rejected);
        assert_eq!(rejected.code, ErrorCode::ValidationFailed);
        assert_eq!(rejected.code.ws(), WsCode::BadRequest);
    }

    /// The rows of the first `| code | …` table after `heading` in
    /// docs/PROTOCOL.md, as cells without their backticks.
    fn documented<'a>(doc: &'a str, heading: &str) -> Vec<Vec<&'a str>> {
        let start = doc
            .find(heading)
            .unwrap_or_else(|| panic!("{heading} in docs/PROTOCOL.md"));
        doc[start..]
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("| code |"))
            .take_while(|l| l.starts_with('|'))
            // The rows, without the header and its separator.
            .filter(|l| !l.starts_with("| code |") && !l.starts_with("|--"))
            .map(|l| {
                l.trim_matches('|')
                    .split(" | ")
                    .map(|cell| cell.trim().trim_matches('`'))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_protocol_document_has_the_table_of_codes() {
        let doc = include_str!("../docs/PROTOCOL.md");
        let mut rest: Vec<String> = documented(doc, "## REST errors")
            .iter()
            .map(|row| row[..3].join(" "))
            .collect();
        rest.sort_unstable();
        let mut table: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| format!("{} {} {}", c.as_str(), c.status().as_u16(), c.ws()))
            .collect();
        table.sort_unstable();
        assert_eq!(rest, table, "docs/PROTOCOL.md REST errors vs error_codes!");

        let mut ws: Vec<&str> = documented(doc, "### Server → client")
            .iter()
            .map(|row| row[0])
            .collect();
        ws.sort_unstable();
        let mut ws_codes: Vec<&str> = WsCode::ALL.iter().map(|c| c.as_str()).collect();
        ws_codes.sort_unstable();
        assert_eq!(ws, ws_codes, "docs/PROTOCOL.md error frame codes vs WsCode");

        let close: Vec<&str> = documented(doc, "### Close codes")
            .iter()
            .map(|row| row[0])
            .collect();
        let codes: Vec<String> = CloseCode::ALL
            .iter()
            .map(|c| c.as_u16().to_string())
            .collect();
        assert_eq!(close, codes, "docs/PROTOCOL.md close codes vs CloseCode");
    }

    #[test]
    fn internal_errors_are_opaque() {
        let err = ApiError::internal(anyhow::anyhow!("password=hunter2 leaked in cause"));
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(!err.message.contains("hunter2"));
    }
}
