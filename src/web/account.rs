//! A person's own account: their profile (language, password), setting a forgotten password
//! with a mailed link, the mail they were sent, an enterprise registering itself, and the
//! admins' review of those registrations.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::{context, Value};
use serde::Deserialize;

use super::frame::{self, blocking, see_other, SignedIn, Visitor};
use super::session::{self, SESSION};
use crate::accounts::model::RegistrationForm;
use crate::error::{AppError, FieldError};
use crate::typeset::format::date;
use crate::AppState;

/// Messages on one page of notifications.
const PER_PAGE: i64 = 20;

pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "account/fields.html",
            include_str!("templates/account/fields.html"),
        ),
        (
            "account/profile.html",
            include_str!("templates/account/profile.html"),
        ),
        (
            "account/forgot.html",
            include_str!("templates/account/forgot.html"),
        ),
        (
            "account/notice.html",
            include_str!("templates/account/notice.html"),
        ),
        (
            "account/reset.html",
            include_str!("templates/account/reset.html"),
        ),
        (
            "account/notifications.html",
            include_str!("templates/account/notifications.html"),
        ),
        (
            "account/register.html",
            include_str!("templates/account/register.html"),
        ),
        (
            "account/registrations.html",
            include_str!("templates/account/registrations.html"),
        ),
        (
            "account/confirm.html",
            include_str!("templates/account/confirm.html"),
        ),
    ],
    words: (
        "account",
        include_str!("i18n/account.vi.toml"),
        include_str!("i18n/account.en.toml"),
    ),
    css: include_str!("../../static/web/account.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/profile", web::get().to(profile))
        .route("/profile/language", web::post().to(set_language))
        .route("/profile/password", web::post().to(change_password))
        .route("/password/forgot", web::get().to(forgot_form))
        .route("/password/forgot", web::post().to(forgot))
        .route("/password/reset/{token}", web::get().to(reset_form))
        .route("/password/reset/{token}", web::post().to(reset))
        .route("/notifications", web::get().to(notifications))
        .route("/register", web::get().to(register_form))
        .route("/register", web::post().to(register))
        .route("/register/confirm/{token}", web::get().to(confirm_form))
        .route("/register/confirm/{token}", web::post().to(confirm))
        .route("/admin/registrations", web::get().to(registrations))
        .route("/admin/registrations/{id}/approve", web::post().to(approve))
        .route("/admin/registrations/{id}/refuse", web::post().to(refuse));
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
            let text = visitor.words(state, &format!("account.err.{code}"), &args);
            (field, text)
        })
        .collect()
}

/// A short page saying one thing (`key.title`, `key.body`), with a link onward.
fn notice(
    state: &AppState,
    visitor: &Visitor,
    status: u16,
    key: &str,
    link: &str,
    link_key: &str,
) -> HttpResponse {
    visitor.page(
        state,
        status,
        "account/notice.html",
        context! { key, link, link_key },
    )
}

// --- profile ----------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct Saved {
    saved: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    password_again: String,
}

#[derive(Debug, Default, Deserialize)]
struct LanguageForm {
    #[serde(default)]
    locale: String,
}

/// The profile page, with `errors` of the password form (status 422 when any).
async fn show_profile(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: crate::auth::session::Actor,
    status: u16,
    saved: &str,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let loaded = blocking(state, move |st| crate::app::accounts::profile(st, &actor)).await;
    let (user, org) = match loaded {
        Ok(found) => found,
        Err(e) => return visitor.failure(state, e, ""),
    };
    visitor.page(
        state,
        status,
        "account/profile.html",
        context! {
            name => user.display_name, email => user.email, organisation => org.name,
            role => user.role, locale => user.locale, saved, errors,
        },
    )
}

async fn profile(
    state: web::Data<AppState>,
    q: web::Query<Saved>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let saved = match q.saved.as_deref() {
        Some("language") => "language",
        Some("password") => "password",
        _ => "",
    };
    show_profile(&state, &visitor, actor, 200, saved, BTreeMap::new()).await
}

async fn set_language(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<LanguageForm>(&req, &body) else {
        return forged(&state, &visitor);
    };
    let Some(lang) = super::i18n::LANGS.into_iter().find(|l| *l == form.locale) else {
        return visitor.error(
            &state,
            422,
            "error.invalid",
            context! { back => "/profile" },
        );
    };
    if let Err(e) = blocking(&state, move |st| {
        crate::app::accounts::set_language(st, &actor, lang)
    })
    .await
    {
        return visitor.failure(&state, e, "/profile");
    }
    // The switch's cookie wins over the user's language: it follows the choice too.
    HttpResponse::SeeOther()
        .insert_header(("Location", "/profile?saved=language"))
        .append_header((
            "Set-Cookie",
            session::set_cookie(&req, session::LANG, lang, 60 * 60 * 24 * 365),
        ))
        .finish()
}

