//! `report` (issue 18): an incident report of a large room. One room gets
//! `--messages` text messages, written straight into PostgreSQL in one
//! transaction (as the integration test does: the send path is measured by
//! `send`, and 10,000 sends would be the setup's time), and `--images` photos
//! uploaded over the API (3000×2000 JPEGs of about 1 MB, each different). Then
//! one report of it is started and followed to its end:
//!
//! - time: POST → `completed`, and each stage (`pending` → `collecting` →
//!   `writing` → `assembling` → `completed`) from the `report_progress` frames on
//!   the requester's socket, with a status poll once a second as a backstop;
//! - the server's memory: its peak resident set during the report (`VmHWM`
//!   after `/proc/<pid>/clear_refs` = 5 just before the POST) against its
//!   resident set before, and after (at completion and 2 s later);
//! - CPU seconds of the server, PostgreSQL and the rest during the report;
//! - the .docx's size (downloaded and checked against the report's `size`).
//!
//! The baseline, on the same server right after: a report of an empty room,
//! the fixed cost of a report, so the ratio shows what the record's size costs.
//! Memory and CPU are of node 0, which takes the POST and runs the report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use super::Ctx;
use crate::api::{Session, user_id};
use crate::population::{self, SocketSpec};
use crate::probe::{self, CpuSample, CpuSplit};
use crate::report::Report;
use crate::ws::{self, ConnectOpts, Ws};

/// The seeded photos' size: a phone camera's 6 megapixels (24 MB of pixels
/// decoded, about 1 MB as a JPEG).
const PHOTO_WIDTH: u32 = 3000;
const PHOTO_HEIGHT: u32 = 2000;

/// A report's stages in order; the first is where it starts (at the POST).
const STAGES: [&str; 5] = [
    "pending",
    "collecting",
    "writing",
    "assembling",
    "completed",
];

#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// Text messages in the room (written into PostgreSQL in one transaction).
    #[arg(long, default_value_t = 10_000)]
    pub messages: i64,
    /// Photos uploaded to the room (3000×2000 JPEGs, each different).
    #[arg(long, default_value_t = 50)]
    pub images: usize,
    /// The report's language: `zh-TW` or `en`.
    #[arg(long, default_value = "zh-TW")]
    pub language: String,
    /// Skip the baseline (a report of an empty room on the same server).
    #[arg(long)]
    pub no_baseline: bool,
    /// Give up on a report after this many seconds.
    #[arg(long, default_value_t = 600.0)]
    pub timeout: f64,
}

/// When each status was first seen, in seconds after the POST.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    seen: BTreeMap<String, f64>,
}

impl Progress {
    /// Notes `status` at `at` seconds unless it was seen earlier.
    pub fn saw(&mut self, status: &str, at: f64) {
        let first = self.seen.entry(status.to_string()).or_insert(at);
        *first = first.min(at);
    }

    /// `completed` or `failed`, once seen.
    pub fn end(&self) -> Option<&'static str> {
        ["completed", "failed"]
            .into_iter()
            .find(|s| self.seen.contains_key(*s))
    }

    /// Seconds in each stage, keyed `<stage>_s` (`pending_s` is the time in the
    /// queue): from the first sight of a stage to the first sight of the next.
    /// `None` where either end was not seen (both frames lost between two
    /// polls, or the report failed).
    pub fn stages(&self) -> BTreeMap<String, Option<f64>> {
        let at = |s: &str| {
            if s == STAGES[0] {
                Some(0.0)
            } else {
                self.seen.get(s).copied()
            }
        };
        STAGES
            .windows(2)
            .map(|w| {
                let d = at(w[0]).zip(at(w[1])).map(|(a, b)| (b - a).max(0.0));
                (format!("{}_s", w[0]), d)
            })
            .collect()
    }
}

/// One report followed to its end.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measured {
    pub report_id: Uuid,
    /// `completed` or `failed`.
    pub status: String,
    pub reason: Option<String>,
    /// POST sent → `completed` (or `failed`) seen, seconds.
    pub total_s: f64,
    /// POST sent → its 202 received.
    pub accepted_s: f64,
    /// Seconds per stage: `pending_s` (queued), `collecting_s`, `writing_s`,
    /// `assembling_s`.
    pub stages: BTreeMap<String, Option<f64>>,
    /// Node 0's `VmRSS` just before the POST (after its `VmHWM` was reset).
    pub rss_before_bytes: Option<u64>,
    /// Its `VmHWM` once the report was done: the peak resident set during it.
    pub rss_peak_bytes: Option<u64>,
    /// Peak − before.
    pub rss_peak_growth_bytes: Option<u64>,
    /// `VmRSS` when the report was done, and 2 s later.
    pub rss_after_bytes: Option<u64>,
    pub rss_settled_bytes: Option<u64>,
    /// POST → done.
    pub cpu: CpuSplit,
    /// The .docx as downloaded.
    pub docx_bytes: Option<u64>,
}

