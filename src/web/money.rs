//! The money tabs of an agreement: its payments (`/agreements/{id}/money`: the settlement
//! statement, the payments recorded and the institute's form to record one, the sales
//! reports of a royalty and the SME's form to report a quarter, and for the institute how
//! what was paid is shared out) and its insurance (`/agreements/{id}/cover`: the product
//! chosen or the form to choose one, the policy's premium and who pays what, the cover the
//! payouts leave, the claims and the parties' form to file one).
//!
//! Amounts are written in the currency's own convention, dates in the page language. A form
//! with bad values is set again with 422, each message beside its field and what was typed
//! kept; a form shown before someone else changed the same thing gives the 412 page.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use minijinja::{context, Value};
use serde::Deserialize;

use super::frame::{self, blocking, see_other, SignedIn, Visitor};
use crate::agreements::model::Agreement;
use crate::app::contracts::Money;
use crate::app::insurance::Cover;
use crate::auth::session::Actor;
use crate::contracts::model::{CertificateInput, PaymentInput, SalesReportInput, Statement};
use crate::error::{AppError, FieldError};
use crate::insurance::model::{ClaimInput, Policy, Product, Risk};
use crate::rules::roles::Role;
use crate::settlement::money::{parse_rate, Currency};
use crate::settlement::schedule::Waiting;
use crate::typeset::format;
use crate::AppState;

/// The payments and insurance tabs of an agreement.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "money/payments.html",
            include_str!("templates/money/payments.html"),
        ),
        (
            "money/cover.html",
            include_str!("templates/money/cover.html"),
        ),
        (
            "money/policy.html",
            include_str!("templates/money/policy.html"),
        ),
    ],
    words: (
        "money",
        include_str!("i18n/money.vi.toml"),
        include_str!("i18n/money.en.toml"),
    ),
    css: include_str!("../../static/web/money.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/agreements/{id}/money", web::get().to(payments_page))
        .route("/agreements/{id}/payments", web::post().to(record_payment))
        .route("/agreements/{id}/sales", web::post().to(report_sales))
        .route(
            "/agreements/{id}/registration",
            web::post().to(record_certificate),
        )
        .route(
            "/agreements/{id}/registration/form-01.pdf",
            web::get().to(form01),
        )
        .route("/agreements/{id}/cover", web::get().to(cover_page))
        .route(
            "/agreements/{id}/cover/product",
            web::post().to(choose_product),
        )
        .route("/agreements/{id}/claims", web::post().to(file_claim));
}

/// Which side of the agreement the actor's organisation is, if a party.
fn side(actor: &Actor, agreement: &Agreement) -> Option<Role> {
    match actor.role {
        Role::Sme if agreement.sme_id == actor.organisation_id => Some(Role::Sme),
        Role::Institute if agreement.institute_id == actor.organisation_id => Some(Role::Institute),
        _ => None,
    }
}

/// An amount of major units as written in the API ("3000.00") in the currency's convention.
pub(super) fn major(cur: Currency, text: &str) -> String {
    cur.parse_amount(text)
        .map(|minor| format::money(cur, minor))
        .unwrap_or_else(|_| text.to_string())
}

/// A rate ("0.015") as a percentage in the page language.
pub(super) fn percent(lang: &str, text: &str) -> String {
    parse_rate(text)
        .map(|r| format::percent(lang, r))
        .unwrap_or_else(|_| text.to_string())
}

/// The messages of a 422, in the page language, by form field: `key_prefix.field`, filled
/// with `args`; a field the form does not have gets the form's general message.
fn messages(
    visitor: &Visitor,
    state: &AppState,
    errors: &[FieldError],
    key_prefix: &str,
    fields: &[&str],
    args: &[(&str, String)],
) -> BTreeMap<String, String> {
    frame::field_errors(errors)
        .into_keys()
        .map(|field| {
            let (field, key) = match fields.contains(&field.as_str()) {
                true => (field.clone(), format!("{key_prefix}.{field}")),
                false => ("form".to_string(), format!("{key_prefix}.form")),
            };
            (field, visitor.words(state, &key, args))
        })
        .collect()
}

/// A form's messages with every field of `fields` and `form` present (empty when fine), as
/// the templates read each by name.
fn every_field(fields: &[&str], mut errors: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for field in fields.iter().chain(&["form"]) {
        errors.entry(field.to_string()).or_default();
    }
    errors
}

// ---------------------------------------------------------------------------------------
// Payments

/// What was typed in the payment form, and what was wrong with it.
#[derive(Debug, Default, Deserialize)]
struct PaymentForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    version: String,
}

/// What was typed in the sales report form.
#[derive(Debug, Default, Deserialize)]
struct SalesForm {
    #[serde(default)]
    period_start: String,
    #[serde(default)]
    net_sales: String,
}

