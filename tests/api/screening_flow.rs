//! Screening before listing: an institute cannot list a technology itself; it submits it, an
//! admin returns it with a reason or lists it with the readiness level and a checklist all
//! yes; only then can SMEs see and request it. Every step is kept and audited.

use serde_json::{json, Value};

use crate::helpers::{assert_field_error, assert_problem, id_of, version_of, TestApp, World};

fn description(status: Option<&str>) -> Value {
    let mut body = json!({
        "title": {"vi": "Máy sấy lúa dùng trấu", "en": "Rice-husk paddy dryer"},
        "summary": {"vi": "Sấy lúa bằng nhiệt trấu.", "en": "Dries paddy with husk heat."},
        "field": "agriculture", "ip_type": "patent", "ip_reference": "VN 1-0042",
        "valuation": {"amount": "600000000", "currency": "VND"}
    });
    if let Some(s) = status {
        body["status"] = json!(s);
    }
    body
}

fn yes(note: Option<&str>) -> Value {
    json!({"ok": true, "note": note})
}

fn decision(outcome: &str, trl: Value, inventors_ok: bool, reason: &str) -> Value {
    json!({
        "outcome": outcome, "trl": trl,
        "checklist": {
            "rights_clear": yes(Some("Bằng độc quyền còn hiệu lực")),
            "inventors_agree": {"ok": inventors_ok},
            "valuation_basis": yes(None),
        },
        "notes": "Đã thử ở hai hợp tác xã", "reason": reason
    })
}

async fn post_matching(
    app: &TestApp,
    token: &str,
    path: &str,
    v: i64,
    body: Value,
) -> (u16, Value) {
    app.send_matching(reqwest::Method::POST, token, path, v, body)
        .await
}

/// Its institute replaces the technology's description (with `status`) at version `v`.
async fn put(app: &TestApp, token: &str, id: &str, v: i64, status: Option<&str>) -> (u16, Value) {
    let path = format!("/api/v1/technologies/{id}");
    app.send_matching(reqwest::Method::PUT, token, &path, v, description(status))
        .await
}

/// The technology's screening actions, answering (status, record).
async fn submit(app: &TestApp, token: &str, id: &str, v: i64) -> (u16, Value) {
    post_matching(
        app,
        token,
        &format!("/api/v1/technologies/{id}/screening"),
        v,
        json!({}),
    )
    .await
}

async fn decide(app: &TestApp, token: &str, id: &str, v: i64, body: Value) -> (u16, Value) {
    let path = format!("/api/v1/technologies/{id}/screening/decision");
    post_matching(app, token, &path, v, body).await
}

/// How many audit events of `action` the technology has.
fn audited(app: &TestApp, id: &str, action: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE entity_id = '{id}' AND action = '{action}'"
        ))
        .get_result::<N>(c)
        .unwrap()
        .n
    })
}

/// The terms of the world's `tech_a`, for the new technology.
async fn give_terms(app: &TestApp, w: &World, id: &str) {
    let terms = serde_json::to_value(crate::helpers::lump_sum_terms()).unwrap();
    let (s, body) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{id}/terms"),
            terms,
        )
        .await;
    assert_eq!(s, 201, "{body}");
}

/// Can `sme` see the technology, find it in the catalogue, and request it?
async fn sme_sees(app: &TestApp, w: &World, id: &str) -> (u16, bool, u16) {
    let (seen, _) = app
        .get(&w.sme_a.token, &format!("/api/v1/technologies/{id}"))
        .await;
    let (s, list) = app
        .get(&w.sme_a.token, "/api/v1/technologies?per_page=100")
        .await;
    assert_eq!(s, 200, "{list}");
    let found = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == id);
    let (requested, body) = app
        .post(&w.sme_a.token, "/api/v1/agreements", json!({
            "technology_id": id, "place_of_use": "Nhà máy Cao Lãnh", "requested_start": "2026-03-10"
        }))
        .await;
    if requested != 201 {
        assert_field_error(&body, "technology_id");
    }
    (seen, found, requested)
}

