//! Figures over incident rooms (issue 19): counts, MTTA and MTTR, computed in
//! PostgreSQL (`percentile_cont`) without loading the rooms.
//!
//! Time to acknowledge is `acknowledged_at − created_at`. Time to resolve is from
//! creation to the room's *first* resolution, read from its log: `resolved_at` is
//! cleared on reopening and stamped again on the next resolution, which would
//! count the reopened time as time to resolve.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::GenericClient;
use crate::domain::rooms::{IncidentType, Severity};

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// Which rooms the figures are over.
#[derive(Debug)]
pub struct Scope<'a> {
    /// Rooms created in `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub line: Option<&'a str>,
    pub incident_type: Option<IncidentType>,
    pub severity: Option<Severity>,
    /// Whose rooms: `None` for all (a system administrator), else the rooms the
    /// user is a member of.
    pub member: Option<&'a str>,
}

/// Rooms by status.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ByStatus {
    pub active: i64,
    pub resolved: i64,
    pub archived: i64,
}

/// Rooms by severity.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct BySeverity {
    pub low: i64,
    pub medium: i64,
    pub high: i64,
    pub critical: i64,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub by_status: ByStatus,
    pub by_severity: BySeverity,
    pub total: i64,
}

/// The spread of one duration over the rooms that have it.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Spread {
    /// `null` when `n` is 0.
    pub median_secs: Option<f64>,
    /// 90th percentile (interpolated, as PostgreSQL's `percentile_cont`).
    pub p90_secs: Option<f64>,
    /// How many rooms have the duration (were acknowledged, were resolved).
    pub n: i64,
}

/// The figures of the rooms of one line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineFigures {
    /// `null`: rooms without a line.
    pub line: Option<String>,
    pub count: i64,
    pub mtta: Spread,
    pub mttr: Spread,
}

/// The figures of the rooms of one incident type.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TypeFigures {
    pub incident_type: IncidentType,
    pub count: i64,
    pub mtta: Spread,
    pub mttr: Spread,
}

/// An active room, for the list of the longest open.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenRoom {
    pub id: Uuid,
    pub title: String,
    pub severity: Severity,
    pub line: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Seconds since creation.
    pub age_secs: i64,
    pub acknowledged: bool,
}

/// Everything but the window, which the caller knows.
#[derive(Debug, Default)]
pub struct Figures {
    pub counts: Counts,
    pub mtta: Spread,
    pub mttr: Spread,
    pub by_line: Vec<LineFigures>,
    pub by_incident_type: Vec<TypeFigures>,
    pub slowest_open: Vec<OpenRoom>,
}

/// How many open rooms [`Figures::slowest_open`] lists.
const SLOWEST_OPEN: i64 = 10;

/// The rooms in scope with their durations in seconds (`tta`, `ttr`; `NULL` when
/// not acknowledged, never resolved). Parameters: `$1` from, `$2` to, `$3` line,
/// `$4` incident type, `$5` severity, `$6` member (`NULL`: everyone's rooms).
const SCOPE: &str = "
    WITH scope AS (
        SELECT r.id, r.title, r.status, r.severity, r.incident_type, r.line, r.created_at,
               r.acknowledged_at,
               extract(epoch FROM r.acknowledged_at - r.created_at)::float8 AS tta,
               extract(epoch FROM (
                   SELECT min(e.at) FROM room_events e
                   WHERE e.room_id = r.id AND e.kind = 'room.status_changed'
                     AND e.data->>'to' = 'resolved'
               ) - r.created_at)::float8 AS ttr
        FROM rooms r
        WHERE r.created_at >= $1 AND r.created_at < $2
          AND ($3::text IS NULL OR r.line = $3)
          AND ($4::text IS NULL OR r.incident_type = $4)
          AND ($5::text IS NULL OR r.severity = $5)
          AND ($6::text IS NULL OR EXISTS (
                  SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $6))
    )";

/// The counts and spreads over all rooms in scope (grouping 3), per line
/// (grouping 1) and per incident type (grouping 2), in one pass.
const GROUPED: &str = "
    SELECT GROUPING(line, incident_type), line, incident_type, count(*),
           count(*) FILTER (WHERE status = 'active'),
           count(*) FILTER (WHERE status = 'resolved'),
           count(*) FILTER (WHERE status = 'archived'),
           count(*) FILTER (WHERE severity = 'low'),
           count(*) FILTER (WHERE severity = 'medium'),
           count(*) FILTER (WHERE severity = 'high'),
           count(*) FILTER (WHERE severity = 'critical'),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY tta),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY tta),
           count(tta),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ttr),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY ttr),
           count(ttr)
    FROM scope
    GROUP BY GROUPING SETS ((), (line), (incident_type))
    ORDER BY 1 DESC, 4 DESC, 2, 3";

const SLOWEST: &str = "
    SELECT id, title, severity, line, created_at,
           floor(extract(epoch FROM now() - created_at))::int8,
           acknowledged_at IS NOT NULL
    FROM scope WHERE status = 'active'
    ORDER BY created_at, id LIMIT $7";

/// The figures of the rooms in `scope`.
#[tracing::instrument(skip_all)]
pub async fn figures(client: &impl GenericClient, scope: &Scope<'_>) -> Result<Figures> {
    let incident_type = scope.incident_type.map(IncidentType::as_str);
    let severity = scope.severity.map(Severity::as_str);
    let params: [&(dyn ToSql + Sync); 6] = [
        &scope.from,
        &scope.to,
        &scope.line,
        &incident_type,
        &severity,
        &scope.member,
    ];
    let stmt = client.prepare_cached(&format!("{SCOPE} {GROUPED}")).await?;
    let rows = client.query(&stmt, &params).await?;
    let mut f = Figures::default();
    for row in &rows {
        let grouping: i32 = row.get(0);
        let count: i64 = row.get(3);
        let (mtta, mttr) = (spread(row, 11), spread(row, 14));
        match grouping {
            1 => f.by_line.push(LineFigures {
                line: row.get(1),
                count,
                mtta,
                mttr,
            }),
            2 => f.by_incident_type.push(TypeFigures {
                // The CHECK constraint admits only valid names.
                incident_type: IncidentType::parse(row.get(2)).unwrap_or(IncidentType::Other),
                count,
                mtta,
                mttr,
            }),
            _ => {
                f.counts = Counts {
                    by_status: ByStatus {
                        active: row.get(4),
                        resolved: row.get(5),
                        archived: row.get(6),
                    },
                    by_severity: BySeverity {
                        low: row.get(7),
                        medium: row.get(8),
                        high: row.get(9),
                        critical: row.get(10),
                    },
                    total: count,
                };
                (f.mtta, f.mttr) = (mtta, mttr);
            }
        }
    }

    let stmt = client.prepare_cached(&format!("{SCOPE} {SLOWEST}")).await?;
    let mut with_limit = params.to_vec();
    with_limit.push(&SLOWEST_OPEN);
    let rows = client.query(&stmt, &with_limit).await?;
    f.slowest_open = rows
        .iter()
        .map(|row| OpenRoom {
            id: row.get(0),
            title: row.get(1),
            severity: Severity::parse(row.get(2)).unwrap_or(Severity::Medium),
            line: row.get(3),
            created_at: row.get(4),
            age_secs: row.get(5),
            acknowledged: row.get(6),
        })
        .collect();
    Ok(f)
}

/// Median, p90 and n from three columns starting at `at`.
fn spread(row: &Row, at: usize) -> Spread {
    Spread {
        median_secs: row.get(at),
        p90_secs: row.get(at + 1),
        n: row.get(at + 2),
    }
}
