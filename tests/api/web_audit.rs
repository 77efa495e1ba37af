//! The supervisors' audit pages as a browser sees them: a clean chain verified with its
//! count and its last event, in Vietnamese and English; an event changed in the database
//! named on the page with what is wrong (its content, or its link to the event before); the
//! event browser narrowed by agreement, organisation, kind and days, a page at a time, with a
//! filter it cannot read set again beside its field; and no audit page for the parties.

use diesel::prelude::*;
use serde_json::Value;
use usefirst::db::schema::audit_events;
use usefirst::typeset::format;

use crate::browser::{text, Browser};
use crate::helpers::*;

const CHAIN: &str = "/audit/chain";
const EVENTS: &str = "/audit/events";

/// A world with two signed agreements of different parties; returns (world, agreement on
/// tech_a, agreement on tech_b).
async fn world_with_trials(app: &TestApp) -> (World, Value, Value) {
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let b = app.signed_insured(&w, &w.sme_b, "2026-03-10").await;
    (w, a, b)
}

/// The agreement's events (seq, kind), oldest first, as the API gives them to an auditor.
async fn events_of(app: &TestApp, w: &World, id: &str) -> Vec<(i64, String)> {
    let (s, events) = app
        .get(&w.auditor.token, &format!("/api/v1/agreements/{id}/events"))
        .await;
    assert_eq!(s, 200, "{events}");
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The sequence numbers of the events a browser page lists, in page order.
fn listed(page: &str) -> Vec<i64> {
    page.split("<tr id=\"event-")
        .skip(1)
        .map(|r| r[..r.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// The browser's page for `query`, which must answer 200; its listed events.
async fn browse(b: &mut Browser, query: &str) -> (String, Vec<i64>) {
    let (s, _, page) = b.get(&format!("{EVENTS}?{query}")).await;
    assert_eq!(s, 200, "{query}: {page}");
    let seqs = listed(&page);
    (page, seqs)
}

/// Writes `data` into event `seq` behind the application's back, as someone with the
/// database could.
fn set_data(app: &TestApp, seq: i64, data: &str) {
    let changed = app.db(|c| {
        diesel::update(audit_events::table.find(seq))
            .set(audit_events::data.eq(data))
            .execute(c)
            .unwrap()
    });
    assert_eq!(changed, 1);
}

#[actix_web::test]
async fn a_clean_chain_reads_as_verified_with_its_count() {
    let app = TestApp::spawn_long_sessions().await;
    let (w, _, _) = world_with_trials(&app).await;
    let total = app.count("audit_events");
    assert!(total > 20, "a real chain: {total}");
    let last_kind: String = app.db(|c| {
        audit_events::table
            .find(total)
            .select(audit_events::action)
            .first(c)
            .unwrap()
    });
    for (user, lang, verdict, count) in [
        (
            &w.auditor,
            "vi",
            "Chuỗi còn nguyên vẹn",
            "Đã xác minh toàn bộ {n} sự kiện",
        ),
        (
            &w.auditor,
            "en",
            "The chain is intact",
            "All {n} events were verified",
        ),
        (
            &w.admin,
            "vi",
            "Chuỗi còn nguyên vẹn",
            "Đã xác minh toàn bộ {n} sự kiện",
        ),
    ] {
        let mut b = Browser::signed_in(&app, &user.email).await;
        b.language(lang).await;
        let (s, _, page) = b.get(CHAIN).await;
        assert_eq!(s, 200, "{page}");
        let page = text(&page);
        assert!(page.contains(&format!("<html lang=\"{lang}\">")));
        assert!(page.contains(verdict), "{page}");
        let n = format::count(lang, total);
        assert!(
            page.contains(&count.replace("{n}", &n)),
            "{lang}: {n} on {page}"
        );
        // The last event verified is the chain's last, with its kind; nothing is broken.
        assert!(page.contains(&format!("<dd>{total}</dd>")), "{page}");
        assert!(
            page.contains(&format!("<code>{last_kind}</code>")),
            "{page}"
        );
        assert!(!page.contains("role=\"alert\""), "{page}");
    }
}

#[actix_web::test]
async fn an_event_changed_in_the_database_is_named_with_what_is_wrong() {
    let app = TestApp::spawn_long_sessions().await;
    let (w, a, _) = world_with_trials(&app).await;
    let number = a["number"].as_str().unwrap().to_string();
    let events = events_of(&app, &w, &id_of(&a)).await;
    let (approve, _) = events
        .iter()
        .find(|(_, k)| k == "agreement.approve")
        .cloned()
        .unwrap();
    let mut b = Browser::signed_in(&app, &w.auditor.email).await;

    // Someone with the database rewrites what the approval recorded.
    let data: String = app.db(|c| {
        audit_events::table
            .find(approve)
            .select(audit_events::data)
            .first(c)
            .unwrap()
    });
    let forged = data.replacen("approved", "rejected", 1);
    assert_ne!(forged, data);
    set_data(&app, approve, &forged);
    let (s, _, page) = b.get(CHAIN).await;
    assert_eq!(s, 200, "{page}");
    let page = text(&page);
    assert!(page.contains("Chuỗi đã bị phá vỡ"), "{page}");
    assert!(
        page.contains(&format!(
            "Đã xác minh {} sự kiện theo thứ tự; chuỗi bị đứt tại sự kiện số {approve}.",
            approve - 1
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("Mắt xích hỏng đầu tiên: sự kiện số {approve}")),
        "{page}"
    );
    assert!(page.contains("<code>agreement.approve</code>"), "{page}");
    assert!(page.contains(&format!(">{number}</a>")), "{page}");
    assert!(
        page.contains("nội dung sự kiện đã bị thay đổi sau khi ghi"),
        "{page}"
    );
    // The last event verified is the one before it.
    assert!(
        page.contains(&format!("<dd>{}</dd>", approve - 1)),
        "{page}"
    );

    // Put back, the chain holds again; a broken link to the event before is named as that.
    set_data(&app, approve, &data);
    let (_, _, page) = b.get(CHAIN).await;
    assert!(text(&page).contains("Chuỗi còn nguyên vẹn"), "{page}");
    let (sign, _) = events
        .iter()
        .rfind(|(_, k)| k == "agreement.sign")
        .cloned()
        .unwrap();
    app.db(|c| {
        diesel::update(audit_events::table.find(sign))
            .set(audit_events::prev_hash.eq(usefirst::audit::GENESIS))
            .execute(c)
            .unwrap()
    });
    b.language("en").await;
    let (s, _, page) = b.get(CHAIN).await;
    assert_eq!(s, 200);
    let page = text(&page);
    assert!(page.contains("The chain is broken"), "{page}");
    assert!(
        page.contains(&format!("First broken link: event No. {sign}")),
        "{page}"
    );
    assert!(
        page.contains("the link to the event before it is broken"),
        "{page}"
    );
    assert!(page.contains("<code>agreement.sign</code>"), "{page}");
    assert!(page.contains(&format!(">{number}</a>")), "{page}");
}

#[actix_web::test]
async fn the_filters_narrow_the_events_a_page_at_a_time() {
    let app = TestApp::spawn_long_sessions().await;
    let (w, a, b_agreement) = world_with_trials(&app).await;
    // Enough requests for more than one page.
    for _ in 0..25 {
        app.request(&w.sme_b, &w.tech_a, "2026-03-05").await;
    }
    let total = app.count("audit_events");
    let mut b = Browser::signed_in(&app, &w.auditor.email).await;

    // Unfiltered: every event once, newest first, across the pages.
    let mut seen = Vec::new();
    let mut query = String::new();
    loop {
        let (page, seqs) = browse(&mut b, &query).await;
        assert!(!seqs.is_empty(), "{page}");
        seen.extend(seqs);
        let Some(at) = page.find("rel=\"next\"") else {
            break;
        };
        let href = &page[page[..at].rfind("href=\"").unwrap() + 6..at];
        query = href[href.find('?').unwrap() + 1..href.find('"').unwrap()].replace("&amp;", "&");
    }
    assert_eq!(seen, (1..=total).rev().collect::<Vec<_>>());
    assert!(total > 50, "more than one page: {total}");

    // By agreement: exactly that agreement's events, each naming it.
    let number = a["number"].as_str().unwrap();
    let mut own: Vec<i64> = events_of(&app, &w, &id_of(&a))
        .await
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    own.reverse();
    let (page, seqs) = browse(&mut b, &format!("agreement={number}")).await;
    assert_eq!(seqs, own, "{page}");
    assert_eq!(page.matches(&format!(">{number}</a>")).count(), own.len());
    assert!(
        page.contains(&format!("value=\"{number}\"")),
        "kept: {page}"
    );

    // By kind: only that kind, from both agreements.
    let (page, seqs) = browse(&mut b, "kind=agreement.sign").await;
    assert_eq!(seqs.len(), 4, "two signatures on each: {page}");
    assert_eq!(page.matches("<code>agreement.sign</code>").count(), 4);
    assert!(page.contains(&b_agreement["number"].as_str().unwrap().to_string()));

    // By organisation that acted: institute B's approval and signature only.
    let (page, seqs) = browse(&mut b, &format!("organisation={}", w.inst_b.org)).await;
    let inst_b: Vec<i64> = app.db(|c| {
        audit_events::table
            .filter(audit_events::actor_organisation_id.eq(&w.inst_b.org))
            .order(audit_events::seq.desc())
            .select(audit_events::seq)
            .load(c)
            .unwrap()
    });
    assert!(!inst_b.is_empty());
    assert_eq!(seqs, inst_b, "{page}");
    assert_eq!(
        page.matches("Tổ chức inst_b").count(),
        inst_b.len() + 1,
        "and the select"
    );

    // By days: later events only from the day they happened.
    app.clock.advance(chrono::Duration::days(1));
    assert!(app.advance() > 0, "a trial starts");
    let today = app.clock.today(app.state.tz);
    let after = app.count("audit_events");
    let (page, seqs) = browse(&mut b, &format!("from={today}")).await;
    assert_eq!(
        seqs,
        ((total + 1)..=after).rev().collect::<Vec<_>>(),
        "{page}"
    );
    let yesterday = today.pred_opt().unwrap();
    let (_, seqs) = browse(&mut b, &format!("to={yesterday}")).await;
    assert_eq!(seqs.first(), Some(&total));
    let (page, seqs) = browse(&mut b, &format!("from={today}&kind=agreement.sign")).await;
    assert!(
        seqs.is_empty() && page.contains("Không có sự kiện nào khớp"),
        "{page}"
    );

    // What it cannot read is set again beside its field, as typed.
    let (s, _, page) = b.get(&format!("{EVENTS}?agreement=UF-1999-999999")).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"filter-agreement-error\""), "{page}");
    assert!(
        page.contains("Không có thỏa thuận nào mang số này"),
        "{page}"
    );
    assert!(page.contains("value=\"UF-1999-999999\""), "{page}");
    assert!(listed(&page).is_empty());
    let (s, _, page) = b
        .get(&format!("{EVENTS}?from={today}&to={yesterday}"))
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"filter-to-error\""), "{page}");
    let (s, _, page) = b.get(&format!("{EVENTS}?from=31-02-2026")).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"filter-from-error\"") && page.contains("value=\"31-02-2026\""));
}

