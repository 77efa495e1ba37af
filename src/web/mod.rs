//! The web pages, server-rendered from the same binary in Vietnamese and English: an edge like
//! the JSON API, calling the application layer and setting its answers with minijinja
//! templates built into the binary and checked at start (auto-escaped HTML). Every page works
//! without JavaScript; forms post and redirect on success, and carry the form token.
//!
//! This first part holds the frame every page shares (layout, language switch, sessions in a
//! cookie, form tokens, error pages), signing in and out, and the home page.

pub mod i18n;
mod pages;
pub mod session;

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::Environment;
use serde::Serialize;

pub use pages::routes;

/// The page templates, each checked at start.
const TEMPLATES: [(&str, &str); 4] = [
    ("layout.html", include_str!("templates/layout.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("home.html", include_str!("templates/home.html")),
    ("error.html", include_str!("templates/error.html")),
];

const STYLESHEET: &str = include_str!("../../static/web/app.css");

/// The pages' templates and words.
pub struct Pages {
    env: Environment<'static>,
    pub catalogues: Arc<i18n::Catalogues>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl Pages {
    /// The built-in templates and catalogues; an error names what does not parse.
    pub fn load() -> anyhow::Result<Pages> {
        let catalogues = Arc::new(i18n::Catalogues::load()?);
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_function("t", i18n::function(catalogues.clone()));
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|e| anyhow::anyhow!("web template {name}: {e}"))?;
        }
        Ok(Pages { env, catalogues })
    }

    /// Sets template `name` with `ctx`.
    pub fn render<C: Serialize>(&self, name: &str, ctx: C) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

/// A page answer with `status`, setting the form-token cookie when the browser had none.
fn html(req: &HttpRequest, status: u16, body: String, new_csrf: Option<&str>) -> HttpResponse {
    let mut res = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    res.content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"));
    if let Some(token) = new_csrf {
        res.append_header((
            "Set-Cookie",
            session::set_cookie(req, session::CSRF, token, 60 * 60 * 24 * 365),
        ));
    }
    res.body(body)
}

/// The stylesheet, from the binary.
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STYLESHEET)
}

/// An error page in the visitor's language: `kind` is a catalogue prefix (`error.not_found`).
pub async fn error_page(
    state: &web::Data<crate::AppState>,
    req: &HttpRequest,
    status: u16,
    kind: &str,
) -> HttpResponse {
    let user = session::user(state, req).await;
    let lang = session::language(req, user.as_ref(), &state.cfg.app.locale);
    let (csrf, new) = session::csrf_token(req);
    let ctx = minijinja::context! {
        lang, kind, csrf, path => req.path(),
        user => user.as_ref().map(|u| minijinja::context! { display_name => u.display_name.clone() }),
    };
    match state.pages.render("error.html", ctx) {
        Ok(body) => html(req, status, body, new.then_some(csrf.as_str())),
        Err(e) => {
            tracing::error!(error = %e, "the error page could not be set");
            HttpResponse::build(
                actix_web::http::StatusCode::from_u16(status)
                    .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
            )
            .content_type("text/plain; charset=utf-8")
            .body(kind.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both languages have every key, every literal key a template names exists, and every
    /// page sets in both languages (an unknown key would fail the render, never show).
    #[test]
    fn every_key_is_in_both_languages_and_every_page_sets() {
        let pages = Pages::load().unwrap();
        let keys: Vec<&String> = pages.catalogues.keys().collect();
        for (name, source) in TEMPLATES {
            for (at, _) in source.match_indices("t(") {
                // Only the function `t`, not a name ending in t (`format(`).
                let before = source[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &source[at + 2..];
                let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                    continue;
                };
                let key: String = rest[1..].chars().take_while(|c| *c != quote).collect();
                // A prefix (`"status." ~ a.status`) is checked below for every value.
                if !key.ends_with('.') {
                    assert!(keys.contains(&&key), "{name}: {key} is in no catalogue");
                }
            }
        }
        for status in crate::rules::lifecycle::Status::ALL {
            assert!(keys.contains(&&format!("status.{}", status.as_str())));
        }
        for role in crate::rules::roles::Role::ALL {
            assert!(keys.contains(&&format!("role.{}", role.as_str())));
        }
        for lang in i18n::LANGS {
            let user = minijinja::context! { display_name => "Nguyễn Văn An", role => "sme" };
            let trials = vec![minijinja::context! {
                number => "UF-2026-000001", status => "active",
                trial => "01/03/2026 – 30/05/2026", deadline => "",
            }];
            let home = pages
                .render(
                    "home.html",
                    minijinja::context! { lang, csrf => "x", path => "/home", user,
                    organisation => "Công ty <TNHH>", trials, total => 1 },
                )
                .unwrap();
            // Values are escaped.
            assert!(home.contains("Công ty &lt;TNHH&gt;"), "{home}");
            let sign_in = pages
                .render(
                    "sign_in.html",
                    minijinja::context! { lang, csrf => "x", path => "/sign-in",
                    user => (), error => "", email => "a@b.vn" },
                )
                .unwrap();
            assert!(sign_in.contains(&format!("<html lang=\"{lang}\">")));
            for kind in ["error.not_found", "error.forbidden", "error.busy"] {
                pages
                    .render(
                        "error.html",
                        minijinja::context! { lang, kind, csrf => "x", path => "/", user => () },
                    )
                    .unwrap();
            }
        }
        let err = pages
            .render(
                "error.html",
                minijinja::context! { lang => "en", kind => "error.nope",
                csrf => "x", path => "/", user => () },
            )
            .unwrap_err();
        assert!(err.to_string().contains("error.nope"), "{err}");
    }
}
