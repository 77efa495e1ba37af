//! The demand hall's pages: an SME's "My needs" (list, post and edit form, a need's page with
//! the proposals and "request a trial from this"), an institute's "Needs for you" (the open
//! needs its technologies match, with the reasons) and its proposal form, and the supervisors'
//! list of every need.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate};
use minijinja::Value;
use serde::Deserialize;

use super::catalogue::{money, sector};
use super::frame::{self, blocking, field_errors, see_other, SignedIn, Visitor};
use crate::app::demands::{self as app, DemandMatch, FromProposal};
use crate::app::technologies::CatalogueQuery;
use crate::auth::session::Actor;
use crate::demands::model::{Budget, Demand, DemandInput, Filter, ProposalInput, STATUSES};
use crate::error::AppError;
use crate::rules::roles::Role;
use crate::typeset::format;
use crate::AppState;

/// The fields the need form offers (the catalogue's words name them).
const SECTORS: [&str; 10] = [
    "agriculture",
    "food_processing",
    "environment",
    "manufacturing",
    "energy",
    "materials",
    "biotechnology",
    "software",
    "construction",
    "healthcare",
];

/// Every field the need form offers, as its code and its name in `lang`.
fn sector_options(state: &AppState, lang: &str) -> Vec<(&'static str, String)> {
    SECTORS
        .iter()
        .map(|code| (*code, sector(state, lang, code)))
        .collect()
}

/// Needs on one page of a list.
const PER_PAGE: i64 = 50;

/// The fields of the need and proposal forms whose rule the pages say in the page language
/// (`demands.rule.<field>`), instead of the app's own message.
const RULES: [&str; 12] = [
    "title",
    "description",
    "sector",
    "province",
    "currency",
    "min",
    "max",
    "wanted_by",
    "visibility",
    "invited_institute_ids",
    "technology_id",
    "message",
];

pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "demands/list.html",
            include_str!("templates/demands/list.html"),
        ),
        (
            "demands/form.html",
            include_str!("templates/demands/form.html"),
        ),
        (
            "demands/show.html",
            include_str!("templates/demands/show.html"),
        ),
        (
            "demands/request.html",
            include_str!("templates/demands/request.html"),
        ),
    ],
    words: (
        "demands",
        include_str!("i18n/demands.vi.toml"),
        include_str!("i18n/demands.en.toml"),
    ),
    css: include_str!("../../static/web/demands.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/demands", web::get().to(list))
        .route("/demands/new", web::get().to(new_form))
        .route("/demands/new", web::post().to(create))
        .route("/demands/{id}", web::get().to(show))
        .route("/demands/{id}/edit", web::get().to(edit_form))
        .route("/demands/{id}/edit", web::post().to(edit))
        .route("/demands/{id}/close", web::post().to(close))
        .route("/demands/{id}/propose", web::post().to(propose))
        .route(
            "/demands/{id}/proposals/{proposal}/request",
            web::get().to(request_form),
        )
        .route(
            "/demands/{id}/proposals/{proposal}/request",
            web::post().to(request),
        );
}

/// A 422's messages by form field, each field's rule in the page language.
fn rule_errors(
    state: &AppState,
    visitor: &Visitor,
    errors: &[crate::error::FieldError],
) -> BTreeMap<String, String> {
    field_errors(errors)
        .into_iter()
        .map(|(field, message)| {
            let words = match RULES.contains(&field.as_str()) {
                true => visitor.words(state, &format!("demands.rule.{field}"), &[]),
                false => message,
            };
            (field, words)
        })
        .collect()
}

/// A need as the pages show it.
fn shown(state: &AppState, lang: &str, d: &Demand) -> Value {
    minijinja::context! {
        id => d.id.clone(),
        title => d.title.clone(),
        description => d.description.clone(),
        sector => sector(state, lang, &d.sector),
        province => d.province.clone(),
        budget => format!("{} – {}", money(&d.budget.currency, &d.budget.min),
            money(&d.budget.currency, &d.budget.max)),
        wanted_by => format::date(lang, d.wanted_by),
        visibility => d.visibility.clone(),
        status => d.status.clone(),
        closed_reason => d.closed_reason.clone().unwrap_or_default(),
        agreement_id => d.agreement_id.clone().unwrap_or_default(),
        version => d.version,
    }
}

