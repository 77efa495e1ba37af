//! The trial agreements' pages: the list (`/trials`: an SME's trials, an institute's requests
//! and agreements, what insurers, admins and auditors may see), one agreement's overview
//! (`/agreements/{id}`: parties, progress, the terms fixed at approval, dates, and the
//! actions this user may take now, each a form), and its documents as PDF.
//!
//! What a user may take now comes from the lifecycle's [`open_to`](crate::rules::lifecycle::open_to)
//! (through the agreement's `actions`), so no button is shown that its role or the state would
//! refuse. Every action form carries the version it was shown: a stale one gives the 412 page.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use minijinja::{context, Value};
use serde::Deserialize;

use super::frame::{self, blocking, read_kept, see_other, Read, SignedIn, Visitor};
use crate::agreements::model::{ActionInput, Agreement, ListFilter};
use crate::app::agreements::{Happened, Listed, Overview};
use crate::auth::session::Actor;
use crate::error::AppError;
use crate::rules::lifecycle::{Action, Status, MAX_PERIOD_DAYS};
use crate::rules::roles::Role;
use crate::settlement::money::{parse_rate, Currency};
use crate::settlement::pricing::Tax;
use crate::settlement::terms::{Price, Terms};
use crate::typeset::format;
use crate::AppState;

/// Agreements on one page of the list.
const PER_PAGE: i64 = 20;

/// The longest reason a form takes, in characters (as the API).
const MAX_REASON: usize = 2000;

/// The agreements list, one agreement's overview and its documents.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "agreement/list.html",
            include_str!("templates/agreement/list.html"),
        ),
        (
            "agreement/show.html",
            include_str!("templates/agreement/show.html"),
        ),
    ],
    words: (
        "agreement",
        include_str!("i18n/agreement.vi.toml"),
        include_str!("i18n/agreement.en.toml"),
    ),
    css: include_str!("../../static/web/agreement.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/trials", web::get().to(list))
        .route("/agreements/{id}", web::get().to(show))
        .route("/agreements/{id}/actions/{action}", web::post().to(act))
        .route(
            "/agreements/{id}/documents/{kind}/{lang}",
            web::get().to(document),
        );
}

/// The list's filters and page, kept in the URL.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    mine: String,
    #[serde(default)]
    page: String,
}

/// Whether a role has steps of its own to wait for (the "needs my action" filter).
fn acts_on_trials(role: Role) -> bool {
    matches!(role, Role::Sme | Role::Institute)
}

/// The agreement's calendar day today.
fn today_of(state: &AppState, a: &Agreement) -> NaiveDate {
    state.clock.today(a.time_zone.parse().unwrap_or(state.tz))
}

/// The days from `today` through `until`, both counted (none once it has passed).
fn days_through(today: NaiveDate, until: NaiveDate) -> u32 {
    u32::try_from((until - today).num_days() + 1).unwrap_or(0)
}

/// What is next for an agreement in its status, and the day: the catalogue key of its name.
fn next_date(a: &Agreement) -> Option<(&'static str, NaiveDate)> {
    match a.status {
        Status::Requested => Some(("agreement.next.requested_start", a.requested_start)),
        Status::Approved | Status::Signed => {
            a.trial_start.map(|d| ("agreement.next.trial_start", d))
        }
        Status::Active => a.trial_end.map(|d| ("agreement.next.trial_end", d)),
        Status::AwaitingDecision => a.decision_deadline.map(|d| ("agreement.next.decision", d)),
        _ => None,
    }
}

/// The days left in the trial (active) or to the decision deadline (awaiting a decision),
/// in words; empty otherwise.
fn days_left(visitor: &Visitor, state: &AppState, a: &Agreement, today: NaiveDate) -> String {
    let (key, until) = match (a.status, a.trial_end, a.decision_deadline) {
        (Status::Active, Some(end), _) => ("agreement.days_left.trial", end),
        (Status::AwaitingDecision, _, Some(deadline)) => ("agreement.days_left.decision", deadline),
        _ => return String::new(),
    };
    let days = format::days(visitor.lang, days_through(today, until));
    visitor.words(state, key, &[("days", days)])
}

