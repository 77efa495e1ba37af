//! Insurance over HTTP: products and their versions, the cover chosen before signing, the
//! policy bound at the last signature, claims and their decisions, the insurer's view and
//! dashboard, and who may see what.

use std::collections::BTreeSet;

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Implementation-failure cover in USD: up to 8,000.00 at 2%, 500.00 deductible, premium
/// shared 50/20/30 (SME / institute / subsidy), no subsidy cap.
fn failure_product() -> Value {
    json!({
        "name": {"vi": "Bảo hiểm chi phí triển khai thất bại", "en": "Implementation failure cost cover"},
        "risks": ["implementation_failure"], "currency": "USD",
        "premium_rate": "0.02", "max_coverage": "8000.00", "deductible": "500.00",
        "shares": {"sme": "0.5", "institute": "0.2", "subsidy": "0.3"},
        "active_from": "2026-01-01", "active_until": "2026-12-31"
    })
}

async fn create_product(app: &TestApp, insurer: &User, body: Value) -> String {
    let (s, p) = app
        .post(&insurer.token, "/api/v1/insurance/products", body)
        .await;
    assert_eq!(s, 201, "{p}");
    id_of(&p)
}

/// `sme_b` requests `tech_b` (insurance required) from 2026-03-10; institute B approves
/// naming insurer A; the SME chooses `product` with `coverage`. Returns the agreement.
async fn approved_with_choice(
    app: &TestApp,
    w: &World,
    sme: &User,
    start: &str,
    product: &str,
    coverage: &str,
) -> Value {
    let a = app.request(sme, &w.tech_b, start).await;
    let id = id_of(&a);
    let (s, a) = app
        .act(
            &w.inst_b.token,
            &id,
            "approve",
            version_of(&a),
            json!({"insurer_id": w.insurer_a.org}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    let (s, a) = app
        .send_matching(
            Method::POST,
            &sme.token,
            &format!("/api/v1/insurance/agreements/{id}/product"),
            version_of(&a),
            json!({"product_id": product, "coverage": coverage}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["insurer_id"], w.insurer_a.org.as_str());
    a
}

async fn sign_both(app: &TestApp, w: &World, sme: &User, a: Value) -> Value {
    let id = id_of(&a);
    let (s, a) = app
        .act(&sme.token, &id, "sign", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    let (s, a) = app
        .act(&w.inst_b.token, &id, "sign", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status"], "signed");
    a
}

async fn file(
    app: &TestApp,
    who: &User,
    agreement: &str,
    risk: &str,
    amount: &str,
) -> (u16, Value) {
    app.post(
        &who.token,
        "/api/v1/claims",
        json!({"agreement_id": agreement, "risk": risk, "amount": amount,
               "reason": "Dây chuyền không đạt công suất thiết kế sau 4 tuần vận hành",
               "evidence": "Biên bản nghiệm thu ngày 02/04/2026; báo cáo đo công suất"}),
    )
    .await
}

async fn claim_step(
    app: &TestApp,
    who: &User,
    claim: &Value,
    action: &str,
    body: Value,
) -> (u16, Value) {
    app.send_matching(
        Method::POST,
        &who.token,
        &format!("/api/v1/claims/{}/{action}", id_of(claim)),
        version_of(claim),
        body,
    )
    .await
}

/// The messages of `kind` in the outbox, as (recipient, subject), sorted.
fn messages(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    use usefirst::db::schema::outbox;
    let mut rows: Vec<(String, String)> = app.db(|c| {
        outbox::table
            .filter(outbox::kind.eq(kind))
            .select((outbox::recipient_email, outbox::subject))
            .load(c)
            .unwrap()
    });
    rows.sort();
    rows
}

fn audit_actions(app: &TestApp) -> Vec<String> {
    use usefirst::db::schema::audit_events;
    app.db(|c| {
        audit_events::table
            .order(audit_events::seq.asc())
            .select(audit_events::action)
            .load(c)
            .unwrap()
    })
}

/// Product → insurance required → product chosen → policy bound at the last signature →
/// an implementation-failure claim approved and paid, a second one capped by the coverage
/// left → the payouts on the settlement statement after conversion.
#[actix_web::test]
async fn a_failure_claim_is_paid_and_the_payout_is_on_the_statement() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let product = create_product(&app, &w.insurer_a, failure_product()).await;
    let a = approved_with_choice(&app, &w, &w.sme_b, "2026-03-10", &product, "8000.00").await;
    let id = id_of(&a);
    let (s, ins) = app
        .get(
            &w.insurer_a.token,
            &format!("/api/v1/insurance/agreements/{id}"),
        )
        .await;
    assert_eq!(s, 200, "{ins}");
    assert_eq!(ins["insurance_choice"]["coverage"], "8000.00");
    assert_eq!(ins["insurance_choice"]["product_version"], 1);
    assert_eq!(ins["policies"], json!([]));

    sign_both(&app, &w, &w.sme_b, a).await;
    // 8,000.00 at 2%: 160.00, of which the SME pays 80.00, the institute 32.00, the subsidy 48.00.
    let (s, page) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/insurance/policies?agreement_id={id}"),
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let policy = &page["items"][0];
    for (field, value) in [
        ("status", "bound"),
        ("coverage", "8000.00"),
        ("premium", "160.00"),
        ("sme_pays", "80.00"),
        ("institute_pays", "32.00"),
        ("subsidy", "48.00"),
        ("deductible", "500.00"),
        ("product_id", product.as_str()),
    ] {
        assert_eq!(policy[field], value, "{field}: {policy}");
    }
    assert_eq!(policy["product_version"], 1);

    // The trial starts; the SME files a claim during it.
    app.pass_days(8);
    let (_, a) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(a["status"], "active");
    let (s, first) = file(&app, &w.sme_b, &id, "implementation_failure", "3000.00").await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["status"], "filed");
    assert_eq!(first["number"], "CL-2026-000001");
    assert_eq!(first["amount_minor"], 300_000);
    assert_eq!(
        messages(&app, "claim_filed").len(),
        3,
        "SME, institute and insurer"
    );

    // Approved: min(3,000.00, 8,000.00) − 500.00 = 2,500.00; then paid.
    let (s, first) = claim_step(&app, &w.insurer_a, &first, "approve", json!({})).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        (first["status"].as_str(), first["payout"].as_str()),
        (Some("approved"), Some("2500.00"))
    );
    let (s, first) = claim_step(
        &app,
        &w.insurer_a,
        &first,
        "pay",
        json!({"reference": "BV-CHI-0001"}),
    )
    .await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["status"], "paid");
    assert_eq!(first["payment_reference"], "BV-CHI-0001");

    // A second claim of the whole cover: 8,000.00 − 500.00 = 7,500.00, but only 5,500.00 of
    // the coverage is left after the first payout.
    let (s, second) = file(&app, &w.sme_b, &id, "implementation_failure", "8000.00").await;
    assert_eq!(s, 201, "{second}");
    let (s, second) = claim_step(
        &app,
        &w.insurer_a,
        &second,
        "approve",
        json!({"reason": "Theo biên bản giám định"}),
    )
    .await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(second["payout"], "5500.00");
    assert_eq!(second["decision_reason"], "Theo biên bản giám định");
    assert_eq!(messages(&app, "claim_approved").len(), 6);
    let paid = messages(&app, "claim_paid");
    assert_eq!(paid.len(), 3);
    assert!(
        paid.iter().all(|(_, subject)| subject.contains("2500.00")),
        "{paid:?}"
    );

    // The dashboard: one policy, 160.00 written, 8,000.00 incurred, 2,500.00 paid.
    let (s, dash) = app
        .get(&w.insurer_a.token, "/api/v1/insurance/dashboard")
        .await;
    assert_eq!(s, 200, "{dash}");
    assert_eq!(dash["covered_by_status"]["active"], 1, "{dash}");
    let usd = &dash["by_currency"][0];
    for (field, value) in [
        ("currency", json!("USD")),
        ("policies", json!(1)),
        ("premiums_written", json!("160.00")),
        ("subsidy", json!("48.00")),
        ("claims_filed", json!(2)),
        ("claims_approved", json!(2)),
        ("claims_paid", json!(1)),
        ("paid_out", json!("2500.00")),
        ("incurred", json!("8000.00")),
        ("loss_ratio", json!("50")),
    ] {
        assert_eq!(usd[field], value, "{field}: {dash}");
    }
    let (_, other) = app
        .get(&w.insurer_b.token, "/api/v1/insurance/dashboard")
        .await;
    assert_eq!(other["covered_total"], 0, "{other}");
    assert_eq!(other["by_currency"], json!([]));

    // The SME converts; the statement carries the policy, its claims and payouts. Cover of
    // implementation failure alone ends with the conversion.
    let (_, a) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
        .await;
    let (s, a) = app
        .act(&w.sme_b.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    let (s, st) = app
        .get(
            &w.inst_b.token,
            &format!("/api/v1/agreements/{id}/settlement"),
        )
        .await;
    assert_eq!(s, 200, "{st}");
    let on_statement = &st["insurance"][0];
    assert_eq!(on_statement["premium"], "160.00", "{st}");
    assert_eq!(on_statement["paid_out"], "2500.00");
    assert_eq!(on_statement["incurred"], "8000.00");
    assert_eq!(on_statement["coverage_remaining"], "0.00");
    assert_eq!(on_statement["status"], "ended");
    assert_eq!(on_statement["ended_reason"], "converted");
    let payouts: Vec<(&str, &str)> = on_statement["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["status"].as_str().unwrap(), c["payout"].as_str().unwrap()))
        .collect();
    assert_eq!(payouts, [("paid", "2500.00"), ("approved", "5500.00")]);

    let actions = audit_actions(&app);
    for expected in [
        "insurance.product_created",
        "agreement.insurance_chosen",
        "insurance.policy_bound",
        "claim.filed",
        "claim.approved",
        "claim.paid",
        "insurance.policy_ended",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected}: {actions:?}"
        );
    }
    let (_, v) = app.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!(v["ok"], true, "{v}");
}

/// Every key and string in `v`, recursively.
fn walk<'a>(v: &'a Value, keys: &mut BTreeSet<String>, strings: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                keys.insert(k.clone());
                walk(x, keys, strings);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| walk(x, keys, strings)),
        Value::String(s) => strings.push(s),
        _ => {}
    }
}

