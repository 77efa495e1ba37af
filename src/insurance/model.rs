//! What insurance is, as the API and the other parts see it: the risks, a policy and the
//! terms it is bound on, claims and their inputs, products, the cover chosen for an agreement
//! and the insurer's views. The values other parts and the edges take from `insurance` (never
//! its storage).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::session::Actor;
use crate::db::schema::insurance_products as products;
use crate::error::AppError;
use crate::rules::lifecycle::Status;
use crate::rules::roles::Role;
use crate::settlement::insurance::PremiumShares;
use crate::settlement::money::{parse_rate, Currency};
use crate::technologies::model::Localized;

pub use crate::rules::claims::{ClaimAction, ClaimStatus};

/// What a policy covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// The SME's costs when the technology fails to work in its setting.
    ImplementationFailure,
    /// The institute's loss when a converted SME does not pay.
    NonPayment,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::ImplementationFailure => "implementation_failure",
            Risk::NonPayment => "non_payment",
        }
    }

    pub fn parse(text: &str) -> Option<Risk> {
        match text {
            "implementation_failure" => Some(Risk::ImplementationFailure),
            "non_payment" => Some(Risk::NonPayment),
            _ => None,
        }
    }
}

/// The product's figures a policy is bound on.
#[derive(Debug, Clone)]
pub struct PolicyTerms {
    pub insurer_id: String,
    pub product_id: Option<String>,
    pub product_version: Option<i32>,
    pub risks: Vec<Risk>,
    pub currency: Currency,
    pub coverage_minor: i64,
    pub premium_rate: Decimal,
    pub deductible_minor: i64,
    pub shares: PremiumShares,
    /// Subsidy one SME may receive per calendar year, all its policies together.
    pub subsidy_cap_minor: Option<i64>,
}

/// A bound policy as statements and the insurer's views show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Policy {
    pub id: String,
    pub agreement_id: String,
    pub insurer_id: String,
    pub product_id: Option<String>,
    pub product_version: Option<i32>,
    pub risks: Vec<String>,
    pub currency: String,
    /// Major units of `currency`.
    pub coverage: String,
    pub premium_rate: String,
    pub deductible: String,
    pub share_sme: String,
    pub share_institute: String,
    pub share_subsidy: String,
    pub subsidy_cap: Option<String>,
    /// The calendar year whose subsidy cap this policy counts against.
    pub subsidy_year: i32,
    pub rounding: String,
    pub premium: String,
    /// What the SME pays, including any subsidy the cap withheld.
    pub sme_pays: String,
    pub institute_pays: String,
    pub subsidy: String,
    /// Subsidy the cap withheld (part of `sme_pays`).
    pub subsidy_capped: String,
    /// `bound` or `ended`.
    pub status: String,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub bound_at: NaiveDateTime,
    pub coverage_minor: i64,
    pub premium_minor: i64,
    pub sme_pays_minor: i64,
    pub institute_pays_minor: i64,
    pub subsidy_minor: i64,
    pub subsidy_capped_minor: i64,
    /// When and why it ended: `declined`, `lapsed`, `terminated`, `converted` (cover without
    /// non-payment) or `schedule_paid`.
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<NaiveDateTime>,
    pub ended_reason: Option<String>,
    /// What the insurer has paid on claims (major units).
    pub paid_out: String,
    pub paid_out_minor: i64,
    /// Payouts of approved claims, paid or not yet: what counts against the coverage.
    pub incurred: String,
    pub incurred_minor: i64,
    /// The coverage the payouts leave.
    pub coverage_remaining: String,
    pub coverage_remaining_minor: i64,
    /// The claims on it, oldest first.
    pub claims: Vec<Claim>,
}

/// What a policy is bound on.
#[derive(Debug, Clone, Copy)]
pub struct Insured<'a> {
    pub agreement_id: &'a str,
    /// The agreement's SME, whose subsidy cap the policy draws on.
    pub sme_id: &'a str,
    /// The calendar year (in the agreement's time zone) the subsidy counts against.
    pub subsidy_year: i32,
}

