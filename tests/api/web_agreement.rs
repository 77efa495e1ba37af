//! The agreement pages as a browser sees them: the trials list for an SME and an institute in
//! Vietnamese and English with its filters and pages; an agreement's overview (parties,
//! progress, terms, the actions open to the user and only those); a trial taken from request
//! to conversion through the page forms; stale, wrong-state and bad forms; another
//! organisation's agreement; the documents as PDF.

use reqwest::header::LOCATION;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{id_of, version_of, TestApp, User, World, PASSWORD};

/// The page's text with the quotes the escaping wrote as entities read as quotes.
fn plain(page: &str) -> String {
    page.replace("&#x27;", "'").replace("&quot;", "\"")
}

fn number(a: &serde_json::Value) -> String {
    a["number"].as_str().unwrap().to_string()
}

/// A browser signed in as `user`, its pages in `lang`.
async fn browser(app: &TestApp, user: &User, lang: &'static str) -> Browser {
    let mut b = Browser::new(app);
    b.accept_language = lang;
    let (s, _, page) = b.sign_in(&user.email, PASSWORD).await;
    assert_eq!(s, 303, "{page}");
    // The users' own language is Vietnamese; the switch sets the page language.
    let (s, _, _) = b.get(&format!("/lang/{lang}?back=/trials")).await;
    assert_eq!(s, 303);
    b
}

/// The agreement's version the page shows in its forms.
fn shown_version(page: &str) -> String {
    let at = page
        .find("name=\"version\" value=\"")
        .expect("the page has an action form");
    page[at + 22..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect()
}

/// Posts `action`'s form as the page shows it, with `fields`.
async fn post_action(
    b: &mut Browser,
    id: &str,
    action: &str,
    version: &str,
    fields: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let csrf = b.csrf();
    let mut form = vec![("csrf", csrf.as_str()), ("version", version)];
    form.extend_from_slice(fields);
    b.post(&format!("/agreements/{id}/actions/{action}"), &form)
        .await
}

/// Opens the agreement's page, takes `action` with the version it shows, and checks the
/// redirect back with the confirmation.
async fn take(b: &mut Browser, id: &str, action: &str, fields: &[(&str, &str)]) -> String {
    let (s, _, page) = b.get(&format!("/agreements/{id}")).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains(&format!("/actions/{action}\"")),
        "no {action} form: {page}"
    );
    let version = shown_version(&page);
    let (s, h, page) = post_action(b, id, action, &version, fields).await;
    assert_eq!(s, 303, "{action}: {page}");
    let to = h[LOCATION].to_str().unwrap().to_string();
    assert_eq!(to, format!("/agreements/{id}?done={action}"));
    let (s, _, page) = b.get(&to).await;
    assert_eq!(s, 200);
    page
}

