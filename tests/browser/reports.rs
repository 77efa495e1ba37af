//! The admin's walk through the monthly report: from the menu to the report page, October
//! picked in the form, each format downloaded with the page's session, the page in English,
//! and the month not yet ended marked provisional. Every page looked at (screenshots at both
//! widths, axe-core).

use serde_json::{json, Value};
use usefirst::seed::{SyntheticOptions, DEMO_PASSWORD};

use crate::driver::{browse, Browser, BROWSER_LANGUAGE};
use crate::helpers::TestApp;
use crate::steps::*;

/// Signs in as `email` of the demo.
async fn sign_in_demo(b: &Browser, email: &str) {
    open(b, "/sign-in").await;
    fill(b, &t(b, "sign_in.email").await, email).await;
    fill(b, &t(b, "sign_in.password").await, DEMO_PASSWORD).await;
    submit(b, &t(b, "sign_in.submit").await).await;
    arrive(b, "/home").await;
}

/// From home, the menu's "Reports" opens the last month ended (February: the clock is on
/// 2 March 2026).
async fn open_reports(b: &Browser) {
    follow(b, &word("vi", "reports.nav", &[])).await;
    arrive(b, "/admin/reports").await;
    expect_page(
        b,
        "vi",
        &word("vi", "reports.title_of", &[("month", "tháng 2/2026")]),
    )
    .await;
    assert_eq!(
        value_of(b, &word("vi", "reports.month", &[])).await,
        "2026-02"
    );
}

/// October picked in the form: its report, charts and tables, no provisional mark.
async fn pick_october(b: &Browser) {
    fill_date(b, &word("vi", "reports.month", &[]), "2025-10").await;
    submit(b, &word("vi", "reports.show", &[])).await;
    arrive(b, "/admin/reports?month=2025-10").await;
    expect_page(
        b,
        "vi",
        &word("vi", "reports.title_of", &[("month", "tháng 10/2025")]),
    )
    .await;
    let text = main_text(b).await;
    assert!(!text.contains(&word("vi", "reports.provisional", &[])));
    for key in [
        "reports.counts",
        "reports.months",
        "reports.province",
        "reports.field",
    ] {
        expect_text(b, &word("vi", key, &[])).await;
    }
    let charts = js(
        b,
        "return Array.from(document.querySelectorAll('svg[role=img]')).map(s => [s.getAttribute('aria-label'), s.getBoundingClientRect().width]);",
        vec![],
    )
    .await;
    let charts = charts.as_array().unwrap();
    assert!(charts.len() >= 4, "{charts:?}");
    look(b, "report-october").await;
}

/// Each download link, fetched as the browser would with its session: the right type and
/// the file's own first bytes.
async fn download_each(b: &Browser) {
    let got =
        b.c.execute_async(
            r#"const done = arguments[arguments.length - 1];
            const links = Array.from(document.querySelectorAll('ul.downloads a'));
            Promise.all(links.map(async a => {
                const r = await fetch(a.href);
                const bytes = new Uint8Array(await r.arrayBuffer());
                return [a.textContent.trim(), r.status, r.headers.get('content-type'),
                        String.fromCharCode(...bytes.slice(0, 4)), bytes.length];
            })).then(done);"#,
            vec![],
        )
        .await
        .unwrap();
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), 6, "{got:?}");
    let expect = [
        ("reports.download.pdf.vi", "application/pdf", "%PDF"),
        ("reports.download.pdf.en", "application/pdf", "%PDF"),
        ("reports.download.xlsx.vi", "spreadsheetml", "PK\u{3}\u{4}"),
        ("reports.download.xlsx.en", "spreadsheetml", "PK\u{3}\u{4}"),
        ("reports.download.csv", "application/zip", "PK\u{3}\u{4}"),
        ("reports.download.json", "application/json", "{\"mo"),
    ];
    for (row, (key, content_type, magic)) in got.iter().zip(expect) {
        let row: &Vec<Value> = row.as_array().unwrap();
        assert_eq!(row[0], json!(word("vi", key, &[])));
        assert_eq!(row[1], json!(200), "{row:?}");
        assert!(row[2].as_str().unwrap().contains(content_type), "{row:?}");
        assert_eq!(row[3].as_str().unwrap(), magic, "{row:?}");
        assert!(row[4].as_i64().unwrap() > 100, "{row:?}");
    }
}

/// The same report in English.
async fn october_in_english(b: &Browser) {
    switch_language(b, "en").await;
    expect_page(
        b,
        "en",
        &word("en", "reports.title_of", &[("month", "October 2025")]),
    )
    .await;
    expect_text(b, &word("en", "reports.download.pdf.en", &[])).await;
    look(b, "report-october").await;
}

/// The month the clock is in: provisional, said why.
async fn current_month_is_provisional(b: &Browser) {
    follow(b, "November 2025 →").await;
    arrive(b, "/admin/reports?month=2025-11").await;
    open(b, "/admin/reports?month=2026-02").await;
    follow(b, "March 2026 →").await;
    follow(b, "April 2026 →").await;
    follow(b, "← March 2026").await;
    arrive(b, "/admin/reports?month=2026-03").await;
    expect_text(
        b,
        &word(
            "en",
            "reports.provisional.why",
            &[("last_day", "31 March 2026")],
        ),
    )
    .await;
    look(b, "report-provisional").await;
}

/// The admin opens October's report, downloads each format, reads it in English and sees the
/// running month marked provisional.
#[actix_web::test]
async fn admin_opens_octobers_report_and_downloads_each_format() {
    let app = TestApp::spawn_long_sessions().await;
    let opts = SyntheticOptions {
        years: 1,
        ..SyntheticOptions::new(400)
    };
    usefirst::seed::synthetic(&app.state, &opts).unwrap();
    browse(&app, BROWSER_LANGUAGE, move |b| async move {
        sign_in_demo(&b, "admin@usefirst.demo").await;
        open_reports(&b).await;
        pick_october(&b).await;
        download_each(&b).await;
        october_in_english(&b).await;
        current_month_is_provisional(&b).await;
    })
    .await;
}