/// The technology's title in the page language.
fn title<'a>(lang: &str, vi: &'a str, en: &'a str) -> &'a str {
    if lang == "vi" || en.is_empty() {
        vi
    } else {
        en
    }
}

/// `/trials`: the agreements the organisation may see, filtered by status and by what waits
/// for this user's side, a page at a time.
async fn list(
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let q = q.into_inner();
    let status = Status::parse(q.status.trim());
    let mine = acts_on_trials(actor.role) && q.mine == "1";
    let page = q
        .page
        .trim()
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let filter = ListFilter {
        status,
        waiting_on: mine.then_some(actor.role),
        ..ListFilter::default()
    };
    let role = actor.role;
    let loaded = blocking(&state, move |st| {
        crate::app::agreements::listing(st, &actor, &filter, PER_PAGE, (page - 1) * PER_PAGE)
    })
    .await;
    let (items, total) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let lang = visitor.lang;
    let rows: Vec<Value> = items
        .iter()
        .map(
            |Listed {
                 agreement: a,
                 technology_vi,
                 technology_en,
                 sme,
                 institute,
             }| {
                let today = today_of(&state, a);
                let other = match role {
                    Role::Sme => institute.clone(),
                    Role::Institute => sme.clone(),
                    _ => format!("{sme} – {institute}"),
                };
                let (next, next_on) = match next_date(a) {
                    Some((key, d)) => (visitor.words(&state, key, &[]), format::date(lang, d)),
                    None => (String::new(), String::new()),
                };
                context! {
                    id => a.id.clone(), number => a.number.clone(), status => a.status.as_str(),
                    technology => title(lang, technology_vi, technology_en),
                    other, days_left => days_left(&visitor, &state, a, today), next, next_on,
                }
            },
        )
        .collect();
    let pages = (total + PER_PAGE - 1) / PER_PAGE;
    // The filters as they are, for the page links.
    let link = |p: i64| {
        let mut pairs = Vec::new();
        if let Some(s) = status {
            pairs.push(("status", s.as_str().to_string()));
        }
        if mine {
            pairs.push(("mine", "1".to_string()));
        }
        pairs.push(("page", p.to_string()));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    };
    let role_key = match role {
        Role::Sme => "sme",
        Role::Institute => "institute",
        _ => "other",
    };
    visitor.page(
        &state,
        200,
        "agreement/list.html",
        context! {
            role_key, rows, total, page, pages,
            status => status.map(|s| s.as_str()).unwrap_or(""),
            statuses => Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            mine, offer_mine => acts_on_trials(role),
            prev => if page > 1 { link(page - 1) } else { String::new() },
            next => if page < pages { link(page + 1) } else { String::new() },
        },
    )
}

#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    #[serde(default)]
    done: String,
}

/// What a failed action form brings back to the page: which action, the errors by field
/// (words in the page language), and what was typed.
#[derive(Debug, Default)]
struct Failed {
    action: &'static str,
    errors: std::collections::BTreeMap<String, String>,
    typed: ActionForm,
}

/// `/agreements/{id}`: the agreement's overview.
async fn show(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<ShowQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let done = Action::parse(&q.done)
        .filter(|a| !a.is_time_driven())
        .map(|a| visitor.words(&state, &format!("agreement.done.{}", a.as_str()), &[]))
        .unwrap_or_default();
    overview_page(
        &state,
        &visitor,
        actor,
        id.into_inner(),
        200,
        done,
        Failed::default(),
    )
    .await
}

