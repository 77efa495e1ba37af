//! Signing in and out.

use chrono::Duration;

use crate::auth::login::{self, LoginResponse};
use crate::auth::password::{decoy_hash, verify};
use crate::auth::session;
use crate::error::AppError;
use crate::AppState;

/// Signs in with e-mail address and password: refused (429) after too many recent failures,
/// 401 for a wrong address or password or an inactive user (each recorded as a failure);
/// otherwise a new session, and the address's failures are forgotten.
pub fn sign_in(state: &AppState, email: &str, password: &str) -> Result<LoginResponse, AppError> {
    let email = email.trim().to_lowercase();
    let now = state.clock.now();
    let auth = &state.cfg.auth;
    let window_start = now - Duration::minutes(auth.failed_login_window_minutes);
    let mut conn = state.db.reader()?;
    let failures = login::failures_since(&mut conn, &email, window_start)?;
    if failures >= auth.max_failed_logins {
        tracing::warn!(email = %email, failures, "sign-in throttled");
        return Err(AppError::TooManyRequests {
            retry_after_secs: (auth.failed_login_window_minutes * 60) as u64,
        });
    }
    let user = login::credentials(&mut conn, &email)?;
    // Not held while the password is checked.
    drop(conn);
    let ok = match &user {
        Some(user) => verify(password, &user.password_hash) && user.active,
        None => {
            // As slow as a real check, so the answer does not tell which addresses exist.
            verify(password, decoy_hash());
            false
        }
    };
    let absolute = Duration::hours(auth.session_absolute_hours);
    match (ok, user) {
        (true, Some(user)) => {
            let user_id = user.user_id;
            let (token, expires_at) = state.db.write(|conn| {
                login::clear_failures(conn, &email)?;
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
            state
                .db
                .write(|conn| login::record_failure(conn, &email, now).map_err(AppError::from))?;
            tracing::warn!(email = %email, "failed sign-in");
            Err(AppError::Unauthenticated)
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