pub async fn run(ctx: &Ctx, a: &ReportArgs) -> anyhow::Result<Report> {
    let db_url = ctx
        .database_url
        .as_deref()
        .context("the report scenario writes its messages into the database: with --url, give --database-url")?;
    let pop = population::build(&ctx.api, 1, vec![vec![0], vec![0]], ctx.concurrency).await?;
    let (owner, big, empty) = (&pop.sessions[0], pop.rooms[0].id, pop.rooms[1].id);

    let t = Instant::now();
    seed_messages(db_url, big, &user_id(0), a.messages).await?;
    let seed_s = t.elapsed().as_secs_f64();
    eprintln!(
        "setup: {} messages written into the room ({seed_s:.1} s)",
        a.messages
    );
    let t = Instant::now();
    let uploaded = upload_photos(ctx, owner, big, a.images).await?;
    let upload_s = t.elapsed().as_secs_f64();
    eprintln!(
        "setup: {} photos uploaded, {:.1} MB ({upload_s:.1} s)",
        a.images,
        uploaded as f64 / 1e6
    );

    // The requester's socket in both rooms: progress frames go there.
    let spec = SocketSpec {
        session: owner.clone(),
        room: big,
        node: 0,
        opts: ConnectOpts::default(),
    };
    let (mut socket, _) = population::open(&ctx.api, &spec).await?;
    ws::subscribe(&mut socket, empty, None).await?;

    let report = measure(ctx, a, owner, &mut socket, big, "report").await?;
    let baseline = if a.no_baseline {
        None
    } else {
        Some(measure(ctx, a, owner, &mut socket, empty, "baseline").await?)
    };

    let mut errors = BTreeMap::new();
    for m in std::iter::once(&report).chain(&baseline) {
        if m.status != "completed" {
            *errors.entry("report_failed".to_string()).or_insert(0) += 1;
        }
    }
    let mut summary = vec![
        format!(
            "room            {} messages, {} photos {PHOTO_WIDTH}×{PHOTO_HEIGHT} ({:.1} MB); language {}",
            a.messages,
            a.images,
            uploaded as f64 / 1e6,
            a.language
        ),
        describe("report", &report),
    ];
    if let Some(b) = &baseline {
        summary.push(describe("empty room", b));
        if b.total_s > 0.0 {
            summary.push(format!(
                "ratio           {:.0}× the empty room's time",
                report.total_s / b.total_s
            ));
        }
    }
    let notes = std::iter::once(&report)
        .chain(&baseline)
        .filter_map(|m| m.reason.as_ref().map(|r| format!("report failed: {r}")))
        .collect();
    Ok(Report {
        scenario: "report".into(),
        params: json!({
            "messages": a.messages,
            "images": a.images,
            "image_px": format!("{PHOTO_WIDTH}x{PHOTO_HEIGHT}"),
            "language": a.language,
            "baseline": !a.no_baseline,
        }),
        duration_s: report.total_s,
        cpu: report.cpu.clone(),
        errors,
        extra: json!({
            "report": report,
            "baseline": baseline,
            "setup": {"seed_messages_s": seed_s, "upload_s": upload_s, "upload_bytes": uploaded},
            "metrics": metrics(&report, baseline.as_ref()),
        }),
        summary,
        notes,
        ..Report::default()
    })
}

