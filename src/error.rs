//! One error shape for every REST error: `{"code": "...", "message": "..."}`.
//!
//! Each [`ErrorCode`] maps to exactly one HTTP status in [`ErrorCode::status`]; that
//! match is the table. Internal errors are opaque to clients: the client sees
//! `internal`, the log gets the whole cause chain.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

macro_rules! error_codes {
    ($($variant:ident => ($status:ident, $code:literal),)*) => {
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
        }
    };
}

error_codes! {
    BadRequest => (BAD_REQUEST, "bad_request"),
    InvalidJson => (BAD_REQUEST, "invalid_json"),
    InvalidQuery => (BAD_REQUEST, "invalid_query"),
    InvalidPath => (BAD_REQUEST, "invalid_path"),
    ValidationFailed => (BAD_REQUEST, "validation_failed"),
    MissingToken => (UNAUTHORIZED, "missing_token"),
    InvalidToken => (UNAUTHORIZED, "invalid_token"),
    SessionExpired => (UNAUTHORIZED, "session_expired"),
    SessionRevoked => (UNAUTHORIZED, "session_revoked"),
    InvalidCredentials => (UNAUTHORIZED, "invalid_credentials"),
    InvalidTicket => (UNAUTHORIZED, "invalid_ticket"),
    Forbidden => (FORBIDDEN, "forbidden"),
    NotFound => (NOT_FOUND, "not_found"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed"),
    Conflict => (CONFLICT, "conflict"),
    AlreadyMember => (CONFLICT, "already_member"),
    RoomArchived => (CONFLICT, "room_archived"),
    InvalidTransition => (CONFLICT, "invalid_transition"),
    OwnerMustTransfer => (CONFLICT, "owner_must_transfer"),
    EditWindowPassed => (CONFLICT, "edit_window_passed"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large"),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited"),
    TooManySockets => (TOO_MANY_REQUESTS, "too_many_sockets"),
    Internal => (INTERNAL_SERVER_ERROR, "internal"),
    AdUnavailable => (SERVICE_UNAVAILABLE, "ad_unavailable"),
    Unavailable => (SERVICE_UNAVAILABLE, "unavailable"),
    NotReady => (SERVICE_UNAVAILABLE, "not_ready"),
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

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
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
    fn internal_errors_are_opaque() {
        let err = ApiError::internal(anyhow::anyhow!("password=hunter2 leaked in cause"));
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(!err.message.contains("hunter2"));
    }
}
