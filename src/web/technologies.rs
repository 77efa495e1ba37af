//! The institute's side of the catalogue: its own technologies and their listing status
//! (`/technologies`), listing a new one and editing one (POST forms, the edit carrying the
//! version it was shown), and the conversion terms editor (`/technologies/{id}/terms`): a
//! form for a new terms version, the history of versions, a side-by-side comparison of any two
//! and a preview of the quote an SME would see under the terms in force.
//!
//! Forms are checked here first for what a page can tell (a box left empty, a number that is
//! not one) and then by app; either way each message stands beside its field in the page
//! language, and what was typed is set again. Rates are typed as percentages and stored as
//! fractions.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Days, NaiveDate, NaiveDateTime, TimeZone, Utc};
use minijinja::{context, Value};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::frame::{self, blocking, see_other, SignedIn, Visitor};
use crate::auth::session::Actor;
use crate::error::{AppError, FieldError};
use crate::rules::roles::Role;
use crate::settlement::money::{Currency, MoneyText, CURRENCIES};
use crate::settlement::quote::{quote, Quote};
use crate::settlement::terms::{
    Distribution, ImprovementOwner, Improvements, Price, Terms, Trigger,
};
use crate::technologies::model::{
    Localized, Technology, TechnologyInput, TermsVersion, IP_TYPES, STATUSES,
};
use crate::typeset::format;
use crate::AppState;

/// Our technologies, listing and editing one, and its conversion terms.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "technologies/fields.html",
            include_str!("templates/technologies/fields.html"),
        ),
        (
            "technologies/list.html",
            include_str!("templates/technologies/list.html"),
        ),
        (
            "technologies/form.html",
            include_str!("templates/technologies/form.html"),
        ),
        (
            "technologies/terms.html",
            include_str!("templates/technologies/terms.html"),
        ),
        (
            "technologies/compare.html",
            include_str!("templates/technologies/compare.html"),
        ),
    ],
    words: (
        "technologies",
        include_str!("i18n/technologies.vi.toml"),
        include_str!("i18n/technologies.en.toml"),
    ),
    css: include_str!("../../static/web/technologies.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/technologies", web::get().to(list))
        .route("/technologies/new", web::get().to(new_form))
        .route("/technologies/new", web::post().to(create))
        .route("/technologies/{id}/edit", web::get().to(edit_form))
        .route("/technologies/{id}/edit", web::post().to(update))
        .route("/technologies/{id}/terms", web::get().to(terms_page))
        .route("/technologies/{id}/terms", web::post().to(add_terms))
        .route("/technologies/{id}/terms/compare", web::get().to(compare));
}

/// The sectors the form offers (the catalogue's vocabulary); a technology filed under
/// another keeps it as one more choice.
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

/// The price models, in the order the form offers them.
const MODELS: [&str; 4] = [
    "lump_sum",
    "installments",
    "royalty",
    "entry_fee_plus_royalty",
];

/// Every field of errors a template reads, empty unless `found` has a message for it
/// (templates run with strict undefined, so each is present).
fn all_errors(fields: &[&str], found: BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut errors: BTreeMap<String, String> = fields
        .iter()
        .map(|f| (f.to_string(), String::new()))
        .collect();
    errors.extend(found);
    errors
}

/// The 404 page for a visitor who is not an institute (the pages are theirs alone).
fn institutes_only(state: &AppState, visitor: &Visitor, actor: &Actor) -> Option<HttpResponse> {
    (actor.role != Role::Institute)
        .then(|| visitor.error(state, 404, "error.not_found", context! {}))
}

/// A calendar day in the service's zone, from a stored UTC time.
fn local_day(state: &AppState, at: NaiveDateTime) -> NaiveDate {
    Utc.from_utc_datetime(&at)
        .with_timezone(&state.tz)
        .date_naive()
}

/// A technology's title in the page language (the other when it is empty).
fn title(lang: &str, t: &Localized) -> String {
    match lang {
        "vi" if !t.vi.is_empty() => t.vi.clone(),
        _ if !t.en.is_empty() => t.en.clone(),
        _ => t.vi.clone(),
    }
}

// ---------------------------------------------------------------- our technologies

#[derive(Debug, Default, Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    q: web::Query<Saved>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(not_found) = institutes_only(&state, &visitor, &actor) {
        return not_found;
    }
    let (owned, total) =
        match blocking(&state, move |st| crate::app::technologies::own(st, &actor)).await {
            Ok(found) => found,
            Err(e) => return visitor.failure(&state, e, ""),
        };
    let lang = visitor.lang;
    let technologies: Vec<Value> = owned
        .iter()
        .map(|o| {
            let t = &o.technology;
            context! {
                id => t.id.clone(),
                title => title(lang, &t.title),
                field => t.field.clone(),
                status => o.stage.clone(),
                terms_version => o.terms_version,
                agreements => o.agreements,
                updated => format::date(lang, local_day(&state, t.updated_at)),
            }
        })
        .collect();
    let saved = q.saved.is_some();
    visitor.page(
        &state,
        200,
        "technologies/list.html",
        context! { technologies, total, saved, sectors => SECTORS },
    )
}

// ---------------------------------------------------------------- create and edit

/// The technology form as typed: every value a string, so what was typed is set again.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct TechForm {
    title_vi: String,
    title_en: String,
    summary_vi: String,
    summary_en: String,
    field: String,
    ip_type: String,
    ip_reference: String,
    valuation_amount: String,
    valuation_currency: String,
    status: String,
    version: String,
}

const TECH_FIELDS: [&str; 10] = [
    "title_vi",
    "title_en",
    "summary_vi",
    "summary_en",
    "field",
    "ip_type",
    "ip_reference",
    "valuation_amount",
    "valuation_currency",
    "status",
];

impl TechForm {
    fn blank() -> TechForm {
        TechForm {
            field: SECTORS[0].into(),
            ip_type: IP_TYPES[0].into(),
            valuation_currency: "VND".into(),
            status: "draft".into(),
            ..TechForm::default()
        }
    }

    fn of(t: &Technology) -> TechForm {
        TechForm {
            title_vi: t.title.vi.clone(),
            title_en: t.title.en.clone(),
            summary_vi: t.summary.vi.clone(),
            summary_en: t.summary.en.clone(),
            field: t.field.clone(),
            ip_type: t.ip_type.clone(),
            ip_reference: t.ip_reference.clone(),
            valuation_amount: t.valuation.amount.clone(),
            valuation_currency: t.valuation.currency.clone(),
            status: t.status.clone(),
            version: t.version.to_string(),
        }
    }

