//! Files (PRODUCT.md F1–F3): upload, list, metadata, download, thumbnail, delete.
//!
//! An upload is checked (role, room writable) before its body is read, streamed to
//! a spool file (sniffed, size-limited, hashed), thumbnailed when it is an image,
//! stored, and only then recorded with its message and events in one transaction.
//! Any failure on the way leaves nothing: the spool file is removed on drop and
//! stored objects are deleted before the error is answered.

use actix_files::NamedFile;
use actix_multipart::Multipart;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use andon_actors::permissions::{self, Action};
use andon_actors::realtime::EventKind;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::files::{FileView, NewFile};
use crate::db::messages::MessageView;
use crate::db::{events, files, messages};
use crate::domain::rooms::RoomStatus;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::files::{
    Kind, Received, Spool, THUMBNAILS, Thumbnail, receive, sanitize_name, with_matching_extension,
};
use crate::http::openapi::ErrorBody;
use crate::rooms::RoomAccess;
use crate::state::AppState;
use crate::storage::{self, Download, StorageError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/rooms/{id}/files")
            .get(list)
            .post(upload),
    )
    .service(
        web::resource("/api/rooms/{id}/files/{file_id}")
            .get(metadata)
            .delete(delete),
    )
    .service(web::resource("/api/rooms/{id}/files/{file_id}/content").get(content))
    .service(web::resource("/api/rooms/{id}/files/{file_id}/thumbnail").get(thumbnail));
}

const CAPTION_MAX: usize = 2000;
/// Multipart framing and the caption on top of the largest file.
const ENVELOPE: u64 = 64 * 1024;

fn storage_unavailable(e: StorageError) -> ApiError {
    tracing::warn!(error = %e, "storage error");
    metrics::counter!("andon_storage_errors_total").increment(1);
    ApiError::new(
        ErrorCode::Unavailable,
        "File storage is unavailable; try again shortly",
    )
    .with_retry_after(5)
}

/// The multipart form of an upload (a schema only: the body is streamed).
#[derive(ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// The file; its type is sniffed from the bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Shown as the text of the file's message (at most 2000 characters).
    caption: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Uploaded {
    file: FileView,
    /// The `file_ref` or `image_ref` message that carries the file.
    message: MessageView,
}

