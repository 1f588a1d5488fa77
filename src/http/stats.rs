//! Figures over incident rooms (issue 19): counts by status and severity, MTTA and
//! MTTR (median, p90) overall, per line and per incident type, and the rooms open
//! longest. Members see figures over the rooms they are members of, system
//! administrators over all rooms.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::db::stats::{self, Counts, LineFigures, OpenRoom, Scope, Spread, TypeFigures};
use crate::domain::bounded_text;
use crate::domain::rooms::{IncidentType, SHORT_FIELD_MAX, Severity};
use crate::error::{ApiError, ApiResult};
use crate::http::openapi::ErrorBody;
use crate::state::AppState;

/// The window when none is given: the last 30 days.
const DEFAULT_DAYS: i64 = 30;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/stats").get(figures));
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// Rooms created at or after this time (RFC 3339; default: 30 days before `to`).
    from: Option<String>,
    /// Rooms created before this time (RFC 3339; default: now).
    to: Option<String>,
    /// Only rooms of this production line (exact).
    #[param(max_length = 200)]
    line: Option<String>,
    #[param(value_type = Option<IncidentType>)]
    incident_type: Option<String>,
    #[param(value_type = Option<Severity>)]
    severity: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct StatsAnswer {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    counts: Counts,
    /// Time to acknowledge (MTTA): from creation to the acknowledgement.
    mtta: Spread,
    /// Time to resolve (MTTR): from creation to the first resolution.
    mttr: Spread,
    /// Most rooms first; `line: null` gathers rooms without a line.
    by_line: Vec<LineFigures>,
    /// Most rooms first.
    by_incident_type: Vec<TypeFigures>,
    /// Active rooms, oldest first (at most 10).
    slowest_open: Vec<OpenRoom>,
}

/// An optional query value; empty counts as absent.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

fn time(name: &str, v: &str) -> ApiResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::validation(format!(
                "{name}: not an RFC 3339 time such as 2026-01-31T08:00:00Z"
            ))
        })
}

fn enumeration<T>(
    name: &str,
    v: &Option<String>,
    f: fn(&str) -> Result<T, String>,
) -> ApiResult<Option<T>> {
    present(v)
        .map(f)
        .transpose()
        .map_err(|e| ApiError::validation(format!("{name}: {e}")))
}

#[utoipa::path(get, path = "/api/stats", tag = "rooms", params(StatsQuery), responses(
    (status = 200, description = "Figures over the rooms created in [from, to) that the caller may read", body = StatsAnswer),
    (status = 400, description = "`validation_failed`: a bad time, window or value, naming the field", body = ErrorBody),
), security(("bearer" = [])))]
async fn figures(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let to = match present(&q.to) {
        Some(t) => time("to", t)?,
        None => Utc::now(),
    };
    let from = match present(&q.from) {
        Some(f) => time("from", f)?,
        None => to
            .checked_sub_signed(TimeDelta::days(DEFAULT_DAYS))
            .ok_or_else(|| ApiError::validation("to: too early"))?,
    };
    if from >= to {
        return Err(ApiError::validation("from: must be before to"));
    }
    let line = present(&q.line)
        .map(|l| bounded_text("line", l, 0, SHORT_FIELD_MAX))
        .transpose()
        .map_err(ApiError::validation)?;
    let scope = Scope {
        from,
        to,
        line: line.as_deref(),
        incident_type: enumeration("incident_type", &q.incident_type, IncidentType::parse)?,
        severity: enumeration("severity", &q.severity, Severity::parse)?,
        member: (!user.is_admin).then_some(user.id.as_str()),
    };
    let client = state.db_conn().await?;
    let f = stats::figures(&client, &scope).await?;
    Ok(HttpResponse::Ok().json(StatsAnswer {
        from,
        to,
        counts: f.counts,
        mtta: f.mtta,
        mttr: f.mttr,
        by_line: f.by_line,
        by_incident_type: f.by_incident_type,
        slowest_open: f.slowest_open,
    }))
}