async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<PasswordForm>(&req, &body) else {
        return forged(&state, &visitor);
    };
    let keep = session::cookie(&req, SESSION);
    let who = actor.clone();
    let changed = blocking(&state, move |st| {
        crate::app::auth::change_password(
            st,
            &who,
            keep.as_deref(),
            &form.current_password,
            &form.new_password,
            &form.password_again,
        )
    })
    .await;
    match changed {
        Ok(()) => see_other("/profile?saved=password"),
        Err(AppError::Validation(errors)) => {
            let errors = said(&state, &visitor, &errors);
            show_profile(&state, &visitor, actor, 422, "", errors).await
        }
        Err(e) => visitor.failure(&state, e, "/profile"),
    }
}

// --- a forgotten password -----------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn forgot_form(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    visitor.page(
        &state,
        200,
        "account/forgot.html",
        context! { email => "", errors => BTreeMap::<String, String>::new() },
    )
}

async fn forgot(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let Some(form) = frame::form::<EmailForm>(&req, &body) else {
        return forged(&state, &visitor);
    };
    let email = form.email.clone();
    match blocking(&state, move |st| {
        crate::app::auth::request_password_reset(st, &email)
    })
    .await
    {
        Ok(()) => notice(
            &state,
            &visitor,
            200,
            "account.forgot.sent",
            "/sign-in",
            "account.back_to_sign_in",
        ),
        Err(AppError::Validation(errors)) => visitor.page(
            &state,
            422,
            "account/forgot.html",
            context! { email => form.email.trim(), errors => said(&state, &visitor, &errors) },
        ),
        Err(e) => visitor.failure(&state, e, "/password/forgot"),
    }
}

/// The page of a link that was used or has expired.
fn dead_link(state: &AppState, visitor: &Visitor, again: &str) -> HttpResponse {
    notice(
        state,
        visitor,
        410,
        "account.link_dead",
        again,
        "account.link_dead.again",
    )
}

async fn reset_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let token = token.into_inner();
    let t = token.clone();
    match blocking(&state, move |st| {
        crate::app::auth::password_link_works(st, &t)
    })
    .await
    {
        Ok(true) => visitor.page(
            &state,
            200,
            "account/reset.html",
            context! { token, errors => BTreeMap::<String, String>::new() },
        ),
        Ok(false) => dead_link(&state, &visitor, "/password/forgot"),
        Err(e) => visitor.failure(&state, e, "/password/forgot"),
    }
}

#[derive(Debug, Default, Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    password_again: String,
}

async fn reset(
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
        crate::app::auth::reset_password(st, &t, &form.new_password, &form.password_again)
    })
    .await;
    match done {
        Ok(true) => {
            // Every session ended, this browser's too.
            let mut res = notice(
                &state,
                &visitor,
                200,
                "account.reset.done",
                "/sign-in",
                "account.back_to_sign_in",
            );
            if let Ok(v) = session::set_cookie(&req, SESSION, "", 0).parse() {
                res.headers_mut()
                    .append(actix_web::http::header::SET_COOKIE, v);
            }
            res
        }
        Ok(false) => dead_link(&state, &visitor, "/password/forgot"),
        Err(AppError::Validation(errors)) => visitor.page(
            &state,
            422,
            "account/reset.html",
            context! { token, errors => said(&state, &visitor, &errors) },
        ),
        Err(e) => visitor.failure(&state, e, "/password/forgot"),
    }
}

// --- notifications ------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    page: Option<i64>,
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