/// The words a need shares with a technology as the need writes them, accents and all: each
/// shared word (folded, as the index keeps it) by the first word of the need's title or
/// description that folds to it; one in no word of them (a pair of Chinese characters) as
/// it is.
fn as_written(d: &Demand, shared: &[String]) -> String {
    let text = format!("{} {}", d.title, d.description);
    shared
        .iter()
        .map(|w| {
            text.split(|c: char| !c.is_alphanumeric())
                .find(|t| crate::search::fold(t) == *w)
                .map(str::to_lowercase)
                .unwrap_or_else(|| w.clone())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One match as "Needs for you" shows it: the need, and each technology with its reasons.
fn matched(state: &AppState, lang: &str, m: &DemandMatch) -> Value {
    let techs: Vec<Value> = m
        .matches
        .iter()
        .map(|t| {
            minijinja::context! {
                id => t.technology_id.clone(),
                title => if lang == "vi" { t.title.vi.clone() } else { t.title.en.clone() },
                price => money(&t.price.currency, &t.price.amount),
                same_sector => t.reasons.same_sector,
                same_province => t.reasons.same_province,
                words => as_written(&m.demand, &t.reasons.shared_words),
                fit => serde_json::to_value(t.reasons.price_fit).ok()
                    .and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                weight => t.weight,
                proposed => t.proposed,
            }
        })
        .collect();
    minijinja::context! { demand => shown(state, lang, &m.demand), techs }
}

/// The needs page's search as typed: words, field, province, status, and the page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    q: String,
    sector: String,
    province: String,
    status: String,
    page: String,
}

impl ListQuery {
    /// The filters as typed, blank ones left out and the rest trimmed.
    fn filter(&self) -> Filter {
        let set = |s: &String| Some(s.clone());
        Filter {
            q: set(&self.q),
            status: set(&self.status),
            sector: set(&self.sector),
            province: set(&self.province),
        }
        .trimmed()
    }

    /// The page asked for, from 1 (anything else is the first).
    fn page(&self) -> i64 {
        frame::page_number(&self.page)
    }
}

/// What the needs page found: a page of needs and their count, or (an institute's page with
/// no search) the needs matching its technologies.
enum Found {
    Needs(Vec<Demand>, i64),
    Matches(Vec<DemandMatch>),
}

/// `/demands`: the search form (words, field, province, status) and what it finds among the
/// needs the visitor may see: an SME its own, an institute the open needs shown to it and
/// those it proposed to, the supervisors every need. An institute that searches for nothing
/// sees "Needs for you" instead. A filter no need could answer is set again beside its field
/// with 422, and the rest searched.
async fn list(
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if actor.role == Role::Insurer {
        return visitor.failure(&state, AppError::NotFound, "");
    }
    let lang = visitor.lang;
    let q = q.into_inner();
    // As typed (a faulty value stays in its box and in the pager's links), and as searched.
    let typed = q.filter();
    let faults = typed.faults();
    let searched = !typed.is_empty();
    let filter = typed.clone().without(&faults);
    let page = q.page();
    let matching = actor.role == Role::Institute && !searched;
    let mine = actor.role == Role::Sme;
    let found = blocking(&state, move |st| {
        let found = if matching {
            Found::Matches(app::matches(st, &actor)?)
        } else {
            let (demands, total) = app::list(st, &actor, &filter, PER_PAGE, (page - 1) * PER_PAGE)?;
            Found::Needs(demands, total)
        };
        Ok((found, app::provinces(st, &actor)?))
    })
    .await;
    let (found, mut provinces) = match found {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let (rows, matches, total) = match &found {
        Found::Needs(demands, total) => (
            demands.iter().map(|d| shown(&state, lang, d)).collect(),
            Vec::new(),
            *total,
        ),
        Found::Matches(found) => (
            Vec::new(),
            found
                .iter()
                .map(|m| matched(&state, lang, m))
                .collect::<Vec<Value>>(),
            0,
        ),
    };
    if let Some(province) = &typed.province {
        if !provinces.contains(province) {
            provinces.insert(0, province.clone());
        }
    }
    let sectors = sector_options(&state, lang);
    let errors: BTreeMap<String, String> = faults
        .iter()
        .map(|f| {
            let key = match f.field.as_str() {
                "status" => "demands.filter.bad_status",
                _ => "demands.filter.bad_place",
            };
            (f.field.clone(), visitor.words(&state, key, &[]))
        })
        .collect();
    let pages = super::frame::pages_of(total, PER_PAGE);
    let or_blank = |v: &Option<String>| v.clone().unwrap_or_default();
    let (words, sector, province, status_filter) = (
        or_blank(&typed.q),
        or_blank(&typed.sector),
        or_blank(&typed.province),
        or_blank(&typed.status),
    );
    let pairs = [
        ("q", words.as_str()),
        ("sector", sector.as_str()),
        ("province", province.as_str()),
        ("status", status_filter.as_str()),
    ];
    let link = |p: i64| format!("/demands?{}", frame::page_link(&pairs, p));
    let status = if errors.is_empty() { 200 } else { 422 };
    visitor.page(
        &state,
        status,
        "demands/list.html",
        minijinja::context! {
            rows, matches, total, matching, searched, page, pages,
            mine,
            prev => if page > 1 { link(page - 1) } else { String::new() },
            next => if page < pages { link(page + 1) } else { String::new() },
            f => minijinja::context! { q => words, sector, province, status => status_filter },
            sectors, provinces, statuses => STATUSES, errors,
        },
    )
}

/// What the need form posts.
#[derive(Debug, Default, Clone, Deserialize)]
struct NeedForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    min: String,
    #[serde(default)]
    max: String,
    #[serde(default)]
    wanted_by: String,
    #[serde(default)]
    visibility: String,
    /// The ids of the institutes ticked as invited (the form sends one `invited` each; see
    /// [`NeedForm::read`]).
    #[serde(skip)]
    invited: Vec<String>,
    #[serde(default)]
    version: i64,
}

impl NeedForm {
    fn of(d: &Demand) -> NeedForm {
        NeedForm {
            title: d.title.clone(),
            description: d.description.clone(),
            sector: d.sector.clone(),
            province: d.province.clone(),
            currency: d.budget.currency.clone(),
            min: d.budget.min.clone(),
            max: d.budget.max.clone(),
            wanted_by: d.wanted_by.to_string(),
            visibility: d.visibility.clone(),
            invited: d.invited_institute_ids.clone(),
            version: d.version,
        }
    }

    fn input(&self) -> DemandInput {
        DemandInput {
            title: self.title.clone(),
            description: self.description.clone(),
            sector: self.sector.clone(),
            province: self.province.clone(),
            budget: Budget {
                currency: self.currency.clone(),
                min: self.min.clone(),
                max: self.max.clone(),
            },
            wanted_by: self.wanted_by.clone(),
            visibility: Some(self.visibility.clone()),
            invited_institute_ids: self.invited.clone(),
        }
    }

    /// The form as posted, with every ticked institute; `None` without the form's token.
    fn read(req: &HttpRequest, body: &[u8]) -> Option<NeedForm> {
        let mut form = frame::form::<NeedForm>(req, body)?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&frame::without_nul(body)).unwrap_or_default();
        form.invited = pairs
            .into_iter()
            .filter(|(k, v)| k == "invited" && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect();
        Some(form)
    }
}

/// The institutes an SME may invite, by name: those whose technologies it sees in the
/// catalogue; one invited already but no longer there keeps its place, named by its id.
async fn invitable(
    state: &web::Data<AppState>,
    actor: &Actor,
    invited: &[String],
) -> Vec<(String, String)> {
    let who = actor.clone();
    let found = blocking(state, move |st| {
        crate::app::technologies::catalogue(st, &who, &CatalogueQuery::default(), 1, 0)
    })
    .await;
    let mut all: Vec<(String, String)> = found
        .map(|c| c.institutes.into_iter().map(|i| (i.id, i.name)).collect())
        .unwrap_or_default();
    for id in invited {
        if !all.iter().any(|(known, _)| known == id) {
            all.push((id.clone(), id.clone()));
        }
    }
    all
}

/// The need form (new when `id` is empty), with what was typed and the errors beside it.
async fn form_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: &Actor,
    status: u16,
    id: &str,
    form: &NeedForm,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let sectors = sector_options(state, visitor.lang);
    let institutes = invitable(state, actor, &form.invited).await;
    let ctx = minijinja::context! {
        id, sectors, errors, institutes,
        f => minijinja::context! {
            title => form.title.clone(), description => form.description.clone(),
            sector => form.sector.clone(), province => form.province.clone(),
            currency => if form.currency.is_empty() { "VND".to_string() } else { form.currency.clone() },
            min => form.min.clone(), max => form.max.clone(), wanted_by => form.wanted_by.clone(),
            visibility => if form.visibility.is_empty() { "public".to_string() } else { form.visibility.clone() },
            invited => form.invited.clone(), version => form.version,
        },
    };
    visitor.page(state, status, "demands/form.html", ctx)
}

async fn new_form(state: web::Data<AppState>, SignedIn(visitor, actor): SignedIn) -> HttpResponse {
    if actor.role != Role::Sme {
        return visitor.failure(&state, AppError::NotFound, "");
    }
    form_page(
        &state,
        &visitor,
        &actor,
        200,
        "",
        &NeedForm::default(),
        BTreeMap::new(),
    )
    .await
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = NeedForm::read(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", minijinja::context! {});
    };
    let (input, who) = (form.input(), actor.clone());
    match blocking(&state, move |st| app::create(st, &who, &input)).await {
        Ok(d) => see_other(&format!("/demands/{}", d.id)),
        Err(AppError::Validation(errors)) => {
            let errors = rule_errors(&state, &visitor, &errors);
            form_page(&state, &visitor, &actor, 422, "", &form, errors).await
        }
        Err(e) => visitor.failure(&state, e, "/demands"),
    }
}

async fn edit_form(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let (id, who) = (id.into_inner(), actor.clone());
    let found = blocking(&state, move |st| app::page(st, &who, &id)).await;
    match found {
        Ok(p) if p.own && p.demand.status == "open" => {
            let form = NeedForm::of(&p.demand);
            form_page(
                &state,
                &visitor,
                &actor,
                200,
                &p.demand.id,
                &form,
                BTreeMap::new(),
            )
            .await
        }
        Ok(p) => visitor.failure(
            &state,
            AppError::NotFound,
            &format!("/demands/{}", p.demand.id),
        ),
        Err(e) => visitor.failure(&state, e, "/demands"),
    }
}

async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = NeedForm::read(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", minijinja::context! {});
    };
    let id = id.into_inner();
    let (input, version, at, who) = (form.input(), form.version, id.clone(), actor.clone());
    match blocking(&state, move |st| {
        app::update(st, &who, &at, version, &input)
    })
    .await
    {
        Ok(d) => see_other(&format!("/demands/{}", d.id)),
        Err(AppError::Validation(errors)) => {
            let errors = rule_errors(&state, &visitor, &errors);
            form_page(&state, &visitor, &actor, 422, &id, &form, errors).await
        }
        Err(e) => visitor.failure(&state, e, &format!("/demands/{id}")),
    }
}

