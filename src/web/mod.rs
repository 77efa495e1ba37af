//! The web pages, server-rendered from the same binary in Vietnamese and English: an edge like
//! the JSON API, calling the application layer and setting its answers with minijinja
//! templates built into the binary and checked at start (auto-escaped HTML). Every page works
//! without JavaScript; forms post and redirect on success (POST/redirect/GET), carry the form
//! token, and on bad values are set again with the errors beside the fields and what was typed.
//!
//! Pages come in groups ([`Group`]): each owns its handlers, templates and words (a pair of
//! catalogues), and is listed once in [`GROUPS`]. [`frame`] is what every handler shares.
//!
//! Why minijinja and not askama: the mail and documents already set minijinja templates, so
//! one template language serves every text a person reads; templates are parsed at start
//! (a broken one stops the service before it listens) and a test sets each in both languages.

mod account;
mod admin;
mod agreement;
mod audit;
mod catalogue;
pub mod chart;
mod dashboard;
mod demands;
pub mod frame;
pub mod i18n;
mod insurer;
mod money;
mod pages;
mod reports;
mod screening;
pub mod session;
mod technologies;
mod verify;

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::Environment;
use serde::Serialize;

/// A group of pages: its templates (name, source), its words (group name, vi and en
/// catalogue sources), its styles (added to the one stylesheet) and its routes.
pub struct Group {
    pub templates: &'static [(&'static str, &'static str)],
    pub words: (&'static str, &'static str, &'static str),
    pub css: &'static str,
    pub routes: fn(&mut web::ServiceConfig),
}

/// Every group of pages.
const GROUPS: &[Group] = &[
    pages::GROUP,
    account::GROUP,
    dashboard::GROUP,
    catalogue::GROUP,
    technologies::GROUP,
    agreement::GROUP,
    money::GROUP,
    admin::GROUP,
    audit::GROUP,
    reports::GROUP,
    insurer::GROUP,
    verify::GROUP,
    screening::GROUP,
    demands::GROUP,
];

const STYLESHEET: &str = include_str!("../../static/web/app.css");

/// Registers every page, and the stylesheet, on `cfg`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/web/app.css", web::get().to(stylesheet));
    for group in GROUPS {
        (group.routes)(cfg);
    }
}

/// The pages' templates and words.
pub struct Pages {
    env: Environment<'static>,
    pub catalogues: Arc<i18n::Catalogues>,
    /// The stylesheet: the frame's, then each group's (joined once, at start).
    stylesheet: web::Bytes,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl Pages {
    /// The built-in templates and catalogues; an error names what does not parse.
    pub fn load() -> anyhow::Result<Pages> {
        let words: Vec<_> = GROUPS.iter().map(|g| g.words).collect();
        let catalogues = Arc::new(i18n::Catalogues::load(&words)?);
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_formatter(escape);
        env.add_function("t", i18n::function(catalogues.clone()));
        for (name, source) in GROUPS.iter().flat_map(|g| g.templates) {
            env.add_template(name, source)
                .map_err(|e| anyhow::anyhow!("web template {name}: {e}"))?;
        }
        let stylesheet = std::iter::once(STYLESHEET)
            .chain(GROUPS.iter().map(|g| g.css))
            .collect::<Vec<_>>()
            .join("\n")
            .into();
        Ok(Pages {
            env,
            catalogues,
            stylesheet,
        })
    }

    /// Sets template `name` with `ctx`.
    pub fn render<C: Serialize>(&self, name: &str, ctx: C) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

/// Writes a value into a page: HTML-escaped (`&`, `<`, `>`, `"`, `'`) unless marked safe. The
/// default HTML escape also writes `/` as `&#x2f;`, which is not needed inside quoted
/// attributes or text and makes every link in a page's source harder to read.
fn escape(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let plain = matches!(state.auto_escape(), minijinja::AutoEscape::Html)
        && !value.is_safe()
        && !value.is_undefined()
        && !value.is_none();
    if !plain {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut from = 0;
    for (at, c) in text.char_indices() {
        let entity = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#x27;",
            _ => continue,
        };
        out.write_str(&text[from..at])
            .and_then(|_| out.write_str(entity))
            .map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            })?;
        from = at + 1;
    }
    out.write_str(&text[from..])
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
}

/// The stylesheet, from the binary.
async fn stylesheet(state: web::Data<crate::AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(state.pages.stylesheet.clone())
}

/// An error page in the visitor's language: `kind` is a catalogue prefix (`error.not_found`).
pub async fn error_page(
    state: &web::Data<crate::AppState>,
    req: &HttpRequest,
    status: u16,
    kind: &str,
) -> HttpResponse {
    frame::Visitor::of(state, req)
        .await
        .error(state, status, kind, minijinja::context! {})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text and attributes are escaped (`&<>"'`), links keep their slashes, and a value
    /// marked safe by a filter (`urlencode`) is written as it is.
    #[test]
    fn values_are_escaped_and_links_stay_readable() {
        let pages = Pages::load().unwrap();
        let mut env = pages.env.clone();
        env.add_template(
            "t.html",
            r#"<a href="{{ href }}" title="{{ text }}">{{ text }}</a>"#,
        )
        .unwrap();
        let page = env
            .get_template("t.html")
            .unwrap()
            .render(
                minijinja::context! { href => "/agreements/1/money", text => r#"<b>"A&B's"</b>"# },
            )
            .unwrap();
        assert_eq!(
            page,
            r#"<a href="/agreements/1/money" title="&lt;b&gt;&quot;A&amp;B&#x27;s&quot;&lt;/b&gt;">&lt;b&gt;&quot;A&amp;B&#x27;s&quot;&lt;/b&gt;</a>"#
        );
    }

    /// Both languages have every key, every literal key a template names exists, and every
    /// page sets in both languages (an unknown key would fail the render, never show).
    #[test]
    fn every_key_is_in_both_languages_and_every_page_sets() {
        let pages = Pages::load().unwrap();
        let keys: Vec<&String> = pages.catalogues.keys().collect();
        for (name, source) in GROUPS.iter().flat_map(|g| g.templates) {
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
            let sign_in = pages
                .render(
                    "sign_in.html",
                    minijinja::context! { lang, csrf => "x", path => "/sign-in",
                    user => (), error => "", email => "a@b.vn", next => "/home" },
                )
                .unwrap();
            assert!(sign_in.contains(&format!("<html lang=\"{lang}\">")));
            for kind in [
                "error.not_found",
                "error.forbidden",
                "error.busy",
                "error.conflict",
                "error.stale",
                "error.invalid",
                "error.too_many",
            ] {
                pages
                    .render(
                        "error.html",
                        minijinja::context! { lang, kind, csrf => "x", path => "/", user => (),
                        detail => "", back => "/agreements/x" },
                    )
                    .unwrap();
            }
        }
        let err = pages
            .render(
                "error.html",
                minijinja::context! { lang => "en", kind => "error.nope",
                csrf => "x", path => "/", user => (), detail => "", back => "" },
            )
            .unwrap_err();
        assert!(err.to_string().contains("error.nope"), "{err}");
    }
}
