//! What asking for an agreement's documents does across the parts: the agreement as the
//! caller may see it (`agreements`), its facts loaded from the parts that hold them
//! (`technologies`, `accounts`, `insurance`, `contracts`, and the approval and signing events
//! of the audit chain), and the document composed, set, stored and hashed into the audit
//! chain by `documents` once per agreement version, kind and language.

use std::net::IpAddr;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::agreements::model::AgreementRow;
use crate::agreements::store;
use crate::audit::Who;
use crate::auth::session::Actor;
use crate::db::DbConn;
use crate::documents::context::{
    check_figures, Contract, Cover, Facts, Line, Party, Registered, Signature, Technology,
};
use crate::documents::model::{Checked, Identified, Stored};
use crate::documents::{service, verify, ContractTemplates};
use crate::error::AppError;
use crate::reports::model::IssuedPdf;
use crate::rules::lifecycle::Action;
use crate::rules::roles::Role;
use crate::settlement::money::Currency;
use crate::settlement::terms::Terms;
use crate::AppState;

/// At start, before the database is touched: the contract templates `cfg` names, checked (a
/// template that names a field documents do not provide stops the service).
pub fn load_templates(cfg: &crate::config::Config) -> anyhow::Result<ContractTemplates> {
    crate::documents::load_templates(cfg)
}

/// The stored document `kind` in `lang` of agreement `id`, as `actor` may see it (404
/// otherwise), at the agreement's current version: the agreement, and the document if it was
/// generated already (409 while the agreement has no such document yet).
pub fn stored(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    kind: &str,
    lang: &str,
) -> Result<(AgreementRow, Option<Stored>), AppError> {
    let row = store::get_visible(conn, actor, id)?;
    service::available(&row, kind)?;
    let stored = service::find(conn, &row, kind, lang)?;
    Ok((row, stored))
}

/// Generates `kind` in `lang` for `row` (as [`stored`] read it) and stores it with its audit
/// event, as `actor`; a document another request stored meanwhile is the answer. `None` when
/// the agreement has moved on since it was read: read it again.
pub fn generate(
    state: &AppState,
    actor: &Actor,
    row: AgreementRow,
    kind: &str,
    lang: &str,
) -> Result<Option<Stored>, AppError> {
    let facts = {
        let mut conn = state.db.reader()?;
        // Another request may have made it while this one waited for its turn.
        if let Some(doc) = service::find(&mut conn, &row, kind, lang)? {
            return Ok(Some(doc));
        }
        load(&mut conn, row)?
    };
    let doc = service::generate(
        &state.templates,
        &state.fonts,
        &facts,
        kind,
        lang,
        &state.cfg.app.public_url,
    )?;
    let now = state.clock.now();
    let who = Who::from(actor);
    state
        .db
        .write(|conn| service::store(conn, now, who, &facts.agreement, kind, lang, &doc))
}

/// The stored document whose SHA-256 is `sha256`, among those of agreements `actor` may see;
/// 404 when there is none.
pub fn identify(state: &AppState, actor: &Actor, sha256: &str) -> Result<Identified, AppError> {
    let mut conn = state.db.reader()?;
    service::by_hash(&mut conn, actor, sha256)?.ok_or(AppError::NotFound)
}

/// Counts one public check of a document (by code or by file) from `client`: 429 with the
/// seconds to wait once the address has made `documents.verify_requests_per_minute` this
/// minute. Called before the work, so a refused upload is not even read.
pub fn admit_public_check(state: &AppState, client: IpAddr) -> Result<(), AppError> {
    let per_minute = state.cfg.documents.verify_requests_per_minute;
    state
        .verify_throttle
        .hit(client, state.clock.now(), per_minute)
        .map_err(|retry_after_secs| {
            tracing::info!(%client, "public document checks throttled");
            AppError::TooManyRequests { retry_after_secs }
        })
}

/// The public facts of the document whose printed code is `code` (typed in any case, with or
/// without its dashes), for anyone (count the check with [`admit_public_check`] first): one
/// indexed read, two for a report; 404 when no document has that code.
pub fn check_code(conn: &mut DbConn, code: &str) -> Result<Checked, AppError> {
    let code = verify::normalise(code).ok_or(AppError::NotFound)?;
    if let Some(found) = verify::by_code(conn, &code)? {
        return Ok(found);
    }
    let report = crate::reports::store::pdf_by_code(conn, &code)?;
    report.map(report_checked).ok_or(AppError::NotFound)
}

