//! Agreements in the database: request, read, list, and the one transactional path every
//! transition takes (load → check version → [`lifecycle::decide`] → update → audit).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, Who};
use crate::auth::policy::{agreement_scope, sees, AgreementScope, On};
use crate::auth::session::Actor;
use crate::db::schema::{agreements, organisations};
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::lifecycle::{self, Action, By, Command, Facts, Refusal, Status};
use crate::settlement::terms::Terms;
use crate::technologies::{self, TermsVersion};

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
    let (Some(actor), Ok(status)) = (actor, row.status()) else {
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
    Action::ALL
        .into_iter()
        .filter(|a| a.allowed_by(By::User(actor.role)) && a.from_states().contains(&status))
        .filter(|a| match a {
            Action::Sign => match actor.role {
                crate::rules::roles::Role::Sme => row.sme_signed_at.is_none(),
                _ => row.institute_signed_at.is_none(),
            },
            Action::Extend => !row.extended,
            _ => true,
        })
        .collect()
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

/// One agreement row.
pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<AgreementRow> {
    // On the concrete connection, so the prepared statement is cached (the hottest read).
    crate::on_backend!(conn, |c| agreements::table
        .find(id)
        .select(AgreementRow::as_select())
        .first(c))
}

/// One agreement the actor may see; anything else is 404.
pub fn get_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<AgreementRow, AppError> {
    let row = get(conn, id).optional()?.ok_or(AppError::NotFound)?;
    if sees(actor, row.on()) {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// The next agreement number for `year`: PREFIX-YEAR-NNNNNN, gap-free per year.
pub fn next_number(conn: &mut DbConn, prefix: &str, year: i32) -> QueryResult<String> {
    let value = bump_counter(conn, &format!("agreement-{year}"))?;
    Ok(format!("{prefix}-{year}-{value:06}"))
}

/// Adds one to counter `name` (created at 0 on first use, once even if two writers race) and
/// returns its new value; inside the caller's transaction, so numbers are gap-free.
/// `name` must be built from fixed text and integers (it is inlined in the creating SQL).
pub fn bump_counter(conn: &mut DbConn, name: &str) -> QueryResult<i64> {
    use crate::db::schema::counters;
    debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let bump = |conn: &mut DbConn| {
        crate::on_backend!(conn, |c| diesel::update(counters::table.find(name))
            .set(counters::value.eq(counters::value + 1))
            .execute(c))
    };
    if bump(conn)? == 0 {
        diesel::sql_query(format!(
            "INSERT INTO counters (name, value) VALUES ('{name}', 0) ON CONFLICT (name) DO NOTHING"
        ))
        .execute(conn)?;
        bump(conn)?;
    }
    crate::on_backend!(conn, |c| counters::table
        .find(name)
        .select(counters::value)
        .first(c))
}

/// What an SME asks for.
pub struct NewRequest<'a> {
    pub technology_id: &'a str,
    pub place_of_use: String,
    pub message: String,
    pub requested_start: NaiveDate,
}

/// Creates a trial request by the actor's SME, on the technology's current terms.
pub fn request(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    tz: Tz,
    prefix: &str,
    actor: &Actor,
    req: NewRequest<'_>,
) -> Result<AgreementRow, AppError> {
    let tech = technologies::get(conn, req.technology_id).optional()?;
    let tech = match tech {
        Some(t) if t.status == "listed" => t,
        // A draft or withdrawn technology is not the SME's to see.
        _ => {
            return Err(AppError::field(
                "technology_id",
                "no listed technology with this id",
            ))
        }
    };
    let terms: TermsVersion = technologies::current_terms(conn, &tech.id)?.ok_or_else(|| {
        AppError::field(
            "technology_id",
            "this technology has no conversion terms yet",
        )
    })?;
    let today = now.with_timezone(&tz).date_naive();
    if req.requested_start < today {
        return Err(AppError::field(
            "requested_start",
            format!("must not be before today ({today})"),
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let number = next_number(conn, prefix, today.year())?;
    crate::on_backend!(conn, |c| diesel::insert_into(agreements::table)
        .values((
            agreements::id.eq(&id),
            agreements::number.eq(&number),
            agreements::technology_id.eq(&tech.id),
            agreements::institute_id.eq(&tech.institute_id),
            agreements::sme_id.eq(&actor.organisation_id),
            agreements::status.eq(Status::Requested.as_str()),
            agreements::version.eq(1i64),
            agreements::terms_id.eq(&terms.id),
            agreements::terms_version.eq(terms.version),
            agreements::place_of_use.eq(&req.place_of_use),
            agreements::message.eq(&req.message),
            agreements::time_zone.eq(tz.name()),
            agreements::requested_start.eq(req.requested_start),
            agreements::extended.eq(false),
            agreements::requested_by.eq(&actor.user_id),
            agreements::created_at.eq(now.naive_utc()),
            agreements::updated_at.eq(now.naive_utc()),
        ))
        .execute(c))?;
    let who = Who::from(actor);
    audit::append(
        conn,
        now,
        who,
        "agreement.requested",
        "agreement",
        &id,
        &serde_json::json!({
            "after": {"status": "requested", "number": number, "technology_id": tech.id, "sme_id": actor.organisation_id,
                      "institute_id": tech.institute_id, "terms_version": terms.version, "requested_start": req.requested_start}
        }),
    )?;
    let row = get(conn, &id)?;
    crate::mail::enqueue_agreement(conn, now, "requested", &row, serde_json::json!({}))?;
    Ok(row)
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
}

fn refusal(r: Refusal, row: &AgreementRow) -> AppError {
    match r {
        Refusal::NotPermitted { .. } => AppError::Forbidden(r.to_string()),
        Refusal::WrongState { .. } | Refusal::NotNow { .. } => AppError::InvalidTransition {
            detail: r.to_string(),
            current_state: row.status.clone(),
            current_version: row.version,
        },
        Refusal::Invalid { field, reason } => AppError::field(field, reason),
    }
}

/// Takes `action` on agreement `id` as `actor` (or the scheduler when `None`), if it is still
/// at `expected_version`. One transaction: the row update and its audit event.
pub fn transition(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: Option<&Actor>,
    id: &str,
    expected_version: Option<i64>,
    action: Action,
    input: &ActionInput,
) -> Result<AgreementRow, AppError> {
    let row = match actor {
        Some(a) => get_visible(conn, a, id)?,
        None => get(conn, id)?,
    };
    if let Some(expected) = expected_version {
        if expected != row.version {
            return Err(AppError::PreconditionFailed {
                expected: expected.to_string(),
                current: row.version,
            });
        }
    }
    let by = actor.map(|a| By::User(a.role)).unwrap_or(By::System);
    if let (Some(a), By::User(_)) = (actor, by) {
        // Admins act as the operator; everyone else only for their own side.
        let own_side = match a.role {
            crate::rules::roles::Role::Sme => row.sme_id == a.organisation_id,
            crate::rules::roles::Role::Institute => row.institute_id == a.organisation_id,
            _ => true,
        };
        if !own_side {
            return Err(AppError::Forbidden(format!(
                "a {} may not {} this agreement",
                a.role.as_str(),
                action.as_str()
            )));
        }
    }
    let today = now.with_timezone(&row.tz()).date_naive();
    let facts = row.facts()?;
    let mut snapshot: Option<(String, i32, String)> = None;
    let mut insurer_id = row.insurer_id.clone();
    let mut chosen: Option<(crate::insurance::products::ProductRow, i64)> = None;
    let command = match action {
        Action::Approve => {
            let terms =
                technologies::current_terms(conn, &row.technology_id)?.ok_or_else(|| {
                    AppError::Conflict("the technology has no conversion terms".into())
                })?;
            if let Some(ins) = &input.insurer_id {
                let kind: Option<String> = organisations::table
                    .find(ins)
                    .select(organisations::kind)
                    .first(conn)
                    .optional()?;
                if kind.as_deref() != Some("insurer") {
                    return Err(AppError::field("insurer_id", "no insurer with this id"));
                }
                insurer_id = Some(ins.clone());
            }
            if let Some(product_id) = &input.insurance_product_id {
                let (product, cover) = crate::insurance::cover::check_choice(
                    conn,
                    product_id,
                    input.insurance_coverage.as_deref(),
                    &terms.terms.currency,
                    today,
                    "insurance_",
                )?;
                if input
                    .insurer_id
                    .as_ref()
                    .is_some_and(|ins| *ins != product.insurer_id)
                {
                    return Err(AppError::field(
                        "insurer_id",
                        "the chosen insurance product is another insurer's",
                    ));
                }
                insurer_id = Some(product.insurer_id.clone());
                chosen = Some((product, cover));
            } else if input.insurance_coverage.is_some() {
                return Err(AppError::field(
                    "insurance_coverage",
                    "name the insurance product it is asked of (insurance_product_id)",
                ));
            }
            if terms.terms.insurance_required
                && insurer_id.is_none()
                && facts.status == Status::Requested
            {
                return Err(AppError::field(
                    "insurer_id",
                    "these terms require insurance: name the insurer covering the trial",
                ));
            }
            let cmd = Command::Approve {
                trial_days: terms.terms.trial_days,
                decision_days: terms.terms.decision_days,
                start: input.trial_start,
            };
            let body =
                serde_json::to_string(&terms.terms).map_err(|e| AppError::Internal(e.into()))?;
            snapshot = Some((terms.id, terms.version, body));
            cmd
        }
        Action::Reject => Command::Reject,
        Action::Withdraw => Command::Withdraw,
        Action::Sign => Command::Sign,
        Action::Convert => Command::Convert,
        Action::Decline => Command::Decline,
        Action::Terminate => Command::Terminate,
        Action::Extend => Command::Extend {
            days: input.days.unwrap_or(0),
        },
        Action::Start => Command::Start,
        Action::EndTrial => Command::EndTrial,
        Action::Lapse => Command::Lapse,
    };
    let next = lifecycle::decide(&facts, by, &command, today).map_err(|r| refusal(r, &row))?;
    let fully_signed = action == Action::Sign && next.status == Status::Signed;
    // Both parties sign the same cover: with insurance required, the product is chosen
    // before the first signature (and cannot change after it).
    if action == Action::Sign
        && insurance_required(&row)?
        && crate::insurance::cover::choice(conn, &row.id)?.is_none()
    {
        return Err(AppError::InvalidTransition {
            detail: "these terms require insurance: a party chooses the insurance product (POST /api/v1/insurance/agreements/{id}/product) before signing".into(),
            current_state: row.status.clone(),
            current_version: row.version,
        });
    }
    let stamp = now.naive_utc();
    let sme_signed_at = if next.sme_signed && !facts.sme_signed {
        Some(stamp)
    } else {
        row.sme_signed_at
    };
    let institute_signed_at = if next.institute_signed && !facts.institute_signed {
        Some(stamp)
    } else {
        row.institute_signed_at
    };
    let closed_reason = if next.status.is_final() {
        input.reason.clone().or(row.closed_reason.clone())
    } else {
        row.closed_reason.clone()
    };
    let m = milestones(&row, action, next.status, stamp, today);
    let (terms_id, terms_version, terms_snapshot) = match snapshot {
        Some((tid, tv, body)) => (tid, tv, Some(body)),
        None => (
            row.terms_id.clone(),
            row.terms_version,
            row.terms_snapshot.clone(),
        ),
    };
    let updated = diesel::update(
        agreements::table
            .find(&row.id)
            .filter(agreements::version.eq(row.version)),
    )
    .set((
        agreements::status.eq(next.status.as_str()),
        agreements::version.eq(row.version + 1),
        agreements::trial_start.eq(next.trial_start),
        agreements::trial_end.eq(next.trial_end),
        agreements::decision_deadline.eq(next.decision_deadline),
        agreements::extended.eq(next.extended),
        agreements::sme_signed_at.eq(sme_signed_at),
        agreements::institute_signed_at.eq(institute_signed_at),
        agreements::closed_reason.eq(&closed_reason),
        agreements::insurer_id.eq(&insurer_id),
        agreements::terms_id.eq(&terms_id),
        agreements::terms_version.eq(terms_version),
        agreements::terms_snapshot.eq(&terms_snapshot),
        agreements::updated_at.eq(stamp),
        (
            agreements::approved_at.eq(m.approved_at),
            agreements::started_on.eq(m.started_on),
            agreements::trial_ended_on.eq(m.trial_ended_on),
            agreements::closed_at.eq(m.closed_at),
            agreements::decision_days.eq(m.decision_days),
        ),
    ))
    .execute(conn)?;
    if updated == 0 {
        // Someone else moved it between our read and write (PostgreSQL, concurrent writers).
        let current = get(conn, &row.id)?;
        return Err(AppError::PreconditionFailed {
            expected: row.version.to_string(),
            current: current.version,
        });
    }
    let who = actor.map_or(Who::SYSTEM, Who::from);
    if let Some((product, cover)) = &chosen {
        let by_org = actor.map_or(row.institute_id.as_str(), |a| a.organisation_id.as_str());
        crate::insurance::cover::record_choice(conn, now, &row.id, product, *cover, by_org)?;
    }
    let mut after = serde_json::json!({
        "status": next.status.as_str(), "version": row.version + 1,
        "trial_start": next.trial_start, "trial_end": next.trial_end, "decision_deadline": next.decision_deadline,
    });
    if action == Action::Approve {
        after["terms_version"] = terms_version.into();
        after["insurer_id"] = insurer_id.clone().into();
        // The parties and the technology as they were when the terms were fixed: what the
        // agreement's documents print, however the catalogue or the organisations change
        // later (documents/context.rs).
        after["document"] = document_facts(conn, &row)?;
    }
    if let Some(reason) = &input.reason {
        after["reason"] = reason.clone().into();
    }
    if action == Action::Convert {
        // The contract and its schedule are part of the same change as the conversion.
        let terms: Terms = terms_snapshot
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| {
                AppError::Internal(anyhow::anyhow!(
                    "agreement {} terms snapshot unreadable: {e}",
                    row.id
                ))
            })?
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "agreement {} converts without fixed terms",
                    row.id
                ))
            })?;
        let q = crate::contracts::create(
            conn,
            now,
            &row.id,
            &terms,
            today,
            next.trial_end,
            input.rounding,
            input.tax.as_ref(),
        )?;
        after["contract"] = serde_json::json!({
            "currency": q.currency, "total_minor": q.total_minor, "lines": q.lines.len(),
            "early_conversion_discount": q.early_conversion_discount, "rounding": q.rounding,
            "tax": input.tax,
        });
    }
    if let Some((product, cover)) = &chosen {
        after["insurance"] = serde_json::json!({
            "product_id": product.id, "product_version": product.version, "coverage_minor": cover,
        });
    }
    if action == Action::Sign {
        after["signed_by"] = actor.map(|a| a.role.as_str()).into();
        // The name the signature block prints, as it was when the user signed.
        after["signer_name"] = actor.map(|a| a.display_name.clone()).into();
    }
    audit::append(
        conn,
        now,
        who,
        &format!("agreement.{}", action.as_str()),
        "agreement",
        &row.id,
        &serde_json::json!({
            "before": {"status": row.status, "version": row.version},
            "after": after,
        }),
    )?;
    let updated = get(conn, &row.id)?;
    // The policy is bound on the chosen product when both parties have signed, and ends
    // with the agreement (cover for non-payment lasts through the payment schedule).
    if fully_signed {
        crate::insurance::cover::bind_chosen(conn, now, who, &updated, today, input.rounding)?;
    }
    match next.status {
        Status::Declined | Status::Lapsed | Status::Terminated => {
            crate::insurance::cover::end_policies(
                conn,
                now,
                who,
                &row.id,
                next.status.as_str(),
                false,
            )?;
        }
        Status::Converted if action == Action::Convert => {
            crate::insurance::cover::end_policies(conn, now, who, &row.id, "converted", true)?;
        }
        _ => {}
    }
    // The messages that name a reason are for final states, which record it as closed_reason.
    crate::mail::enqueue_agreement(
        conn,
        now,
        mail_kind(action),
        &updated,
        serde_json::json!({}),
    )?;
    Ok(updated)
}

