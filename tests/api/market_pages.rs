//! The needs pages as browsers see them: an SME posts a need through the form (errors set
//! beside the fields, what was typed kept), an institute finds it under "Needs for you" with
//! the reasons and proposes its technology, and the SME requests the trial from the proposal
//! with the pre-filled form, which closes the need. Others get the not-found page.

use reqwest::header::LOCATION;

use crate::browser::{text, Browser};
use crate::helpers::{lump_sum_terms, TestApp};
use crate::market_demands::three_needs;

#[actix_web::test]
async fn a_need_posted_proposed_to_and_requested_from_through_the_pages() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let dryer = app.add_technology(
        &w.inst_a,
        "máy sấy rơm rạ",
        "agriculture",
        "listed",
        lump_sum_terms(),
    );
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    let (s, _, page) = sme.get("/home").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("href=\"/demands\"") && page.contains("Nhu cầu của tôi"),
        "{page}"
    );
    let (s, _, page) = sme.get("/demands/new").await;
    assert_eq!(s, 200);
    assert!(page.contains("Đăng nhu cầu"));

    // Bad input: the form again, 422, each error beside its field, what was typed kept.
    let csrf = sme.csrf();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("title", "Máy sấy <rơm> rạ"),
        (
            "description",
            "Hợp tác xã cần máy sấy rơm rạ, 2 tấn mỗi ngày.",
        ),
        ("sector", "agriculture"),
        ("province", "Đồng Tháp"),
        ("currency", "VND"),
        ("min", "300000000"),
        ("max", "100000000"),
        ("wanted_by", "2026-01-01"),
        ("visibility", "public"),
        ("invited", ""),
    ];
    let (s, _, page) = sme.post("/demands/new", &form).await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("id=\"max-error\"") && page.contains("id=\"wanted_by-error\""),
        "{page}"
    );
    assert!(page.contains("value=\"Máy sấy &lt;rơm&gt; rạ\""), "{page}");
    assert!(page.contains("aria-invalid=\"true\""));
    assert_eq!(app.count("demands"), 0);
    form[6] = ("min", "100000000");
    form[7] = ("max", "300000000");
    form[8] = ("wanted_by", "2026-06-30");
    let (s, h, page) = sme.post("/demands/new", &form).await;
    assert_eq!(s, 303, "{page}");
    let need = h[LOCATION].to_str().unwrap().to_string();
    let (_, _, page) = sme.get("/demands").await;
    assert!(page.contains(&format!("href=\"{need}\"")), "{page}");
    assert!(page.contains("100.000.000 ₫ – 300.000.000 ₫"), "{page}");

    // The institute: the need under "Needs for you", with why it matches.
    let mut inst = Browser::signed_in(&app, &w.inst_a.email).await;
    inst.language("en").await;
    let (s, _, page) = inst.get("/demands").await;
    assert_eq!(s, 200);
    let read = text(&page);
    for words in [
        "Needs for you",
        "Máy sấy <rơm> rạ",
        "Same field",
        "Same province: Đồng Tháp",
        "Shared words:",
        "Within the budget",
        "150.000.000 ₫",
    ] {
        assert!(read.contains(words), "{words}: {read}");
    }
    let (s, _, page) = inst.get(&need).await;
    assert_eq!(s, 200);
    assert!(
        page.contains(&format!("<option value=\"{dryer}\"")),
        "{page}"
    );
    let csrf = inst.csrf();
    let (s, _, page) = inst
        .post(
            &format!("{need}/propose"),
            &[("csrf", &csrf), ("technology_id", &dryer), ("message", " ")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(page.contains("id=\"message-error\""), "{page}");
    let (s, _, _) = inst
        .post(
            &format!("{need}/propose"),
            &[
                ("csrf", &csrf),
                ("technology_id", &dryer),
                ("message", "Máy đã chạy ở ba hợp tác xã."),
            ],
        )
        .await;
    assert_eq!(s, 303);

    // The SME sees the proposal, opens the pre-filled request, sends it, and the need closes.
    let (_, _, page) = sme.get(&need).await;
    assert!(page.contains("Máy đã chạy ở ba hợp tác xã."), "{page}");
    let start = "/proposals/";
    let at = page.find(start).expect("a request link");
    let link = &page[page[..at].rfind('"').unwrap() + 1
        ..at + start.len() + page[at + start.len()..].find('"').unwrap()];
    let (s, _, form_page) = sme.get(link).await;
    assert_eq!(s, 200, "{link}");
    assert!(
        form_page.contains("value=\"Đồng Tháp\""),
        "pre-filled: {form_page}"
    );
    assert!(
        form_page.contains("value=\"2026-03-16\""),
        "two weeks on: {form_page}"
    );
    let csrf = sme.csrf();
    let (s, _, page) = sme
        .post(
            link,
            &[
                ("csrf", &csrf),
                ("place_of_use", ""),
                ("requested_start", "2026-03-16"),
                ("message", ""),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(page.contains("id=\"place_of_use-error\""), "{page}");
    let (s, h, _) = sme
        .post(
            link,
            &[
                ("csrf", &csrf),
                ("place_of_use", "Kho Cao Lãnh"),
                ("requested_start", "2026-03-16"),
                ("message", "Xin dùng thử"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let agreement = h[LOCATION].to_str().unwrap().to_string();
    assert!(agreement.starts_with("/agreements/"), "{agreement}");
    let (_, _, page) = sme.get(&need).await;
    assert!(
        page.contains("Đã đóng") && page.contains(&format!("href=\"{agreement}\"")),
        "{page}"
    );
    assert!(
        !page.contains("/close\""),
        "a closed need has no close button"
    );

    // Another SME, an insurer: the not-found page.
    for email in [&w.sme_b.email, &w.insurer_a.email] {
        let mut other = Browser::signed_in(&app, email).await;
        let (s, _, _) = other.get(&need).await;
        assert_eq!(s, 404, "{email}");
    }
    let mut insurer = Browser::signed_in(&app, &w.insurer_a.email).await;
    let (s, _, _) = insurer.get("/demands").await;
    assert_eq!(s, 404);
}

/// The need form offers the institutes of the catalogue by name, one box each: a need for
/// two of them is seen by those two (named on its page) and no other, and ticking none for
/// "invited institutes only" is sent back beside the boxes, the form's words in Vietnamese.
#[actix_web::test]
async fn a_need_for_invited_institutes_is_posted_by_ticking_them() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    let (s, _, page) = sme.get("/demands/new").await;
    assert_eq!(s, 200);
    for org in [&w.inst_a.org, &w.inst_b.org] {
        assert!(
            page.contains(&format!("name=\"invited\" value=\"{org}\"")),
            "{page}"
        );
    }
    assert!(text(&page).contains("Tổ chức inst_a"), "{page}");
    let csrf = sme.csrf();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("title", "Máy sấy rơm rạ"),
        ("description", "Sấy 2 tấn rơm rạ mỗi ngày."),
        ("sector", "agriculture"),
        ("province", "Đồng Tháp"),
        ("currency", "VND"),
        ("min", "100000000"),
        ("max", "300000000"),
        ("wanted_by", "2026-06-30"),
        ("visibility", "invited"),
    ];
    let (s, _, page) = sme.post("/demands/new", &form).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"invited-error\""), "{page}");
    assert!(
        text(&page).contains("Vui lòng đánh dấu ít nhất một viện để mời."),
        "{page}"
    );
    assert_eq!(app.count("demands"), 0);
    form.push(("invited", &w.inst_a.org));
    let (s, h, page) = sme.post("/demands/new", &form).await;
    assert_eq!(s, 303, "{page}");
    let need = h[LOCATION].to_str().unwrap().to_string();
    let (_, _, page) = sme.get(&need).await;
    assert!(text(&page).contains("Tổ chức inst_a"), "{page}");
    assert!(!text(&page).contains("Tổ chức inst_b"), "{page}");
    // The edit form has the box ticked.
    let (_, _, page) = sme.get(&format!("{need}/edit")).await;
    assert!(
        page.contains(&format!(
            "name=\"invited\" value=\"{}\" checked",
            w.inst_a.org
        )),
        "{page}"
    );
    let mut other = Browser::signed_in(&app, &w.inst_b.email).await;
    let (s, _, _) = other.get(&need).await;
    assert_eq!(s, 404, "an institute not invited does not see it");
    let mut invited = Browser::signed_in(&app, &w.inst_a.email).await;
    let (s, _, _) = invited.get(&need).await;
    assert_eq!(s, 200);
}

/// `/demands?…` with `query` encoded.
fn needs_url(query: &[(&str, &str)]) -> String {
    format!("/demands?{}", serde_urlencoded::to_string(query).unwrap())
}

/// The needs page's search for every role that sees it: words, field, province and status
/// narrow the SME's own needs and the supervisors' list; an institute searching leaves
/// "Needs for you" for what it finds among the needs it may see (a closed one it did not
/// propose to is not among them); a filter no need could answer is set again beside its
/// field with 422 and the rest searched; a page number that is not one is the first page.
#[actix_web::test]
async fn the_needs_page_searches_and_filters_for_every_role() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let [rice, coffee, solar] = three_needs(&app, &w).await;
    let shows = |page: &str, want: &[&String]| {
        for id in [&rice, &coffee, &solar] {
            assert_eq!(
                page.contains(&format!("href=\"/demands/{id}\"")),
                want.contains(&id),
                "{id} in {want:?}: {page}"
            );
        }
    };

    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    sme.language("en").await;
    let (s, _, page) = sme.get("/demands").await;
    assert_eq!(s, 200);
    shows(&page, &[&rice, &coffee, &solar]);
    for (name, option) in [
        ("sector", "value=\"energy\""),
        ("province", "value=\"Cần Thơ\""),
        ("province", "value=\"Đồng Tháp\""),
        ("status", "value=\"closed\""),
    ] {
        assert!(page.contains(&format!("name=\"{name}\"")), "{name}: {page}");
        assert!(page.contains(option), "{option}: {page}");
    }
    for (query, want) in [
        (vec![("status", "closed")], vec![&coffee]),
        (
            vec![("status", "open"), ("sector", "agriculture")],
            vec![&rice],
        ),
        (vec![("province", "Đồng Tháp")], vec![&rice, &solar]),
        (
            vec![("q", "may say"), ("province", "Cần Thơ")],
            vec![&coffee],
        ),
        (vec![("q", "lo say"), ("sector", "energy")], vec![&solar]),
        (vec![("q", "lo say"), ("sector", "agriculture")], vec![]),
        (vec![("page", "two")], vec![&rice, &coffee, &solar]),
    ] {
        let (s, _, page) = sme.get(&needs_url(&query)).await;
        assert_eq!(s, 200, "{query:?}: {page}");
        shows(&page, &want);
        if want.is_empty() {
            assert!(
                text(&page).contains("No need matches this search."),
                "{page}"
            );
        }
    }
    // What was chosen stays chosen.
    let (_, _, page) = sme
        .get(&needs_url(&[
            ("q", "lúa"),
            ("province", "Đồng Tháp"),
            ("status", "open"),
        ]))
        .await;
    assert!(page.contains("value=\"lúa\""), "{page}");
    assert!(
        page.contains("<option value=\"Đồng Tháp\" selected>"),
        "{page}"
    );
    assert!(page.contains("<option value=\"open\" selected>"), "{page}");

    // Bad filters: beside their fields, 422, the other filters still applied.
    let long = "x".repeat(101);
    let (s, _, page) = sme
        .get(&needs_url(&[("status", "shut"), ("sector", "energy")]))
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"status-error\""), "{page}");
    assert!(
        text(&page).contains("Please choose a status from the list."),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    shows(&page, &[&solar]);
    let (s, _, page) = sme
        .get(&needs_url(&[("province", &long), ("q", "may say")]))
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"province-error\""), "{page}");
    assert!(!page.contains("id=\"status-error\""), "{page}");
    shows(&page, &[&rice, &coffee]);

    // The institute: needs for it without a search; what it finds with one, open needs only.
    let mut inst = Browser::signed_in(&app, &w.inst_a.email).await;
    inst.language("en").await;
    let (s, _, page) = inst.get("/demands").await;
    assert_eq!(s, 200);
    assert!(page.contains("<h1>Needs for you</h1>"), "{page}");
    assert!(page.contains("name=\"q\""), "the search box: {page}");
    for (query, want) in [
        (vec![("q", "may say")], vec![&rice]),
        (vec![("q", "say")], vec![&rice, &solar]),
        (
            vec![("province", "Đồng Tháp"), ("sector", "energy")],
            vec![&solar],
        ),
        (vec![("province", "Cần Thơ")], vec![]),
        (vec![("status", "closed")], vec![]),
    ] {
        let (s, _, page) = inst.get(&needs_url(&query)).await;
        assert_eq!(s, 200, "{query:?}: {page}");
        assert!(page.contains("<h1>Needs found</h1>"), "{page}");
        assert!(
            page.contains("class=\"clear\" href=\"/demands\""),
            "the way back: {page}"
        );
        shows(&page, &want);
    }
    let (s, _, page) = inst.get(&needs_url(&[("status", "any")])).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"status-error\""), "{page}");

    // The supervisors: every need, filtered the same way, in Vietnamese too.
    let mut admin = Browser::signed_in(&app, &w.admin.email).await;
    let (s, _, page) = admin.get(&needs_url(&[("status", "closed")])).await;
    assert_eq!(s, 200);
    shows(&page, &[&coffee]);
    assert!(text(&page).contains("Tỉnh, thành phố"), "{page}");
    let (s, _, page) = admin.get(&needs_url(&[("sector", &long)])).await;
    assert_eq!(s, 422);
    assert!(
        text(&page).contains("Vui lòng chọn trong danh sách (tối đa 100 ký tự)."),
        "{page}"
    );
}
