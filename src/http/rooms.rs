//! Rooms (PRODUCT.md R1–R4, R7): create, list, read, update, join, leave, delete,
//! and the raw event log. Every change writes its event in the same transaction.

use actix_web::{HttpResponse, web};
use andon_actors::escalation::{OpenRoom, Watch};
use andon_actors::permissions::{Action, Role};
use andon_actors::realtime::EventKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::rooms::{FieldChanges, ListFilter, NewRoom, Room, RoomView};
use crate::db::{GenericClient, audit, events, members, rooms, routing, templates, users};
use crate::domain::bounded_text;
use crate::domain::rooms::{
    DESCRIPTION_MAX, IncidentType, RESOLUTION_MAX, RoomStatus, SHORT_FIELD_MAX, Severity,
    TITLE_MAX, TransitionError, parse_lots,
};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::{ErrorBody, EventSchema};
use crate::notifications::NewNotification;
use crate::rooms::RoomAccess;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/rooms").get(list).post(create))
        .service(web::resource("/api/rooms/{id}").get(get).patch(update))
        .service(web::resource("/api/rooms/{id}/join").post(join))
        .service(web::resource("/api/rooms/{id}/leave").post(leave))
        .service(web::resource("/api/rooms/{id}/permanent").delete(delete_permanently))
        .service(web::resource("/api/rooms/{id}/events").get(list_events));
}

fn invalid(e: String) -> ApiError {
    ApiError::validation(e)
}

fn short_field(name: &str, v: &Option<String>) -> ApiResult<Option<String>> {
    v.as_deref()
        .map(|v| bounded_text(name, v, 0, SHORT_FIELD_MAX))
        .transpose()
        .map_err(invalid)
}

/// Enumerations are taken as text so that a wrong value gets `validation_failed`
/// naming the field; the schema shows the values.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateRoom {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    /// Required unless the template gives it.
    #[schema(value_type = Option<IncidentType>)]
    incident_type: Option<String>,
    /// Required unless the template gives it.
    #[schema(value_type = Option<Severity>)]
    severity: Option<String>,
    location: Option<String>,
    description: Option<String>,
    line: Option<String>,
    equipment: Option<String>,
    /// LOT/batch numbers.
    lots: Option<Vec<String>>,
    template_id: Option<Uuid>,
}

