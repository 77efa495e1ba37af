//! The registration box on an agreement's payments tab, as a browser sees it: the status, the
//! deadline and the days left, the held payment's wording in both languages, the certificate
//! form for the institute only, a bad date set again beside its field with what was typed
//! kept, and the certificate shown once saved.

use crate::browser::{text, Browser};
use crate::helpers::*;
use crate::registration_contracts::{converted_on_terms, lump, state_funded};
use crate::registration_triggers::first_revenue_terms;

#[actix_web::test]
async fn the_payments_tab_shows_the_registration_and_takes_the_certificate() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = state_funded(&app, &w).await;
    let path = format!("/agreements/{id}/money");
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    for (lang, words) in [
        (
            "vi",
            [
                "Cần đăng ký.",
                "còn 90 ngày",
                "Chưa đến hạn: chờ đăng ký",
                "Mẫu số 01",
            ],
        ),
        (
            "en",
            [
                "To register.",
                "90 day(s) left",
                "Not yet due: waiting for registration",
                "Form 01",
            ],
        ),
    ] {
        sme.language(lang).await;
        let (s, _, page) = sme.get(&path).await;
        assert_eq!(s, 200);
        let page = text(&page);
        for w in words {
            assert!(page.contains(w), "{lang}: {w} in {page}");
        }
        assert!(
            !page.contains("name=\"certificate_number\""),
            "the SME has no form"
        );
    }
    let mut inst = Browser::signed_in(&app, &w.inst_a.email).await;
    inst.language("en").await;
    let (_, _, page) = inst.get(&path).await;
    assert!(page.contains("name=\"certificate_number\""), "{page}");
    let csrf = inst.csrf();
    let (s, _, page) = inst
        .post(
            &format!("/agreements/{id}/registration"),
            &[
                ("csrf", csrf.as_str()),
                ("certificate_number", "45/GCN <a>"),
                ("certificate_date", "2026-01-01"),
                ("issuing_office", "Bộ Khoa học và Công nghệ"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(page.contains("id=\"reg-date-error\""), "{page}");
    assert!(
        page.contains("value=\"45/GCN &lt;a&gt;\""),
        "what was typed is kept: {page}"
    );
    let (s, headers, _) = inst
        .post(
            &format!("/agreements/{id}/registration"),
            &[
                ("csrf", csrf.as_str()),
                ("certificate_number", "45/GCN"),
                ("certificate_date", "2026-03-03"),
                ("issuing_office", "Bộ Khoa học và Công nghệ"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(headers["location"], format!("{path}#registration"));
    let (_, _, page) = inst.get(&path).await;
    let page = text(&page);
    assert!(
        page.contains("Registered.") && page.contains("45/GCN"),
        "{page}"
    );
    assert!(!page.contains("waiting for registration"), "{page}");
    // Another institute's browser gets the 404 page.
    let mut other = Browser::signed_in(&app, &w.inst_b.email).await;
    let (s, _, _) = other.get(&path).await;
    assert_eq!(s, 404);
}

/// The institute's home lists the contracts to register within 30 days (or late), with the
/// days left, linking to the registration box; none before that.
#[actix_web::test]
async fn the_institute_home_lists_registrations_due_soon() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = state_funded(&app, &w).await;
    let mut inst = Browser::signed_in(&app, &w.inst_a.email).await;
    inst.language("en").await;
    let (_, _, page) = inst.get("/home").await;
    assert!(
        text(&page).contains("No contract must be registered in the next 30 days."),
        "{page}"
    );
    app.pass_days(65); // 7 May; the deadline is 1 June
    let (_, _, page) = inst.get("/home").await;
    let page = text(&page);
    assert!(
        page.contains(&format!("/agreements/{id}/money#registration")),
        "{page}"
    );
    assert!(page.contains("25 day(s) left"), "{page}");
}

/// A first payment that waits for the SME's first reported revenue: the payments tab says so
/// above the statement and on the entry fee's line, in both languages, for both parties;
/// once a quarter with sales above zero is reported, the line has its day and the notice goes.
#[actix_web::test]
async fn the_payments_tab_says_a_first_payment_waits_for_the_first_revenue() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = converted_on_terms(&app, &w, first_revenue_terms()).await;
    let path = format!("/agreements/{id}/money");
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    let mut inst = Browser::signed_in(&app, &w.inst_a.email).await;
    for (lang, waiting, line) in [
        (
            "vi",
            "Chưa đến hạn: khoản thanh toán đầu tiên đến hạn khi doanh nghiệp lần đầu báo cáo một quý có doanh thu lớn hơn 0",
            "Đến hạn khi báo cáo doanh thu đầu tiên lớn hơn 0",
        ),
        (
            "en",
            "Not yet due: the first payment falls due when the enterprise first reports a quarter with sales above zero",
            "Due when the first sales above zero are reported",
        ),
    ] {
        for b in [&mut sme, &mut inst] {
            b.language(lang).await;
            let (s, _, page) = b.get(&path).await;
            assert_eq!(s, 200);
            let page = text(&page);
            assert!(page.contains(waiting), "{lang}: {page}");
            assert!(page.contains(line), "{lang}: {page}");
        }
    }
    // 2 July: the second quarter sold 100,000,000 VND; the fee is due 30 days after.
    app.pass_days(121);
    let (s, st) = app
        .post(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{id}/sales-reports"),
            serde_json::json!({"period_start": "2026-04-01", "net_sales": "100000000"}),
        )
        .await;
    assert_eq!(s, 201, "{st}");
    assert_eq!(st["lines"][0]["due"], "2026-08-01", "{st}");
    let (s, _, page) = sme.get(&path).await;
    assert_eq!(s, 200);
    let page = text(&page);
    let due =
        usefirst::typeset::format::date("en", chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap());
    assert!(page.contains(&due), "the entry fee's day, {due}: {page}");
    assert!(
        !page.contains("first reports a quarter with sales above zero"),
        "{page}"
    );
    assert!(!page.contains("Due when the first sales"), "{page}");
}

/// A Chinese (CNY) contract: its registration is pending on the payments tab, with the form
/// for the institute; once the technology-contract registration number and the VAT-exemption
/// reference are entered, both parties' tabs show them, in either language.
#[actix_web::test]
async fn the_payments_tab_shows_a_chinese_contracts_registration_number_and_vat_exemption() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = converted_on_terms(&app, &w, lump("CNY", "120000.00", serde_json::json!({}))).await;
    let path = format!("/agreements/{id}/money");
    let (number, vat) = ("2026440100001234", "穗税免备〔2026〕18号");
    let mut inst = Browser::signed_in(&app, &w.inst_a.email).await;
    inst.language("en").await;
    let (s, _, page) = inst.get(&path).await;
    assert_eq!(s, 200);
    assert!(page.contains("name=\"vat_exemption_ref\""), "{page}");
    assert!(!page.contains(number) && !page.contains(vat));
    let csrf = inst.csrf();
    let (s, headers, _) = inst
        .post(
            &format!("/agreements/{id}/registration"),
            &[
                ("csrf", csrf.as_str()),
                ("certificate_number", number),
                ("certificate_date", "2026-03-03"),
                ("issuing_office", "广州市技术合同认定登记处"),
                ("vat_exemption_ref", vat),
            ],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(headers["location"], format!("{path}#registration"));
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    for (b, lang, label) in [
        (&mut inst, "en", "VAT exemption reference"),
        (&mut sme, "vi", "Số văn bản miễn thuế giá trị gia tăng"),
    ] {
        b.language(lang).await;
        let (s, _, page) = b.get(&path).await;
        assert_eq!(s, 200);
        let page = text(&page);
        for shown in [number, vat, label, "广州市技术合同认定登记处"] {
            assert!(page.contains(shown), "{lang}: {shown} in {page}");
        }
        assert!(!page.contains("name=\"vat_exemption_ref\""), "entered once");
    }
}
