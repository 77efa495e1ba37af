//! The insurer's pages: its products (`/insurer/products`: the list, a new product, every
//! change a new version, the history and two versions side by side), the trials it covers
//! (`/insurer/trials`, filtered by state, risk, institute and province), an agreement's cover
//! as the insurer sees it (`/insurer/agreements/{id}`: the premium and who pays what, the
//! cover earlier payouts leave, what happened), the claims inbox (`/insurer/claims`: a claim's
//! page, approving it after seeing the payout the rule gives, rejecting it with a reason,
//! recording the payment with its reference) and the insurer's home with its charts.
//!
//! An insurer learns organisations, never people: every figure comes from `app::insurance`,
//! whose views name the parties' organisations only, and the history is read without the
//! users who acted. Another insurer's agreement, claim or product is the 404 page.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use minijinja::{context, Value};
use serde::Deserialize;

use super::frame::{self, blocking, page_link, see_other, SignedIn, Visitor};
use super::money::{percent, policy_view, product_view};
use super::technologies::{fraction_of, percent_input};
use crate::app::insurance::{ClaimReview, InboxClaim, InsurerCover};
use crate::auth::session::Actor;
use crate::error::{AppError, FieldError};
use crate::insurance::model::{
    ClaimAction, ClaimFilter, ClaimStatus, CoveredAgreement, CoveredFilter, MonthlySeries,
    PayoutFigures, Product, ProductInput, Risk, SharesText,
};
use crate::rules::lifecycle::Status;
use crate::rules::roles::Role;
use crate::settlement::money::{Currency, CURRENCIES};
use crate::technologies::model::Localized;
use crate::typeset::format;
use crate::AppState;

/// Rows on one page of a list.
const PER_PAGE: i64 = 20;

/// The insurer's pages.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "insurer/home.html",
            include_str!("templates/insurer/home.html"),
        ),
        (
            "insurer/products.html",
            include_str!("templates/insurer/products.html"),
        ),
        (
            "insurer/product.html",
            include_str!("templates/insurer/product.html"),
        ),
        (
            "insurer/product_form.html",
            include_str!("templates/insurer/product_form.html"),
        ),
        (
            "insurer/compare.html",
            include_str!("templates/insurer/compare.html"),
        ),
        (
            "insurer/trials.html",
            include_str!("templates/insurer/trials.html"),
        ),
        (
            "insurer/agreement.html",
            include_str!("templates/insurer/agreement.html"),
        ),
        (
            "insurer/claims.html",
            include_str!("templates/insurer/claims.html"),
        ),
        (
            "insurer/claim.html",
            include_str!("templates/insurer/claim.html"),
        ),
        (
            "insurer/approve.html",
            include_str!("templates/insurer/approve.html"),
        ),
        (
            "insurer/claim_facts.html",
            include_str!("templates/insurer/claim_facts.html"),
        ),
    ],
    words: (
        "insurer",
        include_str!("i18n/insurer.vi.toml"),
        include_str!("i18n/insurer.en.toml"),
    ),
    css: include_str!("../../static/web/insurer.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/insurer/products", web::get().to(products))
        .route("/insurer/products/new", web::get().to(new_product))
        .route("/insurer/products/new", web::post().to(create_product))
        .route("/insurer/products/{id}", web::get().to(product))
        .route("/insurer/products/{id}/edit", web::get().to(edit_product))
        .route(
            "/insurer/products/{id}/edit",
            web::post().to(revise_product),
        )
        .route("/insurer/products/{id}/compare", web::get().to(compare))
        .route("/insurer/trials", web::get().to(trials))
        .route("/insurer/agreements/{id}", web::get().to(agreement))
        .route("/insurer/claims", web::get().to(claims))
        .route("/insurer/claims/{id}", web::get().to(claim))
        .route("/insurer/claims/{id}/approve", web::get().to(approve_page))
        .route("/insurer/claims/{id}/approve", web::post().to(approve))
        .route(
            "/insurer/claims/{id}/reject",
            web::post().to(|state, req, id, body, SignedIn(visitor, actor)| {
                step(state, req, id, body, visitor, actor, ClaimAction::Reject)
            }),
        )
        .route(
            "/insurer/claims/{id}/pay",
            web::post().to(|state, req, id, body, SignedIn(visitor, actor)| {
                step(state, req, id, body, visitor, actor, ClaimAction::Pay)
            }),
        );
}

/// These pages are an insurer's: anyone else gets the 404 page.
fn insurers_only(state: &AppState, visitor: &Visitor, actor: &Actor) -> Option<HttpResponse> {
    (actor.role != Role::Insurer).then(|| visitor.failure(state, AppError::NotFound, ""))
}

/// The day of an instant in the service's time zone.
fn local_day(state: &AppState, at: NaiveDateTime) -> NaiveDate {
    at.and_utc().with_timezone(&state.tz).date_naive()
}

fn money_of(currency: &str, minor: i64) -> String {
    match Currency::parse(currency) {
        Some(c) => format::money(c, minor),
        None => format!("{minor} {currency}"),
    }
}

fn name_in(lang: &str, name: &Localized) -> String {
    if lang == "vi" {
        name.vi.clone()
    } else {
        name.en.clone()
    }
}

/// The page asked for (from 1; the first for anything else) and its first row.
fn paging(page: Option<&str>) -> (i64, i64) {
    let page = page
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    (page, (page - 1) * PER_PAGE)
}

// ---------------------------------------------------------------------------------------
// Home

