//! Checking a document as anyone would: the code a downloaded PDF carries (read from its QR
//! code and its printed text) opens the public page, which names the document and no party,
//! person or amount; the same file uploaded is "issued by usefirst", one changed byte is
//! not; an unknown code is the 404 page; a document the agreement has moved on from says it
//! is superseded; the per-address limit answers 429 with Retry-After; the auditors' page
//! checks a file and opens its agreement, and is no one else's.

use sha2::{Digest, Sha256};

use crate::browser::Browser;
use crate::helpers::{id_of, TestApp, World, PASSWORD};
use crate::pdf_reader::Pdf;

use crate::qr_reader;

/// What marks a party, a person or an amount in the fixture world's agreements.
const PERSONAL: [&str; 9] = [
    "Tổ chức",
    "Người dùng",
    "@example.vn",
    "REG-",
    "Nhà máy Cao Lãnh",
    "₫",
    "VND",
    "Đồng Tháp",
    "Bình Dương",
];

/// A signed agreement of the fixture world and its English trial agreement as the SME
/// downloads it from the agreement's page.
async fn downloaded(app: &TestApp, w: &World) -> (String, String, Vec<u8>) {
    let a = app.signed_agreement(w).await;
    let id = id_of(&a);
    let bytes = download(app, w, &id).await;
    (id, a["number"].as_str().unwrap().to_string(), bytes)
}

async fn download(app: &TestApp, w: &World, id: &str) -> Vec<u8> {
    let mut sme = Browser::signed_in(app, &w.sme_a.email).await;
    let (s, _, pdf) = sme
        .get_bytes(&format!("/agreements/{id}/documents/trial-agreement/en"))
        .await;
    assert_eq!(s, 200);
    pdf
}

/// The code of a document: the path of the link its QR code holds, which its pages print too
/// (in English).
fn code_of(pdf: &[u8]) -> String {
    let link = qr_reader::first_page_qr(pdf).expect("the first page has a QR code");
    let (base, code) = link.split_once("/verify/").expect("a /verify/ link");
    assert_eq!(
        base, "http://127.0.0.1:8080",
        "the configured public address"
    );
    assert_eq!(code.len(), 20, "{code}");
    let printed: Vec<String> = code
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let text = Pdf::read(pdf).text();
    assert!(
        text.contains(&format!(
            "Check this document at {link} — code {}",
            printed.join("-")
        )),
        "the printed code: {text}"
    );
    code.to_string()
}

/// A `multipart/form-data` body as a browser sends the upload form: the form token, then the
/// file. Returns the content type and the body.
fn upload_form(csrf: &str, name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----usefirstTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Posts the upload form of the page at `path` from browser `b` (whose cookies it sends).
async fn upload(
    app: &TestApp,
    b: &Browser,
    path: &str,
    csrf: &str,
    file: &[u8],
) -> (u16, reqwest::header::HeaderMap, String) {
    let (content_type, body) = upload_form(csrf, "agreement.pdf", file);
    let mut cookies = vec![format!(
        "uf_csrf={}",
        b.cookie("uf_csrf").unwrap_or_default()
    )];
    for name in ["uf_session", "uf_lang"] {
        if let Some(value) = b.cookie(name) {
            cookies.push(format!("{name}={value}"));
        }
    }
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(path))
        .header("Cookie", cookies.join("; "))
        .header("Accept-Language", b.accept_language)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    (status, headers, res.text().await.unwrap())
}

fn assert_nothing_personal(page: &str) {
    for mark in PERSONAL {
        assert!(!page.contains(mark), "{mark} on a public page:\n{page}");
    }
}

