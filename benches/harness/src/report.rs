//! The report every scenario produces (a table, or one JSON object whose fields are
//! always present: `null` when a figure does not apply), the shared counters, and the
//! once-a-second progress line on stderr.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::Value;

use crate::probe::{CpuSplit, MemSample};

/// Microsecond histogram, auto-resizing, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid precision")
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        let ms = |us: u64| us as f64 / 1000.0;
        (!h.is_empty()).then(|| Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        })
    }
}

/// Counters shared by every task of a run.
#[derive(Debug, Default)]
pub struct Counters {
    pub connected: AtomicU64,
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub delivered: AtomicU64,
    pub errors: AtomicU64,
}

/// Prints a progress line every second until the returned guard is dropped.
pub fn progress(label: &'static str, c: Arc<Counters>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let start = Instant::now();
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.tick().await;
        let mut last = 0;
        loop {
            tick.tick().await;
            let d = c.delivered.load(Relaxed);
            eprintln!(
                "[{label} {:>4.0}s] conn={} sent={} acked={} delivered={} (+{}/s) errors={}",
                start.elapsed().as_secs_f64(),
                c.connected.load(Relaxed),
                c.sent.load(Relaxed),
                c.acked.load(Relaxed),
                d,
                d - last,
                c.errors.load(Relaxed),
            );
            last = d;
        }
    })
}

/// Server memory before and after the connections opened.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Memory {
    pub before: MemSample,
    pub after: MemSample,
    /// (Δ server RSS + Δ kernel TCP memory) / connections, bytes.
    pub per_connection_bytes: Option<f64>,
    pub server_rss_per_connection_bytes: Option<f64>,
}

impl Memory {
    pub fn new(before: MemSample, after: MemSample, connections: u64) -> Self {
        let delta = |a: Option<u64>, b: Option<u64>| Some(b? as f64 - a? as f64);
        let n = connections.max(1) as f64;
        let rss = delta(before.server_rss, after.server_rss);
        let tcp = delta(before.tcp_mem, after.tcp_mem);
        Self {
            before,
            after,
            per_connection_bytes: rss.map(|r| (r + tcp.unwrap_or(0.0)) / n),
            server_rss_per_connection_bytes: rss.map(|r| r / n),
        }
    }
}

/// Per-receiver order check of the `event` frames (by `seq`), over the receivers
/// that kept reading: every receiver should see every event of its room from its
/// subscription on, once and in order, whichever node it is connected to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeliveryCheck {
    /// Receivers checked.
    pub receivers: u64,
    /// Receivers that stayed connected and saw every event of their room once, in order.
    pub complete: u64,
    /// Receivers whose socket ended before the run did (closed by the server, e.g.
    /// as slow consumers: see `errors`); checked up to their end, not complete.
    pub ended_early: u64,
    /// Events a receiver never saw: gaps in its `seq`s (from its subscription's
    /// head on) and, for receivers still connected at the end, a tail short of
    /// the latest `seq` its room's others saw.
    pub missing: u64,
    /// Events that came at or below a `seq` already seen (duplicates or out of order).
    pub not_ascending: u64,
    /// Events the rooms got during the run (Σ latest seen `seq` − head at subscribe);
    /// equal to `acked` when each acknowledged send is one event and none was lost
    /// by every receiver of its room.
    pub room_events: u64,
}

impl DeliveryCheck {
    /// Nothing missing or repeated (receivers that ended early aside).
    pub fn is_clean(&self) -> bool {
        self.complete + self.ended_early == self.receivers
            && self.missing == 0
            && self.not_ascending == 0
    }
}

/// Server CPU µs per operation; `None` without operations or CPU readings.
pub fn cpu_us_per(server_s: f64, ops: u64) -> Option<f64> {
    (ops > 0 && server_s > 0.0).then(|| server_s * 1e6 / ops as f64)
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub scenario: String,
    pub params: Value,
    pub duration_s: f64,
    pub connections: u64,
    pub connects_per_s: Option<f64>,
    pub sent: u64,
    pub acked: u64,
    pub acked_per_s: Option<f64>,
    pub expected_deliveries: Option<u64>,
    pub delivered: u64,
    pub delivered_per_s: Option<f64>,
    pub latency: Option<Latency>,
    pub ack_latency: Option<Latency>,
    /// Scenario-specific latency (connect: ticket→subscribed; resume: subscribe→last event).
    pub op_latency: Option<Latency>,
    pub errors: BTreeMap<String, u64>,
    pub memory: Option<Memory>,
    pub cpu: CpuSplit,
    /// Scenario-specific figures (e.g. the slow scenario's phases).
    pub extra: Value,
    pub notes: Vec<String>,
    /// Server nodes the sockets were spread over.
    pub nodes: u64,
    /// Server CPU (all nodes) per delivered event frame, µs.
    pub server_cpu_us_per_delivery: Option<f64>,
    /// Server CPU (all nodes) per acknowledged send, µs.
    pub server_cpu_us_per_ack: Option<f64>,
    pub delivery_check: Option<DeliveryCheck>,
    /// Scenario-specific lines for the table (their figures are in `extra`).
    #[serde(skip)]
    pub summary: Vec<String>,
}

