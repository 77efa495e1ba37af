//! `GET /api/v1/agreements/{id}/documents/{kind}` and `POST /api/v1/documents/verify`.
//!
//! A document is generated the first time it is asked for at an agreement version and stored;
//! later requests answer the stored bytes. Setting a PDF runs on the blocking pool, at most
//! `documents.max_concurrent_renders` at a time.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::app::documents as app;
use crate::auth::session::Actor;
use crate::documents::model::{Identified, KINDS, LANGS};
use crate::error::{AppError, AppResult};
use crate::http::{blocking, one_of, point_read, read_limited};
use crate::AppState;

/// The document's language.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    /// `vi`, `en` or `zh` (default: the caller's own language if it is one of them, else `vi`).
    pub lang: Option<String>,
}

/// A generation attempt that found the agreement changed under it is repeated this often.
const ATTEMPTS: usize = 3;

fn pdf_response(
    req: &HttpRequest,
    number: &str,
    kind: &str,
    lang: &str,
    sha256: &str,
    pdf: Vec<u8>,
) -> HttpResponse {
    let etag = format!("\"{sha256}\"");
    // RFC 9110: any listed tag that matches weakly, or `*`.
    let unchanged = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag);
    let mut res = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header(("X-Document-SHA256", sha256.to_string()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    if unchanged {
        return res.finish();
    }
    res.content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{number}-{kind}-{lang}.pdf\""),
        ))
        .body(pdf)
}

/// The documents an agreement has, as the path names them (`KINDS`).
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum DocumentKind {
    TrialAgreement,
    ConversionContract,
}

/// The agreement's trial agreement or conversion contract as a PDF, generated on the first
/// request for the agreement's current version and stored; its SHA-256 is the `ETag` (and in
/// the audit chain).
#[utoipa::path(
    tag = "documents",
    params(("id" = String, Path), ("kind" = DocumentKind, Path, description = "trial-agreement | conversion-contract"), LangQuery),
    responses(
        (status = 200, content_type = "application/pdf", description = "The document"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "The agreement has no such document yet"),
        (status = 422, body = crate::error::Problem),
        (status = 503, body = crate::error::Problem, description = "A font the language needs is not installed"),
    ),
    security(("bearer" = []))
)]
#[get("/agreements/{id}/documents/{kind}")]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    query: web::Query<LangQuery>,
) -> AppResult<HttpResponse> {
    let (id, kind) = path.into_inner();
    if !KINDS.contains(&kind.as_str()) {
        return Err(AppError::NotFound);
    }
    let lang = match query.into_inner().lang {
        Some(lang) => {
            if let Some(err) = one_of("lang", Some(&lang), &LANGS) {
                return Err(AppError::Validation(vec![err]));
            }
            lang
        }
        None if LANGS.contains(&actor.locale.as_str()) => actor.locale.clone(),
        None => "vi".to_string(),
    };
    for _ in 0..ATTEMPTS {
        let (id2, kind2, lang2) = (id.clone(), kind.clone(), lang.clone());
        let actor2 = actor.clone();
        let (row, stored) = point_read(state.clone(), move |conn| {
            app::stored(conn, &actor2, &id2, &kind2, &lang2)
        })
        .await?;
        if let Some(doc) = stored {
            return Ok(pdf_response(
                &req,
                &row.number,
                &kind,
                &lang,
                &doc.sha256,
                doc.pdf,
            ));
        }

        // Not generated yet at this version: set it, one of a bounded number at a time. The
        // permit goes with the work, so it is held until the work ends even if this request
        // is dropped meanwhile.
        let permit = state
            .renders
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::Busy)?;
        let (st, kind2, lang2, actor2) = (state.clone(), kind.clone(), lang.clone(), actor.clone());
        let number = row.number.clone();
        let stored = blocking(move || {
            let _permit = permit;
            app::generate(&st, &actor2, row, &kind2, &lang2)
        })
        .await?;
        if let Some(doc) = stored {
            return Ok(pdf_response(
                &req,
                &number,
                &kind,
                &lang,
                &doc.sha256,
                doc.pdf,
            ));
        }
    }
    Err(AppError::Busy)
}

/// What to verify: a document's SHA-256 (the PDF itself may be sent instead, as
/// `application/pdf`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// 64 hexadecimal digits.
    pub sha256: String,
}

/// PDFs sent for verification are read up to this size.
const MAX_PDF_BYTES: usize = 16 * 1024 * 1024;

/// The SHA-256 of a PDF sent as the body, hashed as it arrives (nothing is kept, and no large
/// hash runs at the end); 413 beyond [`MAX_PDF_BYTES`], 422 when empty.
async fn hash_body(
    req: &HttpRequest,
    mut payload: actix_web::dev::Payload,
) -> Result<String, AppError> {
    use futures_util::StreamExt;
    use sha2::Digest;
    let limit = MAX_PDF_BYTES;
    if crate::http::declared_length(req).is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let mut hasher = sha2::Sha256::new();
    let mut read = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::MalformedBody(e.to_string()))?;
        read += chunk.len();
        if read > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        hasher.update(&chunk);
    }
    if read == 0 {
        return Err(AppError::field("body", "the PDF is empty"));
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Which agreement, kind, language and version a PDF (or its SHA-256) is. 404 when it is no
/// document usefirst generated, or when it belongs to an agreement the caller may not see; a
/// file changed in any byte matches nothing.
#[utoipa::path(
    tag = "documents",
    request_body(content(
        (VerifyBody = "application/json"),
        (Vec<u8> = "application/pdf"),
    )),
    responses(
        (status = 200, body = Identified),
        (status = 404, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 415, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ),
    security(("bearer" = []))
)]
#[post("/documents/verify")]
pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let sha256 = if crate::http::media_type(&req) == "application/pdf" {
        hash_body(&req, payload.into_inner()).await?
    } else if crate::http::is_json(&req) {
        let limit = state.cfg.server.max_body_bytes;
        let body = read_limited(&req, payload.into_inner(), limit).await?;
        let body: VerifyBody = crate::http::parse_json(&body)?;
        let hash = body.sha256.trim().to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::field("sha256", "must be 64 hexadecimal digits"));
        }
        hash
    } else {
        return Err(AppError::UnsupportedMediaType);
    };
    let found = blocking(move || app::identify(&state, &actor, &sha256)).await?;
    Ok(HttpResponse::Ok().json(found))
}
