//! The SME's record where a decision is made: an SME with a converted trial (its first
//! installment paid late, a non-payment claim upheld) asks another institute for a trial; the
//! institute opens the request and sees the figures; the SME sees them on its home. And the
//! terms editor's choice of who owns improvements. Each page in Vietnamese and English, at
//! both widths.

use crate::driver::browse;
use crate::helpers::{id_of, TestApp};
use crate::steps::*;

#[actix_web::test]
async fn the_institute_opens_a_request_and_sees_the_smes_record() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // SME B's history with institute B, made through the API.
    app.converted_paid_late_after_a_claim(&w).await;
    let request = app.request(&w.sme_b, &w.tech_a, "2026-06-01").await;
    let request = format!("/agreements/{}", id_of(&request));
    let terms = format!("/technologies/{}/terms", w.tech_a);
    let (inst_a, sme_b) = (w.inst_a.email.clone(), w.sme_b.email.clone());

    browse(&app, "vi", move |b| async move {
        sign_in(&b, &inst_a).await;
        open(&b, &request).await;
        expect_text(&b, &word("vi", "record.heading_request", &[])).await;
        let shown = main_text(&b).await;
        for figure in [
            word("vi", "record.late", &[]),
            word("vi", "record.claims", &[]),
        ] {
            assert!(shown.contains(&figure), "{figure} not in\n{shown}");
        }
        // No other party is named in it.
        let record = shown
            .split(&word("vi", "record.heading_request", &[]))
            .nth(1)
            .unwrap_or_default()
            .split(&word("vi", "record.on_time_means", &[]))
            .next()
            .unwrap_or_default()
            .to_string();
        for other in ["Tổ chức inst_b", "Tổ chức insurer_a", "3.000", "US$"] {
            assert!(!record.contains(other), "{other} in the record:\n{record}");
        }
        look(&b, "contract-request-record").await;
        // The terms editor: who owns improvements, with the licence back explained.
        open(&b, &terms).await;
        expect_text(
            &b,
            &word("vi", "technologies.terms.group.improvements", &[]),
        )
        .await;
        look(&b, "contract-terms-improvements").await;
        switch_language(&b, "en").await;
        expect_text(
            &b,
            &word("en", "technologies.terms.group.improvements", &[]),
        )
        .await;
        look(&b, "contract-terms-improvements").await;
        open(&b, &request).await;
        expect_text(&b, &word("en", "record.heading_request", &[])).await;
        look(&b, "contract-request-record").await;
        sign_out(&b).await;

        // The SME sees the same figures on its home.
        sign_in(&b, &sme_b).await;
        open(&b, "/home").await;
        expect_text(&b, &word("en", "record.heading_own", &[])).await;
        look(&b, "contract-sme-home").await;
        switch_language(&b, "vi").await;
        expect_text(&b, &word("vi", "record.heading_own", &[])).await;
        look(&b, "contract-sme-home").await;
    })
    .await;
}
