//! The catalogue as an SME (or an institute, or a supervisor) reads it: a search by words
//! (accents optional) and filters kept in the URL, a technology's page with its conversion
//! terms in plain words and what converting on a chosen day would cost, and the SME's form
//! asking for a trial. The search answers only its results to htmx (search as you type); every
//! page works the same without JavaScript.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use minijinja::Value;
use serde::Deserialize;

use super::frame::{self, blocking, read_kept, see_other, Read, SignedIn, Visitor};
use crate::agreements::model::NewRequest;
use crate::app::technologies::{CatalogueQuery, Offered};
use crate::error::AppError;
use crate::insurance::model::Product;
use crate::settlement::money::{parse_rate, Currency};
use crate::settlement::quote::Quote;
use crate::settlement::terms::{ImprovementOwner, Improvements, Price, Terms, Trigger};
use crate::typeset::format;
use crate::AppState;

/// Technologies on one page of results.
const PER_PAGE: i64 = 10;

/// The trial lengths the catalogue filters by: (URL value, shortest, longest day).
const TRIALS: [(&str, u32, u32); 3] = [
    ("short", 1, 90),
    ("medium", 91, 180),
    ("long", 181, u32::MAX),
];

/// htmx, vendored from its npm package (`static/web/vendor/htmx`).
const HTMX: &[u8] = include_bytes!("../../static/web/vendor/htmx/htmx.min.js");

/// The catalogue, a technology's page and the request for a trial.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "catalogue/list.html",
            include_str!("templates/catalogue/list.html"),
        ),
        (
            "catalogue/results.html",
            include_str!("templates/catalogue/results.html"),
        ),
        (
            "catalogue/technology.html",
            include_str!("templates/catalogue/technology.html"),
        ),
        (
            "catalogue/request.html",
            include_str!("templates/catalogue/request.html"),
        ),
    ],
    words: (
        "catalogue",
        include_str!("i18n/catalogue.vi.toml"),
        include_str!("i18n/catalogue.en.toml"),
    ),
    css: include_str!("../../static/web/catalogue.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/static/web/htmx.min.js", web::get().to(htmx))
        .route("/catalogue", web::get().to(list))
        .route("/catalogue/{id}", web::get().to(technology))
        .route("/catalogue/{id}/request", web::get().to(request_form))
        .route("/catalogue/{id}/request", web::post().to(request));
}

/// htmx from the binary; its URL names no version, and it changes only with a new release.
async fn htmx() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .body(HTMX)
}

/// The words of `key` in `lang` if a catalogue has them.
fn known(state: &AppState, lang: &str, key: &str) -> Option<String> {
    state.pages.catalogues.text(lang, key, &[])
}

/// A field (sector) in the page language: the catalogue's word for the known ones, the
/// institute's own word for the rest.
pub(super) fn sector(state: &AppState, lang: &str, field: &str) -> String {
    known(state, lang, &format!("catalogue.field.{field}")).unwrap_or_else(|| field.to_string())
}

/// A kind of intellectual property in the page language.
fn ip_kind(state: &AppState, lang: &str, ip_type: &str) -> String {
    known(state, lang, &format!("catalogue.ip.{ip_type}")).unwrap_or_else(|| ip_type.to_string())
}

/// A stored amount (major units of `currency`) as the pages write money.
pub(super) fn money(currency: &str, amount: &str) -> String {
    Currency::parse(currency)
        .and_then(|c| {
            c.parse_amount(amount)
                .ok()
                .map(|minor| format::money(c, minor))
        })
        .unwrap_or_else(|| format!("{amount} {currency}"))
}

/// A stored rate as a percentage in the page language.
fn percent(lang: &str, rate: &str) -> String {
    parse_rate(rate)
        .map(|r| format::percent(lang, r))
        .unwrap_or_else(|_| rate.to_string())
}

/// The catalogue's query string: each filter, blank when not set.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
struct Filters {
    q: String,
    field: String,
    province: String,
    institute: String,
    ip: String,
    trial: String,
    #[serde(skip_serializing)]
    page: String,
}

