//! The trial-agreement lifecycle over HTTP: every path through the state machine as each
//! party sees it (status, version, `ETag`, the `actions` offered), the time-driven steps in
//! the agreement's time zone, the terms snapshot, optimistic concurrency (`If-Match`),
//! idempotent creation, agreement numbers and the per-agreement event history.

use chrono::{Duration, NaiveDate, TimeZone};
use diesel::prelude::*;
use serde_json::{json, Value};
use usefirst::db::schema::audit_events;

use crate::helpers::*;

const AGREEMENTS: &str = "/api/v1/agreements";

fn actions_of(a: &Value) -> Vec<String> {
    a["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("no actions in {a}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn names(list: &[&str]) -> Vec<String> {
    sorted(list.iter().map(|s| s.to_string()).collect())
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn date_of(a: &Value, field: &str) -> NaiveDate {
    date(
        a[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} missing in {a}")),
    )
}

/// The clock's calendar date in Ho Chi Minh City.
fn local_today(app: &TestApp) -> NaiveDate {
    app.clock.today(chrono_tz::Asia::Ho_Chi_Minh)
}

/// Sets the clock to `h:m:s` local time on `day` in Ho Chi Minh City.
fn set_local(app: &TestApp, day: NaiveDate, h: u32, m: u32, s: u32) {
    let local = chrono_tz::Asia::Ho_Chi_Minh
        .from_local_datetime(&day.and_hms_opt(h, m, s).unwrap())
        .single()
        .unwrap();
    app.clock.set(local.with_timezone(&chrono::Utc));
}

/// How many audit events are about agreement `id`.
fn events_about(app: &TestApp, id: &str) -> i64 {
    let id = id.to_string();
    app.db(|c| {
        audit_events::table
            .filter(audit_events::entity_type.eq("agreement"))
            .filter(audit_events::entity_id.eq(id))
            .count()
            .get_result::<i64>(c)
            .unwrap()
    })
}

/// The `action`s of the agreement's events, as the events endpoint lists them.
async fn event_actions(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    let (s, events) = app.get(token, &format!("{AGREEMENTS}/{id}/events")).await;
    assert_eq!(s, 200, "{events}");
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// GET an agreement; also returns its `ETag`.
async fn get_tagged(app: &TestApp, token: &str, id: &str) -> (u16, Option<String>, Value) {
    let res = app
        .client
        .get(app.url(&format!("{AGREEMENTS}/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let etag = etag(&res);
    let (s, body) = read(res).await;
    (s, etag, body)
}

/// POST an action with an optional raw `If-Match`; also returns the `ETag`.
async fn act_raw(
    app: &TestApp,
    token: &str,
    id: &str,
    action: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut req = app
        .client
        .post(app.url(&format!("{AGREEMENTS}/{id}/{action}")))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    if let Some(v) = if_match {
        req = req.header("If-Match", v);
    }
    let res = req.send().await.unwrap();
    let etag = etag(&res);
    let (s, body) = read(res).await;
    (s, etag, body)
}

fn etag(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string())
}

/// Takes an action that must succeed; checks the version went up by one, the `ETag`
/// matches it, and exactly one audit event was appended.
async fn step(app: &TestApp, user: &User, current: &Value, action: &str, body: Value) -> Value {
    let id = id_of(current);
    let before = events_about(app, &id);
    let v = version_of(current);
    let (s, tag, a) = act_raw(
        app,
        &user.token,
        &id,
        action,
        Some(&format!("\"{v}\"")),
        Some(body),
    )
    .await;
    assert_eq!(s, 200, "{action} by {}: {a}", user.email);
    assert_eq!(
        version_of(&a),
        v + 1,
        "{action} must bump the version by one"
    );
    assert_eq!(tag, Some(format!("\"{}\"", v + 1)), "ETag after {action}");
    assert_eq!(
        events_about(app, &id),
        before + 1,
        "{action} appends one event"
    );
    a
}

/// How the agreement looks to every party: SME and institute with their actions, admin
/// (may terminate a running trial), auditor (reads, no actions), everyone else 404.
async fn check_views(
    app: &TestApp,
    w: &World,
    id: &str,
    status: &str,
    version: i64,
    sme: &[&str],
    inst: &[&str],
) -> Value {
    let mut seen = Value::Null;
    for (who, user, expected) in [
        ("sme_a", &w.sme_a, names(sme)),
        ("inst_a", &w.inst_a, names(inst)),
        (
            "admin",
            &w.admin,
            if matches!(status, "active" | "awaiting_decision") {
                names(&["terminate"])
            } else {
                vec![]
            },
        ),
        ("auditor", &w.auditor, vec![]),
    ] {
        let (s, tag, a) = get_tagged(app, &user.token, id).await;
        assert_eq!(s, 200, "{who}: {a}");
        assert_eq!(a["status"], status, "{who} sees the status");
        assert_eq!(version_of(&a), version, "{who} sees the version");
        assert_eq!(
            tag,
            Some(format!("\"{version}\"")),
            "{who}: ETag is the version"
        );
        assert_eq!(
            sorted(actions_of(&a)),
            expected,
            "{who}'s actions when {status}"
        );
        seen = a;
    }
    for user in [&w.sme_b, &w.inst_b, &w.insurer_a, &w.insurer_b] {
        let (s, body) = app.get(&user.token, &format!("{AGREEMENTS}/{id}")).await;
        assert_eq!(s, 404, "{} must not see it: {body}", user.email);
    }
    seen
}

/// Request on tech_a by sme_a starting `start`, and approval by inst_a.
async fn approved(app: &TestApp, w: &World, start: &str) -> Value {
    let a = app.request(&w.sme_a, &w.tech_a, start).await;
    step(app, &w.inst_a, &a, "approve", json!({})).await
}

#[actix_web::test]
async fn happy_path_from_request_to_conversion() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;

    // The SME requests a trial starting three days from now.
    let (s, tag, a) = {
        let res = app
            .client
            .post(app.url(AGREEMENTS))
            .bearer_auth(&w.sme_a.token)
            .json(
                &json!({"technology_id": w.tech_a, "place_of_use": "Nhà máy Cao Lãnh",
                          "message": "Xin dùng thử", "requested_start": "2026-03-05"}),
            )
            .send()
            .await
            .unwrap();
        let tag = etag(&res);
        let (s, body) = read(res).await;
        (s, tag, body)
    };
    assert_eq!(s, 201, "{a}");
    assert_eq!(tag.as_deref(), Some("\"1\""));
    let id = id_of(&a);
    assert_eq!(a["status"], "requested");
    assert_eq!(version_of(&a), 1);
    assert_eq!(a["sme_id"], w.sme_a.org);
    assert_eq!(a["institute_id"], w.inst_a.org);
    assert_eq!(a["technology_id"], w.tech_a);
    assert_eq!(a["terms_version"], 1);
    assert!(a["terms"].is_null(), "no snapshot before approval: {a}");
    assert!(a["trial_start"].is_null() && a["trial_end"].is_null());
    assert_eq!(a["time_zone"], "Asia/Ho_Chi_Minh");
    assert_eq!(sorted(actions_of(&a)), names(&["withdraw"]));
    check_views(
        &app,
        &w,
        &id,
        "requested",
        1,
        &["withdraw"],
        &["approve", "reject"],
    )
    .await;

    // The institute approves: the dates follow from the terms (90-day trial, 30 days to decide).
    let a = step(&app, &w.inst_a, &a, "approve", json!({})).await;
    assert_eq!(a["status"], "approved");
    assert_eq!(date_of(&a, "trial_start"), date("2026-03-05"));
    assert_eq!(date_of(&a, "trial_end"), date("2026-06-02"));
    assert_eq!(
        (date_of(&a, "trial_end") - date_of(&a, "trial_start")).num_days() + 1,
        90,
        "the trial runs 90 days inclusive"
    );
    assert_eq!(date_of(&a, "decision_deadline"), date("2026-07-02"));
    assert_eq!(sorted(actions_of(&a)), names(&["sign"]));
    let snapshot = a["terms"].clone();
    assert_eq!(snapshot["price"]["model"], "lump_sum");
    assert_eq!(snapshot["trial_days"], 90);
    assert_eq!(snapshot["currency"], "VND");
    check_views(
        &app,
        &w,
        &id,
        "approved",
        2,
        &["withdraw", "sign"],
        &["sign"],
    )
    .await;

    // The institute publishes new terms: the approved agreement keeps its snapshot.
    let (s, t2) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}/terms", w.tech_a),
            json!({
                "trial_days": 60, "decision_days": 20, "currency": "VND",
                "price": {"model": "lump_sum", "amount": "120000000", "due_days": 30},
                "insurance_required": false
            }),
        )
        .await;
    assert_eq!(s, 201, "{t2}");
    assert_eq!(t2["version"], 2);

    // The SME signs first: still approved, its signature stamped.
    let a = step(&app, &w.sme_a, &a, "sign", json!({})).await;
    assert_eq!(a["status"], "approved", "one signature is not enough");
    assert!(a["sme_signed_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-03-02T02:00:00"));
    assert!(a["institute_signed_at"].is_null());
    assert_eq!(a["terms"], snapshot);
    let a = check_views(&app, &w, &id, "approved", 3, &["withdraw"], &["sign"]).await;

    // An hour later the institute signs: signed, both stamps, the dates unchanged.
    app.clock.advance(Duration::hours(1));
    let a = step(&app, &w.inst_a, &a, "sign", json!({})).await;
    assert_eq!(a["status"], "signed");
    assert!(a["sme_signed_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-03-02T02:00:00"));
    assert!(a["institute_signed_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-03-02T03:00:00"));
    assert_eq!(date_of(&a, "trial_start"), date("2026-03-05"));
    assert_eq!(a["terms"], snapshot);
    assert_eq!(a["terms_version"], 1);
    check_views(&app, &w, &id, "signed", 4, &[], &[]).await;

    // Not active the day before the start, not even one second before local midnight
    // (which is already the start date in UTC+7 terms at 17:00 UTC).
    app.pass_days(1);
    set_local(&app, date("2026-03-04"), 23, 59, 59);
    assert_eq!(app.advance(), 0);
    check_views(&app, &w, &id, "signed", 4, &[], &[]).await;
    set_local(&app, date("2026-03-05"), 0, 0, 0);
    assert_eq!(app.advance(), 1);
    let a = check_views(
        &app,
        &w,
        &id,
        "active",
        5,
        &["convert", "decline", "terminate"],
        &["terminate", "extend"],
    )
    .await;
    assert_eq!(a["terms"], snapshot, "the snapshot survives new terms");

    // Through the trial to the decision window.
    set_local(&app, date("2026-06-03"), 9, 0, 0);
    assert_eq!(app.advance(), 1);
    check_views(
        &app,
        &w,
        &id,
        "awaiting_decision",
        6,
        &["convert", "decline", "terminate"],
        &["terminate"],
    )
    .await;

    // The SME converts.
    let (_, a) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    let a = step(&app, &w.sme_a, &a, "convert", json!({})).await;
    assert_eq!(a["status"], "converted");
    assert!(actions_of(&a).is_empty());
    assert!(a["closed_reason"].is_null());
    let a = check_views(&app, &w, &id, "converted", 7, &[], &[]).await;
    assert_eq!(a["terms"], snapshot);
    assert_eq!(a["terms_version"], 1);

    // The history, oldest first, through the chain.
    let (s, events) = app
        .get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}/events"))
        .await;
    assert_eq!(s, 200, "{events}");
    let events = events.as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "agreement.requested",
            "agreement.approve",
            "agreement.sign",
            "agreement.sign",
            "agreement.start",
            "agreement.end_trial",
            "agreement.convert"
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|p| p[0] < p[1]),
        "ordered by seq: {seqs:?}"
    );
    for e in events {
        let data: Value = serde_json::from_str(e["data"].as_str().unwrap()).unwrap();
        assert!(data.is_object(), "data is JSON text: {e}");
        assert_eq!(e["hash"].as_str().unwrap().len(), 64);
        assert_eq!(e["prev_hash"].as_str().unwrap().len(), 64);
    }
    let approve: Value = serde_json::from_str(events[1]["data"].as_str().unwrap()).unwrap();
    assert_eq!(approve["before"]["status"], "requested");
    assert_eq!(approve["after"]["status"], "approved");
    assert_eq!(approve["after"]["trial_end"], "2026-06-02");
    // System steps carry no user.
    assert!(events[4]["actor_user_id"].is_null());
    assert_eq!(events[6]["actor_user_id"], w.sme_a.id);
    // Parties and supervisors read the history; others cannot.
    for user in [&w.inst_a, &w.admin, &w.auditor] {
        assert_eq!(event_actions(&app, &user.token, &id).await.len(), 7);
    }
    for user in [&w.sme_b, &w.inst_b, &w.insurer_a] {
        let (s, _) = app
            .get(&user.token, &format!("{AGREEMENTS}/{id}/events"))
            .await;
        assert_eq!(s, 404);
    }

    // A request made now records the new terms, and its approval snapshots them.
    let today = local_today(&app).to_string();
    let b = app.request(&w.sme_a, &w.tech_a, &today).await;
    assert_eq!(b["terms_version"], 2);
    let b = step(&app, &w.inst_a, &b, "approve", json!({})).await;
    assert_eq!(b["terms_version"], 2);
    assert_eq!(b["terms"], t2["terms"]);
    assert_eq!(b["terms"]["trial_days"], 60);
    assert_ne!(b["terms"], snapshot);
    assert_eq!(
        (date_of(&b, "trial_end") - date_of(&b, "trial_start")).num_days() + 1,
        60
    );
}

