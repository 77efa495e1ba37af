//! The market in a browser: an SME finds a technology in the catalogue by Vietnamese words
//! typed without their accents, and by Chinese words of its description; it posts a need
//! through the form, first with bad values (errors beside the fields, what was typed kept,
//! nothing written), then right; the institute finds the need under "Needs for you", its
//! technologies ranked with the reasons, and proposes one; the SME requests the trial from the
//! proposal with the form already filled in, and the need shows as closed. Every page looked
//! at, the need and the matches in Vietnamese and English.

use usefirst::technologies::Localized;

use crate::driver::{browse, Browser};
use crate::helpers::{lump_sum_terms, TestApp};
use crate::steps::*;
use crate::walk::{enter, Backstage};

/// The technology the SME looks for: accents in its Vietnamese title, Chinese in its
/// description.
const DRYER_VI: &str = "Máy sấy rơm rạ dùng năng lượng mặt trời";
const DRYER_EN: &str = "Solar straw dryer";

/// The other listed technology of the same institute, which the searches leave out.
const OTHER_VI: &str = "Công nghệ A";
const OTHER_EN: &str = "Technology A";

/// The need the SME posts.
const NEED: &str = "Máy sấy rơm rạ cho hợp tác xã";
const NEED_TEXT: &str =
    "Hợp tác xã cần sấy 2 tấn rơm rạ mỗi ngày trong mùa thu hoạch, ít tốn điện.";
const PROVINCE: &str = "Đồng Tháp";

/// The proposal's message.
const PITCH: &str = "The dryer runs at three cooperatives in the Mekong delta.";

/// From the menu's catalogue, a search for `words`: the results narrow to the dryer alone.
async fn catalogue_finds_the_dryer(b: &Browser, words: &str, name: &str) {
    let l = "vi";
    follow(b, &word(l, "nav.catalogue", &[])).await;
    arrive(b, "/catalogue").await;
    expect_text(b, OTHER_VI).await;
    fill(b, &word(l, "catalogue.search.words", &[]), words).await;
    submit_in_place(b, &word(l, "catalogue.search.submit", &[])).await;
    wait_for_text_gone(b, OTHER_VI).await;
    wait_for_link(b, DRYER_VI).await;
    expect_text(
        b,
        &word(
            l,
            "catalogue.results.count",
            &[("total", "1"), ("page", "1"), ("pages", "1")],
        ),
    )
    .await;
    look(b, name).await;
}

/// The need form with the values of a need, the budget, the day and who sees it (the key of
/// its words) as given.
async fn fill_need(b: &Browser, min: &str, max: &str, wanted_by: &str, visibility: &str) {
    let l = "vi";
    let field = |key: &str| word(l, &format!("demands.field.{key}"), &[]);
    fill(b, &field("title"), NEED).await;
    fill(b, &field("description"), NEED_TEXT).await;
    fill(
        b,
        &field("sector"),
        &word(l, "catalogue.field.agriculture", &[]),
    )
    .await;
    fill(b, &field("province"), PROVINCE).await;
    fill(b, &field("currency"), "VND").await;
    fill(b, &field("min"), min).await;
    fill(b, &field("max"), max).await;
    fill_date(b, &field("wanted_by"), wanted_by).await;
    tick(b, &word(l, visibility, &[])).await;
}

