//! What a technology is, as stored and as the API shows it, its conversion terms' versions
//! and what a catalogue search asks for: the values other parts and edges take from it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::technologies;
use crate::settlement::money::{Currency, MoneyText};
use crate::settlement::terms::Terms;

/// The stored statuses. A draft may be in screening or returned by its reviewer: that stage
/// is read from its screenings (`rules::screening::stage`).
pub const STATUSES: [&str; 3] = ["draft", "listed", "withdrawn"];
pub const IP_TYPES: [&str; 6] = [
    "patent",
    "utility_solution",
    "software",
    "know_how",
    "plant_variety",
    "other",
];

/// Text in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub vi: String,
    pub en: String,
}

/// The stored row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = technologies)]
pub struct TechnologyRow {
    pub id: String,
    pub institute_id: String,
    pub title_vi: String,
    pub title_en: String,
    pub summary_vi: String,
    pub summary_en: String,
    pub field: String,
    pub ip_type: String,
    pub ip_reference: String,
    pub valuation_minor: i64,
    pub valuation_currency: String,
    pub status: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A technology as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Technology {
    pub id: String,
    pub institute_id: String,
    pub title: Localized,
    pub summary: Localized,
    pub field: String,
    pub ip_type: String,
    pub ip_reference: String,
    pub valuation: MoneyText,
    /// `draft`, `listed` or `withdrawn` (a draft's screening stage is in its screening record).
    pub status: String,
    pub version: i64,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

impl From<TechnologyRow> for Technology {
    fn from(r: TechnologyRow) -> Self {
        let amount = Currency::parse(&r.valuation_currency)
            .map(|c| c.format_amount(r.valuation_minor))
            .unwrap_or_else(|| r.valuation_minor.to_string());
        Technology {
            id: r.id,
            institute_id: r.institute_id,
            title: Localized {
                vi: r.title_vi,
                en: r.title_en,
            },
            summary: Localized {
                vi: r.summary_vi,
                en: r.summary_en,
            },
            field: r.field,
            ip_type: r.ip_type,
            ip_reference: r.ip_reference,
            valuation: MoneyText {
                amount,
                currency: r.valuation_currency,
            },
            status: r.status,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A new technology, or a full replacement of its description.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnologyInput {
    pub title: Localized,
    pub summary: Localized,
    /// Field or sector, e.g. `agriculture`, `food_processing`, `materials`.
    pub field: String,
    /// `patent`, `utility_solution`, `software`, `know_how`, `plant_variety` or `other`.
    pub ip_type: String,
    /// Patent or registration number.
    pub ip_reference: String,
    pub valuation: MoneyText,
    /// `draft` (default) or `withdrawn`; a listed technology may stay `listed` while its
    /// description is unchanged. Listing goes through screening.
    #[serde(default)]
    pub status: Option<String>,
}

/// A version of a technology's terms.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TermsVersion {
    pub id: String,
    pub technology_id: String,
    pub version: i32,
    pub terms: Terms,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

/// What a catalogue search asks for.
#[derive(Debug, Default, Clone)]
pub struct Search {
    /// Words to find in titles, summaries, field or IP reference (accents optional).
    pub q: Option<String>,
    pub field: Option<String>,
    pub status: Option<String>,
    pub institute_id: Option<String>,
}

/// What the catalogue page narrows a search by, beyond [`Search`].
#[derive(Debug, Default, Clone)]
pub struct Narrow {
    /// `patent`, `utility_solution`, … (one of [`IP_TYPES`]).
    pub ip_type: Option<String>,
    /// Only these institutes' technologies (those of a province, which app finds).
    pub institute_ids: Option<Vec<String>>,
    /// Only technologies whose current terms give a trial of this many days, inclusive.
    pub trial_days: Option<(u32, u32)>,
}

/// Who is searching: everyone sees listed technologies, an institute also its own drafts,
/// admins and auditors everything.
#[derive(Debug, Clone, Copy)]
pub enum Visible<'a> {
    All,
    ListedOrOwn(&'a str),
    Listed,
}

/// One screening of a technology: the institute's submission and, once decided, the
/// reviewer's findings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Screening {
    pub id: String,
    pub technology_id: String,
    /// The technology's version the reviewer saw.
    pub technology_version: i64,
    pub submitted_by: String,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: NaiveDateTime,
    /// `listed` or `returned`; absent while the reviewer has not decided.
    pub outcome: Option<String>,
    /// Technology readiness level, 1 to 9.
    pub trl: Option<i32>,
    pub checklist: Option<crate::rules::screening::Checklist>,
    pub notes: Option<String>,
    /// Why it was returned.
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<NaiveDateTime>,
}

/// A reviewer's decision on a technology in screening.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningDecision {
    /// `list` or `return`.
    pub outcome: String,
    /// Technology readiness level, 1 to 9.
    pub trl: Option<i64>,
    pub checklist: crate::rules::screening::Checklist,
    #[serde(default)]
    pub notes: String,
    /// Required to return the technology.
    #[serde(default)]
    pub reason: String,
}

/// A technology's screening state and every screening it had, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScreeningRecord {
    pub technology_id: String,
    /// Where the technology stands: `draft`, `in_screening`, `returned`, `listed` or
    /// `withdrawn`.
    pub status: String,
    /// The technology's version (for `If-Match`).
    pub version: i64,
    /// The readiness level of the screening that listed it, if listed.
    pub trl: Option<i32>,
    pub screenings: Vec<Screening>,
}