/// A claim as the API shows it. It names organisations, never users.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Claim {
    pub id: String,
    /// Human-readable, e.g. `CL-2026-000012`.
    pub number: String,
    pub agreement_id: String,
    pub policy_id: String,
    pub insurer_id: String,
    /// The organisation that filed it.
    pub claimant_org: String,
    pub risk: String,
    pub currency: String,
    /// Major units of `currency`.
    pub amount: String,
    pub amount_minor: i64,
    pub reason: String,
    pub evidence: String,
    /// `filed`, `approved`, `rejected`, `withdrawn` or `paid`.
    pub status: String,
    pub version: i64,
    /// Set on approval.
    pub payout: Option<String>,
    pub payout_minor: Option<i64>,
    /// The insurer's reason (a rejection's, or a note with the approval).
    pub decision_reason: Option<String>,
    pub payment_reference: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub filed_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<NaiveDateTime>,
}

/// A claim as its claimant files it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    pub agreement_id: String,
    /// `implementation_failure` (the SME) or `non_payment` (the institute).
    pub risk: String,
    /// Major units of the policy's currency, e.g. "120000000".
    pub amount: String,
    pub reason: String,
    /// What supports it: reports, invoices, correspondence (described; up to 10,000 characters).
    #[serde(default)]
    pub evidence: String,
}

/// What an insurer's decision or payment carries.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimStep {
    /// Required to reject; a note with an approval.
    #[serde(default)]
    pub reason: Option<String>,
    /// The payment's reference (pay).
    #[serde(default)]
    pub reference: Option<String>,
}

/// Filters for listing claims.
#[derive(Debug, Default, Clone)]
pub struct ClaimFilter {
    pub status: Option<ClaimStatus>,
    pub agreement_id: Option<String>,
    pub risk: Option<Risk>,
}

/// Premium shares as written in the API: decimal strings that sum to exactly 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharesText {
    pub sme: String,
    pub institute: String,
    pub subsidy: String,
}

/// A product as an insurer writes it (create, or a new version).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub name: Localized,
    /// `implementation_failure`, `non_payment`, or both.
    pub risks: Vec<String>,
    /// ISO 4217: VND, CNY, USD or EUR; the currency of the terms it can insure.
    pub currency: String,
    /// Premium as a share of the coverage, e.g. "0.015".
    pub premium_rate: String,
    /// Major units, e.g. "500000000".
    pub max_coverage: String,
    /// Taken off every payout; major units.
    pub deductible: String,
    pub shares: SharesText,
    /// Subsidy one SME may receive per calendar year, all its policies together; major units.
    #[serde(default)]
    pub subsidy_cap: Option<String>,
    /// First day a party may choose it, YYYY-MM-DD.
    pub active_from: NaiveDate,
    /// Last day a party may choose it (none: open-ended).
    #[serde(default)]
    pub active_until: Option<NaiveDate>,
}

/// A product version as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    pub id: String,
    pub version: i32,
    pub insurer_id: String,
    pub name: Localized,
    pub risks: Vec<String>,
    pub currency: String,
    pub premium_rate: String,
    /// Major units of `currency`.
    pub max_coverage: String,
    pub deductible: String,
    pub shares: SharesText,
    pub subsidy_cap: Option<String>,
    pub max_coverage_minor: i64,
    pub deductible_minor: i64,
    pub subsidy_cap_minor: Option<i64>,
    pub active_from: NaiveDate,
    pub active_until: Option<NaiveDate>,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

/// One stored version.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: String,
    pub version: i32,
    pub insurer_id: String,
    pub name_vi: String,
    pub name_en: String,
    pub risks: String,
    pub currency: String,
    pub premium_rate: String,
    pub max_coverage_minor: i64,
    pub deductible_minor: i64,
    pub share_sme: String,
    pub share_institute: String,
    pub share_subsidy: String,
    pub subsidy_cap_minor: Option<i64>,
    pub active_from: NaiveDate,
    pub active_until: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
}

