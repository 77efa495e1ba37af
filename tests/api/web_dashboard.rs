//! The home pages over HTTP: an SME's and an institute's figures, in Vietnamese and English,
//! each against what the JSON API says of the same agreements, another organisation's
//! agreements left out, and every figure linking to the list behind it.

use chrono::NaiveDate;
use serde_json::{json, Value};
use usefirst::settlement::money::Currency;
use usefirst::typeset::format::{days, money};

use crate::browser::Browser;
use crate::helpers::*;

/// `major` (the API's "2000.00") in USD as the pages write it.
fn usd(major: &str) -> String {
    let c = Currency::parse("USD").unwrap();
    money(c, c.parse_amount(major).unwrap())
}

/// The number of agreements `user` sees in `status`, by the API.
async fn count(app: &TestApp, user: &User, status: &str) -> i64 {
    let (s, page) = app
        .get(&user.token, &format!("/api/v1/agreements?status={status}"))
        .await;
    assert_eq!(s, 200, "{page}");
    page["total"].as_i64().unwrap()
}

/// `user`'s settlement statement of agreement `id`, by the API.
async fn statement(app: &TestApp, user: &User, id: &str) -> Value {
    let (s, st) = app
        .get(&user.token, &format!("/api/v1/agreements/{id}/settlement"))
        .await;
    assert_eq!(s, 200, "{st}");
    st
}

/// `sme` asks for a trial of `tech` from `start`; `institute` approves (with insurer A's
/// product when `insured`) and both sign.
async fn signed(
    app: &TestApp,
    w: &World,
    sme: &User,
    institute: &User,
    tech: &str,
    start: &str,
    insured: bool,
) -> String {
    let mut a = app.request(sme, tech, start).await;
    let id = id_of(&a);
    let approve = if insured {
        json!({"insurance_product_id": w.product_a})
    } else {
        json!({})
    };
    for (token, action, body) in [
        (&institute.token, "approve", approve),
        (&sme.token, "sign", json!({})),
        (&institute.token, "sign", json!({})),
    ] {
        let (s, next) = app.act(token, &id, action, version_of(&a), body).await;
        assert_eq!(s, 200, "{action}: {next}");
        a = next;
    }
    id
}

async fn convert(app: &TestApp, sme: &User, id: &str) {
    let (_, a) = app
        .get(&sme.token, &format!("/api/v1/agreements/{id}"))
        .await;
    let (s, a) = app
        .act(&sme.token, id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
}

async fn pay(app: &TestApp, institute: &User, id: &str, amount: &str, on: &str) {
    let (s, st) = app
        .post(
            &institute.token,
            &format!("/api/v1/agreements/{id}/payments"),
            json!({"amount": amount, "received_on": on, "reference": format!("VCB-{id}")}),
        )
        .await;
    assert_eq!(s, 201, "{st}");
}

/// `user`'s home in `lang`, signed in through the form.
async fn home(app: &TestApp, user: &User, lang: &'static str) -> String {
    let mut b = Browser::new(app);
    let (s, _, _) = b.sign_in(&user.email, PASSWORD).await;
    assert_eq!(s, 303);
    // The language switch wins over the user's own (Vietnamese).
    let (s, _, _) = b.get(&format!("/lang/{lang}?back=/home")).await;
    assert_eq!(s, 303);
    let (s, _, page) = b.get("/home").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(&format!("<html lang=\"{lang}\">")), "{page}");
    page
}

/// `text` as the pages write it (auto-escaped).
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn has(page: &str, text: &str) {
    assert!(page.contains(text), "missing {text:?} in:\n{page}");
}

fn lacks(page: &str, text: &str) {
    assert!(!page.contains(text), "{text:?} should not be in:\n{page}");
}

