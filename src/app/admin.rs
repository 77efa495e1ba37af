//! The platform administrator's actions on their pages: the directory (organisations, users
//! invited by e-mail, deactivated and re-activated, sent a link to set a new password), the
//! mail outbox and the scheduler's runs, and what their home page counts. Only admins have
//! any of it: to anyone else it does not exist (404). Every change appends its audit event
//! and queues its mail in the same transaction.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDateTime};

use crate::accounts::invitation::{self, Listed};
use crate::accounts::model::{Invite, OrganisationForm};
use crate::accounts::registration::{self as registrations, APPROVED, CONFIRMED};
use crate::accounts::{self, NewOrganisation, Organisation, User};
use crate::audit::{self, Who};
use crate::auth::login::LoginResponse;
use crate::auth::password;
use crate::auth::reset;
use crate::auth::session::{self, Actor};
use crate::error::{AppError, FieldError};
use crate::jobs::{self, JobKind, JobRun};
use crate::mail::model::{OutboxFilter, OutboxMessage};
use crate::rules::roles::Role;
use crate::AppState;

/// Admins only: to anyone else these pages do not exist.
fn admin(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

fn base(state: &AppState) -> String {
    state.cfg.app.public_url.trim_end_matches('/').to_string()
}

// --- home ------------------------------------------------------------------------------------

/// What the admins' home counts, each with the page behind it.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// Registrations whose address is confirmed, waiting for an admin.
    pub registrations_waiting: i64,
    pub organisations: i64,
    pub users: i64,
    /// Messages that failed for good.
    pub mail_failed: i64,
    /// Messages waiting to be sent.
    pub mail_pending: i64,
    /// Jobs whose latest run failed or was abandoned.
    pub jobs_failing: Vec<&'static str>,
}

/// The admins' home: what is waiting for them.
pub fn overview(state: &AppState, actor: &Actor) -> Result<Overview, AppError> {
    admin(actor)?;
    let mut conn = state.db.reader()?;
    let registrations_waiting = registrations::open(&mut conn)?
        .iter()
        .filter(|r| r.status == CONFIRMED)
        .count() as i64;
    let (_, organisations) = accounts::list_organisations(&mut conn, 1, 0)?;
    let users = accounts::user_count(&mut conn)?;
    let by_status = crate::mail::admin::by_status(&mut conn)?;
    let count = |s: &str| {
        by_status
            .iter()
            .find(|(status, _)| status == s)
            .map_or(0, |(_, n)| *n)
    };
    let mut jobs_failing = Vec::new();
    for kind in JobKind::ALL {
        let (latest, _) = jobs::list(&mut conn, Some(kind.name()), None, 1, 0)?;
        if latest.first().is_some_and(|r| failed(&r.status)) {
            jobs_failing.push(kind.name());
        }
    }
    Ok(Overview {
        registrations_waiting,
        organisations,
        users,
        mail_failed: count("failed"),
        mail_pending: count("pending"),
        jobs_failing,
    })
}

// --- organisations ---------------------------------------------------------------------------

/// A page of organisations (of `kind`, when given) by name, and how many there are.
pub fn organisations(
    state: &AppState,
    actor: &Actor,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Listed>, i64), AppError> {
    admin(actor)?;
    let mut conn = state.db.reader()?;
    Ok(invitation::organisations(&mut conn, kind, limit, offset)?)
}

/// Registers the organisation `form` describes, with its audit event. Field errors carry a
/// code (`required`, `email`, `taken_tax_code`, …).
pub fn create_organisation(
    state: &AppState,
    actor: &Actor,
    form: &OrganisationForm,
) -> Result<Organisation, AppError> {
    admin(actor)?;
    let now = state.clock.now();
    state.db.write(|conn| {
        let (errors, kind) = invitation::check_organisation(conn, form)?;
        let (Some(kind), true) = (kind, errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let input = NewOrganisation {
            kind,
            name: form.name.clone(),
            registration_no: form.registration_no.trim().to_string(),
            province: form.province.clone(),
            contact_email: form.contact_email.clone(),
        };
        accounts::create_organisation(conn, now, Who::from(actor), &input)
    })
}

/// A user as the admins see them: whether they have yet to accept their invitation.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    /// Invited, and no password set yet.
    pub invited: bool,
}

