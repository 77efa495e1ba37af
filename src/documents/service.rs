//! An agreement's documents: generated on first request for each agreement version, kind
//! and language, stored with their SHA-256 (and an audit event), and answered from storage
//! afterwards; and the way back from a PDF or its hash to the agreement it belongs to.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::context;
use super::model::{Identified, Stored};
use super::templates::ContractTemplates;
use super::verify;
use crate::agreements::model::AgreementRow;
use crate::audit::{self, Who};
use crate::auth::policy::{agreement_scope, AgreementScope};
use crate::auth::session::Actor;
use crate::db::schema::{agreement_documents, agreements};
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::lifecycle::Status;
use crate::typeset::pdf::{self, Fonts, Layout, PdfError, Signature};

/// Whether `row` has the document `kind` yet: the trial agreement once the trial is approved
/// (its dates and terms are fixed), the conversion contract once the SME has converted.
pub fn available(row: &AgreementRow, kind: &str) -> Result<(), AppError> {
    let missing = match kind {
        "conversion-contract" => row.status()? != Status::Converted,
        _ => row.trial_start.is_none() || row.terms_snapshot.is_none(),
    };
    if missing {
        let when = match kind {
            "conversion-contract" => "once the agreement has converted",
            _ => "once the trial has been approved",
        };
        return Err(AppError::InvalidTransition {
            detail: format!("the {kind} document exists {when}"),
            current_state: row.status.clone(),
            current_version: row.version,
        });
    }
    Ok(())
}

/// The stored document of `row`'s current version, if it was generated already.
pub fn find(
    conn: &mut DbConn,
    row: &AgreementRow,
    kind: &str,
    lang: &str,
) -> QueryResult<Option<Stored>> {
    crate::on_backend!(conn, |c| agreement_documents::table
        .find((&row.id, row.version, kind, lang))
        .select((
            agreement_documents::sha256,
            agreement_documents::pdf,
            agreement_documents::verify_code,
        ))
        .first::<(String, Vec<u8>, Option<String>)>(c)
        .optional())
    .map(|found| {
        found.map(|(sha256, pdf, verify_code)| Stored {
            sha256,
            pdf,
            verify_code,
        })
    })
}

/// A freshly set document.
#[derive(Debug, Clone)]
pub struct Generated {
    pub sha256: String,
    pub pdf: Vec<u8>,
    pub pages: usize,
    /// The code the document prints (and its QR code links to).
    pub verify_code: String,
}

/// Sets `kind` in `lang` for the agreement `facts` describe, with a new verification code
/// printed as a link under `public_url` (`{public_url}/verify/{code}`).
pub fn generate(
    templates: &ContractTemplates,
    fonts: &Fonts,
    facts: &context::Facts,
    kind: &str,
    lang: &str,
    public_url: &str,
) -> Result<Generated, AppError> {
    let row = &facts.agreement;
    let ctx = context::context(facts, kind, lang);
    let blocks = templates.render(kind, lang, &ctx).map_err(|e| {
        AppError::Internal(e.context(format!("rendering {kind}.{lang} for {}", row.id)))
    })?;
    let signatures: Vec<Signature> = serde_json::from_value(ctx["signatures"].clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("document signatures: {e}")))?;
    let date = context::document_date(facts, kind);
    set(
        fonts,
        row,
        kind,
        lang,
        &blocks,
        &signatures,
        date,
        public_url,
    )
}

/// Form 01 of Decree 76/2018's Appendix IV for the converted agreement `facts` describe,
/// pre-filled, in Vietnamese, with its verification code; the parties sign it by hand.
pub fn generate_form01(
    fonts: &Fonts,
    facts: &context::Facts,
    public_url: &str,
) -> Result<Generated, AppError> {
    let row = &facts.agreement;
    let blocks = super::form01::blocks(facts)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("form 01 markup: {e:?}")))?;
    let party = |party: &str, organisation: &str| Signature {
        party: party.to_string(),
        organisation: organisation.to_string(),
        signed_by: String::new(),
        signed_at: String::new(),
    };
    let signatures = [
        party("ĐẠI DIỆN BÊN GIAO CÔNG NGHỆ", &facts.institute.name),
        party("ĐẠI DIỆN BÊN NHẬN CÔNG NGHỆ", &facts.sme.name),
    ];
    let date = facts
        .contract
        .as_ref()
        .map(|c| c.converted_on)
        .unwrap_or_else(|| context::document_date(facts, "conversion-contract"));
    let (kind, lang) = (super::form01::KIND, super::form01::LANG);
    set(
        fonts,
        row,
        kind,
        lang,
        &blocks,
        &signatures,
        date,
        public_url,
    )
}

