//! Signing in and out; changing one's password, and setting a forgotten one with a mailed
//! link.

use std::net::IpAddr;

use chrono::Duration;

use crate::accounts::registration::{self, APPROVED};
use crate::audit::{self, Who};
use crate::auth::login::{self, LoginResponse};
use crate::auth::password::{self, decoy_hash, verify};
use crate::auth::reset;
use crate::auth::session::{self, Actor};
use crate::auth::throttle;
use crate::error::{AppError, FieldError};
use crate::AppState;

/// The detail of the 409 a self-registered user gets on signing in with the right password
/// before an admin approved the registration: `registration.` then its state
/// (`unconfirmed`, `confirmed` or `refused`).
pub const REGISTRATION_NOT_APPROVED: &str = "registration.";

/// Signs in with e-mail address and password from `client` (the connection's address; `None`
/// when no one typed it, as on accepting an invitation): refused (429) after too many recent
/// failures of the e-mail address (`auth.max_failed_logins`) or from the client's address,
/// whatever e-mails it tried (`auth.max_failed_logins_per_address`); 401 for a wrong address
/// or password or an inactive user (each recorded as a failure, with the client's address);
/// otherwise a new session, and the e-mail address's failures are forgotten.
///
/// An unknown e-mail address costs one password hash like a known one (against a decoy hash
/// made with the same parameters), so the time of the answer does not tell which addresses
/// have accounts; the `password_checks_total` metric counts the hashes checked.
pub fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<LoginResponse, AppError> {
    let email = email.trim().to_lowercase();
    // No account has a longer address: wrong, with nothing recorded, so a refused sign-in
    // cannot store an unbounded string.
    if email.len() > crate::accounts::MAX_EMAIL_LEN {
        return Err(AppError::Unauthenticated);
    }
    let address = client
        .map(|ip| throttle::key(ip).to_string())
        .unwrap_or_default();
    let now = state.clock.now();
    let auth = &state.cfg.auth;
    let window_start = now - Duration::minutes(auth.failed_login_window_minutes);
    let throttled = || AppError::TooManyRequests {
        retry_after_secs: (auth.failed_login_window_minutes * 60) as u64,
    };
    let mut conn = state.db.reader()?;
    let failures = login::failures_since(&mut conn, &email, window_start)?;
    if failures >= auth.max_failed_logins {
        tracing::warn!(email = %email, failures, "sign-in throttled");
        return Err(throttled());
    }
    if !address.is_empty() && auth.max_failed_logins_per_address > 0 {
        let failures = login::failures_from_since(&mut conn, &address, window_start)?;
        if failures >= auth.max_failed_logins_per_address {
            tracing::warn!(address = %address, failures, "sign-in throttled for the address");
            return Err(throttled());
        }
    }
    let user = login::credentials(&mut conn, &email)?;
    // Not held while the password is checked.
    drop(conn);
    // One hash whether or not the address has an account.
    let matches = check_password(state, password, user.as_ref().map(|u| &*u.password_hash));
    let ok = matches && user.as_ref().is_some_and(|u| u.active);
    // The right password of a registration not approved yet: say so plainly.
    if let Some(user) = user.as_ref().filter(|u| matches && !u.active) {
        let mut conn = state.db.reader()?;
        let status = registration::status_of_user(&mut conn, &user.user_id)?;
        if let Some(status) = status.filter(|s| s != APPROVED) {
            return Err(AppError::Conflict(format!(
                "{REGISTRATION_NOT_APPROVED}{status}"
            )));
        }
    }
    let absolute = Duration::hours(auth.session_absolute_hours);
    match (ok, user) {
        (true, Some(user)) => {
            let user_id = user.user_id;
            // A password stored with older hashing parameters is stored again with the
            // current ones, now that it is known to be right.
            let rehashed = password::needs_rehash(&user.password_hash)
                .then(|| password::hash(password))
                .transpose()
                .map_err(AppError::Internal)?;
            let (token, expires_at) = state.db.write(|conn| {
                login::clear_failures(conn, &email)?;
                if let Some(hash) = &rehashed {
                    crate::accounts::set_password_hash(conn, &user_id, hash)?;
                }
                session::start(conn, &user_id, now, absolute).map_err(AppError::from)
            })?;
            tracing::info!(user_id = %user_id, "signed in");
            let user = session::authenticate(
                &state.db,
                &state.clock,
                &state.cfg.auth,
                &state.sessions,
                &token,
            )?;
            Ok(LoginResponse {
                token,
                expires_at,
                user,
            })
        }
        _ => {
            state.db.write(|conn| {
                login::record_failure(conn, &email, &address, now).map_err(AppError::from)
            })?;
            tracing::warn!(email = %email, address = %address, "failed sign-in");
            Err(AppError::Unauthenticated)
        }
    }
}

