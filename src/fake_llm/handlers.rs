//! HTTP handlers of the fake model server. Bodies follow OpenAI's chat completions
//! API: answers `{"id", "object": "chat.completion", "created", "model",
//! "choices": [{"index", "message": {"role", "content"}, "finish_reason"}],
//! "usage"}`, errors `{"error": {"message", "type", "param", "code"}}`.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, error, web};
use serde::Deserialize;
use serde_json::json;

use super::{DEFAULT_SLOW_DELAY, LastRequest, Mode, Stand};
use crate::reports::digest::estimate_tokens;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().error_handler(|err, _req| {
        let message = format!("Malformed request: {err}");
        error::InternalError::from_response(err, openai_error(StatusCode::BAD_REQUEST, &message))
            .into()
    }))
    .route("/v1/chat/completions", web::post().to(completions))
    .route("/admin/mode", web::post().to(switch_mode))
    .route("/admin/stats", web::get().to(stats));
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn openai_error(status: StatusCode, message: &str) -> HttpResponse {
    let kind = if status == StatusCode::BAD_REQUEST {
        "invalid_request_error"
    } else {
        "server_error"
    };
    HttpResponse::build(status).json(json!({
        "error": { "message": message, "type": kind, "param": null, "code": null },
    }))
}

#[derive(Deserialize)]
struct ChatRequest {
    model: String,
    messages: Vec<ChatMessage>,
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    /// Text only: the fake does not take OpenAI's arrays of content parts.
    content: String,
}

const ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool"];

fn parse_request(body: &[u8]) -> Result<ChatRequest, String> {
    let request: ChatRequest = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not a valid chat completion request: {e}"))?;
    if request.model.trim().is_empty() {
        return Err("You must provide a model parameter.".to_string());
    }
    if request.messages.is_empty() {
        return Err("'messages' must contain at least one message.".to_string());
    }
    if let Some(m) = request
        .messages
        .iter()
        .find(|m| !ROLES.contains(&m.role.as_str()))
    {
        return Err(format!(
            "'{}' is not one of {ROLES:?} - 'messages.role'",
            m.role
        ));
    }
    Ok(request)
}

/// The deterministic answer: recognisable, and made from what was sent.
fn answer(user: &str) -> String {
    let first_line: String = user
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(80)
        .collect();
    json!({
        "summary": format!("FAKE-LLM SUMMARY: {first_line}"),
        "resolution_process": format!("FAKE-LLM PROCESS: {} lines of digest", user.lines().count()),
    })
    .to_string()
}

fn completion(request: &ChatRequest, content: &str) -> HttpResponse {
    let prompt_tokens: usize = request
        .messages
        .iter()
        .map(|m| estimate_tokens(&m.content))
        .sum();
    let completion_tokens = estimate_tokens(content);
    HttpResponse::Ok().json(json!({
        "id": "chatcmpl-fake-llm",
        "object": "chat.completion",
        "created": chrono::Utc::now().timestamp(),
        "model": request.model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content },
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }))
}

async fn completions(stand: web::Data<Stand>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    stand.requests.fetch_add(1, Ordering::Relaxed);
    let request = match parse_request(&body) {
        Ok(request) => request,
        Err(message) => return openai_error(StatusCode::BAD_REQUEST, &message),
    };
    let user = request
        .messages
        .iter()
        .filter(|m| m.role == "user")
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let authorization = req.headers().get(AUTHORIZATION);
    *lock(&stand.last_request) = Some(LastRequest {
        model: request.model.clone(),
        authorization_present: authorization.is_some(),
        authorization_scheme: authorization
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_string),
        user_chars: user.chars().count(),
    });
    let (mode, delay) = *lock(&stand.behaviour);
    match mode {
        Mode::Ok => {}
        Mode::Slow => actix_web::rt::time::sleep(delay).await,
        Mode::Broken => {
            return completion(&request, "Sure! Here is the summary you asked for.");
        }
        Mode::Down => {
            return openai_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The model server is unavailable (fake-llm mode `down`).",
            );
        }
    }
    completion(&request, &answer(&user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModeSwitch {
    mode: Mode,
    /// The delay of `slow`; 120 s when not given.
    #[serde(default)]
    delay_secs: Option<u64>,
}

async fn switch_mode(stand: web::Data<Stand>, body: web::Json<ModeSwitch>) -> HttpResponse {
    let delay = body
        .delay_secs
        .map_or(DEFAULT_SLOW_DELAY, Duration::from_secs);
    *lock(&stand.behaviour) = (body.mode, delay);
    tracing::info!(mode = ?body.mode, delay_secs = delay.as_secs(), "fake LLM mode switched");
    HttpResponse::Ok().json(json!({ "mode": body.mode, "delay_secs": delay.as_secs() }))
}

async fn stats(stand: web::Data<Stand>) -> HttpResponse {
    let (mode, delay) = *lock(&stand.behaviour);
    HttpResponse::Ok().json(json!({
        "requests": stand.requests.load(Ordering::Relaxed),
        "mode": mode,
        "delay_secs": delay.as_secs(),
        "last_request": lock(&stand.last_request).clone(),
    }))
}
