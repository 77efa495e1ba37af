//! The registration box on an agreement's payments tab, as a browser sees it: the status, the
//! deadline and the days left, the held payment's wording in both languages, the certificate
//! form for the institute only, a bad date set again beside its field with what was typed
//! kept, and the certificate shown once saved.

use crate::browser::{text, Browser};
use crate::helpers::*;
use crate::registration_contracts::state_funded;

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
