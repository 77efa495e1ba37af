//! Registration of conversion contracts over HTTP: the rule per jurisdiction, the deadline,
//! the certificate (bad input, foreign agreements, wrong state), payments that wait for the
//! certificate, and the reminders before the deadline, each once.

use chrono::Duration;
use serde_json::{json, Value};
use usefirst::settlement::terms::Terms;

use crate::helpers::*;

/// Terms of `currency` with one lump sum of `amount` due 30 days after the payments start.
pub fn lump(currency: &str, amount: &str, extra: Value) -> Terms {
    let mut body = json!({
        "trial_days": 90, "decision_days": 30, "currency": currency,
        "price": {"model": "lump_sum", "amount": amount, "due_days": 30},
        "insurance_required": false, "late_payment_daily_rate": "0.001"
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    serde_json::from_value(body).unwrap()
}

/// A technology of institute A on `terms`, tried by SME A from tomorrow and converted on
/// the trial's first day (3 March 2026 in a fresh world). Returns the agreement's id.
pub async fn converted_on_terms(app: &TestApp, w: &World, terms: Terms) -> String {
    let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
    let tomorrow = app.clock.now().with_timezone(&tz).date_naive() + Duration::days(1);
    let tech = app.add_technology(&w.inst_a, "R", "agriculture", "listed", terms);
    let a = app.request(&w.sme_a, &tech, &tomorrow.to_string()).await;
    let id = id_of(&a);
    let mut a = a;
    for (token, action) in [
        (&w.inst_a.token, "approve"),
        (&w.sme_a.token, "sign"),
        (&w.inst_a.token, "sign"),
    ] {
        let (s, next) = app.act(token, &id, action, version_of(&a), json!({})).await;
        assert_eq!(s, 200, "{action}: {next}");
        a = next;
    }
    app.pass_days(1);
    let (_, a) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(a["status"], "active", "{a}");
    let (s, a) = app
        .act(&w.sme_a.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    id
}

/// A state-funded VND lump sum of 150,000,000 converted (see [`converted_on_terms`]):
/// Vietnam's registration applies.
pub async fn state_funded(app: &TestApp, w: &World) -> String {
    converted_on_terms(
        app,
        w,
        lump("VND", "150000000", json!({"state_funded": true})),
    )
    .await
}

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A state-funded result priced in VND: Vietnam's rule. Registration is required within 90
/// days of the conversion (3 March → 1 June), the contract takes effect on the certificate,
/// and until it is entered the lump sum is held: not due, not overdue, no interest. The
/// certificate is checked field by field, refused to the SME (403) and to another
/// institute (404), and once entered the lump sum falls due 30 days after its date.
#[actix_web::test]
async fn a_state_funded_contract_waits_for_its_certificate() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = state_funded(&app, &w).await;
    let reg = format!("/api/v1/agreements/{id}/registration");
    let settlement = format!("/api/v1/agreements/{id}/settlement");
    let (s, r) = app.get(&w.sme_a.token, &reg).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            &r["status"],
            &r["jurisdiction"],
            &r["required"],
            &r["reason"],
            &r["signed_on"],
            &r["deadline"],
            &r["days_left"],
            &r["takes_effect_on_certificate"],
        ),
        (
            &json!("pending"),
            &json!("vn"),
            &json!(true),
            &json!("state_funded"),
            &json!("2026-03-03"),
            &json!("2026-06-01"),
            &json!(90),
            &json!(true)
        )
    );
    let (_, st) = app.get(&w.sme_a.token, &settlement).await;
    assert_eq!(st["waiting_for"], json!(["registration"]), "{st}");
    assert_eq!(st["lines"][0]["held"], true);
    assert_eq!(st["registration"]["status"], "pending");
    // Sixty days on, long past the provisional due day (2 April): still not due.
    app.pass_days(60);
    let (_, st) = app.get(&w.inst_a.token, &settlement).await;
    assert_eq!(
        (&st["lines"][0]["overdue"], &st["overdue"], &st["interest"]),
        (&json!(false), &json!("0"), &json!("0")),
        "{st}"
    );

    // Bad input: every field named, nothing written.
    let events = app.count("audit_events");
    let (s, p) = app
        .post(
            &w.inst_a.token,
            &reg,
            json!({"certificate_number": " ", "certificate_date": "2026-03-02",
                   "issuing_office": "", "vat_exemption_ref": "CN-VAT-1"}),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(
        fields(&p),
        [
            "certificate_number",
            "issuing_office",
            "certificate_date",
            "vat_exemption_ref"
        ]
    );
    let (s, p) = app
        .post(
            &w.inst_a.token,
            &reg,
            json!({"certificate_number": "45/2026/GCN", "certificate_date": "2027-01-01",
                   "issuing_office": "Sở Khoa học và Công nghệ Cần Thơ"}),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "certificate_date");
    let (s, p) = app
        .post(&w.inst_a.token, &reg, json!({"certificate_number": "1"}))
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(app.count("audit_events"), events);

    let good = json!({"certificate_number": "45/2026/GCN-ĐKCGCN", "certificate_date": "2026-04-20",
                      "issuing_office": "Sở Khoa học và Công nghệ Cần Thơ"});
    let (s, p) = app.post(&w.sme_a.token, &reg, good.clone()).await;
    assert_eq!(s, 403, "{p}");
    let (s, p) = app.post(&w.inst_b.token, &reg, good.clone()).await;
    assert_eq!(s, 404, "{p}");
    let (s, p) = app.get(&w.sme_b.token, &reg).await;
    assert_eq!(s, 404, "{p}");
    let (s, r) = app.post(&w.inst_a.token, &reg, good.clone()).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (&r["status"], &r["certificate_number"], &r["days_left"]),
        (
            &json!("registered"),
            &json!("45/2026/GCN-ĐKCGCN"),
            &Value::Null
        )
    );
    assert_eq!(app.count("audit_events"), events + 1);
    // Now due 30 days after the certificate (20 April → 20 May); today is 2 May.
    let (_, st) = app.get(&w.sme_a.token, &settlement).await;
    assert_eq!(
        (
            &st["lines"][0]["due"],
            &st["lines"][0]["held"],
            &st["lines"][0]["overdue"],
            &st["waiting_for"]
        ),
        (
            &json!("2026-05-20"),
            &json!(false),
            &json!(false),
            &json!([])
        ),
        "{st}"
    );
    let (_, st) = app
        .get(&w.sme_a.token, &format!("{settlement}?as_of=2026-05-25"))
        .await;
    assert_eq!(st["lines"][0]["overdue"], true, "{st}");
    // Entered once: a second entry is a conflict.
    let (s, p) = app.post(&w.inst_a.token, &reg, good).await;
    assert_eq!(s, 409, "{p}");
    // Both parties are told.
    let told: i64 = app
        .db(|c| {
            use diesel::prelude::*;
            use usefirst::db::schema::outbox;
            usefirst::on_backend!(c, |c| outbox::table
                .filter(outbox::kind.eq("contract_registered"))
                .count()
                .get_result(c))
        })
        .unwrap();
    assert!(told >= 2, "{told}");
}

