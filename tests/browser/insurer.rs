//! The insurer's walk: from its home (the charts) to the claims waiting, a claim's page, the
//! payout the rule gives shown before approving, the approval, the payment recorded with its
//! reference; then the agreement's cover with what happened, the covered trials and the
//! products. Every page looked at (screenshots at both widths, axe-core), in Vietnamese and
//! in English.

use serde_json::json;

use crate::driver::{browse, Browser};
use crate::helpers::{id_of, TestApp, World};
use crate::steps::*;

/// What the walk needs: the insurer's address, the claim's number and its payout written.
struct Claim {
    insurer: String,
    number: String,
    agreement: String,
    payout: String,
}

/// sme_b's trial of tech_b insured by insurer A (cover US$10,000.00, deductible US$500.00),
/// running, and a claim of US$1,200.00 filed on it: the payout is US$700.00.
async fn a_filed_claim(app: &TestApp, w: &World) -> Claim {
    let a = app.signed_insured(w, &w.sme_b, "2026-03-10").await;
    let id = id_of(&a);
    app.pass_days(8);
    let (s, claim) = app
        .post(
            &w.sme_b.token,
            "/api/v1/claims",
            json!({"agreement_id": id, "risk": "implementation_failure", "amount": "1200.00",
                   "reason": "Dây chuyền không đạt công suất", "evidence": "Biên bản ngày 18/03/2026"}),
        )
        .await;
    assert_eq!(s, 201, "{claim}");
    let usd = usefirst::settlement::money::Currency::parse("USD").unwrap();
    let payout = usefirst::settlement::insurance::payout(120_000, 1_000_000, 50_000, 0).unwrap();
    Claim {
        insurer: w.insurer_a.email.clone(),
        number: claim["number"].as_str().unwrap().to_string(),
        agreement: a["number"].as_str().unwrap().to_string(),
        payout: usefirst::typeset::format::money(usd, payout),
    }
}

/// Signs in and ends at home in `l` (the world's users read Vietnamese unless switched).
async fn enter(b: &Browser, l: &str, email: &str) {
    sign_in(b, email).await;
    arrive(b, "/home").await;
    if lang(b).await != l {
        switch_language(b, l).await;
        assert_eq!(path(b).await, "/home");
    }
}

/// The insurer's home: the figures and the charts, the claims waiting one click away.
async fn home(b: &Browser, l: &str) {
    expect_page(
        b,
        l,
        &word(l, "dashboard.greeting", &[("name", "Người dùng insurer_a")]),
    )
    .await;
    expect_text(b, &word(l, "insurer.chart.heading", &[("currency", "USD")])).await;
    let charts = js(
        b,
        "return document.querySelectorAll('main svg[role=img]').length;",
        vec![],
    )
    .await;
    assert_eq!(charts, 4, "four charts");
    look(b, "insurer-home").await;
}

/// The inbox, then the claim's page: what approving pays, and the way to see how.
async fn claim_page(b: &Browser, l: &str, c: &Claim) {
    follow(b, &word(l, "insurer.home.to_claims", &[])).await;
    expect_page(b, l, &word(l, "insurer.claims.title", &[])).await;
    expect_text(b, &c.number).await;
    look(b, "insurer-claims").await;
    follow(b, &c.number).await;
    expect_page(
        b,
        l,
        &word(l, "insurer.claim.title", &[("number", &c.number)]),
    )
    .await;
    expect_text(
        b,
        &word(l, "insurer.claim.approve_intro", &[("payout", &c.payout)]),
    )
    .await;
    look(b, "insurer-claim").await;
}

/// The payout shown, with how the rule reaches it, before confirming; then confirmed.
async fn approves(b: &Browser, l: &str, c: &Claim) {
    follow(b, &word(l, "insurer.claim.review_payout", &[])).await;
    expect_page(
        b,
        l,
        &word(l, "insurer.approve.title", &[("number", &c.number)]),
    )
    .await;
    expect_text(b, &word(l, "insurer.approve.caption", &[])).await;
    let shown = js(
        b,
        "return document.getElementById('payout').textContent;",
        vec![],
    )
    .await;
    assert_eq!(shown, c.payout.as_str(), "the payout before confirming");
    look(b, "insurer-approve").await;
    submit(
        b,
        &word(l, "insurer.approve.submit", &[("payout", &c.payout)]),
    )
    .await;
    expect_page(
        b,
        l,
        &word(l, "insurer.claim.title", &[("number", &c.number)]),
    )
    .await;
    expect_text(b, &word(l, "insurer.claim.done.approved", &[])).await;
    expect_text(b, &word(l, "money.claim.approved", &[])).await;
    look(b, "insurer-claim-approved").await;
}

/// The payment recorded with its reference.
async fn records_payment(b: &Browser, l: &str, c: &Claim) {
    expect_text(
        b,
        &word(l, "insurer.claim.pay_intro", &[("payout", &c.payout)]),
    )
    .await;
    fill(b, &word(l, "insurer.claim.reference", &[]), "UNC-2026-0042").await;
    submit(b, &word(l, "insurer.claim.pay_submit", &[])).await;
    expect_text(b, &word(l, "insurer.claim.done.paid", &[])).await;
    expect_text(b, "UNC-2026-0042").await;
    expect_text(b, &word(l, "money.claim.paid", &[])).await;
    look(b, "insurer-claim-paid").await;
}

/// The agreement's cover: the payout taken off the cover, what happened; then the list of
/// covered trials and the products.
async fn the_rest(b: &Browser, l: &str, c: &Claim) {
    follow(b, &c.agreement).await;
    expect_page(
        b,
        l,
        &word(l, "insurer.agreement.title", &[("number", &c.agreement)]),
    )
    .await;
    expect_text(b, "US$9,300.00").await;
    expect_text(b, &word(l, "insurer.event.claim.paid", &[])).await;
    look(b, "insurer-agreement").await;
    follow(b, &word(l, "nav.insurer_trials", &[])).await;
    expect_page(b, l, &word(l, "insurer.trials.title", &[])).await;
    expect_text(b, &c.agreement).await;
    look(b, "insurer-trials").await;
    follow(b, &word(l, "nav.insurer_products", &[])).await;
    expect_page(b, l, &word(l, "insurer.products.title", &[])).await;
    look(b, "insurer-products").await;
    let name = if l == "vi" {
        "Bảo hiểm dùng thử công nghệ"
    } else {
        "Technology trial cover"
    };
    follow(b, name).await;
    expect_page(b, l, name).await;
    look(b, "insurer-product").await;
    follow(b, &word(l, "insurer.product.revise", &[])).await;
    expect_page(b, l, &word(l, "insurer.form.revise_title", &[])).await;
    look(b, "insurer-product-form").await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

async fn walk(l: &'static str) {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let c = a_filed_claim(&app, &w).await;
    browse(&app, l, move |b| async move {
        enter(&b, l, &c.insurer).await;
        home(&b, l).await;
        claim_page(&b, l, &c).await;
        approves(&b, l, &c).await;
        records_payment(&b, l, &c).await;
        the_rest(&b, l, &c).await;
    })
    .await;
}

/// The insurer approves a claim, seeing the payout first, and records its payment; in
/// Vietnamese.
#[actix_web::test]
async fn insurer_approves_a_claim_and_records_its_payment() {
    walk("vi").await;
}

/// The same in English.
#[actix_web::test]
async fn insurer_approves_a_claim_and_records_its_payment_in_english() {
    walk("en").await;
}