/// Starts a report of `room` and follows it to its end.
async fn measure(
    ctx: &Ctx,
    a: &ReportArgs,
    owner: &Session,
    socket: &mut Ws,
    room: Uuid,
    label: &str,
) -> anyhow::Result<Measured> {
    let pid = ctx.server_pids.first().copied();
    // Let the setup's (or the previous report's) work settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    if let Some(pid) = pid
        && let Err(e) = probe::reset_peak_rss(pid)
    {
        eprintln!("note: cannot reset the server's peak RSS ({e}): the peak is since its start");
    }
    let rss_before = pid.and_then(probe::rss_bytes);
    let cpu0 = CpuSample::take(&ctx.server_pids);
    let t0 = Instant::now();
    let id = ctx.api.start_report(owner, room, &a.language).await?;
    let accepted_s = t0.elapsed().as_secs_f64();
    let mut progress = Progress::default();
    let deadline = tokio::time::Instant::from_std(t0) + Duration::from_secs_f64(a.timeout);
    let mut poll = tokio::time::interval(Duration::from_secs(1));
    let report_key = format!("\"report_id\":\"{id}\"");
    while progress.end().is_none() {
        tokio::select! {
            msg = socket.next() => {
                let Some(msg) = msg else { bail!("the socket closed during the report") };
                let Message::Text(text) = msg? else { continue };
                let text = text.as_str();
                if ws::frame_type(text) == "report_progress" && text.contains(&report_key)
                    && let Some(status) = ws::str_after(text, "\"status\":\"")
                {
                    let at = t0.elapsed().as_secs_f64();
                    eprintln!("[{label} {at:>7.2}s] {status}");
                    progress.saw(status, at);
                }
            }
            _ = poll.tick() => {
                let detail = ctx.api.report_detail(owner, room, id).await?;
                if let Some(status) = detail["status"].as_str() {
                    progress.saw(status, t0.elapsed().as_secs_f64());
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                bail!("{label}: not finished after {} s", a.timeout)
            }
        }
    }
    let total_s = t0.elapsed().as_secs_f64();
    let cpu = CpuSplit::between(&cpu0, &CpuSample::take(&ctx.server_pids));
    let rss_peak = pid.and_then(|p| probe::status_bytes(p, "VmHWM"));
    let rss_after = pid.and_then(probe::rss_bytes);

    let detail = ctx.api.report_detail(owner, room, id).await?;
    let status = detail["status"].as_str().unwrap_or_default().to_string();
    let docx_bytes = match detail["content_url"].as_str() {
        Some(path) if status == "completed" => {
            let docx = ctx.api.get_bytes(owner, path).await?;
            let size = detail["size"].as_u64();
            if size != Some(docx.len() as u64) {
                bail!(
                    "{label}: downloaded {} bytes, the report says {size:?}",
                    docx.len()
                );
            }
            Some(docx.len() as u64)
        }
        _ => None,
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(Measured {
        report_id: id,
        status,
        reason: detail["reason"].as_str().map(str::to_string),
        total_s,
        accepted_s,
        stages: progress.stages(),
        rss_before_bytes: rss_before,
        rss_peak_bytes: rss_peak,
        rss_peak_growth_bytes: rss_peak.zip(rss_before).map(|(p, b)| p.saturating_sub(b)),
        rss_after_bytes: rss_after,
        rss_settled_bytes: pid.and_then(probe::rss_bytes),
        cpu,
        docx_bytes,
    })
}

fn mib(b: Option<u64>) -> Option<f64> {
    b.map(|b| b as f64 / (1024.0 * 1024.0))
}

/// One line of the table for a measured report.
fn describe(label: &str, m: &Measured) -> String {
    let s = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.2}"));
    let stages: Vec<String> = STAGES[..STAGES.len() - 1]
        .iter()
        .map(|k| {
            format!(
                "{k} {}",
                s(m.stages.get(&format!("{k}_s")).copied().flatten())
            )
        })
        .collect();
    let m1 = |b: Option<u64>| mib(b).map_or("-".to_string(), |x| format!("{x:.1}"));
    format!(
        "{label:<15} {} in {:.2} s (stages, s: {}); server RSS {} MiB before, peak +{} MiB, {} MiB after, {} MiB 2 s later; server CPU {:.2} s, PostgreSQL {:.2} s; .docx {}",
        m.status,
        m.total_s,
        stages.join(", "),
        m1(m.rss_before_bytes),
        m1(m.rss_peak_growth_bytes),
        m1(m.rss_after_bytes),
        m1(m.rss_settled_bytes),
        m.cpu.server_s,
        m.cpu.postgres_s,
        m.docx_bytes
            .map_or("-".to_string(), |b| format!("{:.1} KB", b as f64 / 1e3)),
    )
}

/// The figures `summarize.py` takes medians of: `[name, value]` pairs in order
/// (`null` where not measured).
pub fn metrics(report: &Measured, baseline: Option<&Measured>) -> Value {
    let mut out = Vec::new();
    for (prefix, m) in [("", Some(report)), ("empty: ", baseline)] {
        let Some(m) = m else { continue };
        out.push(json!([format!("{prefix}report s"), m.total_s]));
        for stage in &STAGES[..STAGES.len() - 1] {
            let v = m.stages.get(&format!("{stage}_s")).copied().flatten();
            out.push(json!([format!("{prefix}  {stage} s"), v]));
        }
        out.push(json!([
            format!("{prefix}peak growth MiB"),
            mib(m.rss_peak_growth_bytes)
        ]));
        out.push(json!([
            format!("{prefix}RSS before MiB"),
            mib(m.rss_before_bytes)
        ]));
        out.push(json!([
            format!("{prefix}RSS peak MiB"),
            mib(m.rss_peak_bytes)
        ]));
        out.push(json!([
            format!("{prefix}RSS after MiB"),
            mib(m.rss_after_bytes)
        ]));
        out.push(json!([
            format!("{prefix}RSS +2 s MiB"),
            mib(m.rss_settled_bytes)
        ]));
        out.push(json!([format!("{prefix}server CPU s"), m.cpu.server_s]));
        out.push(json!([format!("{prefix}postgres CPU s"), m.cpu.postgres_s]));
        out.push(json!([
            format!("{prefix}docx KB"),
            m.docx_bytes.map(|b| b as f64 / 1e3)
        ]));
    }
    if let Some(b) = baseline.filter(|b| b.total_s > 0.0) {
        out.push(json!(["time / empty room's", report.total_s / b.total_s]));
    }
    Value::Array(out)
}

/// Writes `n` text messages by `sender` into the room's log in one
/// transaction, as the send path would have (the integration test's
/// `seed_messages`): the rows of `messages`, their `message.created` events and
/// the room's head.
async fn seed_messages(db_url: &str, room: Uuid, sender: &str, n: i64) -> anyhow::Result<()> {
    let (mut client, conn) = tokio_postgres::connect(db_url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {db_url}"))?;
    let task = tokio::spawn(conn);
    let tx = client.transaction().await?;
    let head: i64 = tx
        .query_one(
            "SELECT head_seq FROM rooms WHERE id = $1 FOR UPDATE",
            &[&room],
        )
        .await?
        .get(0);
    tx.execute(
        "INSERT INTO messages (id, room_id, seq, sender, sender_name, message_type, content,
                               client_id, created_at)
         SELECT gen_random_uuid(), $1, $2::bigint + g, $3, 'Bench User 0', 'text',
                'reading ' || g || ': 三號線輸送帶 zone temperature nominal, belt speed 1.2 m/s',
                'seed-' || g, now() + g * interval '1 second'
         FROM generate_series(1::bigint, $4::bigint) g",
        &[&room, &head, &sender, &n],
    )
    .await?;
    tx.execute(
        "INSERT INTO room_events (room_id, seq, kind, actor, at, data)
         SELECT room_id, seq, 'message.created', sender, created_at,
                jsonb_build_object('message', jsonb_build_object('id', id, 'content', content))
         FROM messages WHERE room_id = $1 AND seq > $2",
        &[&room, &head],
    )
    .await?;
    tx.execute(
        "UPDATE rooms SET head_seq = head_seq + $2 WHERE id = $1",
        &[&room, &n],
    )
    .await?;
    tx.commit().await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

/// A photo-like picture (gradients, as a camera's JPEG compresses) of the
/// given size; [`marked`] makes each copy different.
pub fn base_photo(width: u32, height: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x / 11) as u8, (y / 7) as u8, ((x * y) / 9973) as u8])
    })
}

