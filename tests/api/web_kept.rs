//! Pages kept for a repeated view (`web::kept`): the home, an agreement and a catalogue search
//! are given again as set while nothing changed, and never once something did, whether the
//! change came through this instance, another one on the same database, or the clock; one
//! person's kept page is never another's.

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::*;

/// How many bytes of pages `app` keeps now.
fn kept(app: &TestApp) -> usize {
    app.state.kept_pages.bytes()
}

#[actix_web::test]
async fn a_kept_page_shows_every_change_at_once() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let beside = app.spawn_beside().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-08-01").await;
    let id = id_of(&a);
    let page = format!("/agreements/{id}");
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    sme.language("en").await;

    // The first views set the pages and keep them; the second are the same pages.
    let mut first = Vec::new();
    assert_eq!(app.state.metrics.kept_page_views(), (0, 0));
    for path in [page.as_str(), "/home", "/catalogue?q=Technology"] {
        let before = kept(&app);
        let (s, _, body) = sme.get(path).await;
        assert_eq!(s, 200, "{path}: {body}");
        assert!(kept(&app) > before, "{path} was not kept");
        let (s, _, again) = sme.get(path).await;
        assert_eq!((s, &again), (200, &body), "{path} given again");
        first.push(body);
    }
    assert_eq!(
        app.state.metrics.kept_page_views(),
        (3, 3),
        "three given, three set"
    );
    // A kept answer carries the headers of a page set anew.
    let (_, headers, _) = sme.get("/catalogue?q=Technology").await;
    assert_eq!(headers["vary"], "HX-Request");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // htmx's fragment under the same address is kept apart from the whole page.
    let cookies = format!(
        "uf_session={}; uf_csrf={}",
        sme.cookie("uf_session").unwrap(),
        sme.csrf()
    );
    for _ in 0..2 {
        let res = app
            .client
            .get(app.url("/catalogue?q=Technology"))
            .header("cookie", &cookies)
            .header("accept-language", "en")
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let fragment = res.text().await.unwrap();
        assert!(!fragment.contains("<html"), "{fragment}");
    }
    assert!(sme.get("/catalogue?q=Technology").await.2.contains("<html"));
    assert_eq!(app.state.metrics.kept_page_views(), (6, 4));
    assert!(first[0].contains("status-requested"), "{}", first[0]);
    assert!(first[0].contains("action-withdraw"));

    // The institute approves through the other instance: the SME's next views show it.
    let (s, approved) = beside
        .act(&w.inst_a.token, &id, "approve", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{approved}");
    let (_, _, now) = sme.get(&page).await;
    assert!(now.contains("status-approved"), "{now}");
    assert!(now.contains("action-sign") && !first[0].contains("action-sign"));
    let (_, _, home) = sme.get("/home").await;
    assert_ne!(home, first[1], "the home counts the approval");

    // A technology listed through the other instance is found by the same search at once.
    let before = sme.get("/catalogue?q=Technology").await.2;
    beside.add_technology(&w.inst_a, "Kept", "agritech", "listed", lump_sum_terms());
    let (_, _, after) = sme.get("/catalogue?q=Technology").await;
    assert!(after.contains("Technology Kept") && !before.contains("Technology Kept"));

    // A new day (the service's clock) sets the page again, though the record stood still:
    // the institute's approval form offers the trial's start from today on.
    let b = app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    let waiting = format!("/agreements/{}", id_of(&b));
    let mut inst = Browser::signed_in(&app, &w.inst_a.email).await;
    let (_, _, today) = inst.get(&waiting).await;
    assert!(today.contains("value=\"2026-03-03\""), "{today}");
    assert_eq!(inst.get(&waiting).await.2, today);
    let before = kept(&app);
    app.clock.advance(chrono::Duration::minutes(15));
    assert_eq!(inst.get(&waiting).await.2, today);
    assert!(
        kept(&app) > before,
        "a new quarter-hour keeps the page anew"
    );
    app.clock.advance(chrono::Duration::days(3));
    let (_, _, later) = inst.get(&waiting).await;
    assert!(later.contains("value=\"2026-03-05\""), "{later}");

    drop(beside);
}

