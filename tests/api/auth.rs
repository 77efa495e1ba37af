//! Signing in and out, and how sessions end: wrong credentials, throttling of repeated
//! failures, idle and absolute expiry on the manual clock, hashed token storage.

use chrono::Duration;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// A response's status, the headers the tests look at, and its JSON body.
struct Resp {
    status: u16,
    content_type: String,
    www_authenticate: Option<String>,
    retry_after: Option<String>,
    body: Value,
}

async fn resp(res: reqwest::Response) -> Resp {
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let content_type = header("content-type").unwrap_or_default();
    let www_authenticate = header("www-authenticate");
    let retry_after = header("retry-after");
    let (status, body) = read(res).await;
    Resp {
        status,
        content_type,
        www_authenticate,
        retry_after,
        body,
    }
}

async fn login(app: &TestApp, email: &str, password: &str) -> Resp {
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    resp(res).await
}

/// `GET /auth/me` with `authorization` as the whole header value, if any.
async fn me(app: &TestApp, authorization: Option<&str>) -> Resp {
    let mut req = app.client.get(app.url("/api/v1/auth/me"));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    resp(req.send().await.unwrap()).await
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    me(app, Some(&format!("Bearer {token}"))).await.status
}

fn assert_unauthenticated(r: &Resp, ctx: &str) {
    assert_eq!(r.status, 401, "{ctx}: {}", r.body);
    assert_eq!(r.content_type, "application/problem+json", "{ctx}");
    assert_eq!(
        r.body["type"], "urn:usefirst:problem:unauthenticated",
        "{ctx}"
    );
    assert_eq!(r.www_authenticate.as_deref(), Some("Bearer"), "{ctx}");
}

#[actix_web::test]
async fn login_returns_a_token_and_the_user() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let r = login(&app, &w.inst_a.email, PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["token"].as_str().unwrap();
    assert!(token.len() >= 40, "a token of 256 bits");
    assert_eq!(r.body["user"]["user_id"], w.inst_a.id.as_str());
    assert_eq!(r.body["user"]["organisation_id"], w.inst_a.org.as_str());
    assert_eq!(r.body["user"]["email"], w.inst_a.email.as_str());
    assert_eq!(r.body["user"]["role"], "institute");
    assert!(r.body["user"].get("password_hash").is_none());
    let expires: chrono::DateTime<chrono::Utc> =
        r.body["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, t0() + Duration::hours(24));
    // Each sign-in is its own session; the token works at once.
    assert_ne!(token, w.inst_a.token);
    let m = me(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(m.status, 200);
    assert_eq!(m.body["user_id"], w.inst_a.id.as_str());
    // The scheme is case-insensitive.
    assert_eq!(me(&app, Some(&format!("bearer {token}"))).await.status, 200);
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let wrong = login(&app, &w.sme_a.email, "not the password at all").await;
    assert_unauthenticated(&wrong, "wrong password");
    let unknown = login(&app, "nobody.here@example.vn", PASSWORD).await;
    assert_unauthenticated(&unknown, "unknown email");
    assert_eq!(
        wrong.body, unknown.body,
        "the answers must not tell which addresses exist"
    );
    let empty = login(&app, &w.sme_a.email, "").await;
    assert_unauthenticated(&empty, "empty password");
    assert_eq!(empty.body, unknown.body);
    assert!(wrong.body.get("token").is_none());
}

#[actix_web::test]
async fn requests_without_a_valid_token_are_401() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let garbage = [
        None,
        Some("".to_string()),
        Some("Bearer".to_string()),
        Some("Bearer ".to_string()),
        Some("Bearer garbage".to_string()),
        Some(format!("Bearer {}x", w.sme_a.token)),
        Some(format!(
            "Bearer {}",
            &w.sme_a.token[..w.sme_a.token.len() - 1]
        )),
        Some(format!("Basic {}", w.sme_a.token)),
        Some(w.sme_a.token.clone()),
        Some(format!("Bearer {}", "a".repeat(5000))),
        // The stored hash is not a token.
        Some(format!("Bearer {}", hex_sha256(&w.sme_a.token))),
    ];
    for auth in &garbage {
        assert_unauthenticated(&me(&app, auth.as_deref()).await, &format!("{auth:?}"));
    }
    // The same holds for every protected route.
    for path in [
        "/api/v1/agreements",
        "/api/v1/technologies",
        "/api/v1/audit/verify",
        "/api/v1/organisations",
    ] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth("garbage")
            .send()
            .await
            .unwrap();
        assert_unauthenticated(&resp(res).await, path);
    }
    let res = app
        .client
        .post(app.url("/api/v1/agreements"))
        .json(&json!({"technology_id": w.tech_a, "place_of_use": "x", "requested_start": "2026-03-10"}))
        .send()
        .await
        .unwrap();
    assert_unauthenticated(&resp(res).await, "POST /agreements without a token");
    assert_eq!(app.count("agreements"), 0);
}

