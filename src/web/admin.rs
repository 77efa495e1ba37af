//! The platform administrator's pages: their home (what is waiting, a link to every admin
//! page), organisations and users (create an organisation, invite a user by e-mail,
//! deactivate, re-activate, mail a link to set a new password), the mail outbox (filters, why
//! a message failed, retrying it) and the scheduler's runs (each job's latest, failures
//! first); and the page where an invited user sets their password. The registrations' review
//! is the `account` group's, the monthly report the `reports` pages'. Every admin page is a
//! 404 to anyone else (app decides), like every other page they may not see.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use minijinja::{context, Value};
use serde::Deserialize;

use super::frame::{self, blocking, see_other, SignedIn, Visitor};
use super::session::{self, SESSION};
use crate::accounts::model::{Invite, OrganisationForm};
use crate::app::admin as app;
use crate::auth::session::Actor;
use crate::error::{AppError, FieldError};
use crate::mail::model::{OutboxFilter, STATUSES};
use crate::rules::roles::{OrgKind, Role};
use crate::typeset::format::date;
use crate::AppState;

/// Rows on one page of a list.
const PER_PAGE: i64 = 50;
/// Runs shown for each job.
const RUNS_PER_JOB: i64 = 10;

pub const GROUP: super::Group = super::Group {
    templates: &[
        ("admin/home.html", include_str!("templates/admin/home.html")),
        (
            "admin/pager.html",
            include_str!("templates/admin/pager.html"),
        ),
        (
            "admin/organisations.html",
            include_str!("templates/admin/organisations.html"),
        ),
        (
            "admin/organisation_form.html",
            include_str!("templates/admin/organisation_form.html"),
        ),
        (
            "admin/organisation.html",
            include_str!("templates/admin/organisation.html"),
        ),
        (
            "admin/users.html",
            include_str!("templates/admin/users.html"),
        ),
        (
            "admin/invitation.html",
            include_str!("templates/admin/invitation.html"),
        ),
        (
            "admin/outbox.html",
            include_str!("templates/admin/outbox.html"),
        ),
        (
            "admin/message.html",
            include_str!("templates/admin/message.html"),
        ),
        ("admin/jobs.html", include_str!("templates/admin/jobs.html")),
    ],
    words: (
        "admin",
        include_str!("i18n/admin.vi.toml"),
        include_str!("i18n/admin.en.toml"),
    ),
    css: include_str!("../../static/web/admin.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/admin", web::get().to(home_path))
        .route("/admin/organisations", web::get().to(organisations))
        .route("/admin/organisations/new", web::get().to(new_organisation))
        .route(
            "/admin/organisations/new",
            web::post().to(create_organisation),
        )
        .route("/admin/organisations/{id}", web::get().to(organisation))
        .route("/admin/organisations/{id}/invite", web::post().to(invite))
        .route("/admin/users", web::get().to(users))
        .route("/admin/users/{id}/{action}", web::post().to(user_action))
        .route("/admin/outbox", web::get().to(outbox))
        .route("/admin/outbox/{id}", web::get().to(message))
        .route("/admin/outbox/{id}/retry", web::post().to(retry))
        .route("/admin/jobs", web::get().to(jobs))
        .route("/invitation/{token}", web::get().to(invitation_form))
        .route("/invitation/{token}", web::post().to(accept));
}

/// The 403 page a form without this browser's token gets.
fn forged(state: &AppState, visitor: &Visitor) -> HttpResponse {
    visitor.error(state, 403, "error.forbidden", context! {})
}

/// Field errors (their message a code) in the visitor's words, by field.
fn said(state: &AppState, visitor: &Visitor, errors: &[FieldError]) -> BTreeMap<String, String> {
    let args = [
        ("min", crate::auth::password::MIN_LEN.to_string()),
        ("max", crate::auth::password::MAX_LEN.to_string()),
    ];
    frame::field_errors(errors)
        .into_iter()
        .map(|(field, code)| {
            let key = match code.as_str() {
                "role" | "date" | "date_order" => format!("admin.err.{code}"),
                _ => format!("account.err.{code}"),
            };
            (field, visitor.words(state, &key, &args))
        })
        .collect()
}

