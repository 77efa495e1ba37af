//! The payments and insurance tabs of an agreement, as a browser sees them: the settlement
//! statement in both languages with the amounts the JSON statement has, the institute
//! recording a payment through the form (and no one else), a bad amount and a stale form, the
//! SME reporting a quarter's sales, how what was paid is shared out; the insurance product,
//! premium and who pays it, choosing a product, filing a claim; and another organisation's
//! agreement as the 404 page.

use reqwest::header::LOCATION;
use serde_json::{json, Value};
use usefirst::settlement::money::Currency;
use usefirst::typeset::format;

use crate::browser::{text, Browser};
use crate::helpers::*;

/// A browser signed in as `user`.
async fn browser(app: &TestApp, user: &User) -> Browser {
    Browser::signed_in(app, &user.email).await
}

/// The value of the form field `name` on `page` (the first).
fn field(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} on {page}"));
    let tag = &page[at..at + page[at..].find('>').unwrap()];
    let value = &tag[tag.find("value=\"").unwrap_or_else(|| panic!("{tag}")) + 7..];
    value[..value.find('"').unwrap()].to_string()
}

/// An amount of the JSON API ("3000.00") as the pages write it.
fn money(currency: &str, amount: &Value) -> String {
    let cur = Currency::parse(currency).unwrap();
    format::money(cur, cur.parse_amount(amount.as_str().unwrap()).unwrap())
}

fn day(lang: &str, d: &Value) -> String {
    let d = chrono::NaiveDate::parse_from_str(d.as_str().unwrap(), "%Y-%m-%d").unwrap();
    format::date(lang, d)
}

async fn statement(app: &TestApp, user: &User, id: &str) -> Value {
    let (s, st) = app
        .get(&user.token, &format!("/api/v1/agreements/{id}/settlement"))
        .await;
    assert_eq!(s, 200, "{st}");
    st
}

/// Posts the payment form of agreement `id` as `b` with its token (or `token`, a forged
/// one): the version shown, amount, day received and reference.
async fn pay(
    b: &mut Browser,
    id: &str,
    token: Option<&str>,
    [version, amount, received_on, reference]: [&str; 4],
) -> (u16, reqwest::header::HeaderMap, String) {
    let csrf = token.map_or_else(|| b.csrf(), str::to_string);
    let form = [
        ("csrf", csrf.as_str()),
        ("version", version),
        ("amount", amount),
        ("received_on", received_on),
        ("reference", reference),
    ];
    b.post(&format!("/agreements/{id}/payments"), &form).await
}

/// How many payments agreement `id` (sme_b's with institute B) has recorded, by the API.
async fn recorded(app: &TestApp, w: &World, id: &str) -> usize {
    let payments = &statement(app, &w.inst_b, id).await["payments"];
    payments.as_array().unwrap().len()
}

/// The app, its clock movable for months, and the fixture world.
async fn started() -> (TestApp, World) {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    (app, w)
}

/// sme_b's trial of tech_b (USD 12,000.00 in 4 × 3,000.00, shares 60/30/10, insured by
/// product A), signed; returns its id.
async fn signed_b(app: &TestApp, w: &World) -> String {
    id_of(&app.signed_insured(w, &w.sme_b, "2026-03-10").await)
}

