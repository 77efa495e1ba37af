//! Operations: the security headers on every answer, sign-in limited per client address,
//! the online backup, and the Prometheus metrics.

use crate::helpers::*;

/// The headers every answer carries, and whether `Strict-Transport-Security` is among them.
fn assert_security_headers(res: &reqwest::Response, hsts: bool) {
    let h = res.headers();
    let what = res.url().path().to_string();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    let script = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap_or_else(|| panic!("{what}: no script-src in {csp}"));
    assert!(!script.contains("unsafe"), "{what}: {script}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "same-origin", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(
        h.contains_key("strict-transport-security"),
        hsts,
        "{what}: Strict-Transport-Security"
    );
}

#[actix_web::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for (path, status, kind) in [
        ("/sign-in", 200, "text/html"),
        ("/health/live", 200, "application/json"),
        ("/api/openapi.json", 200, "application/json"),
        ("/api/v1/nothing-here", 404, "application/problem+json"),
        ("/nothing-here", 404, "text/html"),
        ("/static/web/app.css", 200, "text/css"),
        ("/static/web/htmx.min.js", 200, "javascript"),
        ("/api/docs/", 200, "text/html"),
        ("/api/docs/usefirst-docs.js", 200, "javascript"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.contains(kind), "{path}: {ct}");
        assert_security_headers(&res, false);
    }
    // An API error answered by an extractor (no token) has them too.
    let res = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_security_headers(&res, false);
}

#[actix_web::test]
async fn the_pages_keep_no_inline_script_or_style() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut visitor = crate::browser::Browser::new(&app);
    let mut sme = crate::browser::Browser::new(&app);
    let (status, _, _) = sme.sign_in(&w.sme_a.email, PASSWORD).await;
    assert_eq!(status, 303);
    for (signed_in, path) in [
        (false, "/sign-in"),
        (false, "/api/docs/"),
        (true, "/catalogue"),
        (true, "/home"),
    ] {
        let b = if signed_in { &mut sme } else { &mut visitor };
        let (status, _, html) = b.get(path).await;
        assert_eq!(status, 200, "{path}");
        for bad in [
            "<script>",
            "<style",
            " style=",
            " onclick=",
            " onload=",
            "hx-on",
        ] {
            assert!(!html.contains(bad), "{path} has {bad}");
        }
    }
}

#[actix_web::test]
async fn strict_transport_security_only_behind_https() {
    let app = TestApp::spawn_with(|c| c.app.public_url = "https://usefirst.example".into()).await;
    for path in [
        "/sign-in",
        "/health/live",
        "/api/v1/nothing-here",
        "/static/web/app.css",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_security_headers(&res, true);
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000"
        );
    }
}

#[actix_web::test]
async fn wrong_passwords_over_many_addresses_from_one_client_are_limited() {
    let app = TestApp::spawn_with(|c| {
        c.auth.max_failed_logins = 5;
        c.auth.max_failed_logins_per_address = 4;
    })
    .await;
    let w = app.world().await;
    // Four wrong guesses, each at another e-mail address (two with accounts, two without):
    // no address reaches its own limit of five.
    for email in [
        &w.sme_a.email[..],
        "nobody-1@example.vn",
        &w.inst_a.email,
        "nobody-2@example.vn",
    ] {
        let (status, _) = app.login(email, "not the password").await;
        assert_eq!(status, 401, "{email}");
    }
    // The client is refused now, even with another user's right password.
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": w.sme_b.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "900");
    let (_, body) = read(res).await;
    assert_problem(&body, "too-many-requests");
    // The pages say so in the visitor's language, and when to come back.
    let mut b = crate::browser::Browser::new(&app);
    let (status, headers, page) = b.sign_in(&w.sme_b.email, PASSWORD).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "900");
    assert!(page.contains("Đăng nhập sai quá nhiều lần"), "{page}");
    assert!(b.cookie("uf_session").is_none());
    // Once the window has passed, the right password works again.
    app.clock.advance(chrono::Duration::minutes(16));
    let (status, body) = app.login(&w.sme_b.email, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn an_unknown_address_costs_a_password_hash_like_a_known_one() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let checks = || app.state.metrics.password_checks();
    for (email, password, status) in [
        ("nobody@example.vn", "not the password", 401),
        (&w.sme_a.email[..], "not the password", 401),
        ("nobody@example.vn", PASSWORD, 401),
        (&w.sme_a.email[..], PASSWORD, 200),
    ] {
        let before = checks();
        let (s, _) = app.login(email, password).await;
        assert_eq!(s, status, "{email}");
        assert_eq!(checks() - before, 1, "{email}: one password hash checked");
    }
    // And the decoy is a real argon2id hash with the same parameters as users' passwords.
    let decoy = usefirst::auth::password::decoy_hash();
    let real = usefirst::auth::password::hash("any password at all").unwrap();
    let params = |h: &str| h.split('$').take(4).collect::<Vec<_>>().join("$");
    assert_eq!(params(decoy), params(&real));
    assert!(decoy.starts_with("$argon2id$"));
}