#[actix_web::test]
async fn decline_in_the_decision_window_records_the_reason() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);
    // trial 2026-03-03 .. 2026-05-31, decide by 2026-06-30.
    assert_eq!(date_of(&a, "trial_end"), date("2026-05-31"));
    assert_eq!(date_of(&a, "decision_deadline"), date("2026-06-30"));

    // A scheduler that was down catches up in one run: start and end of trial.
    set_local(&app, date("2026-06-01"), 9, 0, 0);
    assert_eq!(app.advance(), 2);
    assert_eq!(app.advance(), 0);
    let (_, a) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert_eq!(a["status"], "awaiting_decision");
    assert_eq!(version_of(&a), 6);

    // The institute cannot decline for the SME.
    let snap = app.snapshot();
    let (s, body) = app
        .act(&w.inst_a.token, &id, "decline", 6, json!({"reason": "x"}))
        .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(app.snapshot(), snap);

    let a = step(
        &app,
        &w.sme_a,
        &a,
        "decline",
        json!({"reason": "  Năng suất không đạt yêu cầu  "}),
    )
    .await;
    assert_eq!(a["status"], "declined");
    assert_eq!(a["closed_reason"], "Năng suất không đạt yêu cầu");
    assert!(actions_of(&a).is_empty());
    let events = event_actions(&app, &w.sme_a.token, &id).await;
    assert_eq!(events.last().unwrap(), "agreement.decline");

    // Final: nothing more happens to it, by time or by hand.
    app.pass_days(60);
    let (_, a) = app
        .get(&w.inst_a.token, &format!("{AGREEMENTS}/{id}"))
        .await;
    assert_eq!(a["status"], "declined");
    assert_eq!(version_of(&a), 7);
    let (s, body) = app.act(&w.sme_a.token, &id, "convert", 7, json!({})).await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["current_state"], "declined");
}

