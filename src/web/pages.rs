//! The handlers of the first pages: sign in, sign out and the language switch (home is the
//! `dashboard` group's). Each reads the visitor (session cookie, language), calls app, and
//! sets a template; forms check the form token and redirect on success (POST/redirect/GET).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::frame::{self, blocking, see_other, Visitor};
use super::session::{self, SESSION};
use crate::app::auth::REGISTRATION_NOT_APPROVED;
use crate::error::AppError;
use crate::AppState;

/// Sign-in, sign-out, the language switch, the layout and the error page.
pub const GROUP: super::Group = super::Group {
    templates: &[
        ("layout.html", include_str!("templates/layout.html")),
        ("sign_in.html", include_str!("templates/sign_in.html")),
        ("error.html", include_str!("templates/error.html")),
        ("filters.html", include_str!("templates/filters.html")),
        (
            "agreement_tabs.html",
            include_str!("templates/agreement_tabs.html"),
        ),
        (
            "payment_record.html",
            include_str!("templates/payment_record.html"),
        ),
    ],
    words: (
        "common",
        include_str!("i18n/common.vi.toml"),
        include_str!("i18n/common.en.toml"),
    ),
    css: "",
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/", web::get().to(root))
        .route("/sign-in", web::get().to(sign_in_form))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/lang/{code}", web::get().to(switch_language));
}

async fn root(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match session::user(&state, &req).await {
        Some(_) => see_other("/home"),
        None => see_other("/sign-in"),
    }
}

/// `to` if it is a path of this site (never another site's), else `otherwise`.
fn local(to: Option<&str>, otherwise: &str) -> String {
    to.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or(otherwise)
        .to_string()
}

#[derive(Debug, Default, Deserialize)]
struct Next {
    next: Option<String>,
}

async fn sign_in_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Next>,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    if visitor.user.is_some() {
        return see_other(&local(query.next.as_deref(), "/home"));
    }
    visitor.page(
        &state,
        200,
        "sign_in.html",
        minijinja::context! { error => "", email => "", next => local(query.next.as_deref(), "/home") },
    )
}

#[derive(Debug, Default, Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn sign_in(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let Some(form) = frame::form::<SignInForm>(&req, &body) else {
        return visitor.error(&state, 403, "error.forbidden", minijinja::context! {});
    };
    let next = local(form.next.as_deref(), "/home");
    let again = |status, key: &str, args: &[(&str, String)]| {
        let error = visitor.words(&state, key, args);
        visitor.page(
            &state,
            status,
            "sign_in.html",
            minijinja::context! { error, email => form.email.trim(), next => next.clone() },
        )
    };
    if form.email.trim().is_empty() || form.password.is_empty() {
        return again(422, "sign_in.missing", &[]);
    }
    let (email, password) = (form.email.clone(), form.password.clone());
    let client = crate::http::client_addr(&req);
    match blocking(&state, move |st| {
        crate::app::auth::sign_in(st, &email, &password, client)
    })
    .await
    {
        Ok(signed) => {
            let max_age = (signed.expires_at - state.clock.now()).num_seconds().max(0);
            HttpResponse::SeeOther()
                .insert_header(("Location", next.as_str()))
                .append_header((
                    "Set-Cookie",
                    session::set_cookie(&req, SESSION, &signed.token, max_age),
                ))
                .finish()
        }
        Err(AppError::Unauthenticated) => again(401, "sign_in.failed", &[]),
        // The right password of a registration not approved yet: say where it stands.
        Err(AppError::Conflict(why)) if why.starts_with(REGISTRATION_NOT_APPROVED) => {
            let state_of = &why[REGISTRATION_NOT_APPROVED.len()..];
            again(403, &format!("account.sign_in.{state_of}"), &[])
        }
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60).to_string();
            let mut page = again(429, "sign_in.throttled", &[("minutes", minutes)]);
            frame::retry_after(&mut page, retry_after_secs);
            page
        }
        Err(e) => visitor.failure(&state, e, ""),
    }
}

#[derive(Debug, Default, Deserialize)]
struct TokenForm {}

async fn sign_out(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    if frame::form::<TokenForm>(&req, &body).is_none() {
        return visitor.error(&state, 403, "error.forbidden", minijinja::context! {});
    }
    if let Some(token) = session::cookie(&req, SESSION) {
        if let Err(e) = blocking(&state, move |st| crate::app::auth::sign_out(st, &token)).await {
            return visitor.failure(&state, e, "");
        }
    }
    HttpResponse::SeeOther()
        .insert_header(("Location", "/sign-in"))
        .append_header(("Set-Cookie", session::set_cookie(&req, SESSION, "", 0)))
        .finish()
}

#[derive(Debug, Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the page language and returns to where the visitor was (a path of this site only).
async fn switch_language(
    req: HttpRequest,
    code: web::Path<String>,
    back: web::Query<Back>,
) -> HttpResponse {
    let Some(lang) = super::i18n::LANGS.into_iter().find(|l| *l == code.as_str()) else {
        return see_other("/");
    };
    let to = local(back.into_inner().back.as_deref(), "/");
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .append_header((
            "Set-Cookie",
            session::set_cookie(&req, session::LANG, lang, 60 * 60 * 24 * 365),
        ))
        .finish()
}