/// Runs the `usefirst` binary with `args` on the database at `url`; its exit code and output.
async fn usefirst_cli(url: &str, args: &[&str]) -> (i32, String) {
    usefirst_cli_with(url, args, &[]).await
}

/// [`usefirst_cli`] with the environment variables `vars` besides.
async fn usefirst_cli_with(url: &str, args: &[&str], vars: &[(&str, &str)]) -> (i32, String) {
    let (url, args) = (
        url.to_string(),
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    );
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_usefirst"))
            .args(&args)
            .env("USEFIRST_DATABASE__URL", url)
            .env("USEFIRST_LOG__FILTER", "warn")
            .env_remove("USEFIRST_CONFIG")
            .envs(vars)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    })
    .await
    .unwrap()
}

/// A job's settings through the environment: a shell's variable cannot hold the dash of
/// `deliver-mail`, so `USEFIRST_SCHEDULER__JOBS__DELIVER_MAIL__CRON` names that job.
#[actix_web::test]
async fn a_job_with_a_dash_in_its_name_is_set_through_the_environment() {
    let app = TestApp::spawn().await;
    let url = app.state.cfg.database.url.clone();
    let var = "USEFIRST_SCHEDULER__JOBS__DELIVER_MAIL__CRON";
    // A schedule is taken...
    let (code, text) = usefirst_cli_with(&url, &["verify-audit"], &[(var, "*/5 * * * * *")]).await;
    assert_eq!(code, 0, "{text}");
    // ...as the deliver-mail job's: a bad one is refused under that job's key.
    let (code, text) = usefirst_cli_with(&url, &["verify-audit"], &[(var, "every minute")]).await;
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("scheduler.jobs.deliver-mail.cron"), "{text}");
    // The job's name as the configuration spells it still works.
    let (code, text) = usefirst_cli_with(
        &url,
        &["verify-audit"],
        &[("USEFIRST_SCHEDULER__JOBS__DELIVER-MAIL__ENABLED", "false")],
    )
    .await;
    assert_eq!(code, 0, "{text}");
}

/// `USEFIRST_CONFIG` (`--config`) and `create-admin`'s `USEFIRST_ADMIN_EMAIL` and
/// `USEFIRST_ADMIN_PASSWORD` share the settings' prefix without being settings: each once
/// stopped every command with "invalid configuration ... unknown field".
#[actix_web::test]
async fn the_command_line_variables_are_not_taken_for_settings() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    // The database is named only by the file USEFIRST_CONFIG names.
    let file = dir.path().join("usefirst.toml");
    let url = app.state.cfg.database.url.clone();
    std::fs::write(&file, format!("[database]\nurl = {url:?}\n")).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_usefirst"))
            .args(["create-admin", "--name", "Second admin"])
            .env_remove("USEFIRST_DATABASE__URL")
            .env("USEFIRST_CONFIG", &file)
            .env("USEFIRST_ADMIN_EMAIL", "second-admin@example.vn")
            .env("USEFIRST_ADMIN_PASSWORD", "a long admin password")
            .env("USEFIRST_LOG__FILTER", "warn")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("created admin second-admin@example.vn"),
        "{text}"
    );
    let (status, me) = app
        .login("second-admin@example.vn", "a long admin password")
        .await;
    assert_eq!(status, 200, "{me}");
}

