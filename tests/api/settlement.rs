//! Quotes over HTTP: the schedule converting would create under the agreement's fixed
//! terms, for the parties and supervisors only, before anything is saved.

use serde_json::{json, Value};

use crate::helpers::*;

/// An approved agreement on tech_b (USD 12,000.00 in 4 quarterly installments, first 30 days
/// after converting, 60/30/10 distribution, insurance required).
async fn approved_b(app: &TestApp, w: &World) -> Value {
    let a = app.request(&w.sme_b, &w.tech_b, "2026-03-10").await;
    let (s, a) = app
        .act(
            &w.inst_b.token,
            &id_of(&a),
            "approve",
            version_of(&a),
            json!({"insurance_product_id": w.product_a}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    a
}

#[actix_web::test]
async fn quote_lists_the_schedule_with_month_end_clamping() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = approved_b(&app, &w).await;
    let before = app.snapshot();
    let (s, q) = app
        .get(
            &w.sme_b.token,
            &format!(
                "/api/v1/agreements/{}/quote?convert_on=2026-05-01",
                id_of(&a)
            ),
        )
        .await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["currency"], "USD");
    assert_eq!(q["price_model"], "installments");
    assert_eq!(q["rounding"], "half_up");
    assert_eq!(
        q["early_conversion_discount"],
        Value::Null,
        "these terms offer no discount"
    );
    // First due 30 days after 1 May, then every 3 months from that day, clamped to month end.
    let lines: Vec<(String, String, i64)> = q["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["due"].as_str().unwrap().to_string(),
                l["amount"].as_str().unwrap().to_string(),
                l["amount_minor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("2026-05-31".to_string(), "3000.00".to_string(), 300_000),
            ("2026-08-31".to_string(), "3000.00".to_string(), 300_000),
            ("2026-11-30".to_string(), "3000.00".to_string(), 300_000),
            ("2027-02-28".to_string(), "3000.00".to_string(), 300_000),
        ]
    );
    assert_eq!(q["total"], "12000.00");
    assert_eq!(
        q["lines"][0]["distribution"],
        json!({"institute": 180_000, "inventors": 90_000, "intermediary": 30_000})
    );
    assert_eq!(app.snapshot(), before, "a quote saves nothing");
    // The institute and the supervisors see the same quote; others do not see the agreement.
    for user in [&w.inst_b, &w.admin, &w.auditor, &w.insurer_a] {
        let (s, other) = app
            .get(
                &user.token,
                &format!(
                    "/api/v1/agreements/{}/quote?convert_on=2026-05-01",
                    id_of(&a)
                ),
            )
            .await;
        assert_eq!((s, &other), (200, &q), "{}", user.email);
    }
    for user in [&w.sme_a, &w.inst_a, &w.insurer_b] {
        let (s, body) = app
            .get(
                &user.token,
                &format!("/api/v1/agreements/{}/quote", id_of(&a)),
            )
            .await;
        assert_eq!(s, 404, "{}: {body}", user.email);
    }
}

#[actix_web::test]
async fn early_conversion_discount_applies_only_before_the_trial_ends() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    // New terms for tech_a with a 5% early-conversion discount, before the request.
    let (s, t) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}/terms", w.tech_a),
            json!({
                "trial_days": 90, "decision_days": 30, "currency": "VND",
                "price": {"model": "lump_sum", "amount": "150000000", "due_days": 30},
                "insurance_required": false, "early_conversion_discount": "0.05"
            }),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    let (s, a) = app
        .act(
            &w.inst_a.token,
            &id_of(&a),
            "approve",
            version_of(&a),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["trial_end"], "2026-06-07");
    let quote = |day: &'static str| {
        let app = &app;
        let token = w.sme_a.token.clone();
        let id = id_of(&a);
        async move {
            app.get(
                &token,
                &format!("/api/v1/agreements/{id}/quote?convert_on={day}"),
            )
            .await
        }
    };
    let (_, on_last_day) = quote("2026-06-07").await;
    assert_eq!(on_last_day["early_conversion_discount"], "0.05");
    assert_eq!(on_last_day["total"], "142500000");
    assert_eq!(on_last_day["lines"][0]["due"], "2026-07-07");
    let (_, after) = quote("2026-06-08").await;
    assert_eq!(after["early_conversion_discount"], Value::Null);
    assert_eq!(after["total"], "150000000");
}

