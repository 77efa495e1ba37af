//! The first payment's trigger over HTTP: a set day, months after conversion, the SME's first
//! sales above zero; what the statement says while it is not met, the reminders that follow
//! it, and the registration certificate with it (the later of the two governs).

use diesel::prelude::*;
use serde_json::{json, Value};
use usefirst::db::schema::reminders;

use crate::helpers::*;
use crate::registration_contracts::{converted_on_terms, lump};

fn reminded(app: &TestApp, id: &str) -> Vec<(String, i32)> {
    app.db(|c| {
        usefirst::on_backend!(c, |c| reminders::table
            .filter(reminders::agreement_id.eq(id))
            .order((reminders::kind, reminders::offset_days.desc()))
            .select((reminders::kind, reminders::offset_days))
            .load(c))
    })
    .unwrap()
}

async fn statement(app: &TestApp, w: &World, id: &str) -> Value {
    let (s, st) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{id}/settlement"),
        )
        .await;
    assert_eq!(s, 200, "{st}");
    st
}

/// Converted on 3 March: a set day (15 June, 0 days to pay) and two months after conversion
/// (3 May, then 10 days) date the lump sum from the trigger, not from the conversion.
#[actix_web::test]
async fn a_set_day_and_months_after_conversion_date_the_first_payment() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let mut on_day = lump(
        "VND",
        "1000000",
        json!({"first_payment": {"kind": "on_date", "date": "2026-06-15"}}),
    );
    if let usefirst::settlement::terms::Price::LumpSum { due_days, .. } = &mut on_day.price {
        *due_days = 0;
    }
    let id = converted_on_terms(&app, &w, on_day).await;
    let st = statement(&app, &w, &id).await;
    assert_eq!(
        (
            &st["lines"][0]["due"],
            &st["lines"][0]["held"],
            &st["waiting_for"]
        ),
        (&json!("2026-06-15"), &json!(false), &json!([]))
    );
    let mut months = lump(
        "VND",
        "1000000",
        json!({"first_payment": {"kind": "months_after_conversion", "months": 2}}),
    );
    if let usefirst::settlement::terms::Price::LumpSum { due_days, .. } = &mut months.price {
        *due_days = 10;
    }
    let id = converted_on_terms(&app, &w, months).await;
    let st = statement(&app, &w, &id).await;
    // Converted on 4 March (a day after the first): 4 May + 10 days.
    assert_eq!(st["converted_on"], "2026-03-04");
    assert_eq!(st["lines"][0]["due"], "2026-05-14", "{st}");
}

/// An entry fee of 20,000,000 VND plus a 3 % royalty, the fee due 30 days after the SME's
/// first reported sales above zero.
pub fn first_revenue_terms() -> usefirst::settlement::terms::Terms {
    serde_json::from_value(json!({
        "trial_days": 90, "decision_days": 30, "currency": "VND",
        "price": {"model": "entry_fee_plus_royalty", "entry_fee": "20000000", "due_days": 30, "rate": "0.03"},
        "insurance_required": false, "late_payment_daily_rate": "0.001",
        "first_payment": {"kind": "first_revenue"}
    }))
    .unwrap()
}