impl Filters {
    fn query(&self) -> CatalogueQuery {
        let set = |s: &String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        CatalogueQuery {
            q: set(&self.q),
            field: set(&self.field),
            province: set(&self.province),
            institute_id: set(&self.institute),
            ip_type: set(&self.ip),
            trial_days: TRIALS
                .iter()
                .find(|(name, _, _)| *name == self.trial)
                .map(|(_, shortest, longest)| (*shortest, *longest)),
        }
    }

    /// The page asked for, from 1.
    fn page(&self) -> i64 {
        frame::page_number(&self.page)
    }

    /// This search's URL on page `page` (only the filters that are set).
    fn url(&self, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("q", &self.q),
            ("field", &self.field),
            ("province", &self.province),
            ("institute", &self.institute),
            ("ip", &self.ip),
            ("trial", &self.trial),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.trim().to_string()))
        .collect();
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        match serde_urlencoded::to_string(&pairs).unwrap_or_default() {
            q if q.is_empty() => "/catalogue".to_string(),
            q => format!("/catalogue?{q}"),
        }
    }
}

/// The trial length of `terms` in the page language, or blank without terms.
fn trial_of(lang: &str, terms: Option<&crate::technologies::model::TermsVersion>) -> String {
    terms
        .map(|t| format::days(lang, t.terms.trial_days))
        .unwrap_or_default()
}

/// One technology as a row of results.
fn row(state: &AppState, lang: &str, o: &Offered) -> Value {
    let t = &o.technology;
    minijinja::context! {
        id => t.id.clone(),
        title => if lang == "vi" { t.title.vi.clone() } else { t.title.en.clone() },
        institute => o.institute.as_ref().map(|i| i.name.clone()).unwrap_or_default(),
        sector => sector(state, lang, &t.field),
        ip => ip_kind(state, lang, &t.ip_type),
        trial => trial_of(lang, o.terms.as_ref()),
        valuation => money(&t.valuation.currency, &t.valuation.amount),
        status => if t.status == "listed" { String::new() } else { t.status.clone() },
    }
}

/// The catalogue: the search form, and a page of what it finds; to htmx only the results.
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    filters: web::Query<Filters>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let filters = filters.into_inner();
    let (query, page) = (filters.query(), filters.page());
    // htmx asks for the results alone, except when it restores a page from history.
    let fragment = req.headers().contains_key("HX-Request")
        && !req.headers().contains_key("HX-History-Restore-Request");
    // A search repeated while the catalogue stands still is the page kept (`web::kept`).
    let found = read_kept(&state, &visitor, fragment, move |st| {
        crate::app::technologies::catalogue(st, &actor, &query, PER_PAGE, (page - 1) * PER_PAGE)
    })
    .await;
    let vary = |mut res: HttpResponse| {
        res.headers_mut()
            .insert(header::VARY, header::HeaderValue::from_static("HX-Request"));
        res
    };
    let (catalogue, keep) = match found {
        Ok(Read::Kept(body)) => return vary(visitor.kept(body)),
        Ok(Read::Fresh(c, keep)) => (c, keep),
        Err(e) => return visitor.failure(&state, e, "/catalogue"),
    };
    let lang = visitor.lang;
    let results: Vec<Value> = catalogue
        .offered
        .iter()
        .map(|o| row(&state, lang, o))
        .collect();
    let pages = frame::pages_of(catalogue.total, PER_PAGE);
    let mut fields: Vec<(String, String)> = catalogue
        .fields
        .iter()
        .map(|f| (f.clone(), sector(&state, lang, f)))
        .collect();
    fields.sort_by(|a, b| a.1.cmp(&b.1));
    let institutes: Vec<(String, String)> = catalogue
        .institutes
        .iter()
        .map(|i| (i.id.clone(), i.name.clone()))
        .collect();
    let ips: Vec<(String, String)> = crate::technologies::model::IP_TYPES
        .iter()
        .map(|t| (t.to_string(), ip_kind(&state, lang, t)))
        .collect();
    let filtered = filters.url(1) != "/catalogue";
    let ctx = minijinja::context! {
        results,
        total => catalogue.total,
        page,
        pages,
        prev => if page > 1 { filters.url(page - 1) } else { String::new() },
        next => if page < pages { filters.url(page + 1) } else { String::new() },
        filtered,
        f => minijinja::context! {
            q => filters.q.trim(), field => filters.field.clone(),
            province => filters.province.clone(), institute => filters.institute.clone(),
            ip => filters.ip.clone(), trial => filters.trial.clone(),
        },
        fields,
        provinces => catalogue.provinces(),
        institutes,
        ips,
        trials => TRIALS.iter().map(|(name, _, _)| *name).collect::<Vec<_>>(),
    };
    let template = if fragment {
        "catalogue/results.html"
    } else {
        "catalogue/list.html"
    };
    vary(visitor.page_keeping(&state, 200, keep, template, ctx))
}

