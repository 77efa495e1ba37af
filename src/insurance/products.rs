//! Insurance products as insurers define them: covered risks, premium rate, maximum coverage,
//! deductible, premium shares (SME / institute / public subsidy), an optional subsidy cap per
//! SME per calendar year and an active period. Every change writes a new version; a choice
//! made for an agreement, and the policy bound on it, keep the version they were made on.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::audit::{self, Who};
use crate::db::schema::insurance_products as products;
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::insurance::Risk;
use crate::settlement::money::{parse_rate, Currency};

pub use super::model::{Product, ProductInput, ProductRow, SharesText};

/// A checked input, canonical and in minor units.
struct Checked {
    name_vi: String,
    name_en: String,
    risks: String,
    currency: &'static str,
    premium_rate: String,
    max_coverage_minor: i64,
    deductible_minor: i64,
    shares: [String; 3],
    subsidy_cap_minor: Option<i64>,
    active_from: NaiveDate,
    active_until: Option<NaiveDate>,
}

/// Checks every field of `input`; the errors name each field at fault.
fn check(input: &ProductInput) -> Result<Checked, AppError> {
    let mut errors = Vec::new();
    let mut err = |field: &str, msg: String| errors.push(FieldError::new(field, msg));
    for (field, text) in [("name.vi", &input.name.vi), ("name.en", &input.name.en)] {
        let len = text.trim().chars().count();
        if len == 0 || len > 200 {
            err(field, "must be 1 to 200 characters".into());
        }
    }
    let mut risks: Vec<Risk> = Vec::new();
    for (i, text) in input.risks.iter().enumerate() {
        match Risk::parse(text) {
            Some(r) if risks.contains(&r) => err(&format!("risks[{i}]"), "is named twice".into()),
            Some(r) => risks.push(r),
            None => err(
                &format!("risks[{i}]"),
                "must be implementation_failure or non_payment".into(),
            ),
        }
    }
    if input.risks.is_empty() {
        err("risks", "a product covers at least one risk".into());
    }
    risks.sort_by_key(|r| r.as_str());
    let currency = Currency::parse(&input.currency);
    if currency.is_none() {
        err("currency", "must be one of VND, CNY, USD, EUR".into());
    }
    let rate = |field: &str, text: &str, err: &mut dyn FnMut(&str, String)| match parse_rate(text) {
        Ok(v) => Some(v),
        Err(e) => {
            err(field, e);
            None
        }
    };
    let premium_rate = rate("premium_rate", &input.premium_rate, &mut err);
    if premium_rate.is_some_and(|r| r.is_zero()) {
        err("premium_rate", "must be more than 0".into());
    }
    let shares = [
        ("shares.sme", &input.shares.sme),
        ("shares.institute", &input.shares.institute),
        ("shares.subsidy", &input.shares.subsidy),
    ]
    .map(|(field, text)| rate(field, text, &mut err));
    if let [Some(a), Some(b), Some(c)] = shares {
        if a + b + c != Decimal::ONE {
            err("shares", "must sum to exactly 1".into());
        }
    }
    let mut amount = |field: &str, text: &str| -> Option<i64> {
        let cur = currency?;
        match cur.parse_amount(text) {
            Ok(v) => Some(v),
            Err(e) => {
                err(field, e);
                None
            }
        }
    };
    let max_coverage = amount("max_coverage", &input.max_coverage);
    let deductible = amount("deductible", &input.deductible);
    let subsidy_cap = match &input.subsidy_cap {
        Some(text) => amount("subsidy_cap", text).map(Some),
        None => Some(None),
    };
    if max_coverage == Some(0) {
        err("max_coverage", "must be more than 0".into());
    }
    if let (Some(max), Some(ded)) = (max_coverage, deductible) {
        if ded >= max && max > 0 {
            err(
                "deductible",
                "must be less than the maximum coverage".into(),
            );
        }
    }
    if input.active_until.is_some_and(|u| u < input.active_from) {
        err("active_until", "must not be before active_from".into());
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // Every value is present once there are no errors.
    let missing = || AppError::Internal(anyhow::anyhow!("checked product lost a value"));
    let [sme, institute, subsidy] = shares;
    Ok(Checked {
        name_vi: input.name.vi.trim().to_string(),
        name_en: input.name.en.trim().to_string(),
        risks: risks
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(","),
        currency: currency.ok_or_else(missing)?.code,
        premium_rate: premium_rate.ok_or_else(missing)?.to_string(),
        max_coverage_minor: max_coverage.ok_or_else(missing)?,
        deductible_minor: deductible.ok_or_else(missing)?,
        shares: [
            sme.ok_or_else(missing)?.to_string(),
            institute.ok_or_else(missing)?.to_string(),
            subsidy.ok_or_else(missing)?.to_string(),
        ],
        subsidy_cap_minor: subsidy_cap.ok_or_else(missing)?,
        active_from: input.active_from,
        active_until: input.active_until,
    })
}

fn insert(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    id: &str,
    version: i32,
    insurer_id: &str,
    c: &Checked,
) -> QueryResult<usize> {
    diesel::insert_into(products::table)
        .values((
            products::id.eq(id),
            products::version.eq(version),
            products::insurer_id.eq(insurer_id),
            products::name_vi.eq(&c.name_vi),
            products::name_en.eq(&c.name_en),
            products::risks.eq(&c.risks),
            products::currency.eq(c.currency),
            products::premium_rate.eq(&c.premium_rate),
            products::max_coverage_minor.eq(c.max_coverage_minor),
            products::deductible_minor.eq(c.deductible_minor),
            products::share_sme.eq(&c.shares[0]),
            products::share_institute.eq(&c.shares[1]),
            products::share_subsidy.eq(&c.shares[2]),
            products::subsidy_cap_minor.eq(c.subsidy_cap_minor),
            products::active_from.eq(c.active_from),
            products::active_until.eq(c.active_until),
            products::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)
}

fn audit_event(c: &Checked, version: i32) -> serde_json::Value {
    serde_json::json!({"after": {
        "version": version, "name_vi": c.name_vi, "name_en": c.name_en, "risks": c.risks,
        "currency": c.currency, "premium_rate": c.premium_rate,
        "max_coverage_minor": c.max_coverage_minor, "deductible_minor": c.deductible_minor,
        "share_sme": c.shares[0], "share_institute": c.shares[1], "share_subsidy": c.shares[2],
        "subsidy_cap_minor": c.subsidy_cap_minor, "active_from": c.active_from,
        "active_until": c.active_until,
    }})
}

/// Defines a product of `insurer_id` (version 1), with its audit event.
pub fn create(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    insurer_id: &str,
    input: &ProductInput,
) -> Result<Product, AppError> {
    let checked = check(input)?;
    let id = uuid::Uuid::now_v7().to_string();
    insert(conn, now, &id, 1, insurer_id, &checked)?;
    audit::append(
        conn,
        now,
        who,
        "insurance.product_created",
        "insurance_product",
        &id,
        &audit_event(&checked, 1),
    )?;
    version(conn, &id, 1)?.ok_or(AppError::NotFound)?.view()
}

/// Writes the next version of product `id` (of `insurer_id`), if it is still at `expected`.
pub fn revise(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    insurer_id: &str,
    id: &str,
    expected: i64,
    input: &ProductInput,
) -> Result<Product, AppError> {
    let current = current(conn, id)?
        .filter(|p| p.insurer_id == insurer_id)
        .ok_or(AppError::NotFound)?;
    if i64::from(current.version) != expected {
        return Err(AppError::PreconditionFailed {
            expected: expected.to_string(),
            current: current.version.into(),
        });
    }
    let checked = check(input)?;
    let next = current.version + 1;
    // Two revisions racing: the primary key (id, version) lets exactly one write `next`.
    if let Err(e) = insert(conn, now, id, next, insurer_id, &checked) {
        return Err(match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => AppError::PreconditionFailed {
                expected: expected.to_string(),
                current: next.into(),
            },
            e => e.into(),
        });
    }
    audit::append(
        conn,
        now,
        who,
        "insurance.product_revised",
        "insurance_product",
        id,
        &audit_event(&checked, next),
    )?;
    version(conn, id, next)?.ok_or(AppError::NotFound)?.view()
}

/// The latest version of product `id`.
pub fn current(conn: &mut DbConn, id: &str) -> QueryResult<Option<ProductRow>> {
    products::table
        .filter(products::id.eq(id))
        .order(products::version.desc())
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}

/// Version `v` of product `id`.
pub fn version(conn: &mut DbConn, id: &str, v: i32) -> QueryResult<Option<ProductRow>> {
    products::table
        .find((id, v))
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}

/// Whether `actor` may see `row`: its insurer, admins and auditors always; everyone else
/// while it is active (parties choose among active products).
pub fn visible(actor: &crate::auth::session::Actor, row: &ProductRow, today: NaiveDate) -> bool {
    actor.role.sees_everything() || row.insurer_id == actor.organisation_id || row.active_on(today)
}

/// Product `id` as `actor` may see it: its latest version, or version `wanted` (404 when the
/// product is not the actor's to see today, or has no such version).
pub fn get(
    conn: &mut DbConn,
    actor: &crate::auth::session::Actor,
    today: NaiveDate,
    id: &str,
    wanted: Option<i32>,
) -> Result<Product, AppError> {
    let current = current(conn, id)?.ok_or(AppError::NotFound)?;
    if !visible(actor, &current, today) {
        return Err(AppError::NotFound);
    }
    let row = match wanted {
        None => current,
        Some(v) => version(conn, id, v)?.ok_or(AppError::NotFound)?,
    };
    row.view()
}

/// The latest version of every product `actor` may see, filtered, by insurer and name.
pub fn list(
    conn: &mut DbConn,
    actor: &crate::auth::session::Actor,
    today: NaiveDate,
    insurer_id: Option<&str>,
    risk: Option<Risk>,
    currency: Option<&str>,
) -> Result<Vec<Product>, AppError> {
    let mut q = products::table.into_boxed();
    if let Some(ins) = insurer_id {
        q = q.filter(products::insurer_id.eq(ins.to_string()));
    }
    if let Some(cur) = currency {
        q = q.filter(products::currency.eq(cur.to_string()));
    }
    let rows: Vec<ProductRow> = q
        .order((products::id.asc(), products::version.desc()))
        .select(ProductRow::as_select())
        .load(conn)?;
    let mut out: Vec<ProductRow> = Vec::new();
    for row in rows {
        if out.last().is_some_and(|p| p.id == row.id) {
            continue; // an older version
        }
        out.push(row);
    }
    out.retain(|p| visible(actor, p, today) && risk.is_none_or(|r| p.risks().contains(&r)));
    out.sort_by(|a, b| (&a.insurer_id, &a.name_en).cmp(&(&b.insurer_id, &b.name_en)));
    out.into_iter().map(ProductRow::view).collect()
}

/// Every version of product `id`, newest first, for its insurer (404 for anyone else's).
pub fn history(
    conn: &mut DbConn,
    actor: &crate::auth::session::Actor,
    id: &str,
) -> Result<Vec<Product>, AppError> {
    let rows: Vec<ProductRow> = products::table
        .filter(products::id.eq(id))
        .order(products::version.desc())
        .select(ProductRow::as_select())
        .load(conn)?;
    if rows
        .first()
        .is_none_or(|r| r.insurer_id != actor.organisation_id)
    {
        return Err(AppError::NotFound);
    }
    rows.into_iter().map(ProductRow::view).collect()
}