    /// What the page can tell: boxes left empty, a valuation that is not a number. Each
    /// field at fault with the key of its message.
    fn check(&self) -> Vec<(&'static str, &'static str)> {
        let mut faults = Vec::new();
        for (name, value) in [
            ("title_vi", &self.title_vi),
            ("title_en", &self.title_en),
            ("summary_vi", &self.summary_vi),
            ("summary_en", &self.summary_en),
            ("field", &self.field),
            ("ip_reference", &self.ip_reference),
            ("valuation_amount", &self.valuation_amount),
        ] {
            if value.trim().is_empty() {
                faults.push((name, "technologies.error.required"));
            }
        }
        let amount = self.valuation_amount.trim();
        if !amount.is_empty() && !is_amount(amount) {
            faults.push(("valuation_amount", "technologies.error.amount"));
        }
        faults
    }

    fn input(&self) -> TechnologyInput {
        TechnologyInput {
            title: Localized {
                vi: self.title_vi.trim().into(),
                en: self.title_en.trim().into(),
            },
            summary: Localized {
                vi: self.summary_vi.trim().into(),
                en: self.summary_en.trim().into(),
            },
            field: self.field.trim().into(),
            ip_type: self.ip_type.clone(),
            ip_reference: self.ip_reference.trim().into(),
            valuation: MoneyText {
                amount: self.valuation_amount.trim().into(),
                currency: self.valuation_currency.clone(),
            },
            status: Some(self.status.clone()),
        }
    }
}