/// The date a quote is for, as typed (`YYYY-MM-DD`; blank for today).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QuoteDay {
    convert_on: String,
}

/// A sentence of the terms: its words' key and the values they name.
type Sentence = (&'static str, Vec<(&'static str, String)>);

/// The royalty's sentence: the rate of net sales, and the yearly minimum if there is one.
fn royalty(lang: &str, currency: &str, rate: &str, min: Option<&String>) -> Sentence {
    let rate = percent(lang, rate);
    match min {
        Some(min) => (
            "catalogue.terms.royalty_min",
            vec![("rate", rate), ("min", money(currency, min))],
        ),
        None => ("catalogue.terms.royalty", vec![("rate", rate)]),
    }
}

/// Words of a key in the page language, its placeholders filled.
type Words<'a> = &'a dyn Fn(&str, &[(&str, String)]) -> String;

/// The terms in plain words, one sentence each, in `lang`.
fn terms_in_words(lang: &str, t: &Terms, words: Words<'_>) -> Vec<String> {
    let days = |n: u32| format::days(lang, n);
    let cur = t.currency.as_str();
    let mut sentences: Vec<Sentence> = vec![
        ("catalogue.terms.trial", vec![("days", days(t.trial_days))]),
        (
            "catalogue.terms.decision",
            vec![("days", days(t.decision_days))],
        ),
    ];
    match &t.price {
        Price::LumpSum { amount, due_days } => sentences.push((
            "catalogue.terms.lump_sum",
            vec![("amount", money(cur, amount)), ("days", days(*due_days))],
        )),
        Price::Installments {
            total,
            count,
            interval_months,
            first_due_days,
        } => sentences.push((
            "catalogue.terms.installments",
            vec![
                ("total", money(cur, total)),
                ("count", count.to_string()),
                ("months", interval_months.to_string()),
                ("days", days(*first_due_days)),
            ],
        )),
        Price::Royalty { rate, min_per_year } => {
            sentences.push(royalty(lang, cur, rate, min_per_year.as_ref()))
        }
        Price::EntryFeePlusRoyalty {
            entry_fee,
            due_days,
            rate,
            min_per_year,
        } => {
            sentences.push((
                "catalogue.terms.entry_fee",
                vec![("amount", money(cur, entry_fee)), ("days", days(*due_days))],
            ));
            sentences.push(royalty(lang, cur, rate, min_per_year.as_ref()));
        }
    }
    if let Some(d) = &t.early_conversion_discount {
        sentences.push(("catalogue.terms.discount", vec![("rate", percent(lang, d))]));
    }
    if let Some(r) = &t.late_payment_daily_rate {
        sentences.push(("catalogue.terms.late", vec![("rate", percent(lang, r))]));
    }
    if let Some(d) = &t.distribution {
        sentences.push((
            "catalogue.terms.distribution",
            vec![
                ("institute", percent(lang, &d.institute)),
                ("inventors", percent(lang, &d.inventors)),
                ("intermediary", percent(lang, &d.intermediary)),
            ],
        ));
    }
    sentences.push((improvements_key(t.improvements), vec![]));
    sentences.push(if t.insurance_required {
        ("catalogue.terms.insurance_required", vec![])
    } else {
        ("catalogue.terms.insurance_optional", vec![])
    });
    match &t.first_payment {
        Some(Trigger::OnDate { date }) => sentences.push((
            "catalogue.terms.trigger_on_date",
            vec![("date", format::date(lang, *date))],
        )),
        Some(Trigger::MonthsAfterConversion { months }) => sentences.push((
            "catalogue.terms.trigger_months",
            vec![("months", months.to_string())],
        )),
        Some(Trigger::FirstRevenue) => {
            sentences.push(("catalogue.terms.trigger_first_revenue", vec![]))
        }
        None => {}
    }
    if let Some(key) = registration_key(t) {
        sentences.push((key, vec![]));
    }
    sentences
        .into_iter()
        .map(|(key, args)| words(key, &args))
        .collect()
}