/// A link to `href` whose text contains `text`.
fn link(page: &str, href: &str, text: &str) {
    let open = format!("href=\"{href}\"");
    let found = page.match_indices(&open).any(|(at, _)| {
        let rest = &page[at..];
        let end = rest.find("</a>").unwrap_or(rest.len());
        rest[..end].contains(text)
    });
    assert!(found, "no link to {href} with {text:?} in:\n{page}");
}

#[actix_web::test]
async fn sme_and_institute_homes_show_their_own_figures() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;

    // Before any trial, an SME is sent to the catalogue.
    for (lang, words) in [
        ("vi", "Chưa có thỏa thuận dùng thử nào"),
        ("en", "No trials yet — search the catalogue"),
    ] {
        let page = home(&app, &w.sme_a, lang).await;
        has(&page, words);
        has(&page, "href=\"/catalogue\"");
    }

    // 2026-03-02. sme_a: x on tech_b (institute B, USD 4 × 3,000.00), y on tech_a
    // (institute A, VND lump sum; trial to 31/05, decision by 30/06), and a request r1.
    // sme_b (another SME): z on tech_b, v on tech_a (trial 01/04–29/06), requests r2, r3.
    let x = signed(&app, &w, &w.sme_a, &w.inst_b, &w.tech_b, "2026-03-03", true).await;
    let y = signed(
        &app,
        &w,
        &w.sme_a,
        &w.inst_a,
        &w.tech_a,
        "2026-03-03",
        false,
    )
    .await;
    let z = signed(&app, &w, &w.sme_b, &w.inst_b, &w.tech_b, "2026-03-03", true).await;
    let v = signed(
        &app,
        &w,
        &w.sme_b,
        &w.inst_a,
        &w.tech_a,
        "2026-04-01",
        false,
    )
    .await;
    let r1 = id_of(&app.request(&w.sme_a, &w.tech_a, "2030-01-10").await);
    let r2 = id_of(&app.request(&w.sme_b, &w.tech_a, "2030-01-11").await);
    let r3 = id_of(&app.request(&w.sme_b, &w.tech_b, "2030-01-12").await);

    // 03/03: z converts (due 02/04, 02/07, …). 10/05: x converts in its decision window
    // (due 09/06, 09/09, …); institute B receives 1,000.00 on z and 500.00 on x.
    app.pass_days(1);
    convert(&app, &w.sme_b, &z).await;
    app.pass_days(68);
    convert(&app, &w.sme_a, &x).await;
    pay(&app, &w.inst_b, &z, "1000.00", "2026-05-10").await;
    pay(&app, &w.inst_b, &x, "500.00", "2026-05-10").await;
    // 10/06: x's first instalment is a day late, z's 69 days; y awaits sme_a's decision.
    app.pass_days(31);
    let today = NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
    assert_eq!(app.clock.today(chrono_tz::Asia::Ho_Chi_Minh), today);

    let number = |id: &str| {
        let id = id.to_string();
        let app = &app;
        let token = w.admin.token.clone();
        async move {
            let (_, a) = app.get(&token, &format!("/api/v1/agreements/{id}")).await;
            a["number"].as_str().unwrap().to_string()
        }
    };
    let (nx, ny, nz, nv) = (
        number(&x).await,
        number(&y).await,
        number(&z).await,
        number(&v).await,
    );
    let (nr1, nr2, nr3) = (number(&r1).await, number(&r2).await, number(&r3).await);

    // What the API says.
    let st_x = statement(&app, &w.sme_a, &x).await;
    let st_z = statement(&app, &w.inst_b, &z).await;
    assert_eq!(
        (st_x["outstanding"].as_str(), st_x["overdue"].as_str()),
        (Some("11500.00"), Some("2500.00"))
    );
    assert_eq!(
        (st_z["outstanding"].as_str(), st_z["overdue"].as_str()),
        (Some("11000.00"), Some("2000.00"))
    );
    let (_, ay) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{y}"))
        .await;
    assert_eq!(
        (ay["status"].as_str(), ay["decision_deadline"].as_str()),
        (Some("awaiting_decision"), Some("2026-06-30"))
    );
    let (_, av) = app
        .get(&w.inst_a.token, &format!("/api/v1/agreements/{v}"))
        .await;
    assert_eq!(
        (av["status"].as_str(), av["trial_end"].as_str()),
        (Some("active"), Some("2026-06-29"))
    );
    let line_due = |st: &Value, i: usize| st["lines"][i]["due"].as_str().unwrap().to_string();
    assert_eq!(line_due(&st_x, 0), "2026-06-09");
    assert_eq!(line_due(&st_z, 0), "2026-04-02");
    let late = |due: &str| (today - due.parse::<NaiveDate>().unwrap()).num_days() as u32;

    for lang in ["vi", "en"] {
        let date = |d: &str| usefirst::typeset::format::date(lang, d.parse().unwrap());

        // sme_a: its trials by state, each linked to its list; the numbers are the API's.
        let page = home(&app, &w.sme_a, lang).await;
        let status_words = |s: &str| match (lang, s) {
            ("vi", "requested") => "Đã gửi yêu cầu",
            ("vi", "awaiting_decision") => "Chờ quyết định",
            ("vi", "converted") => "Đã chuyển giao",
            ("en", "requested") => "Requested",
            ("en", "awaiting_decision") => "Awaiting decision",
            _ => "Converted",
        };
        for status in ["requested", "awaiting_decision", "converted"] {
            let n = count(&app, &w.sme_a, status).await;
            assert_eq!(n, 1, "{status}");
            link(
                &page,
                &format!("/trials?status={status}"),
                &format!("<span class=\"figure\">{n}</span>"),
            );
            link(
                &page,
                &format!("/trials?status={status}"),
                status_words(status),
            );
        }
        lacks(&page, "href=\"/trials?status=active\"");
        // This month's deadlines: y's decision and x's first instalment, with their numbers.
        has(
            &page,
            if lang == "vi" {
                "Các hạn trong tháng 6/2026"
            } else {
                "Deadlines in June 2026"
            },
        );
        link(&page, &format!("/agreements/{y}"), &ny);
        has(&page, &esc(&date("2026-06-30")));
        link(&page, &format!("/agreements/{x}/money"), &nx);
        has(&page, &esc(&date("2026-06-09")));
        // What it owes: the API's outstanding and overdue, per currency and per agreement.
        has(&page, &usd(st_x["outstanding"].as_str().unwrap()));
        has(&page, &usd(st_x["overdue"].as_str().unwrap()));
        // Nothing of sme_b's: neither its agreements nor what it owes.
        for other in [&nz, &nv, &nr2, &nr3] {
            lacks(&page, other);
        }
        lacks(&page, &usd(st_z["outstanding"].as_str().unwrap()));
        lacks(&page, &usd("22500.00"));

        // Institute B: its request, no trial ending, both overdue agreements with the days
        // late, and this year's payments.
        let page = home(&app, &w.inst_b, lang).await;
        assert_eq!(count(&app, &w.inst_b, "requested").await, 1);
        link(
            &page,
            "/trials?status=requested",
            "<span class=\"figure\">1</span>",
        );
        link(&page, &format!("/agreements/{r3}"), &nr3);
        for other in [&nr1, &nr2, &ny, &nv] {
            lacks(&page, other);
        }
        has(
            &page,
            if lang == "vi" {
                "Không có đợt dùng thử nào kết thúc trong 30 ngày tới."
            } else {
                "No trial ends in the next 30 days."
            },
        );
        for (id, n, st) in [(&x, &nx, &st_x), (&z, &nz, &st_z)] {
            link(&page, &format!("/agreements/{id}/money"), n);
            let row_at = page.find(&format!("/agreements/{id}/money")).unwrap();
            let row = &page[row_at..row_at + page[row_at..].find("</tr>").unwrap()];
            has(row, &usd(st["overdue"].as_str().unwrap()));
            has(row, &days(lang, late(&line_due(st, 0))));
        }
        // z, 69 days late, comes before x, 1 day late.
        assert!(page.find(&nz).unwrap() < page.find(&nx).unwrap());
        let received: i64 = [&st_x, &st_z]
            .iter()
            .flat_map(|st| st["payments"].as_array().unwrap().iter())
            .filter(|p| p["received_on"].as_str().unwrap().starts_with("2026-"))
            .map(|p| {
                Currency::parse("USD")
                    .unwrap()
                    .parse_amount(p["amount"].as_str().unwrap())
                    .unwrap()
            })
            .sum();
        let received = money(Currency::parse("USD").unwrap(), received);
        assert_eq!(received, "US$1,500.00");
        link(&page, "/trials?status=converted", &received);
        has(
            &page,
            if lang == "vi" {
                "2 lần thanh toán"
            } else {
                "2 payments"
            },
        );
        has(
            &page,
            if lang == "vi" {
                "Đã nhận trong năm 2026"
            } else {
                "Received in 2026"
            },
        );

        // Institute A: two requests (r1 of sme_a, r2 of sme_b), v ending on 29/06, and none
        // of institute B's money.
        let page = home(&app, &w.inst_a, lang).await;
        assert_eq!(count(&app, &w.inst_a, "requested").await, 2);
        link(
            &page,
            "/trials?status=requested",
            "<span class=\"figure\">2</span>",
        );
        link(&page, &format!("/agreements/{r1}"), &nr1);
        link(&page, &format!("/agreements/{r2}"), &nr2);
        link(&page, &format!("/agreements/{v}"), &nv);
        has(&page, &esc(&date("2026-06-29")));
        link(
            &page,
            "/trials?status=active",
            "<span class=\"figure\">1</span>",
        );
        for other in [&nx, &nz, &nr3] {
            lacks(&page, other);
        }
        lacks(&page, "US$");
        has(
            &page,
            if lang == "vi" {
                "Không có khoản thanh toán nào quá hạn."
            } else {
                "No payment is overdue."
            },
        );
        has(
            &page,
            if lang == "vi" {
                "Chưa nhận được khoản thanh toán nào trong năm 2026."
            } else {
                "No payment received yet in 2026."
            },
        );
    }
}

