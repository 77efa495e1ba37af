//! Demands through the API: an SME posts a need, institutes see it matched to their
//! technologies with the reasons, one proposes, the SME is mailed and requests the trial
//! from the proposal in one step, which closes the need. Bad input, stale versions, who may
//! see what, and search in Vietnamese without accents and in Chinese.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

pub(crate) fn need(title: &str) -> Value {
    json!({
        "title": title,
        "description": "Hợp tác xã cần máy sấy rơm rạ và nông sản sau thu hoạch, công suất 2 tấn/ngày.",
        "sector": "agriculture", "province": "Đồng Tháp",
        "budget": {"currency": "VND", "min": "100000000", "max": "300000000"},
        "wanted_by": "2026-06-30", "visibility": "public"
    })
}

pub(crate) async fn post_need(app: &TestApp, sme: &User, body: Value) -> Value {
    let (s, d) = app.post(&sme.token, "/api/v1/demands", body).await;
    assert_eq!(s, 201, "{d}");
    d
}

async fn ids(app: &TestApp, user: &User, query: &str) -> Vec<String> {
    let (s, body) = app
        .get(&user.token, &format!("/api/v1/demands?{query}"))
        .await;
    assert_eq!(s, 200, "{query}: {body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

/// (kind, locale, subject, body) of each outbox row to `email`.
fn mail_to(app: &TestApp, email: &str) -> Vec<(String, String, String, String)> {
    use diesel::prelude::*;
    use usefirst::db::schema::outbox::dsl::*;
    app.db(|c| {
        outbox
            .filter(recipient_email.eq(email))
            .order(created_at)
            .select((kind, locale, subject, body))
            .load(c)
            .unwrap()
    })
}

/// Institute A's listed straw dryer, a lump sum of 150,000,000 VND.
fn dryer(app: &TestApp, w: &World) -> String {
    app.add_technology(
        &w.inst_a,
        "máy sấy rơm rạ",
        "agriculture",
        "listed",
        lump_sum_terms(),
    )
}

#[actix_web::test]
async fn a_need_is_matched_proposed_to_and_a_trial_requested_from_the_proposal_closes_it() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let dryer = dryer(&app, &w);
    let d = post_need(&app, &w.sme_a, need("Máy sấy rơm rạ cho hợp tác xã")).await;
    let id = id_of(&d);
    assert_eq!(d["status"], "open");
    assert_eq!(d["version"], 1);
    assert_eq!(
        d["budget"],
        json!({"currency": "VND", "min": "100000000", "max": "300000000"})
    );

    // The institute sees it, matched to its dryer first, with the reasons in facts.
    let (s, found) = app.get(&w.inst_a.token, "/api/v1/demands/matches").await;
    assert_eq!(s, 200, "{found}");
    let m = &found[0];
    assert_eq!(m["demand"]["id"], id.as_str(), "{found}");
    let best = &m["matches"][0];
    assert_eq!(best["technology_id"], dryer.as_str(), "{found}");
    assert_eq!(best["reasons"]["same_sector"], true);
    assert_eq!(best["reasons"]["same_province"], true);
    assert_eq!(best["reasons"]["price_fit"], "within", "{found}");
    assert_eq!(
        best["price"],
        json!({"amount": "150000000", "currency": "VND"})
    );
    let shared: Vec<&str> = best["reasons"]["shared_words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    for word in ["may", "say", "rom"] {
        assert!(shared.contains(&word), "{word}: {shared:?}");
    }
    assert_eq!(best["proposed"], false);
    // Its other listed technology in the same field matches too, after the dryer.
    assert_eq!(
        m["matches"][1]["technology_id"],
        w.tech_a.as_str(),
        "{found}"
    );
    assert!(best["weight"].as_u64() > m["matches"][1]["weight"].as_u64());
    // The other institute's technology is in the field too, but priced in dollars: said so.
    let (_, other) = app.get(&w.inst_b.token, "/api/v1/demands/matches").await;
    assert_eq!(
        other[0]["matches"][0]["technology_id"],
        w.tech_b.as_str(),
        "{other}"
    );
    assert_eq!(
        other[0]["matches"][0]["reasons"]["price_fit"],
        "other_currency"
    );
    assert_eq!(other[0]["matches"][0]["reasons"]["same_province"], false);

    // It proposes another institute's technology: refused, field named; its draft too.
    let path = format!("/api/v1/demands/{id}/proposals");
    for (tech, message) in [(&w.tech_b, "Mời dùng thử"), (&w.tech_draft, "Mời dùng thử")]
    {
        let (s, body) = app
            .post(
                &w.inst_a.token,
                &path,
                json!({"technology_id": tech, "message": message}),
            )
            .await;
        assert_eq!(s, 422, "{body}");
        assert_field_error(&body, "technology_id");
    }
    let (s, body) = app
        .post(
            &w.inst_a.token,
            &path,
            json!({"technology_id": dryer, "message": "  "}),
        )
        .await;
    assert_eq!(s, 422);
    assert_field_error(&body, "message");
    let (s, p) = app
        .post(
            &w.inst_a.token,
            &path,
            json!({"technology_id": dryer, "message": "Máy đã chạy ở ba hợp tác xã."}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["status"], "proposed");
    let (s, body) = app
        .post(
            &w.inst_a.token,
            &path,
            json!({"technology_id": dryer, "message": "Lần nữa"}),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    // The SME's users are mailed, in their language.
    let mails = mail_to(&app, &w.sme_a.email);
    let (kind, locale, subject, body) = mails.last().unwrap();
    assert_eq!(kind, "demand_proposal");
    assert_eq!(locale, "vi");
    assert!(
        subject.contains("Máy sấy rơm rạ cho hợp tác xã"),
        "{subject}"
    );
    assert!(
        body.contains("Tổ chức inst_a") && body.contains("Công nghệ máy sấy rơm rạ"),
        "{body}"
    );
    assert!(body.contains(&format!("/demands/{id}")), "{body}");
    // The match now says it was proposed.
    let (_, found) = app.get(&w.inst_a.token, "/api/v1/demands/matches").await;
    assert_eq!(found[0]["matches"][0]["proposed"], true, "{found}");

    // The SME sees the proposal, and requests the trial from it in one step.
    let (s, list) = app.get(&w.sme_a.token, &path).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let request = format!("{path}/{}/request", id_of(&p));
    let (s, body) = app
        .post(
            &w.sme_a.token,
            &request,
            json!({"place_of_use": "", "requested_start": "2026-02-01"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_field_error(&body, "place_of_use");
    let (s, body) = app
        .post(
            &w.sme_a.token,
            &request,
            json!({"place_of_use": "Kho Cao Lãnh", "requested_start": "2026-01-01"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_field_error(&body, "requested_start");
    let before = app.count("agreements");
    let (s, agreement) = app
        .post(
            &w.sme_a.token,
            &request,
            json!({"place_of_use": "Kho Cao Lãnh", "message": "Xin dùng thử", "requested_start": "2026-04-01"}),
        )
        .await;
    assert_eq!(s, 201, "{agreement}");
    assert_eq!(app.count("agreements"), before + 1);
    assert_eq!(agreement["status"], "requested");
    assert_eq!(agreement["technology_id"], dryer.as_str());
    let (_, d) = app
        .get(&w.sme_a.token, &format!("/api/v1/demands/{id}"))
        .await;
    assert_eq!(d["status"], "closed", "{d}");
    assert_eq!(d["closed_reason"], "trial");
    assert_eq!(d["agreement_id"], agreement["id"]);
    let (_, list) = app.get(&w.sme_a.token, &path).await;
    assert_eq!(list[0]["status"], "requested");
    assert_eq!(list[0]["agreement_id"], agreement["id"]);
    // Once: a second request from it, or a closing, is refused; nothing more is written.
    let before = app.snapshot();
    let (s, body) = app
        .post(
            &w.sme_a.token,
            &request,
            json!({"place_of_use": "Kho", "requested_start": "2026-04-01"}),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    let (s, _) = app
        .send_matching(
            Method::POST,
            &w.sme_a.token,
            &format!("/api/v1/demands/{id}/close"),
            2,
            json!({}),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(app.snapshot(), before);
    // The institute that proposed still sees the closed need; the other one no longer does.
    let (s, _) = app
        .get(&w.inst_a.token, &format!("/api/v1/demands/{id}"))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .get(&w.inst_b.token, &format!("/api/v1/demands/{id}"))
        .await;
    assert_eq!(s, 404);
    // Every step is in the audit chain.
    let actions: Vec<String> = app.db(|c| {
        use diesel::prelude::*;
        use usefirst::db::schema::audit_events::dsl::*;
        audit_events
            .filter(entity_type.eq("demand").and(entity_id.eq(&id)))
            .order(seq)
            .select(action)
            .load(c)
            .unwrap()
    });
    for action in [
        "demand.created",
        "demand.proposed",
        "demand.trial_requested",
        "demand.closed",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

#[actix_web::test]
async fn bad_input_names_each_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let before = app.count("demands");
    let cases: Vec<(Value, &str)> = vec![
        (json!({"title": " "}), "title"),
        (json!({"description": ""}), "description"),
        (json!({"sector": ""}), "sector"),
        (json!({"province": ""}), "province"),
        (
            json!({"budget": {"currency": "XYZ", "min": "1", "max": "2"}}),
            "budget.currency",
        ),
        (
            json!({"budget": {"currency": "VND", "min": "abc", "max": "2"}}),
            "budget.min",
        ),
        (
            json!({"budget": {"currency": "VND", "min": "300", "max": "200"}}),
            "budget.max",
        ),
        (
            json!({"budget": {"currency": "USD", "min": "1.005", "max": "2"}}),
            "budget.min",
        ),
        (json!({"wanted_by": "2026-03-01"}), "wanted_by"),
        (json!({"wanted_by": "30/06/2026"}), "wanted_by"),
        (json!({"visibility": "secret"}), "visibility"),
        (json!({"visibility": "invited"}), "invited_institute_ids"),
        (
            json!({"visibility": "invited", "invited_institute_ids": [w.sme_b.org]}),
            "invited_institute_ids",
        ),
    ];
    for (change, field) in cases {
        let mut body = need("Máy sấy");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, problem) = app.post(&w.sme_a.token, "/api/v1/demands", body).await;
        assert_eq!(s, 422, "{field}: {problem}");
        assert_field_error(&problem, field);
    }
    // Several faults at once: each named.
    let (s, problem) = app
        .post(
            &w.sme_a.token,
            "/api/v1/demands",
            json!({
            "title": "", "description": "", "sector": "x", "province": "y",
            "budget": {"currency": "VND", "min": "5", "max": "1"}, "wanted_by": "2020-01-01"}),
        )
        .await;
    assert_eq!(s, 422);
    for field in ["title", "description", "budget.max", "wanted_by"] {
        assert_field_error(&problem, field);
    }
    // Only SMEs post.
    let (s, _) = app
        .post(&w.inst_a.token, "/api/v1/demands", need("Máy sấy"))
        .await;
    assert_eq!(s, 403);
    assert_eq!(app.count("demands"), before);

    // Edits: If-Match required, stale refused, bad input refused, nothing changed.
    let d = post_need(&app, &w.sme_a, need("Máy sấy")).await;
    let path = format!("/api/v1/demands/{}", id_of(&d));
    let res = app
        .client
        .put(app.url(&path))
        .bearer_auth(&w.sme_a.token)
        .json(&need("Lò sấy"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 428);
    let (s, _) = app
        .send_matching(Method::PUT, &w.sme_a.token, &path, 7, need("Lò sấy"))
        .await;
    assert_eq!(s, 412);
    let mut bad = need("Lò sấy");
    bad["budget"]["max"] = json!("1");
    let (s, problem) = app
        .send_matching(Method::PUT, &w.sme_a.token, &path, 1, bad)
        .await;
    assert_eq!(s, 422);
    assert_field_error(&problem, "budget.max");
    let (s, edited) = app
        .send_matching(Method::PUT, &w.sme_a.token, &path, 1, need("Lò sấy cà phê"))
        .await;
    assert_eq!(s, 200, "{edited}");
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["title"], "Lò sấy cà phê");
    // The owner closes it; then it cannot be changed.
    let close = format!("{path}/close");
    let (s, _) = app
        .send_matching(Method::POST, &w.sme_a.token, &close, 1, json!({}))
        .await;
    assert_eq!(s, 412);
    let (s, closed) = app
        .send_matching(Method::POST, &w.sme_a.token, &close, 2, json!({}))
        .await;
    assert_eq!(s, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_reason"], "owner");
    let (s, _) = app
        .send_matching(Method::PUT, &w.sme_a.token, &path, 3, need("Lò sấy"))
        .await;
    assert_eq!(s, 409);
    let (s, _) = app
        .post(
            &w.inst_a.token,
            &format!("{path}/proposals"),
            json!({"technology_id": w.tech_a, "message": "x"}),
        )
        .await;
    assert_eq!(
        s, 404,
        "a closed need is no longer shown to institutes that did not propose"
    );
}

#[actix_web::test]
async fn each_role_sees_what_it_may_and_nothing_else() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let public = id_of(&post_need(&app, &w.sme_a, need("Máy sấy công khai")).await);
    let mut body = need("Máy sấy mời riêng");
    body["visibility"] = json!("invited");
    body["invited_institute_ids"] = json!([w.inst_a.org]);
    let invited = post_need(&app, &w.sme_a, body).await;
    assert_eq!(invited["invited_institute_ids"], json!([w.inst_a.org]));
    let invited = id_of(&invited);
    // Posted at the same instant: in the order they were posted.
    let (all, only_public) = (vec![public.clone(), invited.clone()], vec![public.clone()]);
    // (user, list, may read the invited one)
    for (user, listed, reads_invited) in [
        (&w.sme_a, all.clone(), true),
        (&w.admin, all.clone(), true),
        (&w.auditor, all.clone(), true),
        (&w.inst_a, all.clone(), true),
        (&w.inst_b, only_public.clone(), false),
        (&w.sme_b, vec![], false),
        (&w.insurer_a, vec![], false),
    ] {
        assert_eq!(
            ids(&app, user, "per_page=100").await,
            listed,
            "{}",
            user.email
        );
        let (s, body) = app
            .get(&user.token, &format!("/api/v1/demands/{invited}"))
            .await;
        assert_eq!(s == 200, reads_invited, "{}: {body}", user.email);
        if !reads_invited {
            assert_eq!(s, 404);
            assert_problem(&body, "not-found");
            let (s, _) = app
                .get(&user.token, &format!("/api/v1/demands/{invited}/proposals"))
                .await;
            assert_eq!(s, 404);
        }
    }
    // Another SME, an insurer: 404 on every change; an institute that sees it: 403.
    let before = app.snapshot();
    for (user, status) in [
        (&w.sme_b, 404),
        (&w.insurer_a, 404),
        (&w.inst_a, 403),
        (&w.auditor, 403),
    ] {
        let (s, _) = app
            .send_matching(
                Method::PUT,
                &user.token,
                &format!("/api/v1/demands/{public}"),
                1,
                need("x"),
            )
            .await;
        assert_eq!(s, status, "{} PUT", user.email);
        let (s, _) = app
            .send_matching(
                Method::POST,
                &user.token,
                &format!("/api/v1/demands/{public}/close"),
                1,
                json!({}),
            )
            .await;
        assert_eq!(s, status, "{} close", user.email);
    }
    let (s, _) = app
        .post(
            &w.inst_b.token,
            &format!("/api/v1/demands/{invited}/proposals"),
            json!({"technology_id": w.tech_b, "message": "x"}),
        )
        .await;
    assert_eq!(s, 404, "not invited");
    let (s, _) = app
        .post(
            &w.sme_b.token,
            &format!("/api/v1/demands/{public}/proposals"),
            json!({"technology_id": w.tech_a, "message": "x"}),
        )
        .await;
    assert_eq!(s, 403, "SMEs do not propose");
    let (s, _) = app.get(&w.sme_a.token, "/api/v1/demands/matches").await;
    assert_eq!(s, 403);
    assert_eq!(app.snapshot(), before);
    let (s, _) = app.get(&w.sme_a.token, "/api/v1/demands/nope").await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn needs_are_found_in_vietnamese_without_accents_and_in_chinese() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let straw = id_of(&post_need(&app, &w.sme_a, need("Máy băm rơm rạ làm thức ăn gia súc")).await);
    let mut body = need("太阳能干燥设备");
    body["description"] = json!("我们需要太阳能干燥机，用于稻草和农产品。");
    let solar = id_of(&post_need(&app, &w.sme_a, body).await);
    for q in ["bam rom", "BĂM RƠM", "thuc an gia suc"] {
        assert_eq!(
            ids(&app, &w.inst_a, &format!("q={q}")).await,
            [straw.clone()],
            "{q}"
        );
    }
    for q in ["太阳能", "干燥机 稻草", "农产品"] {
        assert_eq!(
            ids(&app, &w.inst_a, &format!("q={q}")).await,
            [solar.clone()],
            "{q}"
        );
    }
    // Words of the default description are found only in the need that kept it.
    assert_eq!(ids(&app, &w.inst_a, "q=nong%20san").await, [straw.clone()]);
    assert!(ids(&app, &w.inst_a, "q=%25").await.is_empty());
    // Search keeps to what the caller may see.
    assert!(ids(&app, &w.sme_b, "q=bam%20rom").await.is_empty());
}

/// The demand's proposals, as its SME sees them.
async fn proposals_of(app: &TestApp, sme: &User, id: &str) -> Value {
    let (s, list) = app
        .get(&sme.token, &format!("/api/v1/demands/{id}/proposals"))
        .await;
    assert_eq!(s, 200, "{list}");
    list
}

/// The ids of the needs in the institute's matches.
async fn matched_ids(app: &TestApp, inst: &User) -> Vec<String> {
    let (s, found) = app.get(&inst.token, "/api/v1/demands/matches").await;
    assert_eq!(s, 200, "{found}");
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["demand"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// A trial requested from a proposal closes the need; the institute rejecting the request,
/// or the SME withdrawing it (requested or approved), opens the need again — in matches and
/// searches, its version moved on, the proposal `ended` and requestable again, the chain told
/// — while a request that goes on to a trial keeps the need closed.
#[actix_web::test]
async fn a_request_that_comes_to_nothing_opens_the_need_again_and_a_trial_keeps_it_closed() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let dryer = dryer(&app, &w);
    let id = id_of(&post_need(&app, &w.sme_a, need("Máy sấy rơm rạ cho hợp tác xã")).await);
    let (s, p) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/demands/{id}/proposals"),
            json!({"technology_id": dryer, "message": "Máy đã chạy ở ba hợp tác xã."}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let request = format!("/api/v1/demands/{id}/proposals/{}/request", id_of(&p));
    let ask = || async {
        let (s, a) = app
            .post(
                &w.sme_a.token,
                &request,
                json!({"place_of_use": "Kho Cao Lãnh", "requested_start": "2026-04-01"}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        a
    };
    let need_now = || async {
        let (s, d) = app
            .get(&w.sme_a.token, &format!("/api/v1/demands/{id}"))
            .await;
        assert_eq!(s, 200, "{d}");
        d
    };

    // Requested: closed, out of the institutes' matches and searches.
    let first = ask().await;
    let d = need_now().await;
    assert_eq!(
        (&d["status"], &d["closed_reason"]),
        (&json!("closed"), &json!("trial"))
    );
    assert!(!matched_ids(&app, &w.inst_b).await.contains(&id));
    assert!(ids(&app, &w.inst_b, "q=rom%20ra").await.is_empty());

    // The institute rejects it: the need is open again, in the same change.
    let (s, rejected) = app
        .act(
            &w.inst_a.token,
            &id_of(&first),
            "reject",
            version_of(&first),
            json!({"reason": "Chưa phù hợp quy mô"}),
        )
        .await;
    assert_eq!(s, 200, "{rejected}");
    let d = need_now().await;
    assert_eq!(d["status"], "open", "{d}");
    assert_eq!(d["closed_reason"], Value::Null);
    assert_eq!(d["agreement_id"], Value::Null);
    assert_eq!(d["version"], 3, "posted, closed, opened again: {d}");
    let list = proposals_of(&app, &w.sme_a, &id).await;
    assert_eq!(list[0]["status"], "ended", "{list}");
    assert_eq!(list[0]["agreement_id"], first["id"]);
    for inst in [&w.inst_a, &w.inst_b] {
        assert!(
            matched_ids(&app, inst).await.contains(&id),
            "{}",
            inst.email
        );
        assert_eq!(
            ids(&app, inst, "q=rom%20ra&status=open").await,
            vec![id.clone()]
        );
    }
    // An edit on the version before it opened again is stale.
    let (s, _) = app
        .send_matching(
            Method::PUT,
            &w.sme_a.token,
            &format!("/api/v1/demands/{id}"),
            2,
            need("Máy sấy"),
        )
        .await;
    assert_eq!(s, 412);

    // Asked again from the same proposal, approved, then withdrawn by the SME: open again.
    let second = ask().await;
    assert_eq!(need_now().await["status"], "closed");
    assert_eq!(
        proposals_of(&app, &w.sme_a, &id).await[0]["status"],
        "requested"
    );
    let (s, approved) = app
        .act(
            &w.inst_a.token,
            &id_of(&second),
            "approve",
            version_of(&second),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{approved}");
    assert_eq!(
        need_now().await["status"],
        "closed",
        "approval keeps it closed"
    );
    let (s, withdrawn) = app
        .act(
            &w.sme_a.token,
            &id_of(&second),
            "withdraw",
            version_of(&approved),
            json!({"reason": "Đổi kế hoạch"}),
        )
        .await;
    assert_eq!(s, 200, "{withdrawn}");
    let d = need_now().await;
    assert_eq!(
        (&d["status"], &d["version"]),
        (&json!("open"), &json!(5)),
        "{d}"
    );

    // Asked a third time and signed: the trial starts and the need stays closed for good.
    let third = ask().await;
    let mut v = version_of(&third);
    for (token, action) in [
        (&w.inst_a.token, "approve"),
        (&w.sme_a.token, "sign"),
        (&w.inst_a.token, "sign"),
    ] {
        let (s, next) = app.act(token, &id_of(&third), action, v, json!({})).await;
        assert_eq!(s, 200, "{action}: {next}");
        v = version_of(&next);
    }
    app.pass_days(31);
    let (_, a) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{}", id_of(&third)),
        )
        .await;
    assert_eq!(a["status"], "active", "{a}");
    let d = need_now().await;
    assert_eq!(
        (&d["status"], &d["closed_reason"], &d["agreement_id"]),
        (&json!("closed"), &json!("trial"), &third["id"]),
        "{d}"
    );
    assert!(!matched_ids(&app, &w.inst_b).await.contains(&id));
    assert_eq!(
        proposals_of(&app, &w.sme_a, &id).await[0]["status"],
        "requested"
    );

    // The chain: each opening again, with the request's end and the proposal.
    let reopened: Vec<String> = app.db(|c| {
        use diesel::prelude::*;
        use usefirst::db::schema::audit_events::dsl::*;
        audit_events
            .filter(entity_type.eq("demand").and(entity_id.eq(&id)))
            .filter(action.eq("demand.reopened"))
            .order(seq)
            .select(data)
            .load(c)
            .unwrap()
    });
    assert_eq!(reopened.len(), 2, "{reopened:?}");
    assert!(
        reopened[0].contains("rejected") && reopened[1].contains("withdrawn"),
        "{reopened:?}"
    );
    assert!(reopened[0].contains(&id_of(&p)), "{reopened:?}");
}

/// A request made outside the demand hall (from the catalogue) touches no need when it ends.
#[actix_web::test]
async fn a_rejected_request_from_the_catalogue_opens_no_need() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let id = id_of(&post_need(&app, &w.sme_a, need("Máy sấy")).await);
    assert_eq!(close_need(&app, &w.sme_a, &id, 1).await, 200);
    let a = app.request(&w.sme_a, &w.tech_a, "2026-04-01").await;
    let (s, _) = app
        .act(
            &w.inst_a.token,
            &id_of(&a),
            "reject",
            version_of(&a),
            json!({"reason": "Không"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, d) = app
        .get(&w.sme_a.token, &format!("/api/v1/demands/{id}"))
        .await;
    assert_eq!(
        (&d["status"], &d["closed_reason"]),
        (&json!("closed"), &json!("owner"))
    );
}

/// Its SME replaces need `id` at `version` with `body`: the answer.
pub(crate) async fn edit_need(
    app: &TestApp,
    sme: &User,
    id: &str,
    version: i64,
    body: Value,
) -> (u16, Value) {
    let path = format!("/api/v1/demands/{id}");
    app.send_matching(Method::PUT, &sme.token, &path, version, body)
        .await
}

/// Its SME closes need `id` at `version`: the answer's status.
pub(crate) async fn close_need(app: &TestApp, sme: &User, id: &str, version: i64) -> u16 {
    let path = format!("/api/v1/demands/{id}/close");
    let (s, _) = app
        .send_matching(Method::POST, &sme.token, &path, version, json!({}))
        .await;
    s
}

/// Three needs of SME A, posted at one instant in this order: a rice dryer (agriculture,
/// Đồng Tháp), a coffee dryer (agriculture, Cần Thơ; closed by its owner) and a solar kiln
/// (energy, Đồng Tháp), each described in its own words only.
pub(crate) async fn three_needs(app: &TestApp, w: &World) -> [String; 3] {
    let mut ids = Vec::new();
    for (title, sector, province) in [
        ("Máy sấy lúa", "agriculture", "Đồng Tháp"),
        ("Máy sấy cà phê", "agriculture", "Cần Thơ"),
        ("Lò sấy mặt trời", "energy", "Đồng Tháp"),
    ] {
        let mut body = need(title);
        body["sector"] = json!(sector);
        body["province"] = json!(province);
        body["description"] = json!(format!("{title}. Công suất 2 tấn mỗi ngày."));
        ids.push(id_of(&post_need(app, &w.sme_a, body).await));
    }
    assert_eq!(close_need(app, &w.sme_a, &ids[1], 1).await, 200);
    ids.try_into().unwrap()
}

/// `GET /api/v1/demands` with `query` (encoded here) as `user`: the status and the body.
pub(crate) async fn listed(app: &TestApp, user: &User, query: &[(&str, &str)]) -> (u16, Value) {
    let res = app
        .client
        .get(app.url("/api/v1/demands"))
        .query(query)
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    read(res).await
}

/// The ids of a 200 answer's items.
pub(crate) fn items(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

/// The list filtered by status, field and province, each alone, together and beside words,
/// a page at a time; a filter no need could answer is 422 naming it, each at once.
#[actix_web::test]
async fn the_list_filters_by_status_field_and_province_a_page_at_a_time() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let [rice, coffee, solar] = three_needs(&app, &w).await;
    let sme = &w.sme_a;
    // Posted at the same instant: in the order they were posted.
    for (query, want) in [
        (vec![], vec![&rice, &coffee, &solar]),
        (vec![("status", "open")], vec![&rice, &solar]),
        (vec![("status", "closed")], vec![&coffee]),
        (vec![("sector", "agriculture")], vec![&rice, &coffee]),
        (vec![("sector", "energy")], vec![&solar]),
        (vec![("province", "Đồng Tháp")], vec![&rice, &solar]),
        (vec![("province", " Cần Thơ ")], vec![&coffee]),
        (vec![("province", "Hà Nội")], vec![]),
        (
            vec![("sector", "agriculture"), ("province", "Đồng Tháp")],
            vec![&rice],
        ),
        (
            vec![("status", ""), ("sector", "")],
            vec![&rice, &coffee, &solar],
        ),
        // With words: the index's matches, filtered by its facets.
        (vec![("q", "may say"), ("status", "closed")], vec![&coffee]),
        (
            vec![("q", "may say"), ("province", "Cần Thơ")],
            vec![&coffee],
        ),
        (
            vec![("q", "lo say"), ("sector", "energy"), ("status", "open")],
            vec![&solar],
        ),
        (vec![("q", "lua"), ("province", "Cần Thơ")], vec![]),
    ] {
        let (s, body) = listed(&app, sme, &query).await;
        assert_eq!(s, 200, "{query:?}: {body}");
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(items(&body), want, "{query:?}");
        assert_eq!(body["total"], want.len(), "{query:?}");
    }
    // An institute: the open needs, filtered the same way; the closed one is not its to see.
    let (_, body) = listed(
        &app,
        &w.inst_a,
        &[("q", "may say"), ("province", "Cần Thơ")],
    )
    .await;
    assert_eq!(items(&body), Vec::<String>::new());
    let (_, body) = listed(&app, &w.inst_a, &[("province", "Đồng Tháp")]).await;
    assert_eq!(items(&body), [rice.clone(), solar.clone()]);

    // Pages, without words and with them: the total is all the matches.
    for q in ["", "say"] {
        let (_, one) = listed(&app, sme, &[("q", q), ("per_page", "2")]).await;
        let (_, two) = listed(&app, sme, &[("q", q), ("per_page", "2"), ("page", "2")]).await;
        assert_eq!(
            (&one["total"], &two["total"]),
            (&json!(3), &json!(3)),
            "{q}"
        );
        assert_eq!(
            (&one["page"], &two["page"], &two["per_page"]),
            (&json!(1), &json!(2), &json!(2))
        );
        assert_eq!(items(&one).len(), 2, "{q}: {one}");
        let mut all = items(&one);
        all.extend(items(&two));
        all.sort();
        let mut posted = vec![rice.clone(), coffee.clone(), solar.clone()];
        posted.sort();
        assert_eq!(all, posted, "{q}");
        let (_, past) = listed(&app, sme, &[("q", q), ("per_page", "2"), ("page", "3")]).await;
        assert_eq!((items(&past).len(), &past["total"]), (0, &json!(3)), "{q}");
    }

    // Bad filters: 422, each named.
    let long = "x".repeat(101);
    for (query, fields) in [
        (vec![("status", "shut")], vec!["status"]),
        (vec![("sector", long.as_str())], vec!["sector"]),
        (vec![("province", long.as_str())], vec!["province"]),
        (
            vec![("q", "may"), ("status", "all"), ("province", long.as_str())],
            vec!["status", "province"],
        ),
        (vec![("per_page", "0")], vec!["per_page"]),
        (vec![("page", "0")], vec!["page"]),
    ] {
        let (s, body) = listed(&app, sme, &query).await;
        assert_eq!(s, 422, "{query:?}: {body}");
        for field in fields {
            assert_field_error(&body, field);
        }
    }
}