impl ProductRow {
    fn currency(&self) -> Result<Currency, AppError> {
        Currency::parse(&self.currency).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "product {} has unknown currency {}",
                self.id,
                self.currency
            ))
        })
    }

    /// The risks it covers.
    pub fn risks(&self) -> Vec<Risk> {
        self.risks.split(',').filter_map(Risk::parse).collect()
    }

    /// Whether a party may choose it on `day`.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.active_from <= day && self.active_until.is_none_or(|until| day <= until)
    }

    pub fn view(self) -> Result<Product, AppError> {
        let cur = self.currency()?;
        Ok(Product {
            name: Localized {
                vi: self.name_vi,
                en: self.name_en,
            },
            risks: self.risks.split(',').map(str::to_string).collect(),
            max_coverage: cur.format_amount(self.max_coverage_minor),
            deductible: cur.format_amount(self.deductible_minor),
            subsidy_cap: self.subsidy_cap_minor.map(|v| cur.format_amount(v)),
            shares: SharesText {
                sme: self.share_sme,
                institute: self.share_institute,
                subsidy: self.share_subsidy,
            },
            id: self.id,
            version: self.version,
            insurer_id: self.insurer_id,
            currency: self.currency,
            premium_rate: self.premium_rate,
            max_coverage_minor: self.max_coverage_minor,
            deductible_minor: self.deductible_minor,
            subsidy_cap_minor: self.subsidy_cap_minor,
            active_from: self.active_from,
            active_until: self.active_until,
            created_at: self.created_at,
        })
    }

    /// The figures a policy on `coverage_minor` of this version is bound on.
    pub fn policy_terms(&self, coverage_minor: i64) -> Result<PolicyTerms, AppError> {
        let stored = |what: &str, text: &str| -> Result<Decimal, AppError> {
            parse_rate(text).map_err(|e| {
                AppError::Internal(anyhow::anyhow!(
                    "product {} v{} {what} {text:?}: {e}",
                    self.id,
                    self.version
                ))
            })
        };
        Ok(PolicyTerms {
            insurer_id: self.insurer_id.clone(),
            product_id: Some(self.id.clone()),
            product_version: Some(self.version),
            risks: self.risks(),
            currency: self.currency()?,
            coverage_minor,
            premium_rate: stored("premium_rate", &self.premium_rate)?,
            deductible_minor: self.deductible_minor,
            shares: PremiumShares {
                sme: stored("share_sme", &self.share_sme)?,
                institute: stored("share_institute", &self.share_institute)?,
                subsidy: stored("share_subsidy", &self.share_subsidy)?,
            },
            subsidy_cap_minor: self.subsidy_cap_minor,
        })
    }
}

/// The product chosen for an agreement, before the policy is bound.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Choice {
    pub product_id: String,
    pub product_version: i32,
    pub currency: String,
    /// Major units.
    pub coverage: String,
    pub coverage_minor: i64,
    pub chosen_by_org: String,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub chosen_at: NaiveDateTime,
}

/// A party as an insurer sees it: the organisation, never its users.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Party {
    pub id: String,
    pub name: String,
    pub registration_no: String,
    pub province: String,
    /// The organisation's contact address.
    pub contact_email: String,
}

/// The technology of a covered agreement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoveredTechnology {
    pub id: String,
    pub title_vi: String,
    pub title_en: String,
    pub field: String,
}

/// An agreement an insurer covers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoveredAgreement {
    pub id: String,
    pub number: String,
    pub status: String,
    pub version: i64,
    pub insurer_id: Option<String>,
    pub institute: Party,
    pub sme: Party,
    pub technology: CoveredTechnology,
    pub place_of_use: String,
    pub requested_start: NaiveDate,
    pub trial_start: Option<NaiveDate>,
    pub trial_end: Option<NaiveDate>,
    pub decision_deadline: Option<NaiveDate>,
    /// The product chosen before signing (until the policy is bound, the cover to come).
    pub insurance_choice: Option<Choice>,
    /// Policies bound on it, with their premium, shares and claims.
    pub policies: Vec<Policy>,
}