#[actix_web::test]
async fn lapse_day_by_day_in_local_time() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);
    let start = date_of(&a, "trial_start");
    let end = date_of(&a, "trial_end");
    let deadline = date_of(&a, "decision_deadline");
    assert_eq!(start, date("2026-03-03"));
    assert_eq!((end - start).num_days() + 1, 90);
    assert_eq!((deadline - end).num_days(), 30);

    let expected = |d: NaiveDate| {
        if d < start {
            "signed"
        } else if d <= end {
            "active"
        } else if d <= deadline {
            "awaiting_decision"
        } else {
            "lapsed"
        }
    };
    // Day 0 (2026-03-02): the day before the start.
    assert_eq!(app.advance(), 0);
    let mut status = "signed".to_string();
    let mut version = version_of(&a);
    let mut transitions = Vec::new();
    let last = deadline + Duration::days(3);
    while local_today(&app) < last {
        app.pass_days(1);
        let today = local_today(&app);
        let events = app.count("audit_events");
        // A second run the same day changes nothing and records nothing.
        assert_eq!(app.advance(), 0, "advance is idempotent on {today}");
        assert_eq!(app.count("audit_events"), events);
        let (s, tag, now) = get_tagged(&app, &w.sme_a.token, &id).await;
        assert_eq!(s, 200);
        let want = expected(today);
        assert_eq!(now["status"], want, "status on {today}");
        if now["status"] != status.as_str() {
            version += 1;
            transitions.push((today, want));
            status = want.to_string();
        }
        assert_eq!(version_of(&now), version, "version on {today}");
        assert_eq!(tag, Some(format!("\"{version}\"")));
    }
    assert_eq!(
        transitions,
        [
            (start, "active"),
            (end + Duration::days(1), "awaiting_decision"),
            (deadline + Duration::days(1), "lapsed"),
        ]
    );
    assert_eq!(
        event_actions(&app, &w.sme_a.token, &id).await[4..],
        ["agreement.start", "agreement.end_trial", "agreement.lapse"]
    );
    let (_, a) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert!(actions_of(&a).is_empty());
    assert!(a["closed_reason"].is_null());
    // Too late to convert.
    let (s, body) = app
        .act(&w.sme_a.token, &id, "convert", version, json!({}))
        .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["current_state"], "lapsed");
}