#[utoipa::path(post, path = "/api/rooms/{id}/files", tag = "files", params(("id" = Uuid, Path, description = "Room id")), request_body(content = UploadForm, content_type = "multipart/form-data"), responses(
    (status = 201, description = "Stored, with its message", body = Uploaded),
    (status = 400, description = "`validation_failed`: not the form described", body = ErrorBody),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`room_archived`", body = ErrorBody),
    (status = 413, description = "`payload_too_large`: over the limit of its type", body = ErrorBody),
    (status = 415, description = "`unsupported_media_type`: a type that is not allowed, or an image that does not decode", body = ErrorBody),
    (status = 503, description = "`unavailable`: the file storage is unreachable", body = ErrorBody),
), security(("bearer" = [])))]
async fn upload(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let room_id = *id;
    let limits = &state.config.file_limits;
    let largest = limits
        .image_bytes
        .max(limits.document_bytes)
        .max(limits.text_bytes);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > largest + ENVELOPE) {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("Files may be at most {largest} bytes"),
        ));
    }
    {
        // Refuse before reading a byte of the body.
        let client = state.db_conn().await?;
        let access = RoomAccess::load(&client, room_id, &user, false).await?;
        access.ensure_writable()?;
        access.authorize(&client, &user, Action::Send, None).await?;
    }

    let spool_dir = state.storage.spool_dir();
    tokio::fs::create_dir_all(&spool_dir)
        .await
        .map_err(|e| storage_unavailable(StorageError::Unavailable(e.to_string())))?;
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut received: Option<(Received, String)> = None;
    let mut caption = String::new();
    while let Some(field) = multipart.next().await {
        let mut field =
            field.map_err(|e| ApiError::validation(format!("Invalid multipart body: {e}")))?;
        match field.name() {
            Some("file") if received.is_none() => {
                let name = sanitize_name(
                    field
                        .content_disposition()
                        .and_then(|cd| cd.get_filename())
                        .unwrap_or("file"),
                );
                let r = receive(
                    &mut field,
                    &name,
                    &spool_dir,
                    limits,
                    &state.realtime.metrics,
                )
                .await?;
                received = Some((r, name));
            }
            Some("caption") => caption = read_caption(&mut field).await?,
            Some("file") => return Err(ApiError::validation("Send one `file` field per upload")),
            other => {
                return Err(ApiError::validation(format!(
                    "Unknown multipart field `{}`: send `file` and optionally `caption`",
                    other.unwrap_or("")
                )));
            }
        }
    }
    let (received, name) =
        received.ok_or_else(|| ApiError::validation("The multipart field `file` is required"))?;
    let name = with_matching_extension(&name, received.mime);

    let file_id = Uuid::new_v4();
    let thumb = match received.kind {
        Kind::Image => {
            let spool = Spool::new(&spool_dir, ".thumb.jpg");
            let (src, dst) = (received.spool.path.clone(), spool.path.clone());
            let outcome = THUMBNAILS.make(src, dst).await.map_err(|e| {
                ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    format!("The image could not be decoded: {e}"),
                )
            })?;
            match outcome {
                Thumbnail::Made => Some(spool),
                // Kept as evidence all the same; shown as a file, downloaded as
                // an attachment (see `content`).
                Thumbnail::TooLarge(why) => {
                    tracing::info!(room = %room_id, file = %file_id, %why, "image too large for a thumbnail");
                    None
                }
            }
        }
        _ => None,
    };

    // Store the objects, then the records; undo the objects if the records fail.
    let key = storage::object_key(room_id, file_id);
    let thumb_key = thumb
        .as_ref()
        .map(|_| storage::thumbnail_key(room_id, file_id));
    let mut stored: Vec<String> = Vec::new();
    let result = async {
        state
            .storage
            .put_file(&key, &received.spool.path, received.mime)
            .await
            .map_err(storage_unavailable)?;
        stored.push(key.clone());
        if let (Some(t), Some(tk)) = (&thumb, &thumb_key) {
            state
                .storage
                .put_file(tk, &t.path, "image/jpeg")
                .await
                .map_err(storage_unavailable)?;
            stored.push(tk.clone());
        }
        record_upload(
            &state,
            &user,
            room_id,
            file_id,
            &received,
            &name,
            &key,
            thumb_key.as_deref(),
            caption,
        )
        .await
    }
    .await;
    match result {
        Ok((file, message)) => Ok(HttpResponse::Created().json(Uploaded { file, message })),
        Err(e) => {
            for k in &stored {
                if let Err(err) = state.storage.delete(k).await {
                    tracing::error!(key = %k, error = %err, "could not remove the object of a failed upload");
                }
            }
            Err(e)
        }
    }
}

async fn read_caption(field: &mut actix_multipart::Field) -> ApiResult<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| ApiError::validation(format!("Upload interrupted: {e}")))?;
        bytes.extend_from_slice(&chunk);
        if bytes.len() > CAPTION_MAX * 4 {
            return Err(ApiError::validation(format!(
                "caption must be at most {CAPTION_MAX} characters"
            )));
        }
    }
    let text =
        String::from_utf8(bytes).map_err(|_| ApiError::validation("caption must be UTF-8 text"))?;
    crate::domain::bounded_text("caption", &text, 0, CAPTION_MAX).map_err(ApiError::validation)
}

