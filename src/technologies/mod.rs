//! The catalogue: technologies institutes offer for trial, and their versioned conversion
//! terms. Listed technologies are public to every signed-in user; drafts and withdrawn ones
//! only to their institute and the supervisors.

pub mod model;
pub mod screening;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::audit::{self, Who};
use crate::db::schema::{conversion_terms, technologies};
use crate::db::DbConn;
use crate::error::required_text;
use crate::error::{AppError, FieldError};
use crate::search::{self, Kind};
use crate::settlement::money::Currency;
use crate::settlement::terms::Terms;

pub use model::{
    Localized, Narrow, Search, Technology, TechnologyInput, TechnologyRow, TermsVersion, Visible,
    IP_TYPES, STATUSES,
};

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

impl Checked {
    /// Whether `row` already describes the technology as this input does (its status aside).
    fn describes(&self, row: &TechnologyRow) -> bool {
        self.title.vi == row.title_vi
            && self.title.en == row.title_en
            && self.summary.vi == row.summary_vi
            && self.summary.en == row.summary_en
            && self.field == row.field
            && self.ip_type == row.ip_type
            && self.ip_reference == row.ip_reference
            && self.valuation_minor == row.valuation_minor
            && self.currency == row.valuation_currency
    }
}

/// Whether saving `input` would change what `row` says of the technology (anything but its
/// status). An input that fails its checks changes nothing: it is refused on its own.
fn changes_description(row: &TechnologyRow, input: &TechnologyInput) -> bool {
    check(input).is_ok_and(|c| !c.describes(row))
}

/// Writes a technology's words and facets to the search index (inside the caller's
/// transaction).
fn index(conn: &mut DbConn, id: &str, institute_id: &str, c: &Checked) -> QueryResult<()> {
    search::put(
        conn,
        Kind::Technology,
        id,
        &[
            &c.title.vi,
            &c.title.en,
            &c.summary.vi,
            &c.summary.en,
            &c.field,
            &c.ip_reference,
        ],
        &index_facets(&c.status, institute_id, &c.field, &c.ip_type),
    )
}

/// What a technology's searches filter by, as the index keeps it: status, institute, field
/// and kind of IP (see [`search_narrowed`]).
pub(crate) fn index_facets(
    status: &str,
    institute_id: &str,
    field: &str,
    ip_type: &str,
) -> Vec<search::Facet> {
    vec![
        search::Facet::new("status", status),
        search::Facet::new("org", institute_id),
        search::Facet::new("field", field),
        search::Facet::new("ip", ip_type),
    ]
}

/// The index's filter for `visible` and the filters of `search` and `narrow` (all but the
/// trial length, which is in the terms).
fn search_filter(
    visible: Visible<'_>,
    search: &Search,
    narrow: &Narrow,
) -> Vec<Vec<search::Facet>> {
    use search::Facet;
    let mut filter = Vec::new();
    match visible {
        Visible::All => {}
        Visible::Listed => filter.push(vec![Facet::new("status", "listed")]),
        Visible::ListedOrOwn(org) => {
            filter.push(vec![Facet::new("status", "listed"), Facet::new("org", org)])
        }
    }
    let one =
        |name, value: &Option<String>| value.as_ref().map(|v| vec![Facet::new(name, v.clone())]);
    filter.extend(one("field", &search.field));
    filter.extend(one("status", &search.status));
    filter.extend(one("org", &search.institute_id));
    filter.extend(one("ip", &narrow.ip_type));
    if let Some(ids) = &narrow.institute_ids {
        filter.push(ids.iter().map(|i| Facet::new("org", i.clone())).collect());
    }
    filter
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
            technologies::version.eq(1),
            technologies::created_at.eq(now.naive_utc()),
            technologies::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    index(conn, &id, institute_id, &c)?;
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
    index(conn, &current.id, &current.institute_id, &c)?;
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

/// A page of the technologies `visible` and `search` find, and how many there are: with words,
/// the best matches first (the search index's ranking); without, most recently changed first.
pub fn search(
    conn: &mut DbConn,
    visible: Visible<'_>,
    search: &Search,
    limit: i64,
    offset: i64,
) -> Result<(Vec<TechnologyRow>, i64), AppError> {
    search_narrowed(conn, visible, search, &Narrow::default(), limit, offset)
}

/// The technologies `visible` may see, as a query to narrow.
fn visible_to<'a>(visible: Visible<'_>) -> technologies::BoxedQuery<'a, crate::db::MultiBackend> {
    let query = technologies::table.into_boxed();
    match visible {
        Visible::All => query,
        Visible::ListedOrOwn(org) => query.filter(
            technologies::status
                .eq("listed")
                .or(technologies::institute_id.eq(org.to_string())),
        ),
        Visible::Listed => query.filter(technologies::status.eq("listed")),
    }
}