/// Insurers see only what they cover; parties see their own policies and claims; nothing an
/// insurer reads names a user.
#[actix_web::test]
async fn insurers_see_what_they_cover_and_no_personal_data() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_insured(&w, &w.sme_b, "2026-03-10").await;
    let id = id_of(&a);
    app.pass_days(8);
    let (s, claim) = file(&app, &w.sme_b, &id, "implementation_failure", "1200.00").await;
    assert_eq!(s, 201, "{claim}");
    let claim_id = id_of(&claim);
    // Another covered trial, of sme_a, with implementation-failure cover only, for the lists.
    let failure_only = create_product(&app, &w.insurer_a, failure_product()).await;
    let other =
        approved_with_choice(&app, &w, &w.sme_a, "2026-03-20", &failure_only, "8000.00").await;
    sign_both(&app, &w, &w.sme_a, other).await;

    // Agreement, claim and policy reads, by everyone.
    let reads = [
        format!("/api/v1/insurance/agreements/{id}"),
        format!("/api/v1/claims/{claim_id}"),
    ];
    for (label, user) in w.all() {
        for path in &reads {
            let (s, body) = app.get(&user.token, path).await;
            let sees = match label {
                "admin" | "auditor" | "insurer_a" => true,
                "sme_b" | "inst_b" => path.contains("/claims/"),
                _ => false,
            };
            assert_eq!(s, if sees { 200 } else { 404 }, "{label} {path}: {body}");
        }
        let (s, list) = app.get(&user.token, "/api/v1/claims").await;
        assert_eq!(s, 200, "{label}: {list}");
        let expected = match label {
            "admin" | "auditor" | "insurer_a" | "sme_b" | "inst_b" => 1,
            _ => 0,
        };
        assert_eq!(list["total"], expected, "{label}: {list}");
        let (s, list) = app.get(&user.token, "/api/v1/insurance/policies").await;
        assert_eq!(s, 200, "{label}: {list}");
        let expected = match label {
            "admin" | "auditor" | "insurer_a" | "inst_b" => 2,
            "sme_a" | "sme_b" => 1,
            _ => 0,
        };
        assert_eq!(list["total"], expected, "{label}: {list}");
        for item in list["items"].as_array().unwrap() {
            let sme = match label {
                "sme_a" => &w.sme_a.org,
                "sme_b" => &w.sme_b.org,
                _ => continue,
            };
            assert!(item["agreement_id"].as_str().is_some());
            let (_, agreement) = app
                .get(
                    &user.token,
                    &format!(
                        "/api/v1/agreements/{}",
                        item["agreement_id"].as_str().unwrap()
                    ),
                )
                .await;
            assert_eq!(agreement["sme_id"], sme.as_str());
        }
        let (s, body) = app.get(&user.token, "/api/v1/insurance/agreements").await;
        let expected = match label {
            "admin" | "auditor" | "insurer_a" => Some(2),
            "insurer_b" => Some(0),
            _ => None,
        };
        match expected {
            Some(n) => assert_eq!(
                (s, body["total"].as_i64()),
                (200, Some(n)),
                "{label}: {body}"
            ),
            None => assert_eq!(s, 404, "{label}: {body}"),
        }
    }

    // Field by field: what an insurer reads names organisations, never users.
    let mut bodies = Vec::new();
    for path in [
        "/api/v1/insurance/agreements".to_string(),
        format!("/api/v1/insurance/agreements/{id}"),
        "/api/v1/insurance/dashboard".to_string(),
        "/api/v1/insurance/policies".to_string(),
        "/api/v1/claims".to_string(),
        format!("/api/v1/claims/{claim_id}"),
        format!("/api/v1/agreements/{id}/events"),
    ] {
        let (s, body) = app.get(&w.insurer_a.token, &path).await;
        assert_eq!(s, 200, "{path}: {body}");
        bodies.push(body);
    }
    let users: Vec<&User> = w.all().into_iter().map(|(_, u)| u).collect();
    for body in &bodies {
        let (mut keys, mut strings) = (BTreeSet::new(), Vec::new());
        walk(body, &mut keys, &mut strings);
        for forbidden in [
            "user_id",
            "email",
            "display_name",
            "requested_by",
            "filed_by",
            "recorded_by",
            "signer_name",
            "signed_by",
            "actor",
            "locale",
        ] {
            assert!(!keys.contains(forbidden), "{forbidden} in {body}");
        }
        for u in &users {
            for s in &strings {
                assert!(
                    !s.contains(&u.email) && !s.contains(&u.id) && !s.contains("Người dùng"),
                    "user data {s:?} in {body}"
                );
            }
        }
    }
    // A party as the insurer sees it: exactly the organisation's fields.
    let party: BTreeSet<&str> = bodies[1]["sme"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        party,
        BTreeSet::from(["contact_email", "id", "name", "province", "registration_no"])
    );
    assert_eq!(
        bodies[1]["sme"]["contact_email"],
        "contact.sme_b@example.vn"
    );

    // Filters of the insurer's view.
    for (query, total) in [
        ("status=active", 1),
        ("status=signed", 1),
        ("risk=non_payment", 1),
        ("risk=implementation_failure", 2),
        ("from=2026-03-15", 1),
        ("to=2026-03-15", 1),
        (&format!("institute_id={}", w.inst_a.org) as &str, 0),
        ("province=B%C3%ACnh%20D%C6%B0%C6%A1ng", 1),
    ] {
        let (s, body) = app
            .get(
                &w.insurer_a.token,
                &format!("/api/v1/insurance/agreements?{query}"),
            )
            .await;
        assert_eq!(
            (s, body["total"].as_i64()),
            (200, Some(total)),
            "{query}: {body}"
        );
    }
    let (s, body) = app
        .get(&w.insurer_a.token, "/api/v1/insurance/agreements?risk=fire")
        .await;
    assert_eq!(s, 422, "{body}");
}