/// The insurer's home: the trials covered by state, the money per currency, and the
/// figures month by month drawn as charts, each with its table.
pub(super) async fn home(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    organisation: String,
) -> HttpResponse {
    let who = actor.clone();
    let found = blocking(state, move |st| {
        Ok((
            crate::app::insurance::dashboard(st, &who, None)?,
            crate::app::insurance::monthly(st, &who, None)?,
        ))
    })
    .await;
    let (board, monthly) = match found {
        Ok(found) => found,
        Err(e) => return visitor.failure(state, e, ""),
    };
    let lang = visitor.lang;
    let by_status: Vec<Value> = Status::ALL
        .iter()
        .filter_map(|s| {
            let n = *board.covered_by_status.get(s.as_str())?;
            Some(context! { status => s.as_str(), count => n })
        })
        .collect();
    let figures: Vec<Value> = board
        .by_currency
        .iter()
        .map(|f| {
            let m = |minor: i64| money_of(&f.currency, minor);
            context! {
                currency => f.currency.clone(),
                policies => f.policies,
                premiums => m(f.premiums_written_minor),
                subsidy => m(f.subsidy_minor),
                claims_filed => f.claims_filed,
                claimed => m(f.claimed_minor),
                claims_approved => f.claims_approved,
                claims_rejected => f.claims_rejected,
                claims_paid => f.claims_paid,
                incurred => m(f.incurred_minor),
                paid_out => m(f.paid_out_minor),
                loss_ratio => f.loss_ratio.as_deref().map(|r| percent(lang, r)).unwrap_or_default(),
            }
        })
        .collect();
    let charts: Vec<Value> = monthly
        .iter()
        .map(|series| charts_of(visitor, state, series))
        .collect();
    visitor.page(
        state,
        200,
        "insurer/home.html",
        context! {
            organisation, by_status, total => board.covered_total, figures, charts,
        },
    )
}

/// The month of `day` in a chart's axis: `3/2026`, `Mar 2026`.
fn month_label(lang: &str, day: NaiveDate) -> String {
    use chrono::Datelike;
    match lang {
        "vi" => format!("{}/{}", day.month(), day.year()),
        _ => {
            const SHORT: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            format!("{} {}", SHORT[day.month0() as usize], day.year())
        }
    }
}

/// One currency's charts (drawn by the shared [`super::chart`]) and the table behind them.
fn charts_of(visitor: &Visitor, state: &AppState, series: &MonthlySeries) -> Value {
    use super::chart::{self, Bars, Chart, Series};
    use rust_decimal::prelude::ToPrimitive;
    let lang = visitor.lang;
    let cur = series.currency.as_str();
    let labels: Vec<String> = series
        .months
        .iter()
        .map(|m| month_label(lang, m.month))
        .collect();
    let words = |key: &str| visitor.words(state, key, &[("currency", cur.to_string())]);
    let money_text = |v: i64| money_of(cur, v);
    // Amounts are minor units; the chart's axis steps are written back as amounts.
    let amount = |v: f64| money_of(cur, v.round() as i64);
    let named = |key: &str, pick: fn(&crate::insurance::model::MonthFigures) -> i64| {
        Series::new(
            words(&format!("insurer.chart.series.{key}")),
            series.months.iter().map(|m| pick(m) as f64),
        )
    };
    let bars = |key: &str, lines: &[Series]| {
        chart::bars(
            &Chart {
                title: &words(&format!("insurer.chart.{key}.title")),
                desc: &words(&format!("insurer.chart.{key}.desc")),
                labels: &labels,
                series: lines,
                format: &amount,
                whole: false,
            },
            Bars::default(),
        )
    };
    let premiums_chart = bars("premiums", &[named("premiums", |m| m.premiums_minor)]);
    let exposure_chart = bars("exposure", &[named("exposure", |m| m.exposure_minor)]);
    let claims_chart = bars(
        "claims",
        &[
            named("incurred", |m| m.incurred_minor),
            named("paid", |m| m.paid_minor),
        ],
    );
    // The loss ratio in percent; a month before any premium has none, drawn at 0 (the
    // table says "—").
    let ratio = Series::new(
        words("insurer.chart.series.loss_ratio"),
        series.months.iter().map(|m| {
            m.loss_ratio
                .and_then(|r| (r * rust_decimal::Decimal::ONE_HUNDRED).to_f64())
                .unwrap_or(0.0)
        }),
    );
    let pct = |v: f64| {
        let r = rust_decimal::Decimal::from_f64_retain(v / 100.0)
            .map(|d| d.round_dp(4).normalize().to_string())
            .unwrap_or_default();
        percent(lang, &r)
    };
    let ratio_chart = chart::lines(&Chart {
        title: &words("insurer.chart.loss_ratio.title"),
        desc: &words("insurer.chart.loss_ratio.desc"),
        labels: &labels,
        series: &[ratio],
        format: &pct,
        whole: false,
    });
    let rows: Vec<Value> = series
        .months
        .iter()
        .zip(&labels)
        .map(|(m, label)| {
            context! {
                month => label.clone(),
                premiums => money_text(m.premiums_minor),
                exposure => money_text(m.exposure_minor),
                incurred => money_text(m.incurred_minor),
                paid => money_text(m.paid_minor),
                loss_ratio => m.loss_ratio.map(|r| percent(lang, &r.to_string())).unwrap_or_default(),
            }
        })
        .collect();
    let titles: BTreeMap<&str, String> = ["premiums", "exposure", "claims", "loss_ratio"]
        .into_iter()
        .map(|k| (k, words(&format!("insurer.chart.{k}.title"))))
        .collect();
    context! {
        currency => cur,
        titles,
        premiums => Value::from_safe_string(premiums_chart),
        exposure => Value::from_safe_string(exposure_chart),
        claims => Value::from_safe_string(claims_chart),
        loss_ratio => Value::from_safe_string(ratio_chart),
        rows,
    }
}

