//! The insurer's view: the agreements it covers, with what an insurer needs (the parties'
//! organisations and contact addresses, the technology, the dates, the cover, the premium and
//! the claims) and nothing about the people who use usefirst; and the figures of its
//! dashboard. Insurers see only their own; admins and auditors see every insured agreement.

use std::collections::BTreeMap;

use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::agreements::model::AgreementRow;
use crate::auth::session::Actor;
use crate::db::schema::{
    agreements, insurance_claims, insurance_policies, organisations, technologies,
};
use crate::db::DbConn;
use crate::error::AppError;
use crate::insurance::claims::ClaimStatus;
use crate::insurance::cover;
use crate::insurance::{for_agreement, Risk};
use crate::rules::lifecycle::Status;
use crate::rules::roles::Role;
use crate::settlement::money::Currency;

pub use super::model::{
    check_viewer, CoveredAgreement, CoveredFilter, CoveredTechnology, CurrencyFigures, Dashboard,
    MonthFigures, MonthlySeries, Party,
};

fn party(conn: &mut DbConn, id: &str) -> Result<Party, AppError> {
    let (name, registration_no, province, contact_email): (String, String, String, String) =
        organisations::table
            .find(id)
            .select((
                organisations::name,
                organisations::registration_no,
                organisations::province,
                organisations::contact_email,
            ))
            .first(conn)?;
    Ok(Party {
        id: id.to_string(),
        name,
        registration_no,
        province,
        contact_email,
    })
}

fn covered(conn: &mut DbConn, row: AgreementRow) -> Result<CoveredAgreement, AppError> {
    let (title_vi, title_en, field): (String, String, String) = technologies::table
        .find(&row.technology_id)
        .select((
            technologies::title_vi,
            technologies::title_en,
            technologies::field,
        ))
        .first(conn)?;
    Ok(CoveredAgreement {
        institute: party(conn, &row.institute_id)?,
        sme: party(conn, &row.sme_id)?,
        technology: CoveredTechnology {
            id: row.technology_id.clone(),
            title_vi,
            title_en,
            field,
        },
        insurance_choice: cover::choice(conn, &row.id)?,
        policies: for_agreement(conn, &row.id)?,
        id: row.id,
        number: row.number,
        status: row.status,
        version: row.version,
        insurer_id: row.insurer_id,
        place_of_use: row.place_of_use,
        requested_start: row.requested_start,
        trial_start: row.trial_start,
        trial_end: row.trial_end,
        decision_deadline: row.decision_deadline,
    })
}

/// Agreement `row` as `actor` sees it covered (404 when `actor` does not cover it).
pub fn get(
    conn: &mut DbConn,
    actor: &Actor,
    row: AgreementRow,
) -> Result<CoveredAgreement, AppError> {
    check_viewer(actor)?;
    let named = match actor.role {
        Role::Insurer => row.insurer_id.as_deref() == Some(actor.organisation_id.as_str()),
        _ => row.insurer_id.is_some(),
    };
    // Covered: awaiting the parties' signatures on its cover, or with a policy bound.
    let sees = named
        && (row.status == Status::Approved.as_str() || {
            let mut q = insurance_policies::table
                .filter(insurance_policies::agreement_id.eq(&row.id))
                .into_boxed();
            if actor.role == Role::Insurer {
                q = q.filter(insurance_policies::insurer_id.eq(actor.organisation_id.clone()));
            }
            q.count().get_result::<i64>(conn)? > 0
        });
    if !sees {
        return Err(AppError::NotFound);
    }
    covered(conn, row)
}

