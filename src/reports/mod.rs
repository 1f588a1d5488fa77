//! Incident reports (issue 18): a .docx built from a room's record, with its
//! timeline, participants, figures and evidence; the Summary and Resolution
//! process optionally written by an on-premise model.
//!
//! A report runs in stages, each one stored in its row and pushed to the
//! requester's sockets in the room (`report_progress` frames):
//! `pending` (queued) → `collecting` ([`collect`]: the record, in bounded
//! pieces) → `writing` (the two prose sections, from the record or the model) →
//! `assembling` (images fetched one at a time, downscaled and stripped of
//! metadata; the .docx written to a spool file and stored under the room's
//! prefix) → `completed`, with a durable `report.created` event in the room's log;
//! or `failed` with a reason.
//!
//! Reports run on a bounded pool: at most `ANDON_REPORT_WORKERS` at once in a
//! process, at most `ANDON_REPORT_QUEUE` waiting or running (then 503). The
//! process holds a lease on its unfinished reports; on shutdown it fails them
//! itself, and after a crash any node fails them once the lease lapses.

pub mod collect;
pub mod compose;
pub mod digest;
pub mod docx;
pub mod images;
pub mod llm;
pub mod model;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use andon_actors::permissions::Action;
use andon_actors::realtime::{EventKind, ServerFrame};
use dashmap::DashSet;
use deadpool_postgres::Pool;
use serde_json::json;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::config::ReportConfig;
use crate::db::reports::{self, Finished, NewReport, Report, ReportStatus};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::rooms::{RoomAccess, Rooms};
use crate::storage::{self, Storage};
use compose::Style;
use model::{Language, PreparedImage, Record, Written, WrittenBy};

/// How long a process's claim on its unfinished reports holds without renewal.
const LEASE: Duration = Duration::from_secs(30);
/// How often the claim is renewed and lapsed ones are failed.
const LEASE_TICK: Duration = Duration::from_secs(10);
/// The reason given for a report whose process died.
const LAPSED: &str =
    "interrupted: the server stopped before the report was finished; generate it again";
/// The reason given for reports a process had when it shut down.
const SHUT_DOWN: &str =
    "interrupted: the server was restarted before the report was finished; generate it again";
/// Why a report failed, as its requester is told (the cause goes to the log).
const DATABASE: &str = "the database could not be reached; generate the report again";
const DOCUMENT: &str = "the document could not be written on the server; generate the report again";
const STORAGE: &str = "the file storage could not be reached; generate the report again";
const SHUTTING_DOWN: &str = "the server is shutting down; generate the report again";

/// Maps an error to `reason`, for the requester, and logs the error itself
/// (it may name hosts, paths or SQL, which are not for them).
fn because<E: std::fmt::Display>(reason: &'static str) -> impl FnOnce(E) -> String {
    move |e| {
        tracing::warn!(error = %e, reason, "report step failed");
        reason.to_string()
    }
}

/// `application/vnd.openxmlformats-officedocument.wordprocessingml.document`.
pub const DOCX_MIME: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// What a user asks for.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub language: Language,
    pub ai: bool,
}

/// The report service; cloning is cheap.
#[derive(Clone)]
pub struct ReportService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Pool,
    rooms: Rooms,
    storage: Arc<dyn Storage>,
    config: ReportConfig,
    llm: Option<llm::LlmClient>,
    workers: Semaphore,
    /// The unfinished reports this process holds (queued or running).
    held: DashSet<Uuid>,
}

