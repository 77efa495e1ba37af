//! The catalogue pages as a browser sees them: searching with and without accents, each
//! filter, pages of results, the results alone for htmx, a technology's terms and quote in
//! Vietnamese and English (the amounts those of the JSON quote), and an SME's trial request:
//! made once however often the form is sent, set again with its errors, refused to others.

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::Value;
use usefirst::settlement::money::Currency;
use usefirst::settlement::terms::Terms;
use usefirst::typeset::format;

use crate::browser::Browser;
use crate::helpers::{id_of, lump_sum_terms, TestApp, User, World, PASSWORD};

/// Terms like the world's lump sum, with a trial of `days`.
fn trial_of(days: u32) -> Terms {
    let mut t = lump_sum_terms();
    t.trial_days = days;
    t
}

/// `text` as the pages escape it.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// The link to a technology's page, as a results table has it.
fn link(id: &str) -> String {
    format!("href=\"/catalogue/{id}\"")
}

async fn signed_in(app: &TestApp, user: &User, lang: &'static str) -> Browser {
    let mut b = Browser::new(app);
    b.accept_language = lang;
    let (s, _, _) = b.sign_in(&user.email, PASSWORD).await;
    assert_eq!(s, 303);
    // The world's users read Vietnamese; the switch sets the page language.
    let (s, _, _) = b.get(&format!("/lang/{lang}?back=/home")).await;
    assert_eq!(s, 303);
    b
}

/// The world, with two more technologies: rice straw (institute B, environment, know-how, a
/// 120-day trial) and coffee drying (institute A, food processing, a 200-day trial).
async fn catalogue_world(app: &TestApp) -> (World, String, String) {
    let w = app.world().await;
    let straw = app.add_technology_with(
        &w.inst_b,
        "xử lý rơm rạ",
        "environment",
        "listed",
        trial_of(120),
        |t| {
            t.ip_type = "know_how".into();
            t.ip_reference = "BQ-07".into();
        },
    );
    let coffee = app.add_technology(
        &w.inst_a,
        "sấy cà phê",
        "food_processing",
        "listed",
        trial_of(200),
    );
    (w, straw, coffee)
}

