//! Checking a document usefirst issued. Public, no sign-in: `/verify/{code}` (the link printed
//! on every page of a document and in its QR code) says which document it is — agreement
//! number, kind, version, language, the day it was issued, its SHA-256 — and whether it is
//! current, and `/verify` takes a PDF and says whether usefirst issued exactly that file. Both
//! are counted per client address (429 with `Retry-After` beyond
//! `documents.verify_requests_per_minute`) and show no amount, party or person. For auditors
//! (and admins), `/audit/documents` checks a file and opens the agreement it belongs to.
//!
//! An uploaded file is hashed as it arrives and never kept; one larger than
//! `documents.verify_upload_max_bytes` is refused (413) without reading the rest.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::TimeZone;
use futures_util::StreamExt;
use minijinja::{context, Value};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::frame::{blocking, look_up_kept, see_other, SignedIn, Visitor};
use super::session;
use crate::app::documents as app;
use crate::documents::model::{Checked, Identified};
use crate::error::AppError;
use crate::http::point_read;
use crate::typeset::format::date;
use crate::AppState;

/// The document checks.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "verify/facts.html",
            include_str!("templates/verify/facts.html"),
        ),
        (
            "verify/upload.html",
            include_str!("templates/verify/upload.html"),
        ),
        (
            "verify/check.html",
            include_str!("templates/verify/check.html"),
        ),
        (
            "verify/audit.html",
            include_str!("templates/verify/audit.html"),
        ),
    ],
    words: (
        "verify",
        include_str!("i18n/verify.vi.toml"),
        include_str!("i18n/verify.en.toml"),
    ),
    css: include_str!("../../static/web/verify.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/verify", web::get().to(start))
        .route("/verify", web::post().to(upload))
        .route("/verify/{code}", web::get().to(by_code))
        .route("/audit/documents", web::get().to(audit_page))
        .route("/audit/documents", web::post().to(audit_upload));
}

/// The address the request came from ([`crate::http::client_addr`]), unspecified if unknown.
fn client(req: &HttpRequest) -> IpAddr {
    crate::http::client_addr(req).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// A document's public facts for the page, in `lang`.
fn facts(state: &AppState, lang: &str, c: &Checked) -> Value {
    let issued = state.tz.from_utc_datetime(&c.generated_at).date_naive();
    context! {
        number => c.number, kind => c.kind, version => c.version, lang => c.lang,
        generated => date(lang, issued), sha256 => c.sha256, current => c.is_current(),
        current_version => c.current_version,
    }
}

/// The largest upload, in whole MB, as the form says it.
fn max_mb(state: &AppState) -> usize {
    state
        .cfg
        .documents
        .verify_upload_max_bytes
        .div_ceil(1024 * 1024)
}

/// The public page's context: nothing checked yet, then `extra` on top.
fn check_page(state: &AppState, extra: Value) -> Value {
    minijinja::value::merge_maps([
        context! {
            doc => (), verdict => "", code => "", unknown => false, sha256 => "",
            error => "", typed => "", max_mb => max_mb(state),
        },
        extra,
    ])
}

#[derive(Debug, Default, Deserialize)]
struct CodeQuery {
    #[serde(default)]
    code: String,
}

/// `GET /verify`: the two ways to check; with `?code=` (the form), that code's page.
async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CodeQuery>,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let typed = query.code.trim();
    if typed.is_empty() {
        return visitor.page(
            &state,
            200,
            "verify/check.html",
            check_page(&state, context! {}),
        );
    }
    let plain: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if plain.is_empty() {
        let ctx = check_page(&state, context! { unknown => true, typed });
        return visitor.page(&state, 404, "verify/check.html", ctx);
    }
    see_other(&format!("/verify/{plain}"))
}

/// `GET /verify/{code}`: the document with that code, or the 404 page.
async fn by_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let code = path.into_inner();
    let from = client(&req);
    let asked = code.clone();
    // Counted in memory, then one point read: on SQLite both run here on the worker.
    if let Err(e) = app::admit_public_check(&state, from) {
        return visitor.failure(&state, e, "");
    }
    // A document's page while nothing changed (no newer edition) is the page kept.
    let keep = match look_up_kept(&state, &visitor, false).await {
        Ok(body) => return visitor.kept(body),
        Err(keep) => keep,
    };
    match point_read(state.clone(), move |conn| app::check_code(conn, &asked)).await {
        Ok(found) => {
            let ctx = check_page(
                &state,
                context! {
                    doc => facts(&state, visitor.lang, &found),
                    code => app::printed_code(&code),
                },
            );
            visitor.page_keeping(&state, 200, keep, "verify/check.html", ctx)
        }
        Err(AppError::NotFound) => {
            let ctx = check_page(&state, context! { unknown => true, typed => code });
            visitor.page(&state, 404, "verify/check.html", ctx)
        }
        Err(e) => visitor.failure(&state, e, ""),
    }
}