#[actix_web::test]
async fn the_statement_shows_payments_and_only_the_institute_records_them() {
    let (app, w) = started().await;
    let id = signed_b(&app, &w).await;
    let tab = format!("/agreements/{id}/money");
    let mut sme = browser(&app, &w.sme_b).await;
    let mut inst = browser(&app, &w.inst_b).await;

    // Before the conversion: only that payments start when the SME converts.
    let (s, _, page) = sme.get(&tab).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("Việc thanh toán bắt đầu khi doanh nghiệp chuyển sang nhận chuyển giao"),
        "{page}"
    );
    assert!(
        !page.contains("<table") && !page.contains("<form method=\"post\" action=\"/agreements")
    );
    assert!(
        page.contains("aria-current=\"page\">Thanh toán"),
        "the tab is marked: {page}"
    );

    // The trial runs and the SME converts.
    app.pass_days(18);
    let (_, a) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
        .await;
    let (s, a) = app
        .act(&w.sme_b.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    let st = statement(&app, &w.sme_b, &id).await;
    let lines = st["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 4);

    // The statement, in Vietnamese and in English: every line's due day and amount as the
    // JSON statement has them, and the totals.
    for (lang, due_word, paid_word) in [
        ("vi", "Chưa đến hạn", "Đã trả đủ"),
        ("en", "Not yet due", "Paid"),
    ] {
        let (s, _, _) = inst.get(&format!("/lang/{lang}?back={tab}")).await;
        assert_eq!(s, 303);
        let (s, _, page) = inst.get(&tab).await;
        assert_eq!(s, 200, "{page}");
        let page = text(&page);
        assert!(page.contains(&format!("<html lang=\"{lang}\">")));
        for line in lines {
            assert!(
                page.contains(&day(lang, &line["due"])),
                "{lang}: {line} on {page}"
            );
        }
        assert_eq!(money("USD", &lines[0]["amount"]), "US$3,000.00");
        assert_eq!(
            page.matches("US$3,000.00").count(),
            8,
            "amount and outstanding of each line: {page}"
        );
        assert!(page.contains(&money("USD", &st["total"])), "{page}");
        assert_eq!(page.matches(due_word).count(), 4, "{page}");
        assert!(
            !page.contains(paid_word) || lang == "en",
            "nothing paid yet"
        );
    }
    let (s, _, _) = inst.get(&format!("/lang/vi?back={tab}")).await;
    assert_eq!(s, 303);

    // The institute records a payment through the form: the statement shows it paid.
    let (_, _, page) = inst.get(&tab).await;
    assert!(page.contains("Ghi nhận khoản tiền đã nhận"), "{page}");
    let version = field(&page, "version");
    let today = st["as_of"].as_str().unwrap().to_string();
    assert_eq!(field(&page, "received_on"), today);
    let (s, h, page) = pay(
        &mut inst,
        &id,
        None,
        [&version, "4500.00", &today, "CK-0001"],
    )
    .await;
    assert_eq!(s, 303, "{page}");
    assert_eq!(h[LOCATION].to_str().unwrap(), tab);
    let st = statement(&app, &w.inst_b, &id).await;
    assert_eq!(st["paid"], "4500.00");
    assert_eq!(st["payments"][0]["reference"], "CK-0001");
    let (_, _, page) = inst.get(&tab).await;
    let page = text(&page);
    assert_eq!(
        page.matches("Đã trả đủ").count(),
        1,
        "the first instalment: {page}"
    );
    assert!(page.contains("CK-0001") && page.contains(&day("vi", &st["as_of"])));
    assert!(
        page.contains("US$4,500.00") && page.contains("US$1,500.00"),
        "{page}"
    );

    // The distribution: the institute's, inventors' and intermediary's shares of what was
    // paid, summing to it.
    let shares: Vec<String> = [
        "received_to_institute",
        "received_to_inventors",
        "received_to_intermediary",
    ]
    .iter()
    .map(|k| st[k].as_str().unwrap().to_string())
    .collect();
    assert_eq!(shares, ["2700.00", "1350.00", "450.00"]);
    let usd = Currency::parse("USD").unwrap();
    let sum: i64 = shares.iter().map(|s| usd.parse_amount(s).unwrap()).sum();
    assert_eq!(sum, usd.parse_amount(st["paid"].as_str().unwrap()).unwrap());
    assert!(page.contains("Phân chia các khoản đã nhận"), "{page}");
    for share in &shares {
        assert!(
            page.contains(&money("USD", &json!(share))),
            "{share}: {page}"
        );
    }

    // A form shown before that payment was recorded is stale: the 412 page, nothing recorded.
    let (s, _, page) = pay(
        &mut inst,
        &id,
        None,
        [&version, "100.00", &today, "CK-0002"],
    )
    .await;
    assert_eq!(s, 412, "{page}");
    assert!(
        page.contains("Đã có người thay đổi trong lúc bạn xem"),
        "{page}"
    );
    assert!(
        text(&page).contains(&tab),
        "a link to how it stands now: {page}"
    );

    // A bad amount: the form again, the message beside the field, what was typed kept.
    let (_, _, page) = inst.get(&tab).await;
    let version = field(&page, "version");
    for bad in ["ba nghìn", "99999.00", "0"] {
        let (s, _, page) = pay(&mut inst, &id, None, [&version, bad, &today, "CK-0003"]).await;
        assert_eq!(s, 422, "{bad}: {page}");
        assert!(
            page.contains(&format!(
                "name=\"amount\" inputmode=\"decimal\" value=\"{bad}\""
            )),
            "{page}"
        );
        assert!(page.contains("aria-invalid=\"true\"") && page.contains("id=\"pay-amount-error\""));
        assert!(page.contains("Nhập số tiền lớn hơn 0"), "{page}");
        assert!(
            page.contains("value=\"CK-0003\""),
            "the other fields are kept"
        );
    }
    // The reference of a payment already recorded: beside the reference, as typed, nothing
    // recorded twice.
    let (s, _, page) = pay(
        &mut inst,
        &id,
        None,
        [&version, "100.00", &today, " CK-0001 "],
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"pay-reference-error\""), "{page}");
    assert!(
        page.contains("Một khoản thanh toán với mã tham chiếu này đã được ghi"),
        "{page}"
    );
    assert!(page.contains("value=\" CK-0001 \"") && page.contains("value=\"100.00\""));
    assert!(!page.contains("id=\"pay-amount-error\""), "{page}");
    assert_eq!(recorded(&app, &w, &id).await, 1);

    // The SME sees the statement but no form, and cannot record a payment; nor share-out.
    let (s, _, page) = sme.get(&tab).await;
    assert_eq!(s, 200);
    assert!(page.contains("CK-0001"));
    assert!(
        !page.contains(&format!("action=\"/agreements/{id}/payments\"")),
        "{page}"
    );
    assert!(!page.contains("Phân chia các khoản đã nhận"));
    let (s, _, page) = pay(&mut sme, &id, None, [&version, "100.00", &today, "CK-SME"]).await;
    assert!(s == 404 || s == 403, "{s}: {page}");
    assert!(page.contains("<html"), "a page, never JSON");
    // A form without this browser's token is refused.
    let (s, _, _) = pay(
        &mut inst,
        &id,
        Some("forged"),
        [&version, "100.00", &today, "CK-F"],
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(recorded(&app, &w, &id).await, 1);

    // Past the second instalment's due day, what is left of it is overdue, in words.
    app.pass_days(125);
    let st = statement(&app, &w.sme_b, &id).await;
    assert_eq!(
        (st["lines"][1]["overdue"].as_bool(), st["overdue"].as_str()),
        (Some(true), Some("1500.00")),
        "{st}"
    );
    let (_, _, page) = sme.get(&tab).await;
    let page = text(&page);
    assert_eq!(page.matches(">Quá hạn</span>").count(), 1, "{page}");
    assert!(
        page.contains("Quá hạn US$1,500.00"),
        "the total overdue: {page}"
    );

    // Another organisation's agreement is the 404 page, for the tab and the form.
    let mut other = browser(&app, &w.sme_a).await;
    let (s, _, page) = other.get(&tab).await;
    assert_eq!(s, 404, "{page}");
    assert!(page.contains("Không tìm thấy trang"), "{page}");
    let (s, _, _) = other.get(&format!("/agreements/{id}/cover")).await;
    assert_eq!(s, 404);
    let mut other_inst = browser(&app, &w.inst_a).await;
    let (s, _, _) = pay(
        &mut other_inst,
        &id,
        None,
        [&version, "1.00", &today, "CK-X"],
    )
    .await;
    assert_eq!(s, 404);
}

/// tech_a moved to royalty terms (3.5% of quarterly net sales, VND), sme_a's trial of it
/// signed and converted; returns its id.
async fn converted_on_royalty_terms(app: &TestApp, w: &World) -> String {
    let (s, t) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}/terms", w.tech_a),
            json!({
                "trial_days": 30, "decision_days": 30, "currency": "VND",
                "price": {"model": "royalty", "rate": "0.035"},
                "insurance_required": false
            }),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let id = id_of(&app.signed_agreement(w).await);
    app.pass_days(2);
    let (_, a) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    let (s, a) = app
        .act(&w.sme_a.token, &id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    id
}

#[actix_web::test]
async fn the_sme_reports_a_quarters_sales_and_the_institute_sees_it() {
    let (app, w) = started().await;
    let id = converted_on_royalty_terms(&app, &w).await;
    let tab = format!("/agreements/{id}/money");
    let mut sme = browser(&app, &w.sme_a).await;
    let mut inst = browser(&app, &w.inst_a).await;

    // No quarter has ended since the conversion yet.
    let (s, _, page) = sme.get(&tab).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("Không còn quý nào đã kết thúc cần báo cáo."),
        "{page}"
    );
    assert!(
        text(&page).contains("Phí bản quyền: 3,5% doanh thu thuần mỗi quý."),
        "{page}"
    );

    app.pass_days(120);
    let (_, _, page) = sme.get(&tab).await;
    let page = text(&page);
    assert!(page.contains("Báo cáo doanh thu của một quý"), "{page}");
    assert!(
        page.contains("<option value=\"2026-04-01\">Quý 2/2026 (01/04/2026 – 30/06/2026)</option>"),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"2026-01-01\">Quý 1/2026"),
        "{page}"
    );

    // VND has no decimals: 422, the message beside the field, what was typed kept.
    let (s, _, page) = sme
        .post(
            &format!("/agreements/{id}/sales"),
            &[
                ("csrf", &sme.csrf()),
                ("period_start", "2026-04-01"),
                ("net_sales", "12.5"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("value=\"12.5\"") && page.contains("id=\"sales-net-error\""),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"2026-04-01\" selected>"),
        "the quarter is kept"
    );
    // The institute does not report sales.
    let (s, _, _) = inst
        .post(
            &format!("/agreements/{id}/sales"),
            &[
                ("csrf", &inst.csrf()),
                ("period_start", "2026-04-01"),
                ("net_sales", "1"),
            ],
        )
        .await;
    assert_eq!(s, 404);

    let (s, h, page) = sme
        .post(
            &format!("/agreements/{id}/sales"),
            &[
                ("csrf", &sme.csrf()),
                ("period_start", "2026-04-01"),
                ("net_sales", "123456789"),
            ],
        )
        .await;
    assert_eq!(s, 303, "{page}");
    assert_eq!(h[LOCATION].to_str().unwrap(), tab);
    let st = statement(&app, &w.inst_a, &id).await;
    let royalty = st["lines"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (royalty["kind"].as_str(), royalty["amount"].as_str()),
        (Some("royalty"), Some("4320988"))
    );

    // The institute sees the report and the royalty line; it has no sales form.
    let (_, _, page) = inst.get(&tab).await;
    let page = text(&page);
    assert!(
        page.contains("Quý 2/2026 (01/04/2026 – 30/06/2026)"),
        "{page}"
    );
    assert!(
        page.contains("123.456.789 ₫") && page.contains("4.320.988 ₫"),
        "{page}"
    );
    assert!(page.contains("30/07/2026"), "the royalty's due day: {page}");
    assert!(!page.contains("Báo cáo doanh thu của một quý"));
    let (_, _, _) = inst.get(&format!("/lang/en?back={tab}")).await;
    let (_, _, page) = inst.get(&tab).await;
    let page = text(&page);
    assert!(
        page.contains("Q2 2026 (1 April 2026 – 30 June 2026)") && page.contains("Royalty (line 1)"),
        "{page}"
    );
    // The reported quarter is no longer offered to the SME.
    let (_, _, page) = sme.get(&tab).await;
    assert!(!page.contains("<option value=\"2026-04-01\""), "{page}");
}

