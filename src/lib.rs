//! Andon: a real-time incident-response messaging engine for factory production lines.
//!
//! See `docs/ARCHITECTURE.md` for how the pieces fit together.

pub mod auth;
pub mod bus;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod escalation;
pub mod fake_ad;
pub mod fake_llm;
pub mod files;
pub mod http;
pub mod metrics;
pub mod notifications;
pub mod realtime;
pub mod reports;
pub mod rooms;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;

#[cfg(test)]
mod test_support;