#[actix_web::test]
async fn only_supervisors_have_audit_pages() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    for user in [&w.sme_a, &w.inst_a, &w.insurer_a] {
        let mut b = Browser::signed_in(&app, &user.email).await;
        for path in [CHAIN, EVENTS, "/audit/events?kind=agreement.sign"] {
            let (s, _, page) = b.get(path).await;
            assert_eq!(s, 404, "{}: {path}: {page}", user.email);
            assert!(!page.contains("Tổ chức"), "nothing of the chain: {page}");
        }
        let (_, _, home) = b.get("/home").await;
        assert!(!home.contains("href=\"/audit/"), "{home}");
    }
    // Admins walk the chain as the API lets them; the auditor's home links every page.
    let mut admin = Browser::signed_in(&app, &w.admin.email).await;
    for path in [CHAIN, EVENTS] {
        let (s, _, page) = admin.get(path).await;
        assert_eq!(s, 200, "{path}: {page}");
    }
    let mut auditor = Browser::signed_in(&app, &w.auditor.email).await;
    let (_, _, home) = auditor.get("/home").await;
    for link in [CHAIN, EVENTS, "/audit/documents", "/admin/reports"] {
        assert!(home.contains(&format!("href=\"{link}\"")), "{link}: {home}");
    }
    // Signed out: the sign-in page, and the way back.
    let mut nobody = Browser::new(&app);
    let (s, headers, _) = nobody.get(EVENTS).await;
    assert_eq!(s, 303);
    assert!(headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/sign-in?next="));
}