/// The overview of agreement `id`, answered with `status`.
async fn overview_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    status: u16,
    done: String,
    failed: Failed,
) -> HttpResponse {
    let read = move |st: &AppState| {
        let overview = crate::app::agreements::overview(st, &actor, &id)?;
        // The products an approval may choose, in the currency of the terms it would fix.
        let products = match &overview.offered {
            Some(terms)
                if terms.insurance_required
                    && overview.agreement.actions.contains(&Action::Approve) =>
            {
                crate::app::insurance::list_products(st, &actor, None, None, Some(&terms.currency))?
            }
            _ => Vec::new(),
        };
        Ok((overview, products))
    };
    // A plain view (no form set again with its errors) repeated while nothing changed is the
    // page kept (`web::kept`).
    let loaded = if status == 200 && failed.action.is_empty() {
        read_kept(state, visitor, false, read).await
    } else {
        blocking(state, read).await.map(|o| Read::Fresh(o, None))
    };
    let ((overview, products), keep) = match loaded {
        Ok(Read::Kept(body)) => return visitor.kept(body),
        Ok(Read::Fresh(loaded, keep)) => (loaded, keep),
        Err(e) => return visitor.failure(state, e, ""),
    };
    let ctx = overview_context(state, visitor, &overview, products, done, failed);
    visitor.page_keeping(state, status, keep, "agreement/show.html", ctx)
}

/// Everything the overview template reads.
fn overview_context(
    state: &AppState,
    visitor: &Visitor,
    o: &Overview,
    products: Vec<crate::insurance::model::Product>,
    done: String,
    failed: Failed,
) -> Value {
    let lang = visitor.lang;
    let a = &o.agreement;
    let today = today_of(state, a);
    let words = |key: &str, args: &[(&str, String)]| visitor.words(state, key, args);
    let trial = match (a.trial_start, a.trial_end) {
        (Some(s), Some(e)) => format!("{} – {}", format::date(lang, s), format::date(lang, e)),
        _ => String::new(),
    };
    let terms = match a.terms.as_ref().map(|t| t.parse()) {
        Some(Ok(terms)) => terms_facts(visitor, state, &terms),
        Some(Err(e)) => {
            tracing::error!(error = %e, agreement = %a.id, "fixed terms unreadable");
            Vec::new()
        }
        None => Vec::new(),
    };
    let history: Vec<Value> = o
        .history
        .iter()
        .map(|h| happened(visitor, state, a, h))
        .collect();
    // Signing needs the insurance chosen first when the terms require it (the cover tab).
    let insurance_first = a
        .terms
        .as_ref()
        .and_then(|t| t.parse().ok())
        .is_some_and(|t| t.insurance_required && !o.insurance_chosen);
    let actions: Vec<&str> = a
        .actions
        .iter()
        .filter(|act| !(insurance_first && **act == Action::Sign))
        .map(|act| act.as_str())
        .collect();
    let offer_sign_note = insurance_first && a.actions.contains(&Action::Sign);
    let needs_product = o.offered.as_ref().is_some_and(|t| t.insurance_required);
    let products: Vec<Value> = products
        .into_iter()
        .map(|p| {
            let name = if lang == "vi" { p.name.vi } else { p.name.en };
            let cover = Currency::parse(&p.currency)
                .map(|c| format::money(c, p.max_coverage_minor))
                .unwrap_or(p.max_coverage);
            context! { id => p.id, name, cover }
        })
        .collect();
    let default_start = a.requested_start.max(today).format("%Y-%m-%d").to_string();
    let documents: Vec<Value> = o
        .documents
        .iter()
        .map(|kind| {
            let links: Vec<Value> = crate::typeset::format::LANGS
                .into_iter()
                .map(|l| {
                    context! {
                        lang => l, name => words(&format!("agreement.doc_lang.{l}"), &[]),
                    }
                })
                .collect();
            context! { kind => *kind, name => words(&format!("agreement.doc.{kind}"), &[]), links }
        })
        .collect();
    let t = &failed.typed;
    let (next, next_on) = match next_date(a) {
        Some((key, d)) => (words(key, &[]), format::date(lang, d)),
        None => (String::new(), String::new()),
    };
    context! {
        agreement => context! {
            id => a.id.clone(), number => a.number.clone(), status => a.status.as_str(),
            version => a.version, technology => title(lang, &o.technology_vi, &o.technology_en),
            place_of_use => a.place_of_use.clone(), message => a.message.clone(),
            requested_start => format::date(lang, a.requested_start),
            closed_reason => a.closed_reason.clone().unwrap_or_default(),
        },
        tab => "overview",
        sme => o.sme.clone(), institute => o.institute.clone(),
        insurer => o.insurer.clone().unwrap_or_default(),
        trial, extended => a.extended,
        deadline => a.decision_deadline.map(|d| format::date(lang, d)).unwrap_or_default(),
        days_left => days_left(visitor, state, a, today), next, next_on,
        terms, history, actions, offer_sign_note, needs_product, products, documents, done,
        failed => failed.action, errors => failed.errors,
        record => o.sme_record, record_for => "request",
        typed => context! {
            reason => t.reason.clone(), days => t.days.clone(),
            trial_start => if t.trial_start.is_empty() { default_start } else { t.trial_start.clone() },
            insurance_product_id => t.insurance_product_id.clone(),
            insurance_coverage => t.insurance_coverage.clone(),
            tax_kind => t.tax_kind.clone(), tax_rate => t.tax_rate.clone(),
            tax_basis => t.tax_basis.clone(),
        },
    }
}

