//! Screening before listing and the public price disclosure, as pages. The institute sees
//! where its technology stands, the reviewer's findings and a button to submit it
//! (`/technologies/{id}/screening`); the reviewers (admins) have the technologies to screen
//! (`/admin/screening`) and the screening form (`/admin/screening/{id}`: readiness level with
//! its meaning in words, the checklist with notes, notes, and a reason to return); anyone,
//! signed in or not, reads the agreed conversion prices by sector and year
//! (`/conversion-prices`), no party named and cells under three agreements hidden.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDateTime, TimeZone, Utc};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};

use super::frame::{self, blocking, see_other, SignedIn, Visitor};
use crate::app::disclosure::PriceFilter;
use crate::error::{AppError, FieldError};
use crate::rules::screening::{next, Check, Checklist, Listing, Step, CHECKS};
use crate::settlement::money::Currency;
use crate::technologies::model::{Screening, ScreeningDecision, ScreeningRecord, Technology};
use crate::typeset::format;
use crate::AppState;

/// The screening pages and the price disclosure.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "screening/history.html",
            include_str!("templates/screening/history.html"),
        ),
        (
            "screening/technology.html",
            include_str!("templates/screening/technology.html"),
        ),
        (
            "screening/queue.html",
            include_str!("templates/screening/queue.html"),
        ),
        (
            "screening/review.html",
            include_str!("templates/screening/review.html"),
        ),
        (
            "screening/prices.html",
            include_str!("templates/screening/prices.html"),
        ),
    ],
    words: (
        "screening",
        include_str!("i18n/screening.vi.toml"),
        include_str!("i18n/screening.en.toml"),
    ),
    css: include_str!("../../static/web/screening.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/technologies/{id}/screening", web::get().to(own_page))
        .route("/technologies/{id}/screening", web::post().to(submit))
        .route("/admin/screening", web::get().to(queue))
        .route("/admin/screening/{id}", web::get().to(review_page))
        .route("/admin/screening/{id}", web::post().to(decide))
        .route("/conversion-prices", web::get().to(prices));
}

/// A stored instant as a day in the service's zone, in the page language.
fn day(state: &AppState, lang: &str, at: NaiveDateTime) -> String {
    format::date(
        lang,
        Utc.from_utc_datetime(&at)
            .with_timezone(&state.tz)
            .date_naive(),
    )
}

/// A sector in the page language: the catalogue's word for the known ones, else the code.
fn sector_word(state: &AppState, lang: &str, code: &str) -> String {
    state
        .pages
        .catalogues
        .text(lang, &format!("catalogue.field.{code}"), &[])
        .unwrap_or_else(|| code.to_string())
}

fn title(lang: &str, t: &Technology) -> String {
    if lang == "vi" {
        t.title.vi.clone()
    } else {
        t.title.en.clone()
    }
}

/// One screening as the history shows it.
fn screening_view(state: &AppState, lang: &str, s: &Screening) -> Value {
    let checks: Vec<Value> = s
        .checklist
        .as_ref()
        .map(|c| {
            c.items()
                .iter()
                .map(|(name, item)| {
                    context! { name, ok => item.ok, note => item.note.clone().unwrap_or_default() }
                })
                .collect()
        })
        .unwrap_or_default();
    context! {
        submitted => day(state, lang, s.submitted_at),
        decided => s.decided_at.map(|at| day(state, lang, at)).unwrap_or_default(),
        outcome => s.outcome.clone().unwrap_or_default(),
        trl => s.trl,
        checks,
        notes => s.notes.clone().unwrap_or_default(),
        reason => s.reason.clone().unwrap_or_default(),
    }
}

fn record_view(state: &AppState, lang: &str, r: &ScreeningRecord) -> Value {
    let history: Vec<Value> = r
        .screenings
        .iter()
        .map(|s| screening_view(state, lang, s))
        .collect();
    context! { stage => r.status.clone(), trl => r.trl, version => r.version, history }
}

// ---------------------------------------------------------------- the institute's page

#[derive(Debug, Default, Deserialize)]
struct Notice {
    #[serde(default)]
    submitted: Option<String>,
}

