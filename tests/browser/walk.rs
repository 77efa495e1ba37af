//! The walks: a person's way through the pages, each page looked at (screenshots at both
//! widths, axe-core) on the way. A walk is a list of small steps; a new page is one more step
//! function and one more line in a walk.

use fantoccini::key::Key;

use crate::driver::{browse, Browser, BROWSER_LANGUAGE};
use serde_json::{json, Value};

use crate::helpers::{id_of, installment_terms, read, version_of, TestApp, User, World};
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

// --- the trial from registration to payment ------------------------------------------------

/// What happens off the page while a walk goes on, from inside the walk: the manual clock
/// and the scheduler's work, the outbox, and the JSON API as the other party.
#[derive(Clone)]
pub struct Backstage {
    base: String,
    client: reqwest::Client,
    clock: usefirst::clock::Clock,
    state: actix_web::web::Data<usefirst::AppState>,
}

impl Backstage {
    pub fn of(app: &TestApp) -> Backstage {
        Backstage {
            base: app.base.clone(),
            client: app.client.clone(),
            clock: app.clock.clone(),
            state: app.state.clone(),
        }
    }

    /// Moves the clock by whole days and runs the time-driven work, as the scheduler would.
    pub fn pass_days(&self, days: i64) {
        self.clock.advance(chrono::Duration::days(days));
        usefirst::app::agreements::advance_due(&self.state.db, self.clock.now()).unwrap();
    }

    /// A count of rows in `table`, to prove a form sent back changed nothing.
    pub fn count(&self, table: &str) -> i64 {
        crate::helpers::count_rows(&self.state, table)
    }

    /// The path of the link starting with `prefix` in the last mail to `to`.
    fn mailed_link(&self, to: &str, prefix: &str) -> String {
        use diesel::prelude::*;
        use usefirst::db::schema::outbox::dsl::*;
        let mut conn = self.state.db.reader().unwrap();
        let conn: &mut usefirst::db::DbConn = &mut conn;
        let bodies: Vec<String> = usefirst::on_backend!(conn, |c| outbox
            .filter(recipient_email.eq(to))
            .order((created_at.asc(), id.asc()))
            .select(body)
            .load(c))
        .unwrap();
        let text = bodies.last().unwrap_or_else(|| panic!("no mail to {to}"));
        let at = text
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} in {text}"));
        text[at..].split_whitespace().next().unwrap().to_string()
    }

    /// An agreement as the JSON API shows it to `user`.
    async fn agreement(&self, user: &User, id: &str) -> Value {
        let res = self
            .client
            .get(format!("{}/api/v1/agreements/{id}", self.base))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        let (s, a) = read(res).await;
        assert_eq!(s, 200, "{a}");
        a
    }

    /// `user` takes `action` on the agreement through the JSON API, at its current version.
    async fn act(&self, user: &User, id: &str, action: &str, body: Value) -> Value {
        let version = version_of(&self.agreement(user, id).await);
        let res = self
            .client
            .post(format!("{}/api/v1/agreements/{id}/{action}", self.base))
            .bearer_auth(&user.token)
            .header("If-Match", format!("\"{version}\""))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (s, a) = read(res).await;
        assert_eq!(s, 200, "{action}: {a}");
        a
    }
}

/// The new enterprise of the first walk.
const NEW_SME: &str = "Công ty TNHH Sấy Mekong";
const NEW_SME_EMAIL: &str = "mai@saymekong.vn";
const NEW_SME_NAME: &str = "Trần Thị Mai";

/// The technology the walks search for, with diacritics in its Vietnamese title.
const STRAW_PRESS: &str = "máy ép rơm rạ";

fn straw_press(app: &TestApp, w: &World) -> (String, String, String) {
    let id = app.add_technology(
        &w.inst_b,
        STRAW_PRESS,
        "agriculture",
        "listed",
        installment_terms(),
    );
    (
        id,
        format!("Công nghệ {STRAW_PRESS}"),
        format!("Technology {STRAW_PRESS}"),
    )
}