#[actix_web::test]
async fn time_driven_steps_follow_local_midnight() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);
    let status = |app: &TestApp| {
        let id = id.clone();
        app.db(move |c| usefirst::agreements::store::get(c, &id).unwrap().status)
    };
    for (day, before, after) in [
        ("2026-03-03", "signed", "active"),
        ("2026-06-01", "active", "awaiting_decision"),
        ("2026-07-01", "awaiting_decision", "lapsed"),
    ] {
        let day = date(day);
        // 23:59:59 the evening before (16:59:59 UTC): nothing yet.
        set_local(&app, day - Duration::days(1), 23, 59, 59);
        assert_eq!(app.advance(), 0, "before {day}");
        assert_eq!(status(&app), before);
        // Local midnight is still the previous day in UTC, but the step is due.
        set_local(&app, day, 0, 0, 0);
        assert_eq!(app.clock.now().date_naive(), day - Duration::days(1));
        assert_eq!(app.advance(), 1, "on {day}");
        assert_eq!(status(&app), after);
        assert_eq!(app.advance(), 0);
    }
}

#[actix_web::test]
async fn reject_requires_a_reason() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    let id = id_of(&a);
    let snap = app.snapshot();
    for body in [json!({}), json!({"reason": "   "}), json!({"reason": null})] {
        let (s, p) = app.act(&w.inst_a.token, &id, "reject", 1, body).await;
        assert_eq!(s, 422, "{p}");
        assert_field_error(&p, "reason");
    }
    // An empty body is `{}`: still no reason.
    let (s, _, p) = act_raw(&app, &w.inst_a.token, &id, "reject", Some("\"1\""), None).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(app.snapshot(), snap, "a refused reject changes nothing");
    let (_, now) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert_eq!(now["status"], "requested");
    assert_eq!(version_of(&now), 1);

    // The SME cannot reject its own request.
    let (s, p) = app
        .act(&w.sme_a.token, &id, "reject", 1, json!({"reason": "x"}))
        .await;
    assert_eq!(s, 403, "{p}");
    assert_eq!(app.snapshot(), snap);

    let a = step(
        &app,
        &w.inst_a,
        &a,
        "reject",
        json!({"reason": "Công nghệ chưa phù hợp quy mô nhà máy"}),
    )
    .await;
    assert_eq!(a["status"], "rejected");
    assert_eq!(a["closed_reason"], "Công nghệ chưa phù hợp quy mô nhà máy");
    assert!(a["terms"].is_null() && a["trial_start"].is_null());
    assert!(actions_of(&a).is_empty());
    let (_, seen) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert!(actions_of(&seen).is_empty());
    // Final.
    let (s, p) = app.act(&w.inst_a.token, &id, "approve", 2, json!({})).await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["current_state"], "rejected");
}

#[actix_web::test]
async fn sme_withdraws_from_requested_and_from_approved() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;

    // From requested, without a reason.
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    let snap = app.snapshot();
    let (s, p) = app
        .act(&w.inst_a.token, &id_of(&a), "withdraw", 1, json!({}))
        .await;
    assert_eq!(
        s, 403,
        "the institute cannot withdraw the SME's request: {p}"
    );
    assert_eq!(app.snapshot(), snap);
    let a = step(&app, &w.sme_a, &a, "withdraw", json!({})).await;
    assert_eq!(a["status"], "withdrawn");
    assert!(a["closed_reason"].is_null());
    assert!(actions_of(&a).is_empty());

    // From approved (with the SME's signature already on it), with a reason.
    let b = approved(&app, &w, "2026-03-10").await;
    let b = step(&app, &w.sme_a, &b, "sign", json!({})).await;
    let b = step(
        &app,
        &w.sme_a,
        &b,
        "withdraw",
        json!({"reason": "Đổi kế hoạch sản xuất"}),
    )
    .await;
    assert_eq!(b["status"], "withdrawn");
    assert_eq!(b["closed_reason"], "Đổi kế hoạch sản xuất");
    // The institute can no longer sign it.
    let (s, p) = app
        .act(
            &w.inst_a.token,
            &id_of(&b),
            "sign",
            version_of(&b),
            json!({}),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["current_state"], "withdrawn");

    // Not once signed: the trial is agreed.
    let c = app.signed_agreement(&w).await;
    let (s, p) = app
        .act(
            &w.sme_a.token,
            &id_of(&c),
            "withdraw",
            version_of(&c),
            json!({}),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["current_state"], "signed");
}