/// One step of the history in words: the day and time (in the agreement's zone), what
/// happened, who did it, and the reason given, if any.
fn happened(visitor: &Visitor, state: &AppState, a: &Agreement, h: &Happened) -> Value {
    let lang = visitor.lang;
    let tz: chrono_tz::Tz = a.time_zone.parse().unwrap_or(state.tz);
    let at = h.at.and_utc().with_timezone(&tz);
    let when = format!(
        "{} {}",
        format::date(lang, at.date_naive()),
        at.format("%H:%M")
    );
    let known = EVENTS.contains(&h.action.as_str());
    let what = if known {
        visitor.words(state, &format!("agreement.event.{}", h.action), &[])
    } else {
        visitor.words(state, "agreement.event.other", &[])
    };
    let who = match (&h.organisation, &h.person) {
        (Some(org), Some(person)) => format!("{person} ({org})"),
        (Some(org), None) => org.clone(),
        (None, Some(person)) => person.clone(),
        (None, None) => visitor.words(state, "agreement.event.by_system", &[]),
    };
    let mut detail = String::new();
    if let Some(reason) = h.data["after"]["reason"].as_str() {
        detail = visitor.words(
            state,
            "agreement.event.reason",
            &[("reason", reason.into())],
        );
    } else if h.action == "agreement.extend" {
        if let Some(end) = h.data["after"]["trial_end"]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            detail = visitor.words(
                state,
                "agreement.event.new_end",
                &[("date", format::date(lang, end))],
            );
        }
    }
    context! { when, what, who, detail, datetime => at.to_rfc3339() }
}

/// The kinds of event an agreement's history holds, each with its words.
const EVENTS: [&str; 19] = [
    "agreement.requested",
    "agreement.approve",
    "agreement.reject",
    "agreement.withdraw",
    "agreement.sign",
    "agreement.convert",
    "agreement.decline",
    "agreement.terminate",
    "agreement.extend",
    "agreement.start",
    "agreement.end_trial",
    "agreement.lapse",
    "agreement.insurance_chosen",
    "insurance.policy_bound",
    "insurance.policy_ended",
    "document.generated",
    "payment.recorded",
    "sales.reported",
    "royalty.year_closed",
];

/// An amount of the terms (major units, as written) in the currency's convention.
fn amount(currency: Option<Currency>, text: &str) -> String {
    currency
        .and_then(|c| {
            c.parse_amount(text)
                .ok()
                .map(|minor| format::money(c, minor))
        })
        .unwrap_or_else(|| text.to_string())
}

/// A rate of the terms as a percentage.
fn rate(lang: &str, text: &str) -> String {
    parse_rate(text)
        .map(|r| format::percent(lang, r))
        .unwrap_or_else(|_| text.to_string())
}

