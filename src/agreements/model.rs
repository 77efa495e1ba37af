//! What an agreement is, as stored and as the API shows it, and the inputs of its actions:
//! the values other parts and the edges take from `agreements` (never its storage).

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::policy::On;
use crate::auth::session::Actor;
use crate::db::schema::agreements;
use crate::error::AppError;
use crate::rules::lifecycle::{Action, Facts, Status};
use crate::settlement::terms::Terms;

/// The stored row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agreements)]
pub struct AgreementRow {
    pub id: String,
    pub number: String,
    pub technology_id: String,
    pub institute_id: String,
    pub sme_id: String,
    pub insurer_id: Option<String>,
    pub status: String,
    pub version: i64,
    pub terms_id: String,
    pub terms_version: i32,
    pub terms_snapshot: Option<String>,
    pub place_of_use: String,
    pub message: String,
    pub time_zone: String,
    pub requested_start: NaiveDate,
    pub trial_start: Option<NaiveDate>,
    pub trial_end: Option<NaiveDate>,
    pub decision_deadline: Option<NaiveDate>,
    pub extended: bool,
    pub sme_signed_at: Option<NaiveDateTime>,
    pub institute_signed_at: Option<NaiveDateTime>,
    pub closed_reason: Option<String>,
    pub requested_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the institute approved (UTC).
    pub approved_at: Option<NaiveDateTime>,
    /// The trial's first day, once it started.
    pub started_on: Option<NaiveDate>,
    /// The trial's last day, once it ended (its end date, or the day it was cut short).
    pub trial_ended_on: Option<NaiveDate>,
    /// When the agreement reached a final state (UTC).
    pub closed_at: Option<NaiveDateTime>,
    /// Days from the trial's end to the decision (converted, declined, lapsed); 0 when it
    /// converted before the end.
    pub decision_days: Option<i32>,
}

impl AgreementRow {
    pub fn status(&self) -> Result<Status, AppError> {
        Status::parse(&self.status).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "agreement {} has unknown status {:?}",
                self.id,
                self.status
            ))
        })
    }

    pub fn facts(&self) -> Result<Facts, AppError> {
        Ok(Facts {
            status: self.status()?,
            requested_start: self.requested_start,
            trial_start: self.trial_start,
            trial_end: self.trial_end,
            decision_deadline: self.decision_deadline,
            extended: self.extended,
            sme_signed: self.sme_signed_at.is_some(),
            institute_signed: self.institute_signed_at.is_some(),
        })
    }

    pub fn on(&self) -> On<'_> {
        On::Agreement {
            institute_id: &self.institute_id,
            sme_id: &self.sme_id,
            insurer_id: self.insurer_id.as_deref(),
        }
    }

    pub fn tz(&self) -> Tz {
        self.time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
    }
}

/// An agreement as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Agreement {
    pub id: String,
    /// Human-readable, unique: PREFIX-YEAR-NNNNNN.
    pub number: String,
    pub technology_id: String,
    pub institute_id: String,
    pub sme_id: String,
    pub insurer_id: Option<String>,
    pub status: Status,
    /// Send as `If-Match` with every transition.
    pub version: i64,
    pub terms_version: i32,
    /// The conversion terms fixed at approval; absent before.
    #[schema(value_type = Option<Terms>)]
    pub terms: Option<FixedTerms>,
    pub place_of_use: String,
    pub message: String,
    /// Calendar dates below are days in this time zone.
    pub time_zone: String,
    pub requested_start: NaiveDate,
    pub trial_start: Option<NaiveDate>,
    pub trial_end: Option<NaiveDate>,
    pub decision_deadline: Option<NaiveDate>,
    pub extended: bool,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sme_signed_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub institute_signed_at: Option<NaiveDateTime>,
    pub closed_reason: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// What the caller may do now.
    pub actions: Vec<Action>,
}

/// The conversion terms fixed at approval, as stored: answered as they are, without decoding
/// and encoding them again on every read (the agreement read is the hottest answer).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct FixedTerms(Box<serde_json::value::RawValue>);

impl FixedTerms {
    /// The terms, decoded.
    pub fn parse(&self) -> Result<Terms, AppError> {
        serde_json::from_str(self.0.get()).map_err(|e| {
            AppError::Internal(anyhow::anyhow!("stored terms snapshot unreadable: {e}"))
        })
    }
}

