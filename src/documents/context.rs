//! The context a contract template renders with, built from one stored agreement: [`load`]
//! reads everything a document shows into [`Facts`] (plain data), and [`context`] writes it
//! for a document kind and language with exactly the fields of
//! [`super::templates::sample_context`].
//!
//! [`context`] is pure and never reads the clock: the same agreement state always gives the
//! same context, so the same document bytes. The few words documents need beside the
//! templates' own text (price models, term names, parties, risks) are in [`Label`].

use chrono::{Days, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::format::{date, days, money, percent};
use crate::agreements::model::AgreementRow;
use crate::db::schema::{conversion_contracts, organisations, schedule_lines, users};
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::lifecycle::Action;
use crate::settlement::money::{parse_rate, Currency};
use crate::settlement::terms::{Price, Terms};

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
}

/// A party as documents name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Party {
    pub name: String,
    pub registration_no: String,
    pub province: String,
    pub contact_email: String,
}

impl From<crate::accounts::Organisation> for Party {
    fn from(o: crate::accounts::Organisation) -> Party {
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

/// What the approval event recorded of the parties and the technology.
#[derive(Debug, serde::Deserialize)]
struct FixedAtApproval {
    institute: Party,
    sme: Party,
    technology: Technology,
}

/// Schedule line kinds fixed at conversion. Royalty lines added by sales reports and true-ups
/// added when a contract year closes belong to the statement, not to the contract signed.
const CONTRACT_LINE_KINDS: [&str; 3] = ["lump_sum", "entry_fee", "installment"];

/// Reads everything a document shows about `row`: its parties, technology, terms, insurance,
/// contract and signatures. Works inside or outside a transaction, on either backend.
pub fn load(conn: &mut DbConn, row: AgreementRow) -> Result<Facts, AppError> {
    let internal =
        |what: String| AppError::Internal(anyhow::anyhow!("agreement {}: {what}", row.id));

    let terms: Terms = match &row.terms_snapshot {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| internal(format!("terms snapshot unreadable: {e}")))?,
        None => {
            crate::technologies::terms_history(conn, &row.technology_id)?
                .into_iter()
                .find(|t| t.id == row.terms_id)
                .ok_or_else(|| internal(format!("terms {} not found", row.terms_id)))?
                .terms
        }
    };
    check_figures(&terms).map_err(|e| internal(format!("terms unreadable: {e}")))?;

    // Approval and signatures as the agreement's audit events record them (the transition
    // path appends `agreement.<action>` with the acting user and organisation). The approval
    // event holds the parties and the technology as they were when the terms were fixed.
    let events = crate::audit::for_entity(conn, "agreement", &row.id)?;
    let action = |a: Action| format!("agreement.{}", a.as_str());
    let (approve, sign) = (action(Action::Approve), action(Action::Sign));
    let approval = events.iter().rev().find(|e| e.action == approve);
    let approved_at = approval.map(|e| e.at);
    let fixed: Option<FixedAtApproval> = match approval {
        Some(e) => {
            let data: serde_json::Value = serde_json::from_str(&e.data)
                .map_err(|err| internal(format!("approval event unreadable: {err}")))?;
            match data["after"].get("document") {
                Some(doc) => Some(
                    serde_json::from_value(doc.clone())
                        .map_err(|err| internal(format!("approval event unreadable: {err}")))?,
                ),
                // Approved before approvals recorded them: read as they are now.
                None => None,
            }
        }
        None => None,
    };

    let technology = match &fixed {
        Some(f) => f.technology.clone(),
        None => {
            let tech = crate::technologies::get(conn, &row.technology_id)
                .optional()?
                .ok_or_else(|| internal(format!("technology {} not found", row.technology_id)))?;
            Technology {
                title_vi: tech.title_vi,
                title_en: tech.title_en,
                field: tech.field,
                ip_type: tech.ip_type,
                ip_reference: tech.ip_reference,
            }
        }
    };

    let policy = crate::insurance::for_agreement(conn, &row.id)?.pop();

    // The parties and the insurer, in one query.
    let mut ids = vec![row.institute_id.clone(), row.sme_id.clone()];
    ids.extend(policy.as_ref().map(|p| p.insurer_id.clone()));
    let orgs: Vec<crate::accounts::Organisation> = organisations::table
        .filter(organisations::id.eq_any(&ids))
        .select(crate::accounts::Organisation::as_select())
        .load(conn)?;
    let org = |id: &str| {
        orgs.iter()
            .find(|o| o.id == id)
            .cloned()
            .ok_or_else(|| internal(format!("organisation {id} not found")))
    };
    let (institute, sme) = match fixed {
        Some(f) => (f.institute, f.sme),
        None => (
            Party::from(org(&row.institute_id)?),
            Party::from(org(&row.sme_id)?),
        ),
    };
    let insurance = match policy {
        Some(p) => Some(Cover {
            insurer: org(&p.insurer_id)?.name,
            currency: Currency::parse(&p.currency).ok_or_else(|| {
                internal(format!(
                    "policy {} has unknown currency {}",
                    p.id, p.currency
                ))
            })?,
            risks: p.risks,
            coverage_minor: p.coverage_minor,
            premium_minor: p.premium_minor,
            sme_pays_minor: p.sme_pays_minor,
            institute_pays_minor: p.institute_pays_minor,
            subsidy_minor: p.subsidy_minor,
        }),
        None => None,
    };

    let contract: Option<(NaiveDate, String)> = conversion_contracts::table
        .find(&row.id)
        .select((
            conversion_contracts::converted_on,
            conversion_contracts::currency,
        ))
        .first(conn)
        .optional()?;
    let contract = match contract {
        Some((converted_on, code)) => {
            let currency = Currency::parse(&code)
                .ok_or_else(|| internal(format!("contract has unknown currency {code}")))?;
            let lines: Vec<(i32, String, NaiveDate, i64)> = schedule_lines::table
                .filter(schedule_lines::agreement_id.eq(&row.id))
                .order(schedule_lines::number.asc())
                .select((
                    schedule_lines::number,
                    schedule_lines::kind,
                    schedule_lines::due,
                    schedule_lines::amount_minor,
                ))
                .load(conn)?;
            let lines = lines
                .into_iter()
                .map(|(number, kind, due, amount_minor)| Line {
                    number,
                    kind,
                    due,
                    amount_minor,
                })
                .collect();
            Some(Contract {
                converted_on,
                currency,
                lines,
            })
        }
        None => None,
    };

    // The signer of each party: the name the sign event recorded, else (events recorded
    // before they carried it) the user's name now.
    let signer = |party: &str| {
        events
            .iter()
            .rev()
            .find(|e| e.action == sign && e.actor_organisation_id.as_deref() == Some(party))
            .map(|e| {
                let recorded = serde_json::from_str::<serde_json::Value>(&e.data)
                    .ok()
                    .and_then(|d| d["after"]["signer_name"].as_str().map(str::to_string));
                (e.actor_user_id.clone(), recorded)
            })
    };
    let (institute_signer, sme_signer) = (signer(&row.institute_id), signer(&row.sme_id));
    let signer_ids: Vec<&String> = [&institute_signer, &sme_signer]
        .into_iter()
        .flatten()
        .filter(|(_, recorded)| recorded.is_none())
        .filter_map(|(user, _)| user.as_ref())
        .collect();
    let names: Vec<(String, String)> = if signer_ids.is_empty() {
        Vec::new()
    } else {
        users::table
            .filter(users::id.eq_any(signer_ids))
            .select((users::id, users::display_name))
            .load(conn)?
    };
    let signature = |at: Option<NaiveDateTime>,
                     signer: Option<(Option<String>, Option<String>)>| {
        at.map(|at| Signature {
            at,
            by: match signer {
                Some((_, Some(recorded))) => recorded,
                Some((Some(user), None)) => names
                    .iter()
                    .find(|(id, _)| *id == user)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            },
        })
    };
    let institute_signature = signature(row.institute_signed_at, institute_signer);
    let sme_signature = signature(row.sme_signed_at, sme_signer);

    Ok(Facts {
        agreement: row,
        institute,
        sme,
        technology,
        terms,
        approved_at,
        insurance,
        contract,
        institute_signature,
        sme_signature,
    })
}

/// The context for rendering `kind` in `lang` from `facts`: the fields of
/// [`super::templates::sample_context`], written for `lang` by [`super::format`];
/// `insurance` and `distribution` are null when there is no policy or no distribution.
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
        "contract": contract,
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
/// [`context`] never falls back to a stored text.
fn check_figures(terms: &Terms) -> Result<(), String> {
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
/// facts not checked by [`load`]) is written as stored.
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

fn model(price: &Price) -> Label {
    match price {
        Price::LumpSum { .. } => Label::LumpSum,
        Price::Installments { .. } => Label::Installments,
        Price::Royalty { .. } => Label::Royalty,
        Price::EntryFeePlusRoyalty { .. } => Label::EntryFeePlusRoyalty,
    }
}

/// A covered risk named in `lang`; an unknown one as stored.
fn risk<'a>(code: &'a str, lang: &str) -> &'a str {
    match code {
        "implementation_failure" => Label::ImplementationFailure.text(lang),
        "non_payment" => Label::NonPayment.text(lang),
        other => other,
    }
}