#[actix_web::test]
async fn search_with_or_without_accents_by_each_filter_and_page_by_page() {
    let app = TestApp::spawn().await;
    let (w, straw, coffee) = catalogue_world(&app).await;
    let mut b = signed_in(&app, &w.sme_a, "vi").await;

    // Everything listed, nobody's draft; the institute's name, sector, IP kind and trial.
    let (s, _, page) = b.get("/catalogue").await;
    assert_eq!(s, 200, "{page}");
    for id in [&w.tech_a, &w.tech_b, &straw, &coffee] {
        assert!(page.contains(&link(id)), "{id} missing: {page}");
    }
    assert!(
        !page.contains(&link(&w.tech_draft)),
        "a draft on an SME's catalogue"
    );
    assert!(page.contains("Tìm thấy 4 công nghệ"), "{page}");
    for words in [
        "Tổ chức inst_b",
        "Môi trường",
        "Bí quyết kỹ thuật",
        "120 ngày",
        "500.000.000 ₫",
    ] {
        assert!(page.contains(words), "{words}: {page}");
    }
    assert!(page.contains("<script src=\"/static/web/htmx.min.js\" defer></script>"));

    // The same words with and without their accents find the same technology.
    for q in ["r%C6%A1m+r%E1%BA%A1", "rom+ra", "ROM+RA"] {
        let (s, _, page) = b.get(&format!("/catalogue?q={q}")).await;
        assert_eq!(s, 200);
        assert!(page.contains(&link(&straw)), "{q}: {page}");
        assert!(page.contains("Tìm thấy 1 công nghệ"), "{q}: {page}");
        assert!(!page.contains(&link(&w.tech_a)), "{q}");
    }
    // The typed words stay in the box, so the search can be refined or bookmarked.
    let (_, _, page) = b.get("/catalogue?q=rom+ra").await;
    assert!(page.contains("value=\"rom ra\""), "{page}");

    // Each filter, alone: (query, found, not found).
    let province = "B%C3%ACnh+D%C6%B0%C6%A1ng";
    let cases: Vec<(String, Vec<&String>, Vec<&String>)> = vec![
        (
            "field=environment".into(),
            vec![&straw],
            vec![&w.tech_a, &coffee],
        ),
        (
            format!("province={province}"),
            vec![&w.tech_b, &straw],
            vec![&w.tech_a, &coffee],
        ),
        (
            format!("institute={}", w.inst_a.org),
            vec![&w.tech_a, &coffee],
            vec![&w.tech_b, &straw],
        ),
        (
            "ip=know_how".into(),
            vec![&straw],
            vec![&w.tech_a, &w.tech_b, &coffee],
        ),
        (
            "trial=short".into(),
            vec![&w.tech_a, &w.tech_b],
            vec![&straw, &coffee],
        ),
        (
            "trial=medium".into(),
            vec![&straw],
            vec![&w.tech_a, &w.tech_b, &coffee],
        ),
        (
            "trial=long".into(),
            vec![&coffee],
            vec![&w.tech_a, &w.tech_b, &straw],
        ),
        (
            format!("province={province}&trial=short"),
            vec![&w.tech_b],
            vec![&w.tech_a, &straw],
        ),
    ];
    for (query, found, not_found) in cases {
        let (s, _, page) = b.get(&format!("/catalogue?{query}")).await;
        assert_eq!(s, 200, "{query}: {page}");
        for id in found {
            assert!(page.contains(&link(id)), "{query}: {id} missing");
        }
        for id in not_found {
            assert!(!page.contains(&link(id)), "{query}: {id} found");
        }
        // The filter is kept selected in the form.
        assert!(page.contains(" selected>"), "{query}");
    }

    // Nothing found: said so, with the way back to the whole catalogue.
    let (s, _, page) = b
        .get("/catalogue?q=kh%C3%B4ng+c%C3%B3+g%C3%AC&field=energy")
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("Không có công nghệ nào khớp"), "{page}");
    assert!(page.contains("<a href=\"/catalogue\">"), "{page}");

    // Twelve technologies in one sector: ten on the first page, two on the second, the
    // filter kept in the links between them.
    let mut batteries = Vec::new();
    for i in 0..12 {
        app.clock.advance(chrono::Duration::seconds(1));
        batteries.push(app.add_technology(
            &w.inst_a,
            &format!("pin {i:02}"),
            "energy",
            "listed",
            lump_sum_terms(),
        ));
    }
    let (_, _, first) = b.get("/catalogue?field=energy").await;
    let on = |page: &str| {
        batteries
            .iter()
            .filter(|id| page.contains(&link(id)))
            .count()
    };
    assert_eq!(on(&first), 10, "{first}");
    assert!(first.contains("Trang 1/2"), "{first}");
    assert!(
        first.contains("href=\"/catalogue?field=energy&amp;page=2\""),
        "{first}"
    );
    let (_, _, second) = b.get("/catalogue?field=energy&page=2").await;
    assert_eq!(on(&second), 2, "{second}");
    assert!(
        second.contains("href=\"/catalogue?field=energy\" rel=\"prev\""),
        "{second}"
    );
    // Newest first: the last one made opens the first page, the first one the second.
    assert!(first.contains(&link(&batteries[11])) && second.contains(&link(&batteries[0])));

    // In English: titles and words in English.
    let mut en = signed_in(&app, &w.sme_a, "en").await;
    let (_, _, page) = en.get("/catalogue?q=rom+ra").await;
    assert!(
        page.contains("Technology xử lý rơm rạ") && page.contains("Know-how"),
        "{page}"
    );
    assert!(
        page.contains("Environment") && page.contains("120 days"),
        "{page}"
    );
    assert!(!page.contains("Công nghệ xử lý rơm rạ"), "{page}");
}