/// The actions `actor` could take on `row` now (ignoring dates), for clients to offer.
fn available_actions(row: &AgreementRow, actor: Option<&Actor>) -> Vec<Action> {
    let Some(actor) = actor else {
        return Vec::new();
    };
    let party = match actor.role {
        crate::rules::roles::Role::Sme => row.sme_id == actor.organisation_id,
        crate::rules::roles::Role::Institute => row.institute_id == actor.organisation_id,
        crate::rules::roles::Role::Admin => true,
        _ => false,
    };
    if !party {
        return Vec::new();
    }
    row.facts()
        .map(|facts| crate::rules::lifecycle::open_to(&facts, actor.role))
        .unwrap_or_default()
}

impl Agreement {
    pub fn from_row(row: AgreementRow, actor: Option<&Actor>) -> Result<Agreement, AppError> {
        let actions = available_actions(&row, actor);
        let status = row.status()?;
        // Checked as JSON (it is copied into the answer as it is), not decoded.
        let terms = row
            .terms_snapshot
            .map(serde_json::value::RawValue::from_string)
            .transpose()
            .map_err(|e| {
                AppError::Internal(anyhow::anyhow!(
                    "agreement {} terms snapshot unreadable: {e}",
                    row.id
                ))
            })?
            .map(FixedTerms);
        Ok(Agreement {
            status,
            id: row.id,
            number: row.number,
            technology_id: row.technology_id,
            institute_id: row.institute_id,
            sme_id: row.sme_id,
            insurer_id: row.insurer_id,
            version: row.version,
            terms_version: row.terms_version,
            terms,
            place_of_use: row.place_of_use,
            message: row.message,
            time_zone: row.time_zone,
            requested_start: row.requested_start,
            trial_start: row.trial_start,
            trial_end: row.trial_end,
            decision_deadline: row.decision_deadline,
            extended: row.extended,
            sme_signed_at: row.sme_signed_at,
            institute_signed_at: row.institute_signed_at,
            closed_reason: row.closed_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
            actions,
        })
    }
}

/// What an SME asks for.
pub struct NewRequest<'a> {
    pub technology_id: &'a str,
    pub place_of_use: String,
    pub message: String,
    pub requested_start: NaiveDate,
}

/// Extra inputs some actions take.
#[derive(Debug, Default, Clone)]
pub struct ActionInput {
    pub reason: Option<String>,
    pub trial_start: Option<NaiveDate>,
    pub insurer_id: Option<String>,
    /// The insurance product chosen at approval (its insurer covers the trial).
    pub insurance_product_id: Option<String>,
    /// The cover asked of that product, major units (default: its maximum).
    pub insurance_coverage: Option<String>,
    pub days: Option<u32>,
    /// How conversion money is rounded (`settlement.rounding`).
    pub rounding: crate::settlement::allocate::Rounding,
    /// The tax that applies to the conversion, when stated.
    pub tax: Option<crate::settlement::pricing::Tax>,
    /// The registration rules a conversion contract is decided by (`[registration]`).
    pub registration: crate::settlement::registration::Rules,
}

/// Filters for listing.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub technology_id: Option<String>,
    pub sme_id: Option<String>,
    pub institute_id: Option<String>,
    /// Only the agreements waiting for this side's step: an institute's requests to decide
    /// and approvals it has not signed; an SME's approvals it has not signed and trials
    /// awaiting its decision. Nothing waits for other roles.
    pub waiting_on: Option<crate::rules::roles::Role>,
}

/// An agreement and one of its dates (a decision deadline, a trial's end), as the home pages
/// list them.
#[derive(Debug, Clone, QueryableByName)]
pub struct Dated {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub number: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub date: NaiveDate,
}

/// The SQL condition on alias `a` (the `agreements` table) keeping rows to what `scope`
/// takes part in, with its parameters: the same scope [`crate::auth::policy::sees`] checks
/// row by row, for the parts' aggregate queries.
pub fn scope_condition(
    scope: &crate::auth::policy::AgreementScope,
) -> (&'static str, Vec<crate::db::Param>) {
    use crate::auth::policy::AgreementScope;
    use crate::db::Param;
    match scope {
        AgreementScope::All => ("1 = 1", Vec::new()),
        AgreementScope::Sme(org) => ("a.sme_id = ?", vec![Param::Text(org.clone())]),
        AgreementScope::Institute(org) => ("a.institute_id = ?", vec![Param::Text(org.clone())]),
        AgreementScope::Insurer(org) => ("a.insurer_id = ?", vec![Param::Text(org.clone())]),
    }
}