impl ReportService {
    pub fn new(
        db: Pool,
        rooms: Rooms,
        storage: Arc<dyn Storage>,
        config: ReportConfig,
    ) -> anyhow::Result<Self> {
        let workers = Semaphore::new(config.workers);
        let llm = config.llm.as_ref().map(llm::LlmClient::new).transpose()?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                llm,
                rooms,
                storage,
                config,
                workers,
                held: DashSet::new(),
            }),
        })
    }

    /// Whether reports may ask a model (`ANDON_LLM_URL` is set).
    pub fn ai_available(&self) -> bool {
        self.inner.config.llm.is_some()
    }

    /// Renews this process's leases and fails lapsed reports of any process, now
    /// and every [`LEASE_TICK`], for as long as the runtime runs.
    pub fn spawn_lease_keeper(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LEASE_TICK);
            loop {
                tick.tick().await;
                if let Err(e) = this.keep_leases().await {
                    tracing::warn!(error = %e, "report leases not renewed");
                }
            }
        });
    }

    async fn keep_leases(&self) -> Result<(), anyhow::Error> {
        let client = crate::db::conn(&self.inner.db).await?;
        let held: Vec<Uuid> = self.held().into_iter().collect();
        if !held.is_empty() {
            reports::renew(&client, &held, LEASE).await?;
        }
        for r in reports::fail_lapsed(&client, LAPSED).await? {
            tracing::warn!(report = %r.id, room = %r.room_id, "report's process is gone: failed");
            self.progress(&r);
        }
        Ok(())
    }

    /// Fails the reports this process holds (it is shutting down).
    pub async fn interrupt(&self) {
        let held = self.held();
        if held.is_empty() {
            return;
        }
        let client = match crate::db::conn(&self.inner.db).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "reports left to their lease: no database connection");
                return;
            }
        };
        for id in held {
            match reports::fail(&client, id, SHUT_DOWN).await {
                Ok(Some(r)) => self.progress(&r),
                Ok(None) => {}
                Err(e) => tracing::warn!(report = %id, error = %e, "report left to its lease"),
            }
        }
    }

    fn held(&self) -> Vec<Uuid> {
        self.inner.held.iter().map(|id| *id).collect()
    }

    /// Starts a report of `room_id` for `user`, or answers the one like it that
    /// is still running. Editors and owners only (admins audited).
    pub async fn start(
        &self,
        user: &AuthUser,
        room_id: Uuid,
        request: Request,
    ) -> ApiResult<(Report, bool)> {
        if request.ai && !self.ai_available() {
            return Err(ApiError::validation(
                "ai: no language model is configured on this server (ANDON_LLM_URL)",
            ));
        }
        let client = crate::db::conn(&self.inner.db).await?;
        let access = RoomAccess::load(&client, room_id, user, false).await?;
        access
            .authorize(&client, user, Action::GenerateReport, None)
            .await?;
        if let Some(same) = reports::unfinished_in_room(&client, room_id)
            .await?
            .into_iter()
            .find(|r| r.language == request.language && r.ai == request.ai)
        {
            return Ok((same, false));
        }
        let held = self.inner.held.len();
        if held >= self.inner.config.queue {
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                format!("{held} reports are queued or running; try again in a minute"),
            )
            .with_retry_after(60));
        }
        let report = reports::insert(
            &client,
            &NewReport {
                id: Uuid::now_v7(),
                room_id,
                requested_by: &user.id,
                language: request.language,
                ai: request.ai,
                lease: LEASE,
            },
        )
        .await?;
        self.inner.held.insert(report.id);
        let this = self.clone();
        let job = report.clone();
        tokio::spawn(async move { this.run(job).await });
        Ok((report, true))
    }

    /// Runs one report when a worker is free, to its end.
    async fn run(&self, report: Report) {
        let outcome = match self.inner.workers.acquire().await {
            Ok(_permit) => self.build(&report).await,
            Err(e) => Err(because(SHUTTING_DOWN)(e)),
        };
        if let Err(reason) = outcome {
            tracing::warn!(report = %report.id, room = %report.room_id, %reason, "report failed");
            if let Ok(client) = crate::db::conn(&self.inner.db).await
                && let Ok(Some(r)) = reports::fail(&client, report.id, &reason).await
            {
                self.progress(&r);
            }
        }
        self.inner.held.remove(&report.id);
    }

    /// Moves the report to `stage` and tells the requester; `false` if it was
    /// finished meanwhile (failed by a shutdown, its room deleted).
    async fn stage(&self, report: &Report, stage: ReportStatus) -> Result<bool, String> {
        let client = crate::db::conn(&self.inner.db)
            .await
            .map_err(because(DATABASE))?;
        let moved = reports::set_stage(&client, report.id, stage)
            .await
            .map_err(because(DATABASE))?;
        if moved {
            self.progress(&Report {
                status: stage,
                ..report.clone()
            });
        }
        Ok(moved)
    }

    /// Tells the requester's sockets in the room where the report is.
    fn progress(&self, r: &Report) {
        let frame = ServerFrame::ReportProgress {
            room_id: r.room_id,
            report_id: r.id,
            status: r.status.as_str().to_string(),
            reason: r.reason.clone(),
        };
        self.inner
            .rooms
            .to_user(r.room_id, &r.requested_by, frame.to_text(None));
    }

    /// Collects, writes and assembles the report; `Err` is the reason it failed,
    /// for people.
    async fn build(&self, report: &Report) -> Result<(), String> {
        let style = Style {
            language: report.language,
            zone: self.inner.config.time_zone,
        };
        if !self.stage(report, ReportStatus::Collecting).await? {
            return Ok(());
        }
        let record = {
            let client = crate::db::conn(&self.inner.db)
                .await
                .map_err(because(DATABASE))?;
            collect::record(&client, report.room_id, &report.requested_by)
                .await
                .map_err(because(DATABASE))?
                .ok_or("the room was deleted")?
        };

        if !self.stage(report, ReportStatus::Writing).await? {
            return Ok(());
        }
        let written = self.write(&record, style, report.ai).await;

        if !self.stage(report, ReportStatus::Assembling).await? {
            return Ok(());
        }
        tokio::fs::create_dir_all(self.inner.storage.spool_dir())
            .await
            .map_err(because(DOCUMENT))?;
        let embedded = record
            .files
            .iter()
            .filter(|f| f.kind == "image")
            .count()
            .min(self.inner.config.max_images);
        let images = self.prepare_images(&record, embedded).await;
        let content = compose::content(&record, &written, style, embedded);
        let file_name = compose::file_name(&record, style);
        let key = storage::report_key(report.room_id, report.id);
        let (size, sha256) = self.store(content.clone(), images, &key).await?;

        let finished = Finished {
            content: &content,
            file_name: &file_name,
            storage_key: &key,
            size,
            sha256: &sha256,
        };
        let room_id = report.room_id;
        let requester = report.requested_by.clone();
        let done = self
            .inner
            .rooms
            .work(async |w| {
                let Some(done) = reports::complete(w.tx(), report.id, &finished).await? else {
                    w.abandon();
                    return Ok(None);
                };
                w.append(
                    room_id,
                    EventKind::ReportCreated,
                    &requester,
                    json!({ "report": done }),
                )
                .await?;
                Ok(Some(done))
            })
            .await
            .map_err(because(DATABASE))?;
        match done {
            Some(done) => self.progress(&done),
            // Failed meanwhile (a shutdown): the stored document is not kept.
            None => {
                let _ = self.inner.storage.delete(&key).await;
            }
        }
        Ok(())
    }

    /// The Summary and Resolution process: by the model when asked and
    /// available, else (or when it fails) from the record.
    async fn write(&self, record: &Record, style: Style, ai: bool) -> Written {
        let deterministic = compose::from_record(record, style);
        let Some(llm) = self.inner.llm.as_ref().filter(|_| ai) else {
            return deterministic;
        };
        match llm.write(record, style.language).await {
            Ok(written) => written,
            Err(e) => {
                tracing::warn!(room = %record.room.id, error = %e, "the model did not write the report");
                Written {
                    by: WrittenBy::Fallback {
                        reason: llm::fallback_note(&e, style.language),
                    },
                    ..deterministic
                }
            }
        }
    }

    /// The first `count` images, fetched and prepared one at a time (so a room's
    /// images are never in memory at once, only their small re-encodings); one
    /// that cannot be read is left out and the document says so under its
    /// caption.
    async fn prepare_images(&self, record: &Record, count: usize) -> Vec<PreparedImage> {
        let mut prepared = Vec::new();
        for f in record
            .files
            .iter()
            .filter(|f| f.kind == "image")
            .take(count)
        {
            let path = self.spool_path(".img");
            let outcome = match self.inner.storage.fetch(&f.storage_key, &path).await {
                Ok(()) => {
                    images::prepare_image_bounded(f.id, path.clone(), images::EVIDENCE_SIDE).await
                }
                Err(e) => Err(e.to_string()),
            };
            let _ = tokio::fs::remove_file(&path).await;
            match outcome {
                Ok(Some(image)) => prepared.push(image),
                Ok(None) => {}
                Err(e) => tracing::warn!(file = %f.id, error = %e, "image left out of a report"),
            }
        }
        prepared
    }

    /// Writes the .docx to a spool file and stores it under `key`; its size
    /// and SHA-256.
    async fn store(
        &self,
        content: model::ReportContent,
        images: Vec<PreparedImage>,
        key: &str,
    ) -> Result<(i64, String), String> {
        let path = self.spool_path(".docx");
        let written = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || -> Result<(i64, String), String> {
                let file = std::fs::File::create(&path).map_err(because(DOCUMENT))?;
                docx::write_docx(&content, &images, std::io::BufWriter::new(file))
                    .map_err(because(DOCUMENT))?;
                drop(images);
                let mut hasher = openssl::sha::Sha256::new();
                let mut file = std::fs::File::open(&path).map_err(because(DOCUMENT))?;
                let mut buf = vec![0u8; 64 * 1024];
                let mut size = 0i64;
                loop {
                    let n = std::io::Read::read(&mut file, &mut buf).map_err(because(DOCUMENT))?;
                    if n == 0 {
                        break;
                    }
                    size += n as i64;
                    hasher.update(&buf[..n]);
                }
                let sha = hasher.finish().iter().map(|b| format!("{b:02x}")).collect();
                Ok((size, sha))
            })
            .await
            .map_err(because(DOCUMENT))
            .and_then(|r| r)
        };
        let stored = match written {
            Ok(done) => self
                .inner
                .storage
                .put_file(key, &path, DOCX_MIME)
                .await
                .map(|()| done)
                .map_err(because(STORAGE)),
            Err(e) => Err(e),
        };
        let _ = tokio::fs::remove_file(&path).await;
        stored
    }

    fn spool_path(&self, suffix: &str) -> PathBuf {
        self.inner
            .storage
            .spool_dir()
            .join(format!("report-{}{suffix}", Uuid::new_v4()))
    }
}