/// What an upload form brought.
enum Upload {
    /// The form token sent, and the file's SHA-256 and name (`None`: no file chosen).
    Read {
        csrf: String,
        file: Option<(String, String)>,
    },
    /// The file is larger than the limit.
    TooBig,
    /// Not a readable form.
    Broken,
}

/// Reads a `multipart/form-data` upload, hashing the file as it arrives (never holding it):
/// at most `max` bytes of it.
async fn read_upload(req: &HttpRequest, payload: web::Payload, max: usize) -> Upload {
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    let mut csrf = String::new();
    let mut file = None;
    while let Some(field) = form.next().await {
        let Ok(mut field) = field else {
            return Upload::Broken;
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or_default()
            .to_string();
        let mut hasher = Sha256::new();
        let mut text = Vec::new();
        let mut bytes = 0usize;
        while let Some(chunk) = field.next().await {
            let Ok(chunk) = chunk else {
                return Upload::Broken;
            };
            bytes += chunk.len();
            match name.as_str() {
                "file" if bytes > max => return Upload::TooBig,
                "file" => hasher.update(&chunk),
                // The form token is 43 characters; anything longer is not one.
                "csrf" if bytes <= 256 => text.extend_from_slice(&chunk),
                _ => {}
            }
        }
        match name.as_str() {
            "file" if bytes > 0 => file = Some((hex::encode(hasher.finalize()), file_name)),
            "csrf" => csrf = String::from_utf8(text).unwrap_or_default(),
            _ => {}
        }
    }
    Upload::Read { csrf, file }
}

/// The upload as the page answers it: the file's SHA-256 and name, or the answer to give.
async fn received(
    state: &AppState,
    visitor: &Visitor,
    req: &HttpRequest,
    payload: web::Payload,
    template: &str,
    ctx: impl Fn(Value) -> Value,
) -> Result<(String, String), HttpResponse> {
    let max = state.cfg.documents.verify_upload_max_bytes;
    let words = |key: &str| {
        let mb = max.div_ceil(1024 * 1024).to_string();
        visitor.words(state, key, &[("mb", mb)])
    };
    match read_upload(req, payload, max).await {
        Upload::Read { csrf, .. } if !session::csrf_ok(req, &csrf) => {
            Err(visitor.error(state, 403, "error.forbidden", context! {}))
        }
        Upload::Read {
            file: Some(file), ..
        } => Ok(file),
        Upload::Read { file: None, .. } => {
            let error = words("verify.upload.none");
            Err(visitor.page(state, 422, template, ctx(context! { error })))
        }
        Upload::TooBig => {
            let error = words("verify.upload.too_big");
            Err(visitor.page(state, 413, template, ctx(context! { error })))
        }
        Upload::Broken => {
            let error = words("verify.upload.none");
            Err(visitor.page(state, 400, template, ctx(context! { error })))
        }
    }
}

/// `POST /verify`: whether usefirst issued exactly the uploaded file (counted per address
/// before the file is read).
async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let visitor = Visitor::of(&state, &req).await;
    let from = client(&req);
    if let Err(e) = app::admit_public_check(&state, from) {
        return visitor.failure(&state, e, "");
    }
    let page = |extra| check_page(&state, extra);
    let (sha256, _) =
        match received(&state, &visitor, &req, payload, "verify/check.html", page).await {
            Ok(file) => file,
            Err(answer) => return answer,
        };
    let hash = sha256.clone();
    match blocking(&state, move |st| app::check_file(st, &hash)).await {
        Ok(Some(found)) => {
            let ctx = check_page(
                &state,
                context! { doc => facts(&state, visitor.lang, &found), verdict => "issued" },
            );
            visitor.page(&state, 200, "verify/check.html", ctx)
        }
        Ok(None) => {
            let ctx = check_page(&state, context! { verdict => "not_issued", sha256 });
            visitor.page(&state, 200, "verify/check.html", ctx)
        }
        Err(e) => visitor.failure(&state, e, ""),
    }
}

