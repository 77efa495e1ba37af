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
pub mod kept;
mod money;
mod pages;
mod reports;
mod screening;
pub mod session;
mod technologies;
mod verify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::Environment;

use crate::rules::roles::Role;
use serde::Serialize;

/// A group of pages: its templates (name, source), its words (group name, vi and en
/// catalogue sources), its styles (added to the one stylesheet) and its routes.
pub struct Group {
    pub templates: &'static [(&'static str, &'static str)],
    pub words: (&'static str, &'static str, &'static str),
    pub css: &'static str,
    pub routes: fn(&mut Routes),
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
    let mut all = Routes(Vec::new());
    for group in GROUPS {
        (group.routes)(&mut all);
    }
    all.register(cfg);
}

/// The pages' routes as the groups declare them (`.route(path, route)`, full paths, in the
/// order they are to be tried), registered on the app by [`Routes::register`].
pub struct Routes(Vec<(&'static str, actix_web::Route)>);

impl Routes {
    pub fn route(&mut self, path: &'static str, route: actix_web::Route) -> &mut Self {
        self.0.push((path, route));
        self
    }

    /// Registers the routes: a page whose path has one segment and no `{placeholder}` as it
    /// is, the rest in one scope per first segment (`/agreements`, `/insurer`…), each route in
    /// the order declared. The router compares a scope's prefix as text and tries only that
    /// scope's patterns, where a flat list would try the pattern (a regex) of every page
    /// declared before the one asked for.
    fn register(self, cfg: &mut web::ServiceConfig) {
        let mut scopes: Vec<(&'static str, Vec<(&'static str, actix_web::Route)>)> = Vec::new();
        for (path, route) in self.0 {
            let (first, rest) = split_first_segment(path);
            if rest.is_empty() && !path.contains('{') {
                cfg.route(path, route);
                continue;
            }
            match scopes.iter_mut().find(|(prefix, _)| *prefix == first) {
                Some((_, routes)) => routes.push((rest, route)),
                None => scopes.push((first, vec![(rest, route)])),
            }
        }
        for (prefix, routes) in scopes {
            let scope = routes
                .into_iter()
                .fold(web::scope(prefix), |scope, (rest, route)| {
                    scope.route(rest, route)
                });
            cfg.service(scope);
        }
    }
}

/// `/agreements/{id}/money` as (`/agreements`, `/{id}/money`); `/home` as (`/home`, ``).
fn split_first_segment(path: &str) -> (&str, &str) {
    match path[1.min(path.len())..].find('/') {
        Some(at) => path.split_at(at + 1),
        None => (path, ""),
    }
}

/// The main menu: (href, catalogue key, the roles that have it), in the order shown.
const MENU: &[(&str, &str, &[Role])] = {
    use Role::*;
    &[
        ("/home", "nav.home", &Role::ALL),
        ("/catalogue", "nav.catalogue", &[Sme]),
        ("/trials", "nav.trials", &[Sme]),
        ("/demands", "demands.list.mine", &[Sme]),
        ("/demands", "demands.list.for_you", &[Institute]),
        ("/technologies", "nav.own_technologies", &[Institute]),
        ("/trials", "nav.agreements", &[Institute]),
        ("/insurer/trials", "nav.insurer_trials", &[Insurer]),
        ("/insurer/claims", "nav.insurer_claims", &[Insurer]),
        ("/insurer/products", "nav.insurer_products", &[Insurer]),
        ("/admin/registrations", "nav.registrations", &[Admin]),
        ("/admin/organisations", "admin.nav.organisations", &[Admin]),
        ("/admin/outbox", "admin.nav.outbox", &[Admin]),
        ("/admin/jobs", "admin.nav.jobs", &[Admin]),
        ("/audit/chain", "audit.nav.chain", &[Auditor]),
        ("/audit/events", "audit.nav.events", &[Auditor]),
        ("/admin/reports", "reports.nav", &[Admin, Auditor]),
        ("/admin/screening", "screening.nav", &[Admin, Auditor]),
        ("/audit/documents", "verify.nav", &[Auditor, Admin]),
        ("/notifications", "nav.notifications", &Role::ALL),
        ("/profile", "nav.profile", &Role::ALL),
    ]
};

/// Whether the menu entry `href` is the page at `path` or leads to it (`/trials` for
/// `/trials?status=active`, `/insurer/claims` for `/insurer/claims/7`).
fn leads_to(href: &str, path: &str) -> bool {
    match path.strip_prefix(href) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'),
        None => false,
    }
}

/// A set main menu: (language, role, which entries are current, as bits of the role's entries).
type NavKey = (&'static str, Role, u64);

/// The pages' templates and words.
pub struct Pages {
    /// The templates once per language ([`i18n::LANGS`], in that order), each with its fixed
    /// words already in place ([`i18n::fold`]).
    envs: Vec<Environment<'static>>,
    pub catalogues: Arc<i18n::Catalogues>,
    /// The stylesheet: the frame's, then each group's (joined once, at start).
    stylesheet: web::Bytes,
    /// The main menus set so far: a handful per language and role, each the same every time.
    navs: Mutex<HashMap<NavKey, minijinja::Value>>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

/// Whether `source` may have its words folded in escaped as an HTML page writes them
/// ([`i18n::fold`]): an `.html` page, auto-escaped, with no `raw` block a word could land in.
fn foldable(name: &str, source: &str) -> anyhow::Result<()> {
    if !name.ends_with(".html") || source.contains("{% raw") || source.contains("autoescape") {
        anyhow::bail!(
            "web template {name}: pages are .html, auto-escaped and without raw blocks \
             (their words are set in them escaped at start)"
        );
    }
    Ok(())
}

impl Pages {
    /// The built-in templates and catalogues; an error names what does not parse.
    pub fn load() -> anyhow::Result<Pages> {
        Pages::build(true)
    }

    /// The same pages with every word looked up as they are set, none folded in at start: what
    /// the folded pages must equal.
    #[cfg(test)]
    pub fn unfolded() -> Pages {
        Pages::build(false).unwrap()
    }

    /// The pages, their fixed words set in them at start if `fold` ([`i18n::fold`]).
    fn build(fold: bool) -> anyhow::Result<Pages> {
        let words: Vec<_> = GROUPS.iter().map(|g| g.words).collect();
        let catalogues = Arc::new(i18n::Catalogues::load(&words)?);
        let envs = i18n::LANGS
            .into_iter()
            .map(|lang| Pages::environment(&catalogues, lang, fold))
            .collect::<anyhow::Result<_>>()?;
        let stylesheet = std::iter::once(STYLESHEET)
            .chain(GROUPS.iter().map(|g| g.css))
            .collect::<Vec<_>>()
            .join("\n")
            .into();
        Ok(Pages {
            envs,
            catalogues,
            stylesheet,
            navs: Mutex::new(HashMap::new()),
        })
    }

    /// Every template in `lang`, with its fixed words set in it if `fold` ([`i18n::fold`]);
    /// a template that could not be folded ([`foldable`]) stops the service at start.
    fn environment(
        catalogues: &Arc<i18n::Catalogues>,
        lang: &'static str,
        fold: bool,
    ) -> anyhow::Result<Environment<'static>> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_formatter(escape);
        env.add_function("t", i18n::function(catalogues.clone(), lang));
        let nav = ("nav.html", include_str!("templates/nav.html"));
        for (name, source) in GROUPS.iter().flat_map(|g| g.templates).chain([&nav]) {
            foldable(name, source)?;
            let source = match fold {
                true => i18n::fold(source, |key| catalogues.plain(lang, key), escaped),
                false => std::borrow::Cow::Borrowed(*source),
            };
            env.add_template_owned(*name, source)
                .map_err(|e| anyhow::anyhow!("web template {name}: {e}"))?;
        }
        Ok(env)
    }

    /// The templates in `lang` (Vietnamese for a language the pages are not written in).
    fn env(&self, lang: Option<&str>) -> &Environment<'static> {
        let at = lang
            .and_then(|l| i18n::LANGS.iter().position(|ours| *ours == l))
            .unwrap_or(0);
        &self.envs[at]
    }

    /// Sets template `name` with `ctx`: the page language is `ctx.lang`, and a signed-in
    /// `ctx.user` (with its `role`) gets the main menu as `nav`, `ctx.path` marking the entry
    /// the page belongs to.
    pub fn render<C: Serialize>(&self, name: &str, ctx: C) -> Result<String, minijinja::Error> {
        let ctx = minijinja::Value::from_serialize(&ctx);
        let lang = ctx
            .get_attr("lang")
            .ok()
            .and_then(|l| l.as_str().and_then(i18n::ours));
        let role = ctx.get_attr("user").and_then(|u| u.get_attr("role")).ok();
        let nav = match (
            lang,
            role.as_ref().and_then(|r| r.as_str()).and_then(Role::parse),
        ) {
            (Some(lang), Some(role)) => {
                let path = ctx.get_attr("path").ok();
                self.nav(
                    lang,
                    role,
                    path.as_ref().and_then(|p| p.as_str()).unwrap_or(""),
                )?
            }
            _ => minijinja::Value::from(()),
        };
        self.env(lang)
            .get_template(name)?
            .render(minijinja::context! { nav, ..ctx })
    }

    /// The main menu of `role` in `lang` with the entries leading to `path` marked current, as
    /// HTML ready to write: set once per language, role and current entry, then kept.
    fn nav(
        &self,
        lang: &'static str,
        role: Role,
        path: &str,
    ) -> Result<minijinja::Value, minijinja::Error> {
        let entries = MENU.iter().filter(|(_, _, roles)| roles.contains(&role));
        let current = entries
            .clone()
            .enumerate()
            .filter(|(_, (href, _, _))| leads_to(href, path))
            .fold(0u64, |bits, (i, _)| bits | 1 << i);
        let key = (lang, role, current);
        if let Some(set) = self
            .navs
            .lock()
            .ok()
            .and_then(|navs| navs.get(&key).cloned())
        {
            return Ok(set);
        }
        let items: Vec<_> = entries
            .enumerate()
            .map(|(i, (href, words, _))| (*href, *words, current & (1 << i) != 0))
            .collect();
        let html = self
            .env(Some(lang))
            .get_template("nav.html")?
            .render(minijinja::context! { lang, items })?;
        let set = minijinja::Value::from_safe_string(html);
        if let Ok(mut navs) = self.navs.lock() {
            navs.insert(key, set.clone());
        }
        Ok(set)
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
    let owned;
    let text = match value.as_str() {
        Some(text) => text,
        None => {
            owned = value.to_string();
            &owned
        }
    };
    write_escaped(out, text)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
}

/// `text` HTML-escaped as [`escape`] writes it.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = write_escaped(&mut out, text);
    out
}

/// Writes `text` with `&`, `<`, `>`, `"` and `'` as entities.
fn write_escaped(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
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
        out.write_str(&text[from..at])?;
        out.write_str(entity)?;
        from = at + 1;
    }
    out.write_str(&text[from..])
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