/// A moment as the visitor reads it: the date and the time of day in the platform's zone.
fn when(state: &AppState, lang: &str, at: chrono::NaiveDateTime) -> String {
    let tz = state
        .cfg
        .time_zone()
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let local = at.and_utc().with_timezone(&tz);
    format!(
        "{} {}",
        date(lang, local.date_naive()),
        local.format("%H:%M")
    )
}

/// The pager's links: `path` with `query` and the page number, for the page before and after.
fn pager(path: &str, query: &[(&str, &str)], page: i64, total: i64) -> Value {
    let pages = super::frame::pages_of(total, PER_PAGE);
    let link = |p: i64| {
        let mut q: Vec<(&str, String)> = query
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        q.push(("page", p.to_string()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    };
    context! {
        page, pages,
        prev => if page > 1 { link(page - 1) } else { String::new() },
        next => if page < pages { link(page + 1) } else { String::new() },
    }
}

// --- home ------------------------------------------------------------------------------------

/// The admins' home page (`/home` for an admin): what is waiting, and every admin page.
pub async fn home(state: &web::Data<AppState>, visitor: &Visitor, actor: Actor) -> HttpResponse {
    let who = actor.clone();
    let loaded = blocking(state, move |st| {
        let overview = app::overview(st, &who)?;
        let (_, org) = crate::app::accounts::profile(st, &who)?;
        Ok((overview, org.name))
    })
    .await;
    let (o, organisation) = match loaded {
        Ok(found) => found,
        Err(e) => return visitor.failure(state, e, ""),
    };
    let o = context! {
        registrations_waiting => o.registrations_waiting, organisations => o.organisations,
        users => o.users, mail_failed => o.mail_failed, mail_pending => o.mail_pending,
        jobs_failing => o.jobs_failing,
    };
    visitor.page(state, 200, "admin/home.html", context! { o, organisation })
}

/// `/admin` is the admins' home, at `/home` (to anyone else, the page does not exist).
async fn home_path(state: web::Data<AppState>, SignedIn(visitor, actor): SignedIn) -> HttpResponse {
    if actor.role != Role::Admin {
        return visitor.failure(&state, AppError::NotFound, "");
    }
    see_other("/home")
}

// --- organisations ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct OrgQuery {
    kind: Option<String>,
    page: Option<i64>,
}

const KINDS: [&str; 4] = ["sme", "institute", "insurer", "operator"];

async fn organisations(
    state: web::Data<AppState>,
    q: web::Query<OrgQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let kind = q
        .kind
        .clone()
        .filter(|k| KINDS.contains(&k.as_str()))
        .unwrap_or_default();
    let page = q.page.unwrap_or(1).max(1);
    let k = kind.clone();
    let loaded = blocking(&state, move |st| {
        let kind = Some(k.as_str()).filter(|k| !k.is_empty());
        app::organisations(st, &actor, kind, PER_PAGE, (page - 1) * PER_PAGE)
    })
    .await;
    let (items, total) = match loaded {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let rows: Vec<Value> = items
        .into_iter()
        .map(|l| {
            let o = l.organisation;
            context! {
                id => o.id, name => o.name, kind => o.kind, registration_no => o.registration_no,
                province => o.province, users => l.users, closed => o.closed_at.is_some(),
            }
        })
        .collect();
    let pages = pager(
        "/admin/organisations",
        &[("kind", kind.as_str())],
        page,
        total,
    );
    visitor.page(
        &state,
        200,
        "admin/organisations.html",
        context! { rows, total, kind, kinds => KINDS, ..pages },
    )
}

fn organisation_form_page(
    state: &AppState,
    visitor: &Visitor,
    status: u16,
    form: &OrganisationForm,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let values = context! {
        kind => form.kind.trim(), name => form.name.trim(),
        registration_no => form.registration_no.trim(), province => form.province.trim(),
        contact_email => form.contact_email.trim(),
    };
    visitor.page(
        state,
        status,
        "admin/organisation_form.html",
        context! { values, errors, kinds => KINDS },
    )
}

async fn new_organisation(
    state: web::Data<AppState>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if actor.role != Role::Admin {
        return visitor.failure(&state, AppError::NotFound, "");
    }
    organisation_form_page(
        &state,
        &visitor,
        200,
        &OrganisationForm::default(),
        BTreeMap::new(),
    )
}

async fn create_organisation(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<OrganisationForm>(&req, &body) else {
        return forged(&state, &visitor);
    };
    let input = form.clone();
    match blocking(&state, move |st| {
        app::create_organisation(st, &actor, &input)
    })
    .await
    {
        Ok(org) => see_other(&format!("/admin/organisations/{}", org.id)),
        Err(AppError::Validation(errors)) => {
            let errors = said(&state, &visitor, &errors);
            organisation_form_page(&state, &visitor, 422, &form, errors)
        }
        Err(e) => visitor.failure(&state, e, "/admin/organisations"),
    }
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
    user: Option<String>,
}

/// What an action on a user says when it is done.
const DONE: [&str; 5] = [
    "invited",
    "invite-again",
    "deactivate",
    "reactivate",
    "reset-password",
];

/// Organisation `id` and its users, with the invitation form (`form` as typed, and `errors`).
async fn show_organisation(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: Actor,
    id: String,
    status: u16,
    done: (String, String),
    form: Option<(Invite, BTreeMap<String, String>)>,
) -> HttpResponse {
    let me = actor.user_id.clone();
    let loaded = blocking(state, move |st| app::organisation(st, &actor, &id)).await;
    let (org, members) = match loaded {
        Ok(found) => found,
        Err(e) => return visitor.failure(state, e, "/admin/organisations"),
    };
    let kind = OrgKind::ALL
        .into_iter()
        .find(|k| k.as_str() == org.kind)
        .unwrap_or(OrgKind::Sme);
    let roles: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| r.organisation_kind() == kind)
        .map(|r| r.as_str())
        .collect();
    // The user an action was done to, by name.
    let done_name = members
        .iter()
        .find(|m| m.user.id == done.1)
        .map(|m| m.user.display_name.clone())
        .unwrap_or_default();
    let done = if done_name.is_empty() {
        String::new()
    } else {
        done.0
    };
    let members: Vec<Value> = members
        .into_iter()
        .map(|m| {
            let state = match (m.user.active, m.invited) {
                (false, _) => "deactivated",
                (true, true) => "invited",
                (true, false) => "active",
            };
            context! {
                id => m.user.id.clone(), email => m.user.shown_email(), name => m.user.display_name,
                role => m.user.role, state, me => m.user.id == me,
            }
        })
        .collect();
    let (form, errors) = form.unwrap_or_else(|| {
        let blank = Invite {
            role: roles.first().copied().unwrap_or_default().to_string(),
            locale: visitor.lang.to_string(),
            ..Invite::default()
        };
        (blank, BTreeMap::new())
    });
    let values = context! {
        display_name => form.display_name.trim(), email => form.email.trim(),
        role => form.role, locale => form.locale,
    };
    let org = context! {
        id => org.id, name => org.name, kind => org.kind, registration_no => org.registration_no,
        province => org.province, contact_email => org.contact_email,
        created => when(state, visitor.lang, org.created_at),
        closed => org.closed_at.map(|c| when(state, visitor.lang, c)),
    };
    visitor.page(
        state,
        status,
        "admin/organisation.html",
        context! {
            org, members, roles, values, errors, done, done_name,
            hours => state.cfg.auth.invitation_hours,
        },
    )
}

async fn organisation(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<Done>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let done = q
        .done
        .clone()
        .filter(|d| DONE.contains(&d.as_str()))
        .unwrap_or_default();
    let user = q.user.clone().unwrap_or_default();
    show_organisation(
        &state,
        &visitor,
        actor,
        id.into_inner(),
        200,
        (done, user),
        None,
    )
    .await
}

async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<Invite>(&req, &body) else {
        return forged(&state, &visitor);
    };
    let (id, who, input) = (id.into_inner(), actor.clone(), form.clone());
    let org = id.clone();
    match blocking(&state, move |st| app::invite(st, &who, &org, &input)).await {
        Ok(user) => see_other(&format!(
            "/admin/organisations/{id}?done=invited&user={}#user-{}",
            user.id, user.id
        )),
        Err(AppError::Validation(errors)) => {
            let errors = said(&state, &visitor, &errors);
            let typed = Some((form, errors));
            show_organisation(&state, &visitor, actor, id, 422, Default::default(), typed).await
        }
        Err(e) => visitor.failure(&state, e, &format!("/admin/organisations/{id}")),
    }
}