/// The sentence saying the contract is registered, when its rules require it. Vietnam's rule:
/// a state-funded result's transfer is registered and takes effect on the certificate;
/// China's: registered for the VAT exemption.
pub(super) fn registration_key(t: &Terms) -> Option<&'static str> {
    match (t.jurisdiction(), t.state_funded) {
        (Some("vn"), true) => Some("catalogue.terms.registration_vn"),
        (Some("cn"), _) => Some("catalogue.terms.registration_cn"),
        _ => None,
    }
}

/// The sentence saying who owns the SME's improvements, and what licence back the other
/// party gets.
pub(super) fn improvements_key(rule: Option<Improvements>) -> &'static str {
    use ImprovementOwner as O;
    match rule.map(|i| (i.owner, i.licence_back)) {
        None => "catalogue.terms.improvements.none",
        Some((O::Sme, false)) => "catalogue.terms.improvements.sme",
        Some((O::Sme, true)) => "catalogue.terms.improvements.sme_back",
        Some((O::Institute, false)) => "catalogue.terms.improvements.institute",
        Some((O::Institute, true)) => "catalogue.terms.improvements.institute_back",
        Some((O::Joint, false)) => "catalogue.terms.improvements.joint",
        Some((O::Joint, true)) => "catalogue.terms.improvements.joint_back",
    }
}

/// The insurance products an insured trial may take, with who pays their premium.
fn products_in_words(state: &AppState, visitor: &Visitor, products: &[Product]) -> Vec<Value> {
    let lang = visitor.lang;
    products
        .iter()
        .map(|p| {
            let shares = visitor.words(
                state,
                "catalogue.terms.premium_shares",
                &[
                    ("rate", percent(lang, &p.premium_rate)),
                    ("sme", percent(lang, &p.shares.sme)),
                    ("institute", percent(lang, &p.shares.institute)),
                    ("subsidy", percent(lang, &p.shares.subsidy)),
                ],
            );
            minijinja::context! {
                name => if lang == "vi" { p.name.vi.clone() } else { p.name.en.clone() },
                shares,
            }
        })
        .collect()
}

/// A quote's lines and total, as the page shows them.
fn quote_in_words(state: &AppState, visitor: &Visitor, q: &Quote) -> Value {
    let lang = visitor.lang;
    let cur = q.currency.as_str();
    let lines: Vec<Value> = q
        .lines
        .iter()
        .map(|l| {
            minijinja::context! {
                number => l.number,
                kind => visitor.words(state, &format!("catalogue.quote.kind.{}", l.kind), &[]),
                due => format::date(lang, l.due),
                amount => money(cur, &l.amount),
            }
        })
        .collect();
    let royalty = q
        .royalty
        .as_ref()
        .map(|r| {
            let (key, args) = royalty(lang, cur, &r.rate, r.min_per_year.as_ref());
            visitor.words(state, key, &args)
        })
        .unwrap_or_default();
    minijinja::context! {
        convert_on => format::date(lang, q.convert_on),
        lines,
        total => money(cur, &q.total),
        royalty,
    }
}