/// Digits, with at most one decimal point between digits: the shape of an amount.
fn is_amount(text: &str) -> bool {
    let (int, frac) = text.split_once('.').unwrap_or((text, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// The technology form's field for an app error's path (`title.vi` → `title_vi`).
fn tech_field(path: &str) -> String {
    path.replace('.', "_")
}

/// The messages beside the fields: the page's own faults, or app's (each said in the page
/// language by the rule of its field).
fn tech_errors(
    visitor: &Visitor,
    state: &AppState,
    faults: &[(&str, &str)],
    app: &[FieldError],
) -> BTreeMap<String, String> {
    let mut errors: Vec<FieldError> = faults
        .iter()
        .map(|(f, key)| FieldError::new(*f, visitor.words(state, key, &[])))
        .collect();
    for e in app {
        let field = tech_field(&e.field);
        let key = format!("technologies.rule.{field}");
        let message = if TECH_FIELDS.contains(&field.as_str()) {
            visitor.words(state, &key, &[])
        } else {
            e.message.clone()
        };
        errors.push(FieldError::new(field, message));
    }
    all_errors(&TECH_FIELDS, frame::field_errors(&errors))
}

/// The statuses the form offers: a new technology starts as a draft, and listing goes through
/// screening, so only a technology listed already keeps `listed` among its choices.
fn settable(id: &str, status: &str) -> Vec<&'static str> {
    STATUSES
        .into_iter()
        .filter(|s| match *s {
            "listed" => !id.is_empty() && status == "listed",
            "withdrawn" => !id.is_empty(),
            _ => true,
        })
        .collect()
}

/// The technology form: new (`id` empty) or editing one.
fn tech_page(
    visitor: &Visitor,
    state: &AppState,
    status: u16,
    id: &str,
    form: &TechForm,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let sectors: Vec<&str> = SECTORS.to_vec();
    // A sector outside the list stays one more choice, so saving keeps it.
    let other_sector = if form.field.is_empty() || SECTORS.contains(&form.field.as_str()) {
        String::new()
    } else {
        form.field.clone()
    };
    let currencies: Vec<&str> = CURRENCIES.iter().map(|c| c.code).collect();
    let action = if id.is_empty() {
        "/technologies/new".to_string()
    } else {
        format!("/technologies/{id}/edit")
    };
    let has_errors = errors.values().any(|e| !e.is_empty());
    visitor.page(
        state,
        status,
        "technologies/form.html",
        context! {
            id, action, form, errors, has_errors, sectors, other_sector, currencies,
            ip_types => IP_TYPES, statuses => settable(id, &form.status),
        },
    )
}

async fn new_form(state: web::Data<AppState>, SignedIn(visitor, actor): SignedIn) -> HttpResponse {
    if let Some(not_found) = institutes_only(&state, &visitor, &actor) {
        return not_found;
    }
    tech_page(
        &visitor,
        &state,
        200,
        "",
        &TechForm::blank(),
        all_errors(&TECH_FIELDS, BTreeMap::new()),
    )
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Some(not_found) = institutes_only(&state, &visitor, &actor) {
        return not_found;
    }
    let Some(form) = frame::form::<TechForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let faults = form.check();
    if !faults.is_empty() {
        let errors = tech_errors(&visitor, &state, &faults, &[]);
        return tech_page(&visitor, &state, 422, "", &form, errors);
    }
    let input = form.input();
    match blocking(&state, move |st| {
        crate::app::technologies::create(st, &actor, &input)
    })
    .await
    {
        Ok(t) => see_other(&format!("/technologies/{}/terms?saved=new", t.id)),
        Err(AppError::Validation(found)) => {
            let errors = tech_errors(&visitor, &state, &[], &found);
            tech_page(&visitor, &state, 422, "", &form, errors)
        }
        Err(e) => visitor.failure(&state, e, "/technologies"),
    }
}

async fn edit_form(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    match editing(&state, &visitor, actor, id.clone()).await {
        Ok((t, _)) => tech_page(
            &visitor,
            &state,
            200,
            &id,
            &TechForm::of(&t),
            all_errors(&TECH_FIELDS, BTreeMap::new()),
        ),
        Err(page) => page,
    }
}

async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    let Some(form) = frame::form::<TechForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let back = format!("/technologies/{id}/edit");
    // Whose technology it is is checked before anything typed is answered.
    if let Err(page) = editing(&state, &visitor, actor.clone(), id.clone()).await {
        return page;
    }
    let Ok(expected) = form.version.trim().parse::<i64>() else {
        return visitor.failure(&state, AppError::PreconditionRequired, &back);
    };
    let faults = form.check();
    if !faults.is_empty() {
        let errors = tech_errors(&visitor, &state, &faults, &[]);
        return tech_page(&visitor, &state, 422, &id, &form, errors);
    }
    let input = form.input();
    let result = {
        let id = id.clone();
        blocking(&state, move |st| {
            crate::app::technologies::update(st, &actor, &id, expected, &input)
        })
        .await
    };
    match result {
        Ok(_) => see_other("/technologies?saved=1"),
        Err(AppError::Validation(found)) => {
            let errors = tech_errors(&visitor, &state, &[], &found);
            tech_page(&visitor, &state, 422, &id, &form, errors)
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

// ---------------------------------------------------------------- conversion terms

/// The terms form as typed; rates are percentages (`3,5` or `3.5`).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct TermsForm {
    trial_days: String,
    decision_days: String,
    currency: String,
    model: String,
    lump_amount: String,
    lump_due_days: String,
    inst_total: String,
    inst_count: String,
    inst_interval_months: String,
    inst_first_due_days: String,
    fee_amount: String,
    fee_due_days: String,
    royalty_rate: String,
    royalty_min_per_year: String,
    /// `yes` when the box is ticked.
    insurance_required: String,
    early_conversion_discount: String,
    late_payment_daily_rate: String,
    share_institute: String,
    share_inventors: String,
    share_intermediary: String,
    /// `none`, `sme`, `institute` or `joint`.
    improvements_owner: String,
    /// `yes` when the box is ticked.
    improvements_licence_back: String,
    /// `yes` when the box is ticked.
    state_funded: String,
    /// `vn`, `cn`, or empty (from the currency).
    jurisdiction: String,
    /// Empty (days after conversion), `on_date`, `months_after_conversion` or `first_revenue`.
    first_payment: String,
    first_payment_date: String,
    first_payment_months: String,
}

/// Who may own improvements, in the order the form offers them (`none`: the terms say nothing).
const IMPROVEMENT_OWNERS: [&str; 4] = ["none", "sme", "institute", "joint"];

const TERMS_FIELDS: [&str; 28] = [
    "trial_days",
    "decision_days",
    "currency",
    "model",
    "lump_amount",
    "lump_due_days",
    "inst_total",
    "inst_count",
    "inst_interval_months",
    "inst_first_due_days",
    "fee_amount",
    "fee_due_days",
    "royalty_rate",
    "royalty_min_per_year",
    "insurance_required",
    "early_conversion_discount",
    "late_payment_daily_rate",
    "share_institute",
    "share_inventors",
    "share_intermediary",
    "distribution",
    "improvements_owner",
    "improvements_licence_back",
    "state_funded",
    "jurisdiction",
    "first_payment",
    "first_payment_date",
    "first_payment_months",
];

/// A fraction written as a percentage for a form (`0.035` → `3.5`, `3,5` in Vietnamese).
pub(super) fn percent_input(lang: &str, fraction: &str) -> String {
    let Ok(value) = fraction.parse::<Decimal>() else {
        return fraction.to_string();
    };
    let text = (value * Decimal::ONE_HUNDRED).normalize().to_string();
    if lang == "vi" {
        text.replace('.', ",")
    } else {
        text
    }
}

/// A percentage as typed (`3,5`, `3.5`, `3.5%`) as the fraction the terms hold (`0.035`);
/// `None` when it is not a number.
pub(super) fn fraction_of(typed: &str) -> Option<String> {
    let text = typed.trim().trim_end_matches('%').trim().replace(',', ".");
    let shaped = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.matches('.').count() <= 1
        && !text.starts_with('.')
        && !text.ends_with('.');
    if !shaped {
        return None;
    }
    let value: Decimal = text.parse().ok()?;
    Some((value / Decimal::ONE_HUNDRED).normalize().to_string())
}

impl TermsForm {
    /// The form for a new version: the terms in force, or a start for the first ones.
    fn of(lang: &str, terms: Option<&Terms>, currency: &str) -> TermsForm {
        let Some(t) = terms else {
            return TermsForm {
                trial_days: "90".into(),
                decision_days: "30".into(),
                currency: currency.into(),
                model: "lump_sum".into(),
                improvements_owner: "none".into(),
                ..TermsForm::default()
            };
        };
        let pct = |f: &Option<String>| {
            f.as_deref()
                .map(|f| percent_input(lang, f))
                .unwrap_or_default()
        };
        let mut form = TermsForm {
            trial_days: t.trial_days.to_string(),
            decision_days: t.decision_days.to_string(),
            currency: t.currency.clone(),
            model: t.price.model().into(),
            insurance_required: if t.insurance_required { "yes" } else { "" }.into(),
            early_conversion_discount: pct(&t.early_conversion_discount),
            late_payment_daily_rate: pct(&t.late_payment_daily_rate),
            improvements_owner: t.improvements.map_or("none", |i| i.owner.code()).into(),
            improvements_licence_back: if t.improvements.is_some_and(|i| i.licence_back) {
                "yes"
            } else {
                ""
            }
            .into(),
            state_funded: if t.state_funded { "yes" } else { "" }.into(),
            jurisdiction: t.jurisdiction.clone().unwrap_or_default(),
            first_payment: t
                .first_payment
                .as_ref()
                .map(|f| f.kind().to_string())
                .unwrap_or_default(),
            ..TermsForm::default()
        };
        match &t.first_payment {
            Some(Trigger::OnDate { date }) => form.first_payment_date = date.to_string(),
            Some(Trigger::MonthsAfterConversion { months }) => {
                form.first_payment_months = months.to_string()
            }
            _ => {}
        }
        if let Some(d) = &t.distribution {
            form.share_institute = percent_input(lang, &d.institute);
            form.share_inventors = percent_input(lang, &d.inventors);
            form.share_intermediary = percent_input(lang, &d.intermediary);
        }
        match &t.price {
            Price::LumpSum { amount, due_days } => {
                form.lump_amount = amount.clone();
                form.lump_due_days = due_days.to_string();
            }
            Price::Installments {
                total,
                count,
                interval_months,
                first_due_days,
            } => {
                form.inst_total = total.clone();
                form.inst_count = count.to_string();
                form.inst_interval_months = interval_months.to_string();
                form.inst_first_due_days = first_due_days.to_string();
            }
            Price::Royalty { rate, min_per_year } => {
                form.royalty_rate = percent_input(lang, rate);
                form.royalty_min_per_year = min_per_year.clone().unwrap_or_default();
            }
            Price::EntryFeePlusRoyalty {
                entry_fee,
                due_days,
                rate,
                min_per_year,
            } => {
                form.fee_amount = entry_fee.clone();
                form.fee_due_days = due_days.to_string();
                form.royalty_rate = percent_input(lang, rate);
                form.royalty_min_per_year = min_per_year.clone().unwrap_or_default();
            }
        }
        form
    }

    /// The terms typed, or each field the page can tell is wrong with the key of its message.
    /// Only the fields of the chosen payment model are read.
    fn terms(&self) -> Result<Terms, Vec<(&'static str, &'static str)>> {
        let mut faults = Vec::new();
        let mut days = |name: &'static str, text: &str| -> u32 {
            match text.trim() {
                "" => faults.push((name, "technologies.error.required")),
                t => match t.parse::<u32>() {
                    Ok(n) => return n,
                    Err(_) => faults.push((name, "technologies.error.whole_number")),
                },
            }
            0
        };
        let trial_days = days("trial_days", &self.trial_days);
        let decision_days = days("decision_days", &self.decision_days);
        let lump_due = days_if(
            self.model == "lump_sum",
            &mut days,
            "lump_due_days",
            &self.lump_due_days,
        );
        let inst = self.model == "installments";
        let count = days_if(inst, &mut days, "inst_count", &self.inst_count);
        let interval = days_if(
            inst,
            &mut days,
            "inst_interval_months",
            &self.inst_interval_months,
        );
        let first_due = days_if(
            inst,
            &mut days,
            "inst_first_due_days",
            &self.inst_first_due_days,
        );
        let fee_due = days_if(
            self.model == "entry_fee_plus_royalty",
            &mut days,
            "fee_due_days",
            &self.fee_due_days,
        );
        let trigger_months = days_if(
            self.first_payment == "months_after_conversion",
            &mut days,
            "first_payment_months",
            &self.first_payment_months,
        );
        let mut amount = |name: &'static str, text: &str, required: bool| -> Option<String> {
            match text.trim() {
                "" if required => faults.push((name, "technologies.error.required")),
                "" => {}
                t if is_amount(t) => return Some(t.to_string()),
                _ => faults.push((name, "technologies.error.amount")),
            }
            None
        };
        let lump_amount = amount("lump_amount", &self.lump_amount, self.model == "lump_sum");
        let inst_total = amount("inst_total", &self.inst_total, inst);
        let fee = self.model == "entry_fee_plus_royalty";
        let fee_amount = amount("fee_amount", &self.fee_amount, fee);
        let royalty = self.model == "royalty" || fee;
        let min_per_year = amount("royalty_min_per_year", &self.royalty_min_per_year, false);
        let mut pct = |name: &'static str, text: &str, required: bool| -> Option<String> {
            match text.trim() {
                "" if required => faults.push((name, "technologies.error.required")),
                "" => {}
                t => match fraction_of(t) {
                    Some(f) => return Some(f),
                    None => faults.push((name, "technologies.error.percent")),
                },
            }
            None
        };
        let rate = pct("royalty_rate", &self.royalty_rate, royalty);
        let early = pct(
            "early_conversion_discount",
            &self.early_conversion_discount,
            false,
        );
        let late = pct(
            "late_payment_daily_rate",
            &self.late_payment_daily_rate,
            false,
        );
        let shares = [
            &self.share_institute,
            &self.share_inventors,
            &self.share_intermediary,
        ];
        let any_share = shares.iter().any(|s| !s.trim().is_empty());
        let institute = pct("share_institute", &self.share_institute, any_share);
        let inventors = pct("share_inventors", &self.share_inventors, any_share);
        let intermediary = pct("share_intermediary", &self.share_intermediary, any_share);
        let price = match self.model.as_str() {
            "lump_sum" => Price::LumpSum {
                amount: lump_amount.unwrap_or_default(),
                due_days: lump_due,
            },
            "installments" => Price::Installments {
                total: inst_total.unwrap_or_default(),
                count,
                interval_months: interval,
                first_due_days: first_due,
            },
            "royalty" => Price::Royalty {
                rate: rate.unwrap_or_default(),
                min_per_year,
            },
            "entry_fee_plus_royalty" => Price::EntryFeePlusRoyalty {
                entry_fee: fee_amount.unwrap_or_default(),
                due_days: fee_due,
                rate: rate.unwrap_or_default(),
                min_per_year,
            },
            _ => {
                faults.push(("model", "technologies.error.choose"));
                Price::Royalty {
                    rate: String::new(),
                    min_per_year: None,
                }
            }
        };
        let licence_back = self.improvements_licence_back == "yes";
        let improvements = match self.improvements_owner.as_str() {
            "none" | "" if licence_back => {
                faults.push((
                    "improvements_licence_back",
                    "technologies.rule.improvements_licence_back",
                ));
                None
            }
            "none" | "" => None,
            code => match ImprovementOwner::parse(code) {
                Some(owner) => Some(Improvements {
                    owner,
                    licence_back,
                }),
                None => {
                    faults.push(("improvements_owner", "technologies.error.choose"));
                    None
                }
            },
        };
        let first_payment = match self.first_payment.as_str() {
            "" => None,
            "on_date" => match self.first_payment_date.trim() {
                "" => {
                    faults.push(("first_payment_date", "technologies.error.required"));
                    None
                }
                d => match d.parse() {
                    Ok(date) => Some(Trigger::OnDate { date }),
                    Err(_) => {
                        faults.push(("first_payment_date", "technologies.error.date"));
                        None
                    }
                },
            },
            "months_after_conversion" => Some(Trigger::MonthsAfterConversion {
                months: trigger_months,
            }),
            "first_revenue" => Some(Trigger::FirstRevenue),
            _ => {
                faults.push(("first_payment", "technologies.error.choose"));
                None
            }
        };
        let jurisdiction = match self.jurisdiction.as_str() {
            "" => None,
            j => Some(j.to_string()),
        };
        if !faults.is_empty() {
            return Err(faults);
        }
        let distribution = match (institute, inventors, intermediary) {
            (Some(institute), Some(inventors), Some(intermediary)) => Some(Distribution {
                institute,
                inventors,
                intermediary,
            }),
            _ => None,
        };
        Ok(Terms {
            trial_days,
            decision_days,
            currency: self.currency.clone(),
            price,
            insurance_required: self.insurance_required == "yes",
            early_conversion_discount: early,
            late_payment_daily_rate: late,
            distribution,
            improvements,
            state_funded: self.state_funded == "yes",
            jurisdiction,
            first_payment,
        })
    }
}

