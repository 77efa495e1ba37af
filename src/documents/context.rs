//! The context a contract template renders with, composed from one agreement's [`Facts`]
//! (plain data, which `app::documents::load` reads from the parts): [`context`] writes them
//! for a document kind and language with exactly the fields of
//! [`super::templates::sample_context`].
//!
//! [`context`] is pure and never reads the clock: the same agreement state always gives the
//! same context, so the same document bytes. The few words documents need beside the
//! templates' own text (price models, term names, parties, risks) are in `words.rs`.

use chrono::{Days, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::words::{installment, ip_type, model, months, risk, transfer_method, Label};
use crate::agreements::model::AgreementRow;
use crate::settlement::money::{parse_rate, Currency};
use crate::settlement::terms::{Price, Terms};
use crate::typeset::format::{date, days, money, percent};

/// Everything a document shows about one agreement, as read from the database.
#[derive(Debug, Clone)]
pub struct Facts {
    pub agreement: AgreementRow,
    pub institute: Party,
    pub sme: Party,
    pub technology: Technology,
    /// The conversion terms: the agreement's snapshot once approved, before that the version
    /// the agreement references.
    pub terms: Terms,
    /// When the terms were fixed: the agreement's last approval, if any.
    pub approved_at: Option<NaiveDateTime>,
    /// The most recently bound insurance policy, if any.
    pub insurance: Option<Cover>,
    /// The conversion contract, once converted.
    pub contract: Option<Contract>,
    pub institute_signature: Option<Signature>,
    pub sme_signature: Option<Signature>,
    /// The conversion contract's registration, once its certificate is entered.
    pub registration: Option<Registered>,
}

/// A registered conversion contract's certificate, as the contract's later edition prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// `vn` or `cn`: whose register holds it, which names the number differently.
    pub jurisdiction: String,
    pub number: String,
    pub date: NaiveDate,
    pub office: String,
    /// China: the VAT-exemption reference the registration supports.
    pub vat_exemption_ref: Option<String>,
}

/// A party as documents name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Party {
    pub name: String,
    pub registration_no: String,
    pub province: String,
    pub contact_email: String,
}

impl From<crate::accounts::model::Organisation> for Party {
    fn from(o: crate::accounts::model::Organisation) -> Party {
        Party {
            name: o.name,
            registration_no: o.registration_no,
            province: o.province,
            contact_email: o.contact_email,
        }
    }
}

/// The technology as documents name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Technology {
    pub title_vi: String,
    pub title_en: String,
    pub field: String,
    pub ip_type: String,
    pub ip_reference: String,
}

/// An insurance policy's figures as documents show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// The insurer's name.
    pub insurer: String,
    /// `implementation_failure`, `non_payment`.
    pub risks: Vec<String>,
    pub currency: Currency,
    pub coverage_minor: i64,
    pub premium_minor: i64,
    pub sme_pays_minor: i64,
    pub institute_pays_minor: i64,
    pub subsidy_minor: i64,
}

/// A conversion contract and its schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub converted_on: NaiveDate,
    pub currency: Currency,
    /// Every schedule line, by number, including those added after conversion.
    pub lines: Vec<Line>,
}

/// One line of a contract's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: i32,
    /// `lump_sum`, `entry_fee`, `installment`; later `royalty`, `true_up`.
    pub kind: String,
    pub due: NaiveDate,
    pub amount_minor: i64,
}

/// One party's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The agreement's record of when the party signed (UTC).
    pub at: NaiveDateTime,
    /// The display name of the user who signed; empty when no signing event names one.
    pub by: String,
}

/// Schedule line kinds fixed at conversion. Royalty lines added by sales reports and true-ups
/// added when a contract year closes belong to the statement, not to the contract signed.
const CONTRACT_LINE_KINDS: [&str; 3] = ["lump_sum", "entry_fee", "installment"];

/// Days after the contract's date by which the institute hands the technology over.
pub const HANDOVER_DAYS: u64 = 30;

