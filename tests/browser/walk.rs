//! The walks: a person's way through the pages, each page looked at (screenshots at both
//! widths, axe-core) on the way. A walk is a list of small steps; a new page is one more step
//! function and one more line in a walk.

use fantoccini::key::Key;

use crate::driver::{browse, Browser, BROWSER_LANGUAGE};
use crate::helpers::{TestApp, World};
use crate::steps::*;

/// Who walks: an SME user of the fixture world, with one signed agreement and one request.
struct Walker {
    email: String,
    name: String,
}

async fn world_with_trials(app: &TestApp) -> (World, Walker) {
    let w = app.world().await;
    app.signed_agreement(&w).await;
    app.request(&w.sme_a, &w.tech_b, "2026-04-01").await;
    let walker = Walker {
        email: w.sme_a.email.clone(),
        name: "Người dùng sme_a".to_string(),
    };
    (w, walker)
}

// --- steps ---------------------------------------------------------------------------------

/// Not signed in, home sends you to sign in, in the browser's language.
async fn home_asks_to_sign_in(b: &Browser) {
    open(b, "/home").await;
    assert_eq!(path(b).await, "/sign-in?next=%2Fhome");
    expect_page(b, "vi", &word("vi", "sign_in.title", &[])).await;
    look(b, "sign-in").await;
}

/// The sign-in page in English through the language switch, and back to Vietnamese.
async fn sign_in_page_in_english(b: &Browser) {
    switch_language(b, "en").await;
    expect_page(b, "en", "Sign in").await;
    expect_text(b, &word("en", "sign_in.intro", &[])).await;
    look(b, "sign-in").await;
    switch_language(b, "vi").await;
}

/// A wrong password: the form again, the reason beside it, the e-mail kept.
async fn failed_sign_in(b: &Browser, email: &str) {
    fill(b, &t(b, "sign_in.email").await, email).await;
    fill(b, &t(b, "sign_in.password").await, "not the password").await;
    submit(b, &t(b, "sign_in.submit").await).await;
    expect_page(b, "vi", &word("vi", "sign_in.title", &[])).await;
    expect_text(b, &word("vi", "sign_in.failed", &[])).await;
    assert_eq!(value_of(b, &t(b, "sign_in.email").await).await, email);
    let described = control(b, &t(b, "sign_in.email").await)
        .await
        .attr("aria-describedby")
        .await
        .unwrap();
    assert_eq!(described.as_deref(), Some("sign-in-error"));
    look(b, "sign-in-failed").await;
}

/// The right password this time: home, where the form was going.
async fn sign_in_to_home(b: &Browser, walker: &Walker) {
    fill(b, &t(b, "sign_in.password").await, crate::helpers::PASSWORD).await;
    submit(b, &t(b, "sign_in.submit").await).await;
    arrive(b, "/home").await;
    expect_page(
        b,
        "vi",
        &word("vi", "dashboard.greeting", &[("name", &walker.name)]),
    )
    .await;
    expect_text(b, &word("vi", "status.signed", &[])).await;
    expect_text(b, &word("vi", "status.requested", &[])).await;
    look(b, "home").await;
}

/// Home in English through the switch; the page stays where it was.
async fn home_in_english(b: &Browser, walker: &Walker) {
    switch_language(b, "en").await;
    assert_eq!(path(b).await, "/home");
    expect_page(
        b,
        "en",
        &word("en", "dashboard.greeting", &[("name", &walker.name)]),
    )
    .await;
    expect_text(b, "Signed").await;
    look(b, "home").await;
}

/// A page that does not exist: the 404 page in the visitor's language, in both.
async fn missing_page(b: &Browser) {
    open(b, "/no-such-page").await;
    expect_page(b, "en", &word("en", "error.not_found.title", &[])).await;
    look(b, "not-found").await;
    switch_language(b, "vi").await;
    assert_eq!(path(b).await, "/no-such-page");
    expect_page(b, "vi", &word("vi", "error.not_found.title", &[])).await;
    look(b, "not-found").await;
    follow(b, &word("vi", "error.back_home", &[])).await;
    arrive(b, "/home").await;
}

/// Sign-out: back to the sign-in page, and home asks to sign in again.
async fn sign_out_and_stay_out(b: &Browser) {
    sign_out(b).await;
    arrive(b, "/sign-in").await;
    expect_page(b, "vi", &word("vi", "sign_in.title", &[])).await;
    open(b, "/home").await;
    assert_eq!(path(b).await, "/sign-in?next=%2Fhome");
}

