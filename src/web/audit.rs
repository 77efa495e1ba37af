//! The supervisors' pages of the audit chain: the chain check (`/audit/chain`: how far the
//! walk verified, and the first broken link named with its event and what is wrong with it)
//! and the event browser (`/audit/events`: the chain newest first, narrowed by agreement,
//! acting organisation, kind and a range of days, a page at a time). Admins and auditors see
//! them, as the API's `GET /audit/verify`; to anyone else they do not exist (404).
//!
//! Times are written in the platform's zone and the page language; a hash is shown by its
//! first characters, the whole of it in the cell's title and for the head.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use minijinja::{context, Value};
use serde::Deserialize;

use super::frame::{blocking, SignedIn, Visitor};
use crate::app::audit::{AgreementName, ChainCheck, EventPage, EventQuery, Listed};
use crate::audit::model::EventRef;
use crate::error::{AppError, FieldError};
use crate::typeset::format;
use crate::AppState;

/// Events on one page of the browser.
const PER_PAGE: i64 = 50;

/// How many characters of a hash a list shows.
const SHORT_HASH: usize = 12;

/// The filter fields of the browser, as the form names them.
const FILTERS: [&str; 5] = ["agreement", "organisation", "kind", "from", "to"];

/// The chain check and the event browser.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "audit/chain.html",
            include_str!("templates/audit/chain.html"),
        ),
        (
            "audit/events.html",
            include_str!("templates/audit/events.html"),
        ),
    ],
    words: (
        "audit",
        include_str!("i18n/audit.vi.toml"),
        include_str!("i18n/audit.en.toml"),
    ),
    css: include_str!("../../static/web/audit.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/audit/chain", web::get().to(chain))
        .route("/audit/events", web::get().to(events));
}

/// An instant (UTC) as a day and a time of day in the platform's zone, and as RFC 3339 for
/// `<time>`.
fn when(state: &AppState, lang: &str, at: NaiveDateTime) -> (String, String, String) {
    let local = at.and_utc().with_timezone(&state.tz);
    (
        format::date(lang, local.date_naive()),
        local.format("%H:%M:%S").to_string(),
        local.to_rfc3339(),
    )
}

/// An event's kind in words where the pages have them (an agreement's history), with its
/// stable name always shown beside.
fn kind_words(state: &AppState, lang: &str, kind: &str) -> String {
    state
        .pages
        .catalogues
        .text(lang, &format!("agreement.event.{kind}"), &[])
        .unwrap_or_default()
}

fn agreement_view(a: &Option<AgreementName>) -> Value {
    match a {
        Some(a) => context! { id => a.id.clone(), number => a.number.clone() },
        None => Value::from(()),
    }
}

/// An event named by the walk, as the page shows it.
fn event_view(
    state: &AppState,
    lang: &str,
    e: &EventRef,
    agreement: &Option<AgreementName>,
) -> Value {
    let (day, time, datetime) = when(state, lang, e.at);
    context! {
        seq => e.seq, kind => e.action.clone(), kind_words => kind_words(state, lang, &e.action),
        at => format!("{day} {time}"), datetime, entity_type => e.entity_type.clone(), entity_id => e.entity_id.clone(),
        agreement => agreement_view(agreement),
    }
}

