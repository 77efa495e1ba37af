//! Screening before listing and the price disclosure, in a browser: an institute submits its
//! new technology; the reviewer (an admin) finds it in "Technologies to screen", tries to list
//! it with nothing filled in (errors beside the fields), then records the readiness level and
//! a checklist all yes and lists it; an SME sees the readiness level in the catalogue; a
//! visitor with no account reads the agreed conversion prices, a shown cell and a hidden one.
//! Every page looked at in Vietnamese and English, at both widths.

use serde_json::json;

use crate::driver::{browse, Browser};
use crate::helpers::{id_of, lump_sum_terms, version_of, TestApp};
use crate::steps::*;

/// Clicks the radio button `value` of the group `name` (the checklist's yes and no).
async fn pick(b: &Browser, name: &str, value: &str) {
    js(
        b,
        "document.querySelector(`input[name='${arguments[0]}'][value='${arguments[1]}']`).click();",
        vec![json!(name), json!(value)],
    )
    .await;
}

#[actix_web::test]
async fn an_institute_submits_a_reviewer_lists_and_anyone_reads_the_prices() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // The new technology, a draft with terms.
    let (s, t) = app
        .post(&w.inst_a.token, "/api/v1/technologies", json!({
            "title": {"vi": "Máy sấy lúa dùng trấu", "en": "Rice-husk paddy dryer"},
            "summary": {"vi": "Sấy lúa bằng nhiệt đốt trấu, tiết kiệm 30% chi phí.", "en": "Dries paddy with husk heat, 30% cheaper."},
            "field": "agriculture", "ip_type": "patent", "ip_reference": "VN 1-0042",
            "valuation": {"amount": "600000000", "currency": "VND"}
        }))
        .await;
    assert_eq!(s, 201, "{t}");
    let id = id_of(&t);
    let terms = serde_json::to_value(lump_sum_terms()).unwrap();
    let (s, body) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{id}/terms"),
            terms,
        )
        .await;
    assert_eq!(s, 201, "{body}");
    // Three conversions of technology A (agriculture, VND) and one of B (USD): one cell
    // shown, one hidden.
    let mut ids = Vec::new();
    for sme in [&w.sme_a, &w.sme_b, &w.sme_a] {
        ids.push((
            sme,
            app.signed_trial(sme, &w.inst_a, &w.tech_a, "2026-03-03")
                .await,
        ));
    }
    let insured = app.signed_insured(&w, &w.sme_b, "2026-03-03").await;
    ids.push((&w.sme_b, id_of(&insured)));
    app.pass_days(1);
    for (sme, id) in &ids {
        let (_, a) = app
            .get(&sme.token, &format!("/api/v1/agreements/{id}"))
            .await;
        let (s, a) = app
            .act(&sme.token, id, "convert", version_of(&a), json!({}))
            .await;
        assert_eq!(s, 200, "{a}");
    }
    let (inst, admin, sme) = (
        w.inst_a.email.clone(),
        w.admin.email.clone(),
        w.sme_a.email.clone(),
    );
    let title = "Máy sấy lúa dùng trấu";

    browse(&app, "vi", move |b| async move {
        // The institute: its technology's screening page, a draft; it submits it.
        sign_in(&b, &inst).await;
        open(&b, "/technologies").await;
        follow(
            &b,
            &word("vi", "technologies.list.screening", &[("title", title)]),
        )
        .await;
        expect_text(&b, &word("vi", "screening.stage.draft", &[])).await;
        look(&b, "screening-own-draft").await;
        submit(&b, &word("vi", "screening.own.submit", &[])).await;
        expect_text(&b, &word("vi", "screening.own.submitted", &[])).await;
        expect_text(&b, &word("vi", "screening.stage.in_screening", &[])).await;
        look(&b, "screening-own-submitted").await;
        sign_out(&b).await;

        // The reviewer: the queue, the form with nothing chosen, then the listing.
        sign_in(&b, &admin).await;
        follow(&b, &word("vi", "screening.nav", &[])).await;
        arrive(&b, "/admin/screening").await;
        look(&b, "screening-queue").await;
        follow(&b, &word("vi", "screening.queue.open", &[("title", title)])).await;
        look(&b, "screening-review").await;
        submit(&b, &word("vi", "screening.review.list", &[])).await;
        expect_text(&b, &word("vi", "screening.review.has_errors", &[])).await;
        expect_text(&b, &word("vi", "screening.rule.trl", &[])).await;
        expect_text(&b, &word("vi", "screening.rule.check", &[])).await;
        look(&b, "screening-review-errors").await;
        choose_containing(
            &b,
            &word("vi", "screening.review.trl", &[]),
            &word("vi", "screening.trl.6", &[]),
        )
        .await;
        for item in ["rights_clear", "inventors_agree", "valuation_basis"] {
            pick(&b, item, "yes").await;
        }
        fill(
            &b,
            &word("vi", "screening.notes", &[]),
            "Đã thử ở hai hợp tác xã ở Đồng Tháp.",
        )
        .await;
        submit(&b, &word("vi", "screening.review.list", &[])).await;
        expect_text(&b, &word("vi", "screening.queue.decided.listed", &[])).await;
        expect_text(&b, &word("vi", "screening.queue.none", &[])).await;
        look(&b, "screening-queue-decided").await;
        switch_language(&b, "en").await;
        look(&b, "screening-queue-decided").await;
        sign_out(&b).await;

        // The SME: the technology in the catalogue, with its readiness level in words.
        sign_in(&b, &sme).await;
        let l = lang(&b).await;
        open(&b, &format!("/catalogue/{id}")).await;
        expect_text(&b, &word(&l, "screening.trl.6", &[])).await;
        look(&b, "screening-catalogue-trl").await;
        sign_out(&b).await;

        // Anyone: the prices, the agriculture cell shown, the USD cell hidden.
        for code in ["en", "vi"] {
            open(&b, "/conversion-prices").await;
            if lang(&b).await != code {
                switch_language(&b, code).await;
            }
            expect_page(&b, code, &word(code, "screening.prices.title", &[])).await;
            expect_text(&b, "150.000.000 ₫").await;
            expect_text(&b, &word(code, "screening.prices.fewer", &[("min", "3")])).await;
            let shown = main_text(&b).await;
            for party in ["Tổ chức", "Người dùng", "@example.vn", "Công nghệ"] {
                assert!(!shown.contains(party), "{party} on the page:\n{shown}");
            }
            look(&b, "screening-prices").await;
            fill(&b, &word(code, "screening.prices.year", &[]), "20x6").await;
            submit(&b, &word(code, "screening.prices.show", &[])).await;
            expect_text(&b, &word(code, "screening.prices.bad_year", &[])).await;
            look(&b, "screening-prices-error").await;
        }

        // The institute again, in English: the history with the reviewer's findings.
        sign_in(&b, &inst).await;
        switch_language(&b, "en").await;
        open(&b, "/technologies").await;
        follow(
            &b,
            &word(
                "en",
                "technologies.list.screening",
                &[("title", "Rice-husk paddy dryer")],
            ),
        )
        .await;
        expect_text(&b, &word("en", "screening.stage.listed", &[])).await;
        expect_text(&b, &word("en", "screening.trl.6", &[])).await;
        look(&b, "screening-own-listed").await;
    })
    .await;
}