/// One organisation and its users (404 when there is no such organisation).
pub fn organisation(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Organisation, Vec<Member>), AppError> {
    admin(actor)?;
    let mut conn = state.db.reader()?;
    let org = accounts::get_organisation(&mut conn, id)?;
    let users = invitation::members(&mut conn, id)?;
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let invited = invitation::not_accepted(&mut conn, &ids)?;
    Ok((org, members(users, &invited)))
}

fn members(users: Vec<User>, invited: &BTreeSet<String>) -> Vec<Member> {
    users
        .into_iter()
        .map(|user| Member {
            invited: invited.contains(&user.id),
            user,
        })
        .collect()
}

/// A page of users (active or deactivated only, when `active` is given; whose name or address
/// contains `q`), by address, each with their organisation's name, and how many there are.
pub fn users(
    state: &AppState,
    actor: &Actor,
    active: Option<bool>,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<(Member, String)>, i64), AppError> {
    admin(actor)?;
    let mut conn = state.db.reader()?;
    let (rows, total) = invitation::users(&mut conn, active, q, limit, offset)?;
    let ids: Vec<String> = rows.iter().map(|(u, _)| u.id.clone()).collect();
    let invited = invitation::not_accepted(&mut conn, &ids)?;
    let rows = rows
        .into_iter()
        .map(|(user, org)| {
            (
                Member {
                    invited: invited.contains(&user.id),
                    user,
                },
                org,
            )
        })
        .collect();
    Ok((rows, total))
}

// --- invitations -----------------------------------------------------------------------------

/// Mails `user` the invitation link `token`, in their language.
fn mail_invitation(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    now: chrono::DateTime<chrono::Utc>,
    user: &User,
    organisation: &str,
    token: &str,
) -> Result<(), AppError> {
    crate::mail::enqueue_to(
        conn,
        now,
        "invitation",
        &user.email,
        &user.display_name,
        &user.locale,
        serde_json::json!({
            "organisation": organisation,
            "link": format!("{}/invitation/{token}", base(state)),
            "hours": state.cfg.auth.invitation_hours,
        }),
    )
}

/// Invites the user `form` describes into organisation `organisation_id`: the user is made
/// without a password and mailed a link to set one (single use, `auth.invitation_hours`).
/// Field errors carry a code (`required`, `email`, `taken_email`, `role`).
pub fn invite(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
    form: &Invite,
) -> Result<User, AppError> {
    admin(actor)?;
    let now = state.clock.now();
    let ttl = Duration::hours(state.cfg.auth.invitation_hours);
    state.db.write(|conn| {
        let org = accounts::get_organisation(conn, organisation_id)?;
        let (user, token) = invitation::invite(conn, now, Who::from(actor), &org, form, ttl)?;
        mail_invitation(state, conn, now, &user, &org.name, &token)?;
        Ok(user)
    })
}

/// A user of the directory, for an admin's action on them (404 when there is none).
fn user(conn: &mut crate::db::DbConn, id: &str) -> Result<User, AppError> {
    Ok(accounts::get_user(conn, id)?)
}

/// Sends user `user_id` a new invitation link (409 unless they have yet to accept one and may
/// sign in); earlier links keep working until they expire.
pub fn invite_again(state: &AppState, actor: &Actor, user_id: &str) -> Result<User, AppError> {
    admin(actor)?;
    let now = state.clock.now();
    let ttl = Duration::hours(state.cfg.auth.invitation_hours);
    state.db.write(|conn| {
        let user = user(conn, user_id)?;
        let waiting = invitation::not_accepted(conn, std::slice::from_ref(&user.id))?;
        if !waiting.contains(&user.id) || !user.active {
            return Err(AppError::Conflict(
                "only an active user who has not accepted an invitation is invited again".into(),
            ));
        }
        let org = accounts::get_organisation(conn, &user.organisation_id)?;
        let token = invitation::issue(conn, &user.id, &actor.user_id, now, ttl)?;
        audit::append(
            conn,
            now,
            Who::from(actor),
            "user.invited_again",
            "user",
            &user.id,
            &serde_json::json!({}),
        )?;
        mail_invitation(state, conn, now, &user, &org.name, &token)?;
        Ok(user)
    })
}

/// The user invitation `token` is for and their organisation's name, while it works
/// (unused, not expired, the user not deactivated meanwhile).
pub fn invitation_holder(
    state: &AppState,
    token: &str,
) -> Result<Option<(User, String)>, AppError> {
    let mut conn = state.db.reader()?;
    let Some(user) = invitation::holder(&mut conn, token, state.clock.now())?.filter(|u| u.active)
    else {
        return Ok(None);
    };
    let org = accounts::get_organisation(&mut conn, &user.organisation_id)?;
    Ok(Some((user, org.name)))
}

