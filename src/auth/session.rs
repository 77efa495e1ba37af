//! Sessions: an opaque random bearer token handed out at sign-in, stored only as its SHA-256,
//! ending after an idle period, at an absolute limit, or at sign-out. [`authenticate`] turns a
//! token into the signed-in [`Actor`] (the request extractor that calls it is in `http`).

use actix_web::HttpRequest;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::db::schema::{sessions, users};
use crate::db::{Db, DbConn};
use crate::error::AppError;
use crate::rules::roles::Role;

/// The signed-in user making a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Actor {
    pub user_id: String,
    pub organisation_id: String,
    pub role: Role,
    pub email: String,
    pub display_name: String,
    pub locale: String,
}

/// A fresh token (43 URL-safe characters, 256 bits) and the hash to store.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// What is stored for a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session for `user_id`; returns the token and its absolute expiry.
pub fn start(
    conn: &mut DbConn,
    user_id: &str,
    now: DateTime<Utc>,
    absolute: Duration,
) -> QueryResult<(String, DateTime<Utc>)> {
    let (token, hash) = new_token();
    let expires = now + absolute;
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(&hash),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now.naive_utc()),
            sessions::last_seen_at.eq(now.naive_utc()),
            sessions::expires_at.eq(expires.naive_utc()),
        ))
        .execute(conn)?;
    Ok((token, expires))
}

/// Ends the session of `token`.
pub fn revoke(conn: &mut DbConn, token: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(token_hash(token))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now.naive_utc()))
    .execute(conn)
}

/// Ends every live session of `user_id` but the one of `keep` (a token), if given.
pub fn revoke_user(
    conn: &mut DbConn,
    user_id: &str,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let keep = keep.map(token_hash).unwrap_or_default();
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::token_hash.ne(keep))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now.naive_utc()))
    .execute(conn)
}

/// The bearer token of a request, if it carries one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 128)
}

/// Recently authenticated sessions, so a request does not need a database round trip to
/// learn who is calling. An entry is trusted for `auth.session_cache_seconds` at most and is
/// always checked against the idle and absolute limits; sign-out removes it at once on this
/// instance (another instance sharing the database notices within the cache lifetime).
#[derive(Default)]
pub struct SessionCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, Cached>>,
}

#[derive(Clone)]
struct Cached {
    actor: Actor,
    last_seen: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
    loaded: std::time::Instant,
}

/// Bound on cached sessions; past it the cache starts over.
const CACHE_CAPACITY: usize = 100_000;

impl SessionCache {
    fn get(&self, hash: &str, max_age: std::time::Duration) -> Option<Cached> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|c| c.loaded.elapsed() < max_age)
            .cloned()
    }

    fn put(&self, hash: String, entry: Cached) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(hash, entry);
    }

    /// Forgets every session of `user_id` (their password changed: the database says which
    /// still live).
    pub fn forget_user(&self, user_id: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, c| c.actor.user_id != user_id);
    }

    /// Forgets a session (sign-out).
    pub fn remove(&self, token: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&token_hash(token));
    }
}

/// How stale `last_seen_at` may get before a request refreshes it: refreshing on every
/// request would turn every read into a write.
const TOUCH_AFTER_SECS: i64 = 60;

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

/// The caller, from the session cache alone, when that needs no database work: the entry
/// is fresh, within its limits, and its idle timer does not need refreshing yet. `None`
/// means "ask [`authenticate`]" (which also decides every refusal).
pub fn authenticate_cached(
    clock: &Clock,
    cfg: &AuthConfig,
    cache: &SessionCache,
    token: &str,
) -> Option<Actor> {
    let now = clock.now().naive_utc();
    let idle = Duration::minutes(cfg.session_idle_minutes);
    let max_age = std::time::Duration::from_secs(cfg.session_cache_seconds);
    let cached = cache.get(&token_hash(token), max_age)?;
    let live = now < cached.expires_at && now - cached.last_seen < idle;
    let fresh = (now - cached.last_seen).num_seconds() < TOUCH_AFTER_SECS;
    (live && fresh).then_some(cached.actor)
}

/// Looks up a live session (in `cache` first); refreshes its idle timer when stale.
pub fn authenticate(
    db: &Db,
    clock: &Clock,
    cfg: &AuthConfig,
    cache: &SessionCache,
    token: &str,
) -> Result<Actor, AppError> {
    let now = clock.now().naive_utc();
    let idle = Duration::minutes(cfg.session_idle_minutes);
    let hash = token_hash(token);
    let max_age = std::time::Duration::from_secs(cfg.session_cache_seconds);
    let cached = match cache.get(&hash, max_age) {
        Some(c) => c,
        None => {
            let row: Option<Row> = {
                let mut conn = db.reader()?;
                crate::on_backend!(&mut *conn, |c| sessions::table
                    .inner_join(users::table)
                    .filter(sessions::token_hash.eq(&hash))
                    .filter(sessions::revoked_at.is_null())
                    .filter(users::active.eq(true))
                    .select((
                        users::id,
                        users::organisation_id,
                        users::role,
                        users::email,
                        users::display_name,
                        users::locale,
                        sessions::last_seen_at,
                        sessions::expires_at,
                    ))
                    .first(c)
                    .optional())?
            };
            let (
                user_id,
                organisation_id,
                role,
                email,
                display_name,
                locale,
                last_seen,
                expires_at,
            ) = row.ok_or(AppError::Unauthenticated)?;
            let role = Role::parse(&role).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("stored role {role:?} is unknown"))
            })?;
            let entry = Cached {
                actor: Actor {
                    user_id,
                    organisation_id,
                    role,
                    email,
                    display_name,
                    locale,
                },
                last_seen,
                expires_at,
                loaded: std::time::Instant::now(),
            };
            cache.put(hash.clone(), entry.clone());
            entry
        }
    };
    if now >= cached.expires_at || now - cached.last_seen >= idle {
        return Err(AppError::Unauthenticated);
    }
    if (now - cached.last_seen).num_seconds() >= TOUCH_AFTER_SECS {
        let touched = db.write(|conn| {
            diesel::update(
                sessions::table
                    .find(&hash)
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)
            .map_err(AppError::from)
        })?;
        if touched == 0 {
            cache.remove(token);
            return Err(AppError::Unauthenticated);
        }
        cache.put(
            hash,
            Cached {
                last_seen: now,
                ..cached.clone()
            },
        );
    }
    Ok(cached.actor)
}