async fn own_page(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<Notice>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    let found = blocking(&state, move |st| {
        crate::app::screening::for_institute(st, &actor, &id)
    })
    .await;
    let (tech, record) = match found {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, "/technologies"),
    };
    let lang = visitor.lang;
    visitor.page(
        &state,
        200,
        "screening/technology.html",
        context! {
            id => tech.id.clone(), title => title(lang, &tech), record => record_view(&state, lang, &record),
            may_submit => Listing::parse(&record.status).is_some_and(|l| next(l, Step::Submit).is_ok()),
            submitted => q.submitted.is_some(),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VersionForm {
    version: String,
}

/// A posted form carrying this browser's token and the technology's version it was shown at
/// (`version` reads it), or the page to answer instead (403 without the token, 412 without a
/// version, `back` leading to where things stand).
fn versioned<T: serde::de::DeserializeOwned + Default>(
    state: &AppState,
    visitor: &Visitor,
    req: &HttpRequest,
    body: &[u8],
    back: &str,
    version: fn(&T) -> &str,
) -> Result<(T, i64), HttpResponse> {
    let Some(form) = frame::form::<T>(req, body) else {
        return Err(visitor.error(state, 403, "error.forbidden", context! {}));
    };
    match version(&form).trim().parse::<i64>() {
        Ok(expected) => Ok((form, expected)),
        Err(_) => Err(visitor.failure(state, AppError::PreconditionRequired, back)),
    }
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    let back = format!("/technologies/{id}/screening");
    let expected = match versioned(&state, &visitor, &req, &body, &back, |f: &VersionForm| {
        &f.version
    }) {
        Ok((_, expected)) => expected,
        Err(page) => return page,
    };
    match blocking(&state, move |st| {
        crate::app::screening::submit(st, &actor, &id, expected)
    })
    .await
    {
        Ok(_) => see_other(&format!("{back}?submitted=1")),
        Err(e) => visitor.failure(&state, e, &back),
    }
}

// ---------------------------------------------------------------- the reviewers' pages

#[derive(Debug, Default, Deserialize)]
struct Decided {
    #[serde(default)]
    decided: Option<String>,
}

async fn queue(
    state: web::Data<AppState>,
    q: web::Query<Decided>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let waiting = match blocking(&state, move |st| crate::app::screening::queue(st, &actor)).await {
        Ok(w) => w,
        Err(e) => return visitor.failure(&state, e, "/home"),
    };
    let lang = visitor.lang;
    let items: Vec<Value> = waiting
        .iter()
        .map(|w| {
            context! {
                id => w.technology.id.clone(), title => title(lang, &w.technology),
                field => sector_word(&state, lang, &w.technology.field),
                submitted => day(&state, lang, w.screening.submitted_at),
            }
        })
        .collect();
    let decided = q
        .decided
        .as_deref()
        .filter(|d| matches!(*d, "listed" | "returned"))
        .unwrap_or("");
    visitor.page(
        &state,
        200,
        "screening/queue.html",
        context! { items, decided },
    )
}

/// The screening form as typed.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct ReviewForm {
    version: String,
    outcome: String,
    trl: String,
    rights_clear: String,
    rights_clear_note: String,
    inventors_agree: String,
    inventors_agree_note: String,
    valuation_basis: String,
    valuation_basis_note: String,
    notes: String,
    reason: String,
}

impl ReviewForm {
    fn decision(&self) -> ScreeningDecision {
        let check = |ok: &str, note: &str| Check {
            ok: ok == "yes",
            note: Some(note.trim().to_string()).filter(|n| !n.is_empty()),
        };
        ScreeningDecision {
            outcome: self.outcome.clone(),
            trl: self.trl.trim().parse().ok(),
            checklist: Checklist {
                rights_clear: check(&self.rights_clear, &self.rights_clear_note),
                inventors_agree: check(&self.inventors_agree, &self.inventors_agree_note),
                valuation_basis: check(&self.valuation_basis, &self.valuation_basis_note),
            },
            notes: self.notes.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// The form's fields, each with an empty error unless one is found.
const REVIEW_FIELDS: [&str; 10] = [
    "outcome",
    "trl",
    "rights_clear",
    "inventors_agree",
    "valuation_basis",
    "rights_clear_note",
    "inventors_agree_note",
    "valuation_basis_note",
    "notes",
    "reason",
];

/// The messages beside the fields, in the page language, for app's faults.
fn review_errors(
    visitor: &Visitor,
    state: &AppState,
    found: &[FieldError],
) -> BTreeMap<String, String> {
    let mut errors: BTreeMap<String, String> = REVIEW_FIELDS
        .iter()
        .map(|f| (f.to_string(), String::new()))
        .collect();
    for e in found {
        // `checklist.rights_clear.ok` → `rights_clear`; `….note` → `rights_clear_note`.
        let field = match e.field.strip_prefix("checklist.") {
            Some(rest) => match rest.split_once('.') {
                Some((name, "note")) => format!("{name}_note"),
                Some((name, _)) => name.to_string(),
                None => rest.to_string(),
            },
            None => e.field.clone(),
        };
        let key = match field.as_str() {
            f if CHECKS.contains(&f) => "screening.rule.check".to_string(),
            f if f.ends_with("_note") => "screening.rule.note".to_string(),
            f => format!("screening.rule.{f}"),
        };
        let message = state
            .pages
            .catalogues
            .text(visitor.lang, &key, &[])
            .unwrap_or_else(|| e.message.clone());
        errors.insert(field, message);
    }
    errors
}

fn review(
    visitor: &Visitor,
    state: &AppState,
    status: u16,
    tech: &Technology,
    record: &ScreeningRecord,
    form: &ReviewForm,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let lang = visitor.lang;
    let has_errors = errors.values().any(|e| !e.is_empty());
    let reviewer = visitor
        .user
        .as_ref()
        .is_some_and(crate::app::screening::may_decide);
    visitor.page(
        state,
        status,
        "screening/review.html",
        context! {
            id => tech.id.clone(), title => title(lang, tech),
            summary => if lang == "vi" { tech.summary.vi.clone() } else { tech.summary.en.clone() },
            field => sector_word(state, lang, &tech.field), ip_reference => tech.ip_reference.clone(),
            valuation => Currency::parse(&tech.valuation.currency)
                .and_then(|c| c.parse_amount(&tech.valuation.amount).ok().map(|m| format::money(c, m)))
                .unwrap_or_default(),
            record => record_view(state, lang, record),
            open => record.status == "in_screening" && reviewer,
            form, errors, has_errors, checks => CHECKS, levels => (1..=9).collect::<Vec<i32>>(),
        },
    )
}

async fn review_page(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    match blocking(&state, move |st| {
        crate::app::screening::for_reviewing(st, &actor, &id)
    })
    .await
    {
        Ok((tech, record)) => {
            let form = ReviewForm {
                version: record.version.to_string(),
                ..ReviewForm::default()
            };
            review(
                &visitor,
                &state,
                200,
                &tech,
                &record,
                &form,
                review_errors(&visitor, &state, &[]),
            )
        }
        Err(e) => visitor.failure(&state, e, "/admin/screening"),
    }
}

async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    let back = format!("/admin/screening/{id}");
    let (form, expected) =
        match versioned(&state, &visitor, &req, &body, &back, |f: &ReviewForm| {
            &f.version
        }) {
            Ok(found) => found,
            Err(page) => return page,
        };
    let decision = form.decision();
    let result = {
        let (id, actor) = (id.clone(), actor.clone());
        blocking(&state, move |st| {
            crate::app::screening::decide(st, &actor, &id, expected, &decision)
        })
        .await
    };
    match result {
        Ok(record) => see_other(&format!("/admin/screening?decided={}", record.status)),
        Err(AppError::Validation(found)) => {
            let errors = review_errors(&visitor, &state, &found);
            match blocking(&state, move |st| {
                crate::app::screening::for_reviewing(st, &actor, &id)
            })
            .await
            {
                Ok((tech, record)) => review(&visitor, &state, 422, &tech, &record, &form, errors),
                Err(e) => visitor.failure(&state, e, &back),
            }
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

// ---------------------------------------------------------------- the price disclosure

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PriceQuery {
    year: String,
    sector: String,
}

async fn prices(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<PriceQuery>,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let q = q.into_inner();
    let filter = PriceFilter {
        year: Some(q.year.clone()),
        sector: Some(q.sector.clone()),
    };
    let (status, found, error) = match blocking(&state, move |st| {
        crate::app::disclosure::prices(st, &filter)
    })
    .await
    {
        Ok(found) => (200, found, String::new()),
        Err(AppError::Validation(_)) => {
            // Show every cell again, beside the error on the year.
            let all = PriceFilter::default();
            match blocking(&state, move |st| crate::app::disclosure::prices(st, &all)).await {
                Ok(found) => (
                    422,
                    found,
                    visitor.words(&state, "screening.prices.bad_year", &[]),
                ),
                Err(e) => return visitor.failure(&state, e, ""),
            }
        }
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let lang = visitor.lang;
    let sector_word = |code: &str| sector_word(&state, lang, code);
    let money = |currency: &str, minor: Option<i64>| match (Currency::parse(currency), minor) {
        (Some(c), Some(m)) => format::money(c, m),
        _ => String::new(),
    };
    let cells: Vec<Value> = found
        .cells
        .iter()
        .map(|c| {
            context! {
                sector => sector_word(&c.sector), year => c.year, currency => c.currency.clone(),
                hidden => c.hidden, count => c.count.map(|n| format::count(lang, n)).unwrap_or_default(),
                median => money(&c.currency, c.median_minor),
                min => money(&c.currency, c.min_minor), max => money(&c.currency, c.max_minor),
            }
        })
        .collect();
    let sectors: Vec<Value> = found
        .sectors
        .iter()
        .map(|s| context! { code => s.clone(), name => sector_word(s) })
        .collect();
    visitor.page(
        &state,
        status,
        "screening/prices.html",
        context! {
            cells, sectors, years => found.years, min_count => found.min_count,
            year => q.year, sector => q.sector, error,
        },
    )
}