/// The context for rendering `kind` in `lang` from `facts`: the fields of
/// [`super::templates::sample_context`], written for `lang` by [`crate::typeset::format`];
/// `insurance`, `distribution` and `improvements` are null when there is no policy, no
/// distribution or no rule for improvements, and `registration` until a conversion contract's
/// certificate is entered (always in a trial agreement); `improvements.owner` is the code (`sme`,
/// `institute`, `joint`) the templates choose their clause by. `transfer.deadline` is
/// [`HANDOVER_DAYS`] after the conversion day (empty before conversion).
///
/// `doc.date`, the day the document is dated (never the clock):
/// - a conversion contract, once converted: the conversion day;
/// - otherwise (a trial agreement, or a contract before conversion), once both parties have signed: the day of the later signature (the day the
///   agreement was concluded);
/// - otherwise, once approved: the day the terms were fixed (the last approval);
/// - otherwise: the day the agreement last changed.
///
/// Every instant is written as its calendar day in the agreement's time zone.
pub fn context(facts: &Facts, kind: &str, lang: &str) -> Value {
    let row = &facts.agreement;
    let tz = row.tz();
    let terms = &facts.terms;
    let currency = Currency::parse(&terms.currency);
    let day = |d: NaiveDate| date(lang, d);
    let signed = |s: &Option<Signature>| match s {
        Some(s) => (s.by.clone(), day(local_day(s.at, tz))),
        None => (String::new(), String::new()),
    };

    let (start, end, deadline) = trial_dates(row, terms);
    let trial_days = match end {
        Some(e) => count_days((e - start).num_days() + 1),
        None => terms.trial_days,
    };
    let decision_days = match (end, deadline) {
        (Some(e), Some(d)) => count_days((d - e).num_days()),
        _ => terms.decision_days,
    };
    let optional_day = |d: Option<NaiveDate>| d.map(day).unwrap_or_default();

    let rows: Vec<Value> = terms_figures(terms)
        .into_iter()
        .map(|(label, figure)| {
            json!({"label": label.text(lang), "value": write_figure(figure, currency, lang)})
        })
        .collect();

    let insurance = facts.insurance.as_ref().map(|c| {
        let risks: Vec<&str> = c.risks.iter().map(|r| risk(r, lang)).collect();
        json!({
            "insurer": c.insurer,
            "risks": risks.join(if lang == "zh" { "、" } else { ", " }),
            "coverage": money(c.currency, c.coverage_minor),
            "premium": money(c.currency, c.premium_minor),
            "sme_pays": money(c.currency, c.sme_pays_minor),
            "institute_pays": money(c.currency, c.institute_pays_minor),
            "subsidy": money(c.currency, c.subsidy_minor),
        })
    });
    let share = |s: &str| write_figure(Figure::Rate(s), currency, lang);
    let distribution = terms.distribution.as_ref().map(|d| {
        json!({
            "institute": share(&d.institute),
            "inventors": share(&d.inventors),
            "intermediary": share(&d.intermediary),
        })
    });

    let contract = match &facts.contract {
        Some(c) => {
            let lines: Vec<&Line> = c
                .lines
                .iter()
                .filter(|l| CONTRACT_LINE_KINDS.contains(&l.kind.as_str()))
                .collect();
            let installments = lines.iter().filter(|l| l.kind == "installment").count();
            let mut nth = 0;
            let schedule: Vec<Value> = lines
                .iter()
                .map(|l| {
                    let item = match l.kind.as_str() {
                        "installment" => {
                            nth += 1;
                            installment(lang, nth, installments)
                        }
                        "entry_fee" => Label::EntryFee.text(lang).to_string(),
                        _ => Label::LumpSumItem.text(lang).to_string(),
                    };
                    json!({"due": day(l.due), "item": item, "amount": money(c.currency, l.amount_minor)})
                })
                .collect();
            json!({"converted_on": day(c.converted_on), "schedule": schedule})
        }
        None => json!({"converted_on": "", "schedule": []}),
    };
    let handover = facts
        .contract
        .as_ref()
        .and_then(|c| c.converted_on.checked_add_days(Days::new(HANDOVER_DAYS)));
    let improvements = terms
        .improvements
        .map(|i| json!({"owner": i.owner.code(), "licence_back": i.licence_back}));

    // Printed by the conversion contract only: the trial agreement was concluded before.
    let registration = facts
        .registration
        .as_ref()
        .filter(|_| kind == "conversion-contract")
        .map(|r| {
            json!({
                "jurisdiction": r.jurisdiction,
                "number": r.number,
                "date": day(r.date),
                "office": r.office,
                "vat_exemption_ref": r.vat_exemption_ref.clone().unwrap_or_default(),
            })
        });

    let tech = &facts.technology;
    // There is no Chinese title: Chinese documents use the English one.
    let title = if lang == "vi" {
        &tech.title_vi
    } else {
        &tech.title_en
    };
    let (institute_by, institute_at) = signed(&facts.institute_signature);
    let (sme_by, sme_at) = signed(&facts.sme_signature);

    json!({
        "doc": {
            "kind": kind,
            "lang": lang,
            "number": row.number,
            "terms_version": row.terms_version,
            "date": day(document_date(facts, kind)),
        },
        "institute": party(&facts.institute),
        "sme": party(&facts.sme),
        "technology": {
            "title": title,
            "field": tech.field,
            "ip_type": ip_type(&tech.ip_type, lang),
            "ip_reference": tech.ip_reference,
        },
        "trial": {
            "start": day(start),
            "end": optional_day(end),
            "days": days(lang, trial_days),
            "decision_days": days(lang, decision_days),
            "decision_deadline": optional_day(deadline),
            "place_of_use": row.place_of_use,
        },
        "terms": {
            "model": model(&terms.price).text(lang),
            "currency": terms.currency,
            "rows": rows,
        },
        "insurance": insurance,
        "distribution": distribution,
        "improvements": improvements,
        "contract": contract,
        "registration": registration,
        "transfer": {
            "method": transfer_method(&tech.ip_type, lang),
            "place": row.place_of_use,
            "deadline": optional_day(handover),
            "handover_days": days(lang, HANDOVER_DAYS as u32),
        },
        "signatures": [
            {"party": Label::PartyA.text(lang), "organisation": facts.institute.name,
             "signed_by": institute_by, "signed_at": institute_at},
            {"party": Label::PartyB.text(lang), "organisation": facts.sme.name,
             "signed_by": sme_by, "signed_at": sme_at},
        ],
    })
}