/// The rule per jurisdiction: a VND contract not from state funds, and a USD one with no
/// jurisdiction, need no registration (a certificate is refused with 409, payments count from
/// the conversion); a CNY one is China's: always registered, no deadline, payments not held,
/// and the registration number with the VAT-exemption reference recorded and shown.
#[actix_web::test]
async fn rules_per_jurisdiction() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let plain = converted_on_terms(&app, &w, lump("VND", "90000000", json!({}))).await;
    let (_, r) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{plain}/registration"),
        )
        .await;
    assert_eq!(
        (&r["status"], &r["reason"], &r["deadline"]),
        (
            &json!("not_required"),
            &json!("not_state_funded"),
            &Value::Null
        ),
        "{r}"
    );
    let (s, p) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{plain}/registration"),
            json!({"certificate_number": "1", "certificate_date": "2026-03-03", "issuing_office": "X"}),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    let (_, st) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{plain}/settlement"),
        )
        .await;
    assert_eq!(
        (&st["lines"][0]["due"], &st["lines"][0]["held"]),
        (&json!("2026-04-02"), &json!(false))
    );

    let usd = converted_on_terms(
        &app,
        &w,
        lump("USD", "1000.00", json!({"state_funded": true})),
    )
    .await;
    let (_, r) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{usd}/registration"),
        )
        .await;
    assert_eq!(
        (&r["status"], &r["reason"]),
        (&json!("not_required"), &json!("no_jurisdiction"))
    );

    let cny = converted_on_terms(&app, &w, lump("CNY", "120000.00", json!({}))).await;
    let reg = format!("/api/v1/agreements/{cny}/registration");
    let (_, r) = app.get(&w.inst_a.token, &reg).await;
    assert_eq!(
        (
            &r["status"],
            &r["jurisdiction"],
            &r["reason"],
            &r["deadline"],
            &r["takes_effect_on_certificate"]
        ),
        (
            &json!("pending"),
            &json!("cn"),
            &json!("always"),
            &Value::Null,
            &json!(false)
        ),
        "{r}"
    );
    let (_, st) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{cny}/settlement"),
        )
        .await;
    assert_eq!(
        st["lines"][0]["held"], false,
        "China's registration does not hold payments"
    );
    let (s, r) = app
        .post(
            &w.admin.token,
            &reg,
            json!({"certificate_number": "2026440100001234", "certificate_date": "2026-03-05",
                   "issuing_office": "广州市技术合同认定登记处", "vat_exemption_ref": "穗税免备〔2026〕18号"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (_, st) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{cny}/settlement"),
        )
        .await;
    assert_eq!(
        (
            &st["registration"]["certificate_number"],
            &st["registration"]["vat_exemption_ref"]
        ),
        (&json!("2026440100001234"), &json!("穗税免备〔2026〕18号"))
    );
}

/// Day by day at 08:00 local through the remind job: registration reminders 30, 7 and 1
/// days before the deadline (1 June), each recorded and mailed once however often the job
/// runs; none for the held lump sum; the status overdue after the deadline (5 days past on
/// 6 June).
#[actix_web::test]
async fn registration_reminders_come_30_7_and_1_days_ahead_once_each() {
    use diesel::prelude::*;
    use usefirst::db::schema::{outbox, reminders};
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = state_funded(&app, &w).await;
    let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
    let mut seen: Vec<(String, i32, String)> = Vec::new();
    for _ in 0..95 {
        for _ in 0..2 {
            usefirst::app::remind::run(&app.state, app.clock.now()).unwrap();
        }
        let today = app.clock.now().with_timezone(&tz).date_naive().to_string();
        let rows: Vec<(String, i32)> = app
            .db(|c| {
                usefirst::on_backend!(c, |c| reminders::table
                    .filter(reminders::agreement_id.eq(&id))
                    .select((reminders::kind, reminders::offset_days))
                    .load(c))
            })
            .unwrap();
        for (kind, offset) in rows {
            if !seen.iter().any(|s| s.0 == kind && s.1 == offset) {
                seen.push((kind, offset, today.clone()));
            }
        }
        app.clock.advance(Duration::days(1));
    }
    let r = |o: i32, d: &str| ("registration".to_string(), o, d.to_string());
    assert_eq!(
        seen,
        vec![r(30, "2026-05-02"), r(7, "2026-05-25"), r(1, "2026-05-31")]
    );
    let mails: Vec<String> = app
        .db(|c| {
            usefirst::on_backend!(c, |c| outbox::table
                .filter(outbox::kind.eq("reminder_registration"))
                .select(outbox::subject)
                .load(c))
        })
        .unwrap();
    // Three reminders, each to every user of the two parties.
    assert_eq!(mails.len(), 6, "{mails:?}");
    assert!(mails.iter().any(|m| m.contains("30")), "{mails:?}");
    let (_, r) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{id}/registration"),
        )
        .await;
    assert_eq!(
        (&r["status"], &r["days_left"]),
        (&json!("overdue"), &json!(-5)),
        "{r}"
    );
}