/// Claims outside their window, over the coverage or by the wrong party are refused with the
/// right problem, and change nothing; so are wrong decisions.
#[actix_web::test]
async fn bad_claims_and_decisions_are_refused_and_change_nothing() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_insured(&w, &w.sme_b, "2026-03-10").await;
    let id = id_of(&a);

    let before = app.snapshot();
    // Before the trial starts.
    let (s, p) = file(&app, &w.sme_b, &id, "implementation_failure", "1000.00").await;
    assert_eq!(
        (s, p["current_state"].as_str()),
        (409, Some("signed")),
        "{p}"
    );
    assert_eq!(app.snapshot(), before);
    app.pass_days(8);
    let before_active = app.snapshot();
    let cases: Vec<(&User, Value, u16, &str)> = vec![
        // Over the coverage (10,000.00).
        (
            &w.sme_b,
            json!({"risk": "implementation_failure", "amount": "10000.01"}),
            422,
            "amount",
        ),
        (
            &w.sme_b,
            json!({"risk": "implementation_failure", "amount": "0"}),
            422,
            "amount",
        ),
        (
            &w.sme_b,
            json!({"risk": "implementation_failure", "amount": "12.345"}),
            422,
            "amount",
        ),
        (
            &w.sme_b,
            json!({"risk": "implementation_failure", "amount": "100.00", "reason": " "}),
            422,
            "reason",
        ),
        // The wrong party for the risk.
        (
            &w.inst_b,
            json!({"risk": "implementation_failure", "amount": "100.00"}),
            422,
            "risk",
        ),
        (
            &w.sme_b,
            json!({"risk": "non_payment", "amount": "100.00"}),
            422,
            "risk",
        ),
        (
            &w.sme_b,
            json!({"risk": "fire", "amount": "100.00"}),
            422,
            "risk",
        ),
        // Not a party at all: the agreement does not exist for them.
        (
            &w.sme_a,
            json!({"risk": "implementation_failure", "amount": "100.00"}),
            422,
            "agreement_id",
        ),
        // Insurers do not file.
        (
            &w.insurer_a,
            json!({"risk": "implementation_failure", "amount": "100.00"}),
            403,
            "",
        ),
        // Non-payment before any conversion.
        (
            &w.inst_b,
            json!({"risk": "non_payment", "amount": "100.00"}),
            409,
            "",
        ),
    ];
    for (who, extra, status, field) in cases {
        let mut body = json!({"agreement_id": id, "reason": "Không đạt công suất", "evidence": ""});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, p) = app.post(&who.token, "/api/v1/claims", body.clone()).await;
        assert_eq!(s, status, "{body}: {p}");
        assert_eq!(
            p["type"]
                .as_str()
                .map(|t| t.starts_with("urn:usefirst:problem:")),
            Some(true)
        );
        if !field.is_empty() {
            assert_field_error(&p, field);
        }
        assert_eq!(app.snapshot(), before_active, "{body} changed something");
    }

    // Decisions: by the wrong party, from the wrong state, without a reason, stale If-Match.
    let (s, claim) = file(&app, &w.sme_b, &id, "implementation_failure", "1000.00").await;
    assert_eq!(s, 201, "{claim}");
    let filed = app.snapshot();
    for (who, action, body, status) in [
        (&w.sme_b, "approve", json!({}), 403),
        (&w.inst_b, "withdraw", json!({}), 403),
        (&w.admin, "approve", json!({}), 403),
        (&w.auditor, "reject", json!({"reason": "x"}), 403),
        (&w.insurer_b, "approve", json!({}), 404),
        (&w.sme_a, "withdraw", json!({}), 404),
        (&w.insurer_a, "pay", json!({}), 409),
        (&w.insurer_a, "reject", json!({}), 422),
        (&w.insurer_a, "reject", json!({"reason": ""}), 422),
        (&w.insurer_a, "explode", json!({}), 404),
    ] {
        let (s, p) = claim_step(&app, who, &claim, action, body).await;
        assert_eq!(s, status, "{action}: {p}");
        assert_eq!(app.snapshot(), filed, "{action} changed something");
    }
    let (s, p) = app
        .send_matching(
            Method::POST,
            &w.insurer_a.token,
            &format!("/api/v1/claims/{}/approve", id_of(&claim)),
            7,
            json!({}),
        )
        .await;
    assert_eq!(s, 412, "{p}");
    let (s, p) = app
        .post(
            &w.insurer_a.token,
            &format!("/api/v1/claims/{}/approve", id_of(&claim)),
            json!({}),
        )
        .await;
    assert_eq!(s, 428, "{p}");
    assert_eq!(app.snapshot(), filed);

    // Rejected with its reason, then nothing moves it.
    let (s, rejected) = claim_step(
        &app,
        &w.insurer_a,
        &claim,
        "reject",
        json!({"reason": "Sự cố do vận hành sai quy trình"}),
    )
    .await;
    assert_eq!(s, 200, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(messages(&app, "claim_rejected").len(), 3);
    let (s, p) = claim_step(&app, &w.insurer_a, &rejected, "approve", json!({})).await;
    assert_eq!(
        (s, p["current_state"].as_str()),
        (409, Some("rejected")),
        "{p}"
    );

    // The claimant withdraws a filed claim.
    let (_, claim) = file(&app, &w.sme_b, &id, "implementation_failure", "900.00").await;
    let (s, withdrawn) = claim_step(&app, &w.sme_b, &claim, "withdraw", json!({})).await;
    assert_eq!(
        (s, withdrawn["status"].as_str()),
        (200, Some("withdrawn")),
        "{withdrawn}"
    );

    // After the decision window the SME can no longer claim failure.
    app.pass_days(60 + 14 + 1);
    let (_, a) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(a["status"], "lapsed");
    let before = app.snapshot();
    let (s, p) = file(&app, &w.sme_b, &id, "implementation_failure", "100.00").await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(app.snapshot(), before);
    // The lapse ended the policy.
    let (_, page) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/insurance/policies?agreement_id={id}"),
        )
        .await;
    assert_eq!(page["items"][0]["status"], "ended", "{page}");
    assert_eq!(page["items"][0]["ended_reason"], "lapsed");
}