/// A technology: what it is, who offers it, its terms in plain words, and what converting on
/// the day asked for (today unless the visitor picks one) would cost.
async fn technology(
    state: web::Data<AppState>,
    id: web::Path<String>,
    day: web::Query<QuoteDay>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let typed = day.into_inner().convert_on.trim().to_string();
    let convert_on = match typed.as_str() {
        "" => Ok(None),
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some),
    };
    let id = id.into_inner();
    let may_request = crate::app::technologies::may_request_trial(&actor);
    let loaded = blocking(&state, move |st| {
        let offered = crate::app::technologies::offered(st, &actor, &id)?;
        let trl = crate::app::screening::listed_trl(st, &actor, &id)?;
        let quote = match (&offered.terms, convert_on) {
            (Some(_), Ok(day)) => Some(crate::app::technologies::quote_current(
                st, &actor, &id, day,
            )),
            _ => None,
        };
        let products = match &offered.terms {
            Some(t) if t.terms.insurance_required => crate::app::insurance::list_products(
                st,
                &actor,
                None,
                None,
                Some(&t.terms.currency),
            )?,
            _ => Vec::new(),
        };
        Ok((offered, quote, products, trl))
    })
    .await;
    let (offered, quote, products, trl) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return visitor.failure(&state, e, "/catalogue"),
    };
    let lang = visitor.lang;
    let t = &offered.technology;
    let mut status = 200;
    let mut quote_error = String::new();
    // No quote without terms; a date that is not one (or past the calendar) is the field's.
    let quote = match (quote, &offered.terms) {
        (_, None) => Value::from(()),
        (Some(Ok(q)), Some(_)) => quote_in_words(&state, &visitor, &q),
        (None, Some(_)) | (Some(Err(AppError::Validation(_))), Some(_)) => {
            status = 422;
            quote_error = visitor.words(&state, "catalogue.quote.bad_date", &[]);
            Value::from(())
        }
        (Some(Err(e)), Some(_)) => {
            return visitor.failure(&state, e, &format!("/catalogue/{}", t.id))
        }
    };
    let words = |key: &str, args: &[(&str, String)]| visitor.words(&state, key, args);
    let terms = offered
        .terms
        .as_ref()
        .map(|tv| terms_in_words(lang, &tv.terms, &words))
        .unwrap_or_default();
    let ctx = minijinja::context! {
        id => t.id.clone(),
        title => if lang == "vi" { t.title.vi.clone() } else { t.title.en.clone() },
        summary => if lang == "vi" { t.summary.vi.clone() } else { t.summary.en.clone() },
        sector => sector(&state, lang, &t.field),
        ip => ip_kind(&state, lang, &t.ip_type),
        ip_reference => t.ip_reference.clone(),
        valuation => money(&t.valuation.currency, &t.valuation.amount),
        institute => offered.institute.as_ref().map(|i| i.name.clone()).unwrap_or_default(),
        province => offered.institute.as_ref().map(|i| i.province.clone()).unwrap_or_default(),
        status => t.status.clone(),
        terms_version => offered.terms.as_ref().map(|tv| tv.version).unwrap_or(0),
        terms,
        insurance_required => offered.terms.as_ref().is_some_and(|tv| tv.terms.insurance_required),
        products => products_in_words(&state, &visitor, &products),
        quote,
        convert_on => typed,
        quote_error,
        may_request => may_request && t.status == "listed" && offered.terms.is_some(),
        trl,
    };
    visitor.page(&state, status, "catalogue/technology.html", ctx)
}

/// The request form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct RequestForm {
    key: String,
    place_of_use: String,
    requested_start: String,
    message: String,
}

/// The longest idempotency key a form may carry (as the API's header).
const KEY_MAX: usize = 200;

/// The request form for `offered`, with what was typed and the errors beside the fields.
fn request_page(
    state: &AppState,
    visitor: &Visitor,
    status: u16,
    offered: &Offered,
    form: &RequestForm,
    errors: std::collections::BTreeMap<String, String>,
) -> HttpResponse {
    let t = &offered.technology;
    let ctx = minijinja::context! {
        id => t.id.clone(),
        title => if visitor.lang == "vi" { t.title.vi.clone() } else { t.title.en.clone() },
        institute => offered.institute.as_ref().map(|i| i.name.clone()).unwrap_or_default(),
        trial => trial_of(visitor.lang, offered.terms.as_ref()),
        key => form.key.clone(),
        place_of_use => form.place_of_use.clone(),
        requested_start => form.requested_start.clone(),
        message => form.message.clone(),
        errors,
    };
    visitor.page(state, status, "catalogue/request.html", ctx)
}