/// The SME posts the need: first a budget upside down, a day gone by and "invited institutes
/// only" with none ticked, sent back with the messages beside those fields, what was typed
/// kept and nothing written; then right, for every institute.
/// Returns the need's path.
async fn sme_posts_a_need(b: &Browser, back: &Backstage) -> String {
    let l = "vi";
    follow(b, &word(l, "demands.list.mine", &[])).await;
    arrive(b, "/demands").await;
    expect_page(b, l, &word(l, "demands.list.mine", &[])).await;
    expect_text(b, &word(l, "demands.list.none_mine", &[])).await;
    look(b, "market-needs-none").await;
    follow(b, &word(l, "demands.list.new", &[])).await;
    arrive(b, "/demands/new").await;
    expect_page(b, l, &word(l, "demands.form.new", &[])).await;
    // The institutes to invite, by name.
    for institute in ["Tổ chức inst_a", "Tổ chức inst_b"] {
        assert_eq!(
            attr_of(b, institute, "type").await,
            "checkbox",
            "{institute}"
        );
    }
    look(b, "market-need-form").await;

    let before = (back.count("demands"), back.count("audit_events"));
    fill_need(
        b,
        "300000000",
        "100000000",
        "2026-01-01",
        "demands.visibility.invited",
    )
    .await;
    submit(b, &word(l, "demands.form.post", &[])).await;
    expect_page(b, l, &word(l, "demands.form.new", &[])).await;
    expect_text(b, &word(l, "demands.form.fix", &[])).await;
    for (key, id) in [("max", "max"), ("wanted_by", "wanted_by")] {
        let label = word(l, &format!("demands.field.{key}"), &[]);
        expect_text(b, &word(l, &format!("demands.rule.{key}"), &[])).await;
        assert_eq!(attr_of(b, &label, "aria-invalid").await, "true", "{key}");
        assert!(
            attr_of(b, &label, "aria-describedby")
                .await
                .contains(&format!("{id}-error")),
            "the message is not tied to {key}"
        );
    }
    for (key, typed) in [
        ("title", NEED),
        ("description", NEED_TEXT),
        ("province", PROVINCE),
        ("min", "300000000"),
        ("max", "100000000"),
        ("wanted_by", "2026-01-01"),
    ] {
        let label = word(l, &format!("demands.field.{key}"), &[]);
        assert_eq!(value_of(b, &label).await, typed, "{key} kept");
    }
    expect_text(b, &word(l, "demands.rule.invited_institute_ids", &[])).await;
    assert_eq!(
        attr_of(b, "Tổ chức inst_a", "aria-invalid").await,
        "true",
        "the boxes are marked"
    );
    let min = word(l, "demands.field.min", &[]);
    assert_ne!(attr_of(b, &min, "aria-invalid").await, "true");
    assert_eq!(
        (back.count("demands"), back.count("audit_events")),
        before,
        "a need sent back wrote nothing"
    );
    look(b, "market-need-invalid").await;

    fill_need(
        b,
        "100000000",
        "300000000",
        "2026-06-30",
        "demands.visibility.public",
    )
    .await;
    submit(b, &word(l, "demands.form.post", &[])).await;
    expect_page(b, l, NEED).await;
    expect_text(b, &word(l, "demands.status.open", &[])).await;
    expect_text(b, "100.000.000 ₫ – 300.000.000 ₫").await;
    expect_text(b, &word(l, "demands.show.no_proposals", &[])).await;
    let need = path(b).await;
    assert!(need.starts_with("/demands/"), "{need}");
    look(b, "market-need-posted").await;
    follow(b, &word(l, "demands.show.back", &[])).await;
    arrive(b, "/demands").await;
    expect_text(b, &word(l, "demands.list.count", &[("total", "1")])).await;
    look(b, "market-needs-mine").await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
    need
}

/// The institute's "Needs for you": the need, the dryer ranked above its other technology,
/// each with why it matches; in `l`.
async fn needs_for_you(b: &Browser, l: &str) {
    let (dryer, other) = if l == "vi" {
        (DRYER_VI, OTHER_VI)
    } else {
        (DRYER_EN, OTHER_EN)
    };
    expect_page(b, l, &word(l, "demands.list.for_you", &[])).await;
    expect_text(b, NEED).await;
    for reason in [
        word(l, "demands.match.same_sector", &[]),
        word(l, "demands.match.same_province", &[("province", PROVINCE)]),
        word(l, "demands.fit.within", &[]),
    ] {
        expect_text(b, &reason).await;
    }
    let shared = word(l, "demands.match.words", &[("words", "")]);
    expect_text(b, shared.trim_end()).await;
    let shown = main_text(b).await;
    let (first, second) = (shown.find(dryer), shown.find(other));
    assert!(
        matches!((first, second), (Some(a), Some(b)) if a < b),
        "{dryer} is not ranked above {other}:\n{shown}"
    );
    // The shared words are the dryer's alone.
    let (dryer_row, other_row) = shown.split_once(other).unwrap_or_default();
    assert!(dryer_row.contains(shared.trim_end()), "{shown}");
    assert!(!other_row.contains(shared.trim_end()), "{shown}");
    look(b, "market-needs-for-you").await;
}