/// The code in a downloaded PDF opens the public page, with no sign-in: which document, and
/// nothing of the parties, the people or the money. The file uploaded there is usefirst's;
/// changed in one byte it is not; an unknown code is the 404 page.
#[actix_web::test]
async fn a_downloaded_document_is_checked_by_its_code_and_by_its_file() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let (_, number, pdf) = downloaded(&app, &w).await;
    let code = code_of(&pdf);
    let sha256 = hex::encode(Sha256::digest(&pdf));

    let mut visitor = Browser::new(&app);
    visitor.accept_language = "en";
    let (s, _, page) = visitor.get(&format!("/verify/{code}")).await;
    assert_eq!(s, 200, "{page}");
    for fact in [
        number.as_str(),
        "Trial agreement",
        "English",
        "Agreement version",
        sha256.as_str(),
        "Current: this is the document",
    ] {
        assert!(page.contains(fact), "{fact} missing:\n{page}");
    }
    assert_nothing_personal(&page);

    // The code typed as printed, in lower case: the same page.
    let printed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let (s, headers, _) = visitor.get(&format!("/verify?code={printed}")).await;
    assert_eq!(s, 303);
    let to = headers["location"].to_str().unwrap().to_string();
    let (s, _, again) = visitor.get(&to).await;
    assert_eq!(s, 200, "{to}");
    assert!(again.contains(&sha256));

    // In Vietnamese.
    visitor.accept_language = "vi";
    let (_, _, vi) = visitor.get(&format!("/verify/{code}")).await;
    assert!(
        vi.contains("Thỏa thuận dùng thử") && vi.contains("Còn hiệu lực"),
        "{vi}"
    );
    visitor.accept_language = "en";

    // The file itself, uploaded on the page.
    let csrf = visitor.csrf();
    let (s, _, page) = upload(&app, &visitor, "/verify", &csrf, &pdf).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("usefirst issued this file"), "{page}");
    assert!(page.contains(&number) && page.contains(&sha256));
    assert_nothing_personal(&page);

    // One byte changed: not usefirst's.
    let mut changed = pdf.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x01;
    let (s, _, page) = upload(&app, &visitor, "/verify", &csrf, &changed).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Not a document issued by usefirst"), "{page}");
    assert!(!page.contains(&number), "{page}");

    // Without the form token: refused. Without a file: said beside the field.
    let (s, _, _) = upload(&app, &visitor, "/verify", "wrong", &pdf).await;
    assert_eq!(s, 403);
    let (s, _, page) = upload(&app, &visitor, "/verify", &csrf, b"").await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("Choose a PDF file to check."), "{page}");

    // Unknown codes: a well-formed one nobody has, and nonsense.
    for unknown in ["00000000000000000000", "not-a-code", "%2E%2E%2Fetc"] {
        let (s, _, page) = visitor.get(&format!("/verify/{unknown}")).await;
        assert_eq!(s, 404, "{unknown}: {page}");
        assert!(page.contains("No document has this code"), "{page}");
    }
}

/// Once the agreement has moved on (the trial started), the document downloaded before says
/// it is superseded; the one downloaded now has a code of its own and is current.
#[actix_web::test]
async fn a_document_the_agreement_has_moved_on_from_is_superseded() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let (id, _, before) = downloaded(&app, &w).await;
    let old = code_of(&before);

    // Checked while current: the first view hands out a form token, the second is kept
    // (`web::kept`), and a third is the page kept.
    let mut visitor = Browser::new(&app);
    visitor.accept_language = "en";
    let (_, _, first) = visitor.get(&format!("/verify/{old}")).await;
    assert!(first.contains("Current: this is the document"), "{first}");
    assert_eq!(
        app.state.kept_pages.bytes(),
        0,
        "no form token yet: not kept"
    );
    let (_, _, second) = visitor.get(&format!("/verify/{old}")).await;
    assert!(app.state.kept_pages.bytes() > 0, "kept");
    assert_eq!(visitor.get(&format!("/verify/{old}")).await.2, second);

    // The trial starts on its start day: a new agreement version, which the kept page shows
    // at once.
    app.pass_days(1);
    let (_, a) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(a["status"], "active", "{a}");
    let version = a["version"].as_i64().unwrap();

    let (s, _, page) = visitor.get(&format!("/verify/{old}")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains(&format!(
            "Superseded: the agreement has changed since this document was issued (it is at version {version} now)"
        )),
        "{page}"
    );

    let after = download(&app, &w, &id).await;
    let new = code_of(&after);
    assert_ne!(new, old);
    let (_, _, page) = visitor.get(&format!("/verify/{new}")).await;
    assert!(page.contains("Current: this is the document"), "{page}");
}