/// The file row, its message and their two events, in one transaction.
#[allow(clippy::too_many_arguments)]
async fn record_upload(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    file_id: Uuid,
    r: &Received,
    name: &str,
    key: &str,
    thumb_key: Option<&str>,
    caption: String,
) -> ApiResult<(FileView, MessageView)> {
    let (file, message) = state
        .rooms
        .change(room_id, user, async |c| {
            // Checked (and audited) before the body was read; the role may have
            // changed since.
            let archived = c.room().status == RoomStatus::Archived;
            if !permissions::may_post(c.role(), user.is_admin, archived).allowed() {
                return Err(ApiError::forbidden(
                    "Your role in this room does not allow uploads",
                ));
            }
            let seq = events::reserve(c.tx(), room_id, 2).await?;
            // PostgreSQL keeps microseconds: so must the copy in the event.
            let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
            let mut message = MessageView {
                id: Uuid::now_v7(),
                room_id,
                seq,
                sender: user.id.clone(),
                sender_name: user.display_name.clone(),
                message_type: if r.kind == Kind::Image {
                    "image_ref"
                } else {
                    "file_ref"
                }
                .into(),
                content: caption,
                metadata: json!({}),
                client_id: format!("upload:{file_id}"),
                created_at: now,
                edited_at: None,
                deleted: false,
                reactions: Vec::new(),
                file: None,
                pinned: false,
            };
            messages::insert(c.tx(), &message).await?;
            let file = files::insert(
                c.tx(),
                &NewFile {
                    id: file_id,
                    room_id,
                    uploader: &user.id,
                    name,
                    kind: r.kind.as_str(),
                    mime_type: r.mime,
                    size: r.size as i64,
                    sha256: &r.sha256,
                    storage_key: key,
                    thumbnail_key: thumb_key,
                    message_id: message.id,
                },
            )
            .await?;
            message.file = Some(json!(file));
            c.insert(events::Event {
                room_id,
                seq,
                kind: EventKind::MessageCreated.into(),
                at: now,
                actor: user.id.clone(),
                data: json!(message),
            })
            .await?;
            c.insert(events::Event {
                room_id,
                seq: seq + 1,
                kind: EventKind::FileAdded.into(),
                at: now,
                actor: user.id.clone(),
                data: json!({ "file": file, "message_id": message.id }),
            })
            .await?;
            Ok((file, message))
        })
        .await?;
    tracing::info!(room = %room_id, file = %file_id, size = r.size, mime = r.mime, "file uploaded");
    Ok((file, message))
}

async fn readable_file(
    state: &AppState,
    user: &AuthUser,
    room: Uuid,
    file: Uuid,
) -> ApiResult<FileView> {
    let client = state.db_conn().await?;
    RoomAccess::readable(&client, room, user).await?;
    files::get(&client, room, file)
        .await?
        .filter(|f| !f.deleted)
        .ok_or_else(|| ApiError::not_found("File"))
}

#[derive(Serialize, ToSchema)]
struct FileList {
    /// Newest first; deleted files are left out.
    files: Vec<FileView>,
}

#[utoipa::path(get, path = "/api/rooms/{id}/files", tag = "files", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 200, description = "The room's files", body = FileList),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, *id, &user).await?;
    let list = files::list(&client, access.room.id).await?;
    Ok(HttpResponse::Ok().json(FileList { files: list }))
}

#[utoipa::path(get, path = "/api/rooms/{id}/files/{file_id}", tag = "files", params(("id" = Uuid, Path, description = "Room id"), ("file_id" = Uuid, Path, description = "File id")), responses(
    (status = 200, description = "The file's metadata", body = FileView),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn metadata(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (room, file) = path.into_inner();
    Ok(HttpResponse::Ok().json(readable_file(&state, &user, room, file).await?))
}

#[utoipa::path(get, path = "/api/rooms/{id}/files/{file_id}/content", tag = "files", params(("id" = Uuid, Path, description = "Room id"), ("file_id" = Uuid, Path, description = "File id")), responses(
    (status = 200, description = "The bytes, with the sniffed type (local storage, or S3 without a public endpoint)", content(
        ("image/jpeg"), ("image/png"), ("image/gif"), ("image/webp"),
        ("application/pdf"), ("text/plain"), ("text/csv"),
    )),
    (status = 206, description = "The requested `Range` (served by Andon)"),
    (status = 302, description = "S3 storage with a public endpoint: to a URL presigned for one hour"),
    (status = 304, description = "Not modified (conditional request)"),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 416, description = "The `Range` cannot be satisfied"),
    (status = 503, description = "`unavailable`: the file storage is unreachable", body = ErrorBody),
), security(("bearer" = [])))]
async fn content(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (room, file) = path.into_inner();
    let f = readable_file(&state, &user, room, file).await?;
    // An image too large to thumbnail is not handed to browsers to render.
    let inline = f.kind == "image" && f.thumbnail_key.is_some();
    serve(&state, &req, &f.storage_key, &f.mime_type, &f.name, inline).await
}