/// A form set again: what was typed and the messages by field.
type Again<F> = Option<(F, BTreeMap<String, String>)>;

async fn payments_page(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    show_payments(
        &state,
        &visitor,
        actor,
        id.into_inner(),
        200,
        None,
        None,
        None,
    )
    .await
}

/// One tab of agreement `id`: its view model loaded through app (`load`, off the async
/// workers; the failure page, 404 for what the visitor may not see, when it cannot be), set
/// with `template` and what `context` makes of it, answered with `status`.
#[allow(clippy::too_many_arguments)]
async fn show_tab<T, L, C>(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    status: u16,
    template: &str,
    load: L,
    context: C,
) -> HttpResponse
where
    T: Send + 'static,
    L: FnOnce(&AppState, &Actor, &str) -> Result<T, AppError> + Send + 'static,
    C: FnOnce(&Actor, &T) -> Value,
{
    let who = actor.clone();
    match blocking(state, move |st| load(st, &who, &id)).await {
        Ok(model) => visitor.page(state, status, template, context(&actor, &model)),
        Err(e) => visitor.failure(state, e, ""),
    }
}

/// The payments tab, with a form set again (`status` 422) or fresh (200).
#[allow(clippy::too_many_arguments)]
async fn show_payments(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    status: u16,
    payment: Again<PaymentForm>,
    sales: Again<SalesForm>,
    certificate: Again<CertificateForm>,
) -> HttpResponse {
    let template = "money/payments.html";
    show_tab(
        state,
        visitor,
        actor,
        id,
        status,
        template,
        crate::app::contracts::money,
        |actor, money| {
            let mut ctx = payments_context(state, visitor, actor, money, payment, sales);
            if let Some(st) = &money.statement {
                let box_ = registration_context(visitor, actor, &money.agreement, st, certificate);
                ctx = minijinja::value::merge_maps([context! { registration => box_ }, ctx]);
            }
            ctx
        },
    )
    .await
}

/// The calendar quarters an SME may report now: begun on or after the quarter of the
/// conversion, over before `today`, and not reported yet; newest first.
fn open_quarters(
    converted_on: NaiveDate,
    today: NaiveDate,
    reported: &[NaiveDate],
) -> Vec<(NaiveDate, NaiveDate)> {
    let quarter_of =
        |d: NaiveDate| NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap_or(d);
    let mut out = Vec::new();
    let mut start = quarter_of(converted_on);
    while let Some(end) = start
        .checked_add_months(chrono::Months::new(3))
        .and_then(|d| d.pred_opt())
    {
        if end >= today {
            break;
        }
        if !reported.contains(&start) {
            out.push((start, end));
        }
        start = end.succ_opt().unwrap_or(end);
    }
    out.reverse();
    out
}

fn quarter_label(state: &AppState, visitor: &Visitor, start: NaiveDate, end: NaiveDate) -> String {
    visitor.words(
        state,
        "money.sales.quarter",
        &[
            ("quarter", (start.month0() / 3 + 1).to_string()),
            ("year", start.year().to_string()),
            ("from", format::date(visitor.lang, start)),
            ("to", format::date(visitor.lang, end)),
        ],
    )
}