#[utoipa::path(post, path = "/api/rooms", tag = "rooms", request_body = CreateRoom, responses(
    (status = 201, description = "The room, owned by the caller (R1)", body = RoomView),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
), security(("bearer" = [])))]
async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<CreateRoom>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let client = state.db_conn().await?;
    let template = match b.template_id {
        Some(id) => Some(
            templates::get(&client, id)
                .await?
                .ok_or_else(|| ApiError::validation("template_id: no such template"))?,
        ),
        None => None,
    };
    let incident_type = match (&b.incident_type, &template) {
        (Some(t), _) => {
            IncidentType::parse(t).map_err(|e| invalid(format!("incident_type: {e}")))?
        }
        (None, Some(t)) => t.incident_type,
        (None, None) => return Err(ApiError::validation("incident_type is required")),
    };
    let severity = match (&b.severity, &template) {
        (Some(s), _) => Severity::parse(s).map_err(|e| invalid(format!("severity: {e}")))?,
        (None, Some(t)) => t.default_severity,
        (None, None) => return Err(ApiError::validation("severity is required")),
    };
    let description = match (&b.description, &template) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.default_description.clone(),
        (None, None) => String::new(),
    };
    let new = NewRoom {
        id: Uuid::new_v4(),
        title: bounded_text("title", &b.title, 1, TITLE_MAX).map_err(invalid)?,
        incident_type,
        severity,
        location: short_field("location", &b.location)?.unwrap_or_default(),
        line: short_field("line", &b.line)?.filter(|s| !s.is_empty()),
        equipment: short_field("equipment", &b.equipment)?.filter(|s| !s.is_empty()),
        description: bounded_text("description", &description, 0, DESCRIPTION_MAX)
            .map_err(invalid)?,
        lots: parse_lots(b.lots.as_deref().unwrap_or_default()).map_err(invalid)?,
        created_by: user.id.clone(),
    };

    drop(client);
    let mut initial = vec![(user.id.clone(), Role::Owner)];
    for m in template.iter().flat_map(|t| &t.default_members) {
        if !initial.iter().any(|(id, _)| *id == m.user_id) {
            initial.push((m.user_id.clone(), m.role));
        }
    }
    let room = state
        .rooms
        .work(async |w| {
            let room = rooms::insert(w.tx(), &new).await?;
            for (member, role) in &initial {
                members::add(w.tx(), room.id, member, *role, &user.id).await?;
                let data = json!({ "user_id": member, "role": role, "added_by": user.id });
                let seq = w
                    .append(room.id, EventKind::MemberAdded, &user.id, data)
                    .await?;
                if *member != user.id {
                    let added = NewNotification::added(
                        member,
                        room.id,
                        &room.title,
                        seq,
                        &user.id,
                        &user.display_name,
                    );
                    w.notify(&added).await?;
                }
            }
            // Routing rules apply on top of the template's members.
            for r in routing::route(w.tx(), &room).await? {
                let seq = w
                    .append(room.id, EventKind::MemberAdded, &user.id, routed_event(&r))
                    .await?;
                w.notify(&NewNotification::routed(
                    &r.user_id,
                    room.id,
                    &room.title,
                    seq,
                    &r.rule,
                ))
                .await?;
            }
            rooms::get(w.tx(), room.id).await?.ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("room vanished in its own transaction"))
            })
        })
        .await?;
    tracing::info!(room = %room.id, user = %user.id, "room created");
    watch_escalation(&state, &room);
    Ok(HttpResponse::Created().json(RoomView {
        room,
        is_member: true,
        my_role: Some(Role::Owner),
        unread: 0,
        mentions: 0,
    }))
}

/// The `member.added` data of someone a routing rule added.
fn routed_event(r: &routing::Routed) -> serde_json::Value {
    json!({ "user_id": r.user_id, "role": r.role, "added_by": routing::ACTOR, "rule": r.rule })
}

/// Has the escalation actor follow an active room (created, or re-graded): it
/// climbs its severity's ladder until acknowledged.
fn watch_escalation(state: &AppState, room: &Room) {
    if room.awaits_acknowledgement() {
        state.escalation.do_send(Watch(OpenRoom {
            id: room.id,
            severity: room.severity.as_str().to_string(),
            detected_at: room.created_at,
            level: 0,
        }));
    }
}

/// Parses an optional query value; empty counts as absent.
fn query_enum<T>(
    name: &str,
    v: &Option<String>,
    f: fn(&str) -> Result<T, String>,
) -> ApiResult<Option<T>> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(f)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("{name}: {e}")))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Archived rooms are listed only when asked for.
    #[param(value_type = Option<RoomStatus>)]
    status: Option<String>,
    #[param(value_type = Option<IncidentType>)]
    incident_type: Option<String>,
    #[param(value_type = Option<Severity>)]
    severity: Option<String>,
    /// Only rooms the caller is a member of.
    mine: Option<bool>,
    /// Substring of the title, description, location, line, equipment or LOTs
    /// (at most 200 characters).
    #[param(max_length = 200)]
    q: Option<String>,
    /// 1 or more (default 1).
    #[param(minimum = 1, maximum = 100000)]
    page: Option<i64>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct RoomList {
    rooms: Vec<RoomView>,
    total: i64,
    page: i64,
    page_size: i64,
}