/// Insurers and auditors see their organisation, role and what they can do, and no link to
/// pages not built for them (the administrators' home is the admin pages', `web_admin`).
#[actix_web::test]
async fn other_roles_see_what_they_can_do() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    // An insurer's home is its dashboard (tests/api/web_insurer.rs); it names the
    // organisation and the role too.
    for lang in ["vi", "en"] {
        let page = home(&app, &w.insurer_a, lang).await;
        has(&page, "Tổ chức insurer_a");
        has(
            &page,
            if lang == "vi" {
                "Công ty bảo hiểm"
            } else {
                "Insurer"
            },
        );
        has(&page, "href=\"/insurer/claims");
    }
    for (user, org, vi, en) in [(
        &w.auditor,
        "Tổ chức auditor",
        "Kiểm toán, giám sát",
        "Auditor",
    )] {
        for (lang, role, can) in [
            ("vi", vi, "Bạn có thể làm gì ở đây"),
            ("en", en, "What you can do here"),
        ] {
            let page = home(&app, user, lang).await;
            has(&page, org);
            has(&page, role);
            has(&page, can);
            lacks(&page, "href=\"/agreements");
            if user.email == w.auditor.email {
                // The auditor's own pages, the trials it reads, documents and reports.
                for href in [
                    "/audit/chain",
                    "/audit/events",
                    "/audit/documents",
                    "/admin/reports",
                    "/trials",
                ] {
                    has(&page, &format!("href=\"{href}\""));
                }
            } else {
                lacks(&page, "href=\"/trials");
                lacks(&page, "href=\"/audit/");
            }
        }
    }
}