#[derive(Debug, Default, Deserialize)]
struct CloseForm {
    #[serde(default)]
    version: i64,
}

async fn close(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<CloseForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", minijinja::context! {});
    };
    let id = id.into_inner();
    let at = id.clone();
    match blocking(&state, move |st| app::close(st, &actor, &at, form.version)).await {
        Ok(_) => see_other(&format!("/demands/{id}")),
        Err(e) => visitor.failure(&state, e, &format!("/demands/{id}")),
    }
}

/// A need's page: the need; for its SME the proposals, each with "request a trial from
/// this"; for an institute its own proposals and the form to propose one of its technologies.
async fn show(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    show_page(
        &state,
        &visitor,
        actor,
        id.into_inner(),
        200,
        ProposalForm::default(),
        BTreeMap::new(),
    )
    .await
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ProposalForm {
    #[serde(default)]
    technology_id: String,
    #[serde(default)]
    message: String,
}

async fn show_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    status: u16,
    form: ProposalForm,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let lang = visitor.lang;
    let found = blocking(state, move |st| {
        let page = app::page(st, &actor, &id)?;
        let own = if actor.role == Role::Institute {
            crate::app::technologies::own(st, &actor)?.0
        } else {
            Vec::new()
        };
        Ok((page, own))
    })
    .await;
    let (page, own) = match found {
        Ok(found) => found,
        Err(e) => return visitor.failure(state, e, "/demands"),
    };
    let proposals: Vec<Value> = page
        .proposals
        .iter()
        .map(|p| {
            let (title, price) = p
                .technology
                .as_ref()
                .map(|t| {
                    (
                        if lang == "vi" { t.title.vi.clone() } else { t.title.en.clone() },
                        money(&t.valuation.currency, &t.valuation.amount),
                    )
                })
                .unwrap_or_default();
            minijinja::context! {
                id => p.proposal.id.clone(), technology_id => p.proposal.technology_id.clone(),
                title, price, institute => p.institute.clone(), message => p.proposal.message.clone(),
                status => p.proposal.status.clone(),
                agreement_id => p.proposal.agreement_id.clone().unwrap_or_default(),
                at => format::date(lang, p.proposal.created_at.date()),
            }
        })
        .collect();
    let offered: Vec<(String, String)> = own
        .iter()
        .filter(|o| o.technology.status == "listed")
        .map(|o| {
            let t = &o.technology;
            (
                t.id.clone(),
                if lang == "vi" {
                    t.title.vi.clone()
                } else {
                    t.title.en.clone()
                },
            )
        })
        .collect();
    let ctx = minijinja::context! {
        d => shown(state, lang, &page.demand),
        own => page.own,
        invited => page.invited.join(", "),
        proposals,
        offered,
        may_propose => visitor.user.as_ref().is_some_and(|u| u.role == Role::Institute)
            && page.demand.status == "open",
        form => minijinja::context! { technology_id => form.technology_id, message => form.message },
        errors,
    };
    visitor.page(state, status, "demands/show.html", ctx)
}