// --- users -----------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct UsersQuery {
    q: Option<String>,
    state: Option<String>,
    page: Option<i64>,
}

async fn users(
    state: web::Data<AppState>,
    query: web::Query<UsersQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let which = match query.state.as_deref() {
        Some("active") => "active",
        Some("deactivated") => "deactivated",
        _ => "",
    };
    let page = query.page.unwrap_or(1).max(1);
    let search = q.clone();
    let loaded = blocking(&state, move |st| {
        let active = match which {
            "active" => Some(true),
            "deactivated" => Some(false),
            _ => None,
        };
        let search = Some(search.as_str()).filter(|s| !s.is_empty());
        app::users(st, &actor, active, search, PER_PAGE, (page - 1) * PER_PAGE)
    })
    .await;
    let (items, total) = match loaded {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let rows: Vec<Value> = items
        .into_iter()
        .map(|(m, organisation)| {
            let state = match (m.user.active, m.invited) {
                (false, _) => "deactivated",
                (true, true) => "invited",
                (true, false) => "active",
            };
            context! {
                email => m.user.shown_email(), id => m.user.id, name => m.user.display_name,
                role => m.user.role, organisation_id => m.user.organisation_id, organisation,
                state,
            }
        })
        .collect();
    let pages = pager(
        "/admin/users",
        &[("q", q.as_str()), ("state", which)],
        page,
        total,
    );
    visitor.page(
        &state,
        200,
        "admin/users.html",
        context! { rows, total, q, state => which, ..pages },
    )
}

#[derive(Debug, Default, Deserialize)]
struct TokenOnly {}

/// Deactivate, re-activate, send a new invitation or a link to set a new password: back to
/// the user's organisation, saying what was done.
async fn user_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if frame::form::<TokenOnly>(&req, &body).is_none() {
        return forged(&state, &visitor);
    }
    let (id, action) = path.into_inner();
    if !DONE[1..].contains(&action.as_str()) {
        return visitor.failure(&state, AppError::NotFound, "");
    }
    let act = action.clone();
    let done = blocking(&state, move |st| match act.as_str() {
        "deactivate" => app::deactivate(st, &actor, &id),
        "reactivate" => app::reactivate(st, &actor, &id),
        "reset-password" => app::send_password_reset(st, &actor, &id),
        _ => app::invite_again(st, &actor, &id),
    })
    .await;
    match done {
        Ok(user) => see_other(&format!(
            "/admin/organisations/{}?done={action}&user={}#user-{}",
            user.organisation_id, user.id, user.id
        )),
        Err(e) => visitor.failure(&state, e, "/admin/users"),
    }
}

