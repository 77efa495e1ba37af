//! What a conversion contract is, as the API and the other parts see it: the settlement
//! statement with its lines, contract years, tax and payments, and the inputs of the money
//! events a party records (a payment received, a quarter's sales). The values other parts and
//! the edges take from `contracts` (never its storage).

use chrono::NaiveDate;
use diesel::Queryable;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::insurance::model::Policy;

/// A settlement statement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Statement {
    pub agreement_id: String,
    pub currency: String,
    pub price_model: String,
    /// The rounding mode every amount here was computed with.
    pub rounding: String,
    pub converted_on: NaiveDate,
    pub early_conversion_discount: Option<String>,
    pub as_of: NaiveDate,
    pub lines: Vec<StatementLine>,
    pub total: String,
    pub paid: String,
    pub outstanding: String,
    pub overdue: String,
    pub interest: String,
    pub royalty_rate: Option<String>,
    pub royalty_min_per_year: Option<String>,
    /// With a minimum royalty: every contract year begun by `as_of`, its royalties, the
    /// minimum and the true-up (closed years) or the shortfall so far (the open year).
    pub royalty_years: Vec<RoyaltyYear>,
    /// Insurance bound on the agreement: each policy's premium and who pays what.
    pub insurance: Vec<Policy>,
    /// The tax recorded on the conversion, if it was stated.
    pub tax: Option<TaxView>,
    /// Payments received, oldest first, each with its distribution.
    pub payments: Vec<PaymentView>,
    /// The distribution of everything received so far, major units.
    pub received_to_institute: String,
    pub received_to_inventors: String,
    pub received_to_intermediary: String,
    /// Whether the contract must be registered, and where that stands (none on contracts made
    /// before registration was tracked).
    pub registration: Option<RegistrationView>,
    /// What the held lines wait for before their days count (empty when nothing is held).
    pub waiting_for: Vec<crate::settlement::schedule::Waiting>,
}

/// One line of a statement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementLine {
    pub number: i32,
    /// `lump_sum`, `entry_fee`, `installment` or `royalty` (added by a sales report).
    pub kind: String,
    pub due: NaiveDate,
    /// Major units of the contract's currency.
    pub amount: String,
    pub paid: String,
    pub outstanding: String,
    /// Outstanding after its due date, as of the statement day (never while held).
    pub overdue: bool,
    /// Not yet due: the line waits for `Statement::waiting_for`, and its `due` is provisional
    /// (counted as if what it waits for had happened on the conversion day).
    pub held: bool,
    /// Simple late-payment interest on the outstanding amount as of the statement day.
    pub interest: String,
    pub amount_minor: i64,
    pub paid_minor: i64,
    pub outstanding_minor: i64,
    pub interest_minor: i64,
}

/// One contract year as a statement shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoyaltyYear {
    /// 1 for the year that starts on the conversion day.
    pub year: u32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The day the year closes (its true-up is computed then).
    pub closes_on: NaiveDate,
    /// Royalties of the quarters reported so far that end in this year (major units).
    pub royalties: String,
    pub minimum: String,
    /// Closed: the true-up added (zero when the royalties reached the minimum). Open: what
    /// would be added if nothing more were reported.
    pub shortfall: String,
    pub closed: bool,
    /// The schedule line of the true-up, once closed with a shortfall.
    pub true_up_line: Option<i32>,
    pub royalties_minor: i64,
    pub minimum_minor: i64,
    pub shortfall_minor: i64,
}

/// The tax on a conversion: which rule applied and what it comes to on the total.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaxView {
    /// `rate` or `exempt`.
    pub kind: String,
    pub rate: Option<String>,
    /// The legal basis of an exemption.
    pub basis: Option<String>,
    pub amount: String,
}

/// A payment as a statement shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub reference: String,
    pub received_on: NaiveDate,
    pub amount: String,
    pub to_institute: Option<String>,
    pub to_inventors: Option<String>,
    pub to_intermediary: Option<String>,
}

