//! What each agreement action does across the parts, in one transaction: the lifecycle's
//! decision written by `agreements`, the terms fixed from `technologies` at approval, the cover
//! chosen and bound by `insurance`, the contract made by `contracts` on conversion, the demand
//! a request came from opened again by `demands` when the request ends before its trial, the
//! audit event, and the mail to the parties. The API, the scheduler's advance job and the demo seed
//! all come through here; nothing else knows this sequence.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::agreements::model::{ActionInput, Agreement, AgreementRow, ListFilter, NewRequest};
use crate::agreements::store::{self, Change, Offer};
use crate::audit::{self, Event, Who};
use crate::auth::session::Actor;
use crate::db::{idempotency, DbConn};
use crate::error::AppError;
use crate::insurance::model::ProductRow;
use crate::rules::lifecycle::{self, Action, By, Command, Status};
use crate::settlement::quote::Quote;
use crate::AppState;

/// An SME requests a trial of a listed technology, on its current terms, numbered with
/// `prefix` and dated in `tz`; the parties are told. Inside the caller's transaction.
pub fn request(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
    prefix: &str,
    actor: &Actor,
    req: NewRequest<'_>,
) -> Result<AgreementRow, AppError> {
    let tech = crate::technologies::get(conn, req.technology_id).optional()?;
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
    let terms = crate::technologies::current_terms(conn, &tech.id)?.ok_or_else(|| {
        AppError::field(
            "technology_id",
            "this technology has no conversion terms yet",
        )
    })?;
    let offer = Offer {
        technology_id: &tech.id,
        institute_id: &tech.institute_id,
        terms_id: &terms.id,
        terms_version: terms.version,
    };
    let row = store::insert_request(conn, now, tz, prefix, actor, &offer, req)?;
    crate::mail::enqueue_agreement(conn, now, "requested", &row, serde_json::json!({}))?;
    Ok(row)
}