/// Signs in as `email` and ends at home in `l`: the users of the world have Vietnamese as
/// their own language, which the header's switch overrides.
pub async fn enter(b: &Browser, l: &str, email: &str) {
    sign_in(b, email).await;
    arrive(b, "/home").await;
    if lang(b).await != l {
        switch_language(b, l).await;
        assert_eq!(path(b).await, "/home");
    }
}

/// The number an agreement's page shows in its heading.
async fn agreement_number(b: &Browser, lang: &str) -> String {
    let h = heading(b).await;
    let prefix = word(lang, "agreement.show.title", &[("number", "")]);
    h.strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{h:?} is not an agreement's heading"))
        .to_string()
}

/// The agreement id in the path of the page open now.
async fn agreement_id(b: &Browser) -> String {
    let p = path(b).await;
    p.strip_prefix("/agreements/")
        .and_then(|rest| rest.split(['/', '?']).next())
        .unwrap_or_else(|| panic!("{p} is not an agreement's page"))
        .to_string()
}

/// From home, the trials list through the menu, then the agreement numbered `number`.
async fn open_agreement_from_list(
    b: &Browser,
    l: &str,
    menu: &str,
    number: &str,
    shot: Option<&str>,
) {
    open(b, "/home").await;
    follow(b, &word(l, menu, &[])).await;
    arrive(b, "/trials").await;
    if let Some(name) = shot {
        look(b, name).await;
    }
    follow(b, number).await;
    expect_page(
        b,
        l,
        &word(l, "agreement.show.title", &[("number", number)]),
    )
    .await;
}

/// The enterprise registers, confirms its address and waits for approval.
async fn registers(b: &Browser, back: &Backstage) {
    let l = "vi";
    open(b, "/sign-in").await;
    follow(b, &word(l, "account.register.link", &[])).await;
    arrive(b, "/register").await;
    expect_page(b, l, &word(l, "account.register.title", &[])).await;
    for (key, value) in [
        ("account.field.organisation_name", NEW_SME),
        ("account.field.registration_no", "1801234567"),
        ("account.field.province", "Cần Thơ"),
        ("account.field.sector", "Chế biến nông sản"),
        ("account.field.address", "12 Nguyễn Trãi, Ninh Kiều"),
        ("account.field.name", NEW_SME_NAME),
        ("account.field.email", NEW_SME_EMAIL),
        ("account.password.new", crate::helpers::PASSWORD),
        ("account.password.again", crate::helpers::PASSWORD),
    ] {
        fill(b, &word(l, key, &[]), value).await;
    }
    look(b, "register").await;
    submit(b, &word(l, "account.register.submit", &[])).await;
    expect_page(b, l, &word(l, "account.register.sent.title", &[])).await;
    look(b, "register-sent").await;

    let confirm = back.mailed_link(NEW_SME_EMAIL, "/register/confirm/");
    open(b, &confirm).await;
    expect_page(b, l, &word(l, "account.register.confirm.title", &[])).await;
    look(b, "register-confirm").await;
    submit(b, &word(l, "account.register.confirm.submit", &[])).await;
    expect_page(b, l, &word(l, "account.register.confirmed.title", &[])).await;
    look(b, "register-confirmed").await;

    sign_in(b, NEW_SME_EMAIL).await;
    expect_text(b, &word(l, "account.sign_in.confirmed", &[])).await;
    look(b, "sign-in-waiting").await;
}