#[utoipa::path(get, path = "/api/rooms", tag = "rooms", params(ListQuery), responses(
    (status = 200, description = "One page of the rooms the caller may see (R2)", body = RoomList),
    (status = 400, description = "`bad_request`: NUL in `q`", body = ErrorBody),
), security(("bearer" = [])))]
async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let filter = ListFilter {
        status: query_enum("status", &q.status, RoomStatus::parse)?,
        incident_type: query_enum("incident_type", &q.incident_type, IncidentType::parse)?,
        severity: query_enum("severity", &q.severity, Severity::parse)?,
        mine: q.mine.unwrap_or(false),
        q: match q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            // PostgreSQL refuses NUL in text: without this check it would be a 500.
            Some(text) if crate::domain::text::storable("q", text).is_err() => {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "q must not contain NUL characters",
                ));
            }
            Some(text) if text.chars().count() > 200 => {
                return Err(ApiError::new(
                    ErrorCode::InvalidQuery,
                    "q: at most 200 characters",
                ));
            }
            Some(text) => Some(users::escape_like(&text.to_lowercase())),
            None => None,
        },
        page: q.page.unwrap_or(1),
        page_size: q.page_size.unwrap_or(20),
    };
    if filter.page < 1 || filter.page > 100_000 {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "page must be 1 or more",
        ));
    }
    if !(1..=100).contains(&filter.page_size) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "page_size must be 1 to 100",
        ));
    }
    let client = state.db_conn().await?;
    let (found, total) = rooms::list(&client, &user.id, user.is_admin, &filter).await?;
    Ok(HttpResponse::Ok().json(RoomList {
        rooms: found,
        total,
        page: filter.page,
        page_size: filter.page_size,
    }))
}

/// The room as `user` sees it now.
pub(super) async fn view(
    client: &impl GenericClient,
    access: RoomAccess,
    user: &AuthUser,
) -> ApiResult<RoomView> {
    let (unread, mentions) = match access.role {
        Some(_) => rooms::unread(client, access.room.id, &user.id).await?,
        None => (0, 0),
    };
    Ok(RoomView {
        room: access.room,
        is_member: access.role.is_some(),
        my_role: access.role,
        unread,
        mentions,
    })
}

#[utoipa::path(get, path = "/api/rooms/{id}", tag = "rooms", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 200, description = "The room (R3)", body = RoomView),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    let access = RoomAccess::load(&client, *id, &user, false).await?;
    Ok(HttpResponse::Ok().json(view(&client, access, &user).await?))
}

/// Any subset of the fields; `status` moves the room through its lifecycle.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateRoom {
    title: Option<String>,
    #[schema(value_type = Option<IncidentType>)]
    incident_type: Option<String>,
    #[schema(value_type = Option<Severity>)]
    severity: Option<String>,
    location: Option<String>,
    line: Option<String>,
    equipment: Option<String>,
    description: Option<String>,
    lots: Option<Vec<String>>,
    #[schema(value_type = Option<RoomStatus>)]
    status: Option<String>,
    /// Required when resolving.
    resolution_notes: Option<String>,
}

impl UpdateRoom {
    fn field_changes(&self) -> ApiResult<(FieldChanges, Vec<&'static str>)> {
        let c = FieldChanges {
            title: self
                .title
                .as_deref()
                .map(|t| bounded_text("title", t, 1, TITLE_MAX))
                .transpose()
                .map_err(invalid)?,
            incident_type: self
                .incident_type
                .as_deref()
                .map(IncidentType::parse)
                .transpose()
                .map_err(|e| invalid(format!("incident_type: {e}")))?,
            severity: self
                .severity
                .as_deref()
                .map(Severity::parse)
                .transpose()
                .map_err(|e| invalid(format!("severity: {e}")))?,
            location: short_field("location", &self.location)?,
            line: short_field("line", &self.line)?,
            equipment: short_field("equipment", &self.equipment)?,
            description: self
                .description
                .as_deref()
                .map(|d| bounded_text("description", d, 0, DESCRIPTION_MAX))
                .transpose()
                .map_err(invalid)?,
            lots: self
                .lots
                .as_deref()
                .map(parse_lots)
                .transpose()
                .map_err(invalid)?,
        };
        let named = [
            ("title", c.title.is_some()),
            ("incident_type", c.incident_type.is_some()),
            ("severity", c.severity.is_some()),
            ("location", c.location.is_some()),
            ("line", c.line.is_some()),
            ("equipment", c.equipment.is_some()),
            ("description", c.description.is_some()),
            ("lots", c.lots.is_some()),
        ];
        let changed = named
            .iter()
            .filter(|(_, set)| *set)
            .map(|(n, _)| *n)
            .collect();
        Ok((c, changed))
    }
}