#[actix_web::test]
async fn the_cover_tab_shows_the_policy_and_a_party_files_a_claim() {
    let (app, w) = started().await;
    let id = signed_b(&app, &w).await;
    let tab = format!("/agreements/{id}/cover");
    let (s, policies) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/insurance/policies?agreement_id={id}"),
        )
        .await;
    assert_eq!(s, 200, "{policies}");
    let policy = policies["items"][0].clone();
    let mut sme = browser(&app, &w.sme_b).await;

    // The product, the premium and who pays what, as the policy has them.
    for lang in ["vi", "en"] {
        let (_, _, _) = sme.get(&format!("/lang/{lang}?back={tab}")).await;
        let (s, _, page) = sme.get(&tab).await;
        assert_eq!(s, 200, "{page}");
        let page = text(&page);
        let name = if lang == "vi" {
            "Bảo hiểm dùng thử công nghệ"
        } else {
            "Technology trial cover"
        };
        assert!(page.contains(name), "{page}");
        for k in [
            "coverage",
            "premium",
            "sme_pays",
            "institute_pays",
            "subsidy",
            "coverage_remaining",
        ] {
            assert!(page.contains(&money("USD", &policy[k])), "{k}: {page}");
        }
        assert!(
            page.contains(if lang == "vi" { "1,5%" } else { "1.5%" }),
            "{page}"
        );
    }
    assert_eq!(money("USD", &policy["premium"]), "US$150.00");
    let (_, _, _) = sme.get(&format!("/lang/vi?back={tab}")).await;

    // The trial starts; the SME files a claim through the form.
    app.pass_days(8);
    let (_, _, page) = sme.get(&tab).await;
    assert!(page.contains("Gửi yêu cầu bồi thường"), "{page}");
    let (s, _, page) = sme
        .post(
            &format!("/agreements/{id}/claims"),
            &[
                ("csrf", &sme.csrf()),
                ("risk", "implementation_failure"),
                ("amount", "mười nghìn"),
                ("reason", "Dây chuyền không đạt công suất"),
                ("evidence", ""),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("value=\"mười nghìn\"") && page.contains("id=\"claim-amount-error\""),
        "{page}"
    );
    assert!(
        page.contains(">Dây chuyền không đạt công suất</textarea>"),
        "the reason is kept"
    );
    let (s, _, page) = sme
        .post(
            &format!("/agreements/{id}/claims"),
            &[
                ("csrf", &sme.csrf()),
                ("risk", "implementation_failure"),
                ("amount", "1200.00"),
                ("reason", "Dây chuyền không đạt công suất"),
                ("evidence", "Biên bản ngày 02/04/2026"),
            ],
        )
        .await;
    assert_eq!(s, 303, "{page}");
    let (s, claims) = app.get(&w.sme_b.token, "/api/v1/claims").await;
    assert_eq!(s, 200, "{claims}");
    assert_eq!(claims["items"][0]["amount"], "1200.00", "{claims}");
    assert_eq!(claims["items"][0]["status"], "filed");
    let number = claims["items"][0]["number"].as_str().unwrap().to_string();
    let (_, _, page) = sme.get(&tab).await;
    let page = text(&page);
    assert!(
        page.contains(&number)
            && page.contains("US$1,200.00")
            && page.contains("Đã gửi, chờ quyết định"),
        "{page}"
    );

    // The insurer sees the cover and the claim: organisations only, never people.
    let mut insurer = browser(&app, &w.insurer_a).await;
    let (s, _, page) = insurer.get(&tab).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains(&number) && page.contains("Doanh nghiệp"),
        "{page}"
    );
    for person in [&w.sme_b, &w.inst_b] {
        assert!(!page.contains(&person.email), "{page}");
    }
    assert!(
        !page.contains("Gửi yêu cầu bồi thường</button>"),
        "insurers file no claims"
    );

    // Other organisations: the 404 page.
    for user in [&w.sme_a, &w.inst_a, &w.insurer_b] {
        let mut b = browser(&app, user).await;
        let (s, _, page) = b.get(&tab).await;
        assert_eq!(s, 404, "{}: {page}", user.email);
        let (s, _, _) = b
            .post(
                &format!("/agreements/{id}/claims"),
                &[
                    ("csrf", &b.csrf()),
                    ("risk", "implementation_failure"),
                    ("amount", "1.00"),
                    ("reason", "x"),
                ],
            )
            .await;
        assert_eq!(s, 404, "{}", user.email);
    }
    let (_, claims) = app.get(&w.sme_b.token, "/api/v1/claims").await;
    assert_eq!(claims["total"], 1);
}