impl Report {
    pub fn table(&self) -> String {
        let mut out = String::new();
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.0}"));
        let _ = writeln!(out, "scenario        {}", self.scenario);
        let _ = writeln!(out, "nodes           {}", self.nodes);
        let _ = writeln!(out, "params          {}", self.params);
        let _ = writeln!(out, "duration        {:.2} s", self.duration_s);
        let _ = writeln!(
            out,
            "connections     {}  ({} /s)",
            self.connections,
            opt(self.connects_per_s)
        );
        let _ = writeln!(
            out,
            "sent / acked    {} / {}  ({} acked/s)",
            self.sent,
            self.acked,
            opt(self.acked_per_s)
        );
        let expected = self
            .expected_deliveries
            .map_or("-".into(), |e| e.to_string());
        let _ = writeln!(
            out,
            "delivered       {} of {}  ({} /s)",
            self.delivered,
            expected,
            opt(self.delivered_per_s)
        );
        let _ = writeln!(
            out,
            "                {:>10} {:>9} {:>9} {:>9} {:>9}",
            "count", "p50 ms", "p95 ms", "p99 ms", "max ms"
        );
        for (name, l) in [
            ("end-to-end", &self.latency),
            ("ack", &self.ack_latency),
            ("operation", &self.op_latency),
        ] {
            if let Some(l) = l {
                let _ = writeln!(
                    out,
                    "{name:<15} {:>10} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                    l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
                );
            }
        }
        let _ = writeln!(out, "errors          {:?}", self.errors);
        if let Some(d) = &self.delivery_check {
            let _ = writeln!(
                out,
                "order check     {} of {} receivers complete, {} ended early; {} missing, {} duplicate/out of order; {} room events",
                d.complete, d.receivers, d.ended_early, d.missing, d.not_ascending, d.room_events
            );
        }
        if let Some(m) = &self.memory {
            let kb = |b: Option<u64>| b.map_or("-".into(), |b| format!("{} KiB", b / 1024));
            let _ = writeln!(
                out,
                "server RSS      {} -> {};  kernel TCP mem {} -> {}",
                kb(m.before.server_rss),
                kb(m.after.server_rss),
                kb(m.before.tcp_mem),
                kb(m.after.tcp_mem)
            );
            if m.after.server_rss_per_node.len() > 1 {
                let nodes: Vec<String> =
                    m.after.server_rss_per_node.iter().map(|&b| kb(b)).collect();
                let _ = writeln!(out, "RSS per node    {}", nodes.join(", "));
            }
            let _ = writeln!(
                out,
                "per connection  {} bytes (server RSS only: {} bytes)",
                opt(m.per_connection_bytes),
                opt(m.server_rss_per_connection_bytes)
            );
        }
        let c = &self.cpu;
        let _ = writeln!(
            out,
            "CPU seconds     server {:.2}, postgres {:.2}, nats {:.2}, harness {:.2}, other {:.2} over {:.2} s wall",
            c.server_s, c.postgres_s, c.nats_s, c.harness_s, c.other_s, c.wall_s
        );
        if c.server_per_node_s.len() > 1 {
            let nodes: Vec<String> = c
                .server_per_node_s
                .iter()
                .map(|s| format!("{s:.2}"))
                .collect();
            let _ = writeln!(out, "server per node {}", nodes.join(", "));
        }
        let us = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.2}"));
        let _ = writeln!(
            out,
            "server CPU µs   {} per delivery, {} per ack",
            us(self.server_cpu_us_per_delivery),
            us(self.server_cpu_us_per_ack)
        );
        for line in &self.summary {
            let _ = writeln!(out, "{line}");
        }
        if !self.extra.is_null() {
            let _ = writeln!(out, "extra           {}", self.extra);
        }
        for n in &self.notes {
            let _ = writeln!(out, "note            {n}");
        }
        out
    }
}