#[actix_web::test]
async fn institute_terminates_an_active_trial_with_a_reason() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);
    app.pass_days(1);
    let (_, a) = app
        .get(&w.inst_a.token, &format!("{AGREEMENTS}/{id}"))
        .await;
    assert_eq!(a["status"], "active");
    let v = version_of(&a);

    let snap = app.snapshot();
    let (s, p) = app
        .act(&w.inst_a.token, &id, "terminate", v, json!({}))
        .await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "reason");
    let (s, p) = app
        .act(&w.inst_a.token, &id, "terminate", v, json!({"reason": ""}))
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(app.snapshot(), snap);

    let a = step(
        &app,
        &w.inst_a,
        &a,
        "terminate",
        json!({"reason": "Doanh nghiệp vi phạm điều khoản bảo mật"}),
    )
    .await;
    assert_eq!(a["status"], "terminated");
    assert_eq!(
        a["closed_reason"],
        "Doanh nghiệp vi phạm điều khoản bảo mật"
    );
    assert!(actions_of(&a).is_empty());
    // The scheduler leaves it alone.
    app.pass_days(200);
    let (_, a) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert_eq!(a["status"], "terminated");
    assert_eq!(version_of(&a), v + 1);
    assert_eq!(
        event_actions(&app, &w.sme_a.token, &id)
            .await
            .last()
            .unwrap(),
        "agreement.terminate"
    );
}

#[actix_web::test]
async fn extend_once_moves_end_and_deadline() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);
    // Not before the trial runs.
    let (s, p) = app
        .act(
            &w.inst_a.token,
            &id,
            "extend",
            version_of(&a),
            json!({"days": 30}),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["current_state"], "signed");

    app.pass_days(10);
    let (_, a) = app
        .get(&w.inst_a.token, &format!("{AGREEMENTS}/{id}"))
        .await;
    assert_eq!(a["status"], "active");
    let (end, deadline) = (date_of(&a, "trial_end"), date_of(&a, "decision_deadline"));
    assert!(actions_of(&a).contains(&"extend".to_string()));

    let snap = app.snapshot();
    let v = version_of(&a);
    let (s, p) = app
        .act(&w.sme_a.token, &id, "extend", v, json!({"days": 30}))
        .await;
    assert_eq!(s, 403, "the SME does not extend: {p}");
    for bad in [
        json!({"days": 0}),
        json!({"days": -5}),
        json!({}),
        json!({"days": "30"}),
    ] {
        let (s, p) = app
            .act(&w.inst_a.token, &id, "extend", v, bad.clone())
            .await;
        assert!(s == 422 || s == 400, "{bad}: {s} {p}");
    }
    assert_eq!(app.snapshot(), snap);

    let a = step(&app, &w.inst_a, &a, "extend", json!({"days": 30})).await;
    assert_eq!(a["status"], "active");
    assert_eq!(a["extended"], true);
    assert_eq!(date_of(&a, "trial_end"), end + Duration::days(30));
    assert_eq!(
        date_of(&a, "decision_deadline"),
        deadline + Duration::days(30)
    );
    assert_eq!(date_of(&a, "trial_start"), date("2026-03-03"));
    assert_eq!(sorted(actions_of(&a)), names(&["terminate"]));

    let snap = app.snapshot();
    let (s, p) = app
        .act(
            &w.inst_a.token,
            &id,
            "extend",
            version_of(&a),
            json!({"days": 10}),
        )
        .await;
    assert_eq!(s, 409, "only once: {p}");
    assert_problem(&p, "invalid-transition");
    assert_eq!(p["current_state"], "active");
    assert_eq!(p["current_version"], version_of(&a));
    assert_eq!(app.snapshot(), snap);

    // The extension holds: still active on the old last day + 1.
    set_local(&app, end + Duration::days(1), 9, 0, 0);
    app.advance();
    let (_, now) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert_eq!(now["status"], "active");
    set_local(&app, end + Duration::days(31), 9, 0, 0);
    app.advance();
    let (_, now) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert_eq!(now["status"], "awaiting_decision");
}

#[actix_web::test]
async fn early_conversion_during_the_trial() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);
    // Not before the trial has started.
    let (s, p) = app
        .act(&w.sme_a.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["current_state"], "signed");

    app.pass_days(20);
    let (_, a) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert_eq!(a["status"], "active");
    let snap = app.snapshot();
    let (s, p) = app
        .act(&w.inst_a.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 403, "only the SME converts: {p}");
    assert_eq!(app.snapshot(), snap);
    let a = step(&app, &w.sme_a, &a, "convert", json!({})).await;
    assert_eq!(a["status"], "converted");
    assert!(actions_of(&a).is_empty());
    // The trial dates stay as agreed; the scheduler has nothing more to do.
    assert_eq!(date_of(&a, "trial_end"), date("2026-05-31"));
    app.pass_days(200);
    let (_, a) = app.get(&w.sme_a.token, &format!("{AGREEMENTS}/{id}")).await;
    assert_eq!(a["status"], "converted");
}

