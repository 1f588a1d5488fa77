//! `GET /api/users?q=`: find users to add as members.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::db::users;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::ErrorBody;
use crate::state::AppState;

use super::auth::UserView;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/users").get(search));
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Query {
    /// Part of the e-mail or name (at most 100 characters).
    #[serde(default)]
    q: String,
    #[param(minimum = 1, maximum = 100)]
    /// 1 to 100 (default 20).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct UserList {
    users: Vec<UserView>,
}

const MAX_QUERY: usize = 100;

#[utoipa::path(get, path = "/api/users", tag = "users", params(Query), responses(
    (status = 200, description = "Users whose e-mail or name contains `q`", body = UserList),
    (status = 400, description = "`bad_request`: NUL in `q`; `validation_failed`", body = ErrorBody),
), security(("bearer" = [])))]
async fn search(
    state: web::Data<AppState>,
    _user: AuthUser,
    query: web::Query<Query>,
) -> ApiResult<HttpResponse> {
    let q = query.q.trim();
    // PostgreSQL refuses NUL in text: without this check it would be a 500.
    crate::domain::text::storable("q", q).map_err(|m| ApiError::new(ErrorCode::BadRequest, m))?;
    if q.chars().count() > MAX_QUERY {
        return Err(ApiError::validation(format!(
            "q must be at most {MAX_QUERY} characters"
        )));
    }
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
    Ok(HttpResponse::Ok().json(UserList { users: views }))
}