/// Takes `action` on agreement `id` as `actor` (the scheduler when `None`), if it is still at
/// `expected_version`, inside the caller's transaction: the row and its audit event, and what
/// the action means elsewhere (see the module comment).
pub fn transition(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: Option<&Actor>,
    id: &str,
    expected_version: Option<i64>,
    action: Action,
    input: &ActionInput,
) -> Result<AgreementRow, AppError> {
    let row = store::for_action(conn, actor, id, expected_version, action)?;
    let by = actor.map(|a| By::User(a.role)).unwrap_or(By::System);
    let today = now.with_timezone(&row.tz()).date_naive();
    let facts = row.facts()?;
    let mut change = Change {
        insurer_id: row.insurer_id.clone(),
        snapshot: None,
        reason: input.reason.clone(),
    };
    let mut chosen: Option<(ProductRow, i64)> = None;
    let command = match action {
        Action::Approve => {
            let (cmd, snapshot) = approval(conn, &row, input, today, &mut change, &mut chosen)?;
            change.snapshot = Some(snapshot);
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
    let next =
        lifecycle::decide(&facts, by, &command, today).map_err(|r| store::refusal(r, &row))?;
    let fully_signed = action == Action::Sign && next.status == Status::Signed;
    // Both parties sign the same cover: with insurance required, the product is chosen
    // before the first signature (and cannot change after it).
    if action == Action::Sign
        && store::insurance_required(&row)?
        && crate::insurance::cover::choice(conn, &row.id)?.is_none()
    {
        return Err(AppError::InvalidTransition {
            detail: "these terms require insurance: a party chooses the insurance product (POST /api/v1/insurance/agreements/{id}/product) before signing".into(),
            current_state: row.status.clone(),
            current_version: row.version,
        });
    }
    let insurer_id = change.insurer_id.clone();
    let fixed = store::apply(conn, now, &row, action, &next, change, today)?;
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
        after["terms_version"] = fixed.terms_version.into();
        after["insurer_id"] = insurer_id.into();
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
        let terms =
            store::decode_terms(&row.id, fixed.terms_snapshot.as_deref())?.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "agreement {} converts without fixed terms",
                    row.id
                ))
            })?;
        // Signed on the conversion day: see `contracts::create`.
        let registration =
            crate::settlement::registration::decide(&terms, &input.registration, today);
        let q = crate::contracts::create(
            conn,
            now,
            &row.id,
            &terms,
            today,
            next.trial_end,
            input.rounding,
            input.tax.as_ref(),
            &registration,
        )?;
        after["contract"] = serde_json::json!({
            "currency": q.currency, "total_minor": q.total_minor, "lines": q.lines.len(),
            "early_conversion_discount": q.early_conversion_discount, "rounding": q.rounding,
            "tax": input.tax,
            "registration": {
                "jurisdiction": registration.jurisdiction, "required": registration.required,
                "reason": registration.reason, "deadline": registration.deadline,
                "takes_effect_on_certificate": registration.takes_effect_on_certificate,
            },
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
    store::record(conn, now, who, action, &row, after)?;
    let updated = store::get(conn, &row.id)?;
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
    // A trial requested from a demand's proposal that ends before it begins gives the demand
    // back to its SME, open again (docs/MARKET.md).
    if next.status.ended_before_trial() {
        crate::demands::trial_ended(conn, now, who, &row.id, next.status.as_str())?;
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

/// The approval command on the technology's current terms (fixed as the snapshot), with the
/// insurer named or the insurance product chosen at approval checked.
fn approval(
    conn: &mut DbConn,
    row: &AgreementRow,
    input: &ActionInput,
    today: chrono::NaiveDate,
    change: &mut Change,
    chosen: &mut Option<(ProductRow, i64)>,
) -> Result<(Command, (String, i32, String)), AppError> {
    let terms = crate::technologies::current_terms(conn, &row.technology_id)?
        .ok_or_else(|| AppError::Conflict("the technology has no conversion terms".into()))?;
    if let Some(ins) = &input.insurer_id {
        if crate::accounts::kind_of(conn, ins)?.as_deref() != Some("insurer") {
            return Err(AppError::field("insurer_id", "no insurer with this id"));
        }
        change.insurer_id = Some(ins.clone());
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
        change.insurer_id = Some(product.insurer_id.clone());
        *chosen = Some((product, cover));
    } else if input.insurance_coverage.is_some() {
        return Err(AppError::field(
            "insurance_coverage",
            "name the insurance product it is asked of (insurance_product_id)",
        ));
    }
    if terms.terms.insurance_required
        && change.insurer_id.is_none()
        && row.status()? == Status::Requested
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
    let body = serde_json::to_string(&terms.terms).map_err(|e| AppError::Internal(e.into()))?;
    Ok((cmd, (terms.id, terms.version, body)))
}

/// A party (the SME or the institute) chooses the insurance product and cover of an approved
/// agreement before either has signed; the product's insurer becomes the agreement's. Inside
/// the caller's transaction: the choice, the agreement's new version and the audit event.
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
    let row = store::get_visible(conn, actor, id)?;
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
    let terms = store::fixed_terms(&row)?
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
    store::set_insurer(conn, now, &row, &product.insurer_id)?;
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
    Ok(store::get(conn, &row.id)?)
}

/// Makes every time-driven transition due at `now`, each agreement in its own transaction,
/// through the same path as a person's action. Idempotent: running it again changes nothing.
/// Returns how many transitions were made.
pub fn advance_due(db: &crate::db::Db, now: DateTime<Utc>) -> Result<usize, AppError> {
    let ids = {
        let mut conn = db.reader()?;
        store::due_ids(&mut conn, now)?
    };
    let mut made = 0;
    for id in ids {
        made += db.write(|conn| {
            let row = store::get(conn, &id)?;
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

/// The parties and the technology of `row` as documents print them, for the approval event.
fn document_facts(conn: &mut DbConn, row: &AgreementRow) -> Result<serde_json::Value, AppError> {
    let tech = crate::technologies::get(conn, &row.technology_id)?;
    Ok(serde_json::json!({
        "institute": crate::accounts::document_party(conn, &row.institute_id)?,
        "sme": crate::accounts::document_party(conn, &row.sme_id)?,
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

/// After a migration: stamps the report milestones of agreements older than those columns
/// (`migrate` runs it).
pub fn fill_milestones(db: &crate::db::Db) -> Result<usize, AppError> {
    crate::agreements::milestones::fill_milestones(db)
}

/// A creating request answered once per `Idempotency-Key`: the status and JSON body, the
/// first answer again for a retry with the same request, 422 for the key used for another.
pub struct Created {
    pub status: u16,
    pub body: String,
}

/// An SME requests a trial (see [`request`]), in its own transaction; under an
/// `Idempotency-Key` a retry gets the first answer instead of a second agreement.
pub fn request_once(
    state: &AppState,
    actor: &Actor,
    key: Option<&str>,
    request_hash: &str,
    req: NewRequest<'_>,
) -> Result<Created, AppError> {
    let now = state.clock.now();
    state.db.write(|conn| {
        if let Some(key) = key {
            // Retries under one key wait for the first to commit, then replay its answer.
            if let Some(prior) = idempotency::replay(conn, &actor.user_id, key)? {
                if prior.request_hash != request_hash {
                    return Err(AppError::field(
                        "Idempotency-Key",
                        "this key was already used for a different request",
                    ));
                }
                return Ok(Created {
                    status: prior.status,
                    body: prior.body,
                });
            }
        }
        let row = request(
            conn,
            now,
            state.tz,
            &state.cfg.app.agreement_prefix,
            actor,
            NewRequest {
                technology_id: req.technology_id,
                place_of_use: req.place_of_use.clone(),
                message: req.message.clone(),
                requested_start: req.requested_start,
            },
        )?;
        let body = serde_json::to_string(&Agreement::from_row(row, Some(actor))?)
            .map_err(|e| AppError::Internal(e.into()))?;
        let answer = idempotency::Stored {
            request_hash: request_hash.to_string(),
            status: 201,
            body,
        };
        if let Some(key) = key {
            idempotency::keep(conn, now, &actor.user_id, key, &answer)?;
        }
        Ok(Created {
            status: answer.status,
            body: answer.body,
        })
    })
}

/// Takes `action` as `actor` in its own transaction (see [`transition`]): the API's action.
pub fn act(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected_version: i64,
    action: Action,
    input: &ActionInput,
) -> Result<Agreement, AppError> {
    let now = state.clock.now();
    let row = state.db.write(|conn| {
        transition(
            conn,
            now,
            Some(actor),
            id,
            Some(expected_version),
            action,
            input,
        )
    })?;
    Agreement::from_row(row, Some(actor))
}

/// A page of the agreements the actor's organisation may see, newest first, and the total.
pub fn list(
    state: &AppState,
    actor: &Actor,
    filter: &ListFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Agreement>, i64), AppError> {
    let mut conn = state.db.reader()?;
    let (rows, total) = store::list(&mut conn, actor, filter, limit, offset)?;
    let items = rows
        .into_iter()
        .map(|r| Agreement::from_row(r, Some(actor)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((items, total))
}

/// One agreement the actor may see, on the caller's connection (a point read).
pub fn get(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Agreement, AppError> {
    let row = store::get_visible(conn, actor, id)?;
    Agreement::from_row(row, Some(actor))
}

/// The agreement's own history from the audit chain, oldest first; insurers learn the
/// organisations, never the people who acted for them.
pub fn events(state: &AppState, actor: &Actor, id: &str) -> Result<Vec<Event>, AppError> {
    let mut conn = state.db.reader()?;
    let row = store::get_visible(&mut conn, actor, id)?;
    let mut events = audit::for_entity(&mut conn, "agreement", &row.id)?;
    if actor.role == crate::rules::roles::Role::Insurer {
        events.iter_mut().for_each(audit::without_people);
    }
    Ok(events)
}

/// What converting on `convert_on` (default: today in the agreement's zone) would cost under
/// the agreement's fixed terms. Nothing is saved; 409 before approval.
pub fn quote(
    state: &AppState,
    actor: &Actor,
    id: &str,
    convert_on: Option<chrono::NaiveDate>,
) -> Result<Quote, AppError> {
    let mut conn = state.db.reader()?;
    let row = store::get_visible(&mut conn, actor, id)?;
    let agreement = Agreement::from_row(row, Some(actor))?;
    let fixed = agreement.terms.as_ref().ok_or_else(|| AppError::InvalidTransition {
        detail: "the conversion terms are fixed when the institute approves; there is nothing to quote yet".into(),
        current_state: agreement.status.as_str().to_string(),
        current_version: agreement.version,
    })?;
    let terms = &fixed.parse()?;
    let tz: chrono_tz::Tz = agreement.time_zone.parse().unwrap_or(state.tz);
    let convert_on = convert_on.unwrap_or_else(|| state.clock.today(tz));
    crate::settlement::quote::quote(
        terms,
        convert_on,
        agreement.trial_end,
        state.cfg.settlement.rounding,
    )
    .map_err(|e| AppError::field("convert_on", e.to_string()))
}

/// An agreement as a list shows it: with its technology's titles and its parties' names.
#[derive(Debug, Clone)]
pub struct Listed {
    pub agreement: Agreement,
    pub technology_vi: String,
    pub technology_en: String,
    pub sme: String,
    pub institute: String,
}

/// The names of the organisations `ids`, as (id, name).
fn organisation_names(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    Ok(crate::accounts::organisations_by_id(conn, ids)?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// The (vi, en) titles of technologies `ids`, each read once.
fn technology_titles(
    conn: &mut DbConn,
    ids: impl IntoIterator<Item = String>,
) -> Result<std::collections::HashMap<String, (String, String)>, AppError> {
    let mut titles = std::collections::HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(entry) = titles.entry(id) {
            let tech = crate::technologies::get(conn, entry.key())?;
            entry.insert((tech.title_vi, tech.title_en));
        }
    }
    Ok(titles)
}

/// A page of the agreements the actor's organisation may see (see [`list`]), each with its
/// technology and parties named, and the total.
pub fn listing(
    state: &AppState,
    actor: &Actor,
    filter: &ListFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Listed>, i64), AppError> {
    let mut conn = state.db.reader()?;
    let (rows, total) = store::list(&mut conn, actor, filter, limit, offset)?;
    let mut org_ids: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.sme_id.clone(), r.institute_id.clone()])
        .collect();
    org_ids.sort();
    org_ids.dedup();
    let names = organisation_names(&mut conn, &org_ids)?;
    let titles = technology_titles(&mut conn, rows.iter().map(|r| r.technology_id.clone()))?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    let items = rows
        .into_iter()
        .map(|r| {
            let (technology_vi, technology_en) =
                titles.get(&r.technology_id).cloned().unwrap_or_default();
            let (sme, institute) = (name(&r.sme_id), name(&r.institute_id));
            Ok(Listed {
                agreement: Agreement::from_row(r, Some(actor))?,
                technology_vi,
                technology_en,
                sme,
                institute,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok((items, total))
}

/// One step of an agreement's history as a person reads it: when, what (the audit action,
/// `agreement.approve`), the organisation and the person who acted (none for the scheduler;
/// no person for an insurer, who learns organisations only), and the event's data.
#[derive(Debug, Clone)]
pub struct Happened {
    pub at: chrono::NaiveDateTime,
    pub action: String,
    pub organisation: Option<String>,
    pub person: Option<String>,
    pub data: serde_json::Value,
}

/// An agreement with what its page shows: the technology, the parties by name, its history,
/// the terms approval would fix (before approval), and whether its insurance is chosen.
#[derive(Debug, Clone)]
pub struct Overview {
    pub agreement: Agreement,
    pub technology_vi: String,
    pub technology_en: String,
    pub sme: String,
    pub institute: String,
    pub insurer: Option<String>,
    pub history: Vec<Happened>,
    /// The technology's current terms while the agreement is requested (what approving
    /// would fix); none after approval, when the agreement's own terms are fixed.
    pub offered: Option<crate::settlement::terms::Terms>,
    pub insurance_chosen: bool,
    /// The documents the agreement has now (`documents::model::KINDS`).
    pub documents: Vec<&'static str>,
    /// The SME's payment record, for the institute deciding on the request (requested or
    /// approved, not yet signed); none for anyone else.
    pub sme_record: Option<crate::app::payment_record::PaymentRecord>,
}

/// Agreement `id` as `actor` may see it (404 otherwise), with what its page shows.
pub fn overview(state: &AppState, actor: &Actor, id: &str) -> Result<Overview, AppError> {
    let mut conn = state.db.reader()?;
    let row = store::get_visible(&mut conn, actor, id)?;
    let mut events = audit::for_entity(&mut conn, "agreement", &row.id)?;
    let insurer = actor.role == crate::rules::roles::Role::Insurer;
    if insurer {
        events.iter_mut().for_each(audit::without_people);
    }
    let mut org_ids: Vec<String> = [Some(&row.sme_id), Some(&row.institute_id)]
        .into_iter()
        .chain([row.insurer_id.as_ref()])
        .flatten()
        .cloned()
        .chain(
            events
                .iter()
                .filter_map(|e| e.actor_organisation_id.clone()),
        )
        .collect();
    org_ids.sort();
    org_ids.dedup();
    let names = organisation_names(&mut conn, &org_ids)?;
    let user_ids: Vec<&String> = if insurer {
        Vec::new()
    } else {
        events
            .iter()
            .filter_map(|e| e.actor_user_id.as_ref())
            .collect()
    };
    let people: std::collections::HashMap<String, String> = if user_ids.is_empty() {
        Default::default()
    } else {
        crate::accounts::display_names(&mut conn, user_ids)?
            .into_iter()
            .collect()
    };
    let history = events
        .into_iter()
        .map(|e| Happened {
            at: e.at,
            organisation: e
                .actor_organisation_id
                .as_ref()
                .and_then(|o| names.get(o).cloned()),
            person: e
                .actor_user_id
                .as_ref()
                .filter(|_| !insurer)
                .and_then(|u| people.get(u).cloned()),
            data: serde_json::from_str(&e.data).unwrap_or_default(),
            action: e.action,
        })
        .collect();
    let tech = crate::technologies::get(&mut conn, &row.technology_id)?;
    let status = row.status()?;
    let deciding = actor.role == crate::rules::roles::Role::Institute
        && matches!(status, Status::Requested | Status::Approved);
    let sme_record = if deciding {
        Some(crate::app::payment_record::record(
            state,
            &mut conn,
            &row.sme_id,
        )?)
    } else {
        None
    };
    let offered = if status == Status::Requested {
        crate::technologies::current_terms(&mut conn, &row.technology_id)?.map(|t| t.terms)
    } else {
        None
    };
    let insurance_chosen = crate::insurance::cover::choice(&mut conn, &row.id)?.is_some();
    let documents = crate::documents::model::KINDS
        .into_iter()
        .filter(|kind| crate::documents::service::available(&row, kind).is_ok())
        .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    Ok(Overview {
        documents,
        sme: name(&row.sme_id),
        institute: name(&row.institute_id),
        insurer: row.insurer_id.as_deref().map(name),
        technology_vi: tech.title_vi,
        technology_en: tech.title_en,
        history,
        offered,
        insurance_chosen,
        sme_record,
        agreement: Agreement::from_row(row, Some(actor))?,
    })
}