fn payments_context(
    state: &AppState,
    visitor: &Visitor,
    actor: &Actor,
    money: &Money,
    payment: Again<PaymentForm>,
    sales: Again<SalesForm>,
) -> Value {
    let lang = visitor.lang;
    let a = &money.agreement;
    let agreement = context! { id => a.id.clone(), number => a.number.clone() };
    let Some(st) = &money.statement else {
        return context! { agreement, tab => "money", converted => false,
        status => a.status.as_str() };
    };
    let Some(cur) = Currency::parse(&st.currency) else {
        return context! { agreement, tab => "money", converted => false,
        status => a.status.as_str() };
    };
    let side = side(actor, a);
    let lines: Vec<Value> = st
        .lines
        .iter()
        .map(|l| {
            context! {
                number => l.number,
                kind => l.kind.clone(),
                due => format::date(lang, l.due),
                amount => format::money(cur, l.amount_minor),
                paid => format::money(cur, l.paid_minor),
                outstanding => format::money(cur, l.outstanding_minor),
                overdue => l.overdue,
                held => l.held,
                settled => l.outstanding_minor == 0,
                interest => if l.interest_minor > 0 { format::money(cur, l.interest_minor) } else { String::new() },
            }
        })
        .collect();
    let payments: Vec<Value> = st
        .payments
        .iter()
        .map(|p| {
            context! {
                date => format::date(lang, p.received_on),
                amount => major(cur, &p.amount),
                reference => p.reference.clone(),
            }
        })
        .collect();
    let totals = statement_totals(cur, st);
    let outstanding_minor: i64 = st.lines.iter().map(|l| l.outstanding_minor).sum();
    // The institute's form: what was typed, or today and nothing else.
    let (pay, pay_errors) = payment.unwrap_or_else(|| {
        (
            PaymentForm {
                received_on: st.as_of.to_string(),
                version: crate::app::contracts::statement_version(st).to_string(),
                ..PaymentForm::default()
            },
            BTreeMap::new(),
        )
    });
    let pay = context! {
        amount => pay.amount, received_on => pay.received_on, reference => pay.reference,
        version => pay.version,
        errors => every_field(&["amount", "received_on", "reference"], pay_errors),
    };
    let royalty = st.royalty_rate.is_some();
    let reported: Vec<NaiveDate> = money.sales_reports.iter().map(|r| r.period_start).collect();
    let quarters: Vec<Value> = open_quarters(st.converted_on, st.as_of, &reported)
        .into_iter()
        .map(|(start, end)| {
            context! { value => start.to_string(), label => quarter_label(state, visitor, start, end) }
        })
        .collect();
    let reports: Vec<Value> = money
        .sales_reports
        .iter()
        .map(|r| {
            context! {
                period => quarter_label(state, visitor, r.period_start, r.period_end),
                net_sales => format::money(cur, r.net_sales_minor),
                royalty => format::money(cur, r.royalty_minor),
                line => r.line_number,
            }
        })
        .collect();
    let (sales, sales_errors) = sales.unwrap_or_default();
    let sales = context! {
        period_start => sales.period_start, net_sales => sales.net_sales,
        errors => every_field(&["period_start", "net_sales"], sales_errors),
    };
    // How what was paid is shared out: the institute's to see.
    let distribution = match side {
        Some(Role::Institute) => {
            let parts = [
                ("institute", &st.received_to_institute),
                ("inventors", &st.received_to_inventors),
                ("intermediary", &st.received_to_intermediary),
            ];
            let rows: Vec<Value> = parts
                .iter()
                .map(|(who, amount)| context! { who => *who, amount => major(cur, amount) })
                .collect();
            context! { shown => true, rows, total => major(cur, &st.paid) }
        }
        _ => context! { shown => false, rows => Vec::<Value>::new(), total => "" },
    };
    // What the held lines wait for, the most fundamental first (registration, then sales).
    let waiting = st
        .waiting_for
        .first()
        .map(|w| match w {
            Waiting::Registration => "registration",
            Waiting::FirstRevenue => "first_revenue",
        })
        .unwrap_or("");
    context! {
        agreement, tab => "money", converted => true, status => a.status.as_str(),
        waiting,
        currency => cur.code,
        as_of => format::date(lang, st.as_of),
        converted_on => format::date(lang, st.converted_on),
        lines, totals, payments,
        can_record => side == Some(Role::Institute) && outstanding_minor > 0,
        settled => outstanding_minor == 0,
        pay,
        royalty,
        royalty_rate => st.royalty_rate.as_deref().map(|r| percent(lang, r)).unwrap_or_default(),
        can_report => royalty && side == Some(Role::Sme),
        quarters, reports, sales,
        distribution,
    }
}

fn statement_totals(cur: Currency, st: &Statement) -> Value {
    let sum = |f: fn(&crate::contracts::model::StatementLine) -> i64| -> i64 {
        st.lines.iter().map(f).sum()
    };
    let overdue_minor: i64 = st
        .lines
        .iter()
        .filter(|l| l.overdue)
        .map(|l| l.outstanding_minor)
        .sum();
    let interest_minor = sum(|l| l.interest_minor);
    context! {
        amount => format::money(cur, sum(|l| l.amount_minor)),
        paid => format::money(cur, sum(|l| l.paid_minor)),
        outstanding => format::money(cur, sum(|l| l.outstanding_minor)),
        overdue => if overdue_minor > 0 { format::money(cur, overdue_minor) } else { String::new() },
        interest => if interest_minor > 0 { format::money(cur, interest_minor) } else { String::new() },
    }
}