#[actix_web::test]
async fn htmx_gets_only_the_results_and_htmx_comes_from_the_binary() {
    let app = TestApp::spawn().await;
    let (w, straw, _) = catalogue_world(&app).await;
    let b = signed_in(&app, &w.sme_a, "vi").await;
    let session = b.cookie("uf_session").unwrap();
    let res = app
        .client
        .get(app.url("/catalogue?q=rom+ra"))
        .header(COOKIE, format!("uf_session={session}"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["vary"], "HX-Request");
    let fragment = res.text().await.unwrap();
    assert!(
        !fragment.contains("<html") && !fragment.contains("<form"),
        "{fragment}"
    );
    assert!(fragment.contains(&link(&straw)), "{fragment}");
    assert!(!fragment.contains(&link(&w.tech_a)), "{fragment}");
    assert!(fragment.contains("Tìm thấy 1 công nghệ"), "{fragment}");

    let res = app
        .client
        .get(app.url("/static/web/htmx.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(res.headers()[CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));
    let js = res.text().await.unwrap();
    assert!(js.len() > 40_000 && js.contains("htmx"), "{}", &js[..200]);
}

/// The amounts and days of a JSON quote's lines, as the page in `lang` writes them.
fn lines_in(lang: &str, quote: &Value) -> Vec<(String, String)> {
    let currency = Currency::parse(quote["currency"].as_str().unwrap()).unwrap();
    quote["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let due = chrono::NaiveDate::parse_from_str(l["due"].as_str().unwrap(), "%Y-%m-%d");
            (
                format::money(currency, l["amount_minor"].as_i64().unwrap()),
                format::date(lang, due.unwrap()),
            )
        })
        .collect()
}

/// The JSON quote of agreement `id` for converting on `day`.
async fn json_quote(app: &TestApp, party: &User, id: &str, day: &str) -> Value {
    let (s, q) = app
        .get(
            &party.token,
            &format!("/api/v1/agreements/{id}/quote?convert_on={day}"),
        )
        .await;
    assert_eq!(s, 200, "{q}");
    q
}

/// Sends the request form's fields.
async fn post_form(
    b: &mut Browser,
    path: &str,
    form: &[(&'static str, String)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &pairs).await
}

#[actix_web::test]
async fn a_technology_shows_its_terms_in_words_and_what_converting_would_cost() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // Agreements on the same terms, whose JSON quotes the page must agree with.
    let lump = app.signed_agreement(&w).await;
    let insured = app.signed_insured(&w, &w.sme_b, "2026-03-03").await;
    let day = "2026-09-01";
    let lump_quote = json_quote(&app, &w.sme_a, &id_of(&lump), day).await;
    let insured_quote = json_quote(&app, &w.sme_b, &id_of(&insured), day).await;

    let mut vi = signed_in(&app, &w.sme_a, "vi").await;
    let (s, _, page) = vi
        .get(&format!("/catalogue/{}?convert_on={day}", w.tech_a))
        .await;
    assert_eq!(s, 200, "{page}");
    for words in [
        "Công nghệ A",
        "Tổ chức inst_a",
        "Sáng chế",
        "VN 1-A",
        "500.000.000 ₫",
        "Dùng thử miễn phí trong 90 ngày.",
        "doanh nghiệp có 30 ngày để quyết định",
        "Phí chuyển giao trọn gói 150.000.000 ₫, thanh toán một lần trong vòng 30 ngày",
        "Không bắt buộc mua bảo hiểm dùng thử.",
        "Nhận chuyển giao vào ngày 01/09/2026",
        "value=\"2026-09-01\"",
        "href=\"/catalogue/",
    ] {
        assert!(page.contains(words), "{words}: {page}");
    }
    let lines = lines_in("vi", &lump_quote);
    assert_eq!(
        lines,
        [("150.000.000 ₫".to_string(), "01/10/2026".to_string())]
    );
    for (amount, due) in &lines {
        assert!(
            page.contains(amount) && page.contains(&html(due)),
            "{amount} {due}: {page}"
        );
    }
    assert!(
        page.contains(&format!("Tổng cộng: {}", lines[0].0)),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/catalogue/{}/request\"", w.tech_a)));

    // Without a day, the quote is for today (2 March 2026).
    let (_, _, page) = vi.get(&format!("/catalogue/{}", w.tech_a)).await;
    assert!(
        page.contains(&html("Nhận chuyển giao vào ngày 02/03/2026"))
            && page.contains(&html("01/04/2026")),
        "{page}"
    );

    // A day that is not one: the field says so, and the page still shows the terms.
    let (s, _, page) = vi
        .get(&format!("/catalogue/{}?convert_on=2026-02-30", w.tech_a))
        .await;
    assert_eq!(s, 422);
    assert!(
        page.contains("Vui lòng nhập một ngày hợp lệ") && page.contains("aria-invalid=\"true\""),
        "{page}"
    );
    assert!(
        page.contains("value=\"2026-02-30\"") && page.contains("150.000.000 ₫"),
        "{page}"
    );

    // In English, the insured instalments: every line of the JSON quote, and who pays the
    // premium of the insurance the terms require.
    let mut en = signed_in(&app, &w.sme_a, "en").await;
    let (s, _, page) = en
        .get(&format!("/catalogue/{}?convert_on={day}", w.tech_b))
        .await;
    assert_eq!(s, 200, "{page}");
    for words in [
        "Technology B",
        "Free trial for 60 days.",
        "the enterprise has 14 days to decide",
        "A fee of US$12,000.00 in total, paid in 4 instalments 3 months apart; the first within 30 days",
        "Each payment is shared: institute 60%, inventors 30%, intermediary 10%.",
        "The trial must be insured.",
        "Technology trial cover",
        "premium 1.5% of the sum insured; the enterprise pays 30%, the institute 20%",
        "Taking the licence on 1 September 2026",
    ] {
        assert!(page.contains(words), "{words}: {page}");
    }
    let lines = lines_in("en", &insured_quote);
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        ("US$3,000.00".to_string(), "1 October 2026".to_string())
    );
    for (amount, due) in &lines {
        assert!(
            page.contains(&format!("<td data-label=\"Due\">{due}</td>")),
            "{due}: {page}"
        );
        assert!(
            page.contains(&format!("<td data-label=\"Amount\">{amount}</td>")),
            "{amount}"
        );
    }
    let currency = Currency::parse("USD").unwrap();
    let total = format::money(currency, insured_quote["total_minor"].as_i64().unwrap());
    assert!(page.contains(&format!("Total: {total}")), "{total}: {page}");
}