/// The admin approves the registration from the menu's registrations page.
async fn admin_approves(b: &Browser, admin: &str) {
    let l = "vi";
    sign_in(b, admin).await;
    arrive(b, "/home").await;
    follow(b, &word(l, "nav.registrations", &[])).await;
    arrive(b, "/admin/registrations").await;
    expect_page(b, l, &word(l, "account.review.title", &[])).await;
    expect_text(b, NEW_SME).await;
    expect_text(b, &word(l, "account.review.status.confirmed", &[])).await;
    look(b, "registrations").await;
    submit(
        b,
        &word(l, "account.review.approve", &[("organisation", NEW_SME)]),
    )
    .await;
    expect_page(b, l, &word(l, "account.review.title", &[])).await;
    expect_text(b, &word(l, "account.review.none", &[])).await;
    look(b, "registrations-done").await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

/// The SME finds the technology through the menu's catalogue with `words`, reads its terms
/// and a quote, and requests a trial; ends on the new agreement's page.
async fn finds_and_requests(b: &Browser, l: &str, words: &str, title: &str, place: &str) {
    follow(b, &word(l, "nav.catalogue", &[])).await;
    arrive(b, "/catalogue").await;
    expect_page(b, l, &word(l, "catalogue.title", &[])).await;
    look(b, "catalogue").await;
    fill(b, &word(l, "catalogue.search.words", &[]), words).await;
    submit_in_place(b, &word(l, "catalogue.search.submit", &[])).await;
    wait_for_link(b, title).await;
    look(b, "catalogue-results").await;
    follow(b, title).await;
    expect_page(b, l, title).await;
    expect_text(b, &word(l, "catalogue.terms.heading", &[])).await;
    expect_text(b, &word(l, "catalogue.terms.insurance_required", &[])).await;
    fill_date(b, &word(l, "catalogue.quote.convert_on", &[]), "2026-05-04").await;
    submit(b, &word(l, "catalogue.quote.submit", &[])).await;
    expect_page(b, l, title).await;
    let total = word(l, "catalogue.quote.total", &[("total", "")]);
    expect_text(b, total.trim_end()).await;
    look(b, "technology").await;
    follow(b, &word(l, "catalogue.request.open", &[])).await;
    expect_page(b, l, &word(l, "catalogue.request.title", &[])).await;
    look(b, "request").await;
    fill(b, &word(l, "catalogue.request.place_of_use", &[]), place).await;
    fill_date(
        b,
        &word(l, "catalogue.request.requested_start", &[]),
        "2026-03-05",
    )
    .await;
    fill(
        b,
        &word(l, "catalogue.request.message", &[]),
        "Sấy 5 tấn rơm mỗi ngày trong mùa thu hoạch",
    )
    .await;
    submit(b, &word(l, "catalogue.request.submit", &[])).await;
    agreement_number(b, l).await;
    expect_text(b, &word(l, "status.requested", &[])).await;
    look(b, "agreement-requested-sme").await;
}

/// The institute approves with the insurance product, from its list.
async fn institute_approves(b: &Browser, l: &str, email: &str, number: &str) {
    enter(b, l, email).await;
    open_agreement_from_list(b, l, "nav.agreements", number, Some("trials-institute")).await;
    let product = if l == "vi" {
        "Bảo hiểm dùng thử công nghệ"
    } else {
        "Technology trial cover"
    };
    choose_containing(b, &word(l, "agreement.field.product", &[]), product).await;
    look(b, "agreement-to-approve-institute").await;
    submit(b, &word(l, "agreement.action.approve", &[])).await;
    expect_text(b, &word(l, "agreement.done.approve", &[])).await;
    look(b, "agreement-approved-institute").await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

/// `email` signs the agreement from the list behind `menu`.
async fn signs(b: &Browser, l: &str, email: &str, menu: &str, number: &str, name: &str) {
    enter(b, l, email).await;
    open_agreement_from_list(b, l, menu, number, None).await;
    submit(b, &word(l, "agreement.action.sign", &[])).await;
    expect_text(b, &word(l, "agreement.done.sign", &[])).await;
    look(b, name).await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

/// The SME converts, once the trial has started.
async fn sme_converts(b: &Browser, l: &str, email: &str, number: &str) {
    enter(b, l, email).await;
    open_agreement_from_list(b, l, "nav.trials", number, Some("trials-sme")).await;
    expect_text(b, &word(l, "status.active", &[])).await;
    look(b, "agreement-active-sme").await;
    submit(b, &word(l, "agreement.action.convert", &[])).await;
    expect_text(b, &word(l, "agreement.done.convert", &[])).await;
    expect_text(b, &word(l, "status.converted", &[])).await;
    look(b, "agreement-converted-sme").await;
    open(b, "/home").await;
    look(b, "home-sme-converted").await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

/// The institute records the first instalment on the Payments tab; the statement shows it
/// paid; then the insurance tab and its home.
async fn institute_records_payment(b: &Browser, l: &str, email: &str, number: &str) {
    enter(b, l, email).await;
    open_agreement_from_list(b, l, "nav.agreements", number, None).await;
    look(b, "agreement-converted-institute").await;
    follow(b, &word(l, "tabs.money", &[])).await;
    expect_page(b, l, &word(l, "money.title", &[("number", number)])).await;
    expect_text(b, &word(l, "money.payments_none", &[])).await;
    look(b, "payments-due").await;
    let currency = [("currency", "USD")];
    fill(b, &word(l, "money.pay.amount", &currency), "3000.00").await;
    fill_date(b, &word(l, "money.pay.received_on", &[]), "2026-03-05").await;
    fill(b, &word(l, "money.pay.reference", &[]), "CK-0001").await;
    submit(b, &word(l, "money.pay.submit", &[])).await;
    expect_page(b, l, &word(l, "money.title", &[("number", number)])).await;
    expect_text(b, "CK-0001").await;
    expect_text(b, &word(l, "money.line.paid", &[])).await;
    look(b, "payments-paid").await;
    follow(b, &word(l, "tabs.cover", &[])).await;
    expect_page(b, l, &word(l, "money.cover.title", &[("number", number)])).await;
    expect_text(b, &word(l, "money.cover.policy", &[])).await;
    look(b, "cover").await;
    open(b, "/home").await;
    look(b, "home-institute-paid").await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

/// A new enterprise registers, is approved, finds a technology by words typed without
/// diacritics, requests, is approved with insurance, signs, converts and is paid; every
/// page in Vietnamese, looked at.
#[actix_web::test]
async fn sme_registers_and_converts_in_vietnamese() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let (_tech, title_vi, _) = straw_press(&app, &w);
    let back = Backstage::of(&app);
    let (admin, inst) = (w.admin.email.clone(), w.inst_b.email.clone());
    browse(&app, "vi", move |b| async move {
        let l = "vi";
        registers(&b, &back).await;
        admin_approves(&b, &admin).await;
        sign_in(&b, NEW_SME_EMAIL).await;
        arrive(&b, "/home").await;
        expect_page(
            &b,
            l,
            &word(l, "dashboard.greeting", &[("name", NEW_SME_NAME)]),
        )
        .await;
        look(&b, "home-sme-new").await;
        finds_and_requests(&b, l, "may ep rom ra", &title_vi, "Xưởng sấy Cái Răng").await;
        let number = agreement_number(&b, l).await;
        sign_out(&b).await;
        arrive(&b, "/sign-in").await;
        institute_approves(&b, l, &inst, &number).await;
        signs(
            &b,
            l,
            NEW_SME_EMAIL,
            "nav.trials",
            &number,
            "agreement-signed-sme",
        )
        .await;
        signs(
            &b,
            l,
            &inst,
            "nav.agreements",
            &number,
            "agreement-signed-institute",
        )
        .await;
        back.pass_days(3);
        sme_converts(&b, l, NEW_SME_EMAIL, &number).await;
        institute_records_payment(&b, l, &inst, &number).await;
    })
    .await;
}

/// The same trial in English with an enterprise of the world: search, request, approval,
/// signatures, start, conversion, payment and statement.
#[actix_web::test]
async fn the_same_in_english() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let (_tech, _, title_en) = straw_press(&app, &w);
    let back = Backstage::of(&app);
    let (sme, inst) = (w.sme_b.email.clone(), w.inst_b.email.clone());
    browse(&app, "en", move |b| async move {
        let l = "en";
        enter(&b, l, &sme).await;
        expect_page(
            &b,
            l,
            &word(l, "dashboard.greeting", &[("name", "Người dùng sme_b")]),
        )
        .await;
        finds_and_requests(&b, l, "may ep rom ra", &title_en, "Can Tho drying plant").await;
        let number = agreement_number(&b, l).await;
        sign_out(&b).await;
        arrive(&b, "/sign-in").await;
        institute_approves(&b, l, &inst, &number).await;
        signs(&b, l, &sme, "nav.trials", &number, "agreement-signed-sme").await;
        signs(
            &b,
            l,
            &inst,
            "nav.agreements",
            &number,
            "agreement-signed-institute",
        )
        .await;
        back.pass_days(3);
        sme_converts(&b, l, &sme, &number).await;
        institute_records_payment(&b, l, &inst, &number).await;
    })
    .await;
}

/// What a person meets when things go wrong: a page gone stale because the other party
/// acted meanwhile (412, with the way to how it stands now), a form with a bad value (422,
/// the message beside the field, what was typed kept), and another enterprise's agreement
/// (404).
#[actix_web::test]
async fn stale_conflict_bad_form_and_foreign_url() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_b, "2026-03-05").await;
    let other = app.request(&w.sme_b, &w.tech_b, "2026-03-06").await;
    let (id, other_id) = (id_of(&a), id_of(&other));
    let back = Backstage::of(&app);
    let (sme_a, sme_b, inst_b) = (w.sme_a.clone(), w.sme_b.email.clone(), w.inst_b.clone());
    let (tech_b, product) = (w.tech_b.clone(), w.product_a.clone());
    browse(&app, "vi", move |b| async move {
        let l = "vi";
        // Stale: the SME's page, then the institute approves through the API.
        sign_in(&b, &sme_a.email).await;
        arrive(&b, "/home").await;
        open(&b, &format!("/agreements/{id}")).await;
        expect_text(&b, &word(l, "status.requested", &[])).await;
        look(&b, "agreement-before-stale").await;
        back.act(
            &inst_b,
            &id,
            "approve",
            json!({"insurance_product_id": product}),
        )
        .await;
        submit(&b, &word(l, "agreement.action.withdraw", &[])).await;
        expect_page(&b, l, &word(l, "error.stale.title", &[])).await;
        look(&b, "stale").await;
        follow(&b, &word(l, "error.see_now", &[])).await;
        arrive(&b, &format!("/agreements/{id}")).await;
        expect_text(&b, &word(l, "status.approved", &[])).await;
        assert_eq!(back.agreement(&sme_a, &id).await["status"], "approved");
        look(&b, "agreement-after-stale").await;

        // A request without a place: the form again, the message beside the place, the day
        // and the purpose kept.
        open(&b, &format!("/catalogue/{tech_b}/request")).await;
        let start = word(l, "catalogue.request.requested_start", &[]);
        let purpose = word(l, "catalogue.request.message", &[]);
        fill_date(&b, &start, "2026-03-20").await;
        fill(&b, &purpose, "Sấy lúa mùa mưa").await;
        submit(&b, &word(l, "catalogue.request.submit", &[])).await;
        expect_page(&b, l, &word(l, "catalogue.request.title", &[])).await;
        expect_text(&b, &word(l, "catalogue.request.fix", &[])).await;
        expect_text(&b, &word(l, "catalogue.request.place_missing", &[])).await;
        let place = word(l, "catalogue.request.place_of_use", &[]);
        assert!(
            attr_of(&b, &place, "aria-describedby")
                .await
                .contains("place_of_use-error"),
            "the message is not tied to the place"
        );
        assert_eq!(attr_of(&b, &place, "aria-invalid").await, "true");
        assert_eq!(value_of(&b, &start).await, "2026-03-20");
        assert_eq!(value_of(&b, &purpose).await, "Sấy lúa mùa mưa");
        look(&b, "request-invalid").await;
        sign_out(&b).await;
        arrive(&b, "/sign-in").await;

        // A rejection without a reason: the page again, the message beside the reason.
        sign_in(&b, &inst_b.email).await;
        arrive(&b, "/home").await;
        open(&b, &format!("/agreements/{other_id}")).await;
        submit(&b, &word(l, "agreement.action.reject", &[])).await;
        expect_text(&b, &word(l, "agreement.error.reason_required", &[])).await;
        let reason = word(l, "agreement.field.reason_required", &[]);
        assert!(attr_of(&b, &reason, "aria-describedby")
            .await
            .contains("reject-reason-error"));
        look(&b, "reject-invalid").await;
        assert_eq!(
            back.agreement(&inst_b, &other_id).await["status"],
            "requested"
        );
        sign_out(&b).await;
        arrive(&b, "/sign-in").await;

        // Another enterprise's agreement does not exist for this one.
        sign_in(&b, &sme_b).await;
        arrive(&b, "/home").await;
        open(&b, &format!("/agreements/{id}")).await;
        expect_page(&b, l, &word(l, "error.not_found.title", &[])).await;
        look(&b, "foreign-agreement").await;
    })
    .await;
}

/// Waits until the page open is under `prefix`, then until it has loaded.
async fn arrive_under(b: &Browser, prefix: &str) {
    let started = std::time::Instant::now();
    loop {
        if path(b).await.starts_with(prefix) {
            settle(b).await;
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "expected to arrive under {prefix}, still at {}",
            path(b).await
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Tab to the control reading `words` and press Enter.
async fn tab_enter(b: &Browser, words: &str) {
    tab_to(b, words).await;
    press(b, Key::Enter).await;
}

/// From anywhere, the SME's trials through the menu, then the agreement, by keyboard.
async fn keyboard_to_agreement(b: &Browser, l: &str, id: &str, number: &str) {
    tab_enter(b, &word(l, "nav.trials", &[])).await;
    arrive(b, "/trials").await;
    tab_enter(b, number).await;
    arrive(b, &format!("/agreements/{id}")).await;
}

/// The whole way from the catalogue to conversion with the keyboard alone: Tab to each
/// control, type, Enter; the other parties act through the API meanwhile.
#[actix_web::test]
async fn keyboard_only_request_to_convert() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let (tech, title, _) = straw_press(&app, &w);
    let back = Backstage::of(&app);
    let (sme, inst, product) = (w.sme_a.clone(), w.inst_b.clone(), w.product_a.clone());
    browse(&app, "vi", move |b| async move {
        let l = "vi";
        open(&b, "/sign-in").await;
        tab_to(&b, &word(l, "sign_in.email", &[])).await;
        type_text(&b, &sme.email).await;
        press(&b, Key::Tab).await;
        type_text(&b, crate::helpers::PASSWORD).await;
        press(&b, Key::Enter).await;
        arrive(&b, "/home").await;

        tab_enter(&b, &word(l, "nav.catalogue", &[])).await;
        arrive(&b, "/catalogue").await;
        tab_to(&b, &word(l, "catalogue.search.words", &[])).await;
        type_text(&b, "may ep rom ra").await;
        press(&b, Key::Enter).await;
        wait_for_link(&b, &title).await;
        tab_enter(&b, &title).await;
        arrive(&b, &format!("/catalogue/{tech}")).await;
        tab_enter(&b, &word(l, "catalogue.request.open", &[])).await;
        arrive(&b, &format!("/catalogue/{tech}/request")).await;
        tab_to(&b, &word(l, "catalogue.request.place_of_use", &[])).await;
        type_text(&b, "Xưởng sấy Cái Răng").await;
        tab_to(&b, &word(l, "catalogue.request.requested_start", &[])).await;
        // The day as the date field takes it from the keyboard: headless Chromium shows it as
        // mm/dd/yyyy whatever the browser's language.
        type_text(&b, "03052026").await;
        let start = word(l, "catalogue.request.requested_start", &[]);
        assert_eq!(
            value_of(&b, &start).await,
            "2026-03-05",
            "the day typed into the date field"
        );
        tab_to(&b, &word(l, "catalogue.request.message", &[])).await;
        type_text(&b, "Sấy rơm").await;
        tab_enter(&b, &word(l, "catalogue.request.submit", &[])).await;
        arrive_under(&b, "/agreements/").await;
        let id = agreement_id(&b).await;
        let number = agreement_number(&b, l).await;
        look(&b, "keyboard-requested").await;

        back.act(
            &inst,
            &id,
            "approve",
            json!({"insurance_product_id": product}),
        )
        .await;
        keyboard_to_agreement(&b, l, &id, &number).await;
        tab_enter(&b, &word(l, "agreement.action.sign", &[])).await;
        wait_for_text(&b, &word(l, "agreement.done.sign", &[])).await;
        back.act(&inst, &id, "sign", json!({})).await;
        back.pass_days(3);
        keyboard_to_agreement(&b, l, &id, &number).await;
        tab_enter(&b, &word(l, "agreement.action.convert", &[])).await;
        wait_for_text(&b, &word(l, "agreement.done.convert", &[])).await;
        assert_eq!(back.agreement(&sme, &id).await["status"], "converted");
        look(&b, "keyboard-converted").await;
    })
    .await;
}