/// The monthly report counts the contracts to register by where they stand at the month's
/// end: in March one registered, one pending; by the end of June the pending one is overdue
/// (its deadline was 2 June), and one not state-funded is in no count.
#[actix_web::test]
async fn the_monthly_report_counts_registrations() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let funded = || lump("VND", "150000000", json!({"state_funded": true}));
    let registered = converted_on_terms(&app, &w, funded()).await; // 3 March
    converted_on_terms(&app, &w, funded()).await; // 4 March, deadline 2 June
    converted_on_terms(&app, &w, lump("VND", "1000000", json!({}))).await;
    let (s, r) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{registered}/registration"),
            json!({"certificate_number": "7/GCN", "certificate_date": "2026-03-05",
                   "issuing_office": "Bộ Khoa học và Công nghệ"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    app.pass_days(120); // 3 July
    let counts = |month: &'static str| {
        let app = &app;
        let token = w.admin.token.clone();
        async move {
            let (s, report) = app
                .get(&token, &format!("/api/v1/reports/monthly/{month}"))
                .await;
            assert_eq!(s, 200, "{report}");
            report["registration"].clone()
        }
    };
    assert_eq!(
        counts("2026-03").await,
        json!({"registered": 1, "pending": 1, "overdue": 0})
    );
    assert_eq!(
        counts("2026-06").await,
        json!({"registered": 1, "pending": 0, "overdue": 1})
    );

    // The admins' report page shows the same counts, in either language.
    let mut b = crate::browser::Browser::signed_in(&app, &w.admin.email).await;
    for (lang, heading, month, figures) in [
        (
            "en",
            "Registration of conversion contracts",
            "2026-06",
            [1, 0, 1],
        ),
        ("vi", "Đăng ký hợp đồng chuyển giao", "2026-03", [1, 1, 0]),
    ] {
        b.language(lang).await;
        let (s, _, page) = b.get(&format!("/admin/reports?month={month}")).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains(heading), "{lang}: {page}");
        for (tile, n) in ["registered", "registration_pending", "registration_overdue"]
            .iter()
            .zip(figures)
        {
            let at = page
                .find(&format!("id=\"tile-{tile}\""))
                .unwrap_or_else(|| panic!("{lang} {month}: no {tile} tile"));
            let figure = format!("<span class=\"figure\">{n}</span>");
            assert!(
                page[at..].starts_with(&format!("id=\"tile-{tile}\">{figure}")),
                "{lang} {month} {tile}: {}",
                &page[at..at + 80]
            );
        }
    }
}