/// The technology an SME may ask to try: listed, with terms; anyone else is shown the 404
/// page, and a technology without terms the 409 page.
async fn requestable(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: &crate::auth::session::Actor,
    id: String,
) -> Result<Offered, HttpResponse> {
    if !crate::app::technologies::may_request_trial(actor) {
        return Err(visitor.failure(state, AppError::NotFound, ""));
    }
    let actor = actor.clone();
    let offered = blocking(state, move |st| {
        crate::app::technologies::offered(st, &actor, &id)
    })
    .await
    .map_err(|e| visitor.failure(state, e, "/catalogue"))?;
    if offered.technology.status != "listed" {
        return Err(visitor.failure(state, AppError::NotFound, "/catalogue"));
    }
    if offered.terms.is_none() {
        let detail = visitor.words(state, "catalogue.request.no_terms", &[]);
        let back = format!("/catalogue/{}", offered.technology.id);
        return Err(visitor.failure(state, AppError::Conflict(detail), &back));
    }
    Ok(offered)
}

/// The form asking for a trial, with a fresh key that makes sending it twice harmless.
async fn request_form(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let offered = match requestable(&state, &visitor, &actor, id.into_inner()).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    let form = RequestForm {
        key: uuid::Uuid::new_v4().simple().to_string(),
        ..RequestForm::default()
    };
    request_page(&state, &visitor, 200, &offered, &form, Default::default())
}

