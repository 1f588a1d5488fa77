//! Users: upserted from AD on every login; found by e-mail or name for adding members.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;

use super::GenericClient;
use crate::auth::ad::AdUser;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub display_name: String,
    pub office_location: Option<String>,
    pub job_title: Option<String>,
    pub first_login_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, display_name, office_location, job_title, first_login_at, last_login_at";

fn from_row(row: &Row) -> User {
    User {
        id: row.get("id"),
        display_name: row.get("display_name"),
        office_location: row.get("office_location"),
        job_title: row.get("job_title"),
        first_login_at: row.get("first_login_at"),
        last_login_at: row.get("last_login_at"),
    }
}

/// Creates or updates the user from AD's description, recording the login.
#[tracing::instrument(skip_all, fields(user = %user.email))]
pub async fn upsert_login(
    client: &impl GenericClient,
    user: &AdUser,
) -> Result<User, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO users (id, display_name, office_location, job_title, first_login_at, last_login_at)
         VALUES ($1, $2, $3, $4, now(), now())
         ON CONFLICT (id) DO UPDATE SET
             display_name = EXCLUDED.display_name,
             office_location = EXCLUDED.office_location,
             job_title = EXCLUDED.job_title,
             first_login_at = COALESCE(users.first_login_at, now()),
             last_login_at = now()
         RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &user.email,
                &user.name,
                &user.office_location,
                &user.job_title,
            ],
        )
        .await?;
    Ok(from_row(&row))
}

pub async fn get(
    client: &impl GenericClient,
    id: &str,
) -> Result<Option<User>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(from_row))
}

/// Users whose e-mail or name contains `q` (case-insensitive), best matches first:
/// e-mail prefix, then name prefix, then anywhere.
pub async fn search(
    client: &impl GenericClient,
    q: &str,
    limit: i64,
) -> Result<Vec<User>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users
         WHERE id ILIKE '%' || $1 || '%' ESCAPE '\\' OR display_name ILIKE '%' || $1 || '%' ESCAPE '\\'
         ORDER BY (id ILIKE $1 || '%' ESCAPE '\\') DESC,
                  (display_name ILIKE $1 || '%' ESCAPE '\\') DESC,
                  display_name, id
         LIMIT $2"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let pattern = escape_like(q);
    let rows = client.query(&stmt, &[&pattern, &limit]).await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Escapes `%`, `_` and `\` so user input matches literally inside LIKE.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