// --- an invited user sets their password -----------------------------------------------------

/// The page of an invitation that was used or has expired.
fn dead_invitation(state: &AppState, visitor: &Visitor) -> HttpResponse {
    visitor.page(
        state,
        410,
        "account/notice.html",
        context! { key => "admin.accept.dead", link => "/sign-in",
        link_key => "account.back_to_sign_in" },
    )
}

async fn invitation_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    token: String,
    status: u16,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let t = token.clone();
    match blocking(state, move |st| app::invitation_holder(st, &t)).await {
        Ok(Some((user, organisation))) => visitor.page(
            state,
            status,
            "admin/invitation.html",
            context! {
                token, errors, name => user.display_name, email => user.email, organisation,
            },
        ),
        Ok(None) => dead_invitation(state, visitor),
        Err(e) => visitor.failure(state, e, "/sign-in"),
    }
}

async fn invitation_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    invitation_page(&state, &visitor, token.into_inner(), 200, BTreeMap::new()).await
}

#[derive(Debug, Default, Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    password_again: String,
}

/// The invited user's password is set, and they are signed in (in this browser) and home.
async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let Some(form) = frame::form::<NewPasswordForm>(&req, &body) else {
        return forged(&state, &visitor);
    };
    let token = token.into_inner();
    let t = token.clone();
    let done = blocking(&state, move |st| {
        app::accept_invitation(st, &t, &form.new_password, &form.password_again)
    })
    .await;
    match done {
        Ok(Some(signed)) => {
            let max_age = (signed.expires_at - state.clock.now()).num_seconds().max(0);
            HttpResponse::SeeOther()
                .insert_header(("Location", "/home"))
                .append_header((
                    "Set-Cookie",
                    session::set_cookie(&req, SESSION, &signed.token, max_age),
                ))
                .finish()
        }
        Ok(None) => dead_invitation(&state, &visitor),
        Err(AppError::Validation(errors)) => {
            let errors = said(&state, &visitor, &errors);
            invitation_page(&state, &visitor, token, 422, errors).await
        }
        // The password is set; signing in is refused (throttled, say): sign in by hand.
        Err(AppError::TooManyRequests { .. } | AppError::Unauthenticated) => see_other("/sign-in"),
        Err(e) => visitor.failure(&state, e, "/sign-in"),
    }
}

