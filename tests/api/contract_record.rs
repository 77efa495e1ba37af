//! The SME's payment record: a real history made through the API (a converted trial with an
//! installment paid late, one on time, one overdue now and a non-payment claim upheld, a
//! rejected request), counted the same for the institute weighing the SME's next request and
//! for the SME itself, and hidden (404) from everyone else.

use serde_json::json;

use crate::browser::{text, Browser};
use crate::helpers::{id_of, version_of, TestApp};

/// A page's words as a reader sees them: tags dropped, white space made single spaces.
fn words_of(page: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    text(&out).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[actix_web::test]
async fn the_institute_and_the_sme_see_the_same_figures_and_no_one_else_sees_any() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let own = format!("/api/v1/organisations/{}/payment-record", w.sme_b.org);

    // Nothing yet: every figure is zero.
    let (s, empty) = app.get(&w.sme_b.token, &own).await;
    assert_eq!(s, 200, "{empty}");
    assert_eq!(
        empty,
        json!({"requests": 0, "conversions": 0,
               "trials": {"total": 0, "in_progress": 0, "converted": 0, "declined": 0, "lapsed": 0, "terminated": 0},
               "payments": {"on_time": 0, "late": 0, "overdue": 0, "not_yet_due": 0},
               "non_payment_claims": {"total": 0, "open": 0, "upheld": 0, "not_upheld": 0}})
    );

    // A request institute A rejects: a request, not a trial.
    let r1 = app.request(&w.sme_b, &w.tech_a, "2026-03-20").await;
    let (s, p) = app
        .act(
            &w.inst_a.token,
            &id_of(&r1),
            "reject",
            version_of(&r1),
            json!({"reason": "Chưa phù hợp quy mô"}),
        )
        .await;
    assert_eq!(s, 200, "{p}");

    // A trial of B converted, its first installment paid late after a claim was upheld.
    let id = app.converted_paid_late_after_a_claim(&w).await;
    let pay = |amount: &str, on: &str, reference: &str| json!({"amount": amount, "received_on": on, "reference": reference});
    let payments = format!("/api/v1/agreements/{id}/payments");
    // The second paid in two parts, the last on its due day: on time.
    app.pass_days(60);
    for (amount, reference) in [("1000.00", "VCB-2"), ("2000.00", "VCB-3")] {
        let (s, st) = app
            .post(
                &w.inst_b.token,
                &payments,
                pay(amount, "2026-07-09", reference),
            )
            .await;
        assert_eq!(s, 201, "{st}");
    }
    // The third is overdue by 2026-10-12; the fourth is not due yet.
    app.pass_days(95);
    // Meanwhile SME A has a trial of its own, which is not SME B's record.
    app.request(&w.sme_a, &w.tech_a, "2026-10-20").await;

    // SME B asks institute A for another trial; institute A sees its record.
    let r2 = app.request(&w.sme_b, &w.tech_a, "2026-10-20").await;
    let on_request = format!("/api/v1/agreements/{}/sme-record", id_of(&r2));
    let expected = json!({"requests": 3, "conversions": 1,
        "trials": {"total": 1, "in_progress": 0, "converted": 1, "declined": 0, "lapsed": 0, "terminated": 0},
        "payments": {"on_time": 1, "late": 1, "overdue": 1, "not_yet_due": 1},
        "non_payment_claims": {"total": 1, "open": 0, "upheld": 1, "not_upheld": 0}});
    for (who, token) in [
        ("inst_a", &w.inst_a.token),
        ("sme_b", &w.sme_b.token),
        ("admin", &w.admin.token),
        ("auditor", &w.auditor.token),
    ] {
        let (s, r) = app.get(token, &on_request).await;
        assert_eq!((s, &r), (200, &expected), "{who}");
    }
    // The SME sees the same figures about itself, as do admins and auditors.
    for (who, token) in [
        ("sme_b", &w.sme_b.token),
        ("admin", &w.admin.token),
        ("auditor", &w.auditor.token),
    ] {
        let (s, r) = app.get(token, &own).await;
        assert_eq!((s, &r), (200, &expected), "{who}");
    }
    // Nobody else: not another SME, not an institute it has not asked (nor one it has, by
    // organisation), not an insurer, even the one covering its contract.
    for (who, token) in [
        ("inst_b", &w.inst_b.token),
        ("sme_a", &w.sme_a.token),
        ("insurer_a", &w.insurer_a.token),
        ("insurer_b", &w.insurer_b.token),
    ] {
        let (s, p) = app.get(token, &on_request).await;
        assert_eq!(s, 404, "{who} on the request: {p}");
    }
    for (who, token) in [
        ("inst_a", &w.inst_a.token),
        ("inst_b", &w.inst_b.token),
        ("sme_a", &w.sme_a.token),
        ("insurer_a", &w.insurer_a.token),
    ] {
        let (s, p) = app.get(token, &own).await;
        assert_eq!(s, 404, "{who} on the organisation: {p}");
    }
    // The insurer covering the converted agreement is not shown it there either.
    let (s, _) = app
        .get(
            &w.insurer_a.token,
            &format!("/api/v1/agreements/{id}/sme-record"),
        )
        .await;
    assert_eq!(s, 404);
    // Only SMEs have a record; an unknown id is not found.
    for org in [w.inst_a.org.as_str(), "no-such-organisation"] {
        let (s, _) = app
            .get(
                &w.admin.token,
                &format!("/api/v1/organisations/{org}/payment-record"),
            )
            .await;
        assert_eq!(s, 404, "{org}");
    }
    let (s, _) = app
        .get(&w.admin.token, "/api/v1/agreements/nope/sme-record")
        .await;
    assert_eq!(s, 404);

    // SME A's record holds only its own request.
    let (s, r) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/organisations/{}/payment-record", w.sme_a.org),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (r["requests"].as_i64(), r["trials"]["total"].as_i64()),
        (Some(1), Some(0)),
        "{r}"
    );

    // Paying the overdue installment moves it from overdue to late; nothing else changes.
    let (s, st) = app
        .post(
            &w.inst_b.token,
            &payments,
            pay("3000.00", "2026-10-12", "VCB-4"),
        )
        .await;
    assert_eq!(s, 201, "{st}");
    let (_, r) = app.get(&w.inst_a.token, &on_request).await;
    assert_eq!(
        r["payments"],
        json!({"on_time": 1, "late": 2, "overdue": 0, "not_yet_due": 1})
    );

    // The pages: institute A opens the request and sees the figures beside the parties.
    let mut b = Browser::signed_in(&app, &w.inst_a.email).await;
    let (s, _, page) = b.get(&format!("/agreements/{}", id_of(&r2))).await;
    assert_eq!(s, 200);
    let words = words_of(&page);
    for figure in [
        "Lịch sử của doanh nghiệp trên nền tảng",
        "Số đề nghị dùng thử đã gửi 3",
        "Số lần dùng thử 1 (1 chuyển đổi, 0 từ chối",
        "Khoản thanh toán đúng hạn 1",
        "Khoản thanh toán trễ hạn 2",
        "Khoản đang quá hạn 0",
        "Yêu cầu bồi thường bảo hiểm do không thanh toán 1 (1 được chấp nhận",
    ] {
        assert!(words.contains(figure), "{figure} not in {words}");
    }
    // Not once the trial is signed and running: the decision is made.
    let mut b = Browser::signed_in(&app, &w.inst_b.email).await;
    let (s, _, page) = b.get(&format!("/agreements/{id}")).await;
    assert_eq!(s, 200);
    assert!(!page.contains("payment-record"), "{page}");
    // SME B sees the same on its home, in English too; SME A sees only its own.
    let mut b = Browser::signed_in(&app, &w.sme_b.email).await;
    b.language("en").await;
    let (s, _, page) = b.get("/home").await;
    assert_eq!(s, 200);
    let words = words_of(&page);
    for figure in [
        "Your record on the platform",
        "Trial requests made 3",
        "Payments made late 2",
        "Insurance claims for non-payment 1 (1 upheld, 0 pending, 0 not upheld)",
    ] {
        assert!(words.contains(figure), "{figure} not in {words}");
    }
    let mut b = Browser::signed_in(&app, &w.sme_a.email).await;
    let (_, _, page) = b.get("/home").await;
    assert!(
        words_of(&page).contains("Số đề nghị dùng thử đã gửi 1"),
        "{page}"
    );
}