/// A payment the institute received.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// Major units of the contract's currency, as a string: "3000.00", "1500000".
    pub amount: String,
    /// The day the money arrived (not in the future).
    pub received_on: NaiveDate,
    /// The bank or receipt reference; unique per agreement.
    pub reference: String,
}

/// Net sales for one royalty period (a calendar quarter).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesReportInput {
    /// First day of the quarter: YYYY-01-01, -04-01, -07-01 or -10-01.
    pub period_start: NaiveDate,
    /// Net sales in the period, major units of the contract's currency, as a string.
    pub net_sales: String,
}

/// What is owed under the conversion contracts in one currency: everything not yet paid, and
/// the part of it past due. Minor units.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Owed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub currency: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub outstanding_minor: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub overdue_minor: i64,
}

/// What is owed under one agreement's contract. Minor units; `oldest_overdue` is the due day
/// of the oldest line still unpaid after it (none when nothing is overdue).
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct OwedOn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub agreement_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub number: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub currency: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub outstanding_minor: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub overdue_minor: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub oldest_overdue: Option<NaiveDate>,
}

/// One schedule line as an SME's payment record reads it. Minor units.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct RecordLine {
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub due: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub paid_minor: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub last_paid_on: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub time_zone: String,
}

/// A payment still to be made on one line of an agreement's schedule. Minor units.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct DueLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub agreement_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub number: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub currency: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub line: i32,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub due: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub outstanding_minor: i64,
}

/// Payments received in one currency over a period: their sum (minor units) and how many.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Received {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub currency: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub payments: i64,
}

/// Net sales an SME reported for one royalty quarter, and the royalty line they added.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesReport {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub net_sales_minor: i64,
    pub royalty_minor: i64,
    /// The schedule line of the royalty.
    pub line_number: i32,
}

/// A conversion contract's registration as the statement, the API and the pages show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationView {
    /// `not_required`, `pending`, `overdue` or `registered`, as of the statement's day.
    pub status: crate::settlement::registration::Status,
    /// `vn`, `cn`, or none (no rule applies).
    pub jurisdiction: Option<String>,
    pub required: bool,
    /// Why it is (`state_funded`, `always`) or is not (`not_state_funded`, `never`,
    /// `no_jurisdiction`) required.
    pub reason: String,
    /// The day the contract was signed: the conversion day, when the SME accepted the contract
    /// on terms the institute had fixed before the trial.
    pub signed_on: NaiveDate,
    /// The last day to register (none: no deadline).
    pub deadline: Option<NaiveDate>,
    /// Days from the statement's day to the deadline (negative once passed), while pending.
    pub days_left: Option<i64>,
    /// The contract takes effect on the certificate: payments count from its date.
    pub takes_effect_on_certificate: bool,
    pub certificate_number: Option<String>,
    pub certificate_date: Option<NaiveDate>,
    pub issuing_office: Option<String>,
    /// China: the reference of the VAT exemption the registration supports.
    pub vat_exemption_ref: Option<String>,
}

/// The registration certificate an institute (or an admin) enters. In China the number is the
/// technology-contract registration number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateInput {
    pub certificate_number: String,
    /// The day the certificate was issued: not before the contract was signed, not in the
    /// future.
    pub certificate_date: NaiveDate,
    pub issuing_office: String,
    /// China only: the VAT-exemption reference.
    #[serde(default)]
    pub vat_exemption_ref: Option<String>,
}

/// A contract whose registration deadline falls in a window, for reminders and home pages.
#[derive(Debug, Clone, Queryable)]
pub struct RegistrationDue {
    pub agreement_id: String,
    pub deadline: NaiveDate,
}

/// A contract of an organisation's agreements still to register, for its home page.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct RegistrationOpen {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub agreement_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub number: String,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub deadline: NaiveDate,
}

/// Conversion contracts by registration status as of a day (the monthly report's counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistrationCounts {
    pub registered: i64,
    pub pending: i64,
    pub overdue: i64,
}