/// Whether `password` matches `stored`; with no stored hash (an unknown e-mail address) the
/// password is checked against a decoy hash made with the same argon2 parameters, so both
/// take as long, and the answer is no. Every check is counted (`password_checks_total`).
pub fn check_password(state: &AppState, password: &str, stored: Option<&str>) -> bool {
    state.metrics.password_checked();
    match stored {
        Some(stored) => verify(password, stored),
        None => {
            verify(password, decoy_hash());
            false
        }
    }
}

/// Signs out: the session of `token` stops working at once.
pub fn sign_out(state: &AppState, token: &str) -> Result<(), AppError> {
    let now = state.clock.now();
    state.sessions.remove(token);
    state
        .db
        .write(|conn| session::revoke(conn, token, now).map_err(AppError::from))?;
    Ok(())
}

/// Whether `email` may try a password now: 429 after too many recent failures.
fn not_throttled(state: &AppState, email: &str) -> Result<(), AppError> {
    let auth = &state.cfg.auth;
    let window_start = state.clock.now() - Duration::minutes(auth.failed_login_window_minutes);
    let mut conn = state.db.reader()?;
    if login::failures_since(&mut conn, email, window_start)? >= auth.max_failed_logins {
        return Err(AppError::TooManyRequests {
            retry_after_secs: (auth.failed_login_window_minutes * 60) as u64,
        });
    }
    Ok(())
}

/// A new password twice: the same rules as a user's first one. Field errors carry a code
/// (`password_short`, `mismatch`, …).
fn new_password_errors(errors: &mut Vec<FieldError>, new: &str, again: &str, email: &str) {
    if let Some(w) = password::weakness(new, email) {
        errors.push(FieldError::new("new_password", w.code()));
    } else if new != again {
        errors.push(FieldError::new("password_again", "mismatch"));
    }
}

/// Changes the signed-in user's password: the current one must be right (a wrong one counts
/// toward the sign-in lockout, and is a field error `current_password: wrong_password`), the
/// new one follows the password rules and is typed twice the same. Every other session of
/// the user ends; the one of `keep` (the token of the session asking) goes on.
pub fn change_password(
    state: &AppState,
    actor: &Actor,
    keep: Option<&str>,
    current: &str,
    new: &str,
    again: &str,
) -> Result<(), AppError> {
    let email = actor.email.trim().to_lowercase();
    not_throttled(state, &email)?;
    let now = state.clock.now();
    let mut errors = Vec::new();
    if current.is_empty() {
        errors.push(FieldError::new("current_password", "required"));
    } else {
        let stored = {
            let mut conn = state.db.reader()?;
            login::credentials(&mut conn, &email)?
        }
        .ok_or(AppError::Unauthenticated)?;
        if !check_password(state, current, Some(&stored.password_hash)) {
            state.db.write(|conn| {
                login::record_failure(conn, &email, "", now).map_err(AppError::from)
            })?;
            tracing::warn!(user_id = %actor.user_id, "wrong current password");
            errors.push(FieldError::new("current_password", "wrong_password"));
        }
    }
    new_password_errors(&mut errors, new, again, &email);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = password::hash(new)?;
    state.db.write(|conn| {
        crate::accounts::set_password_hash(conn, &actor.user_id, &hash)?;
        let ended = session::revoke_user(conn, &actor.user_id, keep, now)?;
        audit::append(
            conn,
            now,
            Who::from(actor),
            "user.password_changed",
            "user",
            &actor.user_id,
            &serde_json::json!({ "sessions_ended": ended }),
        )?;
        Ok::<_, AppError>(())
    })?;
    state.sessions.forget_user(&actor.user_id);
    Ok(())
}

