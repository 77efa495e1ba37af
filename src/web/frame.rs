//! What every page handler shares: who the visitor is ([`Visitor`]), setting a template with the
//! frame's context ([`Visitor::page`]), running app off the async workers ([`blocking`]),
//! reading a form and its token ([`form`]), redirects, and the error page an app error becomes
//! ([`Visitor::failure`]).

use std::collections::BTreeMap;

use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::Value;
use serde::de::DeserializeOwned;

use super::kept::Keep;
use super::session;
use crate::auth::session::Actor;
use crate::error::{AppError, FieldError};
use crate::AppState;

/// The visitor of a page: the signed-in user (if any), the page language, and the browser's
/// form token (`new_csrf` when it has to be set on the answer).
#[derive(Debug, Clone)]
pub struct Visitor {
    pub user: Option<Actor>,
    pub lang: &'static str,
    pub csrf: String,
    new_csrf: bool,
    secure: bool,
    path: String,
}

impl Visitor {
    /// The visitor of `req`, signed in or not.
    pub async fn of(state: &web::Data<AppState>, req: &HttpRequest) -> Visitor {
        let user = session::user(state, req).await;
        let lang = session::language(req, user.as_ref(), &state.cfg.app.locale);
        let (csrf, new_csrf) = session::csrf_token(req);
        let path = match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        };
        Visitor {
            user,
            lang,
            csrf,
            new_csrf,
            secure: session::secure(req),
            path,
        }
    }

    /// The signed-in visitor and their actor, or the sign-in page (with the way back) as the
    /// answer to give.
    pub async fn signed_in(
        state: &web::Data<AppState>,
        req: &HttpRequest,
    ) -> Result<(Visitor, Actor), HttpResponse> {
        let visitor = Visitor::of(state, req).await;
        match visitor.user.clone() {
            Some(actor) => Ok((visitor, actor)),
            None => {
                let next = serde_urlencoded::to_string([("next", visitor.path.as_str())])
                    .unwrap_or_default();
                Err(see_other(&format!("/sign-in?{next}")))
            }
        }
    }

    /// The text of `key` in the visitor's language, `{name}` placeholders filled from `args`
    /// (empty when the key is missing: the catalogue test keeps that from happening).
    pub fn words(&self, state: &AppState, key: &str, args: &[(&str, String)]) -> String {
        state
            .pages
            .catalogues
            .text(self.lang, key, args)
            .unwrap_or_else(|| {
                tracing::error!(
                    key,
                    lang = self.lang,
                    "a page asked for words no catalogue has"
                );
                String::new()
            })
    }

    /// What every template is given: `lang`, `csrf`, `path` (for the language switch) and
    /// `user` (display name, role), under the page's own `ctx`.
    fn frame(&self, ctx: Value) -> Value {
        let user = self.user.as_ref().map(|u| {
            minijinja::context! {
                display_name => u.display_name.clone(),
                role => u.role.as_str(),
                email => u.email.clone(),
            }
        });
        // The frame's own keys win over a page's.
        minijinja::context! {
            lang => self.lang, csrf => self.csrf.clone(), path => self.path.clone(), user,
            ..ctx
        }
    }

    /// Template `name` set with the frame and `ctx`, answered with `status`.
    pub fn page(&self, state: &AppState, status: u16, name: &str, ctx: Value) -> HttpResponse {
        self.page_keeping(state, status, None, name, ctx)
    }

    /// [`Visitor::page`], and a 200 kept for the next view as `keep` says ([`read_kept`]).
    pub fn page_keeping(
        &self,
        state: &AppState,
        status: u16,
        keep: Option<Keep>,
        name: &str,
        ctx: Value,
    ) -> HttpResponse {
        match state.pages.render(name, self.frame(ctx)) {
            Ok(body) => {
                let body = Bytes::from(body);
                if let (Some(keep), 200) = (keep, status) {
                    state.kept_pages.put(keep, body.clone());
                }
                self.html(status, body)
            }
            Err(e) => {
                tracing::error!(error = %e, template = name, "a page could not be set");
                self.error(state, 503, "error.busy", minijinja::context! {})
            }
        }
    }

    /// The key this visitor's view of the page is kept under (`web::kept`): the address, the
    /// fragment htmx asked for, the user as their session names them (if anyone is signed
    /// in), the language, the form token and the quarter-hour of the clock. `None` when the
    /// answer hands the browser a new form token, or the key would be longer than any kept
    /// (`kept::MAX_KEY_BYTES`): that page is set every time.
    fn keep_key(&self, state: &AppState, fragment: bool) -> Option<String> {
        if self.new_csrf {
            return None;
        }
        use std::fmt::Write;
        let quarter = state.clock.now().timestamp().div_euclid(15 * 60);
        let sep = '\u{1f}';
        let mut key = String::with_capacity(256);
        let _ = write!(key, "{}{sep}", self.path);
        if let Some(u) = &self.user {
            let _ = write!(
                key,
                "{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}",
                u.user_id,
                u.organisation_id,
                u.role.as_str(),
                u.display_name,
                u.email,
                u.locale
            );
        }
        let _ = write!(
            key,
            "{sep}{}{sep}{}{sep}{quarter}{sep}{fragment}",
            self.lang, self.csrf
        );
        (key.len() <= super::kept::MAX_KEY_BYTES).then_some(key)
    }

    /// The page kept for this visitor ([`read_kept`]), answered as it was set.
    pub fn kept(&self, body: Bytes) -> HttpResponse {
        self.html(200, body)
    }

    /// An HTML answer, setting the form-token cookie when the browser had none.
    fn html<B: MessageBody + 'static>(&self, status: u16, body: B) -> HttpResponse {
        let mut res = HttpResponse::build(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        res.content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"));
        if self.new_csrf {
            res.append_header((
                "Set-Cookie",
                session::cookie_value(session::CSRF, &self.csrf, 60 * 60 * 24 * 365, self.secure),
            ));
        }
        res.body(body)
    }

    /// The error page of `kind` (a catalogue prefix: `error.not_found`), with `ctx` for its
    /// optional `detail` (a sentence already in the visitor's language) and `back` (a link to
    /// where things stand now).
    pub fn error(&self, state: &AppState, status: u16, kind: &str, ctx: Value) -> HttpResponse {
        // The last map wins: the defaults, then the caller's, then the kind.
        let ctx = self.frame(minijinja::value::merge_maps([
            minijinja::context! { detail => "", back => "" },
            ctx,
            minijinja::context! { kind },
        ]));
        match state.pages.render("error.html", ctx) {
            Ok(body) => self.html(status, body),
            Err(e) => {
                tracing::error!(error = %e, "the error page could not be set");
                HttpResponse::build(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                )
                .content_type("text/plain; charset=utf-8")
                .body(kind.to_string())
            }
        }
    }

    /// The page an app error becomes, `back` being where the visitor sees how things stand
    /// now (the agreement's page, say). A form's 422 is best answered by setting the form
    /// again with [`field_errors`]; this is for the rest, and for a 422 no form can show.
    pub fn failure(&self, state: &AppState, err: AppError, back: &str) -> HttpResponse {
        let ctx = |detail: String| minijinja::context! { detail, back };
        match err {
            // What the visitor may not see is as missing as what does not exist.
            AppError::NotFound | AppError::Forbidden(_) => {
                self.error(state, 404, "error.not_found", ctx(String::new()))
            }
            AppError::InvalidTransition { detail, .. } | AppError::Conflict(detail) => {
                self.error(state, 409, "error.conflict", ctx(detail))
            }
            AppError::PreconditionFailed { .. } | AppError::PreconditionRequired => {
                self.error(state, 412, "error.stale", ctx(String::new()))
            }
            AppError::Validation(errors) => {
                let detail = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.error(state, 422, "error.invalid", ctx(detail))
            }
            AppError::TooManyRequests { retry_after_secs } => {
                let minutes = retry_after_secs.div_ceil(60).to_string();
                let detail = self.words(state, "error.too_many.wait", &[("minutes", minutes)]);
                let mut page = self.error(state, 429, "error.too_many", ctx(detail));
                retry_after(&mut page, retry_after_secs);
                page
            }
            AppError::Unauthenticated => see_other("/sign-in"),
            AppError::Unavailable(detail) => self.error(state, 503, "error.busy", ctx(detail)),
            e => {
                tracing::warn!(error = %e, "a page's action failed");
                self.error(state, 503, "error.busy", ctx(String::new()))
            }
        }
    }
}