#[utoipa::path(patch, path = "/api/rooms/{id}", tag = "rooms", params(("id" = Uuid, Path, description = "Room id")), request_body = UpdateRoom, responses(
    (status = 200, description = "The updated room (R3)", body = RoomView),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`room_archived`, `invalid_transition`", body = ErrorBody),
), security(("bearer" = [])))]
async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateRoom>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let (changes, changed) = b.field_changes()?;
    let status = b
        .status
        .as_deref()
        .map(RoomStatus::parse)
        .transpose()
        .map_err(|e| invalid(format!("status: {e}")))?;
    let notes = b
        .resolution_notes
        .as_deref()
        .map(|n| bounded_text("resolution_notes", n, 0, RESOLUTION_MAX))
        .transpose()
        .map_err(invalid)?;
    if changed.is_empty() && status.is_none() && notes.is_none() {
        return Err(ApiError::validation("Nothing to change"));
    }
    // A new severity has another ladder; a reopened room climbs again.
    let regraded = changes.severity.is_some() || status == Some(RoomStatus::Active);

    let result = state
        .rooms
        .change(*id, &user, async |c| {
            let room_id = c.room_id();
            let from = c.room().status;
            if !changed.is_empty() {
                c.authorize(Action::UpdateRoom, None).await?;
                let room = rooms::update_fields(c.tx(), room_id, &changes).await?;
                c.append(
                    EventKind::RoomUpdated,
                    json!({ "changed": changed, "room": room }),
                )
                .await?;
                // A new severity may match other routing rules.
                if changes.severity.is_some() {
                    for r in routing::route(c.tx(), &room).await? {
                        let seq = c.append(EventKind::MemberAdded, routed_event(&r)).await?;
                        c.notify(&NewNotification::routed(
                            &r.user_id,
                            room.id,
                            &room.title,
                            seq,
                            &r.rule,
                        ))
                        .await?;
                    }
                }
            }
            match status {
                Some(to) => {
                    let step = from.transition(to, notes.as_deref());
                    // Asking for the status the room has is refused before the role
                    // is checked; any other move is checked as the role allows.
                    if !matches!(step, Err(TransitionError::Unchanged(_))) {
                        let action = if to == RoomStatus::Archived {
                            Action::Archive
                        } else {
                            Action::UpdateRoom
                        };
                        c.authorize(action, None).await?;
                    }
                    step.map_err(|e| match e {
                        TransitionError::NotesRequired => ApiError::validation(e.to_string()),
                        _ => ApiError::new(ErrorCode::InvalidTransition, e.to_string()),
                    })?;
                    let room = rooms::set_status(c.tx(), room_id, to, notes.as_deref()).await?;
                    c.append(
                        EventKind::RoomStatusChanged,
                        json!({
                            "from": from, "to": to,
                            "resolution_notes": room.resolution_notes, "room": room,
                        }),
                    )
                    .await?;
                }
                None => {
                    if let Some(n) = &notes {
                        // Notes alone: amend the resolution of a resolved room.
                        if from != RoomStatus::Resolved {
                            return Err(ApiError::validation(
                                "resolution_notes can only be set when resolving or on a resolved room",
                            ));
                        }
                        c.authorize(Action::UpdateRoom, None).await?;
                        let room = rooms::set_status(c.tx(), room_id, from, Some(n)).await?;
                        c.append(
                            EventKind::RoomUpdated,
                            json!({ "changed": ["resolution_notes"], "room": room }),
                        )
                        .await?;
                    }
                }
            }
            let access = RoomAccess::load(c.tx(), room_id, &user, false).await?;
            view(c.tx(), access, &user).await
        })
        .await?;
    if regraded {
        watch_escalation(&state, &result.room);
    }
    Ok(HttpResponse::Ok().json(result))
}

