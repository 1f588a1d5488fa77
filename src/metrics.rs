//! Prometheus metrics at `/metrics` (PRODUCT.md O), through the `metrics` facade:
//! counters and histograms are recorded where things happen (room actors, group
//! commit, sockets, AD client, storage, sessions; the real-time ones through the
//! handles of `andon_actors::metrics`); gauges that are cheaper to read than to
//! track (rooms, pool) are set from the app's state at scrape time.

use std::sync::OnceLock;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets, in seconds: 0.5 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder (once; later calls share it).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("andon_commit_batch_size".into()),
                        &[1.0, 2.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 2000.0],
                    )
                });
            let handle = match builder.map(PrometheusBuilder::install_recorder) {
                Ok(Ok(handle)) => handle,
                // Another recorder is installed (an embedding program's): render ours
                // anyway so /metrics answers, if emptier.
                _ => PrometheusBuilder::new().build_recorder().handle(),
            };
            describe();
            handle
        })
        .clone()
}

fn describe() {
    describe_gauge!("andon_open_sockets", "WebSocket connections open");
    describe_gauge!("andon_subscriptions", "Room subscriptions over all sockets");
    describe_gauge!("andon_room_actors", "Room actors running");
    describe_gauge!("andon_sessions", "Live login sessions");
    describe_gauge!(
        "andon_db_pool_size",
        "Database connections open in the pool"
    );
    describe_gauge!(
        "andon_db_pool_available",
        "Idle database connections in the pool"
    );
    describe_gauge!(
        "andon_db_pool_waiting",
        "Requests waiting for a database connection"
    );
    describe_histogram!(
        "andon_db_pool_wait_seconds",
        Unit::Seconds,
        "Time to get a database connection"
    );
    describe_counter!("andon_events_total", "Room events delivered, by kind");
    describe_counter!(
        "andon_bus_published_total",
        "Messages put on the bus between nodes"
    );
    describe_counter!(
        "andon_bus_received_total",
        "Messages taken from the bus, from other nodes"
    );
    describe_counter!(
        "andon_bus_publish_failures_total",
        "Messages the bus did not take (other nodes read them from the log)"
    );
    describe_counter!(
        "andon_bus_connects_total",
        "Connections to the bus, the first one and every reconnect"
    );
    describe_counter!("andon_bus_disconnects_total", "Bus connections lost");
    describe_histogram!(
        "andon_bus_lag_seconds",
        Unit::Seconds,
        "From an event's commit on another node to its arrival here"
    );
    describe_counter!("andon_deliveries_total", "Event frames handed to sockets");
    describe_counter!(
        "andon_ephemeral_dropped_total",
        "Typing, presence and read frames dropped under back-pressure"
    );
    describe_counter!(
        "andon_slow_consumer_closes_total",
        "Sockets closed with 4008 (queue overflow, replay overflow, room mailbox full)"
    );
    describe_gauge!(
        "andon_socket_queue_frames_max",
        "The longest outbound queue any socket reached, in frames"
    );
    describe_gauge!(
        "andon_socket_queue_bytes_max",
        Unit::Bytes,
        "The most bytes any socket's outbound queue held"
    );
    describe_gauge!(
        "andon_replay_read_ahead_bytes_max",
        Unit::Bytes,
        "The most bytes of replay events any socket held read ahead"
    );
    describe_gauge!(
        "andon_upload_read_bytes_max",
        Unit::Bytes,
        "The most bytes read from one upload body"
    );
    describe_histogram!(
        "andon_fanout_latency_seconds",
        Unit::Seconds,
        "From commit to hand-off to sockets"
    );
    describe_histogram!(
        "andon_ack_latency_seconds",
        Unit::Seconds,
        "From a send frame to its ack"
    );
    describe_histogram!(
        "andon_commit_seconds",
        Unit::Seconds,
        "One group-commit transaction"
    );
    describe_histogram!("andon_commit_batch_size", "Messages per group commit");
    describe_histogram!(
        "andon_ad_request_seconds",
        Unit::Seconds,
        "Calls to the AD API"
    );
    describe_counter!("andon_ad_failures_total", "AD calls that failed, by reason");
    describe_counter!("andon_storage_errors_total", "Failed storage operations");
    describe_counter!(
        "andon_forced_logouts_total",
        "Sessions ended after three rejected refreshes"
    );
    describe_counter!(
        "andon_sessions_expired_total",
        "Sessions ended by inactivity"
    );
}

/// The text exposition, with the state-derived gauges brought up to date.
pub fn render(state: &AppState) -> String {
    gauge!("andon_room_actors").set(state.realtime.rooms.active() as f64);
    let pool = state.db.status();
    gauge!("andon_db_pool_size").set(pool.size as f64);
    gauge!("andon_db_pool_available").set(pool.available as f64);
    gauge!("andon_db_pool_waiting").set(pool.waiting as f64);
    install().render()
}