// ---------------------------------------------------------------------------------------
// Products

/// A product's version as a page row: its figures in the page language.
fn product_row(state: &AppState, lang: &str, p: &Product) -> Value {
    let today = state.clock.today(state.tz);
    let active = p.active_from <= today && p.active_until.is_none_or(|u| today <= u);
    let cap = p
        .subsidy_cap_minor
        .map(|v| money_of(&p.currency, v))
        .unwrap_or_default();
    context! {
        version => p.version,
        active,
        currency => p.currency.clone(),
        active_from => format::date(lang, p.active_from),
        active_until => p.active_until.map(|d| format::date(lang, d)).unwrap_or_default(),
        subsidy_cap => cap,
        written => format::date(lang, local_day(state, p.created_at)),
        ..product_view(lang, p)
    }
}

async fn products(state: web::Data<AppState>, SignedIn(visitor, actor): SignedIn) -> HttpResponse {
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let found = blocking(&state, move |st| {
        let org = actor.organisation_id.clone();
        crate::app::insurance::list_products(st, &actor, Some(&org), None, None)
    })
    .await;
    let list = match found {
        Ok(list) => list,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let rows: Vec<Value> = list
        .iter()
        .map(|p| product_row(&state, visitor.lang, p))
        .collect();
    visitor.page(&state, 200, "insurer/products.html", context! { rows })
}

/// What was typed in the product form.
#[derive(Debug, Default, Deserialize, serde::Serialize, Clone)]
struct ProductForm {
    #[serde(default)]
    name_vi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    risk_implementation_failure: String,
    #[serde(default)]
    risk_non_payment: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    premium_rate: String,
    #[serde(default)]
    max_coverage: String,
    #[serde(default)]
    deductible: String,
    #[serde(default)]
    shares_sme: String,
    #[serde(default)]
    shares_institute: String,
    #[serde(default)]
    shares_subsidy: String,
    #[serde(default)]
    subsidy_cap: String,
    #[serde(default)]
    active_from: String,
    #[serde(default)]
    active_until: String,
    #[serde(default)]
    version: String,
}

/// The form's fields that carry a message, `risks` and `shares` being the groups.
const PRODUCT_FIELDS: [&str; 14] = [
    "name_vi",
    "name_en",
    "risks",
    "currency",
    "premium_rate",
    "max_coverage",
    "deductible",
    "shares_sme",
    "shares_institute",
    "shares_subsidy",
    "shares",
    "subsidy_cap",
    "active_from",
    "active_until",
];

impl ProductForm {
    fn blank(today: NaiveDate) -> ProductForm {
        ProductForm {
            currency: "VND".into(),
            risk_implementation_failure: "1".into(),
            active_from: today.to_string(),
            ..ProductForm::default()
        }
    }

    fn of(lang: &str, p: &Product) -> ProductForm {
        let has = |r: Risk| {
            if p.risks.iter().any(|x| x == r.as_str()) {
                "1".to_string()
            } else {
                String::new()
            }
        };
        ProductForm {
            name_vi: p.name.vi.clone(),
            name_en: p.name.en.clone(),
            risk_implementation_failure: has(Risk::ImplementationFailure),
            risk_non_payment: has(Risk::NonPayment),
            currency: p.currency.clone(),
            premium_rate: percent_input(lang, &p.premium_rate),
            max_coverage: p.max_coverage.clone(),
            deductible: p.deductible.clone(),
            shares_sme: percent_input(lang, &p.shares.sme),
            shares_institute: percent_input(lang, &p.shares.institute),
            shares_subsidy: percent_input(lang, &p.shares.subsidy),
            subsidy_cap: p.subsidy_cap.clone().unwrap_or_default(),
            active_from: p.active_from.to_string(),
            active_until: p.active_until.map(|d| d.to_string()).unwrap_or_default(),
            version: p.version.to_string(),
        }
    }

    /// The product the form describes, or the fields the page itself finds wrong (a
    /// percentage or a day that is not one); app checks the rest.
    fn input(&self) -> Result<ProductInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut pct = |field: &str, typed: &str| match fraction_of(typed) {
            Some(f) => f,
            None => {
                errors.push(FieldError::new(field, "not a percentage"));
                String::new()
            }
        };
        let premium_rate = pct("premium_rate", &self.premium_rate);
        let shares = SharesText {
            sme: pct("shares_sme", &self.shares_sme),
            institute: pct("shares_institute", &self.shares_institute),
            subsidy: pct("shares_subsidy", &self.shares_subsidy),
        };
        let day = |text: &str| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d");
        let active_from = day(&self.active_from).unwrap_or_else(|_| {
            errors.push(FieldError::new("active_from", "not a date"));
            NaiveDate::MIN
        });
        let active_until = match self.active_until.trim() {
            "" => None,
            text => match day(text) {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new("active_until", "not a date"));
                    None
                }
            },
        };
        let risks: Vec<String> = [
            (
                &self.risk_implementation_failure,
                Risk::ImplementationFailure,
            ),
            (&self.risk_non_payment, Risk::NonPayment),
        ]
        .iter()
        .filter(|(on, _)| !on.is_empty())
        .map(|(_, r)| r.as_str().to_string())
        .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ProductInput {
            name: Localized {
                vi: self.name_vi.clone(),
                en: self.name_en.clone(),
            },
            risks,
            currency: self.currency.trim().to_string(),
            premium_rate,
            max_coverage: self.max_coverage.trim().to_string(),
            deductible: self.deductible.trim().to_string(),
            shares,
            subsidy_cap: Some(self.subsidy_cap.trim().to_string()).filter(|c| !c.is_empty()),
            active_from,
            active_until,
        })
    }
}

