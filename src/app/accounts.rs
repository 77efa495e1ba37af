//! The directory's actions: admins register organisations and users; admins and auditors read
//! it; every user reads their own organisation.

use crate::accounts::{self, NewOrganisation, NewUser, Organisation, User};
use crate::audit::Who;
use crate::auth::session::Actor;
use crate::error::AppError;
use crate::rules::roles::{OrgKind, Role};
use crate::AppState;

/// Registers an organisation, with its audit event.
pub fn create_organisation(
    state: &AppState,
    actor: &Actor,
    input: &NewOrganisation,
) -> Result<Organisation, AppError> {
    let now = state.clock.now();
    state
        .db
        .write(|conn| accounts::create_organisation(conn, now, Who::from(actor), input))
}

/// A page of organisations by name, and how many there are.
pub fn list_organisations(
    state: &AppState,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Organisation>, i64), AppError> {
    let mut conn = state.db.reader()?;
    Ok(accounts::list_organisations(&mut conn, limit, offset)?)
}

/// One organisation: admins and auditors see any, other users only their own (404 otherwise).
pub fn organisation(state: &AppState, actor: &Actor, id: &str) -> Result<Organisation, AppError> {
    if !actor.role.sees_everything() && actor.organisation_id != id {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.reader()?;
    Ok(accounts::get_organisation(&mut conn, id)?)
}

/// Creates a user in an organisation, with its audit event.
pub fn create_user(state: &AppState, actor: &Actor, input: &NewUser) -> Result<User, AppError> {
    let now = state.clock.now();
    let locale = state.cfg.app.locale.clone();
    state
        .db
        .write(|conn| accounts::create_user(conn, now, Who::from(actor), input, &locale))
}

/// A page of users by e-mail address, and how many there are.
pub fn list_users(state: &AppState, limit: i64, offset: i64) -> Result<(Vec<User>, i64), AppError> {
    let mut conn = state.db.reader()?;
    Ok(accounts::list_users(&mut conn, limit, offset)?)
}

/// The platform operator's organisation, registered on first use (in its own transaction).
pub fn operator_org(state: &AppState) -> Result<String, AppError> {
    let now = state.clock.now();
    state.db.write(|conn| {
        if let Some(id) = accounts::first_of_kind(conn, OrgKind::Operator)? {
            return Ok(id);
        }
        let org = accounts::create_organisation(
            conn,
            now,
            Who::SYSTEM,
            &NewOrganisation {
                kind: OrgKind::Operator,
                name: "Platform operator".into(),
                registration_no: "OPERATOR".into(),
                province: "-".into(),
                contact_email: "operator@usefirst.invalid".into(),
            },
        )?;
        Ok(org.id)
    })
}

/// `create-admin`: an administrator of the operator's organisation (made if there is none).
pub fn create_admin(
    state: &AppState,
    email: &str,
    name: &str,
    password: &str,
) -> Result<User, AppError> {
    let org = operator_org(state)?;
    let now = state.clock.now();
    let locale = state.cfg.app.locale.clone();
    state.db.write(|conn| {
        accounts::create_user(
            conn,
            now,
            Who::SYSTEM,
            &NewUser {
                organisation_id: org.clone(),
                email: email.to_string(),
                display_name: name.to_string(),
                role: Role::Admin,
                password: password.to_string(),
                locale: Some(locale.clone()),
            },
            &locale,
        )
    })
}

/// How many users there are (the service's start-up says how to sign in on an empty one).
pub fn user_count(state: &AppState) -> Result<i64, AppError> {
    let mut conn = state.db.reader()?;
    Ok(accounts::user_count(&mut conn)?)
}

/// The signed-in user and their organisation, for their profile.
pub fn profile(state: &AppState, actor: &Actor) -> Result<(User, Organisation), AppError> {
    let mut conn = state.db.reader()?;
    let user = accounts::get_user(&mut conn, &actor.user_id)?;
    let org = accounts::get_organisation(&mut conn, &user.organisation_id)?;
    Ok((user, org))
}

/// Sets the language the signed-in user reads the pages and their mail in (`vi` or `en`).
pub fn set_language(state: &AppState, actor: &Actor, locale: &str) -> Result<(), AppError> {
    state
        .db
        .write(|conn| accounts::set_locale(conn, &actor.user_id, locale))?;
    // The cached sessions carry the old language.
    state.sessions.forget_user(&actor.user_id);
    Ok(())
}