#[actix_web::test]
async fn one_persons_kept_page_is_never_anothers() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-08-01").await;
    let id = id_of(&a);

    let mut sme_a = Browser::signed_in(&app, &w.sme_a.email).await;
    let mut sme_b = Browser::signed_in(&app, &w.sme_b.email).await;
    let mut inst_a = Browser::signed_in(&app, &w.inst_a.email).await;
    for b in [&mut sme_a, &mut sme_b, &mut inst_a] {
        b.language("en").await;
    }
    let (s, _, mine) = sme_a.get("/home").await;
    assert_eq!(s, 200);
    let (s, _, theirs) = sme_b.get("/home").await;
    assert_eq!(s, 200);
    assert_ne!(mine, theirs);
    assert!(theirs.contains(&sme_b.csrf()) && !theirs.contains(&sme_a.csrf()));

    // The agreement kept for its SME is a 404 to another SME, and the institute's own page.
    let page = format!("/agreements/{id}");
    let (s, _, sme_view) = sme_a.get(&page).await;
    assert_eq!(s, 200);
    assert_eq!(sme_a.get(&page).await.2, sme_view);
    let (s, _, _) = sme_b.get(&page).await;
    assert_eq!(s, 404, "another SME's agreement");
    let (s, _, inst_view) = inst_a.get(&page).await;
    assert_eq!(s, 200);
    assert!(inst_view.contains("action-approve") && !sme_view.contains("action-approve"));

    // Signing out ends the kept view with the session: the page asks for a sign-in again.
    let csrf = sme_a.csrf();
    let (s, _, _) = sme_a.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(s, 303);
    let (s, headers, _) = sme_a.get(&page).await;
    assert_eq!(s, 303);
    assert!(headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/sign-in"));
}

#[actix_web::test]
async fn the_language_and_the_user_are_kept_apart() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = Browser::signed_in(&app, &w.sme_a.email).await;
    b.language("en").await;
    let (_, _, en) = b.get("/home").await;
    assert_eq!(b.get("/home").await.2, en);
    assert_eq!(app.state.metrics.kept_page_views(), (1, 1));

    // Another language, nothing else changed (the switch appends no event): set anew.
    b.language("vi").await;
    let (_, _, vi) = b.get("/home").await;
    assert!(vi.contains("<html lang=\"vi\">") && en.contains("<html lang=\"en\">"));
    assert_eq!(app.state.metrics.kept_page_views(), (1, 2));
    assert_eq!(b.get("/home").await.2, vi);
    assert_eq!(app.state.metrics.kept_page_views(), (2, 2));

    // Another user in the same browser (the same form token, signing in appends no event):
    // their own home, set anew.
    let csrf = b.csrf();
    let (s, _, _) = b.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(s, 303);
    let (s, _, _) = b.sign_in(&w.sme_b.email, PASSWORD).await;
    assert_eq!(s, 303);
    assert_eq!(b.csrf(), csrf, "the browser kept its form token");
    let (s, _, theirs) = b.get("/home").await;
    assert_eq!(s, 200);
    assert!(
        theirs.contains("Người dùng sme_b") && !theirs.contains("Người dùng sme_a"),
        "{theirs}"
    );
    assert_eq!(app.state.metrics.kept_page_views(), (2, 3));
}

#[actix_web::test]
async fn nothing_is_kept_when_the_service_keeps_no_pages() {
    let app = TestApp::spawn_with(|c| c.app.page_cache_kilobytes = 0).await;
    let w = app.world().await;
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    for _ in 0..2 {
        let (s, _, _) = sme.get("/home").await;
        assert_eq!(s, 200);
    }
    assert_eq!(kept(&app), 0);
}
