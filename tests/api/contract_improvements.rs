//! Who owns the improvements an SME makes during the trial: set with the conversion terms
//! (bad values refused naming `improvements.owner`, nothing saved), printed in the trial
//! agreement and the conversion contract in every language (read back from the PDFs), and
//! shown and edited on the pages.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{assert_field_error, id_of, lump_sum_terms, version_of, TestApp, World};
use crate::pdf_reader::Pdf;

/// The text of a PDF without any white space (Chinese lines wrap anywhere).
fn squeezed(pdf: &[u8]) -> String {
    squeeze(&Pdf::read(pdf).text())
}

/// `s` without any white space.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The lump-sum terms with `improvements` set as given.
fn terms_with(improvements: Value) -> Value {
    let mut terms = serde_json::to_value(lump_sum_terms()).unwrap();
    terms["improvements"] = improvements;
    terms
}

/// The versions of technology A's terms, newest first, as its institute reads them.
pub(crate) async fn terms_history(app: &TestApp, w: &World) -> Value {
    let (s, history) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}/terms", w.tech_a),
        )
        .await;
    assert_eq!(s, 200, "{history}");
    history
}

/// How many versions technology A's terms have.
pub(crate) async fn versions(app: &TestApp, w: &World) -> usize {
    terms_history(app, w).await.as_array().unwrap().len()
}

#[actix_web::test]
async fn improvements_are_checked_and_a_bad_value_saves_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let path = format!("/api/v1/technologies/{}/terms", w.tech_a);
    let before = versions(&app, &w).await;
    for bad in [
        json!({"owner": "vendor", "licence_back": true}),
        json!({"owner": "SME"}),
        json!({"owner": 1}),
        json!({"owner": null}),
        json!({"licence_back": true}),
    ] {
        let (s, p) = app
            .post(&w.inst_a.token, &path, terms_with(bad.clone()))
            .await;
        assert_eq!(s, 422, "{bad}: {p}");
        assert_field_error(&p, "improvements.owner");
    }
    let (s, p) = app
        .post(
            &w.inst_a.token,
            &path,
            terms_with(json!({"owner": "sme", "licence_back": "yes"})),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "improvements.licence_back");
    let (s, p) = app
        .post(
            &w.inst_a.token,
            &path,
            terms_with(json!({"owner": "sme", "exclusive": true})),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_field_error(&p, "improvements.exclusive");
    assert_eq!(versions(&app, &w).await, before, "a bad body saved terms");

    // A good one is kept as sent; without it, the terms have none (and say so as null).
    let (s, saved) = app
        .post(
            &w.inst_a.token,
            &path,
            terms_with(json!({"owner": "joint"})),
        )
        .await;
    assert_eq!(s, 201, "{saved}");
    assert_eq!(
        saved["terms"]["improvements"],
        json!({"owner": "joint", "licence_back": false})
    );
    let (s, saved) = app
        .post(&w.inst_a.token, &path, terms_with(Value::Null))
        .await;
    assert_eq!(s, 201, "{saved}");
    assert_eq!(saved["terms"]["improvements"], Value::Null);
    assert_eq!(versions(&app, &w).await, before + 2);
}

#[actix_web::test]
async fn the_rule_is_printed_in_the_trial_agreement_and_the_contract_in_each_language() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let (s, p) = app
        .post(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}/terms", w.tech_a),
            terms_with(json!({"owner": "institute", "licence_back": true})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);
    let doc =
        |kind: &str, lang: &str| format!("/api/v1/agreements/{id}/documents/{kind}?lang={lang}");
    // The owner's clause and the licence back, as each language's document words them.
    let trial = [
        (
            "vi",
            [
                "Điều 10. Cải tiến công nghệ",
                "trong thời gian dùng thử thuộc quyền sở hữu của Bên A",
                "Bên A cấp cho Bên B quyền sử dụng không độc quyền, không thu phí",
            ],
        ),
        (
            "en",
            [
                "Article 10. Improvements",
                "during the trial belongs to Party A",
                "Party A grants Party B a non-exclusive, royalty-free licence",
            ],
        ),
        (
            "zh",
            [
                "第十条 技术改进",
                "乙方在试用期间对本技术所作的改进归甲方所有",
                "甲方授予乙方非独占、免费的许可",
            ],
        ),
    ];
    for (lang, words) in trial {
        let (s, _, pdf) = app
            .get_bytes(&w.sme_a.token, &doc("trial-agreement", lang))
            .await;
        assert_eq!(s, 200, "{lang}");
        let text = squeezed(&pdf);
        for w in words {
            assert!(text.contains(&squeeze(w)), "trial-agreement.{lang}: {w}");
        }
        // Not the words of another owner.
        for other in [
            "thuộc quyền sở hữu của Bên B",
            "belongs to Party B",
            "归乙方所有",
        ] {
            assert!(!text.contains(&squeeze(other)), "{lang}: {other}");
        }
    }

    // Converted: the contract says the same, for the term of the contract.
    app.pass_days(2);
    let (_, now) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(now["status"], "active", "{now}");
    let (s, converted) = app
        .act(&w.sme_a.token, &id, "convert", version_of(&now), json!({}))
        .await;
    assert_eq!(s, 200, "{converted}");
    let contract = [
        (
            "vi",
            [
                "Điều 9. Cải tiến công nghệ",
                "trong quá trình thực hiện hợp đồng này thuộc quyền sở hữu của Bên A",
                "tại địa điểm chuyển giao trong thời hạn của hợp đồng",
            ],
        ),
        (
            "en",
            [
                "Article 9. Improvements",
                "under this contract, belongs to Party A",
                "at the place of transfer for the term of this contract",
            ],
        ),
        (
            "zh",
            [
                "第九条 技术改进",
                "履行本合同期间对本技术所作的改进归甲方所有",
                "在合同期限内于转让地点使用该改进",
            ],
        ),
    ];
    for (lang, words) in contract {
        let (s, _, pdf) = app
            .get_bytes(&w.inst_a.token, &doc("conversion-contract", lang))
            .await;
        assert_eq!(s, 200, "{lang}");
        let text = squeezed(&pdf);
        for w in words {
            assert!(
                text.contains(&squeeze(w)),
                "conversion-contract.{lang}: {w}"
            );
        }
        // The place of transfer is the agreement's place of use.
        assert!(text.contains(&squeeze("Nhà máy Cao Lãnh")), "{lang}");
    }
}