/// A report page of a month when no contract had to be registered says so instead of zeros.
#[actix_web::test]
async fn the_report_page_says_when_nothing_had_to_be_registered() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    converted_on_terms(&app, &w, lump("VND", "1000000", json!({}))).await;
    let mut b = crate::browser::Browser::signed_in(&app, &w.admin.email).await;
    b.language("en").await;
    let (s, _, page) = b.get("/admin/reports?month=2026-03").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("id=\"registration-none\""), "{page}");
    assert!(!page.contains("id=\"tile-registered\""), "{page}");
}

/// The conversion contract downloaded once the certificate is entered is its next edition and
/// prints the registration (in China with the VAT-exemption reference), in each language; the
/// one downloaded before printed none of it.
#[actix_web::test]
async fn the_registered_contract_prints_its_certificate() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = converted_on_terms(&app, &w, lump("CNY", "120000.00", json!({}))).await;
    let doc =
        |lang: &str| format!("/api/v1/agreements/{id}/documents/conversion-contract?lang={lang}");
    let text = |pdf: &[u8]| -> String {
        crate::pdf_reader::Pdf::read(pdf)
            .text()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    let (s, _, before) = app.get_bytes(&w.inst_a.token, &doc("zh")).await;
    assert_eq!(s, 200);
    let (_, a) = app
        .get(&w.inst_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    let version = version_of(&a);
    assert!(!text(&before).contains("2026440100001234"));

    let (s, r) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{id}/registration"),
            json!({"certificate_number": "2026440100001234", "certificate_date": "2026-03-03",
                   "issuing_office": "广州市技术合同认定登记处", "vat_exemption_ref": "穗税免备〔2026〕18号"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (_, a) = app
        .get(&w.inst_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(version_of(&a), version + 1, "a new edition: {a}");

    for (lang, words) in [
        (
            "zh",
            [
                "登记编号2026440100001234",
                "广州市技术合同认定登记处",
                "增值税免税备案号：穗税免备〔2026〕18号",
            ],
        ),
        (
            "en",
            [
                "registrationno.2026440100001234",
                "广州市技术合同认定登记处",
                "VATexemptionreference:穗税免备〔2026〕18号",
            ],
        ),
        (
            "vi",
            [
                "sốđăngký2026440100001234",
                "广州市技术合同认定登记处",
                "miễnthuếGTGT:穗税免备〔2026〕18号",
            ],
        ),
    ] {
        let (s, _, after) = app.get_bytes(&w.sme_a.token, &doc(lang)).await;
        assert_eq!(s, 200, "{lang}");
        let after = text(&after);
        for word in words {
            assert!(after.contains(word), "{lang}: no {word} in {after}");
        }
    }
}