/// The kind of intellectual property (`technologies::IP_TYPES`) named in the document's
/// language; anything else as it was entered.
fn ip_type<'a>(code: &'a str, lang: &str) -> &'a str {
    let [vi, en, zh] = match code {
        "patent" => ["Bằng độc quyền sáng chế", "Patent", "发明专利"],
        "utility_solution" => [
            "Bằng độc quyền giải pháp hữu ích",
            "Utility solution patent",
            "实用新型专利",
        ],
        "software" => ["Phần mềm", "Software", "软件"],
        "know_how" => ["Bí quyết kỹ thuật", "Know-how", "技术秘密"],
        "plant_variety" => [
            "Bằng bảo hộ giống cây trồng",
            "Plant variety protection",
            "植物新品种权",
        ],
        "other" => ["Đối tượng khác", "Other", "其他"],
        other => return other,
    };
    match lang {
        "vi" => vi,
        "zh" => zh,
        _ => en,
    }
}

/// A number of months: `3 tháng`, `3 months`, `3 个月`.
fn months(lang: &str, n: u32) -> String {
    match lang {
        "vi" => format!("{n} tháng"),
        "zh" => format!("{n} 个月"),
        _ if n == 1 => "1 month".to_string(),
        _ => format!("{n} months"),
    }
}