#[actix_web::test]
async fn the_institute_sets_the_rule_on_the_terms_page_and_the_sme_reads_it_in_the_catalogue() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = Browser::signed_in(&app, &w.inst_a.email).await;
    let terms = format!("/technologies/{}/terms", w.tech_a);
    let (s, _, page) = b.get(&terms).await;
    assert_eq!(s, 200);
    assert!(page.contains("name=\"improvements_owner\""), "{page}");
    let csrf = b.csrf();
    let csrf = csrf.as_str();
    let form = |owner: &'static str, back: &'static str| {
        [
            ("csrf", csrf),
            ("trial_days", "90"),
            ("decision_days", "30"),
            ("currency", "VND"),
            ("model", "lump_sum"),
            ("lump_amount", "150000000"),
            ("lump_due_days", "30"),
            ("improvements_owner", owner),
            ("improvements_licence_back", back),
        ]
    };
    // A licence back with no owner: refused beside the box, what was chosen kept.
    let (s, _, page) = b.post(&terms, &form("none", "yes")).await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("id=\"improvements_licence_back-error\">Hãy chọn bên sở hữu trước"),
        "{page}"
    );
    assert!(page.contains("value=\"yes\" checked"), "{page}");
    let (s, _, page) = b.post(&terms, &form("vendor", "")).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"improvements_owner-error\""), "{page}");
    assert_eq!(versions(&app, &w).await, 1, "a bad form saved terms");

    let (s, _, page) = b.post(&terms, &form("sme", "yes")).await;
    assert_eq!(s, 303, "{page}");
    let (_, history) = app
        .get(
            &w.inst_a.token,
            &format!("/api/v1/technologies/{}/terms", w.tech_a),
        )
        .await;
    assert_eq!(
        history[0]["terms"]["improvements"],
        json!({"owner": "sme", "licence_back": true})
    );
    // The form starts from the version in force; the comparison shows the change.
    let (_, _, page) = b.get(&terms).await;
    assert!(page.contains("<option value=\"sme\" selected>"), "{page}");
    let (s, _, page) = b.get(&format!("{terms}/compare?a=1&b=2")).await;
    assert_eq!(s, 200);
    let row = page
        .split("<tr")
        .find(|r| r.contains(">Bên sở hữu cải tiến</th>"))
        .unwrap_or_else(|| panic!("no improvements row in {page}"));
    assert!(row.contains("Không quy định (thuộc bên tạo ra)"), "{row}");
    assert!(row.contains("Doanh nghiệp"), "{row}");

    // The SME reads it in plain words on the catalogue page, in both languages.
    let mut sme = Browser::signed_in(&app, &w.sme_a.email).await;
    let (s, _, page) = sme.get(&format!("/catalogue/{}", w.tech_a)).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Cải tiến doanh nghiệp tạo ra trong thời gian dùng thử thuộc về doanh nghiệp; viện được sử dụng miễn phí"),
        "{page}"
    );
    sme.language("en").await;
    let (_, _, page) = sme.get(&format!("/catalogue/{}", w.tech_a)).await;
    assert!(
        page.contains("Improvements the enterprise makes during the trial belong to the enterprise; the institute may use them free of charge"),
        "{page}"
    );
}
