//! The catalogue: technologies institutes offer for trial, and their versioned conversion
//! terms. Listed technologies are public to every signed-in user; drafts and withdrawn ones
//! only to their institute and the supervisors.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

use crate::audit::{self, Who};
use crate::db::schema::{conversion_terms, technologies};
use crate::db::DbConn;
use crate::error::required_text;
use crate::error::{AppError, FieldError};
use crate::settlement::money::{Currency, MoneyText};
use crate::settlement::terms::Terms;

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
    /// `draft`, `listed` or `withdrawn`.
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
    /// `draft` (default) or `listed`.
    #[serde(default)]
    pub status: Option<String>,
}

/// A checked technology input.
struct Checked {
    title: Localized,
    summary: Localized,
    field: String,
    ip_type: String,
    ip_reference: String,
    valuation_minor: i64,
    currency: String,
    status: String,
}

fn check(input: &TechnologyInput) -> Result<Checked, AppError> {
    let mut e: Vec<FieldError> = Vec::new();
    let title = Localized {
        vi: required_text(&mut e, "title.vi", &input.title.vi, 300),
        en: required_text(&mut e, "title.en", &input.title.en, 300),
    };
    let summary = Localized {
        vi: required_text(&mut e, "summary.vi", &input.summary.vi, 5000),
        en: required_text(&mut e, "summary.en", &input.summary.en, 5000),
    };
    let field = required_text(&mut e, "field", &input.field, 100);
    if !IP_TYPES.contains(&input.ip_type.as_str()) {
        e.push(FieldError::new(
            "ip_type",
            format!("must be one of {IP_TYPES:?}"),
        ));
    }
    let ip_reference = required_text(&mut e, "ip_reference", &input.ip_reference, 100);
    let mut valuation_minor = 0;
    match Currency::parse(&input.valuation.currency) {
        None => e.push(FieldError::new(
            "valuation.currency",
            "must be one of VND, CNY, USD, EUR",
        )),
        Some(c) => match c.parse_amount(&input.valuation.amount) {
            Ok(v) => valuation_minor = v,
            Err(msg) => e.push(FieldError::new("valuation.amount", msg)),
        },
    }
    let status = input.status.clone().unwrap_or_else(|| "draft".into());
    if !STATUSES.contains(&status.as_str()) {
        e.push(FieldError::new(
            "status",
            format!("must be one of {STATUSES:?}"),
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(Checked {
        title,
        summary,
        field,
        ip_type: input.ip_type.clone(),
        ip_reference,
        valuation_minor,
        currency: input.valuation.currency.clone(),
        status,
    })
}

/// Lower-case text without diacritics, so "ca phe" finds "Cà phê".
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

fn search_text(c: &Checked) -> String {
    fold(
        &[
            &c.title.vi,
            &c.title.en,
            &c.summary.vi,
            &c.summary.en,
            &c.field,
            &c.ip_reference,
        ]
        .map(|s| s.as_str())
        .join("\n"),
    )
}

/// Creates a technology for `institute_id`.
pub fn create(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    institute_id: &str,
    input: &TechnologyInput,
) -> Result<Technology, AppError> {
    let c = check(input)?;
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(technologies::table)
        .values((
            technologies::id.eq(&id),
            technologies::institute_id.eq(institute_id),
            technologies::title_vi.eq(&c.title.vi),
            technologies::title_en.eq(&c.title.en),
            technologies::summary_vi.eq(&c.summary.vi),
            technologies::summary_en.eq(&c.summary.en),
            technologies::field.eq(&c.field),
            technologies::ip_type.eq(&c.ip_type),
            technologies::ip_reference.eq(&c.ip_reference),
            technologies::valuation_minor.eq(c.valuation_minor),
            technologies::valuation_currency.eq(&c.currency),
            technologies::status.eq(&c.status),
            technologies::search_text.eq(search_text(&c)),
            technologies::version.eq(1),
            technologies::created_at.eq(now.naive_utc()),
            technologies::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        now,
        who,
        "technology.created",
        "technology",
        &id,
        &serde_json::json!({"after": {"status": c.status, "title": c.title.en}}),
    )?;
    Ok(get(conn, &id)?.into())
}

/// Replaces a technology's description and status, if still at `expected_version`.
pub fn update(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    current: &TechnologyRow,
    expected_version: i64,
    input: &TechnologyInput,
) -> Result<Technology, AppError> {
    let c = check(input)?;
    if current.version != expected_version {
        return Err(AppError::PreconditionFailed {
            expected: expected_version.to_string(),
            current: current.version,
        });
    }
    let changed = diesel::update(
        technologies::table
            .find(&current.id)
            .filter(technologies::version.eq(expected_version)),
    )
    .set((
        technologies::title_vi.eq(&c.title.vi),
        technologies::title_en.eq(&c.title.en),
        technologies::summary_vi.eq(&c.summary.vi),
        technologies::summary_en.eq(&c.summary.en),
        technologies::field.eq(&c.field),
        technologies::ip_type.eq(&c.ip_type),
        technologies::ip_reference.eq(&c.ip_reference),
        technologies::valuation_minor.eq(c.valuation_minor),
        technologies::valuation_currency.eq(&c.currency),
        technologies::status.eq(&c.status),
        technologies::search_text.eq(search_text(&c)),
        technologies::version.eq(expected_version + 1),
        technologies::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    if changed == 0 {
        let now_version = get(conn, &current.id)?.version;
        return Err(AppError::PreconditionFailed {
            expected: expected_version.to_string(),
            current: now_version,
        });
    }
    audit::append(
        conn,
        now,
        who,
        "technology.updated",
        "technology",
        &current.id,
        &serde_json::json!({
            "before": {"status": current.status, "version": current.version},
            "after": {"status": c.status, "version": expected_version + 1}
        }),
    )?;
    Ok(get(conn, &current.id)?.into())
}

/// One technology row.
pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<TechnologyRow> {
    crate::on_backend!(conn, |c| technologies::table
        .find(id)
        .select(TechnologyRow::as_select())
        .first(c))
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

type TermsRow = (String, String, i32, String, NaiveDateTime);

fn terms_from_row(row: TermsRow) -> Result<TermsVersion, AppError> {
    let (id, technology_id, version, body, created_at) = row;
    let terms = serde_json::from_str(&body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored terms {id} unreadable: {e}")))?;
    Ok(TermsVersion {
        id,
        technology_id,
        version,
        terms,
        created_at,
    })
}

fn terms_columns() -> (
    conversion_terms::id,
    conversion_terms::technology_id,
    conversion_terms::version,
    conversion_terms::body,
    conversion_terms::created_at,
) {
    (
        conversion_terms::id,
        conversion_terms::technology_id,
        conversion_terms::version,
        conversion_terms::body,
        conversion_terms::created_at,
    )
}

/// Adds a new version of a technology's terms.
pub fn add_terms(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    technology_id: &str,
    terms: Terms,
) -> Result<TermsVersion, AppError> {
    let terms = terms.validate().map_err(AppError::Validation)?;
    let created_by = who
        .user_id
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("terms must be set by a user")))?;
    let latest: Option<i32> = conversion_terms::table
        .filter(conversion_terms::technology_id.eq(technology_id))
        .select(diesel::dsl::max(conversion_terms::version))
        .first(conn)?;
    let version = latest.unwrap_or(0) + 1;
    let id = uuid::Uuid::now_v7().to_string();
    let body = serde_json::to_string(&terms).map_err(|e| AppError::Internal(e.into()))?;
    diesel::insert_into(conversion_terms::table)
        .values((
            conversion_terms::id.eq(&id),
            conversion_terms::technology_id.eq(technology_id),
            conversion_terms::version.eq(version),
            conversion_terms::price_model.eq(terms.price.model()),
            conversion_terms::currency.eq(&terms.currency),
            conversion_terms::body.eq(&body),
            conversion_terms::created_by.eq(created_by),
            conversion_terms::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        now,
        who,
        "terms.created",
        "technology",
        technology_id,
        &serde_json::json!({"after": {"terms_version": version, "terms": terms}}),
    )?;
    Ok(TermsVersion {
        id,
        technology_id: technology_id.to_string(),
        version,
        terms,
        created_at: now.naive_utc(),
    })
}

/// The terms in force (highest version), if any.
pub fn current_terms(
    conn: &mut DbConn,
    technology_id: &str,
) -> Result<Option<TermsVersion>, AppError> {
    let row: Option<TermsRow> = crate::on_backend!(conn, |c| conversion_terms::table
        .filter(conversion_terms::technology_id.eq(technology_id))
        .order(conversion_terms::version.desc())
        .select(terms_columns())
        .first(c)
        .optional())?;
    row.map(terms_from_row).transpose()
}

/// Every version of a technology's terms, newest first.
pub fn terms_history(
    conn: &mut DbConn,
    technology_id: &str,
) -> Result<Vec<TermsVersion>, AppError> {
    let rows: Vec<TermsRow> = conversion_terms::table
        .filter(conversion_terms::technology_id.eq(technology_id))
        .order(conversion_terms::version.desc())
        .select(terms_columns())
        .load(conn)?;
    rows.into_iter().map(terms_from_row).collect()
}