#[actix_web::test]
async fn insured_terms_need_an_insurer_who_then_sees_the_trial() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_b, "2026-03-09").await;
    let id = id_of(&a);
    assert_eq!(a["institute_id"], w.inst_b.org);
    for user in [&w.insurer_a, &w.insurer_b, &w.inst_a] {
        let (s, _) = app.get(&user.token, &format!("{AGREEMENTS}/{id}")).await;
        assert_eq!(s, 404, "{} before approval", user.email);
    }

    let snap = app.snapshot();
    let (s, p) = app.act(&w.inst_b.token, &id, "approve", 1, json!({})).await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "insurer_id");
    // Not an insurer, or no such organisation.
    for bogus in [w.sme_b.org.clone(), "no-such-org".to_string()] {
        let (s, p) = app
            .act(
                &w.inst_b.token,
                &id,
                "approve",
                1,
                json!({"insurer_id": bogus}),
            )
            .await;
        assert_eq!(s, 422, "{p}");
        assert_field_error(&p, "insurer_id");
    }
    assert_eq!(app.snapshot(), snap);

    let a = step(
        &app,
        &w.inst_b,
        &a,
        "approve",
        json!({"insurer_id": w.insurer_a.org}),
    )
    .await;
    assert_eq!(a["status"], "approved");
    assert_eq!(a["insurer_id"], w.insurer_a.org);
    assert_eq!(a["terms"]["insurance_required"], true);
    assert_eq!(a["terms"]["currency"], "USD");
    assert_eq!(date_of(&a, "trial_start"), date("2026-03-09"));
    assert_eq!(date_of(&a, "trial_end"), date("2026-05-07"));
    assert_eq!(date_of(&a, "decision_deadline"), date("2026-05-21"));

    let (s, seen) = app
        .get(&w.insurer_a.token, &format!("{AGREEMENTS}/{id}"))
        .await;
    assert_eq!(s, 200, "{seen}");
    assert!(actions_of(&seen).is_empty(), "insurers only watch");
    let (s, _) = app
        .get(&w.insurer_a.token, &format!("{AGREEMENTS}/{id}/events"))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .get(&w.insurer_b.token, &format!("{AGREEMENTS}/{id}"))
        .await;
    assert_eq!(s, 404);
    // The covering insurer may look but not act.
    let (s, p) = app.act(&w.insurer_a.token, &id, "sign", 2, json!({})).await;
    assert_eq!(s, 403, "{p}");
    let (s, _) = app.act(&w.insurer_b.token, &id, "sign", 2, json!({})).await;
    assert_eq!(s, 404);

    // It shows in insurer A's list only.
    let (_, list) = app.get(&w.insurer_a.token, AGREEMENTS).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    let (_, list) = app.get(&w.insurer_b.token, AGREEMENTS).await;
    assert_eq!(list["total"], 0);
}

#[actix_web::test]
async fn refusals_change_nothing() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    let id = id_of(&a);
    let snap = app.snapshot();
    let unchanged = |app: &TestApp| {
        assert_eq!(app.snapshot(), snap);
        let id = id.clone();
        let row = app.db(move |c| usefirst::agreements::store::get(c, &id).unwrap());
        assert_eq!((row.status.as_str(), row.version), ("requested", 1));
    };

    // Visible but not the caller's action: 403.
    let (s, p) = app.act(&w.sme_a.token, &id, "approve", 1, json!({})).await;
    assert_eq!(s, 403, "{p}");
    assert_problem(&p, "forbidden");
    let (s, p) = app
        .act(&w.auditor.token, &id, "approve", 1, json!({}))
        .await;
    assert_eq!(s, 403, "{p}");
    let (s, p) = app.act(&w.admin.token, &id, "approve", 1, json!({})).await;
    assert_eq!(s, 403, "{p}");
    unchanged(&app);

    // Not visible: 404, whatever the action.
    for user in [&w.sme_b, &w.inst_b, &w.insurer_a] {
        let (s, p) = app.act(&user.token, &id, "approve", 1, json!({})).await;
        assert_eq!(s, 404, "{}: {p}", user.email);
        assert_problem(&p, "not-found");
    }
    let (s, _) = app
        .act(
            &w.inst_a.token,
            "00000000-0000-0000-0000-000000000000",
            "approve",
            1,
            json!({}),
        )
        .await;
    assert_eq!(s, 404);
    unchanged(&app);

    // Right role, wrong state: 409 with the state and version.
    let (s, p) = app.act(&w.sme_a.token, &id, "convert", 1, json!({})).await;
    assert_eq!(s, 409, "{p}");
    assert_problem(&p, "invalid-transition");
    assert_eq!(p["current_state"], "requested");
    assert_eq!(p["current_version"], 1);
    let (s, p) = app.act(&w.inst_a.token, &id, "sign", 1, json!({})).await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["current_state"], "requested");
    unchanged(&app);

    // No If-Match: 428.
    let (s, _, p) = act_raw(&app, &w.inst_a.token, &id, "approve", None, Some(json!({}))).await;
    assert_eq!(s, 428, "{p}");
    assert_problem(&p, "precondition-required");
    // Stale If-Match: 412 with the current version.
    let (s, p) = app.act(&w.inst_a.token, &id, "approve", 0, json!({})).await;
    assert_eq!(s, 412, "{p}");
    assert_problem(&p, "precondition-failed");
    assert_eq!(p["current_version"], 1);
    let (s, p) = app.act(&w.inst_a.token, &id, "approve", 7, json!({})).await;
    assert_eq!(s, 412, "{p}");
    assert_eq!(p["current_version"], 1);
    // A garbled If-Match is bad input, not a crash.
    let (s, _, p) = act_raw(
        &app,
        &w.inst_a.token,
        &id,
        "approve",
        Some("banana"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "If-Match");
    unchanged(&app);

    // Unknown actions, and the scheduler's own ones, are not routes.
    for name in ["frobnicate", "start", "end_trial", "lapse", "APPROVE"] {
        let (s, p) = app.act(&w.inst_a.token, &id, name, 1, json!({})).await;
        assert_eq!(s, 404, "{name}: {p}");
    }
    // Unknown body fields are refused.
    let (s, p) = app
        .act(&w.inst_a.token, &id, "approve", 1, json!({"price": "0"}))
        .await;
    assert!(s == 400 || s == 422, "{s} {p}");
    // A start date in the past is refused.
    let (s, p) = app
        .act(
            &w.inst_a.token,
            &id,
            "approve",
            1,
            json!({"trial_start": "2026-03-01"}),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "trial_start");
    unchanged(&app);

    // The If-Match accepts the ETag exactly as served, weak or strong.
    let (_, tag, _) = get_tagged(&app, &w.inst_a.token, &id).await;
    let (s, _, p) = act_raw(
        &app,
        &w.inst_a.token,
        &id,
        "approve",
        Some(&format!("W/{}", tag.unwrap())),
        Some(json!({"trial_start": "2026-03-04"})),
    )
    .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(date_of(&p, "trial_start"), date("2026-03-04"));
}

