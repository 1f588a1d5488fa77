//! The model client (`andon::reports::llm`) against the fake model server, in each
//! of its modes, and the fake's own request checks.

use std::time::Duration;

use andon::config::LlmConfig;
use andon::db::rooms::Room;
use andon::domain::rooms::{IncidentType, RoomStatus, Severity};
use andon::reports::digest::{DEFAULT_BUDGET_TOKENS, digest};
use andon::reports::llm::{LlmClient, LlmError};
use andon::reports::model::{Language, Record, RecordMessage, Written, WrittenBy};
use chrono::{TimeZone, Utc};
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::TestLlm;

fn record() -> Record {
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap();
    Record {
        room: Room {
            id: uuid::Uuid::new_v4(),
            title: "Line 3 conveyor stopped".into(),
            incident_type: IncidentType::EquipmentFailure,
            severity: Severity::High,
            status: RoomStatus::Active,
            location: "Plant 1".into(),
            line: Some("L3".into()),
            equipment: None,
            description: "Belt jammed".into(),
            resolution_notes: None,
            lots: Vec::new(),
            created_by: "alice".into(),
            created_at: at,
            resolved_at: None,
            archived_at: None,
            last_activity_at: at,
            member_count: 1,
            head_seq: 2,
            acknowledged_at: None,
            acknowledged_by: None,
            contained_at: None,
            contained_by: None,
        },
        generated_at: at,
        requested_by: "Alice".into(),
        participants: Vec::new(),
        timeline: Vec::new(),
        timeline_omitted: 0,
        message_count: 2,
        messages: ["Conveyor stopped", "輸送帶滾輪卡住"]
            .iter()
            .zip(1..)
            .map(|(text, seq)| RecordMessage {
                seq,
                at,
                sender_name: "Alice".into(),
                content: (*text).into(),
            })
            .collect(),
        status_changes: Vec::new(),
        files: Vec::new(),
        first_response_at: None,
        pinned: Vec::new(),
    }
}

fn client(url: &str, api_key: Option<&str>, timeout_secs: u64) -> LlmClient {
    LlmClient::new(&LlmConfig {
        url: url.to_string(),
        model: "test-model".into(),
        api_key: api_key.map(|k| SecretString::from(k.to_string())),
        timeout: Duration::from_secs(timeout_secs),
    })
    .unwrap()
}

#[tokio::test]
async fn the_model_writes_both_sections_from_the_digest() {
    let llm = TestLlm::start().await;
    let record = record();
    for (language, title) in [
        (Language::En, "Title: Line 3 conveyor stopped"),
        (Language::ZhTw, "標題：Line 3 conveyor stopped"),
    ] {
        let written = client(&llm.url, None, 10)
            .write(&record, language)
            .await
            .unwrap();
        let sent = digest(&record, language, DEFAULT_BUDGET_TOKENS);
        assert_eq!(
            written,
            Written {
                summary: vec![format!("FAKE-LLM SUMMARY: {title}")],
                resolution_process: vec![format!(
                    "FAKE-LLM PROCESS: {} lines of digest",
                    sent.lines().count()
                )],
                by: WrittenBy::Model {
                    model: "test-model".into()
                },
            }
        );
        let stats = llm.stats().await;
        assert_eq!(stats["last_request"]["model"], "test-model");
        assert_eq!(stats["last_request"]["user_chars"], sent.chars().count());
    }
    assert_eq!(llm.stats().await["requests"], 2);
}

#[tokio::test]
async fn a_broken_answer_is_a_bad_answer() {
    let llm = TestLlm::start().await;
    llm.set_mode("broken").await;
    let err = client(&llm.url, None, 10)
        .write(&record(), Language::En)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        LlmError::BadAnswer("the answer was not the JSON object asked for".into())
    );
}

#[tokio::test]
async fn a_model_server_that_is_down_gives_its_status() {
    let llm = TestLlm::start().await;
    llm.set_mode("down").await;
    let err = client(&llm.url, None, 10)
        .write(&record(), Language::En)
        .await
        .unwrap_err();
    assert_eq!(err, LlmError::Status(503));
    assert_eq!(err.to_string(), "the model server answered HTTP 503");
}

#[tokio::test]
async fn a_slow_model_times_out() {
    let llm = TestLlm::start().await;
    llm.set_mode("slow").await;
    let started = std::time::Instant::now();
    let err = client(&llm.url, None, 1)
        .write(&record(), Language::En)
        .await
        .unwrap_err();
    assert_eq!(err, LlmError::Timeout(Duration::from_secs(1)));
    assert_eq!(err.to_string(), "timed out after 1 s");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    // A port that was free a moment ago: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = client(&format!("http://127.0.0.1:{port}"), None, 5)
        .write(&record(), Language::En)
        .await
        .unwrap_err();
    assert_eq!(err, LlmError::Unreachable);
}

#[tokio::test]
async fn the_api_key_is_sent_as_a_bearer_token_only_when_set() {
    let llm = TestLlm::start().await;
    client(&llm.url, Some("sk-test-key"), 10)
        .write(&record(), Language::En)
        .await
        .unwrap();
    let last = &llm.stats().await["last_request"];
    assert_eq!(last["authorization_present"], true);
    assert_eq!(last["authorization_scheme"], "Bearer");

    client(&llm.url, None, 10)
        .write(&record(), Language::En)
        .await
        .unwrap();
    let last = &llm.stats().await["last_request"];
    assert_eq!(last["authorization_present"], false);
    assert!(last["authorization_scheme"].is_null());
}

#[tokio::test]
async fn malformed_requests_get_400_in_openai_shape() {
    let llm = TestLlm::start().await;
    let http = reqwest::Client::new();
    let bodies = [
        "not json".to_string(),
        json!({ "messages": [{ "role": "user", "content": "hi" }] }).to_string(),
        json!({ "model": "m" }).to_string(),
        json!({ "model": "", "messages": [{ "role": "user", "content": "hi" }] }).to_string(),
        json!({ "model": "m", "messages": [] }).to_string(),
        json!({ "model": "m", "messages": [{ "role": "robot", "content": "hi" }] }).to_string(),
    ];
    for body in bodies {
        let resp = http
            .post(format!("{}/v1/chat/completions", llm.url))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let answer: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(answer["error"]["type"], "invalid_request_error", "{body}");
        assert!(answer["error"]["message"].is_string(), "{body}");
    }
    let stats = llm.stats().await;
    assert_eq!(stats["requests"], 6);
    assert!(stats["last_request"].is_null());
}