// --- the outbox ------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct OutboxQuery {
    status: Option<String>,
    kind: Option<String>,
    to: Option<String>,
    from: Option<String>,
    until: Option<String>,
    page: Option<i64>,
}

/// A day typed in a filter (`YYYY-MM-DD`), an error code when it is not one.
fn day(errors: &mut Vec<FieldError>, field: &str, value: &str) -> Option<NaiveDate> {
    if value.is_empty() {
        return None;
    }
    let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
    if parsed.is_none() {
        errors.push(FieldError::new(field, "date"));
    }
    parsed
}

async fn outbox(
    state: web::Data<AppState>,
    q: web::Query<OutboxQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let text = |v: &Option<String>| v.clone().unwrap_or_default().trim().to_string();
    let status = text(&q.status);
    let status = if STATUSES.contains(&status.as_str()) {
        status
    } else {
        String::new()
    };
    let kind = text(&q.kind);
    let kind = if crate::mail::model::KINDS.contains(&kind.as_str()) {
        kind
    } else {
        String::new()
    };
    let (to, from, until) = (text(&q.to), text(&q.from), text(&q.until));
    let mut errors = Vec::new();
    let from_day = day(&mut errors, "from", &from);
    let until_day = day(&mut errors, "until", &until);
    if let (Some(f), Some(u)) = (from_day, until_day) {
        if u < f {
            errors.push(FieldError::new("until", "date_order"));
        }
    }
    let page = q.page.unwrap_or(1).max(1);
    let filter = OutboxFilter {
        status: Some(status.clone()).filter(|s| !s.is_empty()),
        kind: Some(kind.clone()).filter(|s| !s.is_empty()),
        recipient: Some(to.clone()).filter(|s| !s.is_empty()),
        from: from_day.map(|d| app::day_start(&state, d)),
        until: until_day
            .and_then(|d| d.succ_opt())
            .map(|d| app::day_start(&state, d)),
    };
    let query = [
        ("status", status.clone()),
        ("kind", kind.clone()),
        ("to", to.clone()),
        ("from", from.clone()),
        ("until", until.clone()),
    ];
    let f = context! { status, kind, to, from, until };
    let status_code = if errors.is_empty() { 200 } else { 422 };
    let (items, total) = if errors.is_empty() {
        let loaded = blocking(&state, move |st| {
            app::outbox(st, &actor, &filter, PER_PAGE, (page - 1) * PER_PAGE)
        })
        .await;
        match loaded {
            Ok(found) => found,
            Err(e) => return visitor.failure(&state, e, ""),
        }
    } else {
        // A bad filter lists nothing; admins alone see the page even so.
        if actor.role != Role::Admin {
            return visitor.failure(&state, AppError::NotFound, "");
        }
        (Vec::new(), 0)
    };
    let rows: Vec<Value> = items
        .into_iter()
        .map(|m| {
            context! {
                id => m.id, kind => m.kind, to => m.recipient_email, subject => m.subject,
                status => m.status, attempts => m.attempts,
                written => when(&state, visitor.lang, m.created_at),
            }
        })
        .collect();
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pages = pager("/admin/outbox", &query, page, total);
    let errors = said(&state, &visitor, &errors);
    visitor.page(
        &state,
        status_code,
        "admin/outbox.html",
        context! {
            rows, total, f, errors, statuses => STATUSES, kinds => crate::mail::model::KINDS.as_slice(), ..pages
        },
    )
}