/// When the steps the monthly reports count happened.
struct Milestones {
    approved_at: Option<NaiveDateTime>,
    started_on: Option<NaiveDate>,
    trial_ended_on: Option<NaiveDate>,
    closed_at: Option<NaiveDateTime>,
    decision_days: Option<i32>,
}

/// The milestones after `action` takes `row` to `next` at `stamp` (`today` in its zone). A
/// scheduler step that catches up late still dates the trial by its own calendar: it started
/// on its start day and ended on its end day.
fn milestones(
    row: &AgreementRow,
    action: Action,
    next: Status,
    stamp: NaiveDateTime,
    today: NaiveDate,
) -> Milestones {
    let was = row.status().ok();
    let mut m = Milestones {
        approved_at: row.approved_at,
        started_on: row.started_on,
        trial_ended_on: row.trial_ended_on,
        closed_at: row.closed_at,
        decision_days: row.decision_days,
    };
    if action == Action::Approve && m.approved_at.is_none() {
        m.approved_at = Some(stamp);
    }
    if action == Action::Start {
        m.started_on = row.trial_start.or(Some(today));
    }
    if was == Some(Status::Active) && next != Status::Active {
        // The trial ran to its end, or was cut short by a conversion or a termination today.
        m.trial_ended_on = match action {
            Action::EndTrial => row.trial_end.or(Some(today)),
            _ => Some(row.trial_end.map_or(today, |end| end.min(today))),
        };
    }
    if next.is_final() && !was.is_some_and(Status::is_final) {
        m.closed_at = Some(stamp);
        if matches!(next, Status::Converted | Status::Declined | Status::Lapsed) {
            m.decision_days = row
                .trial_end
                .map(|end| (today - end).num_days().clamp(0, i64::from(i32::MAX)) as i32);
        }
    }
    m
}