/// Filters of the insurer's list.
#[derive(Debug, Default, Clone)]
pub struct CoveredFilter {
    pub status: Option<Status>,
    pub risk: Option<Risk>,
    /// Trials starting (or, before approval, requested to start) on or after this day.
    pub from: Option<NaiveDate>,
    /// … and on or before this day.
    pub to: Option<NaiveDate>,
    pub institute_id: Option<String>,
    /// The SME's province.
    pub province: Option<String>,
    /// Admins and auditors: one insurer's.
    pub insurer_id: Option<String>,
}

/// Whether `actor` has an insurer's view at all (insurers, admins, auditors).
pub fn check_viewer(actor: &Actor) -> Result<(), AppError> {
    match actor.role {
        Role::Insurer | Role::Admin | Role::Auditor => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

/// Money figures of a dashboard in one currency.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CurrencyFigures {
    pub currency: String,
    pub policies: i64,
    /// Premiums of every policy bound (major units).
    pub premiums_written: String,
    pub premiums_written_minor: i64,
    /// The public subsidy's part of those premiums.
    pub subsidy: String,
    pub subsidy_minor: i64,
    pub claims_filed: i64,
    pub claimed: String,
    pub claimed_minor: i64,
    pub claims_approved: i64,
    pub claims_rejected: i64,
    pub claims_paid: i64,
    /// Payouts of paid claims.
    pub paid_out: String,
    pub paid_out_minor: i64,
    /// Payouts of approved and paid claims (what is owed or paid).
    pub incurred: String,
    pub incurred_minor: i64,
    /// Incurred ÷ premiums written, 4 decimals (none before any premium).
    pub loss_ratio: Option<String>,
}

/// An insurer's dashboard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    /// The insurer (none: every insurer, for admins and auditors).
    pub insurer_id: Option<String>,
    /// Covered agreements by status.
    pub covered_by_status: BTreeMap<String, i64>,
    pub covered_total: i64,
    /// Per currency, in code order.
    pub by_currency: Vec<CurrencyFigures>,
}

/// How the payout of a claim is reached, as the settlement rule computes it
/// (`settlement::insurance::payout`): the claim capped at the coverage, less the deductible,
/// and never more than what earlier payouts on the policy left. Minor units of `currency`.
#[derive(Debug, Clone)]
pub struct PayoutFigures {
    pub currency: String,
    pub claimed_minor: i64,
    pub coverage_minor: i64,
    pub deductible_minor: i64,
    /// Payouts of the policy's approved and paid claims so far.
    pub earlier_payouts_minor: i64,
    /// The coverage those payouts leave.
    pub coverage_left_minor: i64,
    /// What approving the claim now pays.
    pub payout_minor: i64,
}

/// Money figures of one currency in one calendar month, for an insurer's charts.
#[derive(Debug, Clone, Default)]
pub struct MonthFigures {
    /// The month's first day.
    pub month: NaiveDate,
    /// Premiums of the policies bound in the month.
    pub premiums_minor: i64,
    /// Coverage left at the month's end on the policies in force then (coverage less the
    /// payouts approved by then).
    pub exposure_minor: i64,
    /// Payouts of the claims approved in the month (paid since or not).
    pub incurred_minor: i64,
    /// Payouts paid in the month.
    pub paid_minor: i64,
    /// Payouts approved since the first policy ÷ premiums written since then, at the month's
    /// end, 4 decimals (none before any premium).
    pub loss_ratio: Option<Decimal>,
}

/// An insurer's figures month by month, per currency (in code order).
#[derive(Debug, Clone)]
pub struct MonthlySeries {
    pub currency: String,
    pub months: Vec<MonthFigures>,
}