/// Entry fee plus royalty, the fee due 30 days after the SME's first sales above zero: held
/// (the statement says it waits for the first revenue), never reminded of or overdue while
/// held, still held after a quarter of zero sales, and due 30 days after the day the first
/// quarter with sales is reported; then reminded of like any line.
#[actix_web::test]
async fn first_revenue_holds_the_entry_fee_until_sales_above_zero_are_reported() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = converted_on_terms(&app, &w, first_revenue_terms()).await;
    let st = statement(&app, &w, &id).await;
    assert_eq!(st["waiting_for"], json!(["first_revenue"]), "{st}");
    assert_eq!(st["lines"][0]["held"], true);
    // Past the provisional due day (2 April): no reminder, not overdue.
    app.pass_days(30);
    usefirst::app::remind::run(&app.state, app.clock.now()).unwrap();
    assert_eq!(reminded(&app, &id), []);
    let reports = format!("/api/v1/agreements/{id}/sales-reports");
    let (s, st) = app
        .post(
            &w.sme_a.token,
            &reports,
            json!({"period_start": "2026-01-01", "net_sales": "0"}),
        )
        .await;
    assert_eq!(s, 201, "{st}");
    assert_eq!(
        (
            &st["lines"][0]["held"],
            &st["lines"][0]["overdue"],
            &st["waiting_for"]
        ),
        (&json!(true), &json!(false), &json!(["first_revenue"]))
    );
    // 2 July: the second quarter sold 100,000,000 VND.
    app.pass_days(91);
    let (s, st) = app
        .post(
            &w.sme_a.token,
            &reports,
            json!({"period_start": "2026-04-01", "net_sales": "100000000"}),
        )
        .await;
    assert_eq!(s, 201, "{st}");
    assert_eq!(
        (
            &st["lines"][0]["kind"],
            &st["lines"][0]["due"],
            &st["lines"][0]["held"],
            &st["waiting_for"]
        ),
        (
            &json!("entry_fee"),
            &json!("2026-08-01"),
            &json!(false),
            &json!([])
        ),
        "{st}"
    );
    // Seven days before its day the fee is reminded of.
    app.pass_days(23);
    usefirst::app::remind::run(&app.state, app.clock.now()).unwrap();
    assert!(
        reminded(&app, &id).contains(&("installment".to_string(), 7)),
        "{:?}",
        reminded(&app, &id)
    );
}

/// A state-funded VND contract with a trigger: the later of the trigger's day and the
/// certificate's governs. Trigger one month after conversion (3 April) and a certificate of 20
/// March: the lump sum counts from 3 April. A certificate of 10 April after a trigger of 4
/// April: it counts from the certificate.
#[actix_web::test]
async fn the_later_of_the_trigger_and_the_certificate_governs() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let terms = || {
        lump(
            "VND",
            "50000000",
            json!({"state_funded": true, "first_payment": {"kind": "months_after_conversion", "months": 1}}),
        )
    };
    let early = converted_on_terms(&app, &w, terms()).await; // 3 March
    let late = converted_on_terms(&app, &w, terms()).await; // 4 March
    let st = statement(&app, &w, &early).await;
    assert_eq!(st["waiting_for"], json!(["registration"]));
    app.pass_days(40); // 13 April
    let certify = |id: &str, day: &str| {
        let (path, body) = (
            format!("/api/v1/agreements/{id}/registration"),
            json!({"certificate_number": format!("GCN-{day}"), "certificate_date": day,
                   "issuing_office": "Bộ Khoa học và Công nghệ"}),
        );
        let app = &app;
        let token = w.inst_a.token.clone();
        async move {
            let (s, r) = app.post(&token, &path, body).await;
            assert_eq!(s, 201, "{r}");
        }
    };
    certify(&early, "2026-03-20").await;
    certify(&late, "2026-04-10").await;
    let st = statement(&app, &w, &early).await;
    assert_eq!(
        st["lines"][0]["due"], "2026-05-03",
        "3 April + 30 days: {st}"
    );
    let st = statement(&app, &w, &late).await;
    assert_eq!(
        st["lines"][0]["due"], "2026-05-10",
        "10 April + 30 days: {st}"
    );
}

/// Bad triggers are refused by the terms' check with the field named.
#[actix_web::test]
async fn bad_triggers_name_their_field() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let (s, t) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}", w.tech_a),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let base = json!({
        "trial_days": 90, "decision_days": 30, "currency": "VND",
        "price": {"model": "lump_sum", "amount": "1000", "due_days": 30},
        "insurance_required": false
    });
    for (extra, field) in [
        (
            json!({"first_payment": {"kind": "months_after_conversion", "months": 0}}),
            "first_payment.months",
        ),
        (
            json!({"first_payment": {"kind": "first_revenue"}}),
            "first_payment.kind",
        ),
        (json!({"jurisdiction": "fr"}), "jurisdiction"),
    ] {
        let mut body = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, p) = app
            .post(
                &w.inst_a.token,
                &format!("/api/v1/technologies/{}/terms", w.tech_a),
                body,
            )
            .await;
        assert_eq!(s, 422, "{p}");
        assert_field_error(&p, field);
    }
}