#[actix_web::test]
async fn an_sme_requests_a_trial_once_however_often_the_form_is_sent() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = signed_in(&app, &w.sme_a, "vi").await;
    let path = format!("/catalogue/{}/request", w.tech_a);
    let (s, _, form) = b.get(&path).await;
    assert_eq!(s, 200, "{form}");
    assert!(
        form.contains("Nơi sử dụng") && form.contains("Mục đích dùng thử"),
        "{form}"
    );
    let key = form
        .split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert!(key.len() >= 32, "{key}");
    // A fresh key for each showing of the form.
    let (_, _, again) = b.get(&path).await;
    assert!(!again.contains(&key));

    // An empty place: the form again with the field named and what was typed kept.
    let csrf = b.csrf();
    let send = |place: &'static str, start: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("key", key.clone()),
            ("place_of_use", place.to_string()),
            ("requested_start", start.to_string()),
            ("message", "Thử trên 2 ha lúa <vụ đông>".to_string()),
        ]
    };
    let (s, _, page) = post_form(&mut b, &path, &send("  ", "2026-03-10")).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("Vui lòng nhập nơi sử dụng."), "{page}");
    assert!(page.contains("id=\"place_of_use\"") && page.contains("aria-invalid=\"true\""));
    assert!(
        page.contains("value=\"2026-03-10\"") && page.contains("Thử trên 2 ha lúa &lt;vụ đông&gt;")
    );
    assert!(
        page.contains(&format!("name=\"key\" value=\"{key}\"")),
        "the key is kept"
    );
    // A start before today (2 March 2026).
    let (s, _, page) = post_form(&mut b, &path, &send("Xưởng Cao Lãnh", "2026-03-01")).await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("Ngày bắt đầu không được trước hôm nay."),
        "{page}"
    );
    assert!(page.contains("aria-describedby=\"requested_start-hint requested_start-error\""));
    assert!(page.contains("value=\"Xưởng Cao Lãnh\"") && page.contains("value=\"2026-03-01\""));
    assert_eq!(app.count("agreements"), 0);

    // Sent right: to the agreement's page; the request is there, as the API shows it.
    let (s, h, _) = post_form(&mut b, &path, &send("Xưởng Cao Lãnh", "2026-03-10")).await;
    assert_eq!(s, 303);
    let to = h[LOCATION].to_str().unwrap().to_string();
    let id = to
        .strip_prefix("/agreements/")
        .expect("to the agreement")
        .to_string();
    let (s, a) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status"], "requested");
    assert_eq!(a["technology_id"], w.tech_a.as_str());
    assert_eq!(a["place_of_use"], "Xưởng Cao Lãnh");
    assert_eq!(a["message"], "Thử trên 2 ha lúa <vụ đông>");
    assert_eq!(a["requested_start"], "2026-03-10");

    // Sent again (a double click, or back and send): the same agreement, no second one.
    for place in ["Xưởng Cao Lãnh", "Xưởng khác"] {
        let (s, h, _) = post_form(&mut b, &path, &send(place, "2026-03-10")).await;
        assert_eq!((s, h[LOCATION].to_str().unwrap()), (303, to.as_str()));
    }
    assert_eq!(app.count("agreements"), 1);
    let (_, list) = app.get(&w.sme_a.token, "/api/v1/agreements").await;
    assert_eq!(list["total"], 1, "{list}");

    // A form without this browser's token does nothing.
    let (s, _, _) = b
        .post(
            &path,
            &[
                ("csrf", "forged"),
                ("key", "k2"),
                ("place_of_use", "X"),
                ("requested_start", "2026-03-10"),
            ],
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(app.count("agreements"), 1);
}

