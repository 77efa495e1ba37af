//! Registering a conversion contract: the registration as a party sees it, and the
//! certificate the institute (or an admin) enters — stored by `contracts` with its audit event
//! in one transaction, which also starts the payments that waited for it, and told to the
//! parties by mail.

use crate::agreements::model::{Agreement, AgreementRow};
use crate::agreements::store;
use crate::audit::Who;
use crate::auth::session::Actor;
use crate::contracts::model::{CertificateInput, RegistrationView};
use crate::contracts::registration;
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::roles::Role;
use crate::settlement::terms::Terms;
use crate::AppState;

/// The fixed terms of a converted agreement, or 409 naming its state.
fn converted_terms(row: &AgreementRow) -> Result<Terms, AppError> {
    let not_converted = || AppError::InvalidTransition {
        detail: "the agreement has not converted; there is no contract to register".into(),
        current_state: row.status.clone(),
        current_version: row.version,
    };
    if row.status != crate::rules::lifecycle::Status::Converted.as_str() {
        return Err(not_converted());
    }
    store::decode_terms(&row.id, row.terms_snapshot.as_deref())?.ok_or_else(not_converted)
}

/// The registration of agreement `id`'s contract as `actor` may see it (404 otherwise; 409
/// before conversion), as of today in the agreement's time zone.
pub fn view(state: &AppState, actor: &Actor, id: &str) -> Result<RegistrationView, AppError> {
    let mut conn = state.db.reader()?;
    let row = store::get_visible(&mut conn, actor, id)?;
    converted_terms(&row)?;
    let today = state.clock.today(row.tz());
    registration_of(&mut conn, &row)?
        .map(|r| r.view(today))
        .ok_or_else(|| {
            AppError::Conflict("the contract was made before registration was tracked".into())
        })
}

fn registration_of(
    conn: &mut DbConn,
    row: &AgreementRow,
) -> Result<Option<registration::Record>, AppError> {
    Ok(registration::get(conn, &row.id)?)
}

/// The agreement's institute (or an admin) enters the registration certificate. 404 for an
/// agreement the actor may not see, 403 for a party that does not register, 409 before
/// conversion, when registration is not required or already entered, 422 naming each bad
/// field. The parties are told, and the agreement moves to its next version: its conversion
/// contract's next edition prints the certificate.
pub fn record_certificate(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &CertificateInput,
) -> Result<RegistrationView, AppError> {
    let now = state.clock.now();
    let rounding = state.cfg.settlement.rounding;
    state.db.write(|conn| {
        let row = store::get_visible(conn, actor, id)?;
        let may = actor.role == Role::Admin
            || (actor.role == Role::Institute && actor.organisation_id == row.institute_id);
        if !may {
            return Err(AppError::Forbidden(
                "only the agreement's institute or an admin enters the registration".into(),
            ));
        }
        let terms = converted_terms(&row)?;
        let today = now.with_timezone(&row.tz()).date_naive();
        let view = registration::record_certificate(
            conn,
            now,
            today,
            Who::from(actor),
            &row.id,
            &terms,
            input,
            rounding,
        )?;
        // The contract now prints its certificate: a new edition of the agreement's
        // documents, whose earlier editions are then shown as superseded.
        let row = store::new_edition(conn, now, &row)?;
        crate::mail::enqueue_agreement(
            conn,
            now,
            "contract_registered",
            &row,
            serde_json::json!({
                "certificate_number": view.certificate_number,
                "certificate_date": view.certificate_date.map(|d| d.to_string()),
                "issuing_office": view.issuing_office,
            }),
        )?;
        Ok(view)
    })
}

/// Whether `agreement` is one whose registration `actor` may enter (for pages to offer the
/// form).
pub fn may_register(actor: &Actor, agreement: &Agreement) -> bool {
    actor.role == Role::Admin
        || (actor.role == Role::Institute && actor.organisation_id == agreement.institute_id)
}

/// Form 01 (the registration application of Decree 76/2018) of agreement `id`'s contract,
/// pre-filled: generated on the first request for the agreement's current version and
/// stored with its hash and verification code like the agreement's other documents. 409
/// unless the contract must be registered in Vietnam. Answers the agreement's number and the
/// document.
pub fn form01(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(String, crate::documents::model::Stored), AppError> {
    use crate::documents::{form01, service};
    // A generation that finds the agreement changed under it is made again.
    for _ in 0..3 {
        let facts = {
            let mut conn = state.db.reader()?;
            let row = store::get_visible(&mut conn, actor, id)?;
            converted_terms(&row)?;
            let vietnam = registration_of(&mut conn, &row)?
                .is_some_and(|r| r.required && r.jurisdiction.as_deref() == Some("vn"));
            if !vietnam {
                return Err(AppError::Conflict(
                    "Form 01 is the application of Vietnam's registration, which this contract \
                     does not need"
                        .into(),
                ));
            }
            if let Some(doc) = service::find(&mut conn, &row, form01::KIND, form01::LANG)? {
                return Ok((row.number, doc));
            }
            crate::app::documents::load(&mut conn, row)?
        };
        let doc = service::generate_form01(&state.fonts, &facts, &state.cfg.app.public_url)?;
        let now = state.clock.now();
        let row = &facts.agreement;
        let stored = state.db.write(|conn| {
            service::store(
                conn,
                now,
                Who::from(actor),
                row,
                form01::KIND,
                form01::LANG,
                &doc,
            )
        })?;
        if let Some(doc) = stored {
            return Ok((row.number.clone(), doc));
        }
    }
    Err(AppError::Busy)
}