#[actix_web::test]
async fn institutes_list_only_through_screening() {
    let app = TestApp::spawn().await;
    let w = app.world().await;

    // Listing directly is refused, on creation and on an edit, naming `status`.
    let before = app.snapshot();
    let (s, body) = app
        .post(
            &w.inst_a.token,
            "/api/v1/technologies",
            description(Some("listed")),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_field_error(&body, "status");
    assert!(body.to_string().contains("screening"), "{body}");
    for status in ["in_screening", "returned"] {
        let (s, body) = app
            .post(
                &w.inst_a.token,
                "/api/v1/technologies",
                description(Some(status)),
            )
            .await;
        assert_eq!(s, 422, "{status}: {body}");
        assert_field_error(&body, "status");
    }
    assert_eq!(app.snapshot(), before);
    let (s, t) = app
        .post(&w.inst_a.token, "/api/v1/technologies", description(None))
        .await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["status"], "draft");
    let id = id_of(&t);
    give_terms(&app, &w, &id).await;
    let (s, body) = put(&app, &w.inst_a.token, &id, 1, Some("listed")).await;
    assert_eq!(s, 422, "{body}");
    assert_field_error(&body, "status");

    // A draft: not the SME's to see, find or request.
    assert_eq!(sme_sees(&app, &w, &id).await, (404, false, 422));

    // Submitted: in screening, still hidden from SMEs; a stale version is 412, the reviewer's
    // queue shows it, and the institute can neither submit again nor edit it meanwhile.
    let (s, body) = submit(&app, &w.inst_a.token, &id, 7).await;
    assert_eq!(s, 412, "{body}");
    let (s, body) = submit(&app, &w.sme_a.token, &id, 1).await;
    assert_eq!(s, 404, "{body}");
    let (s, rec) = submit(&app, &w.inst_a.token, &id, 1).await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["status"], "in_screening");
    assert_eq!(rec["version"], 2);
    assert_eq!(rec["screenings"].as_array().unwrap().len(), 1);
    assert!(rec["screenings"][0]["outcome"].is_null());
    assert_eq!(sme_sees(&app, &w, &id).await, (404, false, 422));
    let (s, body) = submit(&app, &w.inst_a.token, &id, 2).await;
    assert_eq!(s, 409, "{body}");
    let (s, body) = put(&app, &w.inst_a.token, &id, 2, None).await;
    assert_eq!(s, 409, "{body}");
    for (user, want) in [
        (&w.admin, 200),
        (&w.auditor, 200),
        (&w.inst_a, 404),
        (&w.sme_a, 404),
    ] {
        let (s, queue) = app.get(&user.token, "/api/v1/screening/queue").await;
        assert_eq!(s, want, "{}: {queue}", user.email);
        if s == 200 {
            let ids: Vec<&Value> = queue
                .as_array()
                .unwrap()
                .iter()
                .map(|q| &q["technology"]["id"])
                .collect();
            assert_eq!(ids, [&json!(id)]);
        }
    }

    // Only admins decide; bad findings are 422 naming each field, and change nothing.
    let (s, body) = decide(
        &app,
        &w.inst_a.token,
        &id,
        2,
        decision("list", json!(6), true, ""),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    let (s, body) = decide(
        &app,
        &w.sme_a.token,
        &id,
        2,
        decision("list", json!(6), true, ""),
    )
    .await;
    assert_eq!(s, 404, "{body}");
    let before = app.snapshot();
    let (s, body) = decide(
        &app,
        &w.admin.token,
        &id,
        2,
        decision("list", json!(6), false, ""),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_field_error(&body, "checklist.inventors_agree.ok");
    let (s, body) = decide(
        &app,
        &w.admin.token,
        &id,
        2,
        decision("return", json!(10), true, " "),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_field_error(&body, "trl");
    assert_field_error(&body, "reason");
    let (s, body) = decide(
        &app,
        &w.admin.token,
        &id,
        2,
        decision("publish", json!(3), true, ""),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_field_error(&body, "outcome");
    assert_eq!(app.snapshot(), before);

    // Returned with its reason (an item may be no), still hidden; edited, then submitted again.
    let (s, rec) = decide(
        &app,
        &w.admin.token,
        &id,
        2,
        decision(
            "return",
            json!(4),
            false,
            "Thiếu văn bản đồng ý của nhóm tác giả",
        ),
    )
    .await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["status"], "returned");
    assert!(rec["trl"].is_null());
    let first = &rec["screenings"][0];
    assert_eq!(first["outcome"], "returned");
    assert_eq!(first["reason"], "Thiếu văn bản đồng ý của nhóm tác giả");
    assert_eq!(first["trl"], 4);
    assert_eq!(first["checklist"]["inventors_agree"]["ok"], false);
    assert_eq!(
        first["checklist"]["rights_clear"]["note"],
        "Bằng độc quyền còn hiệu lực"
    );
    assert_eq!(first["decided_by"], json!(w.admin.id));
    assert_eq!(sme_sees(&app, &w, &id).await, (404, false, 422));
    let (s, body) = decide(
        &app,
        &w.admin.token,
        &id,
        3,
        decision("list", json!(6), true, ""),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_problem(&body, "invalid-transition");
    let (s, t) = put(&app, &w.inst_a.token, &id, 3, None).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["status"], "draft");
    let (_, rec) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{id}/screening"),
        )
        .await;
    assert_eq!(rec["status"], "returned", "{rec}");
    let (s, rec) = submit(&app, &w.inst_a.token, &id, version_of(&t)).await;
    assert_eq!(s, 200, "{rec}");

    // Listed: every item yes and a readiness level; now the SME sees and requests it.
    let v = version_of(&rec);
    let (s, rec) = decide(
        &app,
        &w.admin.token,
        &id,
        v,
        decision("list", json!(6), true, ""),
    )
    .await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["status"], "listed");
    assert_eq!(rec["trl"], 6);
    let history = rec["screenings"].as_array().unwrap();
    let outcomes: Vec<&Value> = history.iter().map(|h| &h["outcome"]).collect();
    assert_eq!(outcomes, [&json!("listed"), &json!("returned")]);
    assert_eq!(sme_sees(&app, &w, &id).await, (200, true, 201));
    let (s, queue) = app.get(&w.admin.token, "/api/v1/screening/queue").await;
    assert_eq!((s, queue), (200, json!([])));

    // The history is for the institute and the supervisors, not for SMEs or other institutes.
    for (user, want) in [
        (&w.inst_a, 200),
        (&w.admin, 200),
        (&w.auditor, 200),
        (&w.inst_b, 404),
        (&w.sme_a, 404),
    ] {
        let (s, body) = app
            .get(&user.token, &format!("/api/v1/technologies/{id}/screening"))
            .await;
        assert_eq!(s, want, "{}: {body}", user.email);
    }
    // A listed technology stays listed only as it was screened: saving the same description
    // keeps it listed; a changed one is refused on `status` and changes nothing.
    let path = format!("/api/v1/technologies/{id}");
    let (_, t) = app.get(&w.inst_a.token, &path).await;
    let (s, t) = put(&app, &w.inst_a.token, &id, version_of(&t), Some("listed")).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["status"], "listed");
    let mut changed = description(Some("listed"));
    changed["summary"]["en"] = json!("Dries paddy and maize with husk heat.");
    let before = app.snapshot();
    let (s, body) = app
        .send_matching(
            reqwest::Method::PUT,
            &w.inst_a.token,
            &path,
            version_of(&t),
            changed,
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_field_error(&body, "status");
    assert!(body.to_string().contains("screening again"), "{body}");
    assert_eq!(app.snapshot(), before);
    let (s, seen) = app.get(&w.sme_a.token, &path).await;
    assert_eq!(s, 200, "{seen}");
    assert_eq!(
        (&seen["summary"]["en"], &seen["version"]),
        (&t["summary"]["en"], &t["version"])
    );

    // Listed technologies can be withdrawn by their institute, and listed again only
    // through a new screening.
    let (_, t) = app
        .get(&w.inst_a.token, &format!("/api/v1/technologies/{id}"))
        .await;
    let (s, t) = put(
        &app,
        &w.inst_a.token,
        &id,
        version_of(&t),
        Some("withdrawn"),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["status"], "withdrawn");
    let (s, body) = app
        .get(&w.sme_a.token, &format!("/api/v1/technologies/{id}"))
        .await;
    assert_eq!(s, 404, "{body}");

    // Every step is in the audit chain, and the chain holds.
    assert_eq!(audited(&app, &id, "technology.screening_submitted"), 2);
    assert_eq!(audited(&app, &id, "technology.screening_returned"), 1);
    assert_eq!(audited(&app, &id, "technology.screening_listed"), 1);
    let (s, chain) = app.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!(s, 200, "{chain}");
    assert_eq!(chain["ok"], true, "{chain}");
}