#[derive(Debug, Default, Deserialize)]
struct Retried {
    done: Option<String>,
}

async fn message(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<Retried>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let id = id.into_inner();
    let m = match blocking(&state, move |st| app::outbox_message(st, &actor, &id)).await {
        Ok(m) => m,
        Err(e) => return visitor.failure(&state, e, "/admin/outbox"),
    };
    let lang = visitor.lang;
    let m = context! {
        id => m.id, kind => m.kind, to => m.recipient_email, locale => m.locale,
        subject => m.subject, status => m.status, attempts => m.attempts,
        message_id => m.message_id, error => m.last_error,
        written => when(&state, lang, m.created_at),
        next_attempt => when(&state, lang, m.next_attempt_at),
        sent => m.sent_at.map(|s| when(&state, lang, s)),
    };
    let done = q.done.as_deref() == Some("retried");
    visitor.page(&state, 200, "admin/message.html", context! { m, done })
}

async fn retry(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if frame::form::<TokenOnly>(&req, &body).is_none() {
        return forged(&state, &visitor);
    }
    let id = id.into_inner();
    let back = format!("/admin/outbox/{id}");
    match blocking(&state, move |st| app::retry_mail(st, &actor, &id)).await {
        Ok(m) => see_other(&format!("/admin/outbox/{}?done=retried", m.id)),
        Err(e) => visitor.failure(&state, e, &back),
    }
}

// --- the scheduler ---------------------------------------------------------------------------

/// What a run counted (`{"sent": 3, "failed": 0}`) as `sent: 3, failed: 0`; any other text as
/// it is.
fn counted(counts: Option<&str>) -> String {
    let text = counts.unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => text.to_string(),
    }
}