/// `days(name, text)` when `wanted` (the field belongs to the chosen model), else 0 unread.
fn days_if(
    wanted: bool,
    days: &mut impl FnMut(&'static str, &str) -> u32,
    name: &'static str,
    text: &str,
) -> u32 {
    if wanted {
        days(name, text)
    } else {
        0
    }
}

/// The terms form's field for an app error's path: `price.due_days` is the lump sum's or the
/// entry fee's, as the model says.
fn terms_field(model: &str, path: &str) -> String {
    match path {
        "price.amount" => "lump_amount",
        "price.due_days" if model == "entry_fee_plus_royalty" => "fee_due_days",
        "price.due_days" => "lump_due_days",
        "price.total" => "inst_total",
        "price.count" => "inst_count",
        "price.interval_months" => "inst_interval_months",
        "price.first_due_days" => "inst_first_due_days",
        "price.entry_fee" => "fee_amount",
        "price.rate" => "royalty_rate",
        "price.min_per_year" => "royalty_min_per_year",
        "distribution.institute" => "share_institute",
        "distribution.inventors" => "share_inventors",
        "distribution.intermediary" => "share_intermediary",
        "first_payment.kind" => "first_payment",
        other => return other.replace('.', "_"),
    }
    .to_string()
}

fn terms_errors(
    visitor: &Visitor,
    state: &AppState,
    model: &str,
    faults: &[(&str, &str)],
    app: &[FieldError],
) -> BTreeMap<String, String> {
    let mut errors: Vec<FieldError> = faults
        .iter()
        .map(|(f, key)| FieldError::new(*f, visitor.words(state, key, &[])))
        .collect();
    for e in app {
        let field = terms_field(model, &e.field);
        let message = if TERMS_FIELDS.contains(&field.as_str()) {
            let args = [("max", crate::rules::lifecycle::MAX_PERIOD_DAYS.to_string())];
            visitor.words(state, &format!("technologies.rule.{field}"), &args)
        } else {
            e.message.clone()
        };
        errors.push(FieldError::new(field, message));
    }
    all_errors(&TERMS_FIELDS, frame::field_errors(&errors))
}

/// A one-line summary of terms in the page language.
fn summary(visitor: &Visitor, state: &AppState, terms: &Terms) -> String {
    let lang = visitor.lang;
    let money = |text: &str| money_text(&terms.currency, text);
    let rate = |text: &str| percent_text(lang, text);
    let price = match &terms.price {
        Price::LumpSum { amount, due_days } => visitor.words(
            state,
            "technologies.summary.lump_sum",
            &[
                ("amount", money(amount)),
                ("due", format::days(lang, *due_days)),
            ],
        ),
        Price::Installments {
            total,
            count,
            interval_months,
            ..
        } => visitor.words(
            state,
            "technologies.summary.installments",
            &[
                ("total", money(total)),
                ("count", count.to_string()),
                ("months", interval_months.to_string()),
            ],
        ),
        Price::Royalty { rate: r, .. } => {
            visitor.words(state, "technologies.summary.royalty", &[("rate", rate(r))])
        }
        Price::EntryFeePlusRoyalty {
            entry_fee, rate: r, ..
        } => visitor.words(
            state,
            "technologies.summary.entry_fee_plus_royalty",
            &[("fee", money(entry_fee)), ("rate", rate(r))],
        ),
    };
    let trial = visitor.words(
        state,
        "technologies.summary.trial",
        &[("days", format::days(lang, terms.trial_days))],
    );
    format!("{price} · {trial}")
}

/// An amount of the terms as a document writes it (`150.000.000 ₫`), or as stored.
fn money_text(currency: &str, amount: &str) -> String {
    Currency::parse(currency)
        .and_then(|c| c.parse_amount(amount).ok().map(|m| format::money(c, m)))
        .unwrap_or_else(|| amount.to_string())
}

/// A rate of the terms as a percentage (`3,5%`), or as stored.
fn percent_text(lang: &str, rate: &str) -> String {
    rate.parse::<Decimal>()
        .map(|r| format::percent(lang, r))
        .unwrap_or_else(|_| rate.to_string())
}

/// Every term as (label key, value in words), in the same order for any terms, so two
/// versions set side by side line up row by row.
fn term_rows(visitor: &Visitor, state: &AppState, t: &Terms) -> Vec<(&'static str, String)> {
    let lang = visitor.lang;
    let none = || visitor.words(state, "technologies.none", &[]);
    let money = |a: Option<&String>| a.map(|a| money_text(&t.currency, a)).unwrap_or_else(none);
    let pct = |r: Option<&String>| r.map(|r| percent_text(lang, r)).unwrap_or_else(none);
    let n = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(none);
    let d = |v: Option<u32>| v.map(|v| format::days(lang, v)).unwrap_or_else(none);
    let (mut amount, mut due, mut total, mut count, mut interval, mut first_due) =
        (None, None, None, None, None, None);
    let (mut fee, mut rate, mut min) = (None, None, None);
    match &t.price {
        Price::LumpSum {
            amount: a,
            due_days,
        } => (amount, due) = (Some(a), Some(*due_days)),
        Price::Installments {
            total: tt,
            count: c,
            interval_months,
            first_due_days,
        } => {
            (total, count, interval, first_due) = (
                Some(tt),
                Some(*c),
                Some(*interval_months),
                Some(*first_due_days),
            )
        }
        Price::Royalty {
            rate: r,
            min_per_year,
        } => (rate, min) = (Some(r), min_per_year.as_ref()),
        Price::EntryFeePlusRoyalty {
            entry_fee,
            due_days,
            rate: r,
            min_per_year,
        } => {
            (fee, due, rate, min) = (
                Some(entry_fee),
                Some(*due_days),
                Some(r),
                min_per_year.as_ref(),
            )
        }
    }
    let share = |f: fn(&Distribution) -> &String| pct(t.distribution.as_ref().map(f));
    let yes_no = if t.insurance_required {
        "technologies.yes"
    } else {
        "technologies.no"
    };
    let licence_back = match t.improvements {
        Some(i) if i.licence_back => "technologies.yes",
        Some(_) => "technologies.no",
        None => "technologies.none",
    };
    vec![
        (
            "technologies.terms.trial_days",
            format::days(lang, t.trial_days),
        ),
        (
            "technologies.terms.decision_days",
            format::days(lang, t.decision_days),
        ),
        ("technologies.terms.currency", t.currency.clone()),
        (
            "technologies.terms.model",
            visitor.words(
                state,
                &format!("technologies.model.{}", t.price.model()),
                &[],
            ),
        ),
        ("technologies.terms.lump_amount", money(amount)),
        ("technologies.terms.due_days", d(due)),
        ("technologies.terms.inst_total", money(total)),
        ("technologies.terms.inst_count", n(count)),
        ("technologies.terms.inst_interval_months", n(interval)),
        ("technologies.terms.inst_first_due_days", d(first_due)),
        ("technologies.terms.fee_amount", money(fee)),
        ("technologies.terms.royalty_rate", pct(rate)),
        ("technologies.terms.royalty_min_per_year", money(min)),
        (
            "technologies.terms.insurance_required",
            visitor.words(state, yes_no, &[]),
        ),
        (
            "technologies.terms.early_conversion_discount",
            pct(t.early_conversion_discount.as_ref()),
        ),
        (
            "technologies.terms.late_payment_daily_rate",
            pct(t.late_payment_daily_rate.as_ref()),
        ),
        (
            "technologies.terms.share_institute",
            share(|d| &d.institute),
        ),
        (
            "technologies.terms.share_inventors",
            share(|d| &d.inventors),
        ),
        (
            "technologies.terms.share_intermediary",
            share(|d| &d.intermediary),
        ),
        (
            "technologies.terms.improvements_owner",
            visitor.words(
                state,
                &format!(
                    "technologies.improvements.{}",
                    t.improvements.map_or("none", |i| i.owner.code())
                ),
                &[],
            ),
        ),
        (
            "technologies.terms.improvements_licence_back",
            visitor.words(state, licence_back, &[]),
        ),
    ]
}

/// The days a quote preview is for, as asked (YYYY-MM-DD, the way a date box sends them).
#[derive(Debug, Default, Deserialize)]
struct PreviewQuery {
    saved: Option<String>,
    start: Option<String>,
    convert_on: Option<String>,
}

/// The last day of a trial of `trial_days` from `start` (the first day counts).
fn trial_end(start: NaiveDate, trial_days: u32) -> Option<NaiveDate> {
    start.checked_add_days(Days::new(u64::from(trial_days.max(1) - 1)))
}

/// What the preview shows: the days it is for, the quote (or why there is none), and the
/// errors of its two date boxes.
struct Preview {
    start: String,
    convert_on: String,
    errors: BTreeMap<String, String>,
    quote: Value,
}

fn preview(
    visitor: &Visitor,
    state: &AppState,
    terms: Option<&Terms>,
    q: &PreviewQuery,
) -> Preview {
    let lang = visitor.lang;
    let today = state.clock.today(state.tz);
    let mut errors = all_errors(&["start", "convert_on"], BTreeMap::new());
    let mut day = |name: &str, typed: &Option<String>| -> Option<NaiveDate> {
        match typed.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.insert(
                        name.into(),
                        visitor.words(state, "technologies.error.date", &[]),
                    );
                    None
                }
            },
        }
    };
    let start = day("start", &q.start).unwrap_or(today);
    let asked_convert = day("convert_on", &q.convert_on);
    let Some(terms) = terms else {
        return Preview {
            start: start.to_string(),
            convert_on: asked_convert.unwrap_or(start).to_string(),
            errors,
            quote: Value::from(()),
        };
    };
    let end = trial_end(start, terms.trial_days).unwrap_or(start);
    let convert_on = asked_convert.unwrap_or(end);
    let quoted: Result<Quote, _> =
        quote(terms, convert_on, Some(end), state.cfg.settlement.rounding);
    let quote = match quoted {
        Ok(q) => {
            let currency = Currency::parse(&q.currency);
            let show = |minor: i64| {
                currency
                    .map(|c| format::money(c, minor))
                    .unwrap_or_else(|| minor.to_string())
            };
            let lines: Vec<Value> = q
                .lines
                .iter()
                .map(|l| {
                    context! {
                        number => l.number,
                        kind => l.kind,
                        due => format::date(lang, l.due),
                        amount => show(l.amount_minor),
                    }
                })
                .collect();
            context! {
                lines,
                total => show(q.total_minor),
                trial_end => format::date(lang, end),
                convert_on => format::date(lang, convert_on),
                discount => q.early_conversion_discount.as_deref().map(|d| percent_text(lang, d)).unwrap_or_default(),
                royalty_rate => q.royalty.as_ref().map(|r| percent_text(lang, &r.rate)).unwrap_or_default(),
                royalty_min => q.royalty.as_ref().and_then(|r| r.min_per_year.as_deref()).map(|m| money_text(&q.currency, m)).unwrap_or_default(),
                failed => false,
            }
        }
        Err(_) => context! { failed => true, lines => Vec::<Value>::new(), total => "",
        trial_end => "", convert_on => "", discount => "", royalty_rate => "", royalty_min => "" },
    };
    Preview {
        start: start.to_string(),
        convert_on: convert_on.to_string(),
        errors,
        quote,
    }
}

