//! `fanout` and `slow`: R rooms × M members, every member subscribed with its own
//! socket; P senders (spread over the rooms) publish X messages/s in total on an
//! open-loop schedule. Every member, the sender included, receives each message.
//!
//! `--ephemeral` is the baseline without persistence: senders send `typing` frames
//! (fanned out, never stored) instead of messages. The server forwards at most one
//! typing frame per socket and room per second, so each sender types every 1.1 s
//! and the sender count follows from the rate.
//!
//! `slow` runs the same load and, halfway through, a share of the non-sending
//! clients stops reading (with small kernel buffers, so they stall at once); the
//! report compares the others' latency before and after, and tracks server RSS.
//!
//! With several server nodes, socket `i` connects to node `i mod N` (senders
//! included), so most deliveries cross the bus. Every reader's `event` frames are
//! checked by `seq`: each one, once and in order (`delivery_check`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::watch;

use super::engine::{self, Payload, Shared, TypingMap};
use super::{Ctx, PER_SOURCE_ADDR};
use crate::population::{self, SocketSpec};
use crate::probe::{CpuSample, CpuSplit, MemSample};
use crate::report::{Counters, Latency, Memory, Report, cpu_us_per, progress};
use crate::ws::{ConnectOpts, source_for};

#[derive(clap::Args, Debug, Clone)]
pub struct FanoutArgs {
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    #[arg(long, default_value_t = 1000)]
    pub members: usize,
    /// Sending sockets in total (spread round-robin over the rooms).
    #[arg(long, default_value_t = 10)]
    pub senders: usize,
    /// Messages per second, all senders together.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds to wait for in-flight deliveries after the last send.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
    /// Typing frames instead of stored messages (the no-persistence baseline).
    #[arg(long)]
    pub ephemeral: bool,
    /// Distinct users (default: min(rooms × members, max(members, 1000))).
    #[arg(long)]
    pub users: Option<usize>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct SlowArgs {
    #[command(flatten)]
    pub fanout: FanoutArgs,
    /// Share of clients that stop reading halfway through.
    #[arg(long, default_value_t = 0.01)]
    pub stalled_share: f64,
}

const TYPING_INTERVAL_US: u64 = 1_100_000;

pub async fn run(ctx: &Ctx, a: &FanoutArgs, stalled_share: Option<f64>) -> anyhow::Result<Report> {
    let (rooms, members) = (a.rooms.max(1), a.members.max(2));
    let total = rooms * members;
    let users = a.users.unwrap_or(total.min(members.max(1000))).max(members);
    let pop = population::build(
        &ctx.api,
        users,
        population::rooms_of(rooms, members, users),
        ctx.concurrency,
    )
    .await?;

    let spread = total > PER_SOURCE_ADDR;
    // Sender k sits in room k mod R, slot k / R: stalled readers come after them.
    let free_slot = a.senders.div_ceil(rooms).min(members - 1);
    let specs: Vec<SocketSpec> = (0..total)
        .map(|i| {
            let room = &pop.rooms[i / members];
            let stalled = stalled_share.is_some_and(|s| is_stalled(i, s, members, free_slot));
            SocketSpec {
                session: pop.sessions[room.members[i % members]].clone(),
                room: room.id,
                node: i % ctx.api.node_count(),
                opts: ConnectOpts {
                    source: source_for(i, PER_SOURCE_ADDR, spread),
                    recv_buffer: stalled.then_some(4096),
                    ..ConnectOpts::default()
                },
            }
        })
        .collect();
    let counters = Arc::new(Counters::default());
    let mem_before = MemSample::take(&ctx.server_pids);
    let sockets = population::open_all(&ctx.api, &specs, ctx.concurrency, &counters).await?;
    tokio::time::sleep(Duration::from_millis(500)).await; // presence frames settle

    // Senders: sender k is in room k mod R, slot k / R.
    let (senders, interval_us) = if a.ephemeral {
        let n = ((a.rate * TYPING_INTERVAL_US as f64 / 1e6).ceil() as usize).clamp(1, total);
        (n, TYPING_INTERVAL_US)
    } else {
        let n = a.senders.clamp(1, total);
        (n, (1e6 * n as f64 / a.rate.max(0.001)) as u64)
    };
    let sender_sockets: Vec<usize> = (0..senders)
        .map(|k| (k % rooms) * members + (k / rooms) % members)
        .collect();
    let mut notes = Vec::new();
    if !a.ephemeral && interval_us < 10_500 {
        notes.push(
            "over ~95 frames/s per sender: the server's 100 frames/s limit will refuse some".into(),
        );
    }

    let end_us = (a.duration * 1e6) as u64;
    let shared = Arc::new(Shared {
        epoch: Instant::now() + Duration::from_millis(200),
        counters: counters.clone(),
        last_delivery: AtomicU64::new(0),
        typing_sent: (0..total).map(|_| AtomicU64::new(0)).collect(),
        phase_us: if stalled_share.is_some() {
            end_us / 2
        } else {
            u64::MAX
        },
    });
    let cpu0 = CpuSample::take(&ctx.server_pids);
    let ticker = progress(
        if a.ephemeral {
            "fanout/typing"
        } else {
            "fanout"
        },
        counters.clone(),
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers = Vec::with_capacity(total);
    let mut writers = Vec::new();
    let mut idle_sinks = Vec::new();
    let mut checked = Vec::with_capacity(total);
    for (i, (ws, head)) in sockets.into_iter().enumerate() {
        let (sink, stream) = ws.split();
        let map = TypingMap {
            room_index: i / members,
            members,
            users,
        };
        let stall_at = stalled_share
            .filter(|&s| is_stalled(i, s, members, free_slot))
            .map(|_| end_us / 2);
        checked.push(stall_at.is_none());
        readers.push(tokio::spawn(engine::receive(
            stream,
            shared.clone(),
            stop_rx.clone(),
            Some(map),
            stall_at,
            Some(head),
        )));
        match sender_sockets.iter().position(|&s| s == i) {
            Some(k) => {
                let room = pop.rooms[i / members].id;
                let payload = if a.ephemeral {
                    Payload::Typing { room, socket: i }
                } else {
                    Payload::Send { room, sender: k }
                };
                let offset = interval_us * k as u64 / senders as u64;
                writers.push(tokio::spawn(engine::send_schedule(
                    sink,
                    shared.clone(),
                    payload,
                    offset,
                    interval_us,
                    end_us,
                )));
            }
            None => idle_sinks.push(sink),
        }
    }
    let max_rss = Arc::new(AtomicU64::new(0));
    let rss_probe = {
        let (pids, max) = (ctx.server_pids.clone(), max_rss.clone());
        tokio::spawn(async move {
            loop {
                if let Some(rss) = crate::probe::server_rss_sum(&pids) {
                    max.fetch_max(rss, Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    for w in writers {
        idle_sinks.push(w.await?);
    }
    // Drain: until every expected delivery arrived (no stalls) or the drain time passed.
    let per_msg = if a.ephemeral { members - 1 } else { members } as u64;
    let drain_until = Instant::now() + Duration::from_secs_f64(a.drain);
    while Instant::now() < drain_until {
        let expected = if a.ephemeral {
            counters.sent.load(Relaxed)
        } else {
            counters.acked.load(Relaxed)
        } * per_msg;
        let all_acked = a.ephemeral || counters.acked.load(Relaxed) >= counters.sent.load(Relaxed);
        if stalled_share.is_none() && all_acked && counters.delivered.load(Relaxed) >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cpu1 = CpuSample::take(&ctx.server_pids);
    let mem_after = MemSample::take(&ctx.server_pids);
    let _ = stop_tx.send(true);
    let mut results = Vec::with_capacity(readers.len());
    for r in readers {
        results.push(r.await?);
    }
    ticker.abort();
    rss_probe.abort();
    let max_rss = max_rss.load(Relaxed).max(mem_after.server_rss.unwrap_or(0));
    drop(idle_sinks);

    // Stored events only (typing frames have no seq); stalled readers excluded.
    let delivery_check = (!a.ephemeral).then(|| {
        engine::check_order(
            results
                .iter()
                .enumerate()
                .filter(|&(i, _)| checked[i])
                .map(|(i, r)| (i / members, &r.seqs)),
        )
    });
    if let Some(d) = &delivery_check
        && !d.is_clean()
    {
        notes.push(format!(
            "order check failed: {} of {} receivers complete ({} ended early), {} events missing, {} duplicate or out of order",
            d.complete, d.receivers, d.ended_early, d.missing, d.not_ascending
        ));
    }
    let got = engine::merge(results);
    let cpu = CpuSplit::between(&cpu0, &cpu1);
    let sent = counters.sent.load(Relaxed);
    let acked = counters.acked.load(Relaxed);
    let delivered = got.delivered[0] + got.delivered[1];
    let span_s = shared.last_delivery.load(Relaxed) as f64 / 1e6;
    let mut all = got.latency[0].clone();
    let _ = all.add(&got.latency[1]);
    let extra = match stalled_share {
        Some(share) => {
            let (before, after) = (Latency::of(&got.latency[0]), Latency::of(&got.latency[1]));
            let ratio = before
                .as_ref()
                .zip(after.as_ref())
                .map(|(b, a)| a.p99_ms / b.p99_ms.max(0.001));
            json!({
                "stalled_share": share,
                "stalled_sockets": (0..total).filter(|&i| is_stalled(i, share, members, free_slot)).count(),
                "before_stall": before, "after_stall": after, "p99_ratio_after_vs_before": ratio,
                "server_rss_max_bytes": max_rss,
            })
        }
        None => serde_json::Value::Null,
    };
    Ok(Report {
        scenario: if stalled_share.is_some() {
            "slow"
        } else if a.ephemeral {
            "fanout-ephemeral"
        } else {
            "fanout"
        }
        .into(),
        params: json!({"rooms": rooms, "members": members, "senders": senders, "rate": a.rate,
                       "duration_s": a.duration, "users": users, "ephemeral": a.ephemeral}),
        duration_s: a.duration,
        connections: total as u64,
        connects_per_s: None,
        sent,
        acked,
        acked_per_s: (!a.ephemeral).then(|| acked as f64 / a.duration),
        expected_deliveries: stalled_share
            .is_none()
            .then(|| if a.ephemeral { sent } else { acked } * per_msg),
        delivered,
        delivered_per_s: (span_s > 0.0).then(|| delivered as f64 / span_s),
        latency: Latency::of(&all),
        ack_latency: Latency::of(&got.ack),
        op_latency: None,
        errors: got.errors,
        memory: Some(Memory::new(mem_before, mem_after, total as u64)),
        server_cpu_us_per_delivery: cpu_us_per(cpu.server_s, delivered),
        server_cpu_us_per_ack: (!a.ephemeral)
            .then(|| cpu_us_per(cpu.server_s, acked))
            .flatten(),
        cpu,
        extra,
        notes,
        delivery_check,
        ..Report::default()
    })
}

/// Stalled sockets: evenly spread over the slots after the senders' (`free_slot`).
fn is_stalled(i: usize, share: f64, members: usize, free_slot: usize) -> bool {
    if share <= 0.0 {
        return false;
    }
    let every = (1.0 / share).round().max(1.0) as usize;
    i % members >= free_slot && i % every == every - 1
}