/// The `i`th of `n` installments: `Kỳ 1/6`, `Installment 1 of 6`, `第1/6期`.
fn installment(lang: &str, i: usize, n: usize) -> String {
    match lang {
        "vi" => format!("Kỳ {i}/{n}"),
        "zh" => format!("第{i}/{n}期"),
        _ => format!("Installment {i} of {n}"),
    }
}

/// The words documents write beside the templates' own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    PartyA,
    PartyB,
    LumpSum,
    Installments,
    Royalty,
    EntryFeePlusRoyalty,
    Price,
    PaymentDue,
    Total,
    Count,
    Interval,
    FirstDue,
    RoyaltyRate,
    MinPerYear,
    EntryFee,
    TrialPeriod,
    DecisionPeriod,
    EarlyDiscount,
    LateRate,
    InsuranceRequired,
    Yes,
    No,
    ImplementationFailure,
    NonPayment,
    LumpSumItem,
}

impl Label {
    /// The label in `lang` (English for a language without its own).
    fn text(self, lang: &str) -> &'static str {
        let [vi, en, zh] = match self {
            Label::PartyA => ["Bên A", "Party A", "甲方"],
            Label::PartyB => ["Bên B", "Party B", "乙方"],
            Label::LumpSum => ["Trả một lần", "Lump sum", "一次性支付"],
            Label::Installments => ["Trả góp", "Installments", "分期支付"],
            Label::Royalty => [
                "Phí bản quyền theo doanh thu",
                "Royalty on net sales",
                "按净销售额提成",
            ],
            Label::EntryFeePlusRoyalty => [
                "Phí gia nhập và phí bản quyền",
                "Entry fee plus royalty",
                "入门费加提成",
            ],
            Label::Price => ["Giá chuyển giao", "Price", "转让价款"],
            Label::PaymentDue => [
                "Hạn thanh toán sau ngày chuyển đổi",
                "Payment due after conversion",
                "转化后付款期限",
            ],
            Label::Total => ["Tổng giá", "Total price", "总价款"],
            Label::Count => ["Số kỳ", "Number of installments", "分期期数"],
            Label::Interval => [
                "Khoảng cách giữa các kỳ",
                "Interval between installments",
                "每期间隔",
            ],
            Label::FirstDue => [
                "Kỳ đầu đến hạn sau ngày chuyển đổi",
                "First installment due after conversion",
                "转化后首期付款期限",
            ],
            Label::RoyaltyRate => [
                "Tỷ lệ phí bản quyền trên doanh thu thuần",
                "Royalty rate on net sales",
                "净销售额提成比例",
            ],
            Label::MinPerYear => [
                "Phí bản quyền tối thiểu mỗi năm",
                "Minimum royalty per year",
                "每年最低提成",
            ],
            Label::EntryFee => ["Phí gia nhập", "Entry fee", "入门费"],
            Label::TrialPeriod => ["Thời gian dùng thử", "Trial period", "试用期"],
            Label::DecisionPeriod => [
                "Thời hạn quyết định sau dùng thử",
                "Decision period after the trial",
                "试用结束后决定期限",
            ],
            Label::EarlyDiscount => [
                "Chiết khấu chuyển đổi sớm",
                "Early-conversion discount",
                "提前转化折扣",
            ],
            Label::LateRate => [
                "Lãi chậm thanh toán mỗi ngày",
                "Late-payment interest per day",
                "逾期付款日利率",
            ],
            Label::InsuranceRequired => ["Bắt buộc bảo hiểm", "Insurance required", "须投保"],
            Label::Yes => ["Có", "Yes", "是"],
            Label::No => ["Không", "No", "否"],
            Label::ImplementationFailure => [
                "triển khai công nghệ thất bại",
                "implementation failure",
                "技术实施失败风险",
            ],
            Label::NonPayment => [
                "bên nhận không thanh toán",
                "non-payment",
                "受让方未付款风险",
            ],
            Label::LumpSumItem => ["Thanh toán một lần", "Lump sum", "一次性付款"],
        };
        match lang {
            "vi" => vi,
            "zh" => zh,
            _ => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::format::LANGS;
    use crate::documents::templates::{sample_context, KINDS};
    use crate::documents::ContractTemplates;
    use crate::settlement::terms::Distribution;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        day(y, m, d).and_hms_opt(h, min, 0).unwrap()
    }