#[actix_web::test]
async fn nothing_to_quote_before_approval_and_bad_dates_are_422() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    let (s, p) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{}/quote", id_of(&a)),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["current_state"], "requested");
    let (s, p) = app
        .get(
            &w.sme_a.token,
            &format!(
                "/api/v1/agreements/{}/quote?convert_on=31-12-2026",
                id_of(&a)
            ),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "convert_on");
    let (s, _) = app
        .get(&w.sme_a.token, "/api/v1/agreements/no-such-id/quote")
        .await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn converting_creates_the_contract_and_its_schedule() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = active_b(&app, &w).await;
    let id = id_of(&a);
    let path = format!("/api/v1/agreements/{id}/settlement");
    let (s, p) = app.get(&w.sme_b.token, &path).await;
    assert_eq!(s, 409, "no settlement before conversion: {p}");
    let lines_before = app.count("schedule_lines");
    let (s, a) = app
        .act(&w.sme_b.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(app.count("schedule_lines"), lines_before + 4);

    let (s, st) = app.get(&w.inst_b.token, &path).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(
        (
            st["currency"].as_str(),
            st["rounding"].as_str(),
            st["converted_on"].as_str()
        ),
        (Some("USD"), Some("half_up"), Some("2026-03-20"))
    );
    let dues: Vec<&str> = st["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["due"].as_str().unwrap())
        .collect();
    assert_eq!(
        dues,
        ["2026-04-19", "2026-07-19", "2026-10-19", "2027-01-19"]
    );
    assert!(st["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["amount"] == "3000.00" && l["paid"] == "0.00" && l["overdue"] == false));
    assert_eq!(
        (
            st["total"].as_str(),
            st["outstanding"].as_str(),
            st["overdue"].as_str()
        ),
        (Some("12000.00"), Some("12000.00"), Some("0.00"))
    );

    // Later, the first installment is overdue.
    let (_, st) = app
        .get(&w.sme_b.token, &format!("{path}?as_of=2026-05-01"))
        .await;
    assert_eq!(st["lines"][0]["overdue"], true);
    assert_eq!(st["lines"][1]["overdue"], false);
    assert_eq!(st["overdue"], "3000.00");

    // The conversion's audit event records the contract it created.
    let (_, events) = app
        .get(&w.auditor.token, &format!("/api/v1/agreements/{id}/events"))
        .await;
    let convert = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "agreement.convert")
        .expect("convert event");
    let data: Value = serde_json::from_str(convert["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["after"]["contract"]["total_minor"], 1_200_000);
    assert_eq!(data["after"]["contract"]["lines"], 4);

    // Not the other side's to see.
    let (s, _) = app.get(&w.sme_a.token, &path).await;
    assert_eq!(s, 404);
    let (s, p) = app
        .get(&w.sme_b.token, &format!("{path}?as_of=tomorrow"))
        .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("as_of")));
}

/// An agreement on tech_b (USD 12,000.00 in 4 × 3,000.00, 60/30/10), signed and active on
/// 2026-03-20 (the clock passes 18 days).
async fn active_b(app: &TestApp, w: &World) -> Value {
    let a = approved_b(app, w).await;
    let id = id_of(&a);
    let (_, a) = app
        .act(&w.sme_b.token, &id, "sign", version_of(&a), json!({}))
        .await;
    let (_, a) = app
        .act(&w.inst_b.token, &id, "sign", version_of(&a), json!({}))
        .await;
    assert_eq!(a["status"], "signed");
    app.pass_days(18);
    let (_, a) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(a["status"], "active");
    a
}

/// [`active_b`], converted on 2026-03-20.
async fn converted_b(app: &TestApp, w: &World) -> String {
    let a = active_b(app, w).await;
    let (s, a) = app
        .act(
            &w.sme_b.token,
            &id_of(&a),
            "convert",
            version_of(&a),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    id_of(&a)
}

#[actix_web::test]
async fn payments_allocate_to_the_oldest_installments_and_are_distributed() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = converted_b(&app, &w).await;
    let pay = |amount: &str, reference: &str| {
        let body = json!({"amount": amount, "received_on": "2026-03-20", "reference": reference});
        let app = &app;
        let token = w.inst_b.token.clone();
        let id = id.clone();
        async move {
            app.post(&token, &format!("/api/v1/agreements/{id}/payments"), body)
                .await
        }
    };
    // 4,500.00 pays line 1 and half of line 2.
    let (s, st) = pay("4500.00", "VCB-0001").await;
    assert_eq!(s, 201, "{st}");
    let paid: Vec<&str> = st["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["paid"].as_str().unwrap())
        .collect();
    assert_eq!(paid, ["3000.00", "1500.00", "0.00", "0.00"]);
    assert_eq!(
        (st["paid"].as_str(), st["outstanding"].as_str()),
        (Some("4500.00"), Some("7500.00"))
    );
    assert_eq!(st["payments"][0]["to_institute"], "2700.00");
    assert_eq!(st["payments"][0]["to_inventors"], "1350.00");
    assert_eq!(st["payments"][0]["to_intermediary"], "450.00");
    // ¥/$ 0.05 = 5 cents: 3 / 1.5 / 0.5 → half_up 3 + 2 + 1 = 6, the later .5 gives one back.
    let (s, st) = pay("0.05", "VCB-0002").await;
    assert_eq!(s, 201, "{st}");
    assert_eq!(
        (
            st["payments"][1]["to_institute"].as_str(),
            st["payments"][1]["to_inventors"].as_str(),
            st["payments"][1]["to_intermediary"].as_str()
        ),
        (Some("0.03"), Some("0.02"), Some("0.00"))
    );
    assert_eq!(st["received_to_institute"], "2700.03");

    let before = app.snapshot();
    // The same reference again, an overpayment, bad money, a future date: refused, nothing written.
    let (s, p) = pay("1.00", "VCB-0001").await;
    assert_eq!(s, 409, "{p}");
    let (s, p) = pay("7500.00", "VCB-0003").await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("amount")),
        "{p}"
    );
    for bad in ["1.005", "-1", "1e3", "0"] {
        let (s, p) = pay(bad, "VCB-0004").await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (422, Some("amount")),
            "{bad}: {p}"
        );
    }
    let (s, p) = app
        .post(
            &w.inst_b.token,
            &format!("/api/v1/agreements/{id}/payments"),
            json!({"amount": 1.5, "received_on": "2026-03-20", "reference": "X"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("amount")),
        "a JSON number is not money: {p}"
    );
    let (s, p) = app
        .post(
            &w.inst_b.token,
            &format!("/api/v1/agreements/{id}/payments"),
            json!({"amount": "1.00", "received_on": "2026-03-21", "reference": "X"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("received_on")),
        "{p}"
    );
    // Only the agreement's institute records payments; the SME may not, strangers cannot see it.
    let (s, _) = app
        .post(
            &w.sme_b.token,
            &format!("/api/v1/agreements/{id}/payments"),
            json!({"amount": "1.00", "received_on": "2026-03-20", "reference": "X"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{id}/payments"),
            json!({"amount": "1.00", "received_on": "2026-03-20", "reference": "X"}),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(app.snapshot(), before);
    assert_eq!(app.count("payments"), 2);

    // Every payment is in the audit chain, which still verifies.
    let (_, events) = app
        .get(&w.auditor.token, &format!("/api/v1/agreements/{id}/events"))
        .await;
    assert_eq!(
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "payment.recorded")
            .count(),
        2
    );
    let (_, v) = app.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!(v["ok"], true);
}

/// tech_a moved to royalty terms (3.5% of quarterly net sales, a minimum of 5,000,000 VND a
/// year); sme_a's trial of it, signed and converted on 2026-03-04 local. Returns its id.
async fn converted_on_royalty_terms(app: &TestApp, w: &World) -> String {
    let (s, t) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}/terms", w.tech_a),
            json!({
                "trial_days": 30, "decision_days": 30, "currency": "VND",
                "price": {"model": "royalty", "rate": "0.035", "min_per_year": "5000000"},
                "insurance_required": false
            }),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let id = id_of(&app.signed_agreement(w).await);
    app.pass_days(2);
    let (_, a) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    let (s, a) = app
        .act(&w.sme_a.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    id
}

#[actix_web::test]
async fn sales_reports_add_royalty_lines() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = converted_on_royalty_terms(&app, &w).await;
    let report = |start: &str, sales: &str, token: String| {
        let app = &app;
        let id = id.clone();
        let body = json!({"period_start": start, "net_sales": sales});
        async move {
            app.post(
                &token,
                &format!("/api/v1/agreements/{id}/sales-reports"),
                body,
            )
            .await
        }
    };
    // Q2 has not ended yet on 4 March.
    let (s, p) = report("2026-04-01", "100", w.sme_a.token.clone()).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("period_start")),
        "{p}"
    );
    app.pass_days(120); // 2026-07-02
                        // 3.5% of 123,456,789 VND = 4,320,987.615 → 4,320,988, due 30 days after 30 June.
    let (s, st) = report("2026-04-01", "123456789", w.sme_a.token.clone()).await;
    assert_eq!(s, 201, "{st}");
    let line = st["lines"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            line["kind"].as_str(),
            line["due"].as_str(),
            line["amount"].as_str()
        ),
        (Some("royalty"), Some("2026-07-30"), Some("4320988"))
    );
    assert_eq!(st["royalty_rate"], "0.035");
    let before = app.snapshot();
    let (s, _) = report("2026-04-01", "1", w.sme_a.token.clone()).await;
    assert_eq!(s, 409, "the same quarter twice");
    let (s, p) = report("2026-05-01", "1", w.sme_a.token.clone()).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("period_start")),
        "not a quarter: {p}"
    );
    let (s, p) = report("2025-10-01", "1", w.sme_a.token.clone()).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("period_start")),
        "before the conversion: {p}"
    );
    let (s, p) = report("2026-01-01", "12.5", w.sme_a.token.clone()).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("net_sales")),
        "VND has no decimals: {p}"
    );
    let (s, _) = report("2026-04-01", "1", w.inst_a.token.clone()).await;
    assert_eq!(s, 403, "only the SME reports sales");
    let (s, _) = report("2026-04-01", "1", w.sme_b.token.clone()).await;
    assert_eq!(s, 404);
    assert_eq!(app.snapshot(), before, "refused reports change nothing");
}