/// The terms in plain words: (what, how) pairs in the page language.
fn terms_facts(visitor: &Visitor, state: &AppState, terms: &Terms) -> Vec<(String, String)> {
    let lang = visitor.lang;
    let w = |key: &str, args: &[(&str, String)]| visitor.words(state, key, args);
    let cur = Currency::parse(&terms.currency);
    let days = |n: u32| format::days(lang, n);
    let mut facts = vec![
        (w("agreement.terms.trial", &[]), days(terms.trial_days)),
        (
            w("agreement.terms.decision", &[]),
            w(
                "agreement.terms.decision_value",
                &[("days", days(terms.decision_days))],
            ),
        ),
    ];
    let price = match &terms.price {
        Price::LumpSum {
            amount: a,
            due_days,
        } => w(
            "agreement.terms.lump_sum",
            &[("amount", amount(cur, a)), ("days", days(*due_days))],
        ),
        Price::Installments {
            total,
            count,
            interval_months,
            first_due_days,
        } => w(
            "agreement.terms.installments",
            &[
                ("total", amount(cur, total)),
                ("count", count.to_string()),
                ("months", interval_months.to_string()),
                ("days", days(*first_due_days)),
            ],
        ),
        Price::Royalty { rate: r, .. } => w("agreement.terms.royalty", &[("rate", rate(lang, r))]),
        Price::EntryFeePlusRoyalty {
            entry_fee,
            due_days,
            rate: r,
            ..
        } => w(
            "agreement.terms.entry_fee_plus_royalty",
            &[
                ("fee", amount(cur, entry_fee)),
                ("days", days(*due_days)),
                ("rate", rate(lang, r)),
            ],
        ),
    };
    facts.push((w("agreement.terms.price", &[]), price));
    if let Price::Royalty {
        min_per_year: Some(m),
        ..
    }
    | Price::EntryFeePlusRoyalty {
        min_per_year: Some(m),
        ..
    } = &terms.price
    {
        facts.push((w("agreement.terms.min_per_year", &[]), amount(cur, m)));
    }
    facts.push((
        w("agreement.terms.insurance", &[]),
        w(
            if terms.insurance_required {
                "agreement.terms.insurance_required"
            } else {
                "agreement.terms.insurance_optional"
            },
            &[],
        ),
    ));
    facts.push((
        w("agreement.terms.improvements", &[]),
        w(super::catalogue::improvements_key(terms.improvements), &[]),
    ));
    if let Some(d) = &terms.early_conversion_discount {
        facts.push((w("agreement.terms.early_discount", &[]), rate(lang, d)));
    }
    if let Some(key) = super::catalogue::registration_key(terms) {
        facts.push((w("agreement.terms.registration", &[]), w(key, &[])));
    }
    if let Some(r) = &terms.late_payment_daily_rate {
        facts.push((
            w("agreement.terms.late_interest", &[]),
            w("agreement.terms.per_day", &[("rate", rate(lang, r))]),
        ));
    }
    if let Some(d) = &terms.distribution {
        facts.push((
            w("agreement.terms.distribution", &[]),
            w(
                "agreement.terms.distribution_value",
                &[
                    ("institute", rate(lang, &d.institute)),
                    ("inventors", rate(lang, &d.inventors)),
                    ("intermediary", rate(lang, &d.intermediary)),
                ],
            ),
        ));
    }
    facts
}

/// An action form as posted: every field a form may carry, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
struct ActionForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    trial_start: String,
    #[serde(default)]
    insurance_product_id: String,
    /// The cover asked of the product, major units; empty for its maximum.
    #[serde(default)]
    insurance_coverage: String,
    /// The tax stated at conversion: empty or `none`, `rate` or `exempt`.
    #[serde(default)]
    tax_kind: String,
    /// A percentage (`10`, `3,5`).
    #[serde(default)]
    tax_rate: String,
    #[serde(default)]
    tax_basis: String,
}

