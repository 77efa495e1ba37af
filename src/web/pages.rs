//! The handlers of the first pages: sign in, sign out, the language switch and home. Each
//! reads the visitor (session cookie, language), calls app, and sets a template; forms check
//! the form token and redirect on success (POST/redirect/GET).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::session::{self, SESSION};
use super::{error_page, html};
use crate::agreements::model::ListFilter;
use crate::error::AppError;
use crate::typeset::format::date;
use crate::AppState;

/// The trials the home page lists, newest first.
const HOME_TRIALS: i64 = 20;

/// Registers the pages on `cfg`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/sign-in", web::get().to(sign_in_form))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/home", web::get().to(home))
        .route("/lang/{code}", web::get().to(switch_language))
        .route("/static/web/app.css", web::get().to(super::stylesheet));
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

async fn root(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match session::user(&state, &req).await {
        Some(_) => see_other("/home"),
        None => see_other("/sign-in"),
    }
}

/// What the sign-in page shows besides its form.
struct SignIn<'a> {
    status: u16,
    error: String,
    email: &'a str,
}

fn sign_in_page(state: &AppState, req: &HttpRequest, page: SignIn<'_>) -> HttpResponse {
    let lang = session::language(req, None, &state.cfg.app.locale);
    let (csrf, new) = session::csrf_token(req);
    let ctx = minijinja::context! {
        lang, csrf, path => "/sign-in", user => (), error => page.error, email => page.email,
    };
    match state.pages.render("sign_in.html", ctx) {
        Ok(body) => html(req, page.status, body, new.then_some(csrf.as_str())),
        Err(e) => {
            tracing::error!(error = %e, "the sign-in page could not be set");
            HttpResponse::InternalServerError().finish()
        }
    }
}

async fn sign_in_form(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if session::user(&state, &req).await.is_some() {
        return see_other("/home");
    }
    sign_in_page(
        &state,
        &req,
        SignIn {
            status: 200,
            error: String::new(),
            email: "",
        },
    )
}

#[derive(Debug, Default, Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// The words of `key` in the visitor's language.
fn words(state: &AppState, req: &HttpRequest, key: &str, args: &[(&str, String)]) -> String {
    let lang = session::language(req, None, &state.cfg.app.locale);
    state
        .pages
        .catalogues
        .text(lang, key, args)
        .unwrap_or_default()
}

async fn sign_in(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form: SignInForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !session::csrf_ok(&req, &form.csrf) {
        return error_page(&state, &req, 403, "error.forbidden").await;
    }
    let page = |status, key: &str, args: &[(&str, String)]| {
        sign_in_page(
            &state,
            &req,
            SignIn {
                status,
                error: words(&state, &req, key, args),
                email: form.email.trim(),
            },
        )
    };
    if form.email.trim().is_empty() || form.password.is_empty() {
        return page(422, "sign_in.missing", &[]);
    }
    let (email, password) = (form.email.clone(), form.password.clone());
    let st = state.clone();
    let signed = web::block(move || crate::app::auth::sign_in(&st, &email, &password))
        .await
        .unwrap_or(Err(AppError::Busy));
    match signed {
        Ok(signed) => {
            let max_age = (signed.expires_at - state.clock.now()).num_seconds().max(0);
            HttpResponse::SeeOther()
                .insert_header(("Location", "/home"))
                .append_header((
                    "Set-Cookie",
                    session::set_cookie(&req, SESSION, &signed.token, max_age),
                ))
                .finish()
        }
        Err(AppError::Unauthenticated) => page(401, "sign_in.failed", &[]),
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60).to_string();
            page(429, "sign_in.throttled", &[("minutes", minutes)])
        }
        Err(e) => {
            tracing::warn!(error = %e, "sign-in page could not sign in");
            error_page(&state, &req, 503, "error.busy").await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form: TokenForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !session::csrf_ok(&req, &form.csrf) {
        return error_page(&state, &req, 403, "error.forbidden").await;
    }
    if let Some(token) = session::cookie(&req, SESSION) {
        let st = state.clone();
        let ended = web::block(move || crate::app::auth::sign_out(&st, &token)).await;
        if !matches!(ended, Ok(Ok(()))) {
            return error_page(&state, &req, 503, "error.busy").await;
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
    let to = back
        .into_inner()
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".into());
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .append_header((
            "Set-Cookie",
            session::set_cookie(&req, session::LANG, lang, 60 * 60 * 24 * 365),
        ))
        .finish()
}

/// The signed-in user's home: who they are and the trials their organisation may see.
async fn home(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(user) = session::user(&state, &req).await else {
        return see_other("/sign-in");
    };
    let lang = session::language(&req, Some(&user), &state.cfg.app.locale);
    let st = state.clone();
    let actor = user.clone();
    let loaded = web::block(move || {
        let org = crate::app::accounts::organisation(&st, &actor, &actor.organisation_id)?;
        let (trials, total) =
            crate::app::agreements::list(&st, &actor, &ListFilter::default(), HOME_TRIALS, 0)?;
        Ok::<_, AppError>((org.name, trials, total))
    })
    .await
    .unwrap_or(Err(AppError::Busy));
    let (organisation, trials, total) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::warn!(error = %e, "home page could not load");
            return error_page(&state, &req, 503, "error.busy").await;
        }
    };
    let trials: Vec<_> = trials
        .iter()
        .map(|a| {
            let trial = match (a.trial_start, a.trial_end) {
                (Some(s), Some(e)) => format!("{} – {}", date(lang, s), date(lang, e)),
                _ => String::new(),
            };
            minijinja::context! {
                number => a.number.clone(),
                status => a.status.as_str(),
                trial,
                deadline => a.decision_deadline.map(|d| date(lang, d)).unwrap_or_default(),
            }
        })
        .collect();
    let (csrf, new) = session::csrf_token(&req);
    let ctx = minijinja::context! {
        lang, csrf, path => "/home", organisation, trials, total,
        user => minijinja::context! {
            display_name => user.display_name.clone(), role => user.role.as_str(),
        },
    };
    match state.pages.render("home.html", ctx) {
        Ok(body) => html(&req, 200, body, new.then_some(csrf.as_str())),
        Err(e) => {
            tracing::error!(error = %e, "the home page could not be set");
            error_page(&state, &req, 503, "error.busy").await
        }
    }
}
