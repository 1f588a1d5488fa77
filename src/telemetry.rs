//! Logging with `tracing`: human-readable lines by default, one JSON object per line
//! when `ANDON_LOG_FORMAT=json`. Request spans (with a request id) come from
//! `tracing-actix-web` in [`crate::startup`].

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Later calls are ignored, so tests that build
/// several applications in one process may all call it.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}
