//! Request-edge helpers shared by every handler: the signed-in caller ([`Actor`]) and the JSON
//! body extractors (size limit, content type, errors that name the field), `If-Match` parsing,
//! pagination, and running blocking database work off the async workers.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::session::{self, Actor};
use crate::error::{AppError, FieldError};
use crate::AppState;

/// The signed-in caller: the request's bearer token turned into its user (401 without a live
/// session).
impl FromRequest for Actor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Actor, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = session::bearer(req).map(str::to_owned);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token.ok_or(AppError::Unauthenticated)?;
            let state =
                state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
            // Most requests are answered from the cache without leaving this thread.
            if let Some(actor) =
                session::authenticate_cached(&state.clock, &state.cfg.auth, &state.sessions, &token)
            {
                return Ok(actor);
            }
            web::block(move || {
                session::authenticate(
                    &state.db,
                    &state.clock,
                    &state.cfg.auth,
                    &state.sessions,
                    &token,
                )
            })
            .await?
        })
    }
}

/// A JSON request body: `application/json`, at most `server.max_body_bytes`, parsed with
/// errors that name the offending field (422) or say where the syntax broke (400).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let json = is_json(req);
        let body = LimitedBody::from_request(req, payload);
        Box::pin(async move {
            let body = body.await?;
            if !json {
                return Err(AppError::UnsupportedMediaType);
            }
            parse_json(&body.0).map(JsonBody)
        })
    }
}

/// A request body read up to `server.max_body_bytes` (413 beyond), for handlers that accept
/// an empty body or need the raw bytes (idempotency hashing).
#[derive(Debug)]
pub struct LimitedBody(pub web::Bytes);

impl FromRequest for LimitedBody {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.cfg.server.max_body_bytes)
            .unwrap_or(65536);
        let read = read_limited(req, payload.take(), limit);
        Box::pin(async move { read.await.map(LimitedBody) })
    }
}

/// The body length the request declares (`Content-Length`), if it does.
pub fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Reads a request body of at most `limit` bytes; 413 beyond, before reading when the
/// declared length already says so.
pub fn read_limited(
    req: &HttpRequest,
    mut payload: actix_web::dev::Payload,
    limit: usize,
) -> impl Future<Output = Result<web::Bytes, AppError>> {
    let declared_len = declared_length(req);
    async move {
        if declared_len.is_some_and(|n| n > limit) {
            return Err(AppError::PayloadTooLarge { limit });
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| AppError::MalformedBody(e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// Is the request's content type JSON (`application/json` or `*+json`)?
pub fn is_json(req: &HttpRequest) -> bool {
    let mime = media_type(req);
    mime == "application/json" || mime.ends_with("+json")
}

/// The request's media type, lower case, without parameters (`application/pdf`); empty when
/// it has none.
pub fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Parses JSON, classifying errors: syntax → 400, shape/type → 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    // Syntax first: a body that is not exactly one JSON document is malformed (400),
    // whatever its fields, and trailing bytes are never ignored.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        return Err(AppError::MalformedBody(e.to_string()));
    }
    // A NUL character (`\u0000`) is valid JSON but no text the service keeps may hold one
    // (PostgreSQL refuses it outright): the field that has it is invalid.
    if body.windows(6).any(|w| w == b"\\u0000") {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(field) = nul_field(&value, "") {
                return Err(AppError::field(field, "must not contain NUL characters"));
            }
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let msg = inner.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                AppError::Validation(vec![FieldError::new(field_of(&path, &msg), msg)])
            }
            _ => AppError::MalformedBody(inner.to_string()),
        }
    })
}

/// The JSON path (`a.b[2]`, or `body` for the document itself) of the first string or key in
/// `value` that contains a NUL character.
fn nul_field(value: &serde_json::Value, path: &str) -> Option<String> {
    let here = || {
        if path.is_empty() {
            "body".to_string()
        } else {
            path.to_string()
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(here()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_field(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(here())
            } else {
                nul_field(v, &p)
            }
        }),
        _ => None,
    }
}

/// The address a request came from: the connection's, never a header a client can set (behind
/// a reverse proxy, the proxy's).
pub fn client_addr(req: &HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// A request whose path or query string holds an encoded NUL (`%00`): no object is named
/// by such a path (404), and no query parameter may hold one (422, naming it). Checked
/// before routing, as no text the service stores or looks up may contain NUL (PostgreSQL
/// refuses it). The same rule elsewhere: a JSON body's string with one is a 422 naming the
/// field ([`parse_json`]); a posted page form is read with them taken out
/// (`web::frame::without_nul`), as no browser sends one.
pub fn nul_in_target(path: &str, query: &str) -> Option<AppError> {
    if path.contains("%00") {
        return Some(AppError::NotFound);
    }
    query
        .split('&')
        .find(|pair| pair.contains("%00"))
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or("query");
            let name = if name.contains("%00") || name.is_empty() {
                "query"
            } else {
                name
            };
            AppError::field(name, "must not contain NUL characters")
        })
}

