//! `GET /api/users?q=`: find users to add as members.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::auth::UserView;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/users").get(search));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    #[serde(default)]
    q: String,
    limit: Option<i64>,
}

const MAX_QUERY: usize = 100;

#[utoipa::path(get, path = "/api/users", tag = "users", params(("q" = Option<String>, Query), ("limit" = Option<i64>, Query)), responses((status = "default", description = "Users whose e-mail or name contains q")), security(("bearer" = [])))]
async fn search(
    state: web::Data<AppState>,
    _user: AuthUser,
    query: web::Query<Query>,
) -> ApiResult<HttpResponse> {
    let q = query.q.trim();
    if q.chars().count() > MAX_QUERY {
        return Err(ApiError::validation(format!(
            "q must be at most {MAX_QUERY} characters"
        )));
    }
    crate::domain::text::storable("q", q).map_err(ApiError::validation)?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 100"));
    }
    let client = state.db_conn().await?;
    let found = users::search(&client, q, limit).await?;
    let views: Vec<UserView> = found
        .into_iter()
        .map(|u| {
            let admin = state.config.is_admin(&u.id);
            UserView::new(u, admin)
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "users": views })))
}