/// Mails a link to set a new password to the user of `email`, in their language, if there
/// is an active one and they have not been sent too many this hour; otherwise does nothing,
/// and answers the same, so the answer does not tell which addresses have accounts. Only an
/// address that is not one is refused (`email: email`).
pub fn request_password_reset(state: &AppState, email: &str) -> Result<(), AppError> {
    let Some(email) = crate::accounts::normalize_email(email) else {
        return Err(AppError::Validation(vec![FieldError::new(
            "email", "email",
        )]));
    };
    let now = state.clock.now();
    let auth = &state.cfg.auth;
    let ttl = Duration::minutes(auth.password_reset_minutes);
    let base = state.cfg.app.public_url.trim_end_matches('/').to_string();
    state.db.write(|conn| {
        let Some(user) = crate::accounts::user_by_email(conn, &email)? else {
            return Ok(());
        };
        if !user.active {
            return Ok(());
        }
        let sent = reset::issued_since(conn, &user.id, now - Duration::hours(1))?;
        if sent >= auth.password_resets_per_hour {
            tracing::warn!(user_id = %user.id, sent, "password reset links throttled");
            return Ok(());
        }
        let token = reset::issue(conn, &user.id, now, ttl)?;
        crate::mail::enqueue_to(
            conn,
            now,
            "password_reset",
            &user.email,
            &user.display_name,
            &user.locale,
            serde_json::json!({
                "link": format!("{base}/password/reset/{token}"),
                "minutes": auth.password_reset_minutes,
            }),
        )
    })
}

/// Whether `token` is a password link that still works (unused, not expired).
pub fn password_link_works(state: &AppState, token: &str) -> Result<bool, AppError> {
    let mut conn = state.db.reader()?;
    Ok(reset::holder(&mut conn, token, state.clock.now())?.is_some())
}

/// Sets a new password with the mailed link `token` (typed twice, the password rules): the
/// link and every other link of the user are used up, every session of the user ends, and
/// their failed sign-ins are forgotten. `Ok(false)` when the link was used or has expired.
pub fn reset_password(
    state: &AppState,
    token: &str,
    new: &str,
    again: &str,
) -> Result<bool, AppError> {
    let now = state.clock.now();
    let user = {
        let mut conn = state.db.reader()?;
        match reset::holder(&mut conn, token, now)? {
            Some(id) => crate::accounts::get_user(&mut conn, &id)?,
            None => return Ok(false),
        }
    };
    let mut errors = Vec::new();
    new_password_errors(&mut errors, new, again, &user.email);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = password::hash(new)?;
    let done = state.db.write(|conn| {
        if reset::redeem(conn, token, now)?.is_none() {
            return Ok::<_, AppError>(false);
        }
        crate::accounts::set_password_hash(conn, &user.id, &hash)?;
        let ended = session::revoke_user(conn, &user.id, None, now)?;
        login::clear_failures(conn, &user.email)?;
        audit::append(
            conn,
            now,
            Who {
                user_id: Some(&user.id),
                organisation_id: Some(&user.organisation_id),
            },
            "user.password_reset",
            "user",
            &user.id,
            &serde_json::json!({ "sessions_ended": ended }),
        )?;
        Ok(true)
    })?;
    state.sessions.forget_user(&user.id);
    Ok(done)
}