#[actix_web::test]
async fn logout_ends_the_session_at_once() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let other = login(&app, &w.sme_a.email, PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let logout = |token: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url("/api/v1/auth/logout"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            resp(res).await
        }
    };
    let r = logout(w.sme_a.token.clone()).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, Value::Null, "204 has no body");
    assert_unauthenticated(
        &me(&app, Some(&format!("Bearer {}", w.sme_a.token))).await,
        "after logout",
    );
    let (s, _) = app.get(&w.sme_a.token, "/api/v1/agreements").await;
    assert_eq!(s, 401);
    assert_unauthenticated(&logout(w.sme_a.token.clone()).await, "a second logout");
    // Only that session ends: the user's other session lives on.
    assert_eq!(me_status(&app, &other).await, 200);
}

#[actix_web::test]
async fn repeated_failures_throttle_the_address_until_the_window_passes() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    for i in 0..5 {
        let r = login(&app, &w.sme_a.email, &format!("wrong guess {i}")).await;
        assert_unauthenticated(&r, &format!("failure {i}"));
        app.clock.advance(Duration::minutes(1));
    }
    // Five failures in the window: even the right password is refused, with Retry-After.
    for password in [PASSWORD, "wrong again"] {
        let r = login(&app, &w.sme_a.email, password).await;
        assert_eq!(r.status, 429, "{}", r.body);
        assert_eq!(r.content_type, "application/problem+json");
        assert_eq!(r.body["type"], "urn:usefirst:problem:too-many-requests");
        assert!(r.body.get("token").is_none());
        let secs: u64 = r
            .retry_after
            .as_deref()
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!(secs > 0 && secs <= 15 * 60, "Retry-After {secs}");
    }
    // However the address is written.
    let r = login(&app, &w.sme_a.email.to_uppercase(), PASSWORD).await;
    assert_eq!(r.status, 429);
    // Other addresses are not affected, and neither are existing sessions.
    assert_eq!(login(&app, &w.sme_b.email, PASSWORD).await.status, 200);
    assert_eq!(me_status(&app, &w.sme_a.token).await, 200);
    // The window slides: 14 minutes after the first failure all five still count; once the
    // first is more than 15 minutes old, four remain and the right password works again.
    app.clock.advance(Duration::minutes(9));
    assert_eq!(
        login(&app, &w.sme_a.email, PASSWORD).await.status,
        429,
        "the window has not passed"
    );
    app.clock
        .advance(Duration::minutes(1) + Duration::seconds(1));
    let r = login(&app, &w.sme_a.email, PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A success clears the count: four new failures do not throttle.
    for _ in 0..4 {
        assert_eq!(login(&app, &w.sme_a.email, "wrong").await.status, 401);
    }
    assert_eq!(login(&app, &w.sme_a.email, PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn unknown_addresses_are_throttled_too() {
    let app = TestApp::spawn().await;
    let _w = app.world().await;
    for _ in 0..5 {
        assert_eq!(login(&app, "ghost@example.vn", "guess").await.status, 401);
    }
    assert_eq!(login(&app, "ghost@example.vn", "guess").await.status, 429);
    app.clock.advance(Duration::minutes(16));
    assert_eq!(login(&app, "ghost@example.vn", "guess").await.status, 401);
}

#[actix_web::test]
async fn an_idle_session_expires() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    app.clock.advance(Duration::minutes(119));
    assert_eq!(
        me_status(&app, &w.sme_a.token).await,
        200,
        "119 minutes idle is fine"
    );
    // sme_b stays idle from sign-in.
    app.clock.advance(Duration::minutes(2));
    assert_unauthenticated(
        &me(&app, Some(&format!("Bearer {}", w.sme_b.token))).await,
        "121 minutes idle",
    );
    // sme_a was seen 2 minutes ago.
    assert_eq!(me_status(&app, &w.sme_a.token).await, 200);
    app.clock.advance(Duration::minutes(121));
    assert_eq!(me_status(&app, &w.sme_a.token).await, 401);
    // An expired session does not come back by signing in again: that is a new one.
    let fresh = login(&app, &w.sme_a.email, PASSWORD).await;
    assert_eq!(fresh.status, 200);
    assert_eq!(me_status(&app, &w.sme_a.token).await, 401);
}

#[actix_web::test]
async fn activity_keeps_a_session_alive_until_the_absolute_limit() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    for hour in 1..=5 {
        app.clock.advance(Duration::minutes(60));
        assert_eq!(
            me_status(&app, &w.sme_a.token).await,
            200,
            "after {hour} h of activity"
        );
        let (s, _) = app.get(&w.inst_a.token, "/api/v1/technologies").await;
        assert_eq!(s, 200, "any request counts as activity: {hour} h");
    }
    // Keep going to just before the 24-hour limit...
    for _ in 6..=23 {
        app.clock.advance(Duration::minutes(60));
        assert_eq!(me_status(&app, &w.sme_a.token).await, 200);
    }
    app.clock.advance(Duration::minutes(59));
    assert_eq!(
        me_status(&app, &w.sme_a.token).await,
        200,
        "23:59 after sign-in"
    );
    // ...which activity cannot push back.
    app.clock.advance(Duration::minutes(2));
    assert_unauthenticated(
        &me(&app, Some(&format!("Bearer {}", w.sme_a.token))).await,
        "24:01 after sign-in",
    );
    assert_eq!(me_status(&app, &w.inst_a.token).await, 401);
}

fn hex_sha256(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[actix_web::test]
async fn tokens_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        token_hash: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        user_id: String,
    }
    let rows: Vec<Row> = app.db(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT token_hash, user_id FROM sessions")
            .load(c)
            .unwrap()
    });
    assert_eq!(rows.len(), 8, "one session per signed-in user");
    for (label, user) in w.all() {
        let hash = hex_sha256(&user.token);
        for r in &rows {
            assert!(
                !r.token_hash.contains(&user.token),
                "{label}'s token is stored in clear"
            );
            assert!(!r.user_id.contains(&user.token));
        }
        let stored = rows
            .iter()
            .find(|r| r.token_hash == hash)
            .unwrap_or_else(|| panic!("{label}: no hashed session"));
        assert_eq!(stored.user_id, user.id);
    }
    // Nor anywhere else a request could have written it.
    let audit: i64 = app.db(|c| {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE data LIKE '%{}%'",
            w.sme_a.token
        ))
        .get_result::<N>(c)
        .unwrap()
        .n
    });
    assert_eq!(audit, 0);
}