#[utoipa::path(get, path = "/api/rooms/{id}/files/{file_id}/thumbnail", tag = "files", params(("id" = Uuid, Path, description = "Room id"), ("file_id" = Uuid, Path, description = "File id")), responses(
    (status = 200, description = "JPEG thumbnail, longest side 320 px (local storage, or S3 without a public endpoint)", content_type = "image/jpeg"),
    (status = 206, description = "The requested `Range` (served by Andon)"),
    (status = 302, description = "S3 storage with a public endpoint: to a URL presigned for one hour"),
    (status = 304, description = "Not modified (conditional request)"),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`: no such file, or not an image", body = ErrorBody),
    (status = 416, description = "The `Range` cannot be satisfied"),
    (status = 503, description = "`unavailable`: the file storage is unreachable", body = ErrorBody),
), security(("bearer" = [])))]
async fn thumbnail(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (room, file) = path.into_inner();
    let f = readable_file(&state, &user, room, file).await?;
    let key = f
        .thumbnail_key
        .ok_or_else(|| ApiError::not_found("Thumbnail"))?;
    let name = format!("{}.thumb.jpg", f.name);
    serve(&state, &req, &key, "image/jpeg", &name, true).await
}

/// `Content-Disposition` with an ASCII fallback name and the UTF-8 name.
fn disposition(name: &str, inline: bool) -> ContentDisposition {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: if inline {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// Serves a stored object as a download named `name` (reports' documents).
pub(crate) async fn serve_attachment(
    state: &AppState,
    req: &HttpRequest,
    key: &str,
    mime: &str,
    name: &str,
) -> ApiResult<HttpResponse> {
    serve(state, req, key, mime, name, false).await
}

async fn serve(
    state: &AppState,
    req: &HttpRequest,
    key: &str,
    mime: &str,
    name: &str,
    inline: bool,
) -> ApiResult<HttpResponse> {
    let cd = disposition(name, inline);
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(storage::single_byte_range);
    let download = match state
        .storage
        .download(key, mime, &cd.to_string(), range)
        .await
    {
        Ok(d) => d,
        Err(StorageError::NotFound) => return Err(ApiError::not_found("File content")),
        Err(StorageError::RangeNotSatisfiable) => {
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .finish());
        }
        Err(e) => return Err(storage_unavailable(e)),
    };
    let mut response = match download {
        Download::File(path) => {
            let mime: mime::Mime = mime.parse().map_err(ApiError::internal)?;
            NamedFile::open_async(&path)
                .await
                .map_err(|e| storage_unavailable(StorageError::Unavailable(e.to_string())))?
                .set_content_type(mime)
                .set_content_disposition(cd)
                .into_response(req)
        }
        Download::Redirect(url) => HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .finish(),
        Download::Stream(object) => {
            let mut response = if object.content_range.is_some() {
                HttpResponse::PartialContent()
            } else {
                HttpResponse::Ok()
            };
            response
                .insert_header((header::CONTENT_TYPE, mime))
                .insert_header(cd)
                .insert_header((header::ACCEPT_RANGES, "bytes"))
                .insert_header((header::CACHE_CONTROL, "private"));
            if let Some(range) = object.content_range {
                response.insert_header((header::CONTENT_RANGE, range));
            }
            if let Some(etag) = object.etag {
                response.insert_header((header::ETAG, etag));
            }
            match object.length {
                Some(len) => response.body(actix_web::body::SizedStream::new(len, object.body)),
                None => response.streaming(object.body),
            }
        }
    };
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[utoipa::path(delete, path = "/api/rooms/{id}/files/{file_id}", tag = "files", params(("id" = Uuid, Path, description = "Room id"), ("file_id" = Uuid, Path, description = "File id")), responses(
    (status = 204, description = "The file and its message are deleted (soft)"),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (room_id, file_id) = path.into_inner();
    state
        .rooms
        .change(room_id, &user, async |c| {
            let file = files::get(c.tx(), room_id, file_id)
                .await?
                .filter(|f| !f.deleted)
                .ok_or_else(|| ApiError::not_found("File"))?;
            let action = if file.uploader == user.id {
                Action::EditOwn
            } else {
                Action::DeleteAnyMessage
            };
            c.authorize(action, Some(&file_id.to_string())).await?;
            files::soft_delete(c.tx(), file_id, &user.id).await?;
            if let Some(message_id) = file.message_id
                && messages::lock(c.tx(), room_id, message_id)
                    .await?
                    .is_some_and(|m| !m.deleted)
            {
                messages::soft_delete(c.tx(), room_id, message_id, &user.id).await?;
                c.append(
                    EventKind::MessageDeleted,
                    json!({"message_id": message_id, "deleted_by": user.id}),
                )
                .await?;
                crate::rooms::pins::unpin_deleted(c, message_id).await?;
            }
            c.append(
                EventKind::FileDeleted,
                json!({"file_id": file_id, "message_id": file.message_id}),
            )
            .await
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