/// The field a serde data error is about: the path, or for "missing field `x`" / "unknown
/// field `x`" the named field under that path.
fn field_of(path: &str, msg: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| msg.strip_prefix(p))
        .and_then(|rest| rest.split('`').next());
    match (path, named) {
        (p, Some(name)) if p == name || p.ends_with(&format!(".{name}")) => p.to_string(),
        (".", Some(name)) => name.to_string(),
        (p, Some(name)) => format!("{p}.{name}"),
        (".", None) => "body".to_string(),
        (p, None) => p.to_string(),
    }
}

/// Query-string errors answer 422 naming the parameter.
pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let msg = err.to_string();
    let field = msg.split('`').nth(1).unwrap_or("query").to_string();
    AppError::Validation(vec![FieldError::new(field, msg)]).into()
}

/// Path errors (ids are strings, so only malformed encodings) answer 404.
pub fn path_error(_: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    AppError::NotFound.into()
}

/// The version an `If-Match` header names (`"3"`, `3` or `W/"3"`), or why not.
pub fn if_match(req: &HttpRequest) -> Result<i64, AppError> {
    let raw = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or(AppError::PreconditionRequired)?;
    let text = raw
        .to_str()
        .map_err(|_| AppError::field("If-Match", "must be the agreement's version, e.g. \"3\""))?;
    let trimmed = text.trim().trim_start_matches("W/").trim_matches('"');
    trimmed.parse::<i64>().map_err(|_| {
        AppError::field(
            "If-Match",
            format!("must be the agreement's version, e.g. \"3\"; got {text:?}"),
        )
    })
}

/// `page` and `per_page` query parameters.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1-based page number.
    pub page: Option<i64>,
    /// Items per page, 1 to 100 (default 20).
    pub per_page: Option<i64>,
}

impl PageQuery {
    /// Checked (page, per_page, offset).
    pub fn resolve(self) -> Result<(i64, i64, i64), AppError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        let mut errors = Vec::new();
        if !(1..=1_000_000).contains(&page) {
            errors.push(FieldError::new("page", "must be between 1 and 1000000"));
        }
        if !(1..=100).contains(&per_page) {
            errors.push(FieldError::new("per_page", "must be between 1 and 100"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok((page, per_page, (page - 1) * per_page))
    }
}

/// A filter that must be one of `allowed`, when given: the field error otherwise.
pub fn one_of(field: &str, value: Option<&str>, allowed: &[&str]) -> Option<FieldError> {
    value
        .filter(|v| !allowed.contains(v))
        .map(|_| FieldError::new(field, format!("must be one of {}", allowed.join(", "))))
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    /// Page `page` of `per_page`, from the items an app function found and their total.
    pub fn of((items, total): (Vec<T>, i64), page: i64, per_page: i64) -> Page<T> {
        Page {
            items,
            total,
            page,
            per_page,
        }
    }
}

/// Runs blocking (database) work on the blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    web::block(f).await?
}

/// Runs a point read (one or two indexed lookups) on a reader connection. On SQLite it runs
/// right here on the worker when a reader connection is idle: in WAL mode a reader never
/// waits for the writer, and the lookup takes a few microseconds, far less than handing it to
/// a blocking thread and back (see docs/PERFORMANCE.md). When every reader is taken (list
/// reads on the blocking threads), or on PostgreSQL (a network round trip), it goes to the
/// blocking pool, which may wait for a connection without stalling the worker.
pub async fn point_read<T, F>(state: web::Data<AppState>, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut crate::db::DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    if state.db.backend() == crate::db::Backend::Sqlite {
        if let Some(mut conn) = state.db.idle_reader() {
            return f(&mut conn);
        }
    }
    blocking(move || f(&mut *state.db.reader()?)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Req {
        name: String,
        inner: Inner,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        days: u32,
    }

    fn fields(r: Result<Req, AppError>) -> Vec<String> {
        match r {
            Err(AppError::Validation(errs)) => errs.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(fields(parse_json(br#"{"inner":{"days":1}}"#)), ["name"]);
        assert_eq!(
            fields(parse_json(br#"{"name":"x","inner":{"days":"1"}}"#)),
            ["inner.days"]
        );
        assert_eq!(
            fields(parse_json(br#"{"name":"x","inner":{}}"#)),
            ["inner.days"]
        );
        assert_eq!(
            fields(parse_json(br#"{"name":"x","inner":{"days":1},"x":1}"#)),
            ["x"]
        );
        assert_eq!(fields(parse_json(br#""text""#)), ["body"]);
        assert!(matches!(
            parse_json::<Req>(br#"{"name":"#),
            Err(AppError::MalformedBody(_))
        ));
        assert!(matches!(
            parse_json::<Req>(b"not json"),
            Err(AppError::MalformedBody(_))
        ));
    }
}