async fn status_of(app: &TestApp, user: &User, id: &str) -> serde_json::Value {
    let (s, a) = app
        .get(&user.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(s, 200, "{a}");
    a
}

#[actix_web::test]
async fn the_trials_list_by_role_language_filter_and_page() {
    let app = TestApp::spawn().await;
    let w: World = app.world().await;
    let mine_a = app.request(&w.sme_a, &w.tech_a, "2030-01-10").await;
    let mine_b = app.request(&w.sme_a, &w.tech_b, "2030-01-11").await;
    let theirs = app.request(&w.sme_b, &w.tech_a, "2030-01-12").await;

    // The SME, in Vietnamese: its own trials, each linked, with the technology, the
    // institute and the status in words.
    let mut sme = browser(&app, &w.sme_a, "vi").await;
    let (s, _, page) = sme.get("/trials").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Các thỏa thuận dùng thử của tôi"), "{page}");
    for a in [&mine_a, &mine_b] {
        assert!(
            page.contains(&format!(
                "<a href=\"/agreements/{}\">{}</a>",
                id_of(a),
                number(a)
            )),
            "{page}"
        );
    }
    assert!(!page.contains(&number(&theirs)), "another SME's trial");
    assert!(page.contains("Công nghệ A") && page.contains("Công nghệ B"));
    assert!(page.contains("Tổ chức inst_a") && page.contains("Tổ chức inst_b"));
    assert!(page.contains("Đã gửi yêu cầu"));
    assert!(
        plain(&page).contains("Ngày đề nghị bắt đầu: 10/01/2030"),
        "{page}"
    );
    // Nothing approved yet; nothing waits for the SME.
    let (_, _, page) = sme.get("/trials?status=approved").await;
    assert!(page.contains("Không có thỏa thuận nào phù hợp."), "{page}");
    assert!(
        page.contains("<option value=\"approved\" selected>"),
        "{page}"
    );
    let (_, _, page) = sme.get("/trials?mine=1").await;
    assert!(page.contains("Không có thỏa thuận nào phù hợp."), "{page}");

    // The institute, in English: the requests to it, from both SMEs.
    let mut inst = browser(&app, &w.inst_a, "en").await;
    let (s, _, page) = inst.get("/trials").await;
    assert_eq!(s, 200);
    assert!(page.contains("Requests and agreements"), "{page}");
    assert!(page.contains(&number(&mine_a)) && page.contains(&number(&theirs)));
    assert!(!page.contains(&number(&mine_b)), "institute B's request");
    assert!(page.contains("Tổ chức sme_a") && page.contains("Tổ chức sme_b"));
    assert!(page.contains("Technology A") && page.contains("Requested"));
    assert!(
        page.contains("Trial asked to start: 10 January 2030"),
        "{page}"
    );

    // Approved and signed by the institute: it waits for the SME, no longer for the institute.
    let id = id_of(&mine_a);
    let (s, a) = app
        .act(
            &w.inst_a.token,
            &id,
            "approve",
            version_of(&mine_a),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    let (_, _, page) = inst.get("/trials?mine=1").await;
    assert!(page.contains(&number(&mine_a)) && page.contains(&number(&theirs)));
    assert!(page.contains("id=\"filter-mine\" name=\"mine\" value=\"1\" checked"));
    let (s, _) = app
        .act(&w.inst_a.token, &id, "sign", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200);
    let (_, _, page) = inst.get("/trials?mine=1").await;
    assert!(!page.contains(&number(&mine_a)), "{page}");
    assert!(page.contains(&number(&theirs)));
    let (_, _, page) = inst.get("/trials?status=requested").await;
    assert!(!page.contains(&number(&mine_a)) && page.contains(&number(&theirs)));
    let (_, _, page) = sme.get("/trials?mine=1").await;
    assert!(page.contains(&number(&mine_a)), "{page}");
    assert!(!page.contains(&number(&mine_b)));
    let (_, _, page) = sme.get("/trials?status=approved").await;
    assert!(page.contains(&number(&mine_a)) && page.contains("Đã chấp thuận"));
    assert!(
        plain(&page).contains("Bắt đầu dùng thử: 10/01/2030"),
        "{page}"
    );

    // Pages of twenty, the filters kept in the links.
    for day in 10..30 {
        app.request(&w.sme_b, &w.tech_a, &format!("2030-03-{day}"))
            .await;
    }
    let (_, _, page) = inst.get("/trials?status=requested").await;
    assert!(page.contains("21 agreements"), "{page}");
    assert!(
        page.contains("href=\"/trials?status=requested&amp;page=2\""),
        "{page}"
    );
    let (_, _, page) = inst.get("/trials?status=requested&page=2").await;
    assert!(page.contains("Page 2 of 2") && page.contains("rel=\"prev\""));
    assert_eq!(page.matches("<a href=\"/agreements/").count(), 1, "{page}");

    // The insurer sees what it covers: nothing yet, and no "waiting for us" filter.
    let mut insurer = browser(&app, &w.insurer_a, "en").await;
    let (s, _, page) = insurer.get("/trials").await;
    assert_eq!(s, 200);
    assert!(page.contains("No agreements match.") && !page.contains("filter-mine"));
}

/// A trial from request to conversion through the page forms, with what each side sees on
/// the way, and the forms that must not work.
#[actix_web::test]
async fn a_trial_from_request_to_conversion_through_the_pages() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // Institute B's technology: USD instalments, insurance required.
    let a = app.request(&w.sme_a, &w.tech_b, "2026-03-05").await;
    let id = id_of(&a);
    let page_of = format!("/agreements/{id}");

    // The SME, before approval: the parties, the request in the history, terms to come, and
    // only withdraw to take.
    let mut sme = browser(&app, &w.sme_a, "vi").await;
    let (s, _, page) = sme.get(&page_of).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(&format!("Thỏa thuận {}", number(&a))));
    assert!(page.contains("Tổ chức sme_a") && page.contains("Tổ chức inst_b"));
    assert!(page.contains("Gửi yêu cầu dùng thử"), "{page}");
    assert!(
        page.contains("bởi Người dùng sme_a (Tổ chức sme_a)"),
        "{page}"
    );
    assert!(page.contains("Điều khoản được cố định khi viện, trường phê duyệt yêu cầu."));
    assert!(
        plain(&page).contains(&format!("/agreements/{id}/money")),
        "the tabs: {page}"
    );
    assert!(page.contains("/actions/withdraw\""));
    for never in ["approve", "reject", "sign", "convert", "extend"] {
        assert!(
            !page.contains(&format!("/actions/{never}\"")),
            "SME offered {never}"
        );
    }
    let sme_stale_version = shown_version(&page);

    // The institute, in English: approve (with the product these terms require) and reject.
    let mut inst = browser(&app, &w.inst_b, "en").await;
    let (_, _, page) = inst.get(&page_of).await;
    assert!(page.contains("/actions/approve\"") && page.contains("/actions/reject\""));
    for never in ["withdraw", "convert", "decline", "sign"] {
        assert!(
            !page.contains(&format!("/actions/{never}\"")),
            "institute offered {never}"
        );
    }
    assert!(
        page.contains(&format!("<option value=\"{}\"", w.product_a)),
        "{page}"
    );
    assert!(page.contains("Technology trial cover (cover up to US$10,000.00)"));
    let version = shown_version(&page);

    // A rejection without a reason: the page again, the field marked, nothing changed.
    let (s, _, page) = post_action(&mut inst, &id, "reject", &version, &[("reason", "  ")]).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("Please give a reason."), "{page}");
    assert!(page.contains(
        "id=\"reject-reason\" name=\"reason\" rows=\"3\" required aria-invalid=\"true\" aria-describedby=\"reject-reason-error\""
    ), "{page}");
    // Approval without the insurance product: beside the product, the date typed kept.
    let (s, _, page) = post_action(
        &mut inst,
        &id,
        "approve",
        &version,
        &[("trial_start", "2026-03-05"), ("insurance_product_id", "")],
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("Please choose an insurance product"),
        "{page}"
    );
    assert!(page.contains("aria-describedby=\"approve-insurance_product_id-error\""));
    assert!(page.contains("value=\"2026-03-05\""));
    // Days that are not a date.
    let (s, _, page) = post_action(
        &mut inst,
        &id,
        "approve",
        &version,
        &[
            ("trial_start", "soon"),
            ("insurance_product_id", &w.product_a),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        page.contains("aria-describedby=\"approve-trial_start-error\"")
            && page.contains("value=\"soon\"")
    );
    assert_eq!(status_of(&app, &w.inst_b, &id).await["status"], "requested");

    // A cover above the product's maximum: beside the cover, what was typed kept.
    let (s, _, page) = post_action(
        &mut inst,
        &id,
        "approve",
        &version,
        &[
            ("trial_start", "2026-03-05"),
            ("insurance_product_id", &w.product_a),
            ("insurance_coverage", "20000.00"),
        ],
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("Please enter a cover more than the product"),
        "{page}"
    );
    assert!(page.contains("approve-insurance_coverage-error\" aria-invalid=\"true\""));
    assert!(page.contains("value=\"20000.00\""), "{page}");
    assert_eq!(status_of(&app, &w.inst_b, &id).await["status"], "requested");

    // Approved with the product and the cover chosen: the terms in plain words, the
    // confirmation.
    let page = take(
        &mut inst,
        &id,
        "approve",
        &[
            ("trial_start", "2026-03-05"),
            ("insurance_product_id", &w.product_a),
            ("insurance_coverage", "8000.00"),
        ],
    )
    .await;
    assert!(page.contains("The request is approved."), "{page}");
    assert!(
        page.contains("US$12,000.00 in 4 payments, one every 3 months"),
        "{page}"
    );
    assert!(page.contains("Required during the trial"));
    assert!(
        page.contains("Institute 60%, inventors 30%, intermediary 10%"),
        "{page}"
    );
    assert!(page.contains("5 March 2026 – 3 May 2026"), "{page}");
    assert!(page.contains("Request approved, terms fixed"));
    assert!(
        page.contains("Tổ chức insurer_a"),
        "the insurer is a party now"
    );
    let a = status_of(&app, &w.inst_b, &id).await;
    assert_eq!(a["status"], "approved");
    assert_eq!(a["trial_start"], "2026-03-05");
    let (_, _, cover) = inst.get(&format!("/agreements/{id}/cover")).await;
    assert!(cover.contains("US$8,000.00"), "the cover chosen: {cover}");
    assert!(!cover.contains("US$10,000.00</dd>"), "{cover}");

    // The SME's page from before approval is stale: the 412 page, nothing changed.
    let (s, _, page) = post_action(&mut sme, &id, "withdraw", &sme_stale_version, &[]).await;
    assert_eq!(s, 412, "{page}");
    assert!(
        page.contains("Đã có người thay đổi trong lúc bạn xem"),
        "{page}"
    );
    assert!(
        plain(&page).contains(&format!("href=\"/agreements/{id}\"")),
        "{page}"
    );
    assert_eq!(status_of(&app, &w.sme_a, &id).await["status"], "approved");

    // Both sign; the trial starts on its day.
    let page = take(&mut sme, &id, "sign", &[]).await;
    assert!(page.contains("Đã ghi nhận chữ ký của bạn."));
    assert!(!page.contains("/actions/sign\""), "signed once: {page}");
    let page = take(&mut inst, &id, "sign", &[]).await;
    assert!(page.contains("Your signature is recorded."));
    assert_eq!(status_of(&app, &w.sme_a, &id).await["status"], "signed");
    app.pass_days(3);
    assert_eq!(status_of(&app, &w.sme_a, &id).await["status"], "active");

    // Running: the SME may convert, decline or terminate; the institute extend or terminate.
    let (_, _, page) = sme.get(&page_of).await;
    assert!(page.contains("Còn 60 ngày dùng thử"), "{page}");
    for offered in ["convert", "decline", "terminate"] {
        assert!(page.contains(&format!("/actions/{offered}\"")), "{offered}");
    }
    assert!(!page.contains("/actions/extend\""));
    let (_, _, page) = inst.get(&page_of).await;
    assert!(page.contains("/actions/extend\"") && page.contains("/actions/terminate\""));
    assert!(!page.contains("/actions/convert\"") && !page.contains("/actions/decline\""));
    let version = shown_version(&page);
    let (s, _, page) = post_action(&mut inst, &id, "extend", &version, &[("days", "ten")]).await;
    assert_eq!(s, 422);
    assert!(
        page.contains("Please enter a whole number of days"),
        "{page}"
    );
    assert!(
        page.contains("aria-describedby=\"extend-days-error\"") && page.contains("value=\"ten\"")
    );

    // A tax stated wrongly: beside its field, what was typed kept, nothing converted.
    let version = shown_version(&sme.get(&page_of).await.2);
    for (fields, field, words) in [
        (
            [
                ("tax_kind", "rate"),
                ("tax_rate", "mười"),
                ("tax_basis", ""),
            ],
            "tax_rate",
            "Vui lòng nhập thuế suất dạng phần trăm",
        ),
        (
            [("tax_kind", "rate"), ("tax_rate", "150"), ("tax_basis", "")],
            "tax_rate",
            "Vui lòng nhập thuế suất dạng phần trăm",
        ),
        (
            [
                ("tax_kind", "exempt"),
                ("tax_rate", ""),
                ("tax_basis", "  "),
            ],
            "tax_basis",
            "Vui lòng nêu căn cứ pháp lý của việc miễn thuế",
        ),
    ] {
        let (s, _, page) = post_action(&mut sme, &id, "convert", &version, &fields).await;
        assert_eq!(s, 422, "{fields:?}: {page}");
        assert!(page.contains(words), "{page}");
        assert!(page.contains(&format!("aria-describedby=\"convert-{field}-error\"")));
        assert!(page.contains("value=\"rate\" checked") == (fields[0].1 == "rate"));
        assert!(
            page.contains(&format!("value=\"{}\"", fields[1].1)),
            "{page}"
        );
    }
    assert_eq!(status_of(&app, &w.sme_a, &id).await["status"], "active");

    // Converted through the form with the tax stated; the contract among the documents.
    let page = take(
        &mut sme,
        &id,
        "convert",
        &[("tax_kind", "rate"), ("tax_rate", "10"), ("tax_basis", "")],
    )
    .await;
    let (s, st) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{id}/settlement"),
        )
        .await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(
        st["tax"],
        serde_json::json!({"kind": "rate", "rate": "0.1", "basis": null, "amount": "1200.00"})
    );
    assert!(page.contains("Đã nhận chuyển giao công nghệ."), "{page}");
    assert!(page.contains("Đã chuyển giao"));
    assert_eq!(status_of(&app, &w.sme_a, &id).await["status"], "converted");
    assert!(
        page.contains("Thỏa thuận này hiện không chờ bạn làm gì."),
        "{page}"
    );
    for kind in ["trial-agreement", "conversion-contract"] {
        for lang in ["vi", "en", "zh"] {
            assert!(
                page.contains(&format!(
                    "href=\"/agreements/{id}/documents/{kind}/{lang}\""
                )),
                "{kind} {lang}: {page}"
            );
        }
    }

    // A form for a step the state no longer allows: the 409 page.
    let current = status_of(&app, &w.inst_b, &id).await;
    let (s, _, page) = post_action(
        &mut inst,
        &id,
        "terminate",
        &version_of(&current).to_string(),
        &[("reason", "late")],
    )
    .await;
    assert_eq!(s, 409, "{page}");
    assert!(page.contains("This cannot be done now"), "{page}");
}

