//! Registration of a technology transfer in a browser: the SME converts a trial whose terms
//! say the technology comes from state-funded research (priced in VND: Vietnam's rule), and
//! the payments tab shows the registration pending with its 90-day deadline and the payment
//! held; the institute downloads Form 01 filled in, enters the certificate through the form
//! (a date before the signing first, sent back beside the field with what was typed kept),
//! and the statement then counts the payment's due day from the certificate's date. Every
//! page looked at, in Vietnamese and English.

use chrono::NaiveDate;
use usefirst::typeset::format;

use crate::driver::{browse, Browser};
use crate::helpers::{lump_sum_terms, TestApp};
use crate::steps::*;
use crate::walk::{enter, Backstage};

const NUMBER: &str = "45/2026/GCN-BKHCN";
const OFFICE: &str = "Bộ Khoa học và Công nghệ";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The registration box on the payments tab as the SME sees it, in `l`: to register by
/// 1 June (90 days from the conversion on 3 March), the lump sum held, no certificate form.
async fn pending_for_the_sme(b: &Browser, l: &str) {
    expect_text(b, &word(l, "money.registration.title", &[])).await;
    expect_text(b, &word(l, "money.registration.status.pending", &[])).await;
    expect_text(b, &word(l, "money.registration.reason.state_funded", &[])).await;
    expect_text(b, &format::date(l, day(2026, 6, 1))).await;
    expect_text(
        b,
        &word(l, "money.registration.days_left", &[("days", "90")]),
    )
    .await;
    expect_text(b, &word(l, "money.line.held.registration", &[])).await;
    expect_text(b, &word(l, "money.registration.form01", &[])).await;
    let shown = main_text(b).await;
    assert!(
        !shown.contains(&word(l, "money.registration.enter", &[])),
        "the SME has no certificate form:\n{shown}"
    );
    look(b, "registration-pending-sme").await;
}

/// The SME converts on the agreement's page, whose terms say the transfer is registered, and
/// opens the payments tab.
async fn sme_converts(b: &Browser, email: &str, agreement: &str) {
    let l = "vi";
    enter(b, l, email).await;
    open(b, agreement).await;
    expect_text(b, &word(l, "status.active", &[])).await;
    expect_text(b, &word(l, "agreement.terms.registration", &[])).await;
    expect_text(b, &word(l, "catalogue.terms.registration_vn", &[])).await;
    look(b, "registration-agreement-active").await;
    submit(b, &word(l, "agreement.action.convert", &[])).await;
    expect_text(b, &word(l, "agreement.done.convert", &[])).await;
    expect_text(b, &word(l, "status.converted", &[])).await;
    look(b, "registration-agreement-converted").await;
    follow(b, &word(l, "tabs.money", &[])).await;
    arrive(b, &format!("{agreement}/money")).await;
    pending_for_the_sme(b, l).await;
    switch_language(b, "en").await;
    pending_for_the_sme(b, "en").await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

/// The institute, nine days on: Form 01 downloaded, a certificate dated before the signing
/// sent back, then the right one saved; the lump sum falls due 30 days after the
/// certificate's date.
async fn institute_registers(b: &Browser, email: &str, agreement: &str) {
    let l = "en";
    let money = format!("{agreement}/money");
    enter(b, l, email).await;
    open(b, &money).await;
    expect_text(b, &word(l, "money.registration.status.pending", &[])).await;
    expect_text(
        b,
        &word(l, "money.registration.days_left", &[("days", "81")]),
    )
    .await;
    expect_text(b, &word(l, "money.registration.enter", &[])).await;
    look(b, "registration-pending-institute").await;

    let form01 = download(b, &word(l, "money.registration.form01", &[])).await;
    assert_eq!(form01.status, 200, "Form 01");
    assert_eq!(form01.content_type, "application/pdf");
    assert!(
        form01.disposition.starts_with("attachment;")
            && form01.disposition.ends_with("form-01.pdf\""),
        "{}",
        form01.disposition
    );
    assert!(form01.bytes.starts_with(b"%PDF-"), "Form 01 is a PDF");
    assert!(form01.bytes.len() > 1000, "{} bytes", form01.bytes.len());

    let number = word(l, "money.registration.number.vn", &[]);
    let date = word(l, "money.registration.certificate_date", &[]);
    let office = word(l, "money.registration.issuing_office", &[]);
    fill(b, &number, NUMBER).await;
    fill_date(b, &date, "2026-03-01").await;
    fill(b, &office, OFFICE).await;
    submit(b, &word(l, "money.registration.submit", &[])).await;
    expect_text(
        b,
        &word(l, "money.registration.error.certificate_date", &[]),
    )
    .await;
    assert_eq!(attr_of(b, &date, "aria-invalid").await, "true");
    assert!(attr_of(b, &date, "aria-describedby")
        .await
        .contains("reg-date-error"));
    assert_eq!(value_of(b, &number).await, NUMBER, "the number kept");
    assert_eq!(value_of(b, &office).await, OFFICE, "the office kept");
    assert_eq!(value_of(b, &date).await, "2026-03-01", "the date kept");
    expect_text(b, &word(l, "money.registration.status.pending", &[])).await;
    look(b, "registration-certificate-invalid").await;

    fill_date(b, &date, "2026-03-10").await;
    submit(b, &word(l, "money.registration.submit", &[])).await;
    arrive(b, &money).await;
    registered(b, l, "registration-registered").await;
    switch_language(b, "vi").await;
    registered(b, "vi", "registration-registered").await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

/// The payments tab once the certificate is entered, in `l`: registered, the certificate's
/// facts, and the lump sum due on 9 April, 30 days after the certificate's 10 March.
async fn registered(b: &Browser, l: &str, name: &str) {
    expect_text(b, &word(l, "money.registration.status.registered", &[])).await;
    expect_text(b, NUMBER).await;
    expect_text(b, OFFICE).await;
    expect_text(b, &format::date(l, day(2026, 3, 10))).await;
    expect_text(b, &format::date(l, day(2026, 4, 9))).await;
    let shown = main_text(b).await;
    for gone in [
        word(l, "money.line.held.registration", &[]),
        word(l, "money.waiting.registration", &[]),
        word(l, "money.registration.enter", &[]),
    ] {
        assert!(!shown.contains(&gone), "{gone:?} still shown:\n{shown}");
    }
    look(b, name).await;
}

#[actix_web::test]
async fn a_state_funded_transfer_is_registered_and_its_payment_falls_due_from_the_certificate() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let mut terms = lump_sum_terms();
    terms.state_funded = true;
    let tech = app.add_technology(&w.inst_a, "R", "agriculture", "listed", terms);
    // Requested, approved and signed; the trial starts on 3 March.
    let id = app
        .signed_trial(&w.sme_a, &w.inst_a, &tech, "2026-03-03")
        .await;
    app.pass_days(1);
    let agreement = format!("/agreements/{id}");
    let back = Backstage::of(&app);
    let (sme, inst) = (w.sme_a.email.clone(), w.inst_a.email.clone());

    browse(&app, "vi", move |b| async move {
        sme_converts(&b, &sme, &agreement).await;
        back.pass_days(9);
        institute_registers(&b, &inst, &agreement).await;
        // The SME sees the same due day.
        enter(&b, "vi", &sme).await;
        open(&b, &format!("{agreement}/money")).await;
        registered(&b, "vi", "registration-registered-sme").await;
    })
    .await;
}