#[actix_web::test]
async fn concurrent_approvals_one_wins() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    let id = id_of(&a);
    let events = app.count("audit_events");
    let attempts = (0..8).map(|_| app.act(&w.inst_a.token, &id, "approve", 1, json!({})));
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "exactly one approve wins: {results:?}");
    for (s, body) in &results {
        match s {
            200 => assert_eq!(version_of(body), 2),
            412 => assert_eq!(body["current_version"], 2, "{body}"),
            409 => assert_eq!(body["current_state"], "approved", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(app.count("audit_events"), events + 1);
    let approvals = {
        let id = id.clone();
        app.db(move |c| {
            audit_events::table
                .filter(audit_events::entity_id.eq(id))
                .filter(audit_events::action.eq("agreement.approve"))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
    };
    assert_eq!(approvals, 1);
    let (_, a) = app
        .get(&w.inst_a.token, &format!("{AGREEMENTS}/{id}"))
        .await;
    assert_eq!(a["status"], "approved");
    assert_eq!(version_of(&a), 2);

    // The same race on signing by both sides at once: both count, exactly once each.
    let (r1, r2) = tokio::join!(
        app.act(&w.sme_a.token, &id, "sign", 2, json!({})),
        app.act(&w.inst_a.token, &id, "sign", 2, json!({})),
    );
    let statuses = [r1.0, r2.0];
    assert!(
        statuses.contains(&200) && statuses.contains(&412),
        "{r1:?} {r2:?}"
    );
}

/// POST /agreements with an optional `Idempotency-Key`.
async fn create_with_key(
    app: &TestApp,
    user: &User,
    key: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url(AGREEMENTS))
        .bearer_auth(&user.token)
        .json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    read(req.send().await.unwrap()).await
}

#[actix_web::test]
async fn idempotency_key_makes_requests_safe_to_retry() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let body = json!({"technology_id": w.tech_a, "place_of_use": "Xưởng Sa Đéc",
                      "message": "", "requested_start": "2026-03-10"});

    let (s1, first) = create_with_key(&app, &w.sme_a, Some("req-7f3a"), &body).await;
    assert_eq!(s1, 201, "{first}");
    let snap = app.snapshot();
    let (s2, again) = create_with_key(&app, &w.sme_a, Some("req-7f3a"), &body).await;
    assert_eq!(s2, 201, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["number"], first["number"]);
    assert_eq!(app.snapshot(), snap, "a replay writes nothing");
    assert_eq!(app.count("agreements"), 1);

    // The same key for a different request is refused, and writes nothing.
    let other = json!({"technology_id": w.tech_a, "place_of_use": "Xưởng Sa Đéc",
                       "message": "", "requested_start": "2026-03-11"});
    let (s, p) = create_with_key(&app, &w.sme_a, Some("req-7f3a"), &other).await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "Idempotency-Key");
    assert_eq!(app.snapshot(), snap);

    // Keys belong to the user: another SME's same key is its own request.
    let (s, theirs) = create_with_key(&app, &w.sme_b, Some("req-7f3a"), &body).await;
    assert_eq!(s, 201, "{theirs}");
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(theirs["sme_id"], w.sme_b.org);

    // A blank key is bad input.
    let (s, p) = create_with_key(&app, &w.sme_a, Some("   "), &body).await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "Idempotency-Key");

    // Without a key, each POST is a new agreement.
    let before = app.count("agreements");
    let (s, x) = create_with_key(&app, &w.sme_a, None, &body).await;
    assert_eq!(s, 201);
    let (s, y) = create_with_key(&app, &w.sme_a, None, &body).await;
    assert_eq!(s, 201);
    assert_ne!(x["id"], y["id"]);
    assert_eq!(app.count("agreements"), before + 2);

    // Concurrent retries under one key make one agreement; every answer that succeeds
    // names it. (On PostgreSQL the losers of the race get 409 today rather than the replay.)
    let before = app.count("agreements");
    let body2 = json!({"technology_id": w.tech_a, "place_of_use": "Xưởng Lai Vung",
                       "message": "", "requested_start": "2026-03-12"});
    let racing = (0..6).map(|_| create_with_key(&app, &w.sme_a, Some("race-1"), &body2));
    let answers = futures_util::future::join_all(racing).await;
    assert_eq!(app.count("agreements"), before + 1, "{answers:?}");
    let ids: std::collections::BTreeSet<&str> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, a)| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    for (s, a) in &answers {
        assert!(*s == 201 || *s == 409, "{s}: {a}");
    }

    // A failed request under a key does not burn the key.
    let bad = json!({"technology_id": w.tech_draft, "place_of_use": "X", "requested_start": "2026-03-10"});
    let (s, p) = create_with_key(&app, &w.sme_a, Some("retry-me"), &bad).await;
    assert_eq!(s, 422, "{p}");
    let (s, p) = create_with_key(&app, &w.sme_a, Some("retry-me"), &body).await;
    assert_eq!(s, 201, "{p}");
}

