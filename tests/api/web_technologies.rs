//! The institute's technology pages as a browser uses them: listing a technology through the
//! form, editing it (a stale form is refused), bad values set again beside their fields with
//! what was typed, new conversion terms versions, their history and comparison, the preview of
//! the quote an SME gets, and nobody else reaching any of it.

use reqwest::header::LOCATION;

use crate::browser::Browser;
use crate::contract_improvements::{terms_history, versions};
use crate::helpers::{id_of, TestApp, World};
use usefirst::settlement::money::Currency;
use usefirst::typeset::format::money;

/// The technology form's fields, with `changes` over a valid listing.
fn tech_form<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("title_vi", "Máy sấy cà phê năng lượng mặt trời"),
        ("title_en", "Solar coffee dryer"),
        (
            "summary_vi",
            "Sấy cà phê nhân bằng nhiệt mặt trời, giảm 40% điện năng.",
        ),
        (
            "summary_en",
            "Dries green coffee with solar heat, using 40% less power.",
        ),
        ("field", "agriculture"),
        ("ip_type", "utility_solution"),
        ("ip_reference", "VN 2-0009876"),
        ("valuation_amount", "800000000"),
        ("valuation_currency", "VND"),
        ("status", "draft"),
    ];
    for (name, value) in changes {
        match form.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => form.push((name, value)),
        }
    }
    form
}

/// A terms form: every field of the page, with `changes` over a lump sum of 150 000 000 VND.
fn terms_form<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("trial_days", "90"),
        ("decision_days", "30"),
        ("currency", "VND"),
        ("model", "lump_sum"),
        ("lump_amount", "150000000"),
        ("lump_due_days", "30"),
        ("inst_total", ""),
        ("inst_count", ""),
        ("inst_interval_months", ""),
        ("inst_first_due_days", ""),
        ("fee_amount", ""),
        ("fee_due_days", ""),
        ("royalty_rate", ""),
        ("royalty_min_per_year", ""),
        ("early_conversion_discount", ""),
        ("late_payment_daily_rate", ""),
        ("share_institute", ""),
        ("share_inventors", ""),
        ("share_intermediary", ""),
    ];
    for (name, value) in changes {
        match form.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => form.push((name, value)),
        }
    }
    form
}

/// Instalments in USD with an early-conversion discount, insurance and a split.
const INSTALMENTS: [(&str, &str); 12] = [
    ("trial_days", "60"),
    ("currency", "USD"),
    ("model", "installments"),
    ("inst_total", "12000.00"),
    ("inst_count", "4"),
    ("inst_interval_months", "3"),
    ("inst_first_due_days", "30"),
    ("early_conversion_discount", "5"),
    ("insurance_required", "yes"),
    ("share_institute", "60"),
    ("share_inventors", "30"),
    ("share_intermediary", "10"),
];

/// The message set beside field `name` (the element its `aria-describedby` names).
fn error_of(page: &str, name: &str) -> Option<String> {
    let start = page.find(&format!("id=\"{name}-error\">"))?;
    let rest = &page[start..];
    let text = &rest[rest.find('>')? + 1..rest.find("</p>")?];
    Some(text.to_string())
}

/// The control `name` is marked invalid and points at its message.
fn marked_invalid(page: &str, name: &str) -> bool {
    page.split(&format!("name=\"{name}\""))
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .is_some_and(|tag| {
            tag.contains("aria-invalid=\"true\"") && tag.contains(&format!("{name}-error"))
        })
}

/// The row of the comparison whose term is `label`.
fn row<'a>(page: &'a str, label: &str) -> &'a str {
    page.split("<tr")
        .find(|r| r.contains(&format!(">{label}</th>")))
        .unwrap_or_else(|| panic!("no row {label} in {page}"))
}