/// The public facts of the document usefirst issued whose SHA-256 is `sha256`, for anyone
/// holding the file (count the check with [`admit_public_check`] first); `None` when usefirst
/// issued no such file.
pub fn check_file(state: &AppState, sha256: &str) -> Result<Option<Checked>, AppError> {
    let mut conn = state.db.reader()?;
    if let Some(found) = verify::by_hash(&mut conn, sha256)? {
        return Ok(Some(found));
    }
    Ok(crate::reports::store::pdf_by_hash(&mut conn, sha256)?.map(report_checked))
}

/// The kind a monthly report PDF is named by on the verify pages: a provisional report's
/// figures could still change when it was made.
fn report_kind(provisional: bool) -> &'static str {
    if provisional {
        "monthly-report-provisional"
    } else {
        "monthly-report"
    }
}

/// A report PDF's public facts in a document check's terms: the month stands for the number
/// and the edition for the version, so "current" means no later edition was issued.
fn report_checked(r: IssuedPdf) -> Checked {
    Checked {
        number: r.month,
        kind: report_kind(r.provisional).into(),
        lang: r.lang,
        version: r.edition,
        sha256: r.sha256,
        generated_at: r.generated_at,
        current_version: r.editions,
    }
}

/// `code` as printed on documents (groups of four), for a page to show.
pub fn printed_code(code: &str) -> String {
    verify::printed(&verify::normalise(code).unwrap_or_else(|| code.to_string()))
}

/// Whether `actor` checks documents by file on the auditors' page (auditors and admins):
/// anyone else is told there is no such page (404).
pub fn audits_documents(actor: &Actor) -> Result<(), AppError> {
    match actor.role {
        Role::Auditor | Role::Admin => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

/// The stored document whose SHA-256 is `sha256`, for the auditors' page: everything
/// [`identify`] answers (the agreement to open), `None` when usefirst issued no such file.
pub fn audit_identify(
    state: &AppState,
    actor: &Actor,
    sha256: &str,
) -> Result<Option<Identified>, AppError> {
    audits_documents(actor)?;
    match identify(state, actor, sha256) {
        Ok(found) => Ok(Some(found)),
        Err(AppError::NotFound) => {
            // Auditors and admins read the monthly reports too.
            let mut conn = state.db.reader()?;
            let report = crate::reports::store::pdf_by_hash(&mut conn, sha256)?;
            Ok(report.map(|r| Identified {
                agreement_id: String::new(),
                number: r.month.clone(),
                kind: report_kind(r.provisional).into(),
                lang: r.lang.clone(),
                version: r.edition,
                sha256: r.sha256.clone(),
                pages: 0,
                generated_at: r.generated_at,
                current_version: r.editions,
            }))
        }
        Err(e) => Err(e),
    }
}

/// What the approval event recorded of the parties and the technology
/// (`app::agreements` writes it).
#[derive(Debug, serde::Deserialize)]
struct FixedAtApproval {
    institute: Party,
    sme: Party,
    technology: Technology,
}

/// Reads everything a document shows about `row` from the parts: its parties, technology,
/// terms, insurance, contract and signatures. Works inside or outside a transaction, on either
/// backend.
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
    let orgs = crate::accounts::organisations_by_id(conn, &ids)?;
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

    let contract = crate::contracts::converted(conn, &row.id)?;
    let contract = match contract {
        Some((converted_on, code)) => {
            let currency = Currency::parse(&code)
                .ok_or_else(|| internal(format!("contract has unknown currency {code}")))?;
            let lines = crate::contracts::schedule_of(conn, &row.id)?
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
        crate::accounts::display_names(conn, signer_ids)?
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
    // The certificate, once entered, for the conversion contract's later edition.
    let registration = match &contract {
        Some(_) => crate::contracts::registration::get(conn, &row.id)?.and_then(|r| {
            Some(Registered {
                jurisdiction: r.jurisdiction?,
                number: r.certificate_number?,
                date: r.certificate_date?,
                office: r.issuing_office?,
                vat_exemption_ref: r.vat_exemption_ref,
            })
        }),
        None => None,
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
        registration,
    })
}

/// [`stored`] on a connection of its own: for a page, which holds none.
pub fn stored_now(
    state: &AppState,
    actor: &Actor,
    id: &str,
    kind: &str,
    lang: &str,
) -> Result<(AgreementRow, Option<Stored>), AppError> {
    let mut conn = state.db.reader()?;
    stored(&mut conn, actor, id, kind, lang)
}