/// Beyond `documents.verify_requests_per_minute` checks a minute from one address, the page
/// and the upload answer 429 with Retry-After; a minute later they answer again.
#[actix_web::test]
async fn checks_are_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.documents.verify_requests_per_minute = 3).await;
    let mut visitor = Browser::new(&app);
    visitor.accept_language = "en";
    for _ in 0..3 {
        let (s, _, _) = visitor.get("/verify/00000000000000000000").await;
        assert_eq!(s, 404);
    }
    let (s, headers, page) = visitor.get("/verify/00000000000000000000").await;
    assert_eq!(s, 429, "{page}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(!page.contains("No document has this code"), "{page}");

    // The upload is the same count: refused before the file is read.
    let (_, _, _) = visitor.get("/verify").await;
    let csrf = visitor.csrf();
    let (s, headers, _) = upload(&app, &visitor, "/verify", &csrf, b"%PDF-1.7").await;
    assert_eq!(s, 429);
    assert!(headers.contains_key("retry-after"));

    app.clock.advance(chrono::Duration::seconds(61));
    let (s, _, _) = visitor.get("/verify/00000000000000000000").await;
    assert_eq!(s, 404, "a minute later");
}

/// The auditors' page checks a file and opens its agreement; a changed file is not usefirst's;
/// an SME finds no such page, and a visitor is asked to sign in.
#[actix_web::test]
async fn auditors_check_a_file_and_open_its_agreement() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let (id, number, pdf) = downloaded(&app, &w).await;

    let mut auditor = Browser::new(&app);
    auditor.accept_language = "en";
    let (s, _, _) = auditor.sign_in(&w.auditor.email, PASSWORD).await;
    assert_eq!(s, 303);
    // The user's own language is Vietnamese; the switch sets the page language.
    let (s, _, _) = auditor.get("/lang/en?back=/audit/documents").await;
    assert_eq!(s, 303);
    let (s, _, page) = auditor.get("/audit/documents").await;
    assert_eq!(s, 200, "{page}");
    let csrf = auditor.csrf();
    let (s, _, page) = upload(&app, &auditor, "/audit/documents", &csrf, &pdf).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("usefirst issued this file"), "{page}");
    assert!(
        page.contains(&format!("href=\"/agreements/{id}\"")),
        "{page}"
    );
    assert!(page.contains(&format!("Open agreement {number}")), "{page}");
    let mut changed = pdf.clone();
    changed.push(b'\n');
    let (_, _, page) = upload(&app, &auditor, "/audit/documents", &csrf, &changed).await;
    assert!(page.contains("Not a document issued by usefirst"), "{page}");

    let mut sme = Browser::new(&app);
    let (s, _, _) = sme.sign_in(&w.sme_a.email, PASSWORD).await;
    assert_eq!(s, 303);
    let (s, _, _) = sme.get("/audit/documents").await;
    assert_eq!(s, 404);
    let csrf = sme.csrf();
    let (s, _, page) = upload(&app, &sme, "/audit/documents", &csrf, &pdf).await;
    assert_eq!(s, 404);
    assert!(!page.contains(&number));

    let mut nobody = Browser::new(&app);
    let (s, headers, _) = nobody.get("/audit/documents").await;
    assert_eq!(s, 303);
    assert!(headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/sign-in"));
}

/// A file larger than `documents.verify_upload_max_bytes` is refused with the limit named,
/// before the rest of it is read.
#[actix_web::test]
async fn a_file_over_the_size_limit_is_refused() {
    let app = TestApp::spawn_with(|c| c.documents.verify_upload_max_bytes = 1024 * 1024).await;
    let mut visitor = Browser::new(&app);
    visitor.accept_language = "en";
    let (s, _, page) = visitor.get("/verify").await;
    assert_eq!(s, 200);
    assert!(page.contains("A PDF of at most 1 MB."), "{page}");
    let csrf = visitor.csrf();
    let big = vec![b'%'; 1024 * 1024 + 1];
    let (s, _, page) = upload(&app, &visitor, "/verify", &csrf, &big).await;
    assert_eq!(s, 413, "{page}");
    assert!(page.contains("The file is larger than 1 MB"), "{page}");
}

/// A monthly report PDF an admin downloads (on the report page, as of now), in English: the
/// month it reports.
async fn report_pdf(admin: &mut Browser, month: &str) -> Vec<u8> {
    let path = format!("/admin/reports/{month}/download?format=pdf&lang=en");
    let (s, _, pdf) = admin.get_bytes(&path).await;
    assert_eq!(s, 200, "{path}");
    pdf
}