/// Tells the client when to try again (`Retry-After`, seconds), as a 429 must.
pub fn retry_after(res: &mut HttpResponse, secs: u64) {
    res.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(secs),
    );
}

/// A signed-in visitor and their actor, as a handler argument: a visitor who is not signed in
/// is answered with the sign-in page (and the way back) before the handler runs.
pub struct SignedIn(pub Visitor, pub Actor);

impl actix_web::FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| actix_web::error::ErrorInternalServerError("no app state"))?;
            match Visitor::signed_in(&state, &req).await {
                Ok((visitor, actor)) => Ok(SignedIn(visitor, actor)),
                Err(to_sign_in) => Err(actix_web::error::InternalError::from_response(
                    "sign in first",
                    to_sign_in,
                )
                .into()),
            }
        })
    }
}

/// The page of a list a query asks for, from 1: anything that is not a page number is the
/// first page.
pub fn page_number(text: &str) -> i64 {
    text.trim().parse::<i64>().unwrap_or(1).clamp(1, 100_000)
}

/// How many pages `total` rows make at `per_page` a page: at least one, so an empty list
/// still has its page 1.
pub fn pages_of(total: i64, per_page: i64) -> i64 {
    ((total + per_page - 1) / per_page).max(1)
}

/// The query string of a list's filters with `page`, for the pager's links (the filters left
/// blank left out).
pub fn page_link(filters: &[(&str, &str)], page: i64) -> String {
    let page = page.to_string();
    let mut pairs: Vec<(&str, &str)> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .copied()
        .collect();
    pairs.push(("page", &page));
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// A redirect to `to` after a form (303: the browser GETs it).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

/// Runs `f` (an app call) on the blocking pool; a pool that cannot take it is `Busy`.
pub async fn blocking<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
{
    let state = state.clone();
    web::block(move || f(&state))
        .await
        .unwrap_or(Err(AppError::Busy))
}

/// What a page that may be kept reads ([`read_kept`]): the page as kept, or the data to set it
/// from and where to keep what is set.
pub enum Read<T> {
    Kept(Bytes),
    Fresh(T, Option<Keep>),
}

/// The page kept for `visitor` at this address if nothing it shows has changed since it was
/// set (`web::kept`: the audit record's head read now is the one it was set at): `Ok` with
/// the page, or `Err` with where to keep the page about to be set (`None`: not to be kept).
/// The head is one indexed read (`point_read`): on SQLite it runs on this worker when a reader
/// is idle, so a page given as kept does not wait for the blocking pool; on PostgreSQL, or
/// with every reader busy, it goes there. A head that cannot be read leaves the page to be set
/// as if nothing were kept.
pub async fn look_up_kept(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    fragment: bool,
) -> Result<Bytes, Option<Keep>> {
    let key = match state.kept_pages.enabled() {
        true => visitor.keep_key(state, fragment),
        false => None,
    };
    let key = key.ok_or(None)?;
    let stamp = match crate::http::point_read(state.clone(), crate::app::audit::stamp).await {
        Ok(stamp) => stamp,
        Err(e) => {
            tracing::warn!(error = %e, "the record's head could not be read: the page is set anew");
            return Err(None);
        }
    };
    let kept = state.kept_pages.get(&key, stamp);
    state.metrics.kept_page_view(kept.is_some());
    kept.ok_or(Some(Keep { key, stamp }))
}

/// The page kept for `visitor` at this address when nothing it shows has changed since
/// ([`look_up_kept`]), or else the page's data read by `f` on the blocking pool, with where
/// to keep the page set from it. `fragment`: htmx asked for part of the page.
pub async fn read_kept<T, F>(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    fragment: bool,
    f: F,
) -> Result<Read<T>, AppError>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
{
    let keep = match look_up_kept(state, visitor, fragment).await {
        Ok(body) => return Ok(Read::Kept(body)),
        Err(keep) => keep,
    };
    blocking(state, move |st| Ok(Read::Fresh(f(st)?, keep))).await
}

/// A posted form of type `T` whose `csrf` field is this browser's form token; `None` when the
/// token is missing or wrong (answer with [`Visitor::error`] `403 error.forbidden`). Fields the
/// form does not have are defaults, so a handler checks what it needs itself.
pub fn form<T: DeserializeOwned + Default>(req: &HttpRequest, body: &[u8]) -> Option<T> {
    #[derive(serde::Deserialize, Default)]
    struct Token {
        #[serde(default)]
        csrf: String,
    }
    let body = without_nul(body);
    let token: Token = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !session::csrf_ok(req, &token.csrf) {
        return None;
    }
    Some(serde_urlencoded::from_bytes(&body).unwrap_or_default())
}

/// A posted form's body with every NUL character (`%00`) taken out of its names and values.
/// No one types one, and no text the service keeps may hold one (PostgreSQL refuses it), so a
/// crafted form is read as if it had none rather than failing deep in a query.
pub fn without_nul(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !body.windows(3).any(|w| w == b"%00") {
        return std::borrow::Cow::Borrowed(body);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let clean: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| (k.replace('\0', ""), v.replace('\0', "")))
        .collect();
    std::borrow::Cow::Owned(
        serde_urlencoded::to_string(clean)
            .unwrap_or_default()
            .into_bytes(),
    )
}

/// A 422's fields at fault, by field name, for a template to show beside each field
/// (`errors["email"]`). Only the last part of a dotted path names the form's field.
pub fn field_errors(errors: &[FieldError]) -> BTreeMap<String, String> {
    errors
        .iter()
        .map(|e| {
            let field = e.field.rsplit('.').next().unwrap_or(&e.field).to_string();
            (field, e.message.clone())
        })
        .collect()
}