async fn notifications(
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let page = q.page.unwrap_or(1).max(1);
    let offset = (page - 1) * PER_PAGE;
    let loaded = blocking(&state, move |st| {
        crate::app::mail::notifications(st, &actor, PER_PAGE, offset)
    })
    .await;
    let (items, total) = match loaded {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let messages: Vec<Value> = items
        .into_iter()
        .map(|m| {
            context! {
                id => m.id, subject => m.subject, body => m.body, status => m.status,
                at => when(&state, visitor.lang, m.created_at),
                sent => m.sent_at.map(|s| when(&state, visitor.lang, s)).unwrap_or_default(),
            }
        })
        .collect();
    let pages = super::frame::pages_of(total, PER_PAGE);
    visitor.page(
        &state,
        200,
        "account/notifications.html",
        context! {
            messages, total, page, pages,
            prev => if page > 1 { page - 1 } else { 0 },
            next => if page < pages { page + 1 } else { 0 },
        },
    )
}

// --- registration -------------------------------------------------------------------------

/// The registration form, with what was typed (never the passwords) and `errors`.
fn register_page(
    state: &AppState,
    visitor: &Visitor,
    status: u16,
    form: &RegistrationForm,
    errors: BTreeMap<String, String>,
) -> HttpResponse {
    let values = context! {
        organisation_name => form.organisation_name.trim(),
        registration_no => form.registration_no.trim(),
        province => form.province.trim(),
        sector => form.sector.trim(),
        address => form.address.trim(),
        name => form.name.trim(),
        email => form.email.trim(),
    };
    visitor.page(
        state,
        status,
        "account/register.html",
        context! { values, errors },
    )
}

async fn register_form(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    if visitor.user.is_some() {
        return see_other("/home");
    }
    register_page(
        &state,
        &visitor,
        200,
        &RegistrationForm::default(),
        BTreeMap::new(),
    )
}

async fn register(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let Some(form) = frame::form::<RegistrationForm>(&req, &body) else {
        return forged(&state, &visitor);
    };
    let (input, lang) = (form.clone(), visitor.lang);
    match blocking(&state, move |st| {
        crate::app::registration::register(st, &input, lang)
    })
    .await
    {
        Ok(_) => notice(
            &state,
            &visitor,
            200,
            "account.register.sent",
            "/sign-in",
            "account.back_to_sign_in",
        ),
        Err(AppError::Validation(errors)) => {
            let errors = said(&state, &visitor, &errors);
            register_page(&state, &visitor, 422, &form, errors)
        }
        Err(e) => visitor.failure(&state, e, "/register"),
    }
}

/// The mailed link opens a page whose button confirms: opening a link changes nothing (a mail
/// scanner or a preview that follows it confirms nobody).
async fn confirm_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let token = token.into_inner();
    let t = token.clone();
    match blocking(&state, move |st| {
        crate::app::registration::confirm_link_works(st, &t)
    })
    .await
    {
        Ok(true) => visitor.page(&state, 200, "account/confirm.html", context! { token }),
        Ok(false) => dead_link(&state, &visitor, "/sign-in"),
        Err(e) => visitor.failure(&state, e, "/sign-in"),
    }
}

async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    if frame::form::<ReasonForm>(&req, &body).is_none() {
        return forged(&state, &visitor);
    }
    let token = token.into_inner();
    match blocking(&state, move |st| {
        crate::app::registration::confirm(st, &token)
    })
    .await
    {
        Ok(Some(_)) => notice(
            &state,
            &visitor,
            200,
            "account.register.confirmed",
            "/sign-in",
            "account.back_to_sign_in",
        ),
        Ok(None) => dead_link(&state, &visitor, "/sign-in"),
        Err(e) => visitor.failure(&state, e, "/sign-in"),
    }
}

// --- the admins' review -------------------------------------------------------------------

/// The registrations waiting, with the reason typed for `failed` (a refusal without one)
/// and its error.
async fn show_registrations(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    actor: crate::auth::session::Actor,
    status: u16,
    failed: Option<(String, String, String)>,
) -> HttpResponse {
    let loaded = blocking(state, move |st| crate::app::registration::open(st, &actor)).await;
    let open = match loaded {
        Ok(found) => found,
        Err(e) => return visitor.failure(state, e, ""),
    };
    let lang = visitor.lang;
    let rows: Vec<Value> = open
        .into_iter()
        .map(|r| {
            let (reason, error) = match &failed {
                Some((id, reason, error)) if *id == r.organisation_id => {
                    (reason.clone(), error.clone())
                }
                _ => (String::new(), String::new()),
            };
            context! {
                id => r.organisation_id, organisation => r.organisation_name,
                registration_no => r.registration_no, province => r.province,
                sector => r.sector, address => r.address, name => r.name, email => r.email,
                status => r.status,
                registered => when(state, lang, r.created_at),
                confirmed => r.confirmed_at.map(|c| when(state, lang, c)).unwrap_or_default(),
                reason, error,
            }
        })
        .collect();
    visitor.page(
        state,
        status,
        "account/registrations.html",
        context! { rows },
    )
}