/// `/audit/chain`: the walk of the whole chain.
async fn chain(state: web::Data<AppState>, SignedIn(visitor, actor): SignedIn) -> HttpResponse {
    let check = match blocking(&state, move |st| crate::app::audit::check_chain(st, &actor)).await {
        Ok(check) => check,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let ctx = chain_context(&state, visitor.lang, &check);
    visitor.page(&state, 200, "audit/chain.html", ctx)
}

fn chain_context(state: &AppState, lang: &str, check: &ChainCheck) -> Value {
    let v = &check.verification;
    let last = v
        .last_verified
        .as_ref()
        .map(|e| event_view(state, lang, e, &check.last_agreement));
    let broken = v.first_broken.as_ref().map(|b| {
        context! {
            seq => b.seq,
            problem => b.problem.as_str(),
            event => b.event.as_ref().map(|e| event_view(state, lang, e, &check.broken_agreement)),
        }
    });
    context! {
        ok => v.ok,
        checked => format::count(lang, v.events_checked),
        head_hash => v.head_hash.clone(),
        last, broken,
    }
}

/// The browser's filters and page, kept in the URL.
#[derive(Debug, Default, Deserialize)]
struct EventsQuery {
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
}

impl EventsQuery {
    /// The filters as app takes them, or the fields that are not days.
    fn read(&self, page: i64) -> Result<EventQuery, Vec<FieldError>> {
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let mut errors = Vec::new();
        let mut day = |field: &'static str, typed: &str| match typed.trim() {
            "" => None,
            t => NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map_err(|_| errors.push(FieldError::new(field, "not a date")))
                .ok(),
        };
        let (from, to) = (day("from", &self.from), day("to", &self.to));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(EventQuery {
            agreement: text(&self.agreement),
            organisation_id: text(&self.organisation),
            action: text(&self.kind),
            from,
            to,
            limit: PER_PAGE,
            offset: (page - 1) * PER_PAGE,
        })
    }

    /// The query string of these filters at `page`.
    fn link(&self, page: i64) -> String {
        let pairs: Vec<(&str, String)> = [
            ("agreement", &self.agreement),
            ("organisation", &self.organisation),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.trim().to_string()))
        .chain([("page", page.to_string())])
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// `/audit/events`: a page of the chain, newest first, narrowed by the filters; a filter
/// that cannot be read (a day that is not one, an agreement number that names none) is set
/// again with 422 and its message beside it.
async fn events(
    state: web::Data<AppState>,
    q: web::Query<EventsQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let q = q.into_inner();
    let page = q
        .page
        .trim()
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let asked = q.read(page);
    let query = asked.clone().unwrap_or(EventQuery {
        limit: 0,
        ..EventQuery::default()
    });
    let loaded = blocking(&state, move |st| {
        match crate::app::audit::events(st, &actor, &query) {
            // What cannot be read is shown beside its field, with the choices of the form.
            Err(AppError::Validation(errors)) => {
                let empty = EventQuery::default();
                crate::app::audit::events(st, &actor, &empty).map(|p| (p, errors))
            }
            found => found.map(|p| (p, Vec::new())),
        }
    })
    .await;
    let (found, mut faults) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return visitor.failure(&state, e, ""),
    };
    if let Err(errors) = asked {
        faults = errors;
    }
    let status = if faults.is_empty() { 200 } else { 422 };
    let ctx = events_context(&state, &visitor, &q, page, &found, &faults);
    visitor.page(&state, status, "audit/events.html", ctx)
}

fn listed_view(state: &AppState, lang: &str, l: &Listed) -> Value {
    let e = &l.event;
    let (day, time, datetime) = when(state, lang, e.at);
    context! {
        seq => e.seq, kind => e.action.clone(), kind_words => kind_words(state, lang, &e.action),
        day, time, datetime, agreement => agreement_view(&l.agreement),
        organisation => l.organisation.clone().unwrap_or_default(),
        person => l.person.clone().unwrap_or_default(),
        hash => e.hash.clone(),
        short_hash => e.hash.chars().take(SHORT_HASH).collect::<String>(),
    }
}