/// The messages beside the product form's fields, in the page language: app's field paths
/// (`name.vi`, `risks[1]`, `shares.sme`) become the form's names.
fn product_errors(
    visitor: &Visitor,
    state: &AppState,
    errors: &[FieldError],
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = PRODUCT_FIELDS
        .iter()
        .map(|f| (f.to_string(), String::new()))
        .collect();
    out.insert("form".into(), String::new());
    for e in errors {
        let path = e
            .field
            .split('[')
            .next()
            .unwrap_or(&e.field)
            .replace('.', "_");
        let field = if PRODUCT_FIELDS.contains(&path.as_str()) {
            path
        } else {
            "form".to_string()
        };
        let text = visitor.words(state, &format!("insurer.product.error.{field}"), &[]);
        out.insert(field, text);
    }
    out
}

/// The product form: new (`id` none) or the next version of product `id`.
fn product_form_page(
    visitor: &Visitor,
    state: &AppState,
    status: u16,
    id: Option<&str>,
    form: &ProductForm,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let has_errors = errors.values().any(|e| !e.is_empty());
    let currencies: Vec<&str> = CURRENCIES.iter().map(|c| c.code).collect();
    let action = match id {
        Some(id) => format!("/insurer/products/{id}/edit"),
        None => "/insurer/products/new".to_string(),
    };
    visitor.page(
        state,
        status,
        "insurer/product_form.html",
        context! { id, action, form, errors, has_errors, currencies },
    )
}

async fn new_product(
    state: web::Data<AppState>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let form = ProductForm::blank(state.clock.today(state.tz));
    product_form_page(
        &visitor,
        &state,
        200,
        None,
        &form,
        product_errors(&visitor, &state, &[]),
    )
}

async fn create_product(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<ProductForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let input = match form.input() {
        Ok(input) => input,
        Err(errors) => {
            let errors = product_errors(&visitor, &state, &errors);
            return product_form_page(&visitor, &state, 422, None, &form, errors);
        }
    };
    let done = blocking(&state, move |st| {
        crate::app::insurance::create_product(st, &actor, &input)
    })
    .await;
    match done {
        Ok(p) => see_other(&format!("/insurer/products/{}?saved={}", p.id, p.version)),
        Err(AppError::Validation(errors)) => {
            let errors = product_errors(&visitor, &state, &errors);
            product_form_page(&visitor, &state, 422, None, &form, errors)
        }
        Err(e) => visitor.failure(&state, e, "/insurer/products"),
    }
}

