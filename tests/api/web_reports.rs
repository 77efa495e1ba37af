//! The monthly report page over HTTP, on years of synthetic history: every figure on the page
//! is the JSON report's for the same month, written in the page's language; the provisional
//! mark only while the month runs; each download in its type and readable by its reader; the
//! stored reports with their fingerprints; nobody but admins and auditors sees any of it.

use calamine::Reader;
use serde_json::Value;
use sha2::{Digest, Sha256};
use usefirst::seed::{SyntheticOptions, DEMO_PASSWORD};
use usefirst::settlement::money::Currency;
use usefirst::typeset::format::money;

use crate::browser::Browser;
use crate::helpers::*;
use crate::pdf_reader::Pdf;

/// A month of the synthetic history (the clock stands at 2 March 2026).
const PAST: &str = "2025-10";
/// The month the clock is in.
const CURRENT: &str = "2026-03";

/// The app with the demo and a year of synthetic history.
async fn seeded() -> TestApp {
    let app = TestApp::spawn_long_sessions().await;
    let opts = SyntheticOptions {
        years: 1,
        ..SyntheticOptions::new(400)
    };
    usefirst::seed::synthetic(&app.state, &opts).unwrap();
    app
}

async fn token(app: &TestApp, email: &str) -> String {
    let (s, body) = app.login(email, DEMO_PASSWORD).await;
    assert_eq!(s, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

async fn signed_in(app: &TestApp, email: &str, lang: &'static str) -> Browser {
    let mut b = Browser::new(app);
    b.accept_language = lang;
    let (s, _, _) = b.sign_in(email, DEMO_PASSWORD).await;
    assert_eq!(s, 303);
    // The page's language follows the user's own setting: set it to the one tested.
    let (s, _, _) = b
        .get(&format!("/lang/{lang}?back=%2Fadmin%2Freports"))
        .await;
    assert_eq!(s, 303);
    b
}

/// A count as the page writes it in `lang`.
fn count(lang: &str, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = if lang == "vi" { '.' } else { ',' };
    let mut out = String::new();
    if n < 0 {
        out.push('−');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

fn change(lang: &str, n: i64) -> String {
    if n > 0 {
        format!("+{}", count(lang, n))
    } else {
        count(lang, n)
    }
}

/// The cells of the table row that starts with `marker` (an `id="…"` or `data-key="…"`): the
/// header cell's text, then each data cell's.
fn row(page: &str, marker: &str) -> Vec<String> {
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("no row {marker} on the page"));
    let end = at + page[at..].find("</tr>").unwrap();
    let mut cells = Vec::new();
    let mut rest = &page[at..end];
    while let Some(open) = rest.find("<t") {
        let tag_end = open + rest[open..].find('>').unwrap();
        let tag = &rest[open..tag_end];
        if !(tag.starts_with("<td") || tag.starts_with("<th")) {
            rest = &rest[tag_end..];
            continue;
        }
        let close = tag_end + rest[tag_end..].find("</t").unwrap();
        cells.push(strip(&rest[tag_end + 1..close]));
        rest = &rest[close + 4..];
    }
    cells
}

/// Text without tags, entities read back, spaces squeezed.
fn strip(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn rate(lang: &str, r: &Value) -> String {
    match r.as_str() {
        Some(text) => usefirst::typeset::format::percent(lang, text.parse().unwrap()),
        None => "—".into(),
    }
}

/// Every figure of the JSON report of `month` is on the page, in `lang`'s writing.
fn same_figures(lang: &str, page: &str, json: &Value) {
    for (name, c) in json["counts"].as_object().unwrap() {
        let cells = row(page, &format!("id=\"count-{name}\""));
        let want = [
            count(lang, c["month"].as_i64().unwrap()),
            count(lang, c["previous"].as_i64().unwrap()),
            change(lang, c["change"].as_i64().unwrap()),
            count(lang, c["cumulative"].as_i64().unwrap()),
        ];
        assert_eq!(cells[1..], want, "{lang} {name}");
    }
    let d = &json["decisions"];
    for window in ["month", "previous", "cumulative"] {
        let cells = row(page, &format!("id=\"rate-{window}\""));
        assert_eq!(
            cells[1..],
            [
                count(lang, d[window]["decided"].as_i64().unwrap()),
                count(lang, d[window]["converted"].as_i64().unwrap()),
                rate(lang, &d[window]["conversion_rate"]),
            ],
            "{lang} {window}"
        );
    }
    let tile = |id: &str| {
        let at = page.find(&format!("id=\"tile-{id}\"")).unwrap();
        let from = at + page[at..].find("class=\"figure\">").unwrap() + 15;
        page[from..from + page[from..].find('<').unwrap()].to_string()
    };
    assert_eq!(
        tile("trials_started"),
        count(
            lang,
            json["counts"]["trials_started"]["month"].as_i64().unwrap()
        )
    );
    assert_eq!(
        tile("conversions"),
        count(
            lang,
            json["counts"]["conversions"]["month"].as_i64().unwrap()
        )
    );
    assert_eq!(tile("rate"), rate(lang, &d["month"]["conversion_rate"]));
    let amounts = json["amounts"].as_array().unwrap();
    assert!(!amounts.is_empty(), "the history has money");
    for a in amounts {
        let cur = Currency::parse(a["currency"].as_str().unwrap()).unwrap();
        let m = |k: &str| money(cur, a[k].as_i64().unwrap());
        let delta = a["change_minor"].as_i64().unwrap();
        let cells = row(
            page,
            &format!(
                "id=\"money-{}-{}\"",
                a["measure"].as_str().unwrap(),
                cur.code
            ),
        );
        assert_eq!(
            cells[1..],
            [
                m("month_minor"),
                m("previous_minor"),
                if delta > 0 {
                    format!("+{}", m("change_minor"))
                } else {
                    m("change_minor")
                },
                m("cumulative_minor"),
            ],
            "{lang} {a}"
        );
    }
    let months = json["by_month"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    for p in months {
        let cells = row(
            page,
            &format!("id=\"series-{}\"", p["month"].as_str().unwrap()),
        );
        assert_eq!(
            cells[1..],
            [
                count(lang, p["trials_started"].as_i64().unwrap()),
                count(lang, p["conversions"].as_i64().unwrap()),
            ]
        );
    }
    let provinces = json["by_province"].as_array().unwrap();
    assert!(!provinces.is_empty());
    for (kind, groups) in [
        ("province", provinces),
        ("institute", json["by_institute"].as_array().unwrap()),
        ("field", json["by_field"].as_array().unwrap()),
    ] {
        let table_at = page.find(&format!("id=\"{kind}-table\"")).unwrap();
        let table = &page[table_at..table_at + page[table_at..].find("</table>").unwrap()];
        assert_eq!(
            table.matches("data-key=").count(),
            groups.len(),
            "{kind} rows"
        );
        for g in groups {
            let key = g["key"].as_str().unwrap();
            let cells = row(table, &format!("data-key=\"{key}\""));
            let n = |k: &str| count(lang, g[k].as_i64().unwrap());
            assert_eq!(
                cells[1..5],
                [
                    n("requests"),
                    n("trials_started"),
                    n("conversions"),
                    n("decided")
                ],
                "{kind} {key}"
            );
        }
    }
    // The charts are drawn on the server, named, with a table beside each.
    assert!(
        page.matches("<svg class=\"chart\" role=\"img\" aria-label=")
            .count()
            >= 4
    );
}

async fn bytes(app: &TestApp, b: &Browser, path: &str) -> (u16, String, Vec<u8>) {
    let cookies = ["uf_session", "uf_csrf", "uf_lang"]
        .iter()
        .filter_map(|n| b.cookie(n).map(|v| format!("{n}={v}")))
        .collect::<Vec<_>>()
        .join("; ");
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.bytes().await.unwrap().to_vec())
}

/// The page of a past month shows the JSON report's figures, in Vietnamese and in English,
/// with no provisional mark; the current month's page carries it.
#[actix_web::test]
async fn the_page_shows_the_json_reports_figures() {
    let app = seeded().await;
    let admin = token(&app, "admin@usefirst.demo").await;
    let (s, json) = app
        .get(&admin, &format!("/api/v1/reports/monthly/{PAST}"))
        .await;
    assert_eq!(s, 200, "{json}");
    assert!(json["counts"]["trials_started"]["month"].as_i64().unwrap() > 0);
    for lang in ["vi", "en"] {
        let mut b = signed_in(&app, "admin@usefirst.demo", lang).await;
        let (s, _, page) = b.get(&format!("/admin/reports?month={PAST}")).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains(&format!("<html lang=\"{lang}\">")));
        assert!(
            page.contains(&format!("value=\"{PAST}\"")),
            "the month kept"
        );
        assert!(
            !page.contains("id=\"provisional\""),
            "{lang}: October ended"
        );
        same_figures(lang, &page, &json);
        // The same month in the other list of links: one month back and forth.
        assert!(page.contains("href=\"/admin/reports?month=2025-09\""));
        assert!(page.contains("href=\"/admin/reports?month=2025-11\""));
    }

    // The month the clock is in is provisional, on the page as in the JSON.
    let (_, now) = app
        .get(&admin, &format!("/api/v1/reports/monthly/{CURRENT}"))
        .await;
    assert_eq!(now["provisional"], true);
    let mut b = signed_in(&app, "auditor@usefirst.demo", "en").await;
    let (s, _, page) = b.get(&format!("/admin/reports?month={CURRENT}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("id=\"provisional\""));
    assert!(page.contains("This month ends on 31 March 2026"));
    same_figures("en", &page, &now);
    // Without a month, the last one ended (February), not provisional.
    let (s, _, page) = b.get("/admin/reports").await;
    assert_eq!(s, 200);
    assert!(page.contains("value=\"2026-02\""));
    assert!(!page.contains("id=\"provisional\""));
}

/// Each download has its type and reads back: JSON equal to the API's, the CSV tables' rows,
/// an XLSX a spreadsheet reader opens, a PDF in each language. Stored reports are listed with
/// the SHA-256 of each file, and a stored file's bytes have that fingerprint.
#[actix_web::test]
async fn downloads_read_back_and_stored_reports_show_their_fingerprints() {
    let app = seeded().await;
    let admin = token(&app, "admin@usefirst.demo").await;
    let (_, json) = app
        .get(&admin, &format!("/api/v1/reports/monthly/{PAST}"))
        .await;
    let mut b = signed_in(&app, "admin@usefirst.demo", "vi").await;
    let (s, _, page) = b.get(&format!("/admin/reports?month={PAST}")).await;
    assert_eq!(s, 200);
    assert!(page.contains(&word_free("reports.stored.none")));
    let base = format!("/admin/reports/{PAST}/download");
    for (format, lang) in [
        ("json", ""),
        ("csv", ""),
        ("xlsx", "vi"),
        ("xlsx", "en"),
        ("pdf", "vi"),
        ("pdf", "en"),
    ] {
        let href = if lang.is_empty() {
            format!("{base}?format={format}")
        } else {
            format!("{base}?format={format}&amp;lang={lang}")
        };
        assert!(page.contains(&format!("href=\"{href}\"")), "{href}");
    }

    let (s, ct, body) = bytes(&app, &b, &format!("{base}?format=json")).await;
    assert_eq!((s, ct.as_str()), (200, "application/json"));
    let mut got: Value = serde_json::from_slice(&body).unwrap();
    let mut want = json.clone();
    // Read at another instant of the same manual clock: the same, apart from that instant.
    got["generated_at"] = Value::Null;
    want["generated_at"] = Value::Null;
    assert_eq!(got, want);

    let (s, ct, zip) = bytes(&app, &b, &format!("{base}?format=csv")).await;
    assert_eq!((s, ct.as_str()), (200, "application/zip"));
    assert_eq!(&zip[..2], b"PK");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut summary = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name("summary.csv").unwrap(), &mut summary).unwrap();
    let mut reader = csv::Reader::from_reader(&summary[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 14);
    let started = rows.iter().find(|r| &r[0] == "trials_started").unwrap();
    assert_eq!(
        started[1].parse::<i64>().unwrap(),
        json["counts"]["trials_started"]["month"].as_i64().unwrap()
    );

    for lang in ["vi", "en"] {
        let (s, ct, xlsx) = bytes(&app, &b, &format!("{base}?format=xlsx&lang={lang}")).await;
        assert_eq!(s, 200);
        assert!(ct.contains("spreadsheetml"), "{ct}");
        assert_eq!(&xlsx[..4], b"PK\x03\x04");
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
        assert!(book.worksheet_range("summary").unwrap().rows().count() > 10);

        let (s, ct, pdf) = bytes(&app, &b, &format!("{base}?format=pdf&lang={lang}")).await;
        assert_eq!((s, ct.as_str()), (200, "application/pdf"));
        assert!(pdf.starts_with(b"%PDF"));
        let text = Pdf::read(&pdf).rows().join("\n");
        let label = if lang == "vi" {
            "Bắt đầu dùng thử"
        } else {
            "Trials started"
        };
        assert!(text.contains(label), "{lang}: {text}");
    }

    // A bad download is a 422 page, never a file.
    for bad in [
        format!("{base}?format=docx"),
        format!("{base}?format=pdf&lang=fr"),
        "/admin/reports/2025-13/download?format=pdf".to_string(),
    ] {
        let (s, ct, _) = bytes(&app, &b, &bad).await;
        assert_eq!(s, 422, "{bad}");
        assert!(ct.starts_with("text/html"), "{bad}: {ct}");
    }

    // The job stores October: the list shows it with the fingerprint of each file, and a
    // stored file has the fingerprint listed.
    let stored = usefirst::app::reports::generate(
        &app.state,
        usefirst::reports::model::Month::parse(PAST).unwrap(),
    )
    .unwrap();
    let (_, _, page) = b.get(&format!("/admin/reports?month={PAST}")).await;
    assert!(page.contains(&stored.json_sha256));
    for f in &stored.files {
        let marker = format!("id=\"stored-{}-{}-{}\"", stored.id, f.format, f.lang);
        let cells = row(&page, &marker);
        assert_eq!(cells[1], f.sha256, "{marker}");
        let href = format!(
            "/admin/reports/stored/{}/{}/{}",
            stored.id, f.format, f.lang
        );
        assert!(page.contains(&href));
        let (s, _, file) = bytes(&app, &b, &href).await;
        assert_eq!(s, 200);
        assert_eq!(hex::encode(Sha256::digest(&file)), f.sha256);
    }
    let (s, _, _) = bytes(&app, &b, "/admin/reports/stored/nope/pdf/vi").await;
    assert_eq!(s, 404);
}

/// The "none" words in Vietnamese, as the page writes them (escaped like any text).
fn word_free(key: &str) -> String {
    let words: std::collections::BTreeMap<String, String> =
        toml::from_str(include_str!("../../src/web/i18n/reports.vi.toml")).unwrap();
    words[key].clone()
}

/// Anyone but an admin or an auditor finds no report page and no download (404); a month that
/// is not one is the form again with the reason beside it (422).
#[actix_web::test]
async fn only_admins_and_auditors_and_a_bad_month_is_named() {
    let app = TestApp::spawn_long_sessions().await;
    usefirst::seed::demo(&app.state).unwrap();
    for email in [
        "sme1@usefirst.demo",
        "institute1@usefirst.demo",
        "insurer@usefirst.demo",
    ] {
        let mut b = signed_in(&app, email, "vi").await;
        for path in [
            "/admin/reports".to_string(),
            format!("/admin/reports?month={PAST}"),
            format!("/admin/reports/{PAST}/download?format=pdf&lang=vi"),
            format!("/admin/reports/{PAST}/download?format=json"),
            "/admin/reports/stored/x/pdf/vi".to_string(),
        ] {
            let (s, ct, body) = bytes(&app, &b, &path).await;
            assert_eq!(s, 404, "{email} {path}");
            assert!(ct.starts_with("text/html"));
            assert!(!String::from_utf8_lossy(&body).contains("reports.nav"));
        }
        let (_, _, home) = b.get("/home").await;
        assert!(!home.contains("href=\"/admin/reports\""), "{email}");
    }
    // Signed out: sign in first, and come back here.
    let mut anon = Browser::new(&app);
    let (s, headers, _) = anon.get("/admin/reports?month=2025-10").await;
    assert_eq!(s, 303);
    assert_eq!(
        headers.get("location").unwrap(),
        "/sign-in?next=%2Fadmin%2Freports%3Fmonth%3D2025-10"
    );

    let mut b = signed_in(&app, "admin@usefirst.demo", "en").await;
    let (_, _, home) = b.get("/home").await;
    assert!(home.contains("href=\"/admin/reports\""));
    for bad in ["2025-13", "2025-1", "1999-12", "October", "2025-10-01"] {
        let (s, _, page) = b.get(&format!("/admin/reports?month={bad}")).await;
        assert_eq!(s, 422, "{bad}");
        assert!(
            page.contains(&format!("value=\"{bad}\"")),
            "{bad}: typed kept"
        );
        assert!(page.contains("aria-invalid=\"true\""));
        assert!(page.contains("id=\"month-error\""));
        assert!(page.contains("Enter a month as year-month"));
        assert!(!page.contains("<svg"));
    }
}
