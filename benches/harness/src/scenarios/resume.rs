//! `resume`: a reader disconnects, K messages are posted to its room meanwhile
//! (through REST, which has no per-socket frame limit), then it reconnects and
//! subscribes with `after_seq` = the last seq it saw. Measured: subscribe sent →
//! last replayed event received (and, separately, from the ticket request on).
//! The replay is checked for gaps and duplicates. Repeated `--rounds` times.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use futures_util::{SinkExt, StreamExt, stream};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::Ctx;
use crate::population::{self, SocketSpec};
use crate::probe::{CpuSample, CpuSplit};
use crate::report::{Counters, Latency, Report, histogram};
use crate::ws::{self, ConnectOpts};

#[derive(clap::Args, Debug, Clone)]
pub struct ResumeArgs {
    /// Events missed per round.
    #[arg(long, default_value_t = 10_000)]
    pub events: usize,
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Concurrent REST sends while the reader is away.
    #[arg(long, default_value_t = 64)]
    pub send_concurrency: usize,
}

pub async fn run(ctx: &Ctx, a: &ResumeArgs) -> anyhow::Result<Report> {
    let pop = population::build(&ctx.api, 2, vec![vec![0, 1]], ctx.concurrency).await?;
    let room = pop.rooms[0].id;
    let (writer, reader) = (&pop.sessions[0], &pop.sessions[1]);
    // The reader on the last node, the writer's REST sends on node 0: with
    // several nodes, the replay is read by a node that committed none of it.
    let spec = SocketSpec {
        session: reader.clone(),
        room,
        node: ctx.api.node_count() - 1,
        opts: ConnectOpts::default(),
    };
    let (ws0, mut last) = population::open(&ctx.api, &spec).await?;
    drop(ws0);
    let counters = Arc::new(Counters::default());
    let (mut replay, mut whole) = (histogram(), histogram());
    let mut rounds = Vec::new();
    let mut cpu = CpuSplit::default();
    let mut sent = 0u64;
    for round in 0..a.rounds {
        let t = Instant::now();
        stream::iter(0..a.events)
            .map(|i| async move {
                let client_id = format!("r{round}.{i}");
                ctx.api
                    .send_rest(writer, room, &client_id, "resume bench")
                    .await
            })
            .buffer_unordered(a.send_concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<()>>>()?;
        sent += a.events as u64;
        eprintln!(
            "[resume] round {round}: {} messages posted in {:.1} s",
            a.events,
            t.elapsed().as_secs_f64()
        );

        let cpu0 = CpuSample::take(&ctx.server_pids);
        let t_ticket = Instant::now();
        let ticket = ctx.api.ticket(reader).await?;
        let mut ws = ws::connect(&ctx.api.ws_url_on(spec.node, &ticket), spec.opts).await?;
        let t_sub = Instant::now();
        ws.send(ws::subscribe_frame(room, Some(last))).await?;
        let (mut head, mut expect, mut events) = (None::<i64>, last + 1, 0u64);
        while head.is_none_or(|h| expect <= h) {
            let Some(msg) = ws.next().await else {
                bail!("socket closed during replay")
            };
            let Message::Text(text) = msg? else { continue };
            let text = text.as_str();
            match ws::frame_type(text) {
                "subscribed" => head = ws::num_after(text, "\"head_seq\":").map(|h| h as i64),
                "event" => {
                    let seq = ws::num_after(text, "\"seq\":").unwrap_or(0) as i64;
                    if seq != expect {
                        bail!("replay out of order: expected seq {expect}, got {seq}");
                    }
                    expect += 1;
                    events += 1;
                }
                "error" => bail!("error during resume: {text}"),
                _ => {}
            }
        }
        let (replay_t, whole_t) = (t_sub.elapsed(), t_ticket.elapsed());
        cpu = CpuSplit::between(&cpu0, &CpuSample::take(&ctx.server_pids));
        let _ = replay.record(replay_t.as_micros() as u64);
        let _ = whole.record(whole_t.as_micros() as u64);
        eprintln!(
            "[resume] round {round}: {events} events replayed in {:.1} ms ({:.1} ms with ticket + connect)",
            replay_t.as_secs_f64() * 1e3,
            whole_t.as_secs_f64() * 1e3
        );
        rounds.push(
            json!({"events": events, "replay_ms": replay_t.as_secs_f64() * 1e3,
                           "with_connect_ms": whole_t.as_secs_f64() * 1e3}),
        );
        counters
            .delivered
            .fetch_add(events, std::sync::atomic::Ordering::Relaxed);
        last = expect - 1;
        let _ = ws.close(None).await;
    }
    let delivered = counters
        .delivered
        .load(std::sync::atomic::Ordering::Relaxed);
    Ok(Report {
        scenario: "resume".into(),
        params: json!({"events": a.events, "rounds": a.rounds}),
        duration_s: replay.mean() * replay.len() as f64 / 1e6,
        connections: a.rounds as u64,
        sent,
        acked: sent,
        delivered,
        delivered_per_s: Some(
            delivered as f64 / (replay.mean() * replay.len() as f64 / 1e6).max(1e-9),
        ),
        op_latency: Latency::of(&replay),
        cpu,
        extra: json!({"rounds": rounds, "with_ticket_and_connect": Latency::of(&whole)}),
        notes: vec![
            "op_latency: subscribe sent → last replayed event received; cpu: last round".into(),
        ],
        ..Report::default()
    })
}