async fn propose(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<ProposalForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", minijinja::context! {});
    };
    let id = id.into_inner();
    let (input, at, who) = (
        ProposalInput {
            technology_id: form.technology_id.clone(),
            message: form.message.clone(),
        },
        id.clone(),
        actor.clone(),
    );
    match blocking(&state, move |st| app::propose(st, &who, &at, &input)).await {
        Ok(_) => see_other(&format!("/demands/{id}")),
        Err(AppError::Validation(errors)) => {
            show_page(
                &state,
                &visitor,
                actor,
                id,
                422,
                form,
                rule_errors(&state, &visitor, &errors),
            )
            .await
        }
        Err(e) => visitor.failure(&state, e, &format!("/demands/{id}")),
    }
}

/// What the trial request from a proposal posts.
#[derive(Debug, Default, Clone, Deserialize)]
struct RequestForm {
    #[serde(default)]
    place_of_use: String,
    #[serde(default)]
    requested_start: String,
    #[serde(default)]
    message: String,
}

/// The request form for a proposal of the SME's need, with the proposal named.
async fn request_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    ids: (String, String),
    status: u16,
    form: Option<RequestForm>,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let (id, proposal) = ids;
    let at = id.clone();
    let found = blocking(state, move |st| app::page(st, &actor, &at)).await;
    let page = match found {
        Ok(p) if p.own => p,
        Ok(_) => return visitor.failure(state, AppError::NotFound, ""),
        Err(e) => return visitor.failure(state, e, "/demands"),
    };
    let Some(p) = page.proposals.iter().find(|p| p.proposal.id == proposal) else {
        return visitor.failure(state, AppError::NotFound, &format!("/demands/{id}"));
    };
    if page.demand.status != "open" {
        let detail = visitor.words(state, "demands.request.closed", &[]);
        return visitor.failure(state, AppError::Conflict(detail), &format!("/demands/{id}"));
    }
    let title = p
        .technology
        .as_ref()
        .map(|t| {
            if visitor.lang == "vi" {
                t.title.vi.clone()
            } else {
                t.title.en.clone()
            }
        })
        .unwrap_or_default();
    // Pre-filled from the need: where it is wanted, a start two weeks on, and a note naming it.
    let form = form.unwrap_or_else(|| RequestForm {
        place_of_use: page.demand.province.clone(),
        requested_start: (state.clock.today(state.tz) + Duration::days(14)).to_string(),
        message: visitor.words(
            state,
            "demands.request.prefill",
            &[("need", page.demand.title.clone())],
        ),
    });
    let ctx = minijinja::context! {
        id, proposal, title, institute => p.institute.clone(), need => page.demand.title.clone(),
        f => minijinja::context! { place_of_use => form.place_of_use, requested_start => form.requested_start, message => form.message },
        errors,
    };
    visitor.page(state, status, "demands/request.html", ctx)
}