/// The auditors' page's context: nothing checked yet, then `extra` on top.
fn audit_context(state: &AppState, extra: Value) -> Value {
    minijinja::value::merge_maps([
        context! {
            doc => (), verdict => "", sha256 => "", error => "", file_name => "",
            max_mb => max_mb(state),
        },
        extra,
    ])
}

/// `GET /audit/documents`: the form (auditors and admins; 404 for anyone else).
async fn audit_page(
    state: web::Data<AppState>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Err(e) = app::audits_documents(&actor) {
        return visitor.failure(&state, e, "");
    }
    let ctx = audit_context(&state, context! {});
    visitor.page(&state, 200, "verify/audit.html", ctx)
}

/// An identified document for the auditors' page: the public facts, the agreement to open
/// and the page count.
fn audit_facts(state: &AppState, lang: &str, d: &Identified) -> Value {
    let public = Checked {
        number: d.number.clone(),
        kind: d.kind.clone(),
        lang: d.lang.clone(),
        version: d.version,
        sha256: d.sha256.clone(),
        generated_at: d.generated_at,
        current_version: d.current_version,
    };
    minijinja::value::merge_maps([
        facts(state, lang, &public),
        context! { agreement_id => d.agreement_id, pages => d.pages },
    ])
}

/// `POST /audit/documents`: whether usefirst issued exactly the uploaded file, and which
/// agreement it belongs to.
async fn audit_upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    if let Err(e) = app::audits_documents(&actor) {
        return visitor.failure(&state, e, "");
    }
    let page = |extra| audit_context(&state, extra);
    let (sha256, file_name) =
        match received(&state, &visitor, &req, payload, "verify/audit.html", page).await {
            Ok(file) => file,
            Err(answer) => return answer,
        };
    let hash = sha256.clone();
    match blocking(&state, move |st| app::audit_identify(st, &actor, &hash)).await {
        Ok(Some(found)) => {
            let ctx = audit_context(
                &state,
                context! {
                    doc => audit_facts(&state, visitor.lang, &found), verdict => "issued",
                    file_name,
                },
            );
            visitor.page(&state, 200, "verify/audit.html", ctx)
        }
        Ok(None) => {
            let ctx = audit_context(&state, context! { verdict => "not_issued", sha256 });
            visitor.page(&state, 200, "verify/audit.html", ctx)
        }
        Err(e) => visitor.failure(&state, e, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::LANGS;
    use crate::web::Pages;

    /// Every page of the group sets in both languages: a current and a superseded document,
    /// an unknown code, a file not issued, and the auditors' page with a document found; each
    /// the same as with its words looked up as it is set.
    #[test]
    fn every_page_sets_in_both_languages() {
        let pages = Pages::load().unwrap();
        let plain = Pages::unfolded();
        let frame = |lang| context! { lang, csrf => "x", path => "/verify", user => () };
        let doc = |current: bool| {
            context! {
                number => "UF-2026-000001", kind => "trial-agreement", version => 4,
                lang => "vi", generated => "15/01/2027", sha256 => "ab".repeat(32),
                current, current_version => 5, agreement_id => "a-1", pages => 3,
            }
        };
        let report = |current: bool, kind: &str| {
            context! {
                number => "2026-10", kind, version => 1, lang => "en",
                generated => "01/11/2026", sha256 => "ef".repeat(32), current,
                current_version => 2, agreement_id => "", pages => 0,
            }
        };
        let base = || {
            context! {
                doc => (), verdict => "", code => "", unknown => false, sha256 => "",
                error => "", typed => "", max_mb => 16, file_name => "",
            }
        };
        for lang in LANGS {
            for extra in [
                context! { doc => doc(true), code => "7K3M-0QRS-1TVW-9XYZ-2AB4" },
                context! { doc => doc(false), verdict => "issued" },
                context! { doc => report(true, "monthly-report"), code => "7K3M" },
                context! { doc => report(false, "monthly-report-provisional"), verdict => "issued" },
                context! { unknown => true, typed => "nope" },
                context! { verdict => "not_issued", sha256 => "cd".repeat(32) },
                context! { error => "too big" },
            ] {
                for name in ["verify/check.html", "verify/audit.html"] {
                    let ctx = minijinja::value::merge_maps([base(), extra.clone(), frame(lang)]);
                    let page = pages.render(name, ctx.clone()).unwrap();
                    assert_eq!(page, plain.render(name, ctx).unwrap(), "{name}: folded");
                    assert!(page.contains(&format!("<html lang=\"{lang}\">")), "{name}");
                    assert!(!page.contains("verify."), "{name}: a raw key in\n{page}");
                }
            }
        }
    }
}
