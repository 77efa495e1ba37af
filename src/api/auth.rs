//! Sign-in, sign-out and "who am I".

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use crate::app::auth as app;
pub use crate::auth::login::{LoginRequest, LoginResponse};
use crate::auth::session::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::{blocking, JsonBody};
use crate::AppState;

/// Sign in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong e-mail or password", body = crate::error::Problem),
        (status = 429, description = "Too many failed attempts for the e-mail address, or from the client's address; `Retry-After` says how many seconds to wait", body = crate::error::Problem),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    http: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> AppResult<HttpResponse> {
    let req = body.0;
    let client = crate::http::client_addr(&http);
    let res = blocking(move || app::sign_in(&state, &req.email, &req.password, client)).await?;
    Ok(HttpResponse::Ok().json(res))
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
    blocking(move || app::sign_out(&state, &token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(tag = "auth", responses((status = 200, body = Actor), (status = 401, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/auth/me")]
pub async fn me(actor: Actor) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(actor))
}
