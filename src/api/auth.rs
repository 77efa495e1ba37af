//! Sign-in, sign-out and "who am I".

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::password;
use crate::auth::session::{self, Actor};
use crate::db::schema::{login_failures, users};
use crate::error::{AppError, AppResult};
use crate::http::{blocking, JsonBody};
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: Actor,
}

/// Sign in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong e-mail or password", body = crate::error::Problem),
        (status = 429, description = "Too many failed attempts", body = crate::error::Problem),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: JsonBody<LoginRequest>,
) -> AppResult<HttpResponse> {
    let req = body.0;
    let res = blocking(move || do_login(&state, &req)).await?;
    Ok(HttpResponse::Ok().json(res))
}

fn do_login(state: &AppState, req: &LoginRequest) -> AppResult<LoginResponse> {
    let email = req.email.trim().to_lowercase();
    let now = state.clock.now();
    let auth = &state.cfg.auth;
    let window_start = (now - Duration::minutes(auth.failed_login_window_minutes)).naive_utc();
    let mut conn = state.db.reader()?;
    let failures: i64 = login_failures::table
        .filter(login_failures::email.eq(&email))
        .filter(login_failures::at.gt(window_start))
        .count()
        .get_result(&mut conn)?;
    if failures >= auth.max_failed_logins {
        tracing::warn!(email = %email, failures, "sign-in throttled");
        return Err(AppError::TooManyRequests {
            retry_after_secs: (auth.failed_login_window_minutes * 60) as u64,
        });
    }
    let user: Option<(String, String, bool)> = users::table
        .filter(users::email.eq(&email))
        .select((users::id, users::password_hash, users::active))
        .first(&mut conn)
        .optional()?;
    drop(conn);
    let ok = match &user {
        Some((_, hash, active)) => password::verify(&req.password, hash) && *active,
        None => {
            password::verify(&req.password, password::decoy_hash());
            false
        }
    };
    let absolute = Duration::hours(auth.session_absolute_hours);
    match (ok, user) {
        (true, Some((user_id, _, _))) => {
            let (token, expires_at) = state.db.write(|conn| {
                diesel::delete(login_failures::table.filter(login_failures::email.eq(&email)))
                    .execute(conn)?;
                session::start(conn, &user_id, now, absolute).map_err(AppError::from)
            })?;
            tracing::info!(user_id = %user_id, "signed in");
            let user = session::authenticate(state, &token)?;
            Ok(LoginResponse {
                token,
                expires_at,
                user,
            })
        }
        _ => {
            state.db.write(|conn| {
                diesel::insert_into(login_failures::table)
                    .values((
                        login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
                        login_failures::email.eq(&email),
                        login_failures::at.eq(now.naive_utc()),
                    ))
                    .execute(conn)
                    .map_err(AppError::from)
            })?;
            tracing::warn!(email = %email, "failed sign-in");
            Err(AppError::Unauthenticated)
        }
    }
}

/// Sign out: the token stops working at once.
#[utoipa::path(tag = "auth", responses((status = 204), (status = 401, body = crate::error::Problem)), security(("bearer" = [])))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    _actor: Actor,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let token = session::bearer(&req)
        .ok_or(AppError::Unauthenticated)?
        .to_owned();
    blocking(move || {
        let now = state.clock.now();
        state.sessions.remove(&token);
        state
            .db
            .write(|conn| session::revoke(conn, &token, now).map_err(AppError::from))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(tag = "auth", responses((status = 200, body = Actor), (status = 401, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/auth/me")]
pub async fn me(actor: Actor) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(actor))
}