// --- walks ---------------------------------------------------------------------------------

/// Signed out to home and out again, every page looked at in both languages.
#[actix_web::test]
async fn first_walk() {
    let app = TestApp::spawn().await;
    let (_w, walker) = world_with_trials(&app).await;
    browse(&app, BROWSER_LANGUAGE, move |b| async move {
        home_asks_to_sign_in(&b).await;
        sign_in_page_in_english(&b).await;
        failed_sign_in(&b, &walker.email).await;
        sign_in_to_home(&b, &walker).await;
        home_in_english(&b, &walker).await;
        missing_page(&b).await;
        sign_out_and_stay_out(&b).await;
    })
    .await;
}

/// Sign in and out with the keyboard alone: the skip link first, Tab to each field, type,
/// Enter; the focus always visible.
#[actix_web::test]
async fn keyboard_only_sign_in() {
    let app = TestApp::spawn().await;
    let (_w, walker) = world_with_trials(&app).await;
    browse(&app, BROWSER_LANGUAGE, move |b| async move {
        open(&b, "/sign-in").await;
        let stops = tab_to(&b, &word("vi", "sign_in.email", &[])).await;
        assert_eq!(
            stops[0],
            word("vi", "nav.skip", &[]),
            "the first Tab stop skips to the content"
        );
        type_text(&b, &walker.email).await;
        press(&b, Key::Tab).await;
        assert_eq!(focused(&b).await["id"], "password");
        type_text(&b, crate::helpers::PASSWORD).await;
        press(&b, Key::Enter).await;
        arrive(&b, "/home").await;
        expect_page(
            &b,
            "vi",
            &word("vi", "dashboard.greeting", &[("name", &walker.name)]),
        )
        .await;
        tab_to(&b, &word("vi", "nav.sign_out", &[])).await;
        press(&b, Key::Enter).await;
        arrive(&b, "/sign-in").await;
    })
    .await;
}

/// Every other kind of user signs in and sees their home, with their own menu.
#[actix_web::test]
async fn every_role_sees_home() {
    let app = TestApp::spawn().await;
    let (w, _) = world_with_trials(&app).await;
    let users: Vec<(&str, String, String)> = [
        ("institute", &w.inst_a, "inst_a"),
        ("insurer", &w.insurer_a, "insurer_a"),
        ("admin", &w.admin, "admin"),
    ]
    .into_iter()
    .map(|(role, u, label)| (role, u.email.clone(), format!("Người dùng {label}")))
    .collect();
    browse(&app, BROWSER_LANGUAGE, move |b| async move {
        for (role, email, name) in users {
            sign_in(&b, &email).await;
            arrive(&b, "/home").await;
            expect_page(
                &b,
                "vi",
                &word("vi", "dashboard.greeting", &[("name", &name)]),
            )
            .await;
            expect_text(&b, &word("vi", &format!("role.{role}"), &[])).await;
            look(&b, &format!("home-{role}")).await;
            sign_out(&b).await;
            arrive(&b, "/sign-in").await;
        }
    })
    .await;
}

/// The accessibility check can fail: axe-core finds what is wrong with a page built wrong
/// (a picture without words, a field without a label, grey on grey).
#[actix_web::test]
async fn axe_finds_what_is_wrong() {
    let app = TestApp::spawn().await;
    browse(&app, BROWSER_LANGUAGE, move |b| async move {
        let broken = "<!doctype html><html lang=en><head><title>Broken</title></head><body><main>\
            <h1>Broken</h1><img src=/x.png><input type=text>\
            <p style='color:#ccc;background:#ddd'>faint</p></main></body></html>";
        b.c.goto(&format!("data:text/html,{}", broken.replace('#', "%23")))
            .await
            .unwrap();
        let found: Vec<String> = violations(&b)
            .await
            .into_iter()
            .filter(|(impact, _)| impact == "serious" || impact == "critical")
            .map(|(_, line)| line.split(' ').next().unwrap().to_string())
            .collect();
        for rule in ["image-alt", "label", "color-contrast"] {
            assert!(
                found.iter().any(|r| r == rule),
                "{rule} not found: {found:?}"
            );
        }
    })
    .await;
}