    fn vnd() -> Currency {
        Currency::parse("VND").unwrap()
    }

    /// A converted agreement: installments in VND, insured, both parties signed (the SME at
    /// 18:30 UTC on 14 January, already the 15th in Ho Chi Minh City).
    fn converted() -> Facts {
        let row = AgreementRow {
            id: "a1".into(),
            number: "UF-2027-000042".into(),
            technology_id: "t1".into(),
            institute_id: "o-inst".into(),
            sme_id: "o-sme".into(),
            insurer_id: Some("o-ins".into()),
            status: "converted".into(),
            version: 9,
            terms_id: "terms-2".into(),
            terms_version: 2,
            terms_snapshot: None,
            place_of_use: "Xưởng sản xuất, Bình Dương".into(),
            message: String::new(),
            time_zone: "Asia/Ho_Chi_Minh".into(),
            requested_start: day(2027, 1, 15),
            trial_start: Some(day(2027, 1, 15)),
            trial_end: Some(day(2027, 4, 14)),
            decision_deadline: Some(day(2027, 5, 14)),
            extended: false,
            sme_signed_at: Some(utc(2027, 1, 14, 18, 30)),
            institute_signed_at: Some(utc(2027, 1, 10, 2, 0)),
            closed_reason: None,
            requested_by: "u-sme".into(),
            created_at: utc(2027, 1, 2, 3, 0),
            updated_at: utc(2027, 4, 20, 4, 0),
            approved_at: Some(utc(2027, 1, 5, 3, 0)),
            started_on: Some(day(2027, 1, 15)),
            trial_ended_on: Some(day(2027, 4, 14)),
            closed_at: Some(utc(2027, 4, 20, 4, 0)),
            decision_days: Some(6),
        };
        let lines = (1..=6)
            .map(|n| Line {
                number: n,
                kind: "installment".into(),
                due: day(2027, 4 + n as u32, 20),
                amount_minor: 250_000_000,
            })
            .chain([Line {
                number: 7,
                kind: "true_up".into(),
                due: day(2028, 5, 20),
                amount_minor: 99,
            }])
            .collect();
        Facts {
            agreement: row,
            institute: Party {
                name: "Viện Nghiên cứu Cơ khí".into(),
                registration_no: "0100100079".into(),
                province: "Hà Nội".into(),
                contact_email: "contact@narime.example".into(),
            },
            sme: Party {
                name: "Công ty TNHH Cơ khí Bình Dương".into(),
                registration_no: "3702456789".into(),
                province: "Bình Dương".into(),
                contact_email: "info@ckbd.example".into(),
            },
            technology: Technology {
                title_vi: "Dây chuyền sấy nông sản tiết kiệm năng lượng".into(),
                title_en: "Energy-saving produce drying line".into(),
                field: "Cơ khí".into(),
                ip_type: "Bằng độc quyền sáng chế".into(),
                ip_reference: "1-0023456".into(),
            },
            terms: Terms {
                trial_days: 90,
                decision_days: 30,
                currency: "VND".into(),
                price: Price::Installments {
                    total: "1500000000".into(),
                    count: 6,
                    interval_months: 1,
                    first_due_days: 30,
                },
                insurance_required: true,
                early_conversion_discount: Some("0.05".into()),
                late_payment_daily_rate: Some("0.0003".into()),
                distribution: Some(Distribution {
                    institute: "0.5".into(),
                    inventors: "0.4".into(),
                    intermediary: "0.1".into(),
                }),
            },
            approved_at: Some(utc(2027, 1, 5, 9, 0)),
            insurance: Some(Cover {
                insurer: "Bảo hiểm Bảo Việt".into(),
                risks: vec!["implementation_failure".into(), "non_payment".into()],
                currency: vnd(),
                coverage_minor: 500_000_000,
                premium_minor: 10_000_000,
                sme_pays_minor: 3_000_000,
                institute_pays_minor: 2_000_000,
                subsidy_minor: 5_000_000,
            }),
            contract: Some(Contract {
                converted_on: day(2027, 4, 20),
                currency: vnd(),
                lines,
            }),
            institute_signature: Some(Signature {
                at: utc(2027, 1, 10, 2, 0),
                by: "Nguyễn Văn An".into(),
            }),
            sme_signature: Some(Signature {
                at: utc(2027, 1, 14, 18, 30),
                by: "Trần Thị Bình".into(),
            }),
        }
    }