/// Fills the milestones that need the local calendar day of the closing instant (when a trial
/// cut short ended, the days to a decision) for agreements closed before the service kept
/// them, as [`milestones`] would have stamped them. Run after migrating; does nothing when
/// nothing is missing. Returns how many agreements it filled.
pub fn fill_milestones(db: &crate::db::Db) -> Result<usize, AppError> {
    type Missing = (
        String,
        String,
        String,
        Option<NaiveDate>,
        NaiveDateTime,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<i32>,
    );
    let closed = ["converted", "declined", "lapsed", "terminated"];
    let mut filled = 0;
    loop {
        let rows: Vec<Missing> = {
            let mut conn = db.reader()?;
            agreements::table
                .filter(agreements::status.eq_any(closed))
                .filter(agreements::trial_end.is_not_null())
                .filter(
                    agreements::started_on
                        .is_not_null()
                        .and(agreements::trial_ended_on.is_null())
                        .or(agreements::status
                            .ne("terminated")
                            .and(agreements::decision_days.is_null())),
                )
                .filter(agreements::closed_at.is_not_null())
                .order(agreements::id)
                .limit(1000)
                .select((
                    agreements::id,
                    agreements::status,
                    agreements::time_zone,
                    agreements::trial_end,
                    agreements::closed_at.assume_not_null(),
                    agreements::started_on,
                    agreements::trial_ended_on,
                    agreements::decision_days,
                ))
                .load(&mut conn)?
        };
        if rows.is_empty() {
            return Ok(filled);
        }
        filled += rows.len();
        db.write(|conn| {
            for (id, status, zone, trial_end, closed_at, started_on, ended, days) in &rows {
                let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
                let day = chrono::TimeZone::from_utc_datetime(&tz, closed_at).date_naive();
                let end = trial_end.unwrap_or(day);
                let ended = ended.or(started_on.map(|_| end.min(day)));
                let days = match status.as_str() {
                    "terminated" => *days,
                    _ => days.or(Some(
                        (day - end).num_days().clamp(0, i64::from(i32::MAX)) as i32
                    )),
                };
                diesel::update(agreements::table.find(id))
                    .set((
                        agreements::trial_ended_on.eq(ended),
                        agreements::decision_days.eq(days),
                    ))
                    .execute(conn)?;
            }
            Ok::<_, AppError>(())
        })?;
    }
}

