//! The audit hash chain: `GET /audit/verify` for supervisors only, tampering (altered,
//! deleted, re-hashed and truncated events) named at the first broken link by both the
//! endpoint and the library function the `verify-audit` command uses, and exactly one event
//! per state change (none for a refused request).

use diesel::prelude::*;
use serde_json::{json, Value};
use usefirst::audit::Verification;
use usefirst::db::schema::audit_events;

use crate::helpers::*;

const VERIFY: &str = "/api/v1/audit/verify";

fn path(id: &str) -> String {
    format!("/api/v1/agreements/{id}")
}

/// A world and a few lifecycles: a conversion, a rejection and a lapse, so the chain
/// holds user and scheduler events of several agreements interleaved.
async fn world_with_history(app: &TestApp) -> World {
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let lapsing = app.signed_agreement(&w).await;
    let r = app.request(&w.sme_b, &w.tech_a, "2026-03-05").await;
    let (s, body) = app
        .act(
            &w.inst_a.token,
            &id_of(&r),
            "reject",
            1,
            json!({"reason": "Hết suất"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    app.pass_days(1);
    let (_, a) = app.get(&w.sme_a.token, &path(&id_of(&a))).await;
    assert_eq!(a["status"], "active");
    let (s, body) = app
        .act(
            &w.sme_a.token,
            &id_of(&a),
            "convert",
            version_of(&a),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    app.pass_days(130);
    let (_, l) = app.get(&w.sme_a.token, &path(&id_of(&lapsing))).await;
    assert_eq!(l["status"], "lapsed");
    w
}

/// The library's verdict, as `usefirst verify-audit` prints it.
fn library_verify(app: &TestApp) -> Verification {
    app.db(|c| usefirst::audit::verify(c).unwrap())
}

async fn http_verify(app: &TestApp, user: &User) -> Value {
    let (s, v) = app.get(&user.token, VERIFY).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn exec(app: &TestApp, sql: &str) -> usize {
    app.db(|c| diesel::sql_query(sql).execute(c).unwrap())
}

fn hash_of(app: &TestApp, seq: i64) -> String {
    app.db(|c| {
        audit_events::table
            .find(seq)
            .select(audit_events::hash)
            .first::<String>(c)
            .unwrap()
    })
}

#[actix_web::test]
async fn verify_is_ok_after_a_lifecycle_and_only_for_supervisors() {
    let app = TestApp::spawn_long_sessions().await;
    let w = world_with_history(&app).await;
    let events = app.count("audit_events");
    assert!(
        events > 20,
        "the fixture should leave a real chain, got {events}"
    );

    for user in [&w.admin, &w.auditor] {
        let v = http_verify(&app, user).await;
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["events_checked"], events, "{v}");
        assert!(v["first_broken"].is_null(), "{v}");
        assert_eq!(v["head_hash"], hash_of(&app, events), "{v}");
    }
    let lib = library_verify(&app);
    assert!(lib.ok);
    assert_eq!(lib.events_checked, events);
    assert_eq!(lib.head_hash, hash_of(&app, events));
    assert!(lib.first_broken.is_none());

    // The chain links: each event's prev_hash is the hash before it, from the genesis.
    let chain: Vec<(i64, String, String)> = app.db(|c| {
        audit_events::table
            .order(audit_events::seq.asc())
            .select((
                audit_events::seq,
                audit_events::prev_hash,
                audit_events::hash,
            ))
            .load(c)
            .unwrap()
    });
    assert_eq!(chain[0].1, usefirst::audit::GENESIS);
    for (i, pair) in chain.windows(2).enumerate() {
        assert_eq!(pair[0].0, i as i64 + 1);
        assert_eq!(pair[1].1, pair[0].2, "link {}", pair[1].0);
    }

    // Parties, insurers and strangers do not learn the endpoint exists.
    for user in [
        &w.inst_a,
        &w.inst_b,
        &w.sme_a,
        &w.sme_b,
        &w.insurer_a,
        &w.insurer_b,
    ] {
        let (s, body) = app.get(&user.token, VERIFY).await;
        assert_eq!(s, 404, "{}: {body}", user.email);
        assert_eq!(body["type"], "urn:usefirst:problem:not-found");
    }
    let res = app.client.get(app.url(VERIFY)).send().await.unwrap();
    assert_eq!(res.status(), 401);
    // Verifying reads only.
    assert_eq!(app.count("audit_events"), events);
}

/// Builds a history on a fresh app, applies `tamper` to event `victim(total)`, and returns
/// the victim's seq with the endpoint's and the library's verdicts (which must agree).
async fn tampered(
    victim: impl Fn(i64) -> i64,
    tamper: impl Fn(i64) -> String,
) -> (i64, i64, Value) {
    let app = TestApp::spawn_long_sessions().await;
    let w = world_with_history(&app).await;
    let total = app.count("audit_events");
    let seq = victim(total);
    assert_eq!(
        exec(&app, &tamper(seq)),
        1,
        "the tampering statement hit one row"
    );
    let v = http_verify(&app, &w.auditor).await;
    assert_eq!(v["ok"], false, "{v}");
    let broken = v["first_broken"]["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("{v}"));
    assert!(!v["first_broken"]["reason"].as_str().unwrap().is_empty());
    let lib = library_verify(&app);
    assert!(!lib.ok);
    let lib_broken = lib.first_broken.clone().expect("library names a link");
    assert_eq!(lib_broken.seq, broken, "library and endpoint agree");
    assert_eq!(
        lib_broken.reason,
        v["first_broken"]["reason"].as_str().unwrap()
    );
    assert_eq!(lib.events_checked, v["events_checked"].as_i64().unwrap());
    assert_eq!(v, http_verify(&app, &w.admin).await);
    (seq, total, v)
}

#[actix_web::test]
async fn altered_event_data_is_named() {
    let (seq, _, v) = tampered(
        |n| n / 2,
        |seq| {
            format!(
                "UPDATE audit_events SET data = '{{\"after\":{{\"status\":\"converted\"}}}}' WHERE seq = {seq}"
            )
        },
    )
    .await;
    assert_eq!(v["first_broken"]["seq"], seq, "{v}");
    assert_eq!(v["events_checked"], seq - 1, "{v}");
    assert!(
        v["first_broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("altered"),
        "{v}"
    );
}

#[actix_web::test]
async fn altered_event_action_is_named() {
    let (seq, _, v) = tampered(
        |n| n / 3,
        |seq| format!("UPDATE audit_events SET action = 'agreement.convert' WHERE seq = {seq}"),
    )
    .await;
    assert_eq!(v["first_broken"]["seq"], seq, "{v}");
}

#[actix_web::test]
async fn deleted_event_is_named() {
    let (seq, _, v) = tampered(
        |n| n / 2,
        |seq| format!("DELETE FROM audit_events WHERE seq = {seq}"),
    )
    .await;
    assert_eq!(v["first_broken"]["seq"], seq, "{v}");
    assert_eq!(v["events_checked"], seq - 1, "{v}");
    assert!(
        v["first_broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("missing"),
        "{v}"
    );
}

#[actix_web::test]
async fn altered_hash_is_named() {
    let (seq, _, v) = tampered(
        |n| n / 2,
        |seq| {
            format!(
                "UPDATE audit_events SET hash = '{}' WHERE seq = {seq}",
                "ab".repeat(32)
            )
        },
    )
    .await;
    let named = v["first_broken"]["seq"].as_i64().unwrap();
    assert!(
        named == seq || named == seq + 1,
        "named {named} for a re-hashed {seq}: {v}"
    );
}

#[actix_web::test]
async fn truncated_tail_is_named() {
    let (seq, total, v) = tampered(
        |n| n,
        |seq| format!("DELETE FROM audit_events WHERE seq = {seq}"),
    )
    .await;
    assert_eq!(seq, total);
    assert_eq!(v["first_broken"]["seq"], total, "{v}");
    assert_eq!(v["events_checked"], total - 1, "{v}");
}

#[actix_web::test]
async fn every_state_change_appends_exactly_one_event() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let events = || app.count("audit_events");

    // A change: exactly one event, about this agreement, with this action.
    macro_rules! changes {
        ($what:expr, $action:expr, $id:expr) => {{
            let before = events();
            let out = $what;
            assert_eq!(events(), before + 1, "{} appends one event", $action);
            let last: (String, String) = app.db(|c| {
                audit_events::table
                    .order(audit_events::seq.desc())
                    .select((audit_events::action, audit_events::entity_id))
                    .first(c)
                    .unwrap()
            });
            assert_eq!(last.0, $action);
            if let Some(id) = $id {
                assert_eq!(last.1, id);
            }
            out
        }};
    }
    // A refusal: no event, no other row.
    macro_rules! refused {
        ($what:expr, $status:expr) => {{
            let snap = app.snapshot();
            let (s, body): (u16, Value) = $what;
            assert_eq!(s, $status, "{body}");
            assert_eq!(
                app.snapshot(),
                snap,
                "a refused request writes nothing: {body}"
            );
        }};
    }

    let a = changes!(
        app.request(&w.sme_a, &w.tech_a, "2026-03-03").await,
        "agreement.requested",
        None::<String>
    );
    let id = id_of(&a);
    refused!(
        app.post(
            &w.sme_a.token,
            "/api/v1/agreements",
            json!({"technology_id": w.tech_a,
            "place_of_use": "", "requested_start": "2026-03-03"})
        )
        .await,
        422
    );
    refused!(
        app.post(
            &w.inst_a.token,
            "/api/v1/agreements",
            json!({"technology_id": w.tech_a,
            "place_of_use": "X", "requested_start": "2026-03-03"})
        )
        .await,
        403
    );
    refused!(
        app.act(&w.sme_a.token, &id, "approve", 1, json!({})).await,
        403
    );
    refused!(
        app.act(&w.inst_a.token, &id, "approve", 9, json!({})).await,
        412
    );
    refused!(
        app.act(&w.inst_a.token, &id, "sign", 1, json!({})).await,
        409
    );
    refused!(
        app.act(&w.inst_b.token, &id, "approve", 1, json!({})).await,
        404
    );
    refused!(
        app.act(&w.inst_a.token, &id, "reject", 1, json!({})).await,
        422
    );
    refused!(
        app.act(
            &w.inst_a.token,
            &id,
            "approve",
            1,
            json!({"trial_start": "2025-01-01"})
        )
        .await,
        422
    );

    let a = changes!(
        app.act(&w.inst_a.token, &id, "approve", 1, json!({}))
            .await
            .1,
        "agreement.approve",
        Some(id.clone())
    );
    assert_eq!(version_of(&a), 2);
    let a = changes!(
        app.act(&w.sme_a.token, &id, "sign", 2, json!({})).await.1,
        "agreement.sign",
        Some(id.clone())
    );
    refused!(
        app.act(&w.sme_a.token, &id, "sign", 3, json!({})).await,
        409
    );
    let a = changes!(
        app.act(&w.inst_a.token, &id, "sign", version_of(&a), json!({}))
            .await
            .1,
        "agreement.sign",
        Some(id.clone())
    );
    assert_eq!(a["status"], "signed");

    // Time-driven steps: one event each, none when nothing is due.
    let before = events();
    assert_eq!(app.advance(), 0);
    assert_eq!(events(), before);
    changes!(app.pass_days(1), "agreement.start", Some(id.clone()));
    let before = events();
    app.advance();
    app.advance();
    assert_eq!(events(), before);

    let (_, a) = app.get(&w.inst_a.token, &path(&id)).await;
    let v = version_of(&a);
    refused!(
        app.act(&w.inst_a.token, &id, "extend", v, json!({"days": 0}))
            .await,
        422
    );
    let a = changes!(
        app.act(&w.inst_a.token, &id, "extend", v, json!({"days": 30}))
            .await
            .1,
        "agreement.extend",
        Some(id.clone())
    );
    refused!(
        app.act(
            &w.inst_a.token,
            &id,
            "extend",
            version_of(&a),
            json!({"days": 30})
        )
        .await,
        409
    );
    refused!(
        app.act(&w.inst_a.token, &id, "terminate", version_of(&a), json!({}))
            .await,
        422
    );
    // Reads append nothing.
    let before = events();
    app.get(&w.sme_a.token, &path(&id)).await;
    app.get(&w.sme_a.token, &format!("{}/events", path(&id)))
        .await;
    app.get(&w.auditor.token, VERIFY).await;
    assert_eq!(events(), before);
    let a = changes!(
        app.act(&w.sme_a.token, &id, "convert", version_of(&a), json!({}))
            .await
            .1,
        "agreement.convert",
        Some(id.clone())
    );
    assert_eq!(a["status"], "converted");
    refused!(
        app.act(&w.sme_a.token, &id, "decline", version_of(&a), json!({}))
            .await,
        409
    );

    // The agreement's history: one event per change, and the chain still holds.
    let (_, history) = app
        .get(&w.sme_a.token, &format!("{}/events", path(&id)))
        .await;
    assert_eq!(history.as_array().unwrap().len() as i64, version_of(&a));
    let lib = library_verify(&app);
    assert!(lib.ok, "{:?}", lib.first_broken);
    assert_eq!(lib.events_checked, events());
}

/// A verification running while other requests append events must not report a break:
/// the walk stops at the head it read, so appends committed meanwhile are not "extra" links.
#[actix_web::test]
async fn verify_during_concurrent_appends_is_not_a_false_alarm() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let db = app.state.db.clone();
    let now = app.clock.now();
    // Stand-in for busy users: appends through the same function every change uses.
    let writer = std::thread::spawn(move || {
        for i in 0..400 {
            db.write(|c| {
                usefirst::audit::append(
                    c,
                    now,
                    usefirst::audit::Who::SYSTEM,
                    "test.tick",
                    "test",
                    &i.to_string(),
                    &json!({"i": i}),
                )
                .map_err(usefirst::error::AppError::from)
            })
            .unwrap();
            std::thread::sleep(std::time::Duration::from_micros(300));
        }
    });
    let mut false_alarms = Vec::new();
    while !writer.is_finished() {
        let lib = library_verify(&app);
        if !lib.ok {
            false_alarms.push(format!("library: {:?}", lib.first_broken));
        }
        let v = http_verify(&app, &w.auditor).await;
        if v["ok"] != true {
            false_alarms.push(format!("endpoint: {}", v["first_broken"]));
        }
    }
    writer.join().unwrap();
    assert!(
        false_alarms.is_empty(),
        "{} false alarms, e.g. {:?}",
        false_alarms.len(),
        false_alarms.first()
    );
    assert!(library_verify(&app).ok);
}