/// The day a document is dated; see [`context`].
pub fn document_date(facts: &Facts, kind: &str) -> NaiveDate {
    let tz = facts.agreement.tz();
    if kind == "conversion-contract" {
        if let Some(c) = &facts.contract {
            return c.converted_on;
        }
    }
    let concluded = match (&facts.institute_signature, &facts.sme_signature) {
        (Some(a), Some(b)) => Some(a.at.max(b.at)),
        _ => None,
    };
    let at = concluded
        .or(facts.approved_at)
        .unwrap_or(facts.agreement.updated_at);
    local_day(at, tz)
}

/// The calendar day of a UTC instant in `tz`.
fn local_day(at: NaiveDateTime, tz: Tz) -> NaiveDate {
    at.and_utc().with_timezone(&tz).date_naive()
}

/// Trial start, last day and decision deadline: the agreement's once approved; before that,
/// the ones approval on the requested start would give (none past the calendar's end).
fn trial_dates(
    row: &AgreementRow,
    terms: &Terms,
) -> (NaiveDate, Option<NaiveDate>, Option<NaiveDate>) {
    let after = |d: Option<NaiveDate>, n: u32| d?.checked_add_days(Days::new(u64::from(n)));
    let start = row.trial_start.unwrap_or(row.requested_start);
    let end = row
        .trial_end
        .or_else(|| after(Some(start), terms.trial_days.saturating_sub(1)));
    let deadline = row
        .decision_deadline
        .or_else(|| after(end, terms.decision_days));
    (start, end, deadline)
}