/// Sets the invited user's first password (typed twice, the password rules: field errors
/// `new_password: password_short`, `password_again: mismatch`, …) with invitation `token`,
/// uses up their invitations, and signs them in. `Ok(None)` when the link was used or has
/// expired.
pub fn accept_invitation(
    state: &AppState,
    token: &str,
    new: &str,
    again: &str,
) -> Result<Option<LoginResponse>, AppError> {
    let now = state.clock.now();
    let Some((user, _)) = invitation_holder(state, token)? else {
        return Ok(None);
    };
    let mut errors = Vec::new();
    if let Some(w) = password::weakness(new, &user.email) {
        errors.push(FieldError::new("new_password", w.code()));
    } else if new != again {
        errors.push(FieldError::new("password_again", "mismatch"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = password::hash(new)?;
    let done = state.db.write(|conn| {
        let Some(user) = invitation::redeem(conn, token, now)?.filter(|u| u.active) else {
            return Ok::<_, AppError>(false);
        };
        accounts::set_password_hash(conn, &user.id, &hash)?;
        audit::append(
            conn,
            now,
            Who {
                user_id: Some(&user.id),
                organisation_id: Some(&user.organisation_id),
            },
            "user.invitation_accepted",
            "user",
            &user.id,
            &serde_json::json!({}),
        )?;
        Ok(true)
    })?;
    if !done {
        return Ok(None);
    }
    // Not a guess: the invitation's link vouches for whoever typed the new password.
    crate::app::auth::sign_in(state, &user.email, new, None).map(Some)
}

// --- deactivating, re-activating, a new password ---------------------------------------------

/// Deactivates user `user_id`: they cannot sign in, every session of theirs ends at once, and
/// their unused invitation links stop working. An admin cannot deactivate themselves (409).
pub fn deactivate(state: &AppState, actor: &Actor, user_id: &str) -> Result<User, AppError> {
    admin(actor)?;
    if actor.user_id == user_id {
        return Err(AppError::Conflict(
            "an admin does not deactivate themselves".into(),
        ));
    }
    let now = state.clock.now();
    let user = state.db.write(|conn| {
        let user = user(conn, user_id)?;
        if !user.active {
            return Err(AppError::Conflict("the user is already deactivated".into()));
        }
        accounts::set_active(conn, &user.id, false)?;
        let ended = session::revoke_user(conn, &user.id, None, now)?;
        audit::append(
            conn,
            now,
            Who::from(actor),
            "user.deactivated",
            "user",
            &user.id,
            &serde_json::json!({
                "before": {"active": true}, "after": {"active": false},
                "sessions_ended": ended,
            }),
        )?;
        Ok(user)
    })?;
    // The sessions this instance has cached end now too.
    state.sessions.forget_user(&user.id);
    Ok(user)
}

/// Re-activates user `user_id`: they may sign in again (with their password; their old
/// sessions stay ended). A self-registered user whose registration is not approved, or a user
/// of a closed organisation, is not re-activated here (409): the registration decides.
pub fn reactivate(state: &AppState, actor: &Actor, user_id: &str) -> Result<User, AppError> {
    admin(actor)?;
    let now = state.clock.now();
    state.db.write(|conn| {
        let user = user(conn, user_id)?;
        if user.active {
            return Err(AppError::Conflict("the user is active".into()));
        }
        let registration = registrations::status_of_user(conn, &user.id)?;
        if registration.is_some_and(|s| s != APPROVED) {
            return Err(AppError::Conflict(
                "the user's registration is not approved".into(),
            ));
        }
        let org = accounts::get_organisation(conn, &user.organisation_id)?;
        if org.closed_at.is_some() {
            return Err(AppError::Conflict("the organisation is closed".into()));
        }
        accounts::set_active(conn, &user.id, true)?;
        audit::append(
            conn,
            now,
            Who::from(actor),
            "user.reactivated",
            "user",
            &user.id,
            &serde_json::json!({"before": {"active": false}, "after": {"active": true}}),
        )?;
        Ok(user)
    })
}

/// Mails active user `user_id` a link to set a new password (single use, for
/// `auth.password_reset_minutes`); the admin never sees the link or the password. Their
/// password keeps working until they set a new one.
pub fn send_password_reset(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
) -> Result<User, AppError> {
    admin(actor)?;
    let now = state.clock.now();
    let minutes = state.cfg.auth.password_reset_minutes;
    state.db.write(|conn| {
        let user = user(conn, user_id)?;
        if !user.active {
            return Err(AppError::Conflict("the user is deactivated".into()));
        }
        let token = reset::issue(conn, &user.id, now, Duration::minutes(minutes))?;
        audit::append(
            conn,
            now,
            Who::from(actor),
            "user.password_reset_sent",
            "user",
            &user.id,
            &serde_json::json!({}),
        )?;
        crate::mail::enqueue_to(
            conn,
            now,
            "password_reset_admin",
            &user.email,
            &user.display_name,
            &user.locale,
            serde_json::json!({
                "link": format!("{}/password/reset/{token}", base(state)),
                "minutes": minutes,
            }),
        )?;
        Ok(user)
    })
}

// --- the outbox ------------------------------------------------------------------------------

/// A page of the outbox messages `filter` asks for, newest first, and how many there are.
pub fn outbox(
    state: &AppState,
    actor: &Actor,
    filter: &OutboxFilter,
    per_page: i64,
    offset: i64,
) -> Result<(Vec<OutboxMessage>, i64), AppError> {
    admin(actor)?;
    let mut conn = state.db.reader()?;
    crate::mail::admin::search(&mut conn, filter, per_page, offset)
}

/// One outbox message, with why it failed (its last error and attempts); never its body,
/// which may carry a link meant for its recipient alone.
pub fn outbox_message(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<OutboxMessage, AppError> {
    admin(actor)?;
    let mut conn = state.db.reader()?;
    crate::mail::admin::get(&mut conn, id)
}

/// Sends failed message `id` again (409 when it has not failed), with its audit event.
pub fn retry_mail(state: &AppState, actor: &Actor, id: &str) -> Result<OutboxMessage, AppError> {
    admin(actor)?;
    let now = state.clock.now();
    state.db.write(|conn| {
        let message = crate::mail::admin::retry(conn, now.naive_utc(), id)?;
        audit::append(
            conn,
            now,
            Who::from(actor),
            "mail.retried",
            "outbox",
            &message.id,
            &serde_json::json!({"before": {"status": "failed"}, "after": {"status": "pending"}}),
        )?;
        Ok(message)
    })
}

// --- the scheduler ---------------------------------------------------------------------------

/// A run that did not end well.
fn failed(status: &str) -> bool {
    status == "failed" || status == "abandoned"
}

/// One job and its latest runs.
#[derive(Debug, Clone)]
pub struct JobRuns {
    pub job: &'static str,
    /// Its cron expression, and whether it runs on its own.
    pub cron: String,
    pub enabled: bool,
    /// The latest runs, those that failed (or were abandoned) first, each group newest first.
    pub runs: Vec<JobRun>,
    /// How many of them failed.
    pub failures: usize,
}

/// Each job's latest `per_job` runs, failures first; the jobs with failures first.
pub fn job_runs(state: &AppState, actor: &Actor, per_job: i64) -> Result<Vec<JobRuns>, AppError> {
    admin(actor)?;
    let mut conn = state.db.reader()?;
    let mut all = Vec::new();
    for kind in JobKind::ALL {
        let (mut runs, _) = jobs::list(&mut conn, Some(kind.name()), None, per_job, 0)?;
        // Stable: each group stays newest first.
        runs.sort_by_key(|r| !failed(&r.status));
        let failures = runs.iter().filter(|r| failed(&r.status)).count();
        let cfg = state.cfg.scheduler.jobs.get(kind.name());
        all.push(JobRuns {
            job: kind.name(),
            cron: cfg.map(|c| c.cron.clone()).unwrap_or_default(),
            enabled: cfg.is_some_and(|c| c.enabled),
            runs,
            failures,
        });
    }
    all.sort_by_key(|j| j.failures == 0);
    Ok(all)
}

/// The start of day `day` in the platform's zone, as a UTC instant (for the outbox's date
/// filter).
pub fn day_start(state: &AppState, day: chrono::NaiveDate) -> NaiveDateTime {
    use chrono::TimeZone;
    let tz = state
        .cfg
        .time_zone()
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map_or(midnight, |t| t.naive_utc())
}