/// Non-payment cover lasts through the payment schedule: the institute claims once an
/// installment is overdue past the grace period.
#[actix_web::test]
async fn the_institute_claims_non_payment_after_the_grace_period() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_insured(&w, &w.sme_b, "2026-03-10").await;
    let id = id_of(&a);
    app.pass_days(8);
    let (_, a) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
        .await;
    // Converted on 2026-03-10: the first installment (3,000.00) is due 30 days later, 2026-04-09.
    let (s, a) = app
        .act(&w.sme_b.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    let (_, page) = app
        .get(
            &w.inst_b.token,
            &format!("/api/v1/insurance/policies?agreement_id={id}"),
        )
        .await;
    assert_eq!(
        page["items"][0]["status"], "bound",
        "non-payment cover continues: {page}"
    );
    // Overdue, but within the 30 days of grace.
    app.pass_days(30 + 20);
    let before = app.snapshot();
    let (s, p) = file(&app, &w.inst_b, &id, "non_payment", "3000.00").await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(app.snapshot(), before);
    // Past it; but only what is overdue past the grace period can be claimed.
    app.pass_days(11);
    let before = app.snapshot();
    let (s, p) = file(&app, &w.inst_b, &id, "non_payment", "3000.01").await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "amount");
    assert_eq!(app.snapshot(), before);
    let (s, claim) = file(&app, &w.inst_b, &id, "non_payment", "3000.00").await;
    assert_eq!(s, 201, "{claim}");
    assert_eq!(claim["claimant_org"], w.inst_b.org.as_str());
    // 3,000.00 − 500.00 deductible.
    let (s, claim) = claim_step(&app, &w.insurer_a, &claim, "approve", json!({})).await;
    assert_eq!(
        (s, claim["payout"].as_str()),
        (200, Some("2500.00")),
        "{claim}"
    );
    // The schedule paid in full ends the cover.
    let (s, st) = app
        .post(
            &w.inst_b.token,
            &format!("/api/v1/agreements/{id}/payments"),
            json!({"amount": "12000.00", "received_on": "2026-05-10", "reference": "VCB-9"}),
        )
        .await;
    assert_eq!(s, 201, "{st}");
    assert_eq!(st["insurance"][0]["status"], "ended", "{st}");
    assert_eq!(st["insurance"][0]["ended_reason"], "schedule_paid");
    assert_eq!(st["insurance"][0]["incurred"], "2500.00");
    assert_eq!(st["insurance"][0]["paid_out"], "0.00");
}