/// Whether the agreement's fixed terms require insurance.
fn insurance_required(row: &AgreementRow) -> Result<bool, AppError> {
    let Some(text) = row.terms_snapshot.as_deref() else {
        return Ok(false);
    };
    let terms: Terms = serde_json::from_str(text).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "agreement {} terms snapshot unreadable: {e}",
            row.id
        ))
    })?;
    Ok(terms.insurance_required)
}

/// A party (the SME or the institute) chooses the insurance product and cover of an approved
/// agreement before either has signed; the product's insurer becomes the agreement's. One
/// transaction: the choice, the agreement's new version and the audit event.
pub fn choose_insurance(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    expected_version: i64,
    product_id: &str,
    coverage: Option<&str>,
) -> Result<AgreementRow, AppError> {
    use crate::rules::roles::Role;
    let row = get_visible(conn, actor, id)?;
    if row.version != expected_version {
        return Err(AppError::PreconditionFailed {
            expected: expected_version.to_string(),
            current: row.version,
        });
    }
    let party = match actor.role {
        Role::Sme => row.sme_id == actor.organisation_id,
        Role::Institute => row.institute_id == actor.organisation_id,
        _ => false,
    };
    if !party {
        return Err(AppError::Forbidden(
            "the agreement's SME or institute chooses its insurance".into(),
        ));
    }
    if row.status()? != Status::Approved
        || row.sme_signed_at.is_some()
        || row.institute_signed_at.is_some()
    {
        return Err(AppError::InvalidTransition {
            detail: "insurance is chosen after approval and before either party signs".into(),
            current_state: row.status.clone(),
            current_version: row.version,
        });
    }
    let terms: Terms = row
        .terms_snapshot
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("agreement {} terms: {e}", row.id)))?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("approved without terms")))?;
    let today = now.with_timezone(&row.tz()).date_naive();
    let (product, cover) = crate::insurance::cover::check_choice(
        conn,
        product_id,
        coverage,
        &terms.currency,
        today,
        "",
    )?;
    let stamp = now.naive_utc();
    let updated = diesel::update(
        agreements::table
            .find(&row.id)
            .filter(agreements::version.eq(row.version)),
    )
    .set((
        agreements::version.eq(row.version + 1),
        agreements::insurer_id.eq(&product.insurer_id),
        agreements::updated_at.eq(stamp),
    ))
    .execute(conn)?;
    if updated == 0 {
        let current = get(conn, &row.id)?;
        return Err(AppError::PreconditionFailed {
            expected: row.version.to_string(),
            current: current.version,
        });
    }
    crate::insurance::cover::record_choice(
        conn,
        now,
        &row.id,
        &product,
        cover,
        &actor.organisation_id,
    )?;
    audit::append(
        conn,
        now,
        Who::from(actor),
        "agreement.insurance_chosen",
        "agreement",
        &row.id,
        &serde_json::json!({
            "before": {"version": row.version, "insurer_id": row.insurer_id},
            "after": {"version": row.version + 1, "insurer_id": product.insurer_id,
                      "product_id": product.id, "product_version": product.version,
                      "coverage_minor": cover},
        }),
    )?;
    Ok(get(conn, &row.id)?)
}