    #[test]
    fn a_path_splits_at_its_second_segment() {
        assert_eq!(
            split_first_segment("/agreements/{id}/money"),
            ("/agreements", "/{id}/money")
        );
        assert_eq!(
            split_first_segment("/verify/{code}"),
            ("/verify", "/{code}")
        );
        assert_eq!(split_first_segment("/home"), ("/home", ""));
        assert_eq!(split_first_segment("/"), ("/", ""));
    }

    /// The menu marks the entry a page belongs to, and no entry merely sharing its first letters.
    #[test]
    fn the_menu_entry_leads_to_its_pages_only() {
        assert!(leads_to("/trials", "/trials"));
        assert!(leads_to("/trials", "/trials?status=active"));
        assert!(leads_to("/insurer/claims", "/insurer/claims/7"));
        assert!(!leads_to("/trials", "/trialsx"));
        assert!(!leads_to("/home", "/"));
    }

    /// The menu holds the role's entries only, marks the one the page belongs to, and a menu
    /// kept from an earlier page is not shown on a page of another entry, role or language.
    #[test]
    fn the_menu_is_the_roles_and_marks_the_current_entry() {
        let pages = Pages::load().unwrap();
        let set = |lang: &str, role: &str, path: &str| {
            let user = minijinja::context! { display_name => "An", role };
            pages
                .render("error.html", minijinja::context! {
                    lang, csrf => "x", path, user, kind => "error.not_found", detail => "", back => "",
                })
                .unwrap()
        };
        let current = |page: &str| {
            page.split("<li>")
                .filter(|li| li.contains("aria-current=\"page\""))
                .map(|li| li.split('"').nth(1).unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        for _ in 0..2 {
            let page = set("vi", "sme", "/trials?status=active");
            assert_eq!(current(&page), ["/trials"]);
            assert!(page.contains("href=\"/catalogue\"") && !page.contains("href=\"/admin/"));
            assert!(page.contains("Dùng thử của tôi"));
            let page = set("en", "sme", "/catalogue/7");
            assert_eq!(current(&page), ["/catalogue"]);
            assert!(page.contains("My trials"));
            let page = set("en", "auditor", "/audit/chain");
            assert_eq!(current(&page), ["/audit/chain"]);
            assert!(
                page.contains("href=\"/admin/reports\"") && !page.contains("href=\"/catalogue\"")
            );
        }
        // Not signed in: no menu.
        let page = pages
            .render(
                "error.html",
                minijinja::context! {
                    lang => "en", csrf => "x", path => "/verify", user => (),
                    kind => "error.not_found", detail => "", back => "",
                },
            )
            .unwrap();
        assert!(!page.contains("class=\"menu\""));
    }

    /// Text and attributes are escaped (`&<>"'`), links keep their slashes, and a value
    /// marked safe by a filter (`urlencode`) is written as it is.
    #[test]
    fn values_are_escaped_and_links_stay_readable() {
        let pages = Pages::load().unwrap();
        let mut env = pages.env(Some("en")).clone();
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
        let plain = Pages::unfolded();
        for lang in i18n::LANGS {
            let sign_in = pages
                .render(
                    "sign_in.html",
                    minijinja::context! { lang, csrf => "x", path => "/sign-in",
                    user => (), error => "", email => "a@b.vn", next => "/home" },
                )
                .unwrap();
            assert!(sign_in.contains(&format!("<html lang=\"{lang}\">")));
            let ctx = minijinja::context! { lang, csrf => "x", path => "/home", error => "",
            user => minijinja::context! { role => "sme", display_name => "A & B" } };
            let failed = minijinja::value::merge_maps([
                ctx.clone(),
                minijinja::context! { error => "Sai <mật khẩu> & e-mail" },
            ]);
            for (name, ctx) in [
                ("sign_in.html", &ctx),
                ("sign_in.html", &failed),
                ("error.html", &ctx),
            ] {
                let ctx = minijinja::value::merge_maps([
                    ctx.clone(),
                    minijinja::context! { email => "a@b.vn", next => "/home",
                    kind => "error.stale", detail => "<x>", back => "/" },
                ]);
                assert_eq!(
                    pages.render(name, ctx.clone()).unwrap(),
                    plain.render(name, ctx).unwrap(),
                    "{name} in {lang}: the folded words differ from those looked up"
                );
            }
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

    #[test]
    fn only_html_pages_escaped_without_raw_blocks_are_folded() {
        foldable("verify/check.html", "<p>{{ t(\"a\") }}</p>").unwrap();
        for (name, source) in [
            ("mail.txt", "{{ t(\"a\") }}"),
            ("page.html", "{% raw %}{{ t(\"a\") }}{% endraw %}"),
            (
                "page.html",
                "{% autoescape false %}{{ t(\"a\") }}{% endautoescape %}",
            ),
        ] {
            assert!(foldable(name, source).is_err(), "{name}: {source}");
        }
    }
}