/// Products: checked field by field, insurers only, versioned; a choice keeps the version it
/// was made on and the policy is bound on it.
#[actix_web::test]
async fn products_are_checked_versioned_and_bound_as_chosen() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let before = app.snapshot();
    let mut bad = failure_product();
    bad["shares"]["subsidy"] = json!("0.2");
    bad["deductible"] = json!("9000.00");
    bad["risks"] = json!(["fire"]);
    bad["premium_rate"] = json!("1.5");
    let (s, p) = app
        .post(&w.insurer_a.token, "/api/v1/insurance/products", bad)
        .await;
    assert_eq!(s, 422, "{p}");
    for field in ["shares", "deductible", "risks[0]", "premium_rate"] {
        assert_field_error(&p, field);
    }
    let (s, p) = app
        .post(
            &w.inst_a.token,
            "/api/v1/insurance/products",
            failure_product(),
        )
        .await;
    assert_eq!(s, 403, "{p}");
    assert_eq!(app.snapshot(), before);

    let product = create_product(&app, &w.insurer_a, failure_product()).await;
    // Everyone may read an active product; the SME chooses version 1.
    let (s, p) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/insurance/products/{product}"),
        )
        .await;
    assert_eq!((s, p["version"].as_i64()), (200, Some(1)), "{p}");
    let a = approved_with_choice(&app, &w, &w.sme_b, "2026-03-10", &product, "4000.00").await;

    // The insurer raises the rate: version 2. Another insurer cannot touch it.
    let mut v2 = failure_product();
    v2["premium_rate"] = json!("0.05");
    let path = format!("/api/v1/insurance/products/{product}");
    let (s, p) = app
        .send_matching(Method::PUT, &w.insurer_b.token, &path, 1, v2.clone())
        .await;
    assert_eq!(s, 404, "{p}");
    let (s, p) = app
        .send_matching(Method::PUT, &w.insurer_a.token, &path, 2, v2.clone())
        .await;
    assert_eq!(s, 412, "{p}");
    let (s, p) = app
        .send_matching(Method::PUT, &w.insurer_a.token, &path, 1, v2)
        .await;
    assert_eq!((s, p["version"].as_i64()), (200, Some(2)), "{p}");
    let (_, old) = app.get(&w.sme_b.token, &format!("{path}?version=1")).await;
    assert_eq!(old["premium_rate"], "0.02");

    // Bound on version 1: 4,000.00 at 2% = 80.00.
    let id = id_of(&a);
    sign_both(&app, &w, &w.sme_b, a).await;
    let (_, page) = app
        .get(
            &w.insurer_a.token,
            &format!("/api/v1/insurance/policies?agreement_id={id}"),
        )
        .await;
    let policy = &page["items"][0];
    assert_eq!(
        (
            policy["product_version"].as_i64(),
            policy["premium"].as_str()
        ),
        (Some(1), Some("80.00")),
        "{page}"
    );

    // Choosing after a signature, cover above the maximum, a product in another currency.
    let b = app.request(&w.sme_b, &w.tech_b, "2026-04-01").await;
    let (_, b) = app
        .act(
            &w.inst_b.token,
            &id_of(&b),
            "approve",
            version_of(&b),
            json!({"insurer_id": w.insurer_a.org}),
        )
        .await;
    let choose = format!("/api/v1/insurance/agreements/{}/product", id_of(&b));
    let vnd = {
        let mut p = failure_product();
        p["currency"] = json!("VND");
        p["max_coverage"] = json!("500000000");
        p["deductible"] = json!("5000000");
        create_product(&app, &w.insurer_b, p).await
    };
    let before = app.snapshot();
    for (body, status, field) in [
        (
            json!({"product_id": product, "coverage": "8000.01"}),
            422,
            "coverage",
        ),
        (
            json!({"product_id": product, "coverage": "500.00"}),
            422,
            "coverage",
        ),
        (json!({"product_id": vnd}), 422, "product_id"),
        (json!({"product_id": "no-such-product"}), 422, "product_id"),
    ] {
        let (s, p) = app
            .send_matching(
                Method::POST,
                &w.sme_b.token,
                &choose,
                version_of(&b),
                body.clone(),
            )
            .await;
        assert_eq!(s, status, "{body}: {p}");
        assert_field_error(&p, field);
    }
    let (s, p) = app
        .send_matching(
            Method::POST,
            &w.insurer_a.token,
            &choose,
            version_of(&b),
            json!({"product_id": product}),
        )
        .await;
    assert_eq!(s, 403, "an insurer is not a party: {p}");
    assert_eq!(app.snapshot(), before);
    // No signature before the product is chosen, and no change of it after one.
    let (s, p) = app
        .act(
            &w.sme_b.token,
            &id_of(&b),
            "sign",
            version_of(&b),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, p["current_state"].as_str()),
        (409, Some("approved")),
        "{p}"
    );
    assert_eq!(app.snapshot(), before);
    let (s, b) = app
        .send_matching(
            Method::POST,
            &w.inst_b.token,
            &choose,
            version_of(&b),
            json!({"product_id": product}),
        )
        .await;
    assert_eq!(s, 200, "the institute may choose too: {b}");
    let (s, b) = app
        .act(
            &w.sme_b.token,
            &id_of(&b),
            "sign",
            version_of(&b),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, p) = app
        .send_matching(
            Method::POST,
            &w.sme_b.token,
            &choose,
            version_of(&b),
            json!({"product_id": product}),
        )
        .await;
    assert_eq!(s, 409, "after a signature: {p}");
}