/// The terms page: the form for a new version (with `form` and `errors`), the history and
/// the preview.
#[allow(clippy::too_many_arguments)]
fn terms_view(
    visitor: &Visitor,
    state: &AppState,
    status: u16,
    technology: &Technology,
    history: &[TermsVersion],
    form: &TermsForm,
    errors: BTreeMap<String, String>,
    q: &PreviewQuery,
) -> HttpResponse {
    let lang = visitor.lang;
    let versions: Vec<Value> = history
        .iter()
        .map(|v| {
            context! {
                version => v.version,
                date => format::date(lang, local_day(state, v.created_at)),
                summary => summary(visitor, state, &v.terms),
            }
        })
        .collect();
    let current = history.first();
    let preview = preview(visitor, state, current.map(|v| &v.terms), q);
    let status_code = if preview.errors.values().any(|e| !e.is_empty()) && status == 200 {
        422
    } else {
        status
    };
    let has_errors = errors.values().any(|e| !e.is_empty());
    let currencies: Vec<&str> = CURRENCIES.iter().map(|c| c.code).collect();
    let saved = q.saved.clone().unwrap_or_default();
    visitor.page(
        state,
        status_code,
        "technologies/terms.html",
        context! {
            id => technology.id.clone(),
            title => title(lang, &technology.title),
            versions,
            current => current.map(|v| v.version),
            form, errors, has_errors, currencies, models => MODELS, saved,
            owners => IMPROVEMENT_OWNERS,
            compare_a => history.get(1).or(current).map(|v| v.version),
            compare_b => current.map(|v| v.version),
            preview_start => preview.start,
            preview_convert_on => preview.convert_on,
            preview_errors => preview.errors,
            quote => preview.quote,
            max_days => crate::rules::lifecycle::MAX_PERIOD_DAYS,
        },
    )
}