/// The parties and the technology of `row` as documents print them, for the approval event.
fn document_facts(conn: &mut DbConn, row: &AgreementRow) -> Result<serde_json::Value, AppError> {
    let party = |conn: &mut DbConn, id: &str| -> Result<serde_json::Value, AppError> {
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
        Ok(serde_json::json!({
            "name": name, "registration_no": registration_no, "province": province,
            "contact_email": contact_email,
        }))
    };
    let tech = technologies::get(conn, &row.technology_id)?;
    Ok(serde_json::json!({
        "institute": party(conn, &row.institute_id)?,
        "sme": party(conn, &row.sme_id)?,
        "technology": {
            "title_vi": tech.title_vi, "title_en": tech.title_en, "field": tech.field,
            "ip_type": tech.ip_type, "ip_reference": tech.ip_reference,
        },
    }))
}

/// The message each action sends to the parties.
fn mail_kind(action: Action) -> &'static str {
    match action {
        Action::Approve => "approved",
        Action::Reject => "rejected",
        Action::Withdraw => "withdrawn",
        Action::Sign => "signed",
        Action::Start => "started",
        Action::EndTrial => "trial_ended",
        Action::Convert => "converted",
        Action::Decline => "declined",
        Action::Lapse => "lapsed",
        Action::Terminate => "terminated",
        Action::Extend => "extended",
    }
}