/// Every version of the insurer's product `id`, newest first.
async fn history_of(
    state: &web::Data<AppState>,
    actor: Actor,
    id: String,
) -> Result<Vec<Product>, AppError> {
    blocking(state, move |st| {
        crate::app::insurance::product_history(st, &actor, &id)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn product(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<SavedQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let history = match history_of(&state, actor, id.into_inner()).await {
        Ok(h) => h,
        Err(e) => return visitor.failure(&state, e, "/insurer/products"),
    };
    let Some(current) = history.first() else {
        return visitor.failure(&state, AppError::NotFound, "/insurer/products");
    };
    let lang = visitor.lang;
    let versions: Vec<Value> = history
        .iter()
        .map(|p| product_row(&state, lang, p))
        .collect();
    let numbers: Vec<i32> = history.iter().map(|p| p.version).collect();
    visitor.page(
        &state,
        200,
        "insurer/product.html",
        context! {
            id => current.id.clone(),
            name => name_in(lang, &current.name),
            current => product_row(&state, lang, current),
            versions,
            numbers,
            compare_a => history.get(1).unwrap_or(current).version,
            compare_b => current.version,
            saved => q.saved.clone().unwrap_or_default(),
        },
    )
}

async fn edit_product(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let id = id.into_inner();
    let history = match history_of(&state, actor, id.clone()).await {
        Ok(h) => h,
        Err(e) => return visitor.failure(&state, e, "/insurer/products"),
    };
    let Some(current) = history.first() else {
        return visitor.failure(&state, AppError::NotFound, "/insurer/products");
    };
    let form = ProductForm::of(visitor.lang, current);
    product_form_page(
        &visitor,
        &state,
        200,
        Some(&id),
        &form,
        product_errors(&visitor, &state, &[]),
    )
}

async fn revise_product(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<ProductForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let id = id.into_inner();
    let back = format!("/insurer/products/{id}");
    let Ok(expected) = form.version.trim().parse::<i64>() else {
        return visitor.failure(&state, AppError::PreconditionRequired, &back);
    };
    let input = match form.input() {
        Ok(input) => input,
        Err(errors) => {
            let errors = product_errors(&visitor, &state, &errors);
            return product_form_page(&visitor, &state, 422, Some(&id), &form, errors);
        }
    };
    let at = id.clone();
    let done = blocking(&state, move |st| {
        crate::app::insurance::revise_product(st, &actor, &at, expected, &input)
    })
    .await;
    match done {
        Ok(p) => see_other(&format!("/insurer/products/{}?saved={}", p.id, p.version)),
        Err(AppError::Validation(errors)) => {
            let errors = product_errors(&visitor, &state, &errors);
            product_form_page(&visitor, &state, 422, Some(&id), &form, errors)
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

#[derive(Debug, Default, Deserialize)]
struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

/// A product version's terms, one (label key, text) per row, for the side-by-side.
fn product_terms(
    state: &AppState,
    lang: &str,
    visitor: &Visitor,
    p: &Product,
) -> Vec<(&'static str, String)> {
    let risks = p
        .risks
        .iter()
        .map(|r| visitor.words(state, &format!("money.risk.{r}"), &[]))
        .collect::<Vec<_>>()
        .join("; ");
    let m = |minor: i64| money_of(&p.currency, minor);
    vec![
        ("insurer.product.name_vi", p.name.vi.clone()),
        ("insurer.product.name_en", p.name.en.clone()),
        ("insurer.product.risks", risks),
        ("insurer.product.currency", p.currency.clone()),
        (
            "insurer.product.premium_rate",
            percent(lang, &p.premium_rate),
        ),
        ("insurer.product.max_coverage", m(p.max_coverage_minor)),
        ("insurer.product.deductible", m(p.deductible_minor)),
        ("insurer.product.shares_sme", percent(lang, &p.shares.sme)),
        (
            "insurer.product.shares_institute",
            percent(lang, &p.shares.institute),
        ),
        (
            "insurer.product.shares_subsidy",
            percent(lang, &p.shares.subsidy),
        ),
        (
            "insurer.product.subsidy_cap",
            p.subsidy_cap_minor.map(m).unwrap_or_default(),
        ),
        (
            "insurer.product.active_from",
            format::date(lang, p.active_from),
        ),
        (
            "insurer.product.active_until",
            p.active_until
                .map(|d| format::date(lang, d))
                .unwrap_or_default(),
        ),
    ]
}

async fn compare(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<CompareQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let history = match history_of(&state, actor, id.into_inner()).await {
        Ok(h) => h,
        Err(e) => return visitor.failure(&state, e, "/insurer/products"),
    };
    let Some(current) = history.first() else {
        return visitor.failure(&state, AppError::NotFound, "/insurer/products");
    };
    let back = format!("/insurer/products/{}", current.id);
    let find = |asked: &Option<String>| {
        let n: i32 = asked.as_deref()?.trim().parse().ok()?;
        history.iter().find(|v| v.version == n)
    };
    let (Some(a), Some(b)) = (find(&q.a), find(&q.b)) else {
        return visitor.error(&state, 404, "error.not_found", context! { back });
    };
    let lang = visitor.lang;
    let rows: Vec<Value> = product_terms(&state, lang, &visitor, a)
        .into_iter()
        .zip(product_terms(&state, lang, &visitor, b))
        .map(|((label, left), (_, right))| {
            context! { label, changed => left != right, a => left, b => right }
        })
        .collect();
    let changes = rows
        .iter()
        .filter(|r| r.get_attr("changed").is_ok_and(|c| c.is_true()))
        .count();
    let side = |p: &Product| {
        context! { version => p.version, date => format::date(lang, local_day(&state, p.created_at)) }
    };
    let numbers: Vec<i32> = history.iter().map(|p| p.version).collect();
    visitor.page(
        &state,
        200,
        "insurer/compare.html",
        context! {
            id => current.id.clone(), name => name_in(lang, &current.name),
            a => side(a), b => side(b), rows, changes, numbers,
        },
    )
}

// ---------------------------------------------------------------------------------------
// Covered trials

#[derive(Debug, Default, Deserialize)]
struct TrialsQuery {
    status: Option<String>,
    risk: Option<String>,
    institute: Option<String>,
    province: Option<String>,
    page: Option<String>,
}

/// A covered agreement as a row of the list: organisations, never people.
fn trial_row(lang: &str, a: &CoveredAgreement) -> Value {
    let trial = match (a.trial_start, a.trial_end) {
        (Some(s), Some(e)) => format!("{} – {}", format::date(lang, s), format::date(lang, e)),
        _ => format::date(lang, a.requested_start),
    };
    let policy = a.policies.last();
    let cover = match (policy, &a.insurance_choice) {
        (Some(p), _) => money_of(&p.currency, p.coverage_minor),
        (None, Some(c)) => money_of(&c.currency, c.coverage_minor),
        _ => String::new(),
    };
    let premium = policy
        .map(|p| money_of(&p.currency, p.premium_minor))
        .unwrap_or_default();
    let claims = a.policies.iter().map(|p| p.claims.len()).sum::<usize>();
    context! {
        id => a.id.clone(), number => a.number.clone(), status => a.status.clone(),
        technology => if lang == "vi" { a.technology.title_vi.clone() } else { a.technology.title_en.clone() },
        institute => a.institute.name.clone(),
        sme => a.sme.name.clone(), province => a.sme.province.clone(),
        trial, cover, premium, claims, bound => policy.is_some(),
    }
}

async fn trials(
    state: web::Data<AppState>,
    q: web::Query<TrialsQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let q = q.into_inner();
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let (status, risk, institute, province) = (
        text(&q.status),
        text(&q.risk),
        text(&q.institute),
        text(&q.province),
    );
    let filter = CoveredFilter {
        status: Status::parse(&status),
        risk: Risk::parse(&risk),
        institute_id: Some(institute.clone()).filter(|i| !i.is_empty()),
        province: Some(province.clone()).filter(|p| !p.is_empty()),
        ..CoveredFilter::default()
    };
    let (page, offset) = paging(q.page.as_deref());
    let found = blocking(&state, move |st| {
        let list =
            crate::app::insurance::covered_agreements(st, &actor, &filter, PER_PAGE, offset)?;
        let choices = crate::app::insurance::covered_filter_choices(st, &actor)?;
        Ok((list, choices))
    })
    .await;
    let ((list, total), (institutes, provinces)) = match found {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let lang = visitor.lang;
    let rows: Vec<Value> = list.iter().map(|a| trial_row(lang, a)).collect();
    let pages = super::frame::pages_of(total, PER_PAGE);
    let filters = [
        ("status", status.as_str()),
        ("risk", risk.as_str()),
        ("institute", institute.as_str()),
        ("province", province.as_str()),
    ];
    // (id, name) pairs: the filter's values and what it shows.
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    visitor.page(
        &state,
        200,
        "insurer/trials.html",
        context! {
            rows, total, page, pages,
            prev => if page > 1 { page_link(&filters, page - 1) } else { String::new() },
            next => if page < pages { page_link(&filters, page + 1) } else { String::new() },
            statuses, risks => ["implementation_failure", "non_payment"], institutes, provinces,
            status, risk, institute, province,
        },
    )
}

// ---------------------------------------------------------------------------------------
// An agreement's cover

/// One step of what happened, in words: when, what, and the organisation that acted.
fn happened(visitor: &Visitor, state: &AppState, h: &crate::app::agreements::Happened) -> Value {
    let lang = visitor.lang;
    let at = h.at.and_utc().with_timezone(&state.tz);
    let when = format!(
        "{} {}",
        format::date(lang, at.date_naive()),
        at.format("%H:%M")
    );
    let catalogue = |key: &str| -> Option<String> { state.pages.catalogues.text(lang, key, &[]) };
    let what = catalogue(&format!("insurer.event.{}", h.action))
        .or_else(|| catalogue(&format!("agreement.event.{}", h.action)))
        .unwrap_or_else(|| visitor.words(state, "agreement.event.other", &[]));
    let who = h
        .organisation
        .clone()
        .unwrap_or_else(|| visitor.words(state, "agreement.event.by_system", &[]));
    let mut detail = String::new();
    if let Some(n) = h.data["after"]["number"].as_str() {
        detail = n.to_string();
    }
    if let Some(reason) = h.data["after"]["reason"].as_str() {
        let reason = visitor.words(
            state,
            "agreement.event.reason",
            &[("reason", reason.into())],
        );
        detail = if detail.is_empty() {
            reason
        } else {
            format!("{detail} · {reason}")
        };
    }
    if let Some(reference) = h.data["after"]["reference"].as_str() {
        let r = visitor.words(
            state,
            "insurer.event.reference",
            &[("reference", reference.into())],
        );
        detail = if detail.is_empty() {
            r
        } else {
            format!("{detail} · {r}")
        };
    }
    context! { when, what, who, detail, datetime => at.to_rfc3339() }
}

async fn agreement(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    cover_page(&state, &visitor, actor, id.into_inner()).await
}

/// Agreement `id`'s cover as its insurer sees it; also what the parties' insurance tab
/// (`/agreements/{id}/cover`) shows an insurer.
pub(super) async fn cover_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
) -> HttpResponse {
    let (state, visitor) = (state.clone(), visitor.clone());
    let found = blocking(&state, move |st| {
        crate::app::insurance::insurer_cover(st, &actor, &id)
    })
    .await;
    let InsurerCover {
        covered: a,
        history,
    } = match found {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, "/insurer/trials"),
    };
    let lang = visitor.lang;
    let party = |p: &crate::insurance::model::Party| {
        context! {
            name => p.name.clone(), registration_no => p.registration_no.clone(),
            province => p.province.clone(), contact_email => p.contact_email.clone(),
        }
    };
    let policies: Vec<Value> = a
        .policies
        .iter()
        .map(|p| policy_view(lang, &a.sme.id, &a.institute.id, p))
        .collect();
    let choice = a.insurance_choice.as_ref().map(|c| {
        context! {
            coverage => money_of(&c.currency, c.coverage_minor),
            version => c.product_version,
            product_id => c.product_id.clone(),
            by => if c.chosen_by_org == a.sme.id { "sme" } else { "institute" },
        }
    });
    let history: Vec<Value> = history
        .iter()
        .map(|h| happened(&visitor, &state, h))
        .collect();
    let date = |d: Option<NaiveDate>| d.map(|d| format::date(lang, d)).unwrap_or_default();
    visitor.page(
        &state,
        200,
        "insurer/agreement.html",
        context! {
            agreement => context! {
                id => a.id.clone(), number => a.number.clone(), status => a.status.clone(),
                technology => if lang == "vi" { a.technology.title_vi.clone() } else { a.technology.title_en.clone() },
                place_of_use => a.place_of_use.clone(),
                requested_start => format::date(lang, a.requested_start),
                trial_start => date(a.trial_start), trial_end => date(a.trial_end),
                decision_deadline => date(a.decision_deadline),
            },
            sme => party(&a.sme), institute => party(&a.institute),
            choice, policies, history,
            claim_base => "/insurer/claims/",
        },
    )
}

// ---------------------------------------------------------------------------------------
// Claims

#[derive(Debug, Default, Deserialize)]
struct ClaimsQuery {
    status: Option<String>,
    risk: Option<String>,
    page: Option<String>,
}

fn inbox_row(state: &AppState, lang: &str, c: &InboxClaim) -> Value {
    let claim = &c.claim;
    context! {
        id => claim.id.clone(), number => claim.number.clone(),
        agreement_id => claim.agreement_id.clone(), agreement => c.agreement_number.clone(),
        claimant => c.claimant.clone(), risk => claim.risk.clone(),
        amount => money_of(&claim.currency, claim.amount_minor),
        payout => claim.payout_minor.map(|v| money_of(&claim.currency, v)).unwrap_or_default(),
        status => claim.status.clone(),
        filed => format::date(lang, local_day(state, claim.filed_at)),
    }
}

async fn claims(
    state: web::Data<AppState>,
    q: web::Query<ClaimsQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let q = q.into_inner();
    let status = q.status.unwrap_or_default().trim().to_string();
    let risk = q.risk.unwrap_or_default().trim().to_string();
    let filter = ClaimFilter {
        status: ClaimStatus::parse(&status),
        risk: Risk::parse(&risk),
        agreement_id: None,
    };
    let (page, offset) = paging(q.page.as_deref());
    let found = blocking(&state, move |st| {
        crate::app::insurance::claims_inbox(st, &actor, &filter, PER_PAGE, offset)
    })
    .await;
    let crate::app::insurance::Inbox {
        items,
        total,
        to_decide,
        to_pay,
    } = match found {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|c| inbox_row(&state, visitor.lang, c))
        .collect();
    let pages = super::frame::pages_of(total, PER_PAGE);
    let filters = [("status", status.as_str()), ("risk", risk.as_str())];
    let statuses: Vec<&str> = ClaimStatus::ALL.iter().map(|s| s.as_str()).collect();
    visitor.page(
        &state,
        200,
        "insurer/claims.html",
        context! {
            rows, total, page, pages, to_decide, to_pay,
            prev => if page > 1 { page_link(&filters, page - 1) } else { String::new() },
            next => if page < pages { page_link(&filters, page + 1) } else { String::new() },
            statuses, risks => ["implementation_failure", "non_payment"], status, risk,
        },
    )
}

/// How the payout is reached, each figure in the claim's currency.
fn payout_view(f: &PayoutFigures) -> Value {
    let m = |v: i64| money_of(&f.currency, v);
    let capped = f.claimed_minor.min(f.coverage_minor);
    context! {
        claimed => m(f.claimed_minor),
        coverage => m(f.coverage_minor),
        capped => m(capped),
        deductible => m(f.deductible_minor),
        after_deductible => m((capped - f.deductible_minor).max(0)),
        earlier => m(f.earlier_payouts_minor),
        left => m(f.coverage_left_minor),
        limited => (capped - f.deductible_minor).max(0) > f.coverage_left_minor,
        payout => m(f.payout_minor),
        payout_minor => f.payout_minor,
        nothing => f.payout_minor == 0,
    }
}

/// A claim's facts for its page and the confirmation.
fn claim_context(visitor: &Visitor, state: &AppState, r: &ClaimReview) -> Value {
    let lang = visitor.lang;
    let c = &r.claim;
    let a = &r.agreement;
    let by = if c.claimant_org == a.sme.id {
        a.sme.name.clone()
    } else if c.claimant_org == a.institute.id {
        a.institute.name.clone()
    } else {
        String::new()
    };
    let policy = a.policies.iter().find(|p| p.id == c.policy_id);
    let m = |v: i64| money_of(&c.currency, v);
    context! {
        id => c.id.clone(), number => c.number.clone(), version => c.version,
        status => c.status.clone(), risk => c.risk.clone(),
        agreement_id => a.id.clone(), agreement => a.number.clone(),
        technology => if lang == "vi" { a.technology.title_vi.clone() } else { a.technology.title_en.clone() },
        claimant => by,
        amount => m(c.amount_minor),
        reason => c.reason.clone(), evidence => c.evidence.clone(),
        filed => format::date(lang, local_day(state, c.filed_at)),
        decided => c.decided_at.map(|d| format::date(lang, local_day(state, d))).unwrap_or_default(),
        paid => c.paid_at.map(|d| format::date(lang, local_day(state, d))).unwrap_or_default(),
        payout => c.payout_minor.map(m).unwrap_or_default(),
        decision_reason => c.decision_reason.clone().unwrap_or_default(),
        payment_reference => c.payment_reference.clone().unwrap_or_default(),
        coverage => policy.map(|p| m(p.coverage_minor)).unwrap_or_default(),
        deductible => policy
            .and_then(|p| Some(super::money::major(Currency::parse(&p.currency)?, &p.deductible)))
            .unwrap_or_default(),
        left => policy.map(|p| m(p.coverage_remaining_minor)).unwrap_or_default(),
        figures => r.payout.as_ref().map(payout_view),
    }
}

/// What was typed in a claim's forms.
#[derive(Debug, Default, Deserialize)]
struct StepForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    payout: String,
}

async fn review(
    state: &web::Data<AppState>,
    actor: Actor,
    id: String,
) -> Result<ClaimReview, AppError> {
    blocking(state, move |st| {
        crate::app::insurance::claim_review(st, &actor, &id)
    })
    .await
}

/// A claim's page, with a form set again (`status` 422: what was typed and the messages by
/// field) or fresh.
async fn claim_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    status: u16,
    (typed, errors): (StepForm, BTreeMap<String, String>),
    done: &str,
) -> HttpResponse {
    let r = match review(state, actor, id).await {
        Ok(r) => r,
        Err(e) => return visitor.failure(state, e, "/insurer/claims"),
    };
    let mut errs: BTreeMap<String, String> = ["reason", "reference"]
        .iter()
        .map(|f| (f.to_string(), String::new()))
        .collect();
    errs.extend(errors);
    visitor.page(
        state,
        status,
        "insurer/claim.html",
        context! {
            claim => claim_context(visitor, state, &r),
            typed => context! { reason => typed.reason, reference => typed.reference },
            errors => errs, done,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn claim(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<DoneQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let done = q
        .done
        .as_deref()
        .filter(|d| ["approved", "rejected", "paid"].contains(d))
        .unwrap_or_default();
    claim_page(
        &state,
        &visitor,
        actor,
        id.into_inner(),
        200,
        (StepForm::default(), BTreeMap::new()),
        done,
    )
    .await
}

/// How the confirmation is set: fresh (200), after the payout changed (409), or with a note
/// too long (422), the note typed kept.
struct Again {
    status: u16,
    changed: bool,
    note: String,
    error: String,
}

/// The confirmation before approving: the payout the rule gives now, and how.
async fn confirm_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    again: Again,
) -> HttpResponse {
    let r = match review(state, actor, id).await {
        Ok(r) => r,
        Err(e) => return visitor.failure(state, e, "/insurer/claims"),
    };
    if r.payout.is_none() {
        let back = format!("/insurer/claims/{}", r.claim.id);
        let detail = visitor.words(state, "insurer.approve.not_filed", &[]);
        return visitor.error(state, 409, "error.conflict", context! { back, detail });
    }
    visitor.page(
        state,
        again.status,
        "insurer/approve.html",
        context! {
            claim => claim_context(visitor, state, &r), changed => again.changed, note => again.note,
            error => again.error,
        },
    )
}

async fn approve_page(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let fresh = Again {
        status: 200,
        changed: false,
        note: String::new(),
        error: String::new(),
    };
    confirm_page(&state, &visitor, actor, id.into_inner(), fresh).await
}

async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<StepForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let id = id.into_inner();
    let back = format!("/insurer/claims/{id}");
    let (Ok(expected), Ok(shown)) = (
        form.version.trim().parse::<i64>(),
        form.payout.trim().parse::<i64>(),
    ) else {
        return visitor.failure(&state, AppError::PreconditionRequired, &back);
    };
    let note = Some(form.reason.trim().to_string()).filter(|r| !r.is_empty());
    let (who, at) = (actor.clone(), id.clone());
    let done = blocking(&state, move |st| {
        crate::app::insurance::approve_claim(st, &who, &at, expected, shown, note)
    })
    .await;
    match done {
        Ok(_) => see_other(&format!("{back}?done=approved")),
        // Earlier payouts changed the figure since it was shown: show the new one.
        Err(AppError::Conflict(_)) => {
            let again = Again {
                status: 409,
                changed: true,
                note: form.reason,
                error: String::new(),
            };
            confirm_page(&state, &visitor, actor, id, again).await
        }
        Err(AppError::Validation(_)) => {
            let error = visitor.words(&state, "insurer.approve.error.note", &[]);
            let again = Again {
                status: 422,
                changed: false,
                note: form.reason,
                error,
            };
            confirm_page(&state, &visitor, actor, id, again).await
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

/// Rejecting (a reason required) or recording the payment (its reference required).
async fn step(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    visitor: Visitor,
    actor: Actor,
    action: ClaimAction,
) -> HttpResponse {
    use crate::insurance::model::ClaimStep;
    let Some(form) = frame::form::<StepForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    if let Some(no) = insurers_only(&state, &visitor, &actor) {
        return no;
    }
    let id = id.into_inner();
    let back = format!("/insurer/claims/{id}");
    let Ok(expected) = form.version.trim().parse::<i64>() else {
        return visitor.failure(&state, AppError::PreconditionRequired, &back);
    };
    let (field, done) = match action {
        ClaimAction::Pay => ("reference", "paid"),
        _ => ("reason", "rejected"),
    };
    let typed = match action {
        ClaimAction::Pay => form.reference.trim(),
        _ => form.reason.trim(),
    };
    // The page asks for what the API leaves optional: a payment is recorded with its
    // reference, so it can be found in the insurer's books.
    let result = if typed.is_empty() {
        Err(AppError::Validation(vec![FieldError::new(
            field, "required",
        )]))
    } else {
        let step = ClaimStep {
            reason: (action == ClaimAction::Reject).then(|| typed.to_string()),
            reference: (action == ClaimAction::Pay).then(|| typed.to_string()),
        };
        let (who, at) = (actor.clone(), id.clone());
        blocking(&state, move |st| {
            crate::app::insurance::act_on_claim(st, &who, &at, expected, action, &step)
        })
        .await
    };
    match result {
        Ok(_) => see_other(&format!("{back}?done={done}")),
        Err(AppError::Validation(errors)) => {
            let too_long = errors.iter().any(|e| e.message != "required");
            let key = format!(
                "insurer.claim.error.{field}{}",
                if too_long { "_long" } else { "" }
            );
            let errors: BTreeMap<String, String> =
                [(field.to_string(), visitor.words(&state, &key, &[]))]
                    .into_iter()
                    .collect();
            claim_page(&state, &visitor, actor, id, 422, (form, errors), "").await
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}