async fn request_form(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    request_page(
        &state,
        &visitor,
        actor,
        path.into_inner(),
        200,
        None,
        BTreeMap::new(),
    )
    .await
}

async fn request(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<RequestForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", minijinja::context! {});
    };
    let ids = path.into_inner();
    let mut errors = BTreeMap::new();
    let place = form.place_of_use.trim().to_string();
    if place.is_empty() || place.chars().count() > 500 {
        errors.insert(
            "place_of_use".to_string(),
            visitor.words(&state, "demands.request.place_missing", &[]),
        );
    }
    let start = NaiveDate::parse_from_str(form.requested_start.trim(), "%Y-%m-%d");
    if start.is_err() {
        errors.insert(
            "requested_start".to_string(),
            visitor.words(&state, "demands.request.start_missing", &[]),
        );
    }
    let (Ok(start), true) = (start, errors.is_empty()) else {
        return request_page(&state, &visitor, actor, ids, 422, Some(form), errors).await;
    };
    let req = FromProposal {
        place_of_use: place,
        message: form.message.trim().to_string(),
        requested_start: start,
    };
    let (id, proposal) = ids.clone();
    let who = actor.clone();
    match blocking(&state, move |st| {
        app::request_trial(st, &who, &id, &proposal, &req)
    })
    .await
    {
        Ok(agreement) => see_other(&format!("/agreements/{}", agreement.id)),
        Err(AppError::Validation(found)) if found.iter().all(|e| e.field == "requested_start") => {
            let mut errors = BTreeMap::new();
            errors.insert(
                "requested_start".to_string(),
                visitor.words(&state, "demands.request.start_past", &[]),
            );
            request_page(&state, &visitor, actor, ids, 422, Some(form), errors).await
        }
        Err(e) => visitor.failure(&state, e, &format!("/demands/{}", ids.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field whose rule the forms say has its words.
    #[test]
    fn every_rule_has_words() {
        let pages = super::super::Pages::load().unwrap();
        let keys: Vec<&String> = pages.catalogues.keys().collect();
        for field in RULES {
            let key = format!("demands.rule.{field}");
            assert!(keys.contains(&&key), "{key} is in no catalogue");
        }
    }
}