/// Technology `id` and its terms' versions, newest first, as its institute edits them; the
/// failure page (404 for another's, back to the list) when it cannot be read.
async fn editing(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
) -> Result<(Technology, Vec<TermsVersion>), HttpResponse> {
    blocking(state, move |st| {
        crate::app::technologies::for_editing(st, &actor, &id)
    })
    .await
    .map_err(|e| visitor.failure(state, e, "/technologies"))
}

async fn terms_page(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<PreviewQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let (technology, history) = match editing(&state, &visitor, actor, id.into_inner()).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let form = TermsForm::of(
        visitor.lang,
        history.first().map(|v| &v.terms),
        &technology.valuation.currency,
    );
    terms_view(
        &visitor,
        &state,
        200,
        &technology,
        &history,
        &form,
        all_errors(&TERMS_FIELDS, BTreeMap::new()),
        &q,
    )
}

async fn add_terms(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    let Some(form) = frame::form::<TermsForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let (technology, history) = match editing(&state, &visitor, actor.clone(), id.clone()).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let again = |errors| {
        terms_view(
            &visitor,
            &state,
            422,
            &technology,
            &history,
            &form,
            errors,
            &PreviewQuery::default(),
        )
    };
    let terms = match form.terms() {
        Ok(terms) => terms,
        Err(faults) => return again(terms_errors(&visitor, &state, &form.model, &faults, &[])),
    };
    let saved = {
        let id = id.clone();
        blocking(&state, move |st| {
            crate::app::technologies::add_terms(st, &actor, &id, terms)
        })
        .await
    };
    match saved {
        Ok(v) => see_other(&format!("/technologies/{id}/terms?saved={}", v.version)),
        Err(AppError::Validation(found)) => {
            again(terms_errors(&visitor, &state, &form.model, &[], &found))
        }
        Err(e) => visitor.failure(&state, e, &format!("/technologies/{id}/terms")),
    }
}