/// Filters for listing.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub technology_id: Option<String>,
    pub sme_id: Option<String>,
    pub institute_id: Option<String>,
}

/// A page of the agreements the actor may see, newest first, and the total.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &ListFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<AgreementRow>, i64)> {
    let scope = agreement_scope(actor);
    let filtered = || {
        let mut q = agreements::table.into_boxed();
        q = match &scope {
            AgreementScope::All => q,
            AgreementScope::Sme(org) => q.filter(agreements::sme_id.eq(org.clone())),
            AgreementScope::Institute(org) => q.filter(agreements::institute_id.eq(org.clone())),
            AgreementScope::Insurer(org) => q.filter(agreements::insurer_id.eq(org.clone())),
        };
        if let Some(s) = filter.status {
            q = q.filter(agreements::status.eq(s.as_str()));
        }
        if let Some(t) = &filter.technology_id {
            q = q.filter(agreements::technology_id.eq(t.clone()));
        }
        if let Some(s) = &filter.sme_id {
            q = q.filter(agreements::sme_id.eq(s.clone()));
        }
        if let Some(i) = &filter.institute_id {
            q = q.filter(agreements::institute_id.eq(i.clone()));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((agreements::created_at.desc(), agreements::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(AgreementRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Makes every time-driven transition due at `now`, each agreement in its own transaction,
/// through the same path as a person's action. Idempotent: running it again changes nothing.
/// Returns how many transitions were made.
pub fn advance_due(db: &crate::db::Db, now: DateTime<Utc>) -> Result<usize, AppError> {
    // Dates are local to each agreement's zone; no zone is more than 14 h ahead of UTC, so
    // this bound finds every candidate and the state machine decides exactly.
    let latest_today = (now + chrono::Duration::hours(14)).date_naive();
    let ids: Vec<String> = {
        let mut conn = db.reader()?;
        agreements::table
            .filter(
                agreements::status
                    .eq(Status::Signed.as_str())
                    .and(agreements::trial_start.le(latest_today))
                    .or(agreements::status
                        .eq(Status::Active.as_str())
                        .and(agreements::trial_end.lt(latest_today)))
                    .or(agreements::status
                        .eq(Status::AwaitingDecision.as_str())
                        .and(agreements::decision_deadline.lt(latest_today))),
            )
            .select(agreements::id)
            .load(&mut conn)?
    };
    let mut made = 0;
    for id in ids {
        made += db.write(|conn| {
            let row = get(conn, &id)?;
            let steps =
                lifecycle::advance(&row.facts()?, now.with_timezone(&row.tz()).date_naive());
            for (action, _) in &steps {
                transition(conn, now, None, &id, None, *action, &ActionInput::default())?;
            }
            Ok::<usize, AppError>(steps.len())
        })?;
    }
    Ok(made)
}
