//! The screening pages as a browser sees them: the institute's screening page is its own
//! (anyone else gets the 404 page); submitting needs the form token and the version shown
//! (403 without the token, the 412 page for a stale or missing version, nothing written);
//! the queue and the screening form are the supervisors' (institutes and SMEs get 404),
//! only admins get the decision form and may post it; a decision without a readiness level
//! or a return without a reason is set again with the messages beside the fields and what
//! was typed, writing nothing; a return reaches the institute's history with its reason and
//! the technology stays out of the SMEs' catalogue.

use reqwest::header::{HeaderMap, LOCATION};

use crate::browser::{text, Browser};
use crate::helpers::*;

/// Posts a form of named fields as `b`.
async fn post(
    b: &mut Browser,
    path: &str,
    fields: Vec<(&str, String)>,
) -> (u16, HeaderMap, String) {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    b.post(path, &pairs).await
}

#[actix_web::test]
async fn the_screening_pages_keep_to_their_users_and_set_bad_decisions_again() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let id = w.tech_draft.clone();
    let own = format!("/technologies/{id}/screening");
    let review = format!("/admin/screening/{id}");

    // Whose pages are whose.
    for who in [&w.inst_b, &w.sme_a, &w.admin, &w.auditor] {
        let mut b = Browser::signed_in(&app, &who.email).await;
        let (s, _, _) = b.get(&own).await;
        assert_eq!(s, 404, "{} on the institute's page", who.email);
    }
    for (who, want) in [
        (&w.inst_a, 404),
        (&w.sme_a, 404),
        (&w.admin, 200),
        (&w.auditor, 200),
    ] {
        let mut b = Browser::signed_in(&app, &who.email).await;
        let (s, _, _) = b.get("/admin/screening").await;
        assert_eq!(s, want, "{} on the queue", who.email);
        let (s, _, _) = b.get(&review).await;
        assert_eq!(s, want, "{} on the screening form", who.email);
    }

    // The institute's page: a draft, with the button; refused posts write nothing.
    let mut inst = Browser::signed_in(&app, &w.inst_a.email).await;
    inst.language("vi").await;
    let (s, _, page) = inst.get(&own).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        text(&page).contains("Bản nháp, chưa gửi thẩm định"),
        "{page}"
    );
    assert!(page.contains(&format!("action=\"{own}\"")), "{page}");
    let (_, t) = app
        .get(&w.inst_a.token, &format!("/api/v1/technologies/{id}"))
        .await;
    let version = version_of(&t).to_string();
    let csrf = inst.csrf();
    let before = app.snapshot();
    let (s, _, _) = inst.post(&own, &[("version", &version)]).await;
    assert_eq!(s, 403);
    for stale in ["", "x", "99"] {
        let (s, _, page) = inst
            .post(&own, &[("csrf", &csrf), ("version", stale)])
            .await;
        assert_eq!(s, 412, "{stale}: {page}");
        assert!(page.contains(&format!("href=\"{own}\"")), "{page}");
    }
    assert_eq!(app.snapshot(), before);
    let (s, h, page) = inst
        .post(&own, &[("csrf", &csrf), ("version", &version)])
        .await;
    assert_eq!(s, 303, "{page}");
    assert_eq!(h[LOCATION], format!("{own}?submitted=1"));
    let (_, _, page) = inst.get(&format!("{own}?submitted=1")).await;
    let shown = text(&page);
    assert!(shown.contains("Đã gửi thẩm định."), "{shown}");
    assert!(shown.contains("Đang chờ thẩm định"), "{shown}");
    assert!(!page.contains(&format!("action=\"{own}\"")), "{page}");

    // The auditor reads the form's page without the decision; an auditor's post is refused.
    let mut auditor = Browser::signed_in(&app, &w.auditor.email).await;
    let (_, _, page) = auditor.get(&review).await;
    assert!(!page.contains(&format!("action=\"{review}\"")), "{page}");
    let version = (version_of(&t) + 1).to_string();
    let decision = |csrf: &str, outcome: &str, trl: &str, reason: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("version", version.clone()),
            ("outcome", outcome.into()),
            ("trl", trl.into()),
            ("rights_clear", "yes".into()),
            ("inventors_agree", "no".into()),
            ("valuation_basis", "yes".into()),
            ("notes", "Chưa có văn bản của nhóm tác giả".into()),
            ("reason", reason.into()),
        ]
    };
    let before = app.snapshot();
    let csrf = auditor.csrf();
    let (s, _, _) = post(
        &mut auditor,
        &review,
        decision(&csrf, "return", "4", "Thiếu"),
    )
    .await;
    assert_eq!(s, 404);

    // The admin: nothing chosen is set again beside the fields, as typed, writing nothing.
    let mut admin = Browser::signed_in(&app, &w.admin.email).await;
    admin.language("vi").await;
    let (_, _, page) = admin.get("/admin/screening").await;
    assert!(page.contains(&format!("href=\"{review}\"")), "{page}");
    let (_, _, page) = admin.get(&review).await;
    assert!(page.contains(&format!("action=\"{review}\"")), "{page}");
    let csrf = admin.csrf();
    let (s, _, page) = post(&mut admin, &review, decision(&csrf, "return", "", " ")).await;
    assert_eq!(s, 422, "{page}");
    let shown = text(&page);
    for said in [
        "Chưa ghi được quyết định",
        "Vui lòng chọn mức độ sẵn sàng từ 1 đến 9.",
        "Vui lòng ghi lý do trả lại",
        "Chưa có văn bản của nhóm tác giả",
    ] {
        assert!(shown.contains(said), "{said}: {shown}");
    }
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    let (s, _, page) = post(&mut admin, &review, decision(&csrf, "list", "6", "")).await;
    assert_eq!(s, 422, "an item answered no: {page}");
    assert!(
        text(&page).contains("Chỉ đăng được khi mục này là “Có”"),
        "{page}"
    );
    assert_eq!(app.snapshot(), before);

    // Returned with its reason: the queue says so and is empty; the institute reads why and
    // may submit again; SMEs still cannot open it.
    let reason = "Thiếu văn bản đồng ý của nhóm tác giả";
    let (s, h, page) = post(&mut admin, &review, decision(&csrf, "return", "4", reason)).await;
    assert_eq!(s, 303, "{page}");
    assert_eq!(h[LOCATION], "/admin/screening?decided=returned");
    let (_, _, page) = admin.get("/admin/screening?decided=returned").await;
    let shown = text(&page);
    assert!(
        shown.contains("Đã trả lại công nghệ cho viện kèm lý do."),
        "{shown}"
    );
    assert!(
        shown.contains("Không có công nghệ nào đang chờ thẩm định."),
        "{shown}"
    );
    let (_, _, page) = inst.get(&own).await;
    let shown = text(&page);
    assert!(shown.contains("Bị trả lại để bổ sung"), "{shown}");
    assert!(shown.contains(reason), "{shown}");
    assert!(page.contains(&format!("action=\"{own}\"")), "{page}");
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    let (s, _, _) = sme.get(&format!("/catalogue/{id}")).await;
    assert_eq!(s, 404);
}