/// The agreements whose cover includes `risk`: a bound policy with it, or (before binding)
/// the exact product version chosen.
fn covering(conn: &mut DbConn, risk: Risk) -> Result<Vec<String>, AppError> {
    use crate::db::schema::{agreement_insurance, insurance_products};
    let pattern = format!("%{}%", risk.as_str());
    let mut ids: Vec<String> = insurance_policies::table
        .filter(insurance_policies::risks.like(pattern.clone()))
        .select(insurance_policies::agreement_id)
        .load(conn)?;
    let versions: Vec<(String, i32)> = insurance_products::table
        .filter(insurance_products::risks.like(pattern))
        .select((insurance_products::id, insurance_products::version))
        .load(conn)?;
    let product_ids: Vec<&String> = versions.iter().map(|(id, _)| id).collect();
    let chosen: Vec<(String, String, i32)> = agreement_insurance::table
        .filter(agreement_insurance::product_id.eq_any(product_ids))
        .select((
            agreement_insurance::agreement_id,
            agreement_insurance::product_id,
            agreement_insurance::product_version,
        ))
        .load(conn)?;
    ids.extend(
        chosen
            .into_iter()
            .filter(|(_, p, v)| versions.iter().any(|(id, ver)| id == p && ver == v))
            .map(|(a, _, _)| a),
    );
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Agreements covered by `insurer` (by any insurer when `None`): awaiting the parties'
/// signatures on the cover chosen at approval, or with a policy bound.
fn covered_by(
    insurer: Option<&str>,
) -> Box<
    dyn BoxableExpression<
        agreements::table,
        <DbConn as diesel::Connection>::Backend,
        SqlType = diesel::sql_types::Bool,
    >,
> {
    let approved = agreements::status.eq(Status::Approved.as_str());
    match insurer {
        Some(ins) => Box::new(
            approved.or(agreements::id.eq_any(
                insurance_policies::table
                    .filter(insurance_policies::insurer_id.eq(ins.to_string()))
                    .select(insurance_policies::agreement_id),
            )),
        ),
        None => Box::new(
            approved.or(agreements::id
                .eq_any(insurance_policies::table.select(insurance_policies::agreement_id))),
        ),
    }
}

/// A page of the agreements `actor` covers, newest first, and the total.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &CoveredFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CoveredAgreement>, i64), AppError> {
    check_viewer(actor)?;
    let risk_ids = match filter.risk {
        Some(r) => Some(covering(conn, r)?),
        None => None,
    };
    let filtered = || {
        let mut q = agreements::table.into_boxed();
        let insurer = match actor.role {
            Role::Insurer => Some(actor.organisation_id.clone()),
            _ => filter.insurer_id.clone(),
        };
        q = match &insurer {
            Some(ins) => q.filter(agreements::insurer_id.eq(ins.clone())),
            None => q.filter(agreements::insurer_id.is_not_null()),
        };
        q = q.filter(covered_by(insurer.as_deref()));
        if let Some(s) = filter.status {
            q = q.filter(agreements::status.eq(s.as_str()));
        }
        if let Some(i) = &filter.institute_id {
            q = q.filter(agreements::institute_id.eq(i.clone()));
        }
        if let Some(p) = &filter.province {
            q = q.filter(
                agreements::sme_id.eq_any(
                    organisations::table
                        .filter(organisations::province.eq(p.clone()))
                        .select(organisations::id),
                ),
            );
        }
        if let Some(from) = filter.from {
            q = q.filter(
                agreements::trial_start.ge(from).or(agreements::trial_start
                    .is_null()
                    .and(agreements::requested_start.ge(from))),
            );
        }
        if let Some(to) = filter.to {
            q = q.filter(
                agreements::trial_start.le(to).or(agreements::trial_start
                    .is_null()
                    .and(agreements::requested_start.le(to))),
            );
        }
        if let Some(ids) = &risk_ids {
            q = q.filter(agreements::id.eq_any(ids.clone()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<AgreementRow> = filtered()
        .order((agreements::created_at.desc(), agreements::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(AgreementRow::as_select())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|r| covered(conn, r))
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// The dashboard of `actor`'s insurer (or of `insurer_id`, or all, for admins and auditors).
pub fn dashboard(
    conn: &mut DbConn,
    actor: &Actor,
    insurer_id: Option<&str>,
) -> Result<Dashboard, AppError> {
    check_viewer(actor)?;
    let insurer = match actor.role {
        Role::Insurer => Some(actor.organisation_id.clone()),
        _ => insurer_id.map(str::to_string),
    };
    let mut by_status = agreements::table
        .group_by(agreements::status)
        .select((agreements::status, diesel::dsl::count_star()))
        .into_boxed();
    let mut pol = insurance_policies::table
        .select((
            insurance_policies::currency,
            insurance_policies::premium_minor,
            insurance_policies::subsidy_minor,
        ))
        .into_boxed();
    let mut cl = insurance_claims::table
        .select((
            insurance_claims::currency,
            insurance_claims::status,
            insurance_claims::amount_minor,
            insurance_claims::payout_minor,
        ))
        .into_boxed();
    by_status = by_status.filter(covered_by(insurer.as_deref()));
    match &insurer {
        Some(ins) => {
            by_status = by_status.filter(agreements::insurer_id.eq(ins.clone()));
            pol = pol.filter(insurance_policies::insurer_id.eq(ins.clone()));
            cl = cl.filter(insurance_claims::insurer_id.eq(ins.clone()));
        }
        None => by_status = by_status.filter(agreements::insurer_id.is_not_null()),
    }
    let statuses: Vec<(String, i64)> = by_status.load(conn)?;
    let policies: Vec<(String, i64, i64)> = pol.load(conn)?;
    let claims: Vec<(String, String, i64, Option<i64>)> = cl.load(conn)?;
    let overflow = || AppError::Internal(anyhow::anyhow!("dashboard sums overflow"));
    let add = |a: &mut i64, b: i64| -> Result<(), AppError> {
        *a = a.checked_add(b).ok_or_else(overflow)?;
        Ok(())
    };
    let mut figures: BTreeMap<String, CurrencyFigures> = BTreeMap::new();
    let entry = |figures: &mut BTreeMap<String, CurrencyFigures>, cur: &str| {
        figures
            .entry(cur.to_string())
            .or_insert_with(|| CurrencyFigures {
                currency: cur.to_string(),
                ..Default::default()
            });
    };
    for (cur, premium, subsidy) in policies {
        entry(&mut figures, &cur);
        let f = figures.get_mut(&cur).ok_or_else(overflow)?;
        f.policies += 1;
        add(&mut f.premiums_written_minor, premium)?;
        add(&mut f.subsidy_minor, subsidy)?;
    }
    for (cur, status, amount, payout) in claims {
        entry(&mut figures, &cur);
        let f = figures.get_mut(&cur).ok_or_else(overflow)?;
        f.claims_filed += 1;
        add(&mut f.claimed_minor, amount)?;
        match ClaimStatus::parse(&status) {
            Some(ClaimStatus::Approved) => {
                f.claims_approved += 1;
                add(&mut f.incurred_minor, payout.unwrap_or(0))?;
            }
            Some(ClaimStatus::Paid) => {
                f.claims_approved += 1;
                f.claims_paid += 1;
                add(&mut f.incurred_minor, payout.unwrap_or(0))?;
                add(&mut f.paid_out_minor, payout.unwrap_or(0))?;
            }
            Some(ClaimStatus::Rejected) => f.claims_rejected += 1,
            _ => {}
        }
    }
    let mut by_currency = Vec::new();
    for (code, mut f) in figures {
        let cur = Currency::parse(&code)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown currency {code}")))?;
        f.premiums_written = cur.format_amount(f.premiums_written_minor);
        f.subsidy = cur.format_amount(f.subsidy_minor);
        f.claimed = cur.format_amount(f.claimed_minor);
        f.paid_out = cur.format_amount(f.paid_out_minor);
        f.incurred = cur.format_amount(f.incurred_minor);
        f.loss_ratio = (f.premiums_written_minor > 0).then(|| {
            (Decimal::from(f.incurred_minor) / Decimal::from(f.premiums_written_minor))
                .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .to_string()
        });
        by_currency.push(f);
    }
    let covered_total = statuses.iter().map(|(_, n)| n).sum();
    Ok(Dashboard {
        insurer_id: insurer,
        covered_by_status: statuses.into_iter().collect(),
        covered_total,
        by_currency,
    })
}

/// Whose figures `actor` sees: its own insurer's, or (admins and auditors) `insurer_id`'s or
/// every insurer's.
fn whose(actor: &Actor, insurer_id: Option<&str>) -> Result<Option<String>, AppError> {
    check_viewer(actor)?;
    Ok(match actor.role {
        Role::Insurer => Some(actor.organisation_id.clone()),
        _ => insurer_id.map(str::to_string),
    })
}

/// What the insurer's list can be filtered by: the institutes (id, name) and the SMEs'
/// provinces.
pub type FilterChoices = (Vec<(String, String)>, Vec<String>);

/// What the insurer's list can be filtered by: the institutes of the agreements it covers
/// (id, name), and the provinces of their SMEs, each sorted by name.
pub fn filter_choices(conn: &mut DbConn, actor: &Actor) -> Result<FilterChoices, AppError> {
    let insurer = whose(actor, None)?;
    let mut q = agreements::table
        .filter(covered_by(insurer.as_deref()))
        .into_boxed();
    q = match &insurer {
        Some(ins) => q.filter(agreements::insurer_id.eq(ins.clone())),
        None => q.filter(agreements::insurer_id.is_not_null()),
    };
    let pairs: Vec<(String, String)> = q
        .select((agreements::institute_id, agreements::sme_id))
        .distinct()
        .load(conn)?;
    let institutes: Vec<&String> = pairs.iter().map(|(i, _)| i).collect();
    let smes: Vec<&String> = pairs.iter().map(|(_, s)| s).collect();
    let mut named: Vec<(String, String)> = organisations::table
        .filter(organisations::id.eq_any(institutes))
        .select((organisations::id, organisations::name))
        .load(conn)?;
    named.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut provinces: Vec<String> = organisations::table
        .filter(organisations::id.eq_any(smes))
        .select(organisations::province)
        .distinct()
        .load(conn)?;
    provinces.sort();
    Ok((named, provinces))
}

/// The insurer's figures for the `months` calendar months from `first` (a month's first
/// day), month by month and per currency, the months read in `tz`.
pub fn monthly(
    conn: &mut DbConn,
    actor: &Actor,
    insurer_id: Option<&str>,
    first: chrono::NaiveDate,
    months: u32,
    tz: chrono_tz::Tz,
) -> Result<Vec<MonthlySeries>, AppError> {
    use chrono::NaiveDateTime;
    let insurer = whose(actor, insurer_id)?;
    let mut pol = insurance_policies::table
        .select((
            insurance_policies::id,
            insurance_policies::currency,
            insurance_policies::coverage_minor,
            insurance_policies::premium_minor,
            insurance_policies::bound_at,
            insurance_policies::ended_at,
        ))
        .into_boxed();
    let mut cl = insurance_claims::table
        .filter(
            insurance_claims::status
                .eq_any([ClaimStatus::Approved.as_str(), ClaimStatus::Paid.as_str()]),
        )
        .select((
            insurance_claims::policy_id,
            insurance_claims::payout_minor,
            insurance_claims::decided_at,
            insurance_claims::paid_at,
        ))
        .into_boxed();
    if let Some(ins) = &insurer {
        pol = pol.filter(insurance_policies::insurer_id.eq(ins.clone()));
        cl = cl.filter(insurance_claims::insurer_id.eq(ins.clone()));
    }
    type PolicyFacts = (
        String,
        String,
        i64,
        i64,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let policies: Vec<PolicyFacts> = pol.load(conn)?;
    type ClaimFacts = (
        String,
        Option<i64>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let claims: Vec<ClaimFacts> = cl.load(conn)?;
    // Each month's first instant (UTC), and the next month's: [start, end).
    let local_start = |day: chrono::NaiveDate| -> Result<NaiveDateTime, AppError> {
        use chrono::TimeZone;
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        tz.from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.naive_utc())
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no midnight on {day} in {tz}")))
    };
    let mut bounds = Vec::new();
    for i in 0..months {
        let start = first
            .checked_add_months(chrono::Months::new(i))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("month out of range")))?;
        let next = first
            .checked_add_months(chrono::Months::new(i + 1))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("month out of range")))?;
        bounds.push((start, local_start(start)?, local_start(next)?));
    }
    let overflow = || AppError::Internal(anyhow::anyhow!("monthly sums overflow"));
    let add = |a: &mut i64, b: i64| -> Result<(), AppError> {
        *a = a.checked_add(b).ok_or_else(overflow)?;
        Ok(())
    };
    let currency_of: BTreeMap<&str, &str> = policies
        .iter()
        .map(|p| (p.0.as_str(), p.1.as_str()))
        .collect();
    let mut out = Vec::new();
    let mut currencies: Vec<&str> = policies.iter().map(|p| p.1.as_str()).collect();
    currencies.sort();
    currencies.dedup();
    for cur in currencies {
        let pols: Vec<&PolicyFacts> = policies.iter().filter(|p| p.1 == cur).collect();
        let cls: Vec<&ClaimFacts> = claims
            .iter()
            .filter(|c| currency_of.get(c.0.as_str()) == Some(&cur))
            .collect();
        let mut series = Vec::new();
        for (month, start, end) in &bounds {
            let within = |t: &NaiveDateTime| start <= t && t < end;
            let mut f = MonthFigures {
                month: *month,
                ..Default::default()
            };
            let (mut written, mut incurred_to_date) = (0i64, 0i64);
            for p in &pols {
                if within(&p.4) {
                    add(&mut f.premiums_minor, p.3)?;
                }
                if p.4 < *end {
                    add(&mut written, p.3)?;
                }
                let in_force = p.4 < *end && p.5.is_none_or(|ended| ended >= *end);
                if in_force {
                    let approved: i64 = cls
                        .iter()
                        .filter(|c| c.0 == p.0 && c.2.is_some_and(|d| d < *end))
                        .filter_map(|c| c.1)
                        .try_fold(0i64, i64::checked_add)
                        .ok_or_else(overflow)?;
                    add(&mut f.exposure_minor, (p.2 - approved).max(0))?;
                }
            }
            for c in &cls {
                let pay = c.1.unwrap_or(0);
                if c.2.as_ref().is_some_and(within) {
                    add(&mut f.incurred_minor, pay)?;
                }
                if c.3.as_ref().is_some_and(within) {
                    add(&mut f.paid_minor, pay)?;
                }
                if c.2.is_some_and(|d| d < *end) {
                    add(&mut incurred_to_date, pay)?;
                }
            }
            f.loss_ratio = (written > 0).then(|| {
                (Decimal::from(incurred_to_date) / Decimal::from(written))
                    .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            });
            series.push(f);
        }
        out.push(MonthlySeries {
            currency: cur.to_string(),
            months: series,
        });
    }
    Ok(out)
}