/// Monthly reports are documents like any other: the PDF downloaded from the report page and
/// the one the monthly job stores each print a code of their own, which the public page
/// names as the month's report (and the edition: a later download supersedes it); the file
/// uploaded there or on the auditors' page is usefirst's, and the auditors' page opens the
/// month's report.
#[actix_web::test]
async fn monthly_report_pdfs_are_checked_like_agreements() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let month = usefirst::reports::model::previous_month(app.state.tz, app.state.clock.now());
    let month_text = month.to_string();

    let mut admin = Browser::signed_in(&app, &w.admin.email).await;
    let first = report_pdf(&mut admin, &month_text).await;
    let code = code_of(&first);
    let sha256 = hex::encode(Sha256::digest(&first));

    let mut visitor = Browser::new(&app);
    visitor.accept_language = "en";
    let (s, _, page) = visitor.get(&format!("/verify/{code}")).await;
    assert_eq!(s, 200, "{page}");
    for fact in [
        month_text.as_str(),
        "Monthly conversion report",
        "Month",
        "Edition",
        sha256.as_str(),
        "Latest: no later edition",
    ] {
        assert!(page.contains(fact), "{fact} missing:\n{page}");
    }
    // Seen again, the page is kept (`web::kept`): the next edition must still show at once.
    let (_, _, again) = visitor.get(&format!("/verify/{code}")).await;
    assert!(again.contains("Latest: no later edition"));
    assert!(app.state.kept_pages.bytes() > 0, "kept");

    // A second download, a minute later, is another edition with a code of its own: the
    // first is superseded.
    app.clock.advance(chrono::Duration::minutes(1));
    let second = report_pdf(&mut admin, &month_text).await;
    let second_code = code_of(&second);
    assert_ne!(second_code, code);
    let (_, _, page) = visitor.get(&format!("/verify/{code}")).await;
    assert!(
        page.contains("A later edition of this month&#x27;s report has been issued since (2 in this language now)"),
        "{page}"
    );
    let (_, _, page) = visitor.get(&format!("/verify/{second_code}")).await;
    assert!(page.contains("Latest: no later edition"), "{page}");

    // The first file uploaded on the public page: issued by usefirst, as that month's report.
    let csrf = visitor.csrf();
    let (s, _, page) = upload(&app, &visitor, "/verify", &csrf, &first).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("usefirst issued this file"), "{page}");
    assert!(
        page.contains(&sha256) && page.contains(&month_text),
        "{page}"
    );

    // The report the monthly job stores: its PDFs print their codes, recorded with the files.
    let stored = usefirst::app::reports::generate(&app.state, month).unwrap();
    let pdfs: Vec<_> = stored.files.iter().filter(|f| f.format == "pdf").collect();
    assert_eq!(pdfs.len(), 2, "{:?}", stored.files);
    for f in &stored.files {
        assert_eq!(f.verify_code.is_some(), f.format == "pdf", "{f:?}");
    }
    let en = pdfs.iter().find(|f| f.lang == "en").unwrap();
    let href = format!("/admin/reports/stored/{}/pdf/en", stored.id);
    let (s, _, stored_pdf) = admin.get_bytes(&href).await;
    assert_eq!(s, 200, "{href}");
    assert_eq!(hex::encode(Sha256::digest(&stored_pdf)), en.sha256);
    assert_eq!(Some(code_of(&stored_pdf)), en.verify_code);
    let (s, _, page) = visitor
        .get(&format!("/verify/{}", en.verify_code.as_deref().unwrap()))
        .await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains(&en.sha256) && page.contains("Edition"),
        "{page}"
    );

    // The auditors' page: issued, and the month's report to open.
    let mut auditor = Browser::signed_in(&app, &w.auditor.email).await;
    auditor.accept_language = "en";
    let (s, _, _) = auditor.get("/lang/en?back=/audit/documents").await;
    assert_eq!(s, 303);
    let csrf = auditor.csrf();
    let (s, _, page) = upload(&app, &auditor, "/audit/documents", &csrf, &stored_pdf).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("usefirst issued this file"), "{page}");
    assert!(
        page.contains(&format!("href=\"/admin/reports?month={month_text}\"")),
        "{page}"
    );
    assert!(
        page.contains(&format!("Open the report of {month_text}")),
        "{page}"
    );
}
