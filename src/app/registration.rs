//! Enterprises registering themselves: the application (organisation and first user, who
//! cannot sign in yet) with a mail to confirm the address; the confirmation; and the admins'
//! review, approving (the user may sign in) or refusing with a reason, each with its audit
//! event and a mail to the applicant in their language.

use chrono::Duration;

use crate::accounts::registration::{self as store};
use crate::accounts::{Registration, RegistrationForm};
use crate::audit::{self, Who};
use crate::auth::session::Actor;
use crate::error::{AppError, FieldError};
use crate::rules::roles::Role;
use crate::AppState;

fn base(state: &AppState) -> String {
    state.cfg.app.public_url.trim_end_matches('/').to_string()
}

/// Registers an enterprise and its first user (in `locale`, the page's language), and mails
/// the link that confirms the address. Field errors name the form's fields, with a code.
pub fn register(
    state: &AppState,
    form: &RegistrationForm,
    locale: &str,
) -> Result<Registration, AppError> {
    let now = state.clock.now();
    let hours = state.cfg.auth.registration_confirm_hours;
    let base = base(state);
    state.db.write(|conn| {
        let (reg, token) = store::register(conn, now, form, locale, Duration::hours(hours))?;
        crate::mail::enqueue_to(
            conn,
            now,
            "registration_confirm",
            &reg.email,
            &reg.name,
            &reg.locale,
            serde_json::json!({
                "organisation": reg.organisation_name,
                "link": format!("{base}/register/confirm/{token}"),
                "hours": hours,
            }),
        )?;
        Ok(reg)
    })
}

/// Whether `token` is a confirmation link that still works (opening it changes nothing: the
/// page it shows has the button that confirms).
pub fn confirm_link_works(state: &AppState, token: &str) -> Result<bool, AppError> {
    let mut conn = state.db.reader()?;
    Ok(store::confirmable(&mut conn, token, state.clock.now())?.is_some())
}

/// Confirms the address of the application whose mailed link `token` is, and tells every
/// admin it is waiting for them (`registration_waiting`); `None` when the link was used or
/// has expired.
pub fn confirm(state: &AppState, token: &str) -> Result<Option<Registration>, AppError> {
    let now = state.clock.now();
    let review = format!("{}/admin/registrations", base(state));
    state.db.write(|conn| {
        let Some(reg) = store::confirm(conn, token, now)? else {
            return Ok(None);
        };
        audit::append(
            conn,
            now,
            Who {
                user_id: Some(&reg.user_id),
                organisation_id: Some(&reg.organisation_id),
            },
            "registration.confirmed",
            "organisation",
            &reg.organisation_id,
            &serde_json::json!({
                "before": {"status": store::UNCONFIRMED},
                "after": {"status": store::CONFIRMED},
            }),
        )?;
        crate::mail::enqueue_admins(
            conn,
            now,
            "registration_waiting",
            serde_json::json!({
                "organisation": reg.organisation_name,
                "registration_no": reg.registration_no,
                "province": reg.province,
                "name": reg.name,
                "email": reg.email,
                "link": review,
            }),
        )?;
        Ok(Some(reg))
    })
}

/// Admins only: to anyone else the registrations do not exist.
fn admin(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The applications waiting for an admin, confirmed ones first.
pub fn open(state: &AppState, actor: &Actor) -> Result<Vec<Registration>, AppError> {
    admin(actor)?;
    let mut conn = state.db.reader()?;
    Ok(store::open(&mut conn)?)
}

/// Approves application `organisation_id` (its address confirmed): the user may sign in,
/// and hears so.
pub fn approve(state: &AppState, actor: &Actor, organisation_id: &str) -> Result<(), AppError> {
    decide(state, actor, organisation_id, None)
}

/// Refuses application `organisation_id` with `reason` (required: `reason: required`); the
/// applicant is told why.
pub fn refuse(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
    reason: &str,
) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        admin(actor)?;
        let code = if reason.is_empty() {
            "required"
        } else {
            "too_long"
        };
        return Err(AppError::Validation(vec![FieldError::new("reason", code)]));
    }
    decide(state, actor, organisation_id, Some(reason))
}

fn decide(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
    reason: Option<&str>,
) -> Result<(), AppError> {
    admin(actor)?;
    let now = state.clock.now();
    let sign_in = format!("{}/sign-in", base(state));
    state.db.write(|conn| {
        let reg = store::decide(conn, now, organisation_id, &actor.user_id, reason)?;
        let (action, status) = match reason {
            None => ("registration.approved", store::APPROVED),
            Some(_) => ("registration.refused", store::REFUSED),
        };
        audit::append(
            conn,
            now,
            Who::from(actor),
            action,
            "organisation",
            organisation_id,
            &serde_json::json!({
                "before": {"status": reg.status},
                "after": {"status": status, "reason": reason},
            }),
        )?;
        let (kind, ctx) = match reason {
            None => (
                "registration_approved",
                serde_json::json!({"organisation": reg.organisation_name, "link": sign_in}),
            ),
            Some(reason) => (
                "registration_refused",
                serde_json::json!({"organisation": reg.organisation_name, "reason": reason}),
            ),
        };
        crate::mail::enqueue_to(conn, now, kind, &reg.email, &reg.name, &reg.locale, ctx)
    })
}