/// A day count from a date difference (never negative on a stored agreement).
fn count_days(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn party(p: &Party) -> Value {
    json!({
        "name": p.name,
        "registration_no": p.registration_no,
        "province": p.province,
        "contact_email": p.contact_email,
    })
}

/// One figure of the terms, before it is written in a language.
#[derive(Debug, Clone, Copy)]
enum Figure<'a> {
    /// Major units of the terms' currency, as stored ("1500000", "1500.00").
    Amount(&'a str),
    /// A rate between 0 and 1, as stored ("0.035").
    Rate(&'a str),
    Days(u32),
    Months(u32),
    Count(u32),
    YesNo(bool),
}

/// The rows of the terms table, in the order documents list them: the price model's amounts
/// and rates, then the trial and decision periods, the optional discount and late-payment
/// rate, and whether insurance is required.
fn terms_figures(terms: &Terms) -> Vec<(Label, Figure<'_>)> {
    use Figure as F;
    let mut rows = match &terms.price {
        Price::LumpSum { amount, due_days } => {
            vec![
                (Label::Price, F::Amount(amount)),
                (Label::PaymentDue, F::Days(*due_days)),
            ]
        }
        Price::Installments {
            total,
            count,
            interval_months,
            first_due_days,
        } => vec![
            (Label::Total, F::Amount(total)),
            (Label::Count, F::Count(*count)),
            (Label::Interval, F::Months(*interval_months)),
            (Label::FirstDue, F::Days(*first_due_days)),
        ],
        Price::Royalty { rate, min_per_year } => {
            let mut rows = vec![(Label::RoyaltyRate, F::Rate(rate))];
            rows.extend(
                min_per_year
                    .as_deref()
                    .map(|m| (Label::MinPerYear, F::Amount(m))),
            );
            rows
        }
        Price::EntryFeePlusRoyalty {
            entry_fee,
            due_days,
            rate,
            min_per_year,
        } => {
            let mut rows = vec![
                (Label::EntryFee, F::Amount(entry_fee)),
                (Label::PaymentDue, F::Days(*due_days)),
                (Label::RoyaltyRate, F::Rate(rate)),
            ];
            rows.extend(
                min_per_year
                    .as_deref()
                    .map(|m| (Label::MinPerYear, F::Amount(m))),
            );
            rows
        }
    };
    rows.push((Label::TrialPeriod, F::Days(terms.trial_days)));
    rows.push((Label::DecisionPeriod, F::Days(terms.decision_days)));
    if let Some(d) = &terms.early_conversion_discount {
        rows.push((Label::EarlyDiscount, F::Rate(d)));
    }
    if let Some(r) = &terms.late_payment_daily_rate {
        rows.push((Label::LateRate, F::Rate(r)));
    }
    rows.push((Label::InsuranceRequired, F::YesNo(terms.insurance_required)));
    rows
}

/// Checks that every amount and rate the documents write from `terms` can be read, so
/// [`context`] never falls back to a stored text (`app::documents::load` refuses facts that
/// fail it).
pub fn check_figures(terms: &Terms) -> Result<(), String> {
    let currency = Currency::parse(&terms.currency)
        .ok_or_else(|| format!("unknown currency {}", terms.currency))?;
    let shares = terms
        .distribution
        .iter()
        .flat_map(|d| [&d.institute, &d.inventors, &d.intermediary])
        .map(|s| Figure::Rate(s.as_str()));
    let figures = terms_figures(terms)
        .into_iter()
        .map(|(_, f)| f)
        .chain(shares);
    for figure in figures {
        match figure {
            Figure::Amount(text) => {
                currency
                    .parse_amount(text)
                    .map_err(|e| format!("{text:?} {e}"))?;
            }
            Figure::Rate(text) => {
                parse_rate(text).map_err(|e| format!("{text:?} {e}"))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A figure written for `lang`. An amount or rate that cannot be read (only possible for
/// facts not checked by [`check_figures`]) is written as stored.
fn write_figure(figure: Figure<'_>, currency: Option<Currency>, lang: &str) -> String {
    match figure {
        Figure::Amount(text) => currency
            .and_then(|c| c.parse_amount(text).ok().map(|minor| money(c, minor)))
            .unwrap_or_else(|| text.to_string()),
        Figure::Rate(text) => parse_rate(text)
            .map(|r| percent(lang, r))
            .unwrap_or_else(|_| text.to_string()),
        Figure::Days(n) => days(lang, n),
        Figure::Months(n) => months(lang, n),
        Figure::Count(n) => n.to_string(),
        Figure::YesNo(true) => Label::Yes.text(lang).to_string(),
        Figure::YesNo(false) => Label::No.text(lang).to_string(),
    }
}

#[cfg(test)]
#[path = "../../tests/support/json_shape.rs"]
mod json_shape;
#[cfg(test)]
mod tests;