#[actix_web::test]
async fn emails_are_case_insensitive_at_login() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    for email in [
        w.sme_a.email.to_uppercase(),
        "Sme.A@Example.VN".to_string(),
        format!("  {}  ", w.sme_a.email),
    ] {
        let r = login(&app, &email, PASSWORD).await;
        assert_eq!(r.status, 200, "{email:?}: {}", r.body);
        assert_eq!(r.body["user"]["user_id"], w.sme_a.id.as_str());
        assert_eq!(
            r.body["user"]["email"],
            w.sme_a.email.as_str(),
            "stored lower-case"
        );
    }
    // The password, though, is exact.
    let r = login(&app, &w.sme_a.email, &PASSWORD.to_uppercase()).await;
    assert_unauthenticated(&r, "password in another case");
}

/// A password stored with the earlier hashing parameters (argon2id, 19 MiB, 2 passes) still
/// signs in, and that sign-in stores it again with the current ones (7 MiB, 5 passes); a
/// wrong password is refused before and after.
#[actix_web::test]
async fn a_password_hashed_with_earlier_parameters_signs_in_and_is_hashed_again() {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    use diesel::prelude::*;
    use usefirst::db::schema::users;
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let salt = SaltString::generate(&mut OsRng);
    let old = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    app.db(|c| usefirst::accounts::set_password_hash(c, &w.sme_a.id, &old))
        .unwrap();
    let stored = |app: &TestApp| -> String {
        app.db(|c| {
            usefirst::on_backend!(c, |c| users::table
                .find(&w.sme_a.id)
                .select(users::password_hash)
                .first(c))
        })
        .unwrap()
    };
    assert_eq!(app.login(&w.sme_a.email, "not the password").await.0, 401);
    assert_eq!(stored(&app), old, "a wrong password changes nothing");
    let (status, body) = app.login(&w.sme_a.email, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let new = stored(&app);
    assert!(new.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{new}");
    assert_eq!(app.login(&w.sme_a.email, PASSWORD).await.0, 200);
    assert_eq!(stored(&app), new, "hashed again once");
    assert_eq!(app.login(&w.sme_a.email, "not the password").await.0, 401);
}

/// A sign-in with an address longer than any account can have is refused like any wrong
/// address, and stores nothing (a refused sign-in records the address it was given).
#[actix_web::test]
async fn an_overlong_address_is_refused_without_being_recorded() {
    let app = TestApp::spawn().await;
    let _w = app.world().await;
    let before = app.count("login_failures");
    let long = format!("{}@example.vn", "a".repeat(60_000));
    let (status, body) = app.login(&long, PASSWORD).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(app.count("login_failures"), before);
    let (status, _) = app.login("nobody@example.vn", PASSWORD).await;
    assert_eq!(status, 401);
    assert_eq!(
        app.count("login_failures"),
        before + 1,
        "an ordinary wrong one still counts"
    );
}