#[actix_web::test]
async fn only_smes_request_and_another_institutes_draft_is_not_found() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    for (user, lang) in [(&w.inst_a, "vi"), (&w.insurer_a, "en")] {
        let mut b = signed_in(&app, user, lang).await;
        let path = format!("/catalogue/{}/request", w.tech_b);
        let (s, _, page) = b.get(&path).await;
        assert_eq!(s, 404, "{page}");
        let csrf = b.csrf();
        let (s, _, _) = b
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("key", "k1"),
                    ("place_of_use", "X"),
                    ("requested_start", "2026-03-10"),
                ],
            )
            .await;
        assert_eq!(s, 404);
        // They read the technology, without the way to request it.
        let (s, _, page) = b.get(&format!("/catalogue/{}", w.tech_b)).await;
        assert_eq!(s, 200);
        assert!(!page.contains("/request\""), "{page}");
    }
    assert_eq!(app.count("agreements"), 0);

    // A draft: its institute sees it (marked), everyone else gets the 404 page.
    let mut owner = signed_in(&app, &w.inst_a, "vi").await;
    let (s, _, page) = owner.get(&format!("/catalogue/{}", w.tech_draft)).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Bản nháp") && page.contains("Doanh nghiệp chưa nhìn thấy"),
        "{page}"
    );
    let (_, _, page) = owner.get("/catalogue").await;
    assert!(
        page.contains(&link(&w.tech_draft)),
        "the institute's own draft"
    );
    for user in [&w.inst_b, &w.sme_a] {
        let mut b = signed_in(&app, user, "vi").await;
        for path in [
            format!("/catalogue/{}", w.tech_draft),
            format!("/catalogue/{}/request", w.tech_draft),
        ] {
            let (s, _, page) = b.get(&path).await;
            assert_eq!(s, 404, "{path}");
            assert!(page.contains("Không tìm thấy trang"), "{page}");
        }
    }
    let mut sme = signed_in(&app, &w.sme_a, "vi").await;
    let (s, _, _) = sme.get("/catalogue/no-such-technology").await;
    assert_eq!(s, 404);
    // Not signed in: to sign-in, and back here after.
    let mut stranger = Browser::new(&app);
    let (s, h, _) = stranger.get("/catalogue?q=rom").await;
    assert_eq!(
        (s, h[LOCATION].to_str().unwrap()),
        (303, "/sign-in?next=%2Fcatalogue%3Fq%3Drom")
    );
}