#[derive(Debug, Default, Deserialize)]
struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

async fn compare(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<CompareQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let (technology, history) = match editing(&state, &visitor, actor, id.into_inner()).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let back = format!("/technologies/{}/terms", technology.id);
    let find = |asked: &Option<String>| {
        let n: i32 = asked.as_deref()?.trim().parse().ok()?;
        history.iter().find(|v| v.version == n)
    };
    let (Some(a), Some(b)) = (find(&q.a), find(&q.b)) else {
        return visitor.error(&state, 404, "error.not_found", context! { back });
    };
    let lang = visitor.lang;
    let (rows_a, rows_b) = (
        term_rows(&visitor, &state, &a.terms),
        term_rows(&visitor, &state, &b.terms),
    );
    let rows: Vec<Value> = rows_a
        .into_iter()
        .zip(rows_b)
        .map(|((label, left), (_, right))| {
            context! { label, changed => left != right, a => left, b => right }
        })
        .collect();
    let changes = rows
        .iter()
        .filter(|r| r.get_attr("changed").is_ok_and(|c| c.is_true()))
        .count();
    let side = |v: &TermsVersion| {
        context! {
            version => v.version,
            date => format::date(lang, local_day(&state, v.created_at)),
        }
    };
    let versions: Vec<i32> = history.iter().map(|v| v.version).collect();
    visitor.page(
        &state,
        200,
        "technologies/compare.html",
        context! {
            id => technology.id.clone(),
            title => title(lang, &technology.title),
            a => side(a), b => side(b), rows, changes, versions,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_typed_become_fractions_and_back() {
        assert_eq!(fraction_of("3,5").as_deref(), Some("0.035"));
        assert_eq!(fraction_of(" 5 % ").as_deref(), Some("0.05"));
        assert_eq!(fraction_of("100").as_deref(), Some("1"));
        assert_eq!(fraction_of("0.03").as_deref(), Some("0.0003"));
        for bad in ["", "abc", "1.2.3", ".5", "5.", "-3", "1e2"] {
            assert_eq!(fraction_of(bad), None, "{bad}");
        }
        assert_eq!(percent_input("vi", "0.035"), "3,5");
        assert_eq!(percent_input("en", "0.035"), "3.5");
        assert_eq!(percent_input("en", "1"), "100");
    }

    #[test]
    fn amounts_and_paths() {
        assert!(is_amount("1500") && is_amount("1500.50"));
        for bad in ["", "1,500", "1.", ".5", "1.2.3", "-5", "1 500"] {
            assert!(!is_amount(bad), "{bad}");
        }
        assert_eq!(tech_field("title.vi"), "title_vi");
        assert_eq!(tech_field("valuation.amount"), "valuation_amount");
        assert_eq!(terms_field("lump_sum", "price.due_days"), "lump_due_days");
        assert_eq!(
            terms_field("entry_fee_plus_royalty", "price.due_days"),
            "fee_due_days"
        );
        assert_eq!(
            terms_field("royalty", "distribution.inventors"),
            "share_inventors"
        );
        assert_eq!(terms_field("royalty", "trial_days"), "trial_days");
        // Every path the terms' own check names is a field of the form.
        for path in [
            "trial_days",
            "decision_days",
            "currency",
            "price.amount",
            "price.total",
            "price.count",
            "price.interval_months",
            "price.first_due_days",
            "price.entry_fee",
            "price.rate",
            "price.min_per_year",
            "early_conversion_discount",
            "late_payment_daily_rate",
            "distribution",
            "jurisdiction",
            "first_payment",
            "first_payment.kind",
            "first_payment.months",
            "first_payment.date",
        ] {
            assert!(
                TERMS_FIELDS.contains(&terms_field("lump_sum", path).as_str()),
                "{path}"
            );
        }
    }

    #[test]
    fn the_form_reads_only_the_chosen_model_and_round_trips_terms() {
        let terms = Terms {
            trial_days: 60,
            decision_days: 14,
            currency: "USD".into(),
            price: Price::EntryFeePlusRoyalty {
                entry_fee: "2000.00".into(),
                due_days: 30,
                rate: "0.035".into(),
                min_per_year: Some("500.00".into()),
            },
            insurance_required: true,
            early_conversion_discount: Some("0.05".into()),
            late_payment_daily_rate: None,
            distribution: Some(Distribution {
                institute: "0.6".into(),
                inventors: "0.3".into(),
                intermediary: "0.1".into(),
            }),
            improvements: Some(Improvements {
                owner: ImprovementOwner::Joint,
                licence_back: true,
            }),
            state_funded: true,
            jurisdiction: Some("vn".into()),
            first_payment: Some(Trigger::FirstRevenue),
        };
        for lang in ["vi", "en"] {
            let mut form = TermsForm::of(lang, Some(&terms), "VND");
            // A field of another model is not read.
            form.inst_count = "many".into();
            assert_eq!(form.terms().unwrap(), terms);
        }
        let mut form = TermsForm::of("en", None, "VND");
        assert_eq!(
            (form.currency.as_str(), form.model.as_str()),
            ("VND", "lump_sum")
        );
        form.trial_days = "ninety".into();
        form.lump_due_days = "30".into();
        form.share_inventors = "30".into();
        let faults = form.terms().unwrap_err();
        assert_eq!(
            faults,
            [
                ("trial_days", "technologies.error.whole_number"),
                ("lump_amount", "technologies.error.required"),
                ("share_institute", "technologies.error.required"),
                ("share_intermediary", "technologies.error.required"),
            ]
        );
        assert_eq!(
            trial_end(NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(), 90),
            NaiveDate::from_ymd_opt(2026, 5, 31)
        );
    }

    /// Every key the handlers or templates put together (a prefix and a value) is in the
    /// catalogues.
    #[test]
    fn every_key_put_together_exists() {
        let pages = super::super::Pages::load().unwrap();
        let keys: Vec<&String> = pages.catalogues.keys().collect();
        let mut wanted: Vec<String> = Vec::new();
        let groups: [(&str, &[&str]); 7] = [
            ("technologies.rule.", &TECH_FIELDS),
            ("technologies.rule.", &TERMS_FIELDS),
            ("technologies.status.", &STATUSES),
            ("technologies.ip.", &IP_TYPES),
            ("technologies.sector.", &SECTORS),
            ("technologies.model.", &MODELS),
            ("technologies.improvements.", &IMPROVEMENT_OWNERS),
        ];
        for (prefix, values) in groups {
            wanted.extend(values.iter().map(|v| format!("{prefix}{v}")));
        }
        wanted.extend(
            ["lump_sum", "entry_fee", "installment"].map(|k| format!("technologies.quote.{k}")),
        );
        let state_words = |key: &str| keys.contains(&&key.to_string());
        for key in &wanted {
            assert!(state_words(key), "{key} is in no catalogue");
        }
        // The comparison's labels.
        let labels = [
            "trial_days",
            "decision_days",
            "currency",
            "model",
            "lump_amount",
            "due_days",
            "inst_total",
            "inst_count",
            "inst_interval_months",
            "inst_first_due_days",
            "fee_amount",
            "royalty_rate",
            "royalty_min_per_year",
            "insurance_required",
            "early_conversion_discount",
            "late_payment_daily_rate",
            "share_institute",
            "share_inventors",
            "share_intermediary",
            "improvements_owner",
            "improvements_licence_back",
        ];
        for l in labels {
            assert!(state_words(&format!("technologies.terms.{l}")), "{l}");
        }
    }

    /// Every page of the group sets in both languages with a representative context.
    #[test]
    fn every_page_sets_in_both_languages() {
        let pages = super::super::Pages::load().unwrap();
        let user = context! { display_name => "Viện <Nông nghiệp>", role => "institute", email => "a@b.vn" };
        let tech_errors = all_errors(
            &TECH_FIELDS,
            BTreeMap::from([("title_vi".to_string(), "Bắt buộc".to_string())]),
        );
        let terms_errors = all_errors(
            &TERMS_FIELDS,
            BTreeMap::from([("royalty_rate".to_string(), "Sai".to_string())]),
        );
        for lang in ["vi", "en"] {
            let frame = |path: &str| context! { lang, csrf => "x", path, user => user.clone() };
            let list = pages
                .render(
                    "technologies/list.html",
                    minijinja::value::merge_maps([
                        frame("/technologies"),
                        context! {
                            technologies => vec![
                                context! { id => "t1", title => "Cà phê <sấy>", field => "agriculture", status => "listed",
                                    terms_version => Some(2), agreements => 3, updated => "01/03/2026" },
                                context! { id => "t2", title => "Draft", field => "robotics", status => "draft",
                                    terms_version => Option::<i32>::None, agreements => 0, updated => "01/03/2026" },
                            ],
                            total => 2, saved => true, sectors => SECTORS,
                        },
                    ]),
                )
                .unwrap();
            assert!(list.contains("Cà phê &lt;sấy&gt;"), "{list}");
            for id in ["", "t1"] {
                let form = pages
                    .render(
                        "technologies/form.html",
                        minijinja::value::merge_maps([
                            frame("/technologies/new"),
                            context! {
                                id, action => "/technologies/new", form => TechForm::blank(),
                                errors => tech_errors.clone(), has_errors => true,
                                sectors => SECTORS.to_vec(), other_sector => "robotics",
                                currencies => vec!["VND", "USD"], ip_types => IP_TYPES, statuses => STATUSES,
                            },
                        ]),
                    )
                    .unwrap();
                assert!(form.contains("aria-invalid=\"true\""), "{form}");
            }
            let quote = context! {
                lines => vec![context! { number => 1, kind => "installment", due => "01/06/2026", amount => "US$3,000.00" }],
                total => "US$3,000.00", trial_end => "31/05/2026", convert_on => "31/05/2026",
                discount => "5%", royalty_rate => "3,5%", royalty_min => "US$500.00", failed => false,
            };
            for (quote, current) in [(quote, Some(2)), (Value::from(()), None)] {
                pages
                    .render(
                        "technologies/terms.html",
                        minijinja::value::merge_maps([
                            frame("/technologies/t1/terms"),
                            context! {
                                id => "t1", title => "Cà phê", current,
                                versions => vec![context! { version => 2, date => "01/03/2026", summary => "US$1.00 · 90" }],
                                form => TermsForm::of(lang, None, "USD"), errors => terms_errors.clone(),
                                has_errors => true, currencies => vec!["VND", "USD"], models => MODELS, owners => IMPROVEMENT_OWNERS,
                                saved => "2", compare_a => 1, compare_b => 2,
                                preview_start => "2026-03-03", preview_convert_on => "2026-05-31",
                                preview_errors => all_errors(&["start", "convert_on"], BTreeMap::new()),
                                quote, max_days => 365,
                            },
                        ]),
                    )
                    .unwrap();
            }
            let compare = pages
                .render(
                    "technologies/compare.html",
                    minijinja::value::merge_maps([
                        frame("/technologies/t1/terms/compare"),
                        context! {
                            id => "t1", title => "Cà phê",
                            a => context! { version => 1, date => "01/03/2026" },
                            b => context! { version => 2, date => "02/03/2026" },
                            rows => vec![
                                context! { label => "technologies.terms.trial_days", changed => true, a => "90", b => "60" },
                                context! { label => "technologies.terms.currency", changed => false, a => "USD", b => "USD" },
                            ],
                            changes => 1, versions => vec![1, 2],
                        },
                    ]),
                )
                .unwrap();
            assert!(compare.contains(&format!("<html lang=\"{lang}\">")));
        }
    }
}