async fn jobs(state: web::Data<AppState>, SignedIn(visitor, actor): SignedIn) -> HttpResponse {
    let all = match blocking(&state, move |st| app::job_runs(st, &actor, RUNS_PER_JOB)).await {
        Ok(all) => all,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let lang = visitor.lang;
    let jobs: Vec<Value> = all
        .into_iter()
        .map(|j| {
            let runs: Vec<Value> = j
                .runs
                .into_iter()
                .map(|r| {
                    let took = r
                        .finished_at
                        .map(|f| format!("{} ms", (f - r.started_at).num_milliseconds().max(0)))
                        .unwrap_or_default();
                    context! {
                        slot => when(&state, lang, r.slot), status => r.status,
                        started => when(&state, lang, r.started_at), took,
                        triggered_by => r.triggered_by, error => r.error,
                        counts => counted(r.counts.as_deref()),
                    }
                })
                .collect();
            context! {
                job => j.job, cron => j.cron, enabled => j.enabled, failures => j.failures, runs,
            }
        })
        .collect();
    visitor.page(
        &state,
        200,
        "admin/jobs.html",
        context! { jobs, per_job => RUNS_PER_JOB },
    )
}

#[cfg(test)]
mod tests {
    use super::super::Pages;
    use minijinja::context;

    /// Every admin page sets in both languages with each state it can show (every kind of
    /// message, run state, user state), and what people typed is escaped.
    #[test]
    fn every_page_sets_in_both_languages() {
        let pages = Pages::load().unwrap();
        let user = context! { display_name => "Admin", role => "admin", email => "a@b.vn" };
        let errors = context! { display_name => "<b>bad</b>", email => "e", role => "r",
        locale => "l", kind => "k", from => "f", until => "u" };
        let pager = context! { page => 2, pages => 3, prev => "/p?page=1", next => "/p?page=3" };
        for lang in super::super::i18n::LANGS {
            let set = |name: &str, ctx: minijinja::Value| {
                let ctx = minijinja::value::merge_maps([
                    context! { lang, csrf => "x", path => "/admin", user => user.clone() },
                    ctx,
                ]);
                pages
                    .render(name, ctx)
                    .unwrap_or_else(|e| panic!("{name} in {lang}: {e:#}"))
            };
            for failing in [vec![], vec!["advance", "remind"]] {
                let o = context! { registrations_waiting => 1, organisations => 2, users => 3,
                mail_failed => 1, mail_pending => 0, jobs_failing => failing };
                let page = set("admin/home.html", context! { o, organisation => "Sở <KH>" });
                assert!(page.contains("/admin/reports") && page.contains("Sở &lt;KH&gt;"));
            }
            let rows: Vec<_> = super::KINDS
                .iter()
                .map(|k| {
                    context! { id => "o", name => "<Org>", kind => k, registration_no => "1",
                    province => "P", users => 2, closed => *k == "sme" }
                })
                .collect();
            set(
                "admin/organisations.html",
                context! { rows, total => 4, kind => "sme", kinds => super::KINDS, ..pager.clone() },
            );
            set(
                "admin/organisation_form.html",
                context! { values => context! { kind => "x", name => "<n>", registration_no => "",
                province => "", contact_email => "" }, errors => errors.clone(),
                kinds => super::KINDS },
            );
            for closed in [None, Some("d")] {
                let members: Vec<_> = ["active", "invited", "deactivated"]
                    .iter()
                    .map(|s| {
                        context! { id => s, name => "<N>", email => "e", role => "institute",
                        state => s, me => *s == "active" }
                    })
                    .collect();
                let org = context! { id => "o", name => "Org", kind => "institute",
                registration_no => "1", province => "P", contact_email => "c", created => "d",
                closed };
                for done in [
                    "",
                    "invited",
                    "invite-again",
                    "deactivate",
                    "reactivate",
                    "reset-password",
                ] {
                    let page = set(
                        "admin/organisation.html",
                        context! { org => org.clone(), members => members.clone(),
                        roles => ["institute"], values => context! { display_name => "<x>",
                        email => "", role => "institute", locale => "vi" },
                        errors => errors.clone(), done, done_name => "N", hours => 72 },
                    );
                    assert!(!page.contains("<b>bad"));
                    // A closed organisation takes no invitation.
                    assert_eq!(page.contains("&lt;b&gt;bad"), closed.is_none());
                }
            }
            let rows: Vec<_> = ["active", "invited", "deactivated"]
                .iter()
                .map(|s| {
                    context! { id => "u", name => "N", email => "e", role => "sme",
                    organisation_id => "o", organisation => "O", state => s }
                })
                .collect();
            set(
                "admin/users.html",
                context! { rows, total => 3, q => "<q>", state => "active", ..pager.clone() },
            );
            set(
                "admin/invitation.html",
                context! { token => "t", errors => errors.clone(), name => "N", email => "e",
                organisation => "O" },
            );
            let rows: Vec<_> = crate::mail::model::KINDS
                .iter()
                .zip(super::STATUSES.iter().cycle())
                .map(|(k, s)| {
                    context! { id => "m", kind => k, to => "t", subject => "S",
                    status => s, attempts => 1, written => "w" }
                })
                .collect();
            set(
                "admin/outbox.html",
                context! { rows, total => 31, errors => errors.clone(),
                f => context! { status => "failed", kind => "invitation", to => "", from => "x",
                until => "" }, statuses => super::STATUSES,
                kinds => crate::mail::model::KINDS.as_slice(), ..pager.clone() },
            );
            for (status, error) in [
                ("failed", Some("550 <no>")),
                ("pending", None),
                ("sent", None),
            ] {
                let page = set(
                    "admin/message.html",
                    context! { done => status == "pending", m => context! { id => "m",
                    kind => "invitation", to => "t", locale => "vi", subject => "S",
                    status, attempts => 3, message_id => "x@usefirst", error,
                    written => "w", next_attempt => "n", sent => None::<String> } },
                );
                assert_eq!(page.contains("550 &lt;no&gt;"), error.is_some());
            }
            let runs: Vec<_> = crate::jobs::model::RUN_STATUSES
                .iter()
                .zip(["schedule", "manual"].iter().cycle())
                .map(|(s, by)| {
                    context! { slot => "s", status => s, started => "b", took => "1 ms",
                    triggered_by => by, error => None::<String>, counts => "{}" }
                })
                .collect();
            let jobs: Vec<_> = crate::jobs::model::JobKind::ALL
                .iter()
                .map(|k| {
                    context! { job => k.name(), cron => "0 * * * * *", enabled => false,
                    failures => 1, runs => runs.clone() }
                })
                .collect();
            set("admin/jobs.html", context! { jobs, per_job => 10 });
        }
    }
}