/// The documents download as PDF from the page, in each language; another organisation's
/// agreement, its documents and its forms are the 404 page.
#[actix_web::test]
async fn documents_download_and_other_organisations_see_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);

    let mut sme = browser(&app, &w.sme_a, "en").await;
    let (_, _, page) = sme.get(&format!("/agreements/{id}")).await;
    assert!(page.contains("PDF in Chinese"), "{page}");
    assert!(
        !page.contains("conversion-contract/"),
        "not converted: {page}"
    );
    for lang in ["vi", "en", "zh"] {
        let res = reqwest::Client::new()
            .get(app.url(&format!(
                "/agreements/{id}/documents/trial-agreement/{lang}"
            )))
            .header(
                "Cookie",
                format!("uf_session={}", sme.cookie("uf_session").unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{lang}");
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert!(res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("{}-trial-agreement-{lang}.pdf", number(&a))));
        let body = res.bytes().await.unwrap();
        assert!(body.starts_with(b"%PDF"), "{lang}");
    }
    // No contract before conversion: the 409 page, with the way back.
    let (s, _, page) = sme
        .get(&format!(
            "/agreements/{id}/documents/conversion-contract/vi"
        ))
        .await;
    assert_eq!(s, 409, "{page}");
    let (s, _, _) = sme
        .get(&format!("/agreements/{id}/documents/trial-agreement/fr"))
        .await;
    assert_eq!(s, 404);

    // Another SME: the page, the documents and the forms are not there for it.
    let mut other = browser(&app, &w.sme_b, "vi").await;
    for path in [
        format!("/agreements/{id}"),
        format!("/agreements/{id}/documents/trial-agreement/vi"),
        "/agreements/no-such-agreement".to_string(),
    ] {
        let (s, h, page) = other.get(&path).await;
        assert_eq!(s, 404, "{path}");
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(page.contains("Không tìm thấy trang"), "{page}");
    }
    let (s, _, page) = post_action(
        &mut other,
        &id,
        "terminate",
        &version_of(&a).to_string(),
        &[("reason", "not ours")],
    )
    .await;
    assert_eq!(s, 404, "{page}");
    assert_eq!(status_of(&app, &w.sme_a, &id).await["status"], "signed");
    // Not signed in: to the sign-in page, and back here after.
    let mut anonymous = Browser::new(&app);
    let (s, h, _) = anonymous.get(&format!("/agreements/{id}")).await;
    assert_eq!(s, 303);
    assert!(h[LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/sign-in?next=%2Fagreements%2F"));
}