async fn registrations(
    state: web::Data<AppState>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    show_registrations(&state, &visitor, actor, 200, None).await
}

#[derive(Debug, Default, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if frame::form::<ReasonForm>(&req, &body).is_none() {
        return forged(&state, &visitor);
    }
    let id = id.into_inner();
    match blocking(&state, move |st| {
        crate::app::registration::approve(st, &actor, &id)
    })
    .await
    {
        Ok(()) => see_other("/admin/registrations"),
        Err(e) => visitor.failure(&state, e, "/admin/registrations"),
    }
}

async fn refuse(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let Some(form) = frame::form::<ReasonForm>(&req, &body) else {
        return forged(&state, &visitor);
    };
    let (id, who, reason) = (id.into_inner(), actor.clone(), form.reason.clone());
    let org = id.clone();
    match blocking(&state, move |st| {
        crate::app::registration::refuse(st, &who, &org, &reason)
    })
    .await
    {
        Ok(()) => see_other("/admin/registrations"),
        Err(AppError::Validation(errors)) => {
            let error = said(&state, &visitor, &errors)
                .remove("reason")
                .unwrap_or_default();
            let failed = Some((id, form.reason.trim().to_string(), error));
            show_registrations(&state, &visitor, actor, 422, failed).await
        }
        Err(e) => visitor.failure(&state, e, "/admin/registrations"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Pages;
    use minijinja::context;

    /// Every page of the group sets in both languages with a representative context, and
    /// what a person typed is escaped.
    #[test]
    fn every_page_sets_in_both_languages() {
        let pages = Pages::load().unwrap();
        let errors = context! { email => "<b>bad</b>", current_password => "wrong", reason => "x" };
        let user = context! { display_name => "Nguyễn Văn An", role => "sme", email => "a@b.vn" };
        for lang in super::super::i18n::LANGS {
            let frame = |ctx: minijinja::Value| {
                minijinja::value::merge_maps([
                    context! { lang, csrf => "x", path => "/p", user => user.clone() },
                    ctx,
                ])
            };
            let set = |name: &str, ctx: minijinja::Value| {
                pages
                    .render(name, frame(ctx))
                    .unwrap_or_else(|e| panic!("{name} in {lang}: {e:#}"))
            };
            let page = set(
                "account/profile.html",
                context! { name => "An", email => "a@b.vn", organisation => "Công ty <A>",
                role => "sme", locale => "en", saved => "password", errors => errors.clone() },
            );
            assert!(
                page.contains("Công ty &lt;A&gt;") && page.contains("aria-invalid"),
                "{page}"
            );
            let page = set(
                "account/forgot.html",
                context! { email => "<x>", errors => errors.clone() },
            );
            assert!(
                page.contains("&lt;b&gt;bad") && !page.contains("<b>bad"),
                "{page}"
            );
            for key in [
                "account.forgot.sent",
                "account.link_dead",
                "account.reset.done",
                "account.register.sent",
                "account.register.confirmed",
            ] {
                set(
                    "account/notice.html",
                    context! { key, link => "/sign-in",
                    link_key => "account.back_to_sign_in" },
                );
            }
            set(
                "account/reset.html",
                context! { token => "t", errors => errors.clone() },
            );
            set("account/confirm.html", context! { token => "t" });
            for status in ["pending", "sent", "failed"] {
                let messages = vec![context! { id => "m", subject => "S", body => "B\nC",
                status, at => "01/03/2026 09:00", sent => "" }];
                set(
                    "account/notifications.html",
                    context! { messages, total => 30, page => 2,
                    pages => 2, prev => 1, next => 0 },
                );
            }
            set(
                "account/notifications.html",
                context! { messages => Vec::<()>::new(),
                total => 0, page => 1, pages => 1, prev => 0, next => 0 },
            );
            let values = context! { organisation_name => "A", registration_no => "0312",
            province => "Cần Thơ", sector => "Food", address => "1 Lê Lợi", name => "An",
            email => "a@b.vn" };
            set(
                "account/register.html",
                context! { values, errors => errors.clone() },
            );
            for status in ["confirmed", "unconfirmed"] {
                let rows = vec![
                    context! { id => "o", organisation => "A", registration_no => "1",
                    province => "P", sector => "S", address => "Ad", name => "N", email => "e@x.vn",
                    status, registered => "d", confirmed => "d2", reason => "r", error => "e" },
                ];
                set("account/registrations.html", context! { rows });
            }
            set(
                "account/registrations.html",
                context! { rows => Vec::<()>::new() },
            );
        }
    }
}