#[actix_web::test]
async fn a_party_chooses_the_insurance_the_terms_require() {
    let (app, w) = started().await;
    // Approved with the insurer named but no product chosen.
    let a = app.request(&w.sme_b, &w.tech_b, "2026-03-10").await;
    let id = id_of(&a);
    let (s, a) = app
        .act(
            &w.inst_b.token,
            &id,
            "approve",
            version_of(&a),
            json!({"insurer_id": w.insurer_a.org}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    let tab = format!("/agreements/{id}/cover");
    let mut sme = browser(&app, &w.sme_b).await;
    let (s, _, page) = sme.get(&tab).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("bắt buộc có bảo hiểm") && page.contains("Bảo hiểm dùng thử công nghệ"),
        "{page}"
    );
    let version = field(&page, "version");
    assert_eq!(version, version_of(&a).to_string());

    // Coverage above the product's maximum: 422, kept.
    let (s, _, page) = sme
        .post(
            &format!("/agreements/{id}/cover/product"),
            &[
                ("csrf", &sme.csrf()),
                ("version", &version),
                ("product_id", &w.product_a),
                ("coverage", "99999.00"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("value=\"99999.00\"") && page.contains("id=\"choose-coverage-error\""),
        "{page}"
    );
    assert!(page.contains(" checked"), "the product stays chosen");

    let (s, _, page) = sme
        .post(
            &format!("/agreements/{id}/cover/product"),
            &[
                ("csrf", &sme.csrf()),
                ("version", &version),
                ("product_id", &w.product_a),
                ("coverage", "8000.00"),
            ],
        )
        .await;
    assert_eq!(s, 303, "{page}");
    let (_, _, page) = sme.get(&tab).await;
    let page = text(&page);
    assert!(
        page.contains("US$8,000.00") && !page.contains("Chọn bảo hiểm này"),
        "{page}"
    );
    // The institute's form, shown at the old version, is stale now.
    let mut inst = browser(&app, &w.inst_b).await;
    let (s, _, page) = inst
        .post(
            &format!("/agreements/{id}/cover/product"),
            &[
                ("csrf", &inst.csrf()),
                ("version", &version),
                ("product_id", &w.product_a),
                ("coverage", ""),
            ],
        )
        .await;
    assert_eq!(s, 412, "{page}");
    let (_, ins) = app
        .get(
            &w.insurer_a.token,
            &format!("/api/v1/insurance/agreements/{id}"),
        )
        .await;
    assert_eq!(ins["insurance_choice"]["coverage"], "8000.00", "{ins}");
}