fn events_context(
    state: &AppState,
    visitor: &Visitor,
    q: &EventsQuery,
    page: i64,
    found: &EventPage,
    faults: &[FieldError],
) -> Value {
    let lang = visitor.lang;
    let mut errors: std::collections::BTreeMap<String, String> = FILTERS
        .iter()
        .map(|f| (f.to_string(), String::new()))
        .collect();
    for (field, _) in super::frame::field_errors(faults) {
        let key = format!("audit.events.error.{field}");
        if errors.contains_key(&field) {
            errors.insert(field, visitor.words(state, &key, &[]));
        }
    }
    let rows: Vec<Value> = if faults.is_empty() {
        found
            .events
            .iter()
            .map(|l| listed_view(state, lang, l))
            .collect()
    } else {
        Vec::new()
    };
    let kinds: Vec<Value> = found
        .kinds
        .iter()
        .map(|k| {
            let words = kind_words(state, lang, k);
            let label = if words.is_empty() {
                k.clone()
            } else {
                format!("{words} ({k})")
            };
            context! { value => k.clone(), label }
        })
        .collect();
    let organisations: Vec<Value> = found
        .organisations
        .iter()
        .map(|(id, name)| context! { value => id.clone(), label => name.clone() })
        .collect();
    context! {
        rows, kinds, organisations, errors, unreadable => !faults.is_empty(),
        typed => context! {
            agreement => q.agreement.clone(), organisation => q.organisation.clone(),
            kind => q.kind.clone(), from => q.from.clone(), to => q.to.clone(),
        },
        page,
        prev => if page > 1 && faults.is_empty() { q.link(page - 1) } else { String::new() },
        next => if found.more && faults.is_empty() { q.link(page + 1) } else { String::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::{i18n, Pages};

    /// Both pages set in both languages: a clean chain, each kind of broken link (with and
    /// without its event), and the browser with rows, errors and what was typed (escaped).
    #[test]
    fn every_page_sets_in_both_languages() {
        let pages = Pages::load().unwrap();
        for lang in i18n::LANGS {
            let frame = context! { lang, csrf => "x", path => "/audit/chain",
            user => context! { display_name => "Kiểm toán", role => "auditor", email => "" } };
            let event = context! { seq => 7, kind => "agreement.approve", kind_words => "x",
            at => "01/03/2026 10:00:00", datetime => "2026-03-01T10:00:00+07:00",
            entity_type => "agreement", entity_id => "a1",
            agreement => context! { id => "a1", number => "UF-2026-000001" } };
            let clean = pages
                .render(
                    "audit/chain.html",
                    minijinja::value::merge_maps([
                        frame.clone(),
                        context! { ok => true, checked => "1.234", head_hash => "ab",
                        last => event.clone(), broken => () },
                    ]),
                )
                .unwrap();
            assert!(clean.contains("1.234") && clean.contains("UF-2026-000001"));
            for problem in [
                "altered",
                "link_broken",
                "missing",
                "truncated",
                "head_mismatch",
            ] {
                for named in [event.clone(), Value::from(())] {
                    pages
                        .render(
                            "audit/chain.html",
                            minijinja::value::merge_maps([
                                frame.clone(),
                                context! { ok => false, checked => "6", head_hash => "ab",
                                last => (), broken => context! { seq => 7, problem, event => named } },
                            ]),
                        )
                        .unwrap();
                }
            }
            let mut errors: std::collections::BTreeMap<String, String> = FILTERS
                .iter()
                .map(|f| (f.to_string(), String::new()))
                .collect();
            errors.insert("agreement".into(), "Sai <số>".into());
            let page = pages
                .render(
                    "audit/events.html",
                    minijinja::value::merge_maps([
                        frame.clone(),
                        context! {
                            rows => vec![context! { seq => 3, kind => "claim.filed", kind_words => "",
                                day => "x", time => "x", datetime => "x", agreement => (), organisation => "",
                                person => "<b>", hash => "abcdef", short_hash => "abc" }],
                            kinds => vec![context! { value => "claim.filed", label => "claim.filed" }],
                            organisations => vec![context! { value => "o1", label => "Org" }],
                            errors, unreadable => true,
                            typed => context! { agreement => "<UF>", organisation => "o1",
                                kind => "claim.filed", from => "2026-01-01", to => "" },
                            page => 2, prev => "page=1", next => "page=3",
                        },
                    ]),
                )
                .unwrap();
            assert!(page.contains("&lt;UF&gt;") && page.contains("Sai &lt;số&gt;"));
            assert!(page.contains("aria-invalid=\"true\"") && !page.contains("<b>"));
        }
    }
}