    /// The same agreement just approved: no insurance, no distribution, nobody signed.
    fn approved() -> Facts {
        let mut f = converted();
        f.agreement.status = "approved".into();
        f.agreement.sme_signed_at = None;
        f.agreement.institute_signed_at = None;
        f.insurance = None;
        f.contract = None;
        f.terms.distribution = None;
        f.institute_signature = None;
        f.sme_signature = None;
        f
    }

    /// Lump sum in CNY.
    fn in_cny() -> Facts {
        let mut f = converted();
        f.terms.currency = "CNY".into();
        f.terms.price = Price::LumpSum {
            amount: "1500.00".into(),
            due_days: 30,
        };
        let cny = Currency::parse("CNY").unwrap();
        f.contract = Some(Contract {
            converted_on: day(2027, 4, 20),
            currency: cny,
            lines: vec![Line {
                number: 1,
                kind: "lump_sum".into(),
                due: day(2027, 5, 20),
                amount_minor: 142_500,
            }],
        });
        f
    }

    /// `ours` has exactly the keys of `sample`, recursively; array elements are compared
    /// with the sample's first element.
    fn same_keys(ours: &Value, sample: &Value, path: &str) -> Result<(), String> {
        match (ours, sample) {
            (Value::Object(a), Value::Object(b)) => {
                let ka: std::collections::BTreeSet<&String> = a.keys().collect();
                let kb: std::collections::BTreeSet<&String> = b.keys().collect();
                if ka != kb {
                    return Err(format!("{path}: keys {ka:?}, sample has {kb:?}"));
                }
                for (k, v) in a {
                    same_keys(v, &b[k], &format!("{path}.{k}"))?;
                }
                Ok(())
            }
            (Value::Array(a), Value::Array(b)) => match b.first() {
                Some(first) => a
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, v)| same_keys(v, first, &format!("{path}[{i}]"))),
                None => Ok(()),
            },
            (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
                Err(format!("{path}: {ours} where the sample has {sample}"))
            }
            _ => Ok(()),
        }
    }

    fn rows(ctx: &Value) -> Vec<(String, String)> {
        ctx["terms"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["label"].as_str().unwrap().to_string(),
                    r["value"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn row_value(ctx: &Value, label: &str) -> Option<String> {
        rows(ctx)
            .into_iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v)
    }

    #[test]
    fn the_context_has_exactly_the_fields_of_the_sample() {
        for kind in KINDS {
            for lang in LANGS {
                let at = format!("{kind}.{lang}");
                for facts in [converted(), in_cny()] {
                    let ctx = context(&facts, kind, lang);
                    let sample = sample_context(kind, lang, true);
                    same_keys(&ctx, &sample, &at).unwrap();
                    assert!(ctx["contract"]["schedule"][0].is_object(), "{at}");
                }
                let ctx = context(&approved(), kind, lang);
                same_keys(&ctx, &sample_context(kind, lang, false), &at).unwrap();
                assert!(
                    ctx["insurance"].is_null() && ctx["distribution"].is_null(),
                    "{at}"
                );
                // Insured without a distribution, and the reverse.
                let mut f = approved();
                f.insurance = converted().insurance;
                let ctx = context(&f, kind, lang);
                same_keys(
                    &ctx["insurance"],
                    &sample_context(kind, lang, true)["insurance"],
                    &at,
                )
                .unwrap();
                assert!(ctx["distribution"].is_null(), "{at}");
            }
        }
    }

    #[test]
    fn every_context_renders_with_the_shipped_templates() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract-templates");
        let templates = ContractTemplates::load(Some(&dir)).unwrap();
        for facts in [converted(), approved(), in_cny()] {
            for kind in KINDS {
                for lang in LANGS {
                    let ctx = context(&facts, kind, lang);
                    let blocks = templates.render(kind, lang, &ctx).unwrap();
                    let text: Vec<String> = blocks.iter().map(|b| b.text()).collect();
                    let text = text.join("\n");
                    assert!(text.contains("UF-2027-000042"), "{kind}.{lang}");
                    assert!(text.contains("1-0023456"), "{kind}.{lang}");
                    let insured = facts.insurance.is_some();
                    assert_eq!(text.contains("Bảo hiểm Bảo Việt"), insured, "{kind}.{lang}");
                }
            }
        }
    }

    #[test]
    fn values_are_written_for_the_language() {
        for (lang, patent) in [
            ("vi", "Bằng độc quyền sáng chế"),
            ("en", "Patent"),
            ("zh", "发明专利"),
        ] {
            assert_eq!(ip_type("patent", lang), patent);
        }
        assert_eq!(
            ip_type("Giấy chứng nhận riêng", "zh"),
            "Giấy chứng nhận riêng"
        );
        for code in crate::technologies::IP_TYPES {
            assert_ne!(ip_type(code, "zh"), code, "{code} has no Chinese name");
        }

        let f = converted();
        let vi = context(&f, "trial-agreement", "vi");
        assert_eq!(vi["terms"]["model"], "Trả góp");
        assert_eq!(vi["terms"]["currency"], "VND");
        assert_eq!(
            row_value(&vi, "Tổng giá").as_deref(),
            Some("1.500.000.000 ₫")
        );
        assert_eq!(row_value(&vi, "Số kỳ").as_deref(), Some("6"));
        assert_eq!(
            row_value(&vi, "Khoảng cách giữa các kỳ").as_deref(),
            Some("1 tháng")
        );
        assert_eq!(
            row_value(&vi, "Lãi chậm thanh toán mỗi ngày").as_deref(),
            Some("0,03%")
        );
        assert_eq!(row_value(&vi, "Bắt buộc bảo hiểm").as_deref(), Some("Có"));
        assert_eq!(
            vi["technology"]["title"],
            "Dây chuyền sấy nông sản tiết kiệm năng lượng"
        );
        assert_eq!(vi["trial"]["days"], "90 ngày");
        assert_eq!(vi["trial"]["decision_deadline"], "14/05/2027");
        assert_eq!(
            vi["insurance"]["risks"],
            "triển khai công nghệ thất bại, bên nhận không thanh toán"
        );
        assert_eq!(vi["insurance"]["subsidy"], "5.000.000 ₫");
        assert_eq!(vi["insurance"]["sme_pays"], "3.000.000 ₫");
        assert_eq!(vi["distribution"]["inventors"], "40%");
        assert_eq!(vi["doc"]["terms_version"], 2);

        let en = context(&f, "conversion-contract", "en");
        assert_eq!(
            en["technology"]["title"],
            "Energy-saving produce drying line"
        );
        assert_eq!(
            en["terms"]["rows"][0],
            json!({"label": "Total price", "value": "1.500.000.000 ₫"})
        );
        assert_eq!(
            row_value(&en, "Early-conversion discount").as_deref(),
            Some("5%")
        );
        assert_eq!(row_value(&en, "Insurance required").as_deref(), Some("Yes"));
        assert_eq!(
            en["doc"]["date"], "20 April 2027",
            "a contract is dated on conversion"
        );
        assert_eq!(en["contract"]["converted_on"], "20 April 2027");
        let schedule = en["contract"]["schedule"].as_array().unwrap();
        assert_eq!(
            schedule.len(),
            6,
            "the true-up added later is not part of the contract"
        );
        assert_eq!(
            schedule[5],
            json!({"due": "20 October 2027", "item": "Installment 6 of 6", "amount": "250.000.000 ₫"})
        );
        let vi = context(&f, "conversion-contract", "vi");
        assert_eq!(vi["contract"]["schedule"][0]["item"], "Kỳ 1/6");

        let zh = context(&f, "trial-agreement", "zh");
        assert_eq!(
            zh["doc"]["date"], "2027年1月15日",
            "the later signature, local day"
        );
        assert_eq!(zh["trial"]["start"], "2027年1月15日");
        assert_eq!(
            zh["technology"]["title"],
            "Energy-saving produce drying line"
        );
        assert_eq!(zh["terms"]["model"], "分期支付");
        assert_eq!(
            zh["insurance"]["risks"],
            "技术实施失败风险、受让方未付款风险"
        );
        assert_eq!(
            context(&f, "conversion-contract", "zh")["contract"]["schedule"][0]["item"],
            "第1/6期"
        );

        let cny = in_cny();
        let en = context(&cny, "conversion-contract", "en");
        assert_eq!(en["terms"]["model"], "Lump sum");
        assert_eq!(row_value(&en, "Price").as_deref(), Some("¥1,500.00"));
        assert_eq!(
            row_value(&en, "Payment due after conversion").as_deref(),
            Some("30 days")
        );
        assert_eq!(
            en["contract"]["schedule"],
            json!([{"due": "20 May 2027", "item": "Lump sum", "amount": "¥1,425.00"}])
        );
    }

    #[test]
    fn signatures_name_the_signer_once_signed() {
        let vi = context(&converted(), "trial-agreement", "vi");
        assert_eq!(
            vi["signatures"],
            json!([
                {"party": "Bên A", "organisation": "Viện Nghiên cứu Cơ khí", "signed_by": "Nguyễn Văn An", "signed_at": "10/01/2027"},
                {"party": "Bên B", "organisation": "Công ty TNHH Cơ khí Bình Dương", "signed_by": "Trần Thị Bình", "signed_at": "15/01/2027"},
            ])
        );
        let zh = context(&converted(), "trial-agreement", "zh");
        assert_eq!(zh["signatures"][0]["party"], "甲方");
        assert_eq!(zh["signatures"][1]["signed_at"], "2027年1月15日");

        let mut f = approved();
        f.institute_signature = converted().institute_signature;
        let en = context(&f, "trial-agreement", "en");
        assert_eq!(en["signatures"][0]["party"], "Party A");
        assert_eq!(en["signatures"][0]["signed_by"], "Nguyễn Văn An");
        assert_eq!(en["signatures"][1]["party"], "Party B");
        assert_eq!(en["signatures"][1]["signed_by"], "");
        assert_eq!(en["signatures"][1]["signed_at"], "");
        // Not concluded yet: dated on approval.
        assert_eq!(en["doc"]["date"], "5 January 2027");

        let en = context(&approved(), "conversion-contract", "en");
        for s in en["signatures"].as_array().unwrap() {
            assert_eq!((&s["signed_by"], &s["signed_at"]), (&json!(""), &json!("")));
        }
        assert_eq!(en["contract"], json!({"converted_on": "", "schedule": []}));
    }

    #[test]
    fn before_approval_the_dates_are_those_approval_would_give() {
        let mut f = approved();
        f.agreement.status = "requested".into();
        f.approved_at = None;
        f.agreement.trial_start = None;
        f.agreement.trial_end = None;
        f.agreement.decision_deadline = None;
        f.agreement.requested_start = day(2027, 2, 1);
        f.agreement.updated_at = utc(2027, 1, 20, 17, 30);
        let en = context(&f, "trial-agreement", "en");
        assert_eq!(en["trial"]["start"], "1 February 2027");
        assert_eq!(en["trial"]["end"], "1 May 2027");
        assert_eq!(en["trial"]["decision_deadline"], "31 May 2027");
        assert_eq!(en["trial"]["days"], "90 days");
        assert_eq!(
            en["doc"]["date"], "21 January 2027",
            "last change, local day"
        );
        // An extended trial counts its real length.
        let mut f = converted();
        f.agreement.trial_end = Some(day(2027, 5, 14));
        f.agreement.decision_deadline = Some(day(2027, 6, 13));
        let en = context(&f, "trial-agreement", "en");
        assert_eq!(en["trial"]["days"], "120 days");
        assert_eq!(en["trial"]["decision_days"], "30 days");
    }

    #[test]
    fn unreadable_stored_figures_are_refused_by_load() {
        let mut terms = converted().terms;
        assert_eq!(check_figures(&terms), Ok(()));
        terms.late_payment_daily_rate = Some("3%".into());
        assert!(check_figures(&terms).unwrap_err().contains("\"3%\""));
        let mut terms = in_cny().terms;
        terms.currency = "XAU".into();
        assert!(check_figures(&terms).is_err());
    }

    /// `load` against a migrated SQLite database holding the demo programme, with a policy
    /// bound on one converted agreement.
    #[test]
    fn load_reads_an_agreement_as_stored() {
        use crate::db::schema::agreements;
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = crate::config::Config::load(None).unwrap();
        cfg.database.url = dir.path().join("t.db").to_string_lossy().into_owned();
        let db = crate::db::Db::connect(&cfg.database).unwrap();
        db.migrate().unwrap();
        let now: chrono::DateTime<chrono::Utc> = "2027-03-01T03:00:00Z".parse().unwrap();
        let clock = crate::clock::Clock::manual(now);
        let state = crate::AppState::new(cfg, db, clock).unwrap();
        crate::seed::demo(&state).unwrap();
        let mut conn = state.db.reader().unwrap();
        let rows: Vec<AgreementRow> = agreements::table
            .order(agreements::number.asc())
            .select(AgreementRow::as_select())
            .load(&mut *conn)
            .unwrap();
        let converted = rows
            .iter()
            .find(|r| r.status == "converted")
            .unwrap()
            .clone();
        let insurer: String = organisations::table
            .filter(organisations::kind.eq("insurer"))
            .select(organisations::id)
            .first(&mut *conn)
            .unwrap();
        let shares = |s: &str| s.parse().unwrap();
        let policy = crate::insurance::PolicyTerms {
            insurer_id: insurer,
            product_id: None,
            product_version: None,
            risks: vec![crate::insurance::Risk::ImplementationFailure],
            currency: vnd(),
            coverage_minor: 500_000_000,
            premium_rate: shares("0.02"),
            deductible_minor: 0,
            shares: crate::settlement::insurance::PremiumShares {
                sme: shares("0.3"),
                institute: shares("0.2"),
                subsidy: shares("0.5"),
            },
            subsidy_cap_minor: None,
        };
        let on = crate::insurance::Insured {
            agreement_id: &converted.id,
            sme_id: &converted.sme_id,
            subsidy_year: 2027,
        };
        let rounding = crate::settlement::allocate::Rounding::HalfUp;
        state
            .db
            .write(|c| {
                crate::insurance::bind(c, now, crate::audit::Who::SYSTEM, on, &policy, rounding)
            })
            .unwrap();

        let facts = load(&mut conn, converted.clone()).unwrap();
        let snapshot: Terms =
            serde_json::from_str(converted.terms_snapshot.as_deref().unwrap()).unwrap();
        assert_eq!(facts.terms, snapshot);
        assert!(facts.approved_at.is_some());
        let contract = facts.contract.as_ref().unwrap();
        assert!(!contract.lines.is_empty());
        let cover = facts.insurance.as_ref().unwrap();
        assert_eq!(
            (cover.premium_minor, cover.subsidy_minor),
            (10_000_000, 5_000_000)
        );
        assert_eq!(cover.risks, ["implementation_failure"]);
        for (party, signature) in [
            (&converted.institute_id, &facts.institute_signature),
            (&converted.sme_id, &facts.sme_signature),
        ] {
            let name: String = users::table
                .filter(users::organisation_id.eq(party))
                .select(users::display_name)
                .first(&mut *conn)
                .unwrap();
            let signature = signature.as_ref().unwrap();
            assert_eq!(signature.by, name);
        }
        assert_eq!(
            facts.sme_signature.as_ref().map(|s| s.at),
            converted.sme_signed_at
        );
        for kind in KINDS {
            for lang in LANGS {
                let ctx = context(&facts, kind, lang);
                same_keys(&ctx, &sample_context(kind, lang, true), kind).unwrap();
                state.templates.render(kind, lang, &ctx).unwrap();
            }
        }

        // A request: the terms it references, nothing signed, no contract or policy.
        let requested = rows
            .iter()
            .find(|r| r.status == "requested")
            .unwrap()
            .clone();
        let facts = load(&mut conn, requested.clone()).unwrap();
        let current = crate::technologies::current_terms(&mut conn, &requested.technology_id)
            .unwrap()
            .unwrap();
        assert_eq!(facts.terms, current.terms);
        assert_eq!(facts.approved_at, None);
        assert!(facts.contract.is_none() && facts.insurance.is_none());
        assert!(facts.institute_signature.is_none() && facts.sme_signature.is_none());
        let ctx = context(&facts, "trial-agreement", "vi");
        state
            .templates
            .render("trial-agreement", "vi", &ctx)
            .unwrap();
    }
}