/// Sets `blocks` as the document `kind` in `lang` of `row`, with a new verification code
/// printed as a link under `public_url`.
#[allow(clippy::too_many_arguments)]
fn set(
    fonts: &Fonts,
    row: &AgreementRow,
    kind: &str,
    lang: &str,
    blocks: &[crate::typeset::markup::Block],
    signatures: &[Signature],
    date: chrono::NaiveDate,
    public_url: &str,
) -> Result<Generated, AppError> {
    let seed = format!("{}:{}:{kind}:{lang}", row.id, row.version);
    let issued = verify::Issued::new(public_url);
    let layout = Layout {
        lang,
        blocks,
        signatures,
        number: &row.number,
        terms_version: i64::from(row.terms_version),
        date,
        id_seed: &seed,
        verify: Some(issued.verify()),
    };
    let rendered = pdf::render(fonts, &layout).map_err(|e| match e {
        PdfError::FontMissing(msg) => AppError::Unavailable(format!(
            "documents in {lang} cannot be generated on this server: {msg}"
        )),
        // Text entered for the agreement (a name, a place) that no document font can draw:
        // the document cannot be made until that text is corrected.
        PdfError::NoGlyph { ch } => AppError::Conflict(format!(
            "the agreement's text holds {ch:?} (U+{:04X}), which documents cannot print; \
             correct the name, title or place that holds it",
            ch as u32
        )),
        other => AppError::Internal(anyhow::anyhow!(
            "setting {kind}.{lang} for {}: {other}",
            row.id
        )),
    })?;
    Ok(Generated {
        sha256: hex::encode(Sha256::digest(&rendered.bytes)),
        pages: rendered.pages,
        pdf: rendered.bytes,
        verify_code: issued.code,
    })
}

/// Stores `doc` for the agreement version it was generated from and appends its hash to the
/// audit chain, in one transaction, and answers the document as stored. When the agreement
/// has moved on since (a transition between reading and storing), nothing is stored and
/// `Ok(None)` says to generate again. A document another request stored first stays, and is
/// the answer: the stored bytes are the record.
#[allow(clippy::too_many_arguments)]
pub fn store(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    row: &AgreementRow,
    kind: &str,
    lang: &str,
    doc: &Generated,
) -> Result<Option<Stored>, AppError> {
    let current: i64 = crate::on_backend!(conn, |c| agreements::table
        .find(&row.id)
        .select(agreements::version)
        .first(c))?;
    if current != row.version {
        return Ok(None);
    }
    let pages = i32::try_from(doc.pages)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("{} pages", doc.pages)))?;
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(agreement_documents::table)
        .values((
            agreement_documents::agreement_id.eq(&row.id),
            agreement_documents::version.eq(row.version),
            agreement_documents::kind.eq(kind),
            agreement_documents::lang.eq(lang),
            agreement_documents::sha256.eq(&doc.sha256),
            agreement_documents::pages.eq(pages),
            agreement_documents::pdf.eq(&doc.pdf),
            agreement_documents::generated_at.eq(now.naive_utc()),
            agreement_documents::verify_code.eq(&doc.verify_code),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    // Not inserted: another request stored this document first (its row is the answer), or —
    // once in 2^100 — the new code is another document's, when `find` finds nothing and the
    // caller sets the document again with a new code.
    if inserted == 1 {
        audit::append(
            conn,
            now,
            who,
            "document.generated",
            "agreement",
            &row.id,
            &serde_json::json!({
                "kind": kind, "lang": lang, "version": row.version, "number": row.number,
                "sha256": doc.sha256, "pages": doc.pages, "bytes": doc.pdf.len(),
            }),
        )?;
        return Ok(Some(Stored {
            sha256: doc.sha256.clone(),
            pdf: doc.pdf.clone(),
            verify_code: Some(doc.verify_code.clone()),
        }));
    }
    Ok(find(conn, row, kind, lang)?)
}

/// The stored document whose SHA-256 is `sha256`, among those of agreements `actor` may see
/// (the first by agreement, version, kind and language, should one file be stored twice).
pub fn by_hash(conn: &mut DbConn, actor: &Actor, sha256: &str) -> QueryResult<Option<Identified>> {
    type Found = (
        String,
        i64,
        String,
        String,
        String,
        i32,
        NaiveDateTime,
        String,
        i64,
    );
    let scope = agreement_scope(actor);
    let found: Option<Found> = crate::on_backend!(conn, |c| {
        let mut q = agreement_documents::table
            .inner_join(agreements::table)
            .filter(agreement_documents::sha256.eq(sha256))
            .into_boxed();
        q = match &scope {
            AgreementScope::All => q,
            AgreementScope::Sme(org) => q.filter(agreements::sme_id.eq(org)),
            AgreementScope::Institute(org) => q.filter(agreements::institute_id.eq(org)),
            AgreementScope::Insurer(org) => q.filter(agreements::insurer_id.eq(org)),
        };
        q.select((
            agreement_documents::agreement_id,
            agreement_documents::version,
            agreement_documents::kind,
            agreement_documents::lang,
            agreement_documents::sha256,
            agreement_documents::pages,
            agreement_documents::generated_at,
            agreements::number,
            agreements::version,
        ))
        .order((
            agreement_documents::agreement_id,
            agreement_documents::version,
            agreement_documents::kind,
            agreement_documents::lang,
        ))
        .first(c)
        .optional()
    })?;
    Ok(found.map(
        |(
            agreement_id,
            version,
            kind,
            lang,
            sha256,
            pages,
            generated_at,
            number,
            current_version,
        )| {
            Identified {
                agreement_id,
                number,
                kind,
                lang,
                version,
                sha256,
                pages,
                generated_at,
                current_version,
            }
        },
    ))
}
