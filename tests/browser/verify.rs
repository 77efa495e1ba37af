//! A visitor with no account checks a document: the SME's downloaded PDF carries a QR code,
//! which the walk reads from the file as a phone would and opens; the page names the
//! document; the visitor uploads the PDF (usefirst's), then a copy changed in one byte (not
//! usefirst's), and mistypes a code; an auditor checks the same file on their page. Every
//! page looked at in Vietnamese and English, at both widths.

use crate::driver::{browse, Browser};
use crate::helpers::{id_of, TestApp, PASSWORD};
use crate::steps::*;

#[path = "../support/qr_reader.rs"]
mod qr_reader;

/// The trial agreement in Vietnamese, as the SME downloads it from the agreement's page.
async fn downloaded_pdf(app: &TestApp, email: &str, id: &str) -> Vec<u8> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(app.url("/sign-in")).send().await.unwrap();
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("uf_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string();
    let signed = client
        .post(app.url("/sign-in"))
        .header("Cookie", format!("uf_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    let session = signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("uf_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string();
    let pdf = client
        .get(app.url(&format!("/agreements/{id}/documents/trial-agreement/vi")))
        .header("Cookie", format!("uf_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    pdf.bytes().await.unwrap().to_vec()
}

/// Chooses `file` in the file field labelled `label` and presses `button`.
async fn upload(b: &Browser, label: &str, file: &std::path::Path, button: &str) {
    control(b, label)
        .await
        .send_keys(&file.to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("choose {} in {label:?}: {e}", file.display()));
    submit(b, button).await;
}

#[actix_web::test]
async fn a_visitor_scans_a_document_and_uploads_it() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let number = a["number"].as_str().unwrap().to_string();
    let pdf = downloaded_pdf(&app, &w.sme_a.email, &id_of(&a)).await;

    // The QR code, read from the file: the link to the page, under the configured address.
    let link = qr_reader::first_page_qr(&pdf).expect("the document has a QR code");
    let code = link
        .split_once("/verify/")
        .expect("a link to /verify/")
        .1
        .to_string();
    let scanned = format!("/verify/{code}");

    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join(format!("{number}.pdf"));
    std::fs::write(&original, &pdf).unwrap();
    let mut bytes = pdf.clone();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    let changed = dir.path().join(format!("{number}-changed.pdf"));
    std::fs::write(&changed, &bytes).unwrap();
    let auditor = w.auditor.email.clone();

    browse(&app, "vi", move |b| async move {
        // Scanned: the document's page, with no sign-in.
        open(&b, &scanned).await;
        expect_page(&b, "vi", &word("vi", "verify.title", &[])).await;
        expect_text(&b, &number).await;
        expect_text(&b, &word("vi", "verify.kind.trial-agreement", &[])).await;
        expect_text(&b, &word("vi", "verify.current", &[])).await;
        let shown = main_text(&b).await;
        for personal in ["Tổ chức", "Người dùng", "@example.vn", "₫"] {
            assert!(
                !shown.contains(personal),
                "{personal} on the page:\n{shown}"
            );
        }
        look(&b, "verify-code").await;

        // The file itself.
        upload(
            &b,
            &word("vi", "verify.upload.label", &[]),
            &original,
            &word("vi", "verify.upload.submit", &[]),
        )
        .await;
        expect_text(&b, &word("vi", "verify.file.issued", &[])).await;
        expect_text(&b, &number).await;
        look(&b, "verify-file-issued").await;

        // One byte changed.
        upload(
            &b,
            &word("vi", "verify.upload.label", &[]),
            &changed,
            &word("vi", "verify.upload.submit", &[]),
        )
        .await;
        expect_text(&b, &word("vi", "verify.file.not_issued", &[])).await;
        look(&b, "verify-file-not-issued").await;

        // In English: the code typed as printed, with a mistake first.
        switch_language(&b, "en").await;
        fill(
            &b,
            &word("en", "verify.code.label", &[]),
            "7K3M-0QRS-1TVW-9XYZ-2AB4",
        )
        .await;
        submit(&b, &word("en", "verify.code.submit", &[])).await;
        expect_text(&b, &word("en", "verify.unknown", &[])).await;
        look(&b, "verify-unknown").await;
        let printed: Vec<String> = code
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).to_lowercase())
            .collect();
        fill(
            &b,
            &word("en", "verify.code.label", &[]),
            &printed.join("-"),
        )
        .await;
        submit(&b, &word("en", "verify.code.submit", &[])).await;
        expect_page(&b, "en", "Check a usefirst document").await;
        expect_text(&b, &word("en", "verify.current", &[])).await;
        look(&b, "verify-code").await;

        // An auditor checks the same file on their page and opens the agreement.
        sign_in(&b, &auditor).await;
        let l = lang(&b).await;
        follow(&b, &word(&l, "verify.nav", &[])).await;
        arrive(&b, "/audit/documents").await;
        expect_page(&b, &l, &word(&l, "verify.audit.title", &[])).await;
        upload(
            &b,
            &word(&l, "verify.upload.label", &[]),
            &original,
            &word(&l, "verify.upload.submit", &[]),
        )
        .await;
        expect_text(&b, &word(&l, "verify.file.issued", &[])).await;
        look(&b, "verify-audit").await;
        follow(&b, &word(&l, "verify.audit.open", &[("number", &number)])).await;
        expect_text(&b, &number).await;
    })
    .await;
}