/// The form's own checks: the action's input, or the fields at fault (catalogue keys).
fn read_input(
    action: Action,
    form: &ActionForm,
) -> Result<ActionInput, Vec<(&'static str, &'static str)>> {
    let reason = form.reason.trim();
    let mut input = ActionInput::default();
    let mut errors = Vec::new();
    match action {
        Action::Reject | Action::Terminate | Action::Withdraw | Action::Decline => {
            let required = matches!(action, Action::Reject | Action::Terminate);
            if reason.is_empty() && required {
                errors.push(("reason", "agreement.error.reason_required"));
            } else if reason.chars().count() > MAX_REASON {
                errors.push(("reason", "agreement.error.reason_long"));
            }
            input.reason = Some(reason.to_string()).filter(|r| !r.is_empty());
        }
        Action::Extend => match form.days.trim().parse::<u32>() {
            Ok(days) if (1..=MAX_PERIOD_DAYS).contains(&days) => input.days = Some(days),
            _ => errors.push(("days", "agreement.error.days")),
        },
        Action::Approve => {
            let start = form.trial_start.trim();
            if !start.is_empty() {
                match NaiveDate::parse_from_str(start, "%Y-%m-%d") {
                    Ok(d) => input.trial_start = Some(d),
                    Err(_) => errors.push(("trial_start", "agreement.error.trial_start")),
                }
            }
            let product = form.insurance_product_id.trim();
            input.insurance_product_id = Some(product.to_string()).filter(|p| !p.is_empty());
            let cover = form.insurance_coverage.trim();
            input.insurance_coverage = Some(cover.to_string()).filter(|c| !c.is_empty());
        }
        Action::Convert => match read_tax(form) {
            Ok(tax) => input.tax = tax,
            Err(fault) => errors.push(fault),
        },
        _ => {}
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// The tax the conversion form states, if any: a rate typed as a percentage, or an
/// exemption with its legal basis (as the API's `tax`); or the field at fault.
fn read_tax(form: &ActionForm) -> Result<Option<Tax>, (&'static str, &'static str)> {
    let tax = match form.tax_kind.trim() {
        "" | "none" => return Ok(None),
        "rate" => super::technologies::fraction_of(&form.tax_rate)
            .map(|rate| Tax::Rate { rate })
            .ok_or(("tax_rate", "agreement.error.tax_rate"))?,
        "exempt" => Tax::Exempt {
            basis: form.tax_basis.trim().to_string(),
        },
        _ => return Err(("tax_kind", "agreement.error.general")),
    };
    tax.check().map_err(|(field, _)| match field {
        "basis" => ("tax_basis", "agreement.error.tax_basis"),
        _ => ("tax_rate", "agreement.error.tax_rate"),
    })?;
    Ok(Some(tax))
}

/// The form field and the words for an error app found in an action's input.
fn field_words(field: &str) -> (&'static str, &'static str) {
    match field {
        "reason" => ("reason", "agreement.error.reason_long"),
        "days" => ("days", "agreement.error.days"),
        "trial_start" => ("trial_start", "agreement.error.trial_start"),
        "insurer_id" | "insurance_product_id" => {
            ("insurance_product_id", "agreement.error.product")
        }
        "insurance_coverage" => ("insurance_coverage", "agreement.error.coverage"),
        "tax.rate" => ("tax_rate", "agreement.error.tax_rate"),
        "tax.basis" => ("tax_basis", "agreement.error.tax_basis"),
        _ => ("general", "agreement.error.general"),
    }
}

/// `POST /agreements/{id}/actions/{action}`: takes the action at the version the form was
/// shown, then back to the page with a confirmation; 412 when the agreement changed meanwhile,
/// 409 when its state no longer allows it, 422 (the page again) for the form's values.
async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let (id, name) = path.into_inner();
    let Some(action) = Action::parse(&name).filter(|a| !a.is_time_driven()) else {
        return visitor.error(&state, 404, "error.not_found", context! {});
    };
    let Some(form) = frame::form::<ActionForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let back = format!("/agreements/{id}");
    let Ok(version) = form.version.trim().parse::<i64>() else {
        return visitor.failure(&state, AppError::PreconditionRequired, &back);
    };
    let again = |errors: Vec<(&'static str, &'static str)>| {
        let errors = errors
            .into_iter()
            .map(|(field, key)| (field.to_string(), visitor.words(&state, key, &[])))
            .collect();
        let failed = Failed {
            action: action.as_str(),
            errors,
            typed: form.clone(),
        };
        overview_page(
            &state,
            &visitor,
            actor.clone(),
            id.clone(),
            422,
            String::new(),
            failed,
        )
    };
    let input = match read_input(action, &form) {
        Ok(input) => ActionInput {
            rounding: state.cfg.settlement.rounding,
            registration: state.cfg.registration.clone(),
            ..input
        },
        Err(errors) => return again(errors).await,
    };
    let (actor2, id2) = (actor.clone(), id.clone());
    let done = blocking(&state, move |st| {
        crate::app::agreements::act(st, &actor2, &id2, version, action, &input)
    })
    .await;
    match done {
        Ok(_) => see_other(&format!("{back}?done={}", action.as_str())),
        Err(AppError::Validation(errors)) => {
            let errors = errors.iter().map(|e| field_words(&e.field)).collect();
            again(errors).await
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

/// A generation attempt that found the agreement changed under it is repeated this often.
const ATTEMPTS: usize = 3;

/// `GET /agreements/{id}/documents/{kind}/{lang}`: the document as PDF, generated on first
/// request at the agreement's version and stored (as the API's); the 404 page for an
/// agreement the visitor may not see, the 409 page for a document it does not have yet.
async fn document(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let (id, kind, lang) = path.into_inner();
    if !crate::documents::model::KINDS.contains(&kind.as_str())
        || !crate::typeset::format::LANGS.contains(&lang.as_str())
    {
        return visitor.error(&state, 404, "error.not_found", context! {});
    }
    let back = format!("/agreements/{id}");
    for _ in 0..ATTEMPTS {
        let (id2, kind2, lang2, actor2) = (id.clone(), kind.clone(), lang.clone(), actor.clone());
        let read = blocking(&state, move |st| {
            crate::app::documents::stored_now(st, &actor2, &id2, &kind2, &lang2)
        })
        .await;
        let (row, stored) = match read {
            Ok(read) => read,
            Err(e) => return visitor.failure(&state, e, &back),
        };
        let number = row.number.clone();
        let stored = match stored {
            Some(doc) => Some(doc),
            None => {
                let Ok(permit) = state.renders.clone().acquire_owned().await else {
                    return visitor.failure(&state, AppError::Busy, &back);
                };
                let (kind2, lang2, actor2) = (kind.clone(), lang.clone(), actor.clone());
                let made = blocking(&state, move |st| {
                    let _permit = permit;
                    crate::app::documents::generate(st, &actor2, row, &kind2, &lang2)
                })
                .await;
                match made {
                    Ok(made) => made,
                    Err(e) => return visitor.failure(&state, e, &back),
                }
            }
        };
        if let Some(doc) = stored {
            return HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header((header::CACHE_CONTROL, "private, no-cache"))
                .insert_header((header::ETAG, format!("\"{}\"", doc.sha256)))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{number}-{kind}-{lang}.pdf\""),
                ))
                .body(doc.pdf);
        }
    }
    visitor.failure(&state, AppError::Busy, &back)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::LANGS;
    use crate::web::Pages;

    /// Every page of the group sets in both languages with a representative context, and the
    /// words name every kind of history event and every action.
    #[test]
    fn every_page_sets_in_both_languages() {
        let pages = Pages::load().unwrap();
        let keys: Vec<&String> = pages.catalogues.keys().collect();
        for event in EVENTS {
            assert!(
                keys.contains(&&format!("agreement.event.{event}")),
                "{event}"
            );
        }
        for action in Action::ALL.into_iter().filter(|a| !a.is_time_driven()) {
            for prefix in ["agreement.done.", "agreement.action.", "agreement.explain."] {
                let key = format!("{prefix}{}", action.as_str());
                assert!(keys.contains(&&key), "{key}");
            }
        }
        for kind in crate::documents::model::KINDS {
            assert!(keys.contains(&&format!("agreement.doc.{kind}")));
        }
        for lang in crate::typeset::format::LANGS {
            assert!(keys.contains(&&format!("agreement.doc_lang.{lang}")));
        }
        for lang in LANGS {
            for role in ["sme", "institute", "admin"] {
                let user = context! { display_name => "Nguyễn Văn An", role };
                let role_key = if role == "admin" { "other" } else { role };
                let rows = vec![context! {
                    id => "a1", number => "UF-2026-000001", status => "active",
                    technology => "Máy sấy <nông sản>", other => "Viện Công nghệ",
                    days_left => "12 ngày", next => "Kết thúc dùng thử", next_on => "30/05/2026",
                }];
                let list = pages
                    .render(
                        "agreement/list.html",
                        context! { lang, csrf => "x", path => "/trials", user, role_key, rows,
                        total => 21, page => 1, pages => 2, status => "active",
                        statuses => Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                        mine => true, offer_mine => role != "admin", prev => "",
                        next => "page=2" },
                    )
                    .unwrap();
                assert!(list.contains("Máy sấy &lt;nông sản&gt;"), "{list}");
                assert!(list.contains("href=\"/agreements/a1\""), "{list}");
            }
            let user = context! { display_name => "Nguyễn Văn An", role => "institute" };
            let show = pages
                .render(
                    "agreement/show.html",
                    context! { lang, csrf => "x", path => "/agreements/a1", user,
                    agreement => context! { id => "a1", number => "UF-2026-000001",
                        status => "requested", version => 3, technology => "Máy sấy",
                        place_of_use => "Nhà máy", message => "Xin <dùng thử>",
                        requested_start => "03/03/2026", closed_reason => "" },
                    tab => "overview", sme => "Công ty A", institute => "Viện B", insurer => "",
                    record => context! { requests => 3, conversions => 1,
                        trials => context! { total => 1, in_progress => 0, converted => 1, declined => 0, lapsed => 0, terminated => 0 },
                        payments => context! { on_time => 1, late => 1, overdue => 1, not_yet_due => 1 },
                        non_payment_claims => context! { total => 1, open => 0, upheld => 1, not_upheld => 0 } },
                    record_for => "request",
                    trial => "", extended => false, deadline => "", days_left => "",
                    next => "Ngày bắt đầu", next_on => "03/03/2026",
                    terms => Vec::<(String, String)>::new(),
                    history => vec![context! { when => "02/03/2026 09:00", what => "Gửi yêu cầu",
                        who => "Người dùng (Công ty A)", detail => "", datetime => "2026-03-02T09:00:00+07:00" }],
                    actions => Action::ALL.iter().filter(|a| !a.is_time_driven()).map(|a| a.as_str()).collect::<Vec<_>>(),
                    offer_sign_note => true, needs_product => true,
                    products => vec![context! { id => "p1", name => "Bảo hiểm", cover => "US$10,000.00" }],
                    documents => vec![context! { kind => "trial-agreement", name => "Hợp đồng",
                        links => vec![context! { lang => "zh", name => "中文" }] }],
                    done => "Đã duyệt", failed => "reject",
                    errors => context! { reason => "Cần lý do" },
                    typed => context! { reason => "", days => "", trial_start => "2026-03-03",
                        insurance_product_id => "p1" } },
                )
                .unwrap();
            assert!(show.contains("Xin &lt;dùng thử&gt;"), "{show}");
            assert!(show.contains("aria-invalid=\"true\""), "{show}");
            assert!(show.contains("name=\"version\" value=\"3\""), "{show}");
        }
    }

    #[test]
    fn days_are_counted_through_the_last_day() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        assert_eq!(days_through(d(10), d(10)), 1);
        assert_eq!(days_through(d(1), d(10)), 10);
        assert_eq!(days_through(d(11), d(10)), 0);
    }
}
