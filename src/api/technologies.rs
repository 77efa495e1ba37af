//! `/technologies` and their `/terms`.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::audit::Who;
use crate::auth::policy::{authorize, Act, Decision, On};
use crate::auth::session::Actor;
use crate::db::schema::technologies as tech_table;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::http::{blocking, if_match, one_of, point_read, JsonBody, Page, PageQuery};
use crate::rules::roles::Role;
use crate::settlement::terms::Terms;
use crate::technologies::{self, fold, Technology, TechnologyInput, TechnologyRow, TermsVersion};
use crate::AppState;

/// Loads a technology the actor may `act` on, answering 404/403 as the policy says.
fn load_for(conn: &mut DbConn, actor: &Actor, id: &str, act: Act) -> AppResult<TechnologyRow> {
    let row = technologies::get(conn, id)
        .optional()?
        .ok_or(AppError::NotFound)?;
    match authorize(
        actor,
        act,
        On::Technology {
            institute_id: &row.institute_id,
            listed: row.status == "listed",
        },
    ) {
        Decision::Allow => Ok(row),
        Decision::Forbid => Err(AppError::Forbidden(
            "only the technology's own institute may change it".into(),
        )),
        Decision::Hide => Err(AppError::NotFound),
    }
}

/// List a technology (institute). It starts as `draft` unless `status` says `listed`.
#[utoipa::path(tag = "technologies", request_body = TechnologyInput,
    responses((status = 201, body = Technology), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
#[post("/technologies")]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: JsonBody<TechnologyInput>,
) -> AppResult<HttpResponse> {
    if authorize(&actor, Act::CreateTechnology, On::Platform) != Decision::Allow {
        return Err(AppError::Forbidden(
            "only institutes list technologies".into(),
        ));
    }
    let tech = blocking(move || {
        let now = state.clock.now();
        state.db.write(|conn| {
            technologies::create(
                conn,
                now,
                Who::from(&actor),
                &actor.organisation_id,
                &body.0,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("ETag", format!("\"{}\"", tech.version)))
        .json(tech))
}

/// Search filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TechnologyQuery {
    /// Words to find in titles, summaries, field or IP reference (accents optional).
    pub q: Option<String>,
    pub field: Option<String>,
    /// `draft`, `listed` or `withdrawn`.
    pub status: Option<String>,
    pub institute_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Search the catalogue: everyone sees listed technologies; institutes also their own drafts.
#[utoipa::path(tag = "technologies", params(TechnologyQuery), responses((status = 200, body = Page<Technology>)), security(("bearer" = [])))]
#[get("/technologies")]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<TechnologyQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let (page, per_page, offset) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    if let Some(error) = one_of("status", q.status.as_deref(), &technologies::STATUSES) {
        return Err(AppError::Validation(vec![error]));
    }
    let res = blocking(move || {
        let mut conn = state.db.reader()?;
        let filtered = || {
            let mut query = tech_table::table.into_boxed();
            if !actor.role.sees_everything() {
                if actor.role == Role::Institute {
                    query = query.filter(
                        tech_table::status
                            .eq("listed")
                            .or(tech_table::institute_id.eq(actor.organisation_id.clone())),
                    );
                } else {
                    query = query.filter(tech_table::status.eq("listed"));
                }
            }
            if let Some(text) = &q.q {
                for word in fold(text).split_whitespace().take(8) {
                    let escaped = word
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    query = query.filter(
                        tech_table::search_text
                            .like(format!("%{escaped}%"))
                            .escape('\\'),
                    );
                }
            }
            if let Some(f) = &q.field {
                query = query.filter(tech_table::field.eq(f.clone()));
            }
            if let Some(s) = &q.status {
                query = query.filter(tech_table::status.eq(s.clone()));
            }
            if let Some(i) = &q.institute_id {
                query = query.filter(tech_table::institute_id.eq(i.clone()));
            }
            query
        };
        let total: i64 = filtered().count().get_result(&mut conn)?;
        let rows: Vec<TechnologyRow> = filtered()
            .order((tech_table::updated_at.desc(), tech_table::id.asc()))
            .limit(per_page)
            .offset(offset)
            .select(TechnologyRow::as_select())
            .load(&mut conn)?;
        Ok(Page {
            items: rows.into_iter().map(Technology::from).collect::<Vec<_>>(),
            total,
            page,
            per_page,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(res))
}

/// One technology.
#[utoipa::path(tag = "technologies", responses((status = 200, body = Technology), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/technologies/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let tech: Technology = point_read(state, move |conn| {
        Ok(load_for(conn, &actor, &id, Act::ReadTechnology)?.into())
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", tech.version)))
        .json(tech))
}

/// Replace a technology's description or status (its institute), with `If-Match`.
#[utoipa::path(tag = "technologies", request_body = TechnologyInput,
    params(("If-Match" = String, Header, description = "The technology's current version")),
    responses((status = 200, body = Technology), (status = 412, body = crate::error::Problem), (status = 428, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[put("/technologies/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<TechnologyInput>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let tech = blocking(move || {
        let now = state.clock.now();
        state.db.write(|conn| {
            let row = load_for(conn, &actor, &id, Act::EditTechnology)?;
            technologies::update(conn, now, Who::from(&actor), &row, expected, &body.0)
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", tech.version)))
        .json(tech))
}

/// Set new conversion terms (a new version; running agreements keep theirs).
#[utoipa::path(tag = "technologies", request_body = Terms,
    responses((status = 201, body = TermsVersion), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
#[post("/technologies/{id}/terms")]
pub async fn add_terms(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: JsonBody<Terms>,
) -> AppResult<HttpResponse> {
    let terms = blocking(move || {
        let now = state.clock.now();
        state.db.write(|conn| {
            let row = load_for(conn, &actor, &id, Act::EditTechnology)?;
            technologies::add_terms(conn, now, Who::from(&actor), &row.id, body.0)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(terms))
}

/// Every version of the technology's terms, newest first.
#[utoipa::path(tag = "technologies", responses((status = 200, body = Vec<TermsVersion>), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/technologies/{id}/terms")]
pub async fn list_terms(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let terms = blocking(move || {
        let mut conn = state.db.reader()?;
        let row = load_for(&mut conn, &actor, &id, Act::ReadTechnology)?;
        technologies::terms_history(&mut conn, &row.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(terms))
}
