//! Form 01 (the registration application of Decree 76/2018) read back: pre-filled with the
//! parties, the technology, the contract's date and price, labelled blanks for the rest,
//! identified by its hash and by the code it prints; refused (409) for a contract that need
//! not be registered in Vietnam, and 404 to another organisation.

use serde_json::json;

use crate::helpers::*;
use crate::pdf_reader::Pdf;
use crate::registration_contracts::{converted_on_terms, lump, state_funded};

#[actix_web::test]
async fn form_01_is_filled_in_and_identified() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = state_funded(&app, &w).await;
    let path = format!("/api/v1/agreements/{id}/registration/form-01.pdf");
    let (s, headers, pdf) = app.get_bytes(&w.sme_a.token, &path).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers["content-type"], "application/pdf");
    let words = Pdf::read(&pdf).words();
    let (_, a) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    for expected in [
        "ĐƠN ĐỀ NGHỊ ĐĂNG KÝ CHUYỂN GIAO CÔNG NGHỆ",
        "Mẫu số 01 Phụ lục IV",
        "Nghị định số 76/2018/NĐ-CP",
        "Công nghệ R",
        "ký ngày 03/03/2026",
        "150.000.000",
        "Người đại diện theo pháp luật: ……",
        "Thời hạn chuyển giao: ……",
        "Nhà máy Cao Lãnh",
        a["number"].as_str().unwrap(),
    ] {
        assert!(words.contains(expected), "{expected} in {words}");
    }
    for party in ["sme_a", "inst_a"] {
        let (_, org) = app
            .get(
                &w.admin.token,
                &format!(
                    "/api/v1/organisations/{}",
                    w.all().iter().find(|(n, _)| *n == party).unwrap().1.org
                ),
            )
            .await;
        let name = org["name"].as_str().unwrap_or_default();
        assert!(
            !name.is_empty() && words.contains(name),
            "{party}: {org} in {words}"
        );
    }
    // The same bytes again, and known by their hash.
    let (_, again, pdf2) = app.get_bytes(&w.inst_a.token, &path).await;
    assert_eq!(pdf2, pdf);
    assert_eq!(again["x-document-sha256"], headers["x-document-sha256"]);
    let res = app
        .client
        .post(app.url("/api/v1/documents/verify"))
        .bearer_auth(&w.auditor.token)
        .header("content-type", "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    let (s, found) = read(res).await;
    assert_eq!(s, 200, "{found}");
    assert_eq!(
        (
            found["kind"].as_str(),
            found["lang"].as_str(),
            found["agreement_id"].as_str()
        ),
        (
            Some("registration-application"),
            Some("vi"),
            Some(id.as_str())
        )
    );
    assert!(
        words.contains("/verify/"),
        "the printed verification link: {words}"
    );
    // Another organisation: 404. A contract that need not be registered: 409.
    let (s, _, _) = app.get_bytes(&w.sme_b.token, &path).await;
    assert_eq!(s, 404);
    let plain = converted_on_terms(&app, &w, lump("VND", "1000000", json!({}))).await;
    let (s, _, _) = app
        .get_bytes(
            &w.inst_a.token,
            &format!("/api/v1/agreements/{plain}/registration/form-01.pdf"),
        )
        .await;
    assert_eq!(s, 409);
}
