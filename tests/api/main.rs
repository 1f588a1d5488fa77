//! Black-box integration tests: the real server on port 0, a fresh PostgreSQL
//! database per test, and the fake AD over HTTP. One binary for link time.

// Helpers outside `#[test]` functions are test code too: a panic is how they fail.
#![allow(clippy::unwrap_used)]

mod helpers;

mod abuse;
mod auth;
mod chaos;
mod cli;
mod escalation;
mod fake_ad;
mod fake_llm;
mod files;
mod health;
mod mentions;
mod messages;
mod migrations;
mod milestones;
mod nodes;
mod notifications;
mod operations;
mod permissions;
mod pins;
mod realtime;
mod reports;
mod rooms;
mod routing;
mod search;
mod sessions;
mod spa;
mod stats;
mod templates;