/// [`search`], narrowed further by `narrow` (the catalogue page's filters).
///
/// The trial length is a fact of each technology's current terms, kept in their stored body:
/// with that filter the technologies the rest finds are read in order (ids only), their
/// current terms kept or dropped by trial length, and the page cut from what remains.
pub fn search_narrowed(
    conn: &mut DbConn,
    visible: Visible<'_>,
    search: &Search,
    narrow: &Narrow,
    limit: i64,
    offset: i64,
) -> Result<(Vec<TechnologyRow>, i64), AppError> {
    let filtered = || {
        let mut query = visible_to(visible);
        if let Some(f) = &search.field {
            query = query.filter(technologies::field.eq(f.clone()));
        }
        if let Some(s) = &search.status {
            query = query.filter(technologies::status.eq(s.clone()));
        }
        if let Some(i) = &search.institute_id {
            query = query.filter(technologies::institute_id.eq(i.clone()));
        }
        if let Some(t) = &narrow.ip_type {
            query = query.filter(technologies::ip_type.eq(t.clone()));
        }
        if let Some(ids) = &narrow.institute_ids {
            query = query.filter(technologies::institute_id.eq_any(ids.clone()));
        }
        query
    };
    let words = search.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let ids: Vec<String> = match words {
        // No words: most recently changed first. One pass over the matches gives both the
        // count and the page.
        None => filtered()
            .order((technologies::updated_at.desc(), technologies::id.asc()))
            .select(technologies::id)
            .load(conn)?,
        // Words: the index's matches, best first, filtered by the index's facets; without a
        // trial length to check, the index gives the page and the count by itself.
        Some(words) => {
            let filter = search_filter(visible, search, narrow);
            if narrow.trial_days.is_none() {
                let (hits, total) =
                    search::page(conn, Kind::Technology, words, &filter, limit, offset)?;
                let page: Vec<String> = hits.into_iter().map(|h| h.id).collect();
                return Ok((rows_in_order(conn, &page)?, total));
            }
            search::find(conn, Kind::Technology, words, &filter)?
                .into_iter()
                .map(|h| h.id)
                .collect()
        }
    };
    let kept: Vec<&String> = match narrow.trial_days {
        None => ids.iter().collect(),
        Some((shortest, longest)) => {
            let mut trial = std::collections::HashMap::new();
            for chunk in ids.chunks(TERMS_CHUNK) {
                for t in current_terms_of(conn, chunk)? {
                    trial.insert(t.technology_id, t.terms.trial_days);
                }
            }
            ids.iter()
                .filter(|id| {
                    trial
                        .get(*id)
                        .is_some_and(|d| (shortest..=longest).contains(d))
                })
                .collect()
        }
    };
    let page: Vec<String> = kept
        .iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|id| id.to_string())
        .collect();
    Ok((rows_in_order(conn, &page)?, kept.len() as i64))
}

/// The technologies `ids`, in that order.
fn rows_in_order(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<TechnologyRow>> {
    let mut rows: Vec<TechnologyRow> = technologies::table
        .filter(technologies::id.eq_any(ids))
        .select(TechnologyRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(rows)
}

/// How many technologies' terms one query reads (well under either backend's bound values).
const TERMS_CHUNK: usize = 500;

/// The terms in force of each of `ids` that has any, in one query.
pub fn current_terms_of(conn: &mut DbConn, ids: &[String]) -> Result<Vec<TermsVersion>, AppError> {
    let rows: Vec<TermsRow> = conversion_terms::table
        .filter(conversion_terms::technology_id.eq_any(ids))
        .order((
            conversion_terms::technology_id.asc(),
            conversion_terms::version.desc(),
        ))
        .select(terms_columns())
        .load(conn)?;
    let mut current: Vec<TermsRow> = Vec::new();
    for row in rows {
        if current.last().is_some_and(|c| c.1 == row.1) {
            continue; // an older version
        }
        current.push(row);
    }
    current.into_iter().map(terms_from_row).collect()
}

/// The institutes with a technology `visible` may see, and the fields those technologies are
/// in, each once and sorted: what the catalogue's filters offer.
pub fn facets(conn: &mut DbConn, visible: Visible<'_>) -> QueryResult<(Vec<String>, Vec<String>)> {
    let pairs: Vec<(String, String)> = visible_to(visible)
        .select((technologies::institute_id, technologies::field))
        .distinct()
        .load(conn)?;
    let institutes: std::collections::BTreeSet<String> =
        pairs.iter().map(|(i, _)| i.clone()).collect();
    let fields: std::collections::BTreeSet<String> = pairs.into_iter().map(|(_, f)| f).collect();
    Ok((
        institutes.into_iter().collect(),
        fields.into_iter().collect(),
    ))
}
