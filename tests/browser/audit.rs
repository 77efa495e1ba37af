//! The auditor's walk: from home to the chain check, which reads as intact; the audit log
//! narrowed to one agreement, and a number that names none set again beside its field; then
//! an event changed in the database (as someone with the database could) named on the chain
//! page with what is wrong, in Vietnamese and English. Every page looked at.

use diesel::prelude::*;
use serde_json::Value;
use usefirst::db::schema::audit_events;

use crate::driver::{browse, Browser};
use crate::helpers::{id_of, TestApp};
use crate::steps::*;

/// What the walk needs from the fixture: the auditor, the agreement and its approval event.
struct Fixture {
    email: String,
    number: String,
    approval: i64,
    events: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    let w = app.world().await;
    let a: Value = app.signed_agreement(&w).await;
    app.signed_insured(&w, &w.sme_b, "2026-03-10").await;
    let id = id_of(&a);
    let approval: i64 = app.db(|c| {
        audit_events::table
            .filter(audit_events::entity_id.eq(&id))
            .filter(audit_events::action.eq("agreement.approve"))
            .select(audit_events::seq)
            .first(c)
            .unwrap()
    });
    Fixture {
        email: w.auditor.email.clone(),
        number: a["number"].as_str().unwrap().to_string(),
        approval,
        events: app.count("audit_events"),
    }
}

/// Home, then the chain check from its link: intact, every event counted.
async fn the_chain_is_intact(b: &Browser, f: &Fixture) {
    sign_in(b, &f.email).await;
    arrive(b, "/home").await;
    look(b, "audit-home").await;
    follow(b, &word("vi", "dashboard.auditor.chain", &[])).await;
    arrive(b, "/audit/chain").await;
    expect_page(b, "vi", &word("vi", "audit.chain.title", &[])).await;
    expect_text(b, &word("vi", "audit.chain.ok", &[])).await;
    let n = usefirst::typeset::format::count("vi", f.events);
    expect_text(b, &word("vi", "audit.chain.ok_count", &[("count", &n)])).await;
    look(b, "audit-chain").await;
}

/// The log narrowed to the agreement by its number; a number that names none is set again.
async fn the_log_of_one_agreement(b: &Browser, f: &Fixture) {
    follow(b, &word("vi", "audit.chain.browse", &[])).await;
    arrive(b, "/audit/events").await;
    expect_page(b, "vi", &word("vi", "audit.events.title", &[])).await;
    look(b, "audit-events").await;
    fill(b, &word("vi", "audit.events.agreement", &[]), &f.number).await;
    submit(b, &word("vi", "audit.events.apply", &[])).await;
    expect_text(b, "agreement.approve").await;
    assert!(main_text(b).await.contains(&f.number));
    look(b, "audit-events-agreement").await;
    fill(
        b,
        &word("vi", "audit.events.agreement", &[]),
        "UF-1999-000001",
    )
    .await;
    submit(b, &word("vi", "audit.events.apply", &[])).await;
    expect_text(b, &word("vi", "audit.events.error.agreement", &[])).await;
    assert_eq!(
        attr_of(
            b,
            &word("vi", "audit.events.agreement", &[]),
            "aria-invalid"
        )
        .await,
        "true"
    );
    look(b, "audit-events-unknown").await;
}

/// After the approval is changed in the database, the chain page names it and what is wrong.
async fn the_changed_event_is_named(b: &Browser, f: &Fixture) {
    open(b, "/audit/chain").await;
    expect_text(b, &word("vi", "audit.chain.broken", &[])).await;
    let seq = f.approval.to_string();
    expect_text(b, &word("vi", "audit.chain.first_broken", &[("seq", &seq)])).await;
    expect_text(b, &word("vi", "audit.problem.altered", &[])).await;
    expect_text(b, "agreement.approve").await;
    expect_text(b, &f.number).await;
    look(b, "audit-chain-broken").await;
    switch_language(b, "en").await;
    expect_page(b, "en", "Audit chain check").await;
    expect_text(b, "The chain is broken").await;
    expect_text(b, &format!("First broken link: event No. {seq}")).await;
    expect_text(b, &word("en", "audit.problem.altered", &[])).await;
    look(b, "audit-chain-broken").await;
    open(b, "/audit/events").await;
    expect_page(b, "en", "Audit log").await;
    look(b, "audit-events").await;
}

#[actix_web::test]
async fn the_auditor_sees_a_clean_chain_then_a_tampered_event_named() {
    let app = TestApp::spawn_long_sessions().await;
    let f = fixture(&app).await;
    let state = app.state.clone();
    browse(&app, "vi", move |b| async move {
        the_chain_is_intact(&b, &f).await;
        the_log_of_one_agreement(&b, &f).await;
        // Someone with the database rewrites what the approval recorded.
        let mut conn = state.db.reader().unwrap();
        let changed = diesel::update(audit_events::table.find(f.approval))
            .set(audit_events::data.eq("{\"after\":{\"status\":\"rejected\"}}"))
            .execute(&mut conn)
            .unwrap();
        assert_eq!(changed, 1);
        drop(conn);
        the_changed_event_is_named(&b, &f).await;
    })
    .await;
}