/// A decline ends the cover, but a failure during the trial may still be claimed until the
/// decision deadline.
#[actix_web::test]
async fn a_declining_sme_claims_until_the_decision_deadline() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.signed_insured(&w, &w.sme_b, "2026-03-10").await;
    let id = id_of(&a);
    // The 60-day trial ends on 2026-05-08; the decision is due by 2026-05-22.
    app.pass_days(8 + 61);
    let (_, a) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(a["status"], "awaiting_decision", "{a}");
    let (s, a) = app
        .act(
            &w.sme_b.token,
            &id,
            "decline",
            version_of(&a),
            json!({"reason": "Không đạt công suất"}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    let (_, page) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/insurance/policies?agreement_id={id}"),
        )
        .await;
    assert_eq!(page["items"][0]["ended_reason"], "declined", "{page}");
    let (s, claim) = file(&app, &w.sme_b, &id, "implementation_failure", "2000.00").await;
    assert_eq!(
        (s, claim["status"].as_str()),
        (201, Some("filed")),
        "{claim}"
    );
    app.pass_days(13);
    let before = app.snapshot();
    let (s, p) = file(&app, &w.sme_b, &id, "implementation_failure", "2000.00").await;
    assert_eq!(s, 409, "after the deadline: {p}");
    assert_eq!(app.snapshot(), before);
}