async fn record_payment(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<PaymentForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let id = id.into_inner();
    let back = format!("/agreements/{id}/money");
    // A form without the version it was shown with is as stale as one with an old version.
    let Ok(expected) = form.version.trim().parse::<i64>() else {
        return visitor.failure(&state, AppError::PreconditionRequired, &back);
    };
    let Ok(received_on) = NaiveDate::parse_from_str(form.received_on.trim(), "%Y-%m-%d") else {
        let errors = pay_errors(
            &visitor,
            &state,
            &[FieldError::new("received_on", "not a date")],
        );
        return payment_again(&state, &visitor, actor, id, form, errors).await;
    };
    let input = PaymentInput {
        amount: form.amount.trim().to_string(),
        received_on,
        reference: form.reference.clone(),
    };
    let (who, at) = (actor.clone(), id.clone());
    let done = blocking(&state, move |st| {
        crate::app::contracts::record_payment_at(st, &who, &at, expected, &input)
    })
    .await;
    match done {
        Ok(_) => see_other(&back),
        Err(AppError::Validation(errors)) => {
            let errors = pay_errors(&visitor, &state, &errors);
            payment_again(&state, &visitor, actor, id, form, errors).await
        }
        // A reference this agreement already has is the form's to show, beside the field.
        Err(AppError::Conflict(_)) if reference_recorded(&state, &actor, &id, &form).await => {
            let taken = visitor.words(&state, "money.pay.error.reference_taken", &[]);
            let errors = BTreeMap::from([("reference".to_string(), taken)]);
            payment_again(&state, &visitor, actor, id, form, errors).await
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

/// Whether the payments of agreement `id` already have the reference typed in `form`.
async fn reference_recorded(
    state: &web::Data<AppState>,
    actor: &Actor,
    id: &str,
    form: &PaymentForm,
) -> bool {
    let (who, at) = (actor.clone(), id.to_string());
    let reference = form.reference.trim().to_string();
    blocking(state, move |st| crate::app::contracts::money(st, &who, &at))
        .await
        .is_ok_and(|money| {
            money
                .statement
                .is_some_and(|st| st.payments.iter().any(|p| p.reference == reference))
        })
}

/// The payments tab with the payment form set again (422).
async fn payment_again(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    form: PaymentForm,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    show_payments(
        state,
        visitor,
        actor,
        id,
        422,
        Some((form, errors)),
        None,
        None,
    )
    .await
}

/// The payment form's messages for the fields app or the form found at fault.
fn pay_errors(
    visitor: &Visitor,
    state: &AppState,
    errors: &[FieldError],
) -> BTreeMap<String, String> {
    let fields = ["amount", "received_on", "reference"];
    messages(visitor, state, errors, "money.pay.error", &fields, &[])
}

async fn report_sales(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<SalesForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let id = id.into_inner();
    let back = format!("/agreements/{id}/money");
    let Ok(period_start) = NaiveDate::parse_from_str(form.period_start.trim(), "%Y-%m-%d") else {
        let errors = vec![FieldError::new("period_start", "not a date")];
        return sales_again(&state, &visitor, actor, id, form, &errors).await;
    };
    let input = SalesReportInput {
        period_start,
        net_sales: form.net_sales.trim().to_string(),
    };
    let (who, at) = (actor.clone(), id.clone());
    let done = blocking(&state, move |st| {
        crate::app::contracts::report_sales(st, &who, &at, &input)
    })
    .await;
    match done {
        Ok(_) => see_other(&back),
        Err(AppError::Validation(errors)) => {
            sales_again(&state, &visitor, actor, id, form, &errors).await
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

/// The payments tab with the sales form set again (422).
async fn sales_again(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    form: SalesForm,
    errors: &[FieldError],
) -> HttpResponse {
    let errors = messages(
        visitor,
        state,
        errors,
        "money.sales.error",
        &["period_start", "net_sales"],
        &[],
    );
    show_payments(
        state,
        visitor,
        actor,
        id,
        422,
        None,
        Some((form, errors)),
        None,
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Registration

/// What was typed in the certificate form.
#[derive(Debug, Default, Deserialize)]
struct CertificateForm {
    #[serde(default)]
    certificate_number: String,
    #[serde(default)]
    certificate_date: String,
    #[serde(default)]
    issuing_office: String,
    #[serde(default)]
    vat_exemption_ref: String,
}

const CERTIFICATE_FIELDS: [&str; 4] = [
    "certificate_number",
    "certificate_date",
    "issuing_office",
    "vat_exemption_ref",
];

/// The registration box: where the contract's registration stands, the days left, the
/// application to download, and for the institute (or an admin) the certificate form.
fn registration_context(
    visitor: &Visitor,
    actor: &Actor,
    agreement: &Agreement,
    st: &Statement,
    certificate: Again<CertificateForm>,
) -> Value {
    let lang = visitor.lang;
    let Some(r) = &st.registration else {
        return context! { shown => false };
    };
    let day = |d: Option<NaiveDate>| d.map(|d| format::date(lang, d)).unwrap_or_default();
    let open = r.required && r.certificate_date.is_none();
    let (form, errors) = certificate.unwrap_or_default();
    context! {
        shown => true,
        status => r.status.as_str(),
        jurisdiction => r.jurisdiction.clone().unwrap_or_default(),
        required => r.required,
        reason => r.reason.clone(),
        signed_on => format::date(lang, r.signed_on),
        deadline => day(r.deadline),
        days_left => r.days_left,
        takes_effect => r.takes_effect_on_certificate,
        certificate_number => r.certificate_number.clone().unwrap_or_default(),
        certificate_date => day(r.certificate_date),
        issuing_office => r.issuing_office.clone().unwrap_or_default(),
        vat_exemption_ref => r.vat_exemption_ref.clone().unwrap_or_default(),
        form01 => r.required && r.jurisdiction.as_deref() == Some("vn"),
        can_enter => open && crate::app::contract_registration::may_register(actor, agreement),
        form => context! {
            certificate_number => form.certificate_number, certificate_date => form.certificate_date,
            issuing_office => form.issuing_office, vat_exemption_ref => form.vat_exemption_ref,
        },
        errors => every_field(&CERTIFICATE_FIELDS, errors),
    }
}

async fn record_certificate(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<CertificateForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let id = id.into_inner();
    let back = format!("/agreements/{id}/money");
    let Ok(certificate_date) = NaiveDate::parse_from_str(form.certificate_date.trim(), "%Y-%m-%d")
    else {
        let errors = vec![FieldError::new("certificate_date", "not a date")];
        return certificate_again(&state, &visitor, actor, id, form, &errors).await;
    };
    let input = CertificateInput {
        certificate_number: form.certificate_number.clone(),
        certificate_date,
        issuing_office: form.issuing_office.clone(),
        vat_exemption_ref: Some(form.vat_exemption_ref.clone()),
    };
    let (who, at) = (actor.clone(), id.clone());
    let done = blocking(&state, move |st| {
        crate::app::contract_registration::record_certificate(st, &who, &at, &input)
    })
    .await;
    match done {
        Ok(_) => see_other(&format!("{back}#registration")),
        Err(AppError::Validation(errors)) => {
            certificate_again(&state, &visitor, actor, id, form, &errors).await
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

/// Form 01, pre-filled, as a download.
async fn form01(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    let back = format!("/agreements/{id}/money");
    let at = id.clone();
    match blocking(&state, move |st| {
        crate::app::contract_registration::form01(st, &actor, &at)
    })
    .await
    {
        Ok((number, doc)) => HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"))
            .insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{number}-form-01.pdf\""),
            ))
            .body(doc.pdf),
        Err(e) => visitor.failure(&state, e, &back),
    }
}

/// The payments tab with the certificate form set again (422).
async fn certificate_again(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    form: CertificateForm,
    errors: &[FieldError],
) -> HttpResponse {
    let errors = messages(
        visitor,
        state,
        errors,
        "money.registration.error",
        &CERTIFICATE_FIELDS,
        &[],
    );
    show_payments(
        state,
        visitor,
        actor,
        id,
        422,
        None,
        None,
        Some((form, errors)),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Insurance

/// What was typed in the form choosing a product.
#[derive(Debug, Default, Deserialize)]
struct ChoiceForm {
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    coverage: String,
    #[serde(default)]
    version: String,
}

/// What was typed in the claim form.
#[derive(Debug, Default, Deserialize)]
struct ClaimForm {
    #[serde(default)]
    risk: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    evidence: String,
}

async fn cover_page(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    // An insurer's view of the cover is its own page (organisations only, the claims to
    // decide, what happened without the people); the same policy part is set on both.
    if actor.role == Role::Insurer {
        return super::insurer::cover_page(&state, &visitor, actor, id.into_inner()).await;
    }
    show_cover(&state, &visitor, actor, id.into_inner(), 200, None, None).await
}

async fn show_cover(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    status: u16,
    choice: Again<ChoiceForm>,
    claim: Again<ClaimForm>,
) -> HttpResponse {
    let template = "money/cover.html";
    show_tab(
        state,
        visitor,
        actor,
        id,
        status,
        template,
        crate::app::insurance::cover,
        |actor, cover| cover_context(visitor, actor, cover, choice, claim),
    )
    .await
}

/// A product as the page shows it, in the page language.
pub(super) fn product_view(lang: &str, p: &Product) -> Value {
    let cur = Currency::parse(&p.currency);
    let money = |minor: i64| cur.map(|c| format::money(c, minor)).unwrap_or_default();
    context! {
        id => p.id.clone(),
        name => if lang == "vi" { p.name.vi.clone() } else { p.name.en.clone() },
        risks => p.risks.clone(),
        premium_rate => percent(lang, &p.premium_rate),
        max_coverage => money(p.max_coverage_minor),
        deductible => money(p.deductible_minor),
        share_sme => percent(lang, &p.shares.sme),
        share_institute => percent(lang, &p.shares.institute),
        share_subsidy => percent(lang, &p.shares.subsidy),
    }
}

/// A policy and its claims as the page shows them. Claims name the organisation's side
/// (the enterprise, the institute), never a person.
pub(super) fn policy_view(lang: &str, sme_id: &str, institute_id: &str, p: &Policy) -> Value {
    let Some(cur) = Currency::parse(&p.currency) else {
        return Value::from(());
    };
    let m = |minor: i64| format::money(cur, minor);
    let claims: Vec<Value> = p
        .claims
        .iter()
        .map(|c| {
            let by = if c.claimant_org == sme_id {
                "sme"
            } else if c.claimant_org == institute_id {
                "institute"
            } else {
                "other"
            };
            context! {
                id => c.id.clone(),
                number => c.number.clone(),
                risk => c.risk.clone(),
                by,
                filed => format::date(lang, c.filed_at.date()),
                amount => m(c.amount_minor),
                status => c.status.clone(),
                payout => c.payout_minor.map(m).unwrap_or_default(),
                decision => c.decision_reason.clone().unwrap_or_default(),
                reason => c.reason.clone(),
            }
        })
        .collect();
    context! {
        status => p.status.clone(),
        ended_reason => p.ended_reason.clone().unwrap_or_default(),
        risks => p.risks.clone(),
        coverage => m(p.coverage_minor),
        premium_rate => percent(lang, &p.premium_rate),
        premium => m(p.premium_minor),
        sme_pays => m(p.sme_pays_minor),
        institute_pays => m(p.institute_pays_minor),
        subsidy => m(p.subsidy_minor),
        subsidy_capped => if p.subsidy_capped_minor > 0 { m(p.subsidy_capped_minor) } else { String::new() },
        deductible => major(cur, &p.deductible),
        paid_out => m(p.paid_out_minor),
        incurred => m(p.incurred_minor),
        remaining => m(p.coverage_remaining_minor),
        claims,
    }
}

/// The risk a party files claims for: the enterprise's failure, the institute's non-payment.
fn claim_risk(side: Role) -> Risk {
    match side {
        Role::Institute => Risk::NonPayment,
        _ => Risk::ImplementationFailure,
    }
}

fn cover_context(
    visitor: &Visitor,
    actor: &Actor,
    cover: &Cover,
    choice: Again<ChoiceForm>,
    claim: Again<ClaimForm>,
) -> Value {
    let lang = visitor.lang;
    let a = &cover.agreement;
    let agreement = context! { id => a.id.clone(), number => a.number.clone() };
    let side = side(actor, a);
    let chosen = match (&cover.choice, &cover.product) {
        (Some(c), Some(p)) => {
            let cur = Currency::parse(&c.currency);
            context! {
                product => product_view(lang, p),
                coverage => cur.map(|cur| format::money(cur, c.coverage_minor)).unwrap_or_default(),
                by => if c.chosen_by_org == a.sme_id { "sme" } else { "institute" },
            }
        }
        (None, Some(p)) => context! { product => product_view(lang, p), coverage => "", by => "" },
        _ => Value::from(()),
    };
    let policies: Vec<Value> = cover
        .policies
        .iter()
        .map(|p| policy_view(lang, &a.sme_id, &a.institute_id, p))
        .collect();
    let products: Vec<Value> = cover
        .products
        .iter()
        .map(|p| product_view(lang, p))
        .collect();
    let (choose, choose_errors) = choice.unwrap_or_else(|| {
        (
            ChoiceForm {
                version: a.version.to_string(),
                ..ChoiceForm::default()
            },
            BTreeMap::new(),
        )
    });
    let choose = context! {
        product_id => choose.product_id, coverage => choose.coverage, version => choose.version,
        errors => every_field(&["product_id", "coverage"], choose_errors),
    };
    // A party files a claim for its own risk while a policy covering it is bound.
    let risk = side.map(claim_risk);
    let can_claim = risk.is_some_and(|r| {
        cover
            .policies
            .iter()
            .any(|p| p.status == "bound" && p.risks.iter().any(|x| x == r.as_str()))
    });
    let (claim, claim_errors) = claim.unwrap_or_default();
    let claim = context! {
        risk => risk.map(Risk::as_str).unwrap_or_default(),
        amount => claim.amount, reason => claim.reason, evidence => claim.evidence,
        errors => every_field(&["amount", "reason", "evidence"], claim_errors),
    };
    context! {
        agreement, tab => "cover",
        required => cover.insurance_required,
        chosen, policies, products, choose,
        can_claim, claim,
    }
}

async fn choose_product(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<ChoiceForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let id = id.into_inner();
    let back = format!("/agreements/{id}/cover");
    let Ok(expected) = form.version.trim().parse::<i64>() else {
        return visitor.failure(&state, AppError::PreconditionRequired, &back);
    };
    let errors = match form.product_id.trim() {
        "" => vec![FieldError::new("product_id", "required")],
        _ => Vec::new(),
    };
    let done = match errors.is_empty() {
        false => Err(AppError::Validation(errors)),
        true => {
            let (who, at) = (actor.clone(), id.clone());
            let product = form.product_id.trim().to_string();
            let coverage = Some(form.coverage.trim().to_string()).filter(|c| !c.is_empty());
            blocking(&state, move |st| {
                crate::app::insurance::choose_product(
                    st,
                    &who,
                    &at,
                    expected,
                    &product,
                    coverage.as_deref(),
                )
            })
            .await
        }
    };
    match done {
        Ok(_) => see_other(&back),
        Err(AppError::Validation(errors)) => {
            let errors = messages(
                &visitor,
                &state,
                &errors,
                "money.choose.error",
                &["product_id", "coverage"],
                &[],
            );
            show_cover(&state, &visitor, actor, id, 422, Some((form, errors)), None).await
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

async fn file_claim(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<ClaimForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", context! {});
    };
    let id = id.into_inner();
    let back = format!("/agreements/{id}/cover");
    let input = ClaimInput {
        agreement_id: id.clone(),
        risk: form.risk.trim().to_string(),
        amount: form.amount.trim().to_string(),
        reason: form.reason.clone(),
        evidence: form.evidence.clone(),
    };
    let who = actor.clone();
    let done = blocking(&state, move |st| {
        crate::app::insurance::file_claim(st, &who, &input)
    })
    .await;
    match done {
        Ok(_) => see_other(&back),
        // The agreement named by the path, not a field: one the visitor may not see.
        Err(AppError::Validation(errors)) if errors.iter().any(|e| e.field == "agreement_id") => {
            visitor.failure(&state, AppError::NotFound, "")
        }
        Err(AppError::Validation(errors)) => {
            let errors = messages(
                &visitor,
                &state,
                &errors,
                "money.claim.error",
                &["amount", "reason", "evidence"],
                &[],
            );
            show_cover(&state, &visitor, actor, id, 422, None, Some((form, errors))).await
        }
        Err(e) => visitor.failure(&state, e, &back),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::{i18n, Pages};

    fn errors(fields: &[&str], bad: &str) -> BTreeMap<String, String> {
        let mut e = BTreeMap::new();
        e.insert(bad.to_string(), "Sai <giá trị>".to_string());
        every_field(fields, e)
    }

    /// Every page of the group sets in both languages, with every kind, state and reason the
    /// words are looked up by, and what a person typed is escaped.
    #[test]
    fn every_page_sets_in_both_languages() {
        let pages = Pages::load().unwrap();
        let agreement = context! { id => "a1", number => "UF-2026-000001" };
        for lang in i18n::LANGS {
            let frame = context! { lang, csrf => "x", path => "/agreements/a1/money",
            user => context! { display_name => "Lê Thị Hoa", role => "institute", email => "" } };
            let before = pages
                .render(
                    "money/payments.html",
                    minijinja::value::merge_maps([
                        frame.clone(),
                        context! { agreement => agreement.clone(), tab => "money",
                        converted => false, status => "active" },
                    ]),
                )
                .unwrap();
            assert!(before.contains("aria-current=\"page\""), "{before}");
            let lines: Vec<Value> = ["lump_sum", "entry_fee", "installment", "royalty", "true_up"]
                .iter()
                .enumerate()
                .map(|(i, kind)| {
                    context! { number => i + 1, kind => *kind, due => "31/05/2026",
                    amount => "US$3,000.00", paid => "US$0.00", outstanding => "US$3,000.00",
                    overdue => i % 2 == 0, settled => i == 1, interest => "US$1.00", held => i == 3 }
                })
                .collect();
            let totals = context! { amount => "US$12,000.00", paid => "US$0.00",
            outstanding => "US$12,000.00", overdue => "US$3,000.00", interest => "US$1.00" };
            let rows: Vec<Value> = ["institute", "inventors", "intermediary"]
                .iter()
                .map(|who| context! { who => *who, amount => "US$1.00" })
                .collect();
            let page = pages
                .render(
                    "money/payments.html",
                    minijinja::value::merge_maps([
                        frame.clone(),
                        context! {
                            agreement => agreement.clone(), tab => "money", converted => true,
                            waiting => "registration",
                            registration => context! {
                                shown => true, status => "pending", jurisdiction => "cn", required => true,
                                reason => "always", signed_on => "20/03/2026", deadline => "18/06/2026",
                                days_left => 5, takes_effect => true, certificate_number => "",
                                certificate_date => "", issuing_office => "", vat_exemption_ref => "",
                                form01 => true, can_enter => true,
                                form => context! { certificate_number => "<GCN>", certificate_date => "",
                                    issuing_office => "", vat_exemption_ref => "" },
                                errors => errors(&CERTIFICATE_FIELDS, "certificate_date"),
                            },
                            status => "converted", currency => "USD", as_of => "20/03/2026",
                            converted_on => "20/03/2026", lines, totals,
                            payments => vec![context! { date => "20/03/2026", amount => "US$1.00", reference => "<CK-1>" }],
                            can_record => true, settled => false,
                            pay => context! { amount => "3000,5", received_on => "2026-03-20",
                                reference => "CK-2", version => "4",
                                errors => errors(&["amount", "received_on", "reference"], "amount") },
                            royalty => true, royalty_rate => "3,5%", can_report => true,
                            quarters => vec![context! { value => "2026-04-01", label => "Q2" }],
                            reports => vec![context! { period => "Q1", net_sales => "1", royalty => "1", line => 5 }],
                            sales => context! { period_start => "2026-04-01", net_sales => "12.5",
                                errors => errors(&["period_start", "net_sales"], "net_sales") },
                            distribution => context! { shown => true, rows, total => "US$3.00" },
                        },
                    ]),
                )
                .unwrap();
            assert!(page.contains("&lt;CK-1&gt;") && page.contains("Sai &lt;giá trị&gt;"));
            assert!(page.contains("value=\"3000,5\"") && page.contains("aria-invalid=\"true\""));
            let product = context! { id => "p1", name => "Bảo hiểm <dùng thử>",
            risks => vec!["implementation_failure", "non_payment"], premium_rate => "1,5%",
            max_coverage => "US$10,000.00", deductible => "US$500.00", share_sme => "30%",
            share_institute => "20%", share_subsidy => "50%" };
            let policies: Vec<Value> = [
                ("bound", ""),
                ("ended", "declined"),
                ("ended", "lapsed"),
                ("ended", "terminated"),
                ("ended", "converted"),
                ("ended", "schedule_paid"),
            ]
            .iter()
            .map(|(status, reason)| {
                let claims: Vec<Value> = ["filed", "approved", "rejected", "withdrawn", "paid"]
                    .iter()
                    .zip(["sme", "institute", "other", "sme", "sme"])
                    .map(|(status, by)| {
                        context! { number => "CL-2026-000001",
                        risk => "non_payment", by, filed => "01/04/2026", amount => "US$1.00",
                        status => *status, payout => "", decision => "", reason => "x" }
                    })
                    .collect();
                context! { status => *status, ended_reason => *reason,
                risks => vec!["implementation_failure"], coverage => "US$1.00",
                premium_rate => "1,5%", premium => "US$1.00", sme_pays => "US$1.00",
                institute_pays => "US$1.00", subsidy => "US$1.00",
                subsidy_capped => "US$1.00", deductible => "US$1.00",
                paid_out => "US$1.00", incurred => "US$1.00", remaining => "US$1.00",
                claims }
            })
            .collect();
            for (chosen, products, required) in [
                (
                    context! { product => product.clone(), coverage => "US$8,000.00", by => "sme" },
                    vec![],
                    true,
                ),
                (Value::from(()), vec![product.clone()], true),
                (Value::from(()), vec![], true),
                (Value::from(()), vec![], false),
            ] {
                let page = pages
                    .render(
                        "money/cover.html",
                        minijinja::value::merge_maps([
                            frame.clone(),
                            context! {
                                agreement => agreement.clone(), tab => "cover", required,
                                chosen, policies => policies.clone(), products,
                                choose => context! { product_id => "p1", coverage => "",
                                    version => "3", errors => errors(&["product_id", "coverage"], "coverage") },
                                can_claim => true,
                                claim => context! { risk => "implementation_failure",
                                    amount => "abc", reason => "", evidence => "",
                                    errors => errors(&["amount", "reason", "evidence"], "amount") },
                            },
                        ]),
                    )
                    .unwrap();
                assert!(page.contains("value=\"abc\""), "{page}");
                assert!(!page.contains("<dùng thử>"));
            }
        }
    }

    #[test]
    fn quarters_open_to_report_are_the_finished_unreported_ones_since_conversion() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let q = open_quarters(d("2026-03-04"), d("2026-10-02"), &[d("2026-04-01")]);
        assert_eq!(
            q,
            [
                (d("2026-07-01"), d("2026-09-30")),
                (d("2026-01-01"), d("2026-03-31"))
            ]
        );
        assert!(open_quarters(d("2026-03-04"), d("2026-03-31"), &[]).is_empty());
    }
}