#[actix_web::test]
async fn agreement_numbers_are_sequential_and_unique() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let mut numbers = Vec::new();
    for (sme, tech) in [
        (&w.sme_a, &w.tech_a),
        (&w.sme_b, &w.tech_a),
        (&w.sme_a, &w.tech_b),
        (&w.sme_b, &w.tech_b),
        (&w.sme_a, &w.tech_a),
    ] {
        let a = app.request(sme, tech, "2026-03-20").await;
        numbers.push(a["number"].as_str().unwrap().to_string());
    }
    let expected: Vec<String> = (1..=5).map(|n| format!("UF-2026-{n:06}")).collect();
    assert_eq!(numbers, expected);
    for n in &numbers {
        let (prefix, rest) = n.split_at(3);
        assert_eq!(prefix, "UF-");
        let (year, seq) = rest.split_once('-').unwrap();
        assert!(
            year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()),
            "{n}"
        );
        assert!(
            seq.len() == 6 && seq.chars().all(|c| c.is_ascii_digit()),
            "{n}"
        );
    }
    // A refused request takes no number.
    let (s, _) = app
        .post(
            &w.sme_a.token,
            AGREEMENTS,
            json!({"technology_id": w.tech_draft,
            "place_of_use": "X", "requested_start": "2026-03-20"}),
        )
        .await;
    assert_eq!(s, 422);
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-20").await;
    assert_eq!(a["number"], "UF-2026-000006");

    // Concurrent requests still get distinct, gap-free numbers.
    let many = (0..6).map(|_| app.request(&w.sme_b, &w.tech_a, "2026-03-20"));
    let made = futures_util::future::join_all(many).await;
    let mut got: Vec<String> = made
        .iter()
        .map(|a| a["number"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let expected: Vec<String> = (7..=12).map(|n| format!("UF-2026-{n:06}")).collect();
    assert_eq!(got, expected);

    // The count starts again in a new (local) year: 2027-01-01 00:30 in Ho Chi Minh City
    // is still 2026 in UTC.
    set_local(&app, date("2027-01-01"), 0, 30, 0);
    let a = app.request(&w.sme_a, &w.tech_a, "2027-01-01").await;
    assert_eq!(a["number"], "UF-2027-000001");
}

#[actix_web::test]
async fn events_endpoint_lists_each_agreement_history_in_order() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // Two agreements interleaved: each history holds only its own events.
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    let b = app.request(&w.sme_b, &w.tech_a, "2026-03-04").await;
    let a = step(&app, &w.inst_a, &a, "approve", json!({})).await;
    let b = step(
        &app,
        &w.inst_a,
        &b,
        "reject",
        json!({"reason": "Hết suất dùng thử"}),
    )
    .await;
    let _a = step(&app, &w.sme_a, &a, "withdraw", json!({"reason": "Đổi ý"})).await;

    let (s, events) = app
        .get(
            &w.inst_a.token,
            &format!("{AGREEMENTS}/{}/events", id_of(&a)),
        )
        .await;
    assert_eq!(s, 200, "{events}");
    let events = events.as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "agreement.requested",
            "agreement.approve",
            "agreement.withdraw"
        ]
    );
    assert!(events.iter().all(|e| e["entity_id"] == id_of(&a).as_str()));
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{seqs:?}");
    assert_eq!(events[0]["actor_user_id"], w.sme_a.id);
    assert_eq!(events[1]["actor_user_id"], w.inst_a.id);
    assert_eq!(events[1]["actor_organisation_id"], w.inst_a.org);
    let withdraw: Value = serde_json::from_str(events[2]["data"].as_str().unwrap()).unwrap();
    assert_eq!(withdraw["after"]["status"], "withdrawn");
    assert_eq!(withdraw["after"]["reason"], "Đổi ý");
    assert_eq!(withdraw["before"]["version"], 2);

    assert_eq!(
        event_actions(&app, &w.sme_b.token, &id_of(&b)).await,
        ["agreement.requested", "agreement.reject"]
    );
    // sme_a cannot read sme_b's history.
    let (s, _) = app
        .get(
            &w.sme_a.token,
            &format!("{AGREEMENTS}/{}/events", id_of(&b)),
        )
        .await;
    assert_eq!(s, 404);
}