#[utoipa::path(post, path = "/api/rooms/{id}/join", tag = "rooms", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 200, description = "Joined as viewer (R4)", body = RoomView),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`already_member`, `room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn join(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let result = state
        .rooms
        .change(*id, &user, async |c| {
            if c.role().is_some() {
                return Err(ApiError::new(
                    ErrorCode::AlreadyMember,
                    "You are already a member of this room",
                ));
            }
            members::add(c.tx(), c.room_id(), &user.id, Role::Viewer, &user.id).await?;
            c.append(
                EventKind::MemberAdded,
                json!({ "user_id": user.id, "role": Role::Viewer, "added_by": user.id, "joined": true }),
            )
            .await?;
            let access = RoomAccess::load(c.tx(), c.room_id(), &user, false).await?;
            view(c.tx(), access, &user).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[utoipa::path(post, path = "/api/rooms/{id}/leave", tag = "rooms", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 204, description = "Left the room"),
    (status = 404, description = "`not_found`: no such room, or not a member", body = ErrorBody),
    (status = 409, description = "`owner_must_transfer`, `room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn leave(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    state
        .rooms
        .change(*id, &user, async |c| {
            match c.role() {
                None => return Err(ApiError::not_found("Your membership")),
                Some(Role::Owner) => {
                    return Err(ApiError::new(
                        ErrorCode::OwnerMustTransfer,
                        "The owner must transfer ownership before leaving",
                    ));
                }
                Some(_) => {}
            }
            members::remove(c.tx(), c.room_id(), &user.id).await?;
            c.append(
                EventKind::MemberRemoved,
                json!({ "user_id": user.id, "removed_by": user.id, "left": true }),
            )
            .await
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(delete, path = "/api/rooms/{id}/permanent", tag = "rooms", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 204, description = "The room and everything in it are deleted (R7)"),
    (status = 403, description = "`forbidden`: system administrators only", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn delete_permanently(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    if !user.is_admin {
        return Err(ApiError::forbidden(
            "Only system administrators may delete rooms permanently",
        ));
    }
    let room = state
        .rooms
        .work(async |w| {
            let room = rooms::lock(w.tx(), *id)
                .await?
                .ok_or_else(|| ApiError::not_found("Room"))?;
            rooms::delete(w.tx(), room.id).await?;
            // The audit record names the room in its details only: no row keeps the
            // deleted room's id as a reference.
            audit::record(
                w.tx(),
                &audit::Entry {
                    actor: &user.id,
                    action: "delete_room_permanently",
                    room_id: None,
                    target: None,
                    details: json!({ "room": room.id, "title": room.title }),
                },
            )
            .await?;
            Ok(room)
        })
        .await?;
    state.rooms.deleted(room.id, &user.id);
    match state
        .storage
        .delete_prefix(&crate::storage::room_prefix(room.id))
        .await
    {
        Ok(n) => tracing::info!(room = %room.id, objects = n, "room objects deleted"),
        Err(e) => tracing::error!(room = %room.id, error = %e, "room objects could not be deleted"),
    }
    tracing::info!(room = %room.id, admin = %user.id, "room deleted permanently");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// Events after this seq (default 0).
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct EventPage {
    #[schema(value_type = Vec<EventSchema>)]
    events: Vec<events::Event>,
    head_seq: i64,
    has_more: bool,
}

#[utoipa::path(get, path = "/api/rooms/{id}/events", tag = "rooms", params(("id" = Uuid, Path, description = "Room id"), EventsQuery), responses(
    (status = 200, description = "The raw room event log, in seq order", body = EventPage),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn list_events(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<EventsQuery>,
) -> ApiResult<HttpResponse> {
    let after = query.after_seq.unwrap_or(0);
    let limit = query.limit.unwrap_or(100);
    if after < 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "after_seq must be 0 or more",
        ));
    }
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "limit must be 1 to 1000",
        ));
    }
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, *id, &user).await?;
    let mut found = events::list(&client, access.room.id, after, limit + 1).await?;
    let has_more = found.len() as i64 > limit;
    found.truncate(limit as usize);
    Ok(HttpResponse::Ok().json(EventPage {
        events: found,
        head_seq: access.room.head_seq,
        has_more,
    }))
}
