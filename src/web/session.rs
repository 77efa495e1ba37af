//! Who is using the pages, from cookies: the session (`uf_session`, the same sessions as the
//! API's bearer tokens, with the same idle and absolute expiry), the language chosen with the
//! switch (`uf_lang`), and the form token (`uf_csrf`) every form sends back (a double-submit
//! token: a site that is not usefirst cannot read it to put it in its own form).

use actix_web::http::header;
use actix_web::HttpRequest;
use rand::RngCore;

use crate::auth::session::{self, Actor};
use crate::AppState;

pub const SESSION: &str = "uf_session";
pub const LANG: &str = "uf_lang";
pub const CSRF: &str = "uf_csrf";

/// The value of cookie `name` in the request, if any.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, for the whole site, `Secure` when the
/// request came over HTTPS; `max_age` seconds (0 removes it).
pub fn set_cookie(req: &HttpRequest, name: &str, value: &str, max_age: i64) -> String {
    cookie_value(name, value, max_age, secure(req))
}

/// Whether the request came over HTTPS (directly or, as configured, through a proxy).
pub fn secure(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// A `Set-Cookie` value (see [`set_cookie`]), `Secure` when `secure`.
pub fn cookie_value(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The signed-in user, if the session cookie names a live session (off the async workers:
/// a cache miss reads the database).
pub async fn user(state: &actix_web::web::Data<AppState>, req: &HttpRequest) -> Option<Actor> {
    let token = cookie(req, SESSION)?;
    if let Some(actor) =
        session::authenticate_cached(&state.clock, &state.cfg.auth, &state.sessions, &token)
    {
        return Some(actor);
    }
    let state = state.clone();
    actix_web::web::block(move || {
        session::authenticate(
            &state.db,
            &state.clock,
            &state.cfg.auth,
            &state.sessions,
            &token,
        )
    })
    .await
    .ok()?
    .ok()
}

/// The form token of this browser, and whether it is new (to be set on the answer).
pub fn csrf_token(req: &HttpRequest) -> (String, bool) {
    match cookie(req, CSRF).filter(|t| t.len() == 64) {
        Some(token) => (token, false),
        None => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            (hex::encode(bytes), true)
        }
    }
}

/// Whether `sent` (a form's `csrf` field) is this browser's form token.
pub fn csrf_ok(req: &HttpRequest, sent: &str) -> bool {
    let Some(token) = cookie(req, CSRF) else {
        return false;
    };
    crate::auth::same_secret(token.as_bytes(), sent.as_bytes())
}

/// The page language: the switch's choice, else the user's own, else the browser's first of
/// ours, else the platform default.
pub fn language(req: &HttpRequest, user: Option<&Actor>, default: &str) -> &'static str {
    let ours = super::i18n::ours;
    if let Some(lang) = cookie(req, LANG).as_deref().and_then(ours) {
        return lang;
    }
    if let Some(lang) = user.and_then(|u| ours(&u.locale)) {
        return lang;
    }
    let accepted = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for part in accepted.split(',') {
        let code = part.split(';').next().unwrap_or("").trim();
        if let Some(lang) = ours(code.split('-').next().unwrap_or("")) {
            return lang;
        }
    }
    ours(default).unwrap_or("vi")
}