#[actix_web::test]
async fn an_institute_lists_edits_and_sets_terms_through_the_pages() {
    let app = TestApp::spawn().await;
    let w: World = app.world().await;
    // Two requests for technology A, one for another institute's technology.
    app.request(&w.sme_a, &w.tech_a, "2026-03-05").await;
    app.request(&w.sme_b, &w.tech_a, "2026-03-06").await;
    app.request(&w.sme_a, &w.tech_b, "2026-03-05").await;
    let mut b = Browser::signed_in(&app, &w.inst_a.email).await;

    // Our technologies: its own, listed and draft, with status in words and terms version.
    let (s, _, page) = b.get("/technologies").await;
    assert_eq!(s, 200, "{page}");
    // Each with the number of agreements made on it.
    let agreements = |title: &str| -> String {
        let row = page
            .split("<tr>")
            .find(|r| r.contains(title))
            .unwrap_or_else(|| panic!("no row {title} in {page}"));
        let label = "data-label=\"Thỏa thuận dùng thử\">";
        let cell = &row[row.find(label).expect(row) + label.len()..];
        cell[..cell.find("</td>").unwrap()].to_string()
    };
    assert_eq!(agreements("Công nghệ A"), "2");
    assert_eq!(agreements("Công nghệ Draft"), "0");
    assert!(page.contains("Công nghệ A") && page.contains("Công nghệ Draft"));
    assert!(
        !page.contains("Công nghệ B"),
        "another institute's technology"
    );
    assert!(page.contains("Đã đăng trong danh mục") && page.contains("Bản nháp"));
    assert!(page.contains("Phiên bản 1"));
    assert!(page.contains(&format!("/technologies/{}/edit", w.tech_a)));
    assert!(page.contains("href=\"/technologies/new\""));

    // Listing a new technology through the form.
    let (s, _, page) = b.get("/technologies/new").await;
    assert_eq!(s, 200);
    assert!(page.contains("<label for=\"title_vi\">Tên tiếng Việt</label>"));
    let csrf = b.csrf();
    let (s, h, page) = b.post("/technologies/new", &tech_form(&csrf, &[])).await;
    assert_eq!(s, 303, "{page}");
    let to = h[LOCATION].to_str().unwrap().to_string();
    let id = to
        .strip_prefix("/technologies/")
        .and_then(|r| r.strip_suffix("/terms?saved=new"))
        .unwrap_or_else(|| panic!("{to}"))
        .to_string();
    let (s, _, page) = b.get(&to).await;
    assert_eq!(s, 200);
    assert!(page.contains("Đã lưu công nghệ") && page.contains("Chưa có điều khoản"));
    let (s, tech) = app
        .get(&w.inst_a.token, &format!("/api/v1/technologies/{id}"))
        .await;
    assert_eq!(s, 200, "{tech}");
    assert_eq!(tech["title"]["en"], "Solar coffee dryer");
    assert_eq!(tech["status"], "draft");
    assert_eq!(tech["valuation"]["amount"], "800000000");
    assert_eq!(tech["version"], 1);

    // Bad values: the form again (422), each message beside its field, what was typed kept.
    let (s, _, page) = b
        .post(
            "/technologies/new",
            &tech_form(
                &csrf,
                &[
                    ("title_vi", "  "),
                    ("title_en", "Kept <as typed>"),
                    ("valuation_amount", "12,5 tỷ"),
                ],
            ),
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert_eq!(error_of(&page, "title_vi").unwrap(), "Vui lòng điền ô này.");
    assert!(marked_invalid(&page, "title_vi"), "{page}");
    assert!(error_of(&page, "valuation_amount")
        .unwrap()
        .starts_with("Ghi số tiền chỉ bằng chữ số"));
    assert!(page.contains("value=\"Kept &lt;as typed&gt;\""), "{page}");
    assert!(page.contains("value=\"12,5 tỷ\""));
    assert!(error_of(&page, "title_en").is_none());
    // What only app can tell (decimals VND does not have), still beside the field.
    let (s, _, page) = b
        .post(
            "/technologies/new",
            &tech_form(
                &csrf,
                &[("valuation_amount", "1500.5"), ("ip_type", "rumour")],
            ),
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(error_of(&page, "valuation_amount")
        .unwrap()
        .contains("VND không có"));
    assert_eq!(
        error_of(&page, "ip_type").unwrap(),
        "Vui lòng chọn một hình thức bảo hộ."
    );
    assert!(page.contains("value=\"1500.5\""));
    // In English too.
    b.get("/lang/en?back=/technologies").await;
    let (s, _, page) = b
        .post(
            "/technologies/new",
            &tech_form(&csrf, &[("ip_reference", ""), ("valuation_amount", "lots")]),
        )
        .await;
    assert_eq!(s, 422);
    assert!(page.contains("<html lang=\"en\">"));
    assert_eq!(
        error_of(&page, "ip_reference").unwrap(),
        "Please fill this in."
    );
    assert!(error_of(&page, "valuation_amount")
        .unwrap()
        .starts_with("Write the amount in digits only"));
    assert!(page.contains("value=\"lots\""));
    b.get("/lang/vi?back=/technologies").await;
    let (_, list) = app
        .get(&w.inst_a.token, "/api/v1/technologies?per_page=100")
        .await;
    let titles = list.to_string();
    assert_eq!(titles.matches("Solar coffee dryer").count(), 1, "{titles}");
    assert!(!titles.contains("Kept"));

    // Editing: the form carries the version it showed; saving moves it on.
    let (s, _, page) = b.get(&format!("/technologies/{id}/edit")).await;
    assert_eq!(s, 200);
    assert!(page.contains("name=\"version\" value=\"1\""), "{page}");
    assert!(page.contains("value=\"Solar coffee dryer\""));
    let edit = format!("/technologies/{id}/edit");
    let (s, h, page) = b
        .post(
            &edit,
            &tech_form(
                &csrf,
                &[
                    ("version", "1"),
                    ("title_en", "Solar coffee and cocoa dryer"),
                    ("status", "withdrawn"),
                ],
            ),
        )
        .await;
    assert_eq!(s, 303, "{page}");
    assert_eq!(h[LOCATION], "/technologies?saved=1");
    let (_, tech) = app
        .get(&w.inst_a.token, &format!("/api/v1/technologies/{id}"))
        .await;
    assert_eq!(
        (
            tech["title"]["en"].as_str(),
            tech["status"].as_str(),
            tech["version"].as_i64()
        ),
        (
            Some("Solar coffee and cocoa dryer"),
            Some("withdrawn"),
            Some(2)
        )
    );
    let (_, _, page) = b.get("/technologies?saved=1").await;
    assert!(page.contains("Đã lưu các thay đổi.") && page.contains("Đã rút khỏi danh mục"));
    // The same form sent again (version 1) is stale: the 412 page, pointing at how it stands.
    let (s, _, page) = b
        .post(
            &edit,
            &tech_form(&csrf, &[("version", "1"), ("title_en", "Overwritten")]),
        )
        .await;
    assert_eq!(s, 412, "{page}");
    assert!(page.contains("Đã có người thay đổi trong lúc bạn xem"));
    assert!(page.contains(&format!("href=\"{edit}\"")), "{page}");
    // Bad values on the edit form: 422 with the version kept for the next try.
    let (s, _, page) = b
        .post(
            &edit,
            &tech_form(&csrf, &[("version", "2"), ("summary_en", "")]),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(
        error_of(&page, "summary_en").unwrap(),
        "Vui lòng điền ô này."
    );
    assert!(page.contains("name=\"version\" value=\"2\""));
    let (_, tech) = app
        .get(&w.inst_a.token, &format!("/api/v1/technologies/{id}"))
        .await;
    assert_eq!(
        (tech["title"]["en"].as_str(), tech["version"].as_i64()),
        (Some("Solar coffee and cocoa dryer"), Some(2))
    );

    // Conversion terms: the first version, then a second through the same form.
    let terms = format!("/technologies/{id}/terms");
    let (s, h, page) = b.post(&terms, &terms_form(&csrf, &[])).await;
    assert_eq!(s, 303, "{page}");
    assert_eq!(h[LOCATION].to_str().unwrap(), format!("{terms}?saved=1"));
    let (s, h, page) = b.post(&terms, &terms_form(&csrf, &INSTALMENTS)).await;
    assert_eq!(s, 303, "{page}");
    assert_eq!(h[LOCATION].to_str().unwrap(), format!("{terms}?saved=2"));
    let (s, history) = app
        .get(&w.inst_a.token, &format!("/api/v1/technologies/{id}/terms"))
        .await;
    assert_eq!(s, 200);
    let v2 = &history[0]["terms"];
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(v2["price"]["model"], "installments");
    assert_eq!(v2["price"]["total"], "12000.00");
    assert_eq!(v2["early_conversion_discount"], "0.05");
    assert_eq!(v2["insurance_required"], true);
    assert_eq!(v2["distribution"]["inventors"], "0.3");
    assert_eq!(history[1]["terms"]["price"]["amount"], "150000000");

    // History lists both, newest first, each in one line; the form starts from version 2.
    let (s, _, page) = b.get(&format!("{terms}?saved=2")).await;
    assert_eq!(s, 200);
    assert!(page.contains("Đã lưu phiên bản 2"));
    assert!(page.contains("vẫn giữ điều khoản lúc được duyệt"));
    let (at2, at1) = (
        page.find("US$12,000.00 trả góp 4 đợt")
            .expect("version 2 summary"),
        page.find("150.000.000 ₫ trả một lần")
            .expect("version 1 summary"),
    );
    assert!(at2 < at1);
    assert!(page.contains("name=\"early_conversion_discount\" value=\"5\""));
    assert!(page.contains("name=\"insurance_required\" value=\"yes\" checked"));

    // The comparison: every term in both columns, changed ones said in words.
    let (s, _, page) = b.get(&format!("{terms}/compare?a=1&b=2")).await;
    assert_eq!(s, 200, "{page}");
    let trial = row(&page, "Thời gian dùng thử miễn phí");
    assert!(
        trial.contains("90 ngày") && trial.contains("60 ngày") && trial.contains("Đã thay đổi")
    );
    let currency = row(&page, "Loại tiền");
    assert!(
        currency.contains("VND") && currency.contains("USD") && currency.contains("Đã thay đổi")
    );
    let decision = row(&page, "Thời hạn quyết định sau dùng thử");
    assert!(decision.contains("Giữ nguyên") && !decision.contains("Đã thay đổi"));
    let insurance = row(&page, "Bắt buộc mua bảo hiểm cho thời gian dùng thử");
    assert!(
        insurance.contains("Không")
            && insurance.contains("Có")
            && insurance.contains("Đã thay đổi")
    );
    assert!(row(&page, "Tác giả sáng chế").contains("30%"));
    // A version that does not exist: the 404 page.
    let (s, _, _) = b.get(&format!("{terms}/compare?a=1&b=9")).await;
    assert_eq!(s, 404);

    // Bad terms: what the page can tell (a word for a number, an amount left empty)...
    let (s, _, page) = b
        .post(
            &terms,
            &terms_form(&csrf, &[("trial_days", "ba tháng"), ("lump_amount", "")]),
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert_eq!(
        error_of(&page, "trial_days").unwrap(),
        "Ghi một số nguyên ngày hoặc tháng, ví dụ 30."
    );
    assert!(marked_invalid(&page, "trial_days"));
    assert_eq!(
        error_of(&page, "lump_amount").unwrap(),
        "Vui lòng điền ô này."
    );
    assert!(page.contains("value=\"ba tháng\""));
    // ...and what the terms' own check finds, each beside its field.
    let (s, _, page) = b
        .post(
            &terms,
            &terms_form(
                &csrf,
                &[
                    ("model", "royalty"),
                    ("royalty_rate", "150"),
                    ("decision_days", "0"),
                    ("share_institute", "50"),
                    ("share_inventors", "30"),
                    ("share_intermediary", "10"),
                ],
            ),
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert_eq!(
        error_of(&page, "royalty_rate").unwrap(),
        "Tỷ lệ phí bản quyền phải từ 0 đến 100%."
    );
    assert!(error_of(&page, "decision_days")
        .unwrap()
        .starts_with("Thời hạn quyết định phải từ 1 đến"));
    assert_eq!(
        error_of(&page, "distribution").unwrap(),
        "Ba tỷ lệ cộng lại phải đúng bằng 100%."
    );
    assert!(page.contains("name=\"royalty_rate\" value=\"150\""));
    b.get("/lang/en?back=/technologies").await;
    let (s, _, page) = b
        .post(
            &terms,
            &terms_form(&csrf, &[("model", "royalty"), ("royalty_rate", "3,5%x")]),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(
        error_of(&page, "royalty_rate").unwrap(),
        "Write a percentage as a number, e.g. 3.5."
    );
    assert!(page.contains("value=\"3,5%x\""));
    let (_, history) = app
        .get(&w.inst_a.token, &format!("/api/v1/technologies/{id}/terms"))
        .await;
    assert_eq!(
        history.as_array().unwrap().len(),
        2,
        "a bad form saved terms"
    );
}

#[actix_web::test]
async fn the_preview_is_the_quote_the_enterprise_gets() {
    let app = TestApp::spawn().await;
    let w: World = app.world().await;
    let mut b = Browser::signed_in(&app, &w.inst_a.email).await;
    let terms = format!("/technologies/{}/terms", w.tech_a);
    let (s, _, _) = b.get(&terms).await;
    assert_eq!(s, 200);
    let csrf = b.csrf();
    // Without insurance, so the fixture's approval needs no insurer.
    let mut uninsured = INSTALMENTS.to_vec();
    uninsured.push(("insurance_required", ""));
    let (s, _, page) = b.post(&terms, &terms_form(&csrf, &uninsured)).await;
    assert_eq!(s, 303, "{page}");

    // An SME's agreement approved on these terms, and its quote for converting early.
    let a = app.signed_agreement(&w).await;
    let (s, a) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{}", id_of(&a)))
        .await;
    assert_eq!(s, 200);
    let start = a["trial_start"]
        .as_str()
        .expect("trial dates set")
        .to_string();
    let convert_on = "2026-04-01";
    let (s, quote) = app
        .get(
            &w.sme_a.token,
            &format!(
                "/api/v1/agreements/{}/quote?convert_on={convert_on}",
                id_of(&a)
            ),
        )
        .await;
    assert_eq!(s, 200, "{quote}");
    let total_minor = quote["total_minor"].as_i64().unwrap();
    assert_eq!(
        total_minor, 1_140_000,
        "the early discount applies: {quote}"
    );
    let usd = Currency::parse("USD").unwrap();

    let (s, _, page) = b
        .get(&format!("{terms}?start={start}&convert_on={convert_on}"))
        .await;
    assert_eq!(s, 200, "{page}");
    let total = page
        .split("class=\"num total\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap();
    assert_eq!(total, money(usd, total_minor));
    assert!(page.contains("Đã trừ giảm giá chuyển đổi sớm 5%"));
    let lines = quote["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 4);
    for line in lines {
        assert!(page.contains(&money(usd, line["amount_minor"].as_i64().unwrap())));
    }
    // After the trial, no discount: the page and the quote agree again.
    let late = "2026-12-01";
    let (_, quote) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{}/quote?convert_on={late}", id_of(&a)),
        )
        .await;
    let (_, _, page) = b
        .get(&format!("{terms}?start={start}&convert_on={late}"))
        .await;
    assert!(page.contains(&format!(
        "class=\"num total\">{}<",
        money(usd, quote["total_minor"].as_i64().unwrap())
    )));
    assert!(!page.contains("Đã trừ giảm giá"));
    // A day that is not a date: said beside its box.
    let (s, _, page) = b.get(&format!("{terms}?start=soon")).await;
    assert_eq!(s, 422);
    assert_eq!(
        error_of(&page, "start").unwrap(),
        "Vui lòng chọn một ngày (năm-tháng-ngày)."
    );
}

#[actix_web::test]
async fn nobody_else_reaches_an_institutes_technology_pages() {
    let app = TestApp::spawn().await;
    let w: World = app.world().await;
    let paths = |tech: &str| {
        vec![
            format!("/technologies/{tech}/edit"),
            format!("/technologies/{tech}/terms"),
            format!("/technologies/{tech}/terms/compare?a=1&b=1"),
        ]
    };
    for who in [&w.sme_a, &w.inst_b, &w.insurer_a, &w.admin] {
        let mut b = Browser::signed_in(&app, &who.email).await;
        for tech in [&w.tech_a, &w.tech_draft] {
            for path in paths(tech) {
                let (s, _, page) = b.get(&path).await;
                assert_eq!(s, 404, "{} {path}", who.email);
                assert!(page.contains("Không tìm thấy trang"), "{page}");
            }
            let csrf = b.csrf();
            let (s, _, _) = b
                .post(
                    &format!("/technologies/{tech}/edit"),
                    &tech_form(&csrf, &[("version", "1"), ("title_en", "Taken")]),
                )
                .await;
            assert_eq!(s, 404, "{}", who.email);
            let (s, _, _) = b
                .post(
                    &format!("/technologies/{tech}/terms"),
                    &terms_form(&csrf, &[]),
                )
                .await;
            assert_eq!(s, 404, "{}", who.email);
        }
        let (s, _, _) = b.get("/technologies").await;
        let (s_new, _, _) = b.get("/technologies/new").await;
        if who.email == w.inst_b.email {
            assert_eq!((s, s_new), (200, 200));
            let (_, _, page) = b.get("/technologies").await;
            assert!(page.contains("Công nghệ B") && !page.contains("Công nghệ A"));
        } else {
            assert_eq!((s, s_new), (404, 404), "{}", who.email);
        }
    }
    // Nothing changed.
    let (_, tech) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}", w.tech_a),
        )
        .await;
    assert_eq!(tech["version"], 1);
    let (_, history) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}/terms", w.tech_a),
        )
        .await;
    assert_eq!(history.as_array().map(Vec::len), Some(1));
}

/// The first payment's trigger through the terms form: each bad choice set again beside its
/// field (a day that is not one, months out of range, "first sales" on a lump sum, a kind the
/// form does not offer), marked invalid, with nothing saved; a good one saved and shown again.
#[actix_web::test]
async fn the_first_payments_trigger_is_set_through_the_terms_form() {
    let app = TestApp::spawn().await;
    let w: World = app.world().await;
    let mut b = Browser::signed_in(&app, &w.inst_a.email).await;
    b.language("en").await;
    let terms = format!("/technologies/{}/terms", w.tech_a);
    let (s, _, page) = b.get(&terms).await;
    assert_eq!(s, 200);
    for name in [
        "first_payment",
        "first_payment_date",
        "first_payment_months",
    ] {
        assert!(page.contains(&format!("name=\"{name}\"")), "{name}: {page}");
    }
    let csrf = b.csrf();
    let before = versions(&app, &w).await;
    for (changes, field, message) in [
        (
            vec![("first_payment", "on_date"), ("first_payment_date", "")],
            "first_payment_date",
            None,
        ),
        (
            vec![
                ("first_payment", "on_date"),
                ("first_payment_date", "31/06/2026"),
            ],
            "first_payment_date",
            None,
        ),
        (
            vec![
                ("first_payment", "months_after_conversion"),
                ("first_payment_months", "61"),
            ],
            "first_payment_months",
            Some("The number of months must be from 1 to 60."),
        ),
        (
            vec![("first_payment", "first_revenue")],
            "first_payment",
            Some("This start does not fit the payment model"),
        ),
        (vec![("first_payment", "harvest")], "first_payment", None),
    ] {
        let (s, _, page) = b.post(&terms, &terms_form(&csrf, &changes)).await;
        assert_eq!(s, 422, "{changes:?}: {page}");
        let error = error_of(&page, field).unwrap_or_else(|| panic!("{changes:?}: {page}"));
        if let Some(message) = message {
            assert!(error.starts_with(message), "{changes:?}: {error}");
        }
        assert!(marked_invalid(&page, field), "{changes:?}: {page}");
        for (name, value) in &changes {
            if (name.ends_with("date") || name.ends_with("months")) && !value.is_empty() {
                assert!(page.contains(&format!("value=\"{value}\"")), "kept: {page}");
            }
        }
    }
    assert_eq!(
        versions(&app, &w).await,
        before,
        "a bad trigger saved terms"
    );

    let (s, h, page) = b
        .post(
            &terms,
            &terms_form(
                &csrf,
                &[
                    ("first_payment", "months_after_conversion"),
                    ("first_payment_months", "6"),
                ],
            ),
        )
        .await;
    assert_eq!(s, 303, "{page}");
    let saved = h[LOCATION].to_str().unwrap().to_string();
    assert_eq!(versions(&app, &w).await, before + 1);
    let history = terms_history(&app, &w).await;
    assert_eq!(
        history[0]["terms"]["first_payment"],
        serde_json::json!({"kind": "months_after_conversion", "months": 6})
    );
    let (_, _, page) = b.get(&saved).await;
    assert!(
        page.contains("<option value=\"months_after_conversion\" selected>"),
        "{page}"
    );
    assert!(page.contains("name=\"first_payment_months\""), "{page}");
}