/// Photo `i`: the base picture with a 64×64 block of its own colour and place,
/// as a quality-85 JPEG (so no two photos are the same file).
pub fn marked(base: &image::RgbImage, i: usize) -> anyhow::Result<Vec<u8>> {
    let mut img = base.clone();
    let (x0, colour) = (
        64 * (i as u32 % 40),
        image::Rgb([i as u8, 255 - i as u8, 0]),
    );
    for y in 0..64.min(img.height()) {
        for x in x0..(x0 + 64).min(img.width()) {
            img.put_pixel(x, y, colour);
        }
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&img)?;
    Ok(out)
}

/// Makes the photos on a blocking thread, one ahead, and uploads them one at a
/// time; the bytes uploaded.
async fn upload_photos(
    ctx: &Ctx,
    owner: &Session,
    room: Uuid,
    count: usize,
) -> anyhow::Result<u64> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<u8>>>(1);
    let maker = tokio::task::spawn_blocking(move || {
        let base = base_photo(PHOTO_WIDTH, PHOTO_HEIGHT);
        for i in 0..count {
            if tx.blocking_send(marked(&base, i)).is_err() {
                return;
            }
        }
    });
    let (mut i, mut bytes) = (0, 0u64);
    while let Some(photo) = rx.recv().await {
        let photo = photo?;
        bytes += photo.len() as u64;
        ctx.api
            .upload_file(owner, room, &format!("photo-{i:02}.jpg"), photo)
            .await?;
        i += 1;
    }
    maker.await?;
    if i != count {
        bail!("{i} of {count} photos made");
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_run_from_one_status_to_the_next() {
        let mut p = Progress::default();
        p.saw("collecting", 0.01);
        p.saw("writing", 0.51);
        p.saw("assembling", 0.52);
        assert_eq!(p.end(), None);
        p.saw("completed", 10.52);
        assert_eq!(p.end(), Some("completed"));
        let s = p.stages();
        let close = |k: &str, v: f64| (s[k].unwrap() - v).abs() < 1e-9;
        assert!(close("pending_s", 0.01));
        assert!(close("collecting_s", 0.5));
        assert!(close("writing_s", 0.01));
        assert!(close("assembling_s", 10.0));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn the_first_sight_of_a_status_counts_and_unseen_stages_are_unknown() {
        let mut p = Progress::default();
        // The poll saw `assembling` late; the frame, earlier, wins.
        p.saw("assembling", 2.0);
        p.saw("assembling", 1.5);
        p.saw("collecting", 0.1);
        p.saw("completed", 3.0);
        p.saw("completed", 3.4);
        let s = p.stages();
        assert_eq!(s["pending_s"], Some(0.1));
        // `writing` never seen: neither the stage before it nor its own is known.
        assert_eq!(s["collecting_s"], None);
        assert_eq!(s["writing_s"], None);
        assert_eq!(s["assembling_s"], Some(1.5));
    }

    #[test]
    fn a_failed_report_ends_without_a_last_stage() {
        let mut p = Progress::default();
        p.saw("collecting", 0.1);
        p.saw("failed", 0.2);
        assert_eq!(p.end(), Some("failed"));
        assert_eq!(p.stages()["assembling_s"], None);
    }

    #[test]
    fn metrics_are_named_pairs_with_the_baseline_after() {
        let report = Measured {
            total_s: 12.0,
            rss_peak_growth_bytes: Some(50 * 1024 * 1024),
            ..Measured::default()
        };
        let empty = Measured {
            total_s: 0.5,
            ..Measured::default()
        };
        let m = metrics(&report, Some(&empty));
        let pairs = m.as_array().unwrap();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|p| p[0] == name)
                .map(|p| p[1].clone())
                .unwrap()
        };
        assert_eq!(get("report s"), json!(12.0));
        assert_eq!(get("peak growth MiB"), json!(50.0));
        assert_eq!(get("RSS before MiB"), Value::Null);
        assert_eq!(get("empty: report s"), json!(0.5));
        assert_eq!(get("time / empty room's"), json!(24.0));
        assert!(pairs.iter().all(|p| p.as_array().unwrap().len() == 2));
        let without = metrics(&report, None);
        let without = without.as_array().unwrap();
        assert!(
            without
                .iter()
                .all(|p| !p[0].as_str().unwrap().starts_with("empty"))
        );
    }

    #[test]
    fn photos_are_jpegs_of_the_size_asked_and_all_different() {
        let base = base_photo(300, 200);
        let photos: Vec<Vec<u8>> = (0..3).map(|i| marked(&base, i).unwrap()).collect();
        for p in &photos {
            let img = image::load_from_memory(p).unwrap();
            assert_eq!((img.width(), img.height()), (300, 200));
        }
        assert_ne!(photos[0], photos[1]);
        assert_ne!(photos[1], photos[2]);
        // A picture narrower than where the block goes is left as it is, not panicked on.
        assert!(marked(&base_photo(32, 32), 39).is_ok());
    }
}