#[actix_web::test]
async fn the_tax_stated_at_conversion_is_on_the_statement() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // Two agreements on tech_b, both active from 10 March.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let a = approved_b(&app, &w).await;
        let id = id_of(&a);
        let (_, a) = app
            .act(&w.sme_b.token, &id, "sign", version_of(&a), json!({}))
            .await;
        let (_, a) = app
            .act(&w.inst_b.token, &id, "sign", version_of(&a), json!({}))
            .await;
        assert_eq!(a["status"], "signed");
        ids.push(id);
    }
    app.pass_days(18);
    let version = |id: String| {
        let app = &app;
        let token = w.sme_b.token.clone();
        async move { version_of(&app.get(&token, &format!("/api/v1/agreements/{id}")).await.1) }
    };
    // A rate above 1 is refused and nothing converts.
    let v = version(ids[0].clone()).await;
    let before = app.snapshot();
    let (s, p) = app
        .act(
            &w.sme_b.token,
            &ids[0],
            "convert",
            v,
            json!({"tax": {"kind": "rate", "rate": "1.5"}}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("tax.rate")),
        "{p}"
    );
    let (s, p) = app
        .act(
            &w.sme_b.token,
            &ids[0],
            "convert",
            v,
            json!({"tax": {"kind": "exempt", "basis": " "}}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("tax.basis")),
        "{p}"
    );
    assert_eq!(app.snapshot(), before);
    // 10% of USD 12,000.00 = 1,200.00.
    let (s, a) = app
        .act(
            &w.sme_b.token,
            &ids[0],
            "convert",
            v,
            json!({"tax": {"kind": "rate", "rate": "0.1"}}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    let (_, st) = app
        .get(
            &w.inst_b.token,
            &format!("/api/v1/agreements/{}/settlement", ids[0]),
        )
        .await;
    assert_eq!(
        st["tax"],
        json!({"kind": "rate", "rate": "0.1", "basis": null, "amount": "1200.00"})
    );
    // A technology-transfer exemption: no tax, and the basis is shown.
    let v = version(ids[1].clone()).await;
    let basis = "Luật Thuế GTGT, Điều 5: chuyển giao công nghệ";
    let (s, a) = app
        .act(
            &w.sme_b.token,
            &ids[1],
            "convert",
            v,
            json!({"tax": {"kind": "exempt", "basis": basis}}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    let (_, st) = app
        .get(
            &w.inst_b.token,
            &format!("/api/v1/agreements/{}/settlement", ids[1]),
        )
        .await;
    assert_eq!(
        st["tax"],
        json!({"kind": "exempt", "rate": null, "basis": basis, "amount": "0.00"})
    );
}

/// A royalty contract with a minimum per contract year: the shortfall of year 1 becomes a
/// true-up line once the year and its reporting window are over; the year is then final;
/// year 2, whose royalties reach the minimum, closes without a line.
#[actix_web::test]
async fn royalty_minimum_is_trued_up_when_the_contract_year_closes() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // Converted on 2026-03-04 local: day one of contract year 1.
    let id = converted_on_royalty_terms(&app, &w).await;
    let settlement = format!("/api/v1/agreements/{id}/settlement");
    let reports = format!("/api/v1/agreements/{id}/sales-reports");
    let (_, st) = app.get(&w.sme_a.token, &settlement).await;
    assert_eq!(st["royalty_years"][0]["starts_on"], "2026-03-04");
    assert_eq!(st["royalty_years"][0]["ends_on"], "2027-03-03");
    assert_eq!(st["royalty_years"][0]["closes_on"], "2027-04-03");
    assert_eq!(st["royalty_years"][0]["shortfall"], "5000000");

    app.pass_days(120); // 2026-07-02
                        // Q2 2026: 3.5% of 123,456,789 = 4,320,987.615 → 4,320,988; 679,012 short of the minimum.
    let (s, st) = app
        .post(
            &w.sme_a.token,
            &reports,
            json!({"period_start": "2026-04-01", "net_sales": "123456789"}),
        )
        .await;
    assert_eq!(s, 201, "{st}");
    // 2027-04-02: year 1 is over, but its last quarter may still be reported: not closed.
    assert_eq!(app.pass_days(274), 0);
    let (_, st) = app.get(&w.sme_a.token, &settlement).await;
    let y1 = &st["royalty_years"][0];
    assert_eq!(
        (
            y1["royalties"].as_str(),
            y1["shortfall"].as_str(),
            y1["closed"].as_bool()
        ),
        (Some("4320988"), Some("679012"), Some(false)),
        "{st}"
    );
    assert_eq!(
        st["royalty_years"].as_array().unwrap().len(),
        2,
        "year 2 has begun"
    );
    let lines_before = st["lines"].as_array().unwrap().len();

    app.pass_days(1); // 2027-04-03: year 1 closes
    let (_, st) = app.get(&w.sme_a.token, &settlement).await;
    let y1 = &st["royalty_years"][0];
    assert_eq!(y1["closed"], true, "{st}");
    assert_eq!(y1["shortfall_minor"], 679012);
    let lines = st["lines"].as_array().unwrap();
    assert_eq!(lines.len(), lines_before + 1);
    let true_up = lines.last().unwrap();
    assert_eq!(
        (
            true_up["kind"].as_str(),
            true_up["amount"].as_str(),
            true_up["due"].as_str()
        ),
        (Some("true_up"), Some("679012"), Some("2027-05-03"))
    );
    assert_eq!(y1["true_up_line"], true_up["number"]);
    assert_eq!(
        app.close_royalty_years(),
        0,
        "a closed year never closes again"
    );
    let events = app
        .db(|c| usefirst::audit::for_entity(c, "agreement", &id))
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "royalty.year_closed")
            .count(),
        1
    );

    // Year 1 is final: a late report for a quarter ending in it is refused and changes nothing.
    let before = app.snapshot();
    let (s, p) = app
        .post(
            &w.sme_a.token,
            &reports,
            json!({"period_start": "2026-10-01", "net_sales": "1000"}),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(app.snapshot(), before);
    // Q1 2027 ends on 31 March, in year 2: 3.5% of 200,000,000 = 7,000,000 ≥ the minimum.
    let (s, st) = app
        .post(
            &w.sme_a.token,
            &reports,
            json!({"period_start": "2027-01-01", "net_sales": "200000000"}),
        )
        .await;
    assert_eq!(s, 201, "{st}");

    // The true-up is paid like any line, in order of due date: the Q1 2027 royalty (due
    // 30 April) comes before the true-up (due 3 May).
    let (s, st) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{id}/payments"),
            json!({"amount": "5000000", "received_on": "2027-04-03", "reference": "UNC-2027-0403"}),
        )
        .await;
    assert_eq!(s, 201, "{st}");
    let paid: Vec<(String, i64)> = st["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_string(),
                l["paid_minor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        paid,
        vec![
            ("royalty".to_string(), 4320988),
            ("true_up".to_string(), 0),
            ("royalty".to_string(), 679012)
        ]
    );
    let (s, st) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{id}/payments"),
            json!({"amount": "6999999", "received_on": "2027-04-03", "reference": "UNC-2027-0403-2"}),
        )
        .await;
    assert_eq!(s, 201, "{st}");
    assert_eq!(st["lines"][1]["paid_minor"], 679011, "{st}");
    assert_eq!(st["outstanding"], "1");

    app.pass_days(366); // 2028-04-03: year 2 closes with nothing owed
    let (_, st) = app.get(&w.sme_a.token, &settlement).await;
    let y2 = &st["royalty_years"][1];
    assert_eq!(
        (
            y2["closed"].as_bool(),
            y2["royalties"].as_str(),
            y2["shortfall"].as_str(),
            y2["true_up_line"].is_null()
        ),
        (Some(true), Some("7000000"), Some("0"), true),
        "{st}"
    );
    assert_eq!(
        st["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["kind"] == "true_up")
            .count(),
        1,
        "{st}"
    );
    let (_, v) = app.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!(v["ok"], true);
}

/// Policies bound on a converted agreement show on its statement with the premium and who
/// pays what; the subsidy cap is per SME per calendar year across all its policies.
#[actix_web::test]
async fn premiums_and_their_shares_are_on_the_statement_with_the_subsidy_cap() {
    use usefirst::insurance::{bind, Insured, PolicyTerms, Risk};
    use usefirst::settlement::allocate::Rounding;
    use usefirst::settlement::insurance::PremiumShares;
    use usefirst::settlement::money::Currency;

    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = converted_b(&app, &w).await;
    let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    // USD 10,000.00 of cover at 1.5%: a premium of 150.00, split 30/20/50; the subsidy is
    // capped at 100.00 per SME per year.
    let terms = |risk: Risk| PolicyTerms {
        insurer_id: w.insurer_a.org.clone(),
        product_id: None,
        product_version: None,
        risks: vec![risk],
        currency: Currency::parse("USD").unwrap(),
        coverage_minor: 1_000_000,
        premium_rate: d("0.015"),
        deductible_minor: 50_000,
        shares: PremiumShares {
            sme: d("0.3"),
            institute: d("0.2"),
            subsidy: d("0.5"),
        },
        subsidy_cap_minor: Some(10_000),
    };
    let bound = |risk: Risk, year: i32| {
        let terms = terms(risk);
        app.state
            .db
            .write(|conn| {
                bind(
                    conn,
                    app.clock.now(),
                    usefirst::audit::Who::SYSTEM,
                    Insured {
                        agreement_id: &id,
                        sme_id: &w.sme_b.org,
                        subsidy_year: year,
                    },
                    &terms,
                    Rounding::HalfUp,
                )
            })
            .unwrap()
    };
    // The policy bound at the signature on insurer A's product: 150.00, 45/30/75, within
    // the SME's 100.00 subsidy cap for 2026.
    let first = usefirst::insurance::for_agreement(&mut app.state.db.reader().unwrap(), &id)
        .unwrap()
        .remove(0);
    assert_eq!(
        (
            first.premium_minor,
            first.sme_pays_minor,
            first.institute_pays_minor,
            first.subsidy_minor,
            first.subsidy_capped_minor
        ),
        (15_000, 4_500, 3_000, 7_500, 0)
    );
    // The same SME, the same year: 25.00 of the cap is left, the other 50.00 falls to the SME.
    let second = bound(Risk::NonPayment, 2026);
    assert_eq!(
        (
            second.sme_pays_minor,
            second.institute_pays_minor,
            second.subsidy_minor,
            second.subsidy_capped_minor
        ),
        (9_500, 3_000, 2_500, 5_000)
    );
    // A new calendar year starts a new cap.
    let third = bound(Risk::NonPayment, 2027);
    assert_eq!(
        (third.subsidy_minor, third.subsidy_capped_minor),
        (7_500, 0)
    );

    let (s, st) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/agreements/{id}/settlement"),
        )
        .await;
    assert_eq!(s, 200, "{st}");
    let policies = st["insurance"].as_array().unwrap();
    assert_eq!(policies.len(), 3, "{st}");
    let p = &policies[1];
    assert_eq!(
        (
            p["premium"].as_str(),
            p["sme_pays"].as_str(),
            p["institute_pays"].as_str(),
            p["subsidy"].as_str(),
            p["subsidy_capped"].as_str(),
            p["subsidy_cap"].as_str(),
            p["deductible"].as_str(),
            p["rounding"].as_str(),
        ),
        (
            Some("150.00"),
            Some("95.00"),
            Some("30.00"),
            Some("25.00"),
            Some("50.00"),
            Some("100.00"),
            Some("500.00"),
            Some("half_up")
        )
    );
    assert_eq!(p["risks"], json!(["non_payment"]));
    for p in policies {
        let sum = p["sme_pays_minor"].as_i64().unwrap()
            + p["institute_pays_minor"].as_i64().unwrap()
            + p["subsidy_minor"].as_i64().unwrap();
        assert_eq!(
            sum,
            p["premium_minor"].as_i64().unwrap(),
            "the shares sum to the premium"
        );
    }
    let events = app
        .db(|c| usefirst::audit::for_entity(c, "agreement", &id))
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "insurance.policy_bound")
            .count(),
        3
    );
    let (_, v) = app.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!(v["ok"], true);
}