/// The SME asks for a trial. The form's key, made when the form was shown, is the request's
/// idempotency key, and the request it stands for is "a trial of this technology": a second
/// send of the same form (a double click, or back and send again) lands on the agreement the
/// first one made, whatever was changed in between.
async fn request(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(mut form) = frame::form::<RequestForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", minijinja::context! {});
    };
    let offered = match requestable(&state, &visitor, &actor, id.into_inner()).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    form.key = form.key.trim().to_string();
    if form.key.is_empty() || form.key.len() > KEY_MAX {
        form.key = uuid::Uuid::new_v4().simple().to_string();
    }
    let mut errors = std::collections::BTreeMap::new();
    let mut word = |field: &str, key: &str| {
        errors.insert(field.to_string(), visitor.words(&state, key, &[]));
    };
    let place = form.place_of_use.trim().to_string();
    if place.is_empty() {
        word("place_of_use", "catalogue.request.place_missing");
    } else if place.chars().count() > 500 {
        word("place_of_use", "catalogue.request.place_long");
    }
    let start = NaiveDate::parse_from_str(form.requested_start.trim(), "%Y-%m-%d");
    if start.is_err() {
        word("requested_start", "catalogue.request.start_missing");
    }
    if form.message.chars().count() > 4000 {
        word("message", "catalogue.request.message_long");
    }
    let Ok(start) = start else {
        return request_page(&state, &visitor, 422, &offered, &form, errors);
    };
    if !errors.is_empty() {
        return request_page(&state, &visitor, 422, &offered, &form, errors);
    }
    let (tech, key, message) = (
        offered.technology.id.clone(),
        form.key.clone(),
        form.message.trim().to_string(),
    );
    let made = blocking(&state, move |st| {
        crate::app::agreements::request_once(
            st,
            &actor,
            Some(&key),
            &format!("web trial request: {tech}"),
            NewRequest {
                technology_id: &tech,
                place_of_use: place,
                message,
                requested_start: start,
            },
        )
    })
    .await;
    match made {
        Ok(created) => {
            let agreement: serde_json::Value =
                serde_json::from_str(&created.body).unwrap_or_default();
            match agreement["id"].as_str() {
                Some(id) => see_other(&format!("/agreements/{id}")),
                None => visitor.failure(
                    &state,
                    AppError::Internal(anyhow::anyhow!("a trial request answered no agreement")),
                    "",
                ),
            }
        }
        Err(AppError::Validation(found)) if found.iter().all(|e| e.field == "requested_start") => {
            let mut errors = std::collections::BTreeMap::new();
            errors.insert(
                "requested_start".to_string(),
                visitor.words(&state, "catalogue.request.start_past", &[]),
            );
            request_page(&state, &visitor, 422, &offered, &form, errors)
        }
        Err(e) => visitor.failure(&state, e, &format!("/catalogue/{}", offered.technology.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::{i18n, Pages};

    fn terms(price: Price, insured: bool) -> Terms {
        Terms {
            trial_days: 90,
            decision_days: 30,
            currency: "VND".into(),
            price,
            insurance_required: insured,
            early_conversion_discount: Some("0.05".into()),
            late_payment_daily_rate: Some("0.0003".into()),
            distribution: None,
            improvements: None,
            state_funded: false,
            jurisdiction: None,
            first_payment: None,
        }
    }

    /// Every template of the group sets in both languages with a representative context,
    /// and what an institute typed is escaped.
    #[test]
    fn every_catalogue_page_sets_in_both_languages() {
        let pages = Pages::load().unwrap();
        for lang in i18n::LANGS {
            let user = minijinja::context! { display_name => "Trần Thị Bình", role => "sme" };
            let row = minijinja::context! {
                id => "t1", title => "Chế phẩm <vi sinh>", institute => "Viện A",
                sector => "Nông nghiệp", ip => "Sáng chế", trial => "90 ngày",
                valuation => "850.000.000 ₫", status => "",
            };
            let list_ctx = |results: Vec<Value>, total: i64| {
                minijinja::context! {
                    lang, csrf => "x", path => "/catalogue", user => user.clone(),
                    results, total, page => 1, pages => 2, prev => "",
                    next => "/catalogue?q=rom&page=2", filtered => true,
                    f => minijinja::context! { q => "rơm", field => "agriculture",
                        province => "Hà Nội", institute => "i1", ip => "patent", trial => "short" },
                    fields => vec![("agriculture", "Nông nghiệp")],
                    provinces => vec!["Hà Nội"],
                    institutes => vec![("i1", "Viện A")],
                    ips => vec![("patent", "Sáng chế")],
                    trials => vec!["short", "medium", "long"],
                }
            };
            let page = pages
                .render("catalogue/list.html", list_ctx(vec![row.clone()], 11))
                .unwrap();
            assert!(page.contains("Chế phẩm &lt;vi sinh&gt;"), "{page}");
            assert!(page.contains("/static/web/htmx.min.js"));
            let none = pages
                .render("catalogue/results.html", list_ctx(vec![], 0))
                .unwrap();
            assert!(none.contains("href=\"/catalogue\""), "{none}");
            assert!(!none.contains("<html"));
            let quote = minijinja::context! {
                convert_on => "02/03/2026",
                lines => vec![minijinja::context! { number => 1, kind => "x", due => "01/04/2026", amount => "150.000.000 ₫" }],
                total => "150.000.000 ₫", royalty => "",
            };
            for (quote, quote_error) in [(quote, ""), (Value::from(()), "bad")] {
                pages
                    .render(
                        "catalogue/technology.html",
                        minijinja::context! {
                            lang, csrf => "x", path => "/catalogue/t1", user => user.clone(),
                            id => "t1", title => "T", summary => "S", sector => "N",
                            ip => "P", ip_reference => "VN 1", valuation => "1 ₫",
                            institute => "Viện A", province => "Hà Nội", status => "listed",
                            terms_version => 1, terms => vec!["a", "b"],
                            insurance_required => true,
                            products => vec![minijinja::context! { name => "B", shares => "s" }],
                            quote, convert_on => "", quote_error, may_request => true,
                            trl => 6,
                        },
                    )
                    .unwrap();
            }
            let errors: std::collections::BTreeMap<&str, &str> =
                [("place_of_use", "x"), ("requested_start", "y")].into();
            let form = pages
                .render(
                    "catalogue/request.html",
                    minijinja::context! {
                        lang, csrf => "x", path => "/catalogue/t1/request", user => user.clone(),
                        id => "t1", title => "T", institute => "Viện A", trial => "90 ngày",
                        key => "k1", place_of_use => "Xưởng <1>", requested_start => "2020-01-01",
                        message => "", errors,
                    },
                )
                .unwrap();
            assert!(form.contains("Xưởng &lt;1&gt;"));
            assert!(form.contains("aria-invalid=\"true\""));
        }
    }

    /// Every kind of price, and the insurance, read as whole sentences in both languages,
    /// with the amounts and rates written as the pages write them.
    #[test]
    fn terms_read_as_sentences() {
        let pages = Pages::load().unwrap();
        let prices = [
            Price::LumpSum {
                amount: "150000000".into(),
                due_days: 30,
            },
            Price::Installments {
                total: "12000000".into(),
                count: 4,
                interval_months: 3,
                first_due_days: 30,
            },
            Price::Royalty {
                rate: "0.03".into(),
                min_per_year: Some("20000000".into()),
            },
            Price::EntryFeePlusRoyalty {
                entry_fee: "5000000".into(),
                due_days: 15,
                rate: "0.025".into(),
                min_per_year: None,
            },
        ];
        let wanted = [
            vec!["150.000.000 ₫"],
            vec!["12.000.000 ₫", " 4 ", " 3 "],
            vec!["20.000.000 ₫"],
            vec!["5.000.000 ₫", "15 "],
        ];
        for lang in i18n::LANGS {
            let words = |key: &str, args: &[(&str, String)]| {
                pages.catalogues.text(lang, key, args).unwrap()
            };
            for (i, price) in prices.iter().enumerate() {
                let insured = i % 2 == 0;
                let text = terms_in_words(lang, &terms(price.clone(), insured), &words).join("\n");
                assert!(!text.contains('{'), "{text}");
                for w in &wanted[i] {
                    assert!(text.contains(w), "{lang} {w}: {text}");
                }
                assert!(text.contains(&format::days(lang, 90)), "{text}");
                let (rate, discount) = if lang == "vi" {
                    ("0,03%", "5%")
                } else {
                    ("0.03%", "5%")
                };
                assert!(text.contains(rate) && text.contains(discount), "{text}");
                let insurance = if insured {
                    "catalogue.terms.insurance_required"
                } else {
                    "catalogue.terms.insurance_optional"
                };
                assert!(text.contains(&words(insurance, &[])), "{text}");
            }
            let royalty = terms_in_words(lang, &terms(prices[2].clone(), false), &words).join(" ");
            assert!(royalty.contains("3%"), "{royalty}");
            let entry = terms_in_words(lang, &terms(prices[3].clone(), false), &words).join(" ");
            assert!(
                entry.contains(if lang == "vi" { "2,5%" } else { "2.5%" }),
                "{entry}"
            );
            // The first payment's trigger and the registration, when the terms have them.
            let mut t = terms(prices[0].clone(), false);
            t.state_funded = true;
            t.first_payment = Some(Trigger::MonthsAfterConversion { months: 6 });
            let text = terms_in_words(lang, &t, &words).join(" ");
            for key in [
                "catalogue.terms.registration_vn",
                "catalogue.terms.trigger_months",
            ] {
                let args = [("months", "6".to_string())];
                assert!(text.contains(&words(key, &args)), "{key}: {text}");
            }
            for (trigger, key) in [
                (
                    Trigger::OnDate {
                        date: chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
                    },
                    "catalogue.terms.trigger_on_date",
                ),
                (
                    Trigger::FirstRevenue,
                    "catalogue.terms.trigger_first_revenue",
                ),
            ] {
                t.first_payment = Some(trigger);
                let text = terms_in_words(lang, &t, &words).join(" ");
                let head = words(
                    key,
                    &[(
                        "date",
                        format::date(lang, chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()),
                    )],
                );
                assert!(text.contains(&head), "{key}: {text}");
            }
            t.currency = "CNY".into();
            let text = terms_in_words(lang, &t, &words).join(" ");
            assert!(
                text.contains(&words("catalogue.terms.registration_cn", &[])),
                "{text}"
            );
            for kind in ["lump_sum", "entry_fee", "installment"] {
                let key = format!("catalogue.quote.kind.{kind}");
                assert!(pages.catalogues.text(lang, &key, &[]).is_some(), "{key}");
            }
            for ip in crate::technologies::model::IP_TYPES {
                let key = format!("catalogue.ip.{ip}");
                assert!(pages.catalogues.text(lang, &key, &[]).is_some(), "{key}");
            }
        }
        assert_eq!(money("VND", "150000000"), "150.000.000 ₫");
        assert_eq!(percent("vi", "0.025"), "2,5%");
    }
}
