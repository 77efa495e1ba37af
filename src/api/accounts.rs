//! `/organisations` and `/users`.

use actix_web::{get, post, web, HttpResponse};

use crate::accounts::model::{NewOrganisation, NewUser, Organisation, User};
use crate::app::accounts as app;
use crate::auth::policy::{require, Act};
use crate::auth::session::Actor;
use crate::error::AppResult;
use crate::http::{blocking, JsonBody, Page, PageQuery};
use crate::AppState;

/// Register an organisation (admin).
#[utoipa::path(tag = "accounts", request_body = NewOrganisation,
    responses((status = 201, body = Organisation), (status = 422, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/organisations")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    actor: Actor,
    body: JsonBody<NewOrganisation>,
) -> AppResult<HttpResponse> {
    require(&actor, Act::ManageAccounts)?;
    let org = blocking(move || app::create_organisation(&state, &actor, &body.0)).await?;
    Ok(HttpResponse::Created().json(org))
}

/// List organisations (admin, auditor).
#[utoipa::path(tag = "accounts", params(PageQuery), responses((status = 200, body = Page<Organisation>)), security(("bearer" = [])))]
#[get("/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    require(&actor, Act::ReadAccounts)?;
    let (page, per_page, offset) = q.into_inner().resolve()?;
    let res = Page::of(
        blocking(move || app::list_organisations(&state, per_page, offset)).await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(res))
}

/// One organisation: admins and auditors see any, other users their own.
#[utoipa::path(tag = "accounts", responses((status = 200, body = Organisation), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let org = blocking(move || app::organisation(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(org))
}

/// Create a user in an organisation (admin).
#[utoipa::path(tag = "accounts", request_body = NewUser,
    responses((status = 201, body = User), (status = 422, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    actor: Actor,
    body: JsonBody<NewUser>,
) -> AppResult<HttpResponse> {
    require(&actor, Act::ManageAccounts)?;
    let user = blocking(move || app::create_user(&state, &actor, &body.0)).await?;
    Ok(HttpResponse::Created().json(user))
}

/// List users (admin, auditor).
#[utoipa::path(tag = "accounts", params(PageQuery), responses((status = 200, body = Page<User>)), security(("bearer" = [])))]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    require(&actor, Act::ReadAccounts)?;
    let (page, per_page, offset) = q.into_inner().resolve()?;
    let res = Page::of(
        blocking(move || app::list_users(&state, per_page, offset)).await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(res))
}