/// The institute finds the need and proposes the dryer.
async fn institute_proposes(b: &Browser, email: &str, need: &str) {
    enter(b, "en", email).await;
    follow(b, &word("en", "demands.list.for_you", &[])).await;
    arrive(b, "/demands").await;
    needs_for_you(b, "en").await;
    switch_language(b, "vi").await;
    needs_for_you(b, "vi").await;
    switch_language(b, "en").await;
    let l = "en";
    follow(b, &word(l, "demands.match.open", &[("title", NEED)])).await;
    arrive(b, need).await;
    expect_page(b, l, NEED).await;
    expect_text(b, &word(l, "demands.propose.title", &[])).await;
    look(b, "market-need-to-propose").await;
    fill(b, &word(l, "demands.propose.technology", &[]), DRYER_EN).await;
    fill(b, &word(l, "demands.propose.message", &[]), PITCH).await;
    submit(b, &word(l, "demands.propose.submit", &[])).await;
    arrive(b, need).await;
    expect_text(b, PITCH).await;
    expect_text(b, DRYER_EN).await;
    look(b, "market-need-proposed").await;
    open(b, "/demands").await;
    expect_text(b, &word(l, "demands.match.proposed", &[])).await;
    sign_out(b).await;
    arrive(b, "/sign-in").await;
}

/// The SME sees the proposal and requests the trial from it: the form comes filled in from
/// the need, so sending it is the one step; the need then shows as closed.
async fn sme_requests_the_trial(b: &Browser, email: &str, need: &str) {
    let l = "vi";
    enter(b, l, email).await;
    follow(b, &word(l, "demands.list.mine", &[])).await;
    arrive(b, "/demands").await;
    follow(b, NEED).await;
    arrive(b, need).await;
    expect_text(b, DRYER_VI).await;
    expect_text(b, PITCH).await;
    expect_text(b, "Tổ chức inst_a").await;
    look(b, "market-need-proposal").await;
    follow(b, &word(l, "demands.show.request", &[("title", DRYER_VI)])).await;
    expect_page(b, l, &word(l, "demands.request.title", &[])).await;
    let place = word(l, "demands.request.place_of_use", &[]);
    let start = word(l, "demands.request.requested_start", &[]);
    assert_eq!(value_of(b, &place).await, PROVINCE);
    assert_eq!(value_of(b, &start).await, "2026-03-16", "two weeks on");
    look(b, "market-request-filled").await;
    submit(b, &word(l, "demands.request.submit", &[])).await;
    let agreement = path(b).await;
    assert!(agreement.starts_with("/agreements/"), "{agreement}");
    expect_text(b, &word(l, "status.requested", &[])).await;
    expect_text(b, DRYER_VI).await;
    look(b, "market-trial-requested").await;

    follow(b, &word(l, "demands.list.mine", &[])).await;
    arrive(b, "/demands").await;
    expect_text(b, &word(l, "demands.status.closed", &[])).await;
    look(b, "market-needs-closed").await;
    follow(b, NEED).await;
    for code in ["vi", "en"] {
        if lang(b).await != code {
            switch_language(b, code).await;
        }
        expect_page(b, code, NEED).await;
        expect_text(b, &word(code, "demands.status.closed", &[])).await;
        expect_text(b, &word(code, "demands.closed.trial", &[])).await;
        expect_text(b, &word(code, "demands.proposal.requested", &[])).await;
        let shown = main_text(b).await;
        assert!(
            !shown.contains(&word(code, "demands.show.close", &[])),
            "a closed need offers no closing:\n{shown}"
        );
        look(b, "market-need-closed").await;
    }
    follow(b, &word("en", "demands.show.agreement", &[])).await;
    arrive(b, &agreement).await;
}

#[actix_web::test]
async fn an_sme_finds_posts_a_need_and_requests_a_trial_from_a_proposal() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    app.add_technology_with(
        &w.inst_a,
        "dryer",
        "agriculture",
        "listed",
        lump_sum_terms(),
        |t| {
            t.title = Localized {
                vi: DRYER_VI.into(),
                en: DRYER_EN.into(),
            };
            t.summary = Localized {
                vi: "Sấy rơm rạ và nông sản bằng nhiệt mặt trời, 2 tấn mỗi ngày. \
                     太阳能干燥机，适用于稻草。"
                    .into(),
                en: "Dries straw and crops with the sun's heat, 2 tonnes a day.".into(),
            };
        },
    );
    let back = Backstage::of(&app);
    let (sme, inst) = (w.sme_a.email.clone(), w.inst_a.email.clone());

    browse(&app, "vi", move |b| async move {
        enter(&b, "vi", &sme).await;
        catalogue_finds_the_dryer(&b, "may say rom ra", "market-catalogue-unaccented").await;
        catalogue_finds_the_dryer(&b, "太阳能", "market-catalogue-chinese").await;
        let need = sme_posts_a_need(&b, &back).await;
        institute_proposes(&b, &inst, &need).await;
        sme_requests_the_trial(&b, &sme, &need).await;
    })
    .await;
}