#[actix_web::test]
async fn a_backup_taken_while_writes_go_on_restores_with_its_chain_whole() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("usefirst-backup.db");
    let url = app.state.cfg.database.url.clone();
    if backend_url().is_some() {
        // PostgreSQL: refused, pointing to pg_dump.
        let (code, text) = usefirst_cli(&url, &["backup", "--out", out.to_str().unwrap()]).await;
        assert_ne!(code, 0, "{text}");
        assert!(text.contains("pg_dump"), "{text}");
        assert!(!out.exists());
        return;
    }
    // Acknowledged writes before the backup.
    let before = app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    let signed = app.signed_agreement(&w).await;
    // More writes while it runs: trial requests, one after another, until it is done.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writes = {
        let (stop, client, base) = (stop.clone(), app.client.clone(), app.base.clone());
        let (token, tech) = (w.sme_b.token.clone(), w.tech_a.clone());
        actix_web::rt::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = client
                    .post(format!("{base}/api/v1/agreements"))
                    .bearer_auth(&token)
                    .json(
                        &serde_json::json!({"technology_id": tech, "place_of_use": "Xưởng",
                        "message": "Xin dùng thử", "requested_start": "2026-03-20"}),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                n += 1;
            }
            n
        })
    };
    // Let a few writes through before the copy starts.
    while app.count("agreements") < 5 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (code, text) = usefirst_cli(&url, &["backup", "--out", out.to_str().unwrap()]).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let during = writes.await.unwrap();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("intact"), "{text}");
    assert!(during > 0);
    // A second backup to the same file is refused, the first left as it was.
    let size = std::fs::metadata(&out).unwrap().len();
    let (code, text) = usefirst_cli(&url, &["backup", "--out", out.to_str().unwrap()]).await;
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("exists"), "{text}");
    assert_eq!(std::fs::metadata(&out).unwrap().len(), size);
    // A database that is not there (a mistyped name) is not made empty and backed up.
    let missing = dir.path().join("no-such.db");
    let elsewhere = dir.path().join("elsewhere.db");
    let (code, text) = usefirst_cli(
        missing.to_str().unwrap(),
        &["backup", "--out", elsewhere.to_str().unwrap()],
    )
    .await;
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("no database at"), "{text}");
    assert!(!missing.exists() && !elsewhere.exists());

    // The copy, opened by the app as its database: the writes acknowledged before are there,
    // and the audit chain verifies.
    let copy = out.to_string_lossy().into_owned();
    let restored = TestApp::spawn_with(|c| {
        long_sessions(c);
        c.database.url = copy;
    })
    .await;
    for a in [&before, &signed] {
        let (status, got) = restored
            .get(&w.sme_a.token, &format!("/api/v1/agreements/{}", id_of(a)))
            .await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["status"], a["status"]);
        assert_eq!(got["version"], a["version"]);
    }
    let (status, chain) = restored.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!(status, 200, "{chain}");
    assert_eq!(chain["ok"], true, "{chain}");
    let mut conn = usefirst::db::Db::open_sqlite_file(&out).unwrap();
    let copied = usefirst::audit::verify(&mut conn).unwrap();
    assert!(copied.ok && copied.events_checked > 0, "{copied:?}");
    // And the original goes on, its chain whole too, with the writes made during the copy.
    let (_, chain) = app.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!(chain["ok"], true, "{chain}");
    assert!(chain["events_checked"].as_i64().unwrap() >= copied.events_checked);
}

/// The value of the sample `name{labels}` in a Prometheus text, if it is there.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_and_show_the_outbox() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    let id = id_of(&a);
    for _ in 0..3 {
        let (status, _) = app
            .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
            .await;
        assert_eq!(status, 200);
    }
    let (status, _) = app
        .get(&w.sme_a.token, "/api/v1/agreements/no-such-id")
        .await;
    assert_eq!(status, 404);
    // A job run, counted by job and outcome.
    let slot = app.clock.now();
    let run = usefirst::app::jobs::claim_and_run(
        &app.state,
        "test",
        usefirst::scheduler::JobKind::DeliverMail,
        slot,
        "manual",
    )
    .unwrap()
    .unwrap();
    assert_eq!(run.status, "ok");
    // More mail queued after the delivery run: the request's approval tells the SME.
    let (s, _) = app
        .act(
            &w.inst_a.token,
            &id,
            "approve",
            version_of(&a),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, 200);

    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    // Labels in name order, as the text format writes them.
    let get = r#"method="GET",route="/api/v1/agreements/{id}""#;
    assert_eq!(
        sample(
            &text,
            &format!(r#"usefirst_http_requests_total{{{get},status="200"}}"#)
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"usefirst_http_requests_total{{{get},status="404"}}"#)
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"usefirst_http_request_duration_seconds_count{{{get},status="200"}}"#)
        ),
        Some(3.0)
    );
    assert!(!text.contains(&id), "no raw paths in the labels");
    assert_eq!(
        sample(
            &text,
            r#"usefirst_job_runs_total{job="deliver-mail",status="ok"}"#
        ),
        Some(1.0)
    );
    // The outbox as the database has it.
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let pending = app.db(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
            .get_result::<N>(c)
            .unwrap()
            .n
    });
    assert!(pending > 0, "the approval queued mail");
    assert_eq!(
        sample(&text, "usefirst_mail_outbox_unsent"),
        Some(pending as f64)
    );
    assert!(sample(&text, "usefirst_mail_outbox_oldest_unsent_age_seconds").is_some());
    app.clock.advance(chrono::Duration::minutes(10));
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sample(&text, "usefirst_mail_outbox_oldest_unsent_age_seconds").unwrap() >= 600.0);
    assert!(sample(&text, r#"usefirst_db_pool_max_connections{pool="read"}"#).is_some());
    assert!(sample(
        &text,
        r#"usefirst_db_pool_connections{pool="read",state="idle"}"#
    )
    .is_some());
    assert!(sample(&text, "usefirst_db_writes_waiting").is_some());
}

#[actix_web::test]
async fn metrics_with_a_token_answer_only_its_holder() {
    let app = TestApp::spawn_with(|c| c.metrics.token = "s3cret-scrape-token".into()).await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(
        res.status(),
        404,
        "loopback alone is not enough once a token is set"
    );
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("wrong-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("s3cret-scrape-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("usefirst_http_requests_total"));
}
