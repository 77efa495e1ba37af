//! The insurer's pages, as a browser sees them: only the trials it covers (another insurer's
//! agreement, claim or product is the 404 page), the filters of the list, the payout shown
//! before approving a claim being the settlement rule's figure and the one approved (and a
//! payout changed meanwhile asked again), rejecting without a reason and paying without a
//! reference set again with the message beside the field, a product's revision as a new
//! version with both side by side, and every page read for people's names and addresses.

use reqwest::header::LOCATION;
use serde_json::{json, Value};
use usefirst::settlement::insurance::payout;
use usefirst::settlement::money::Currency;

use crate::browser::Browser;
use crate::helpers::*;

/// The page's text as a person reads it (the templates escape quotes).
fn text(page: &str) -> String {
    page.replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn browser(app: &TestApp, user: &User) -> Browser {
    let mut b = Browser::new(app);
    let (s, _, page) = b.sign_in(&user.email, PASSWORD).await;
    assert_eq!(s, 303, "{page}");
    b
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

fn usd(minor: i64) -> String {
    usefirst::typeset::format::money(Currency::parse("USD").unwrap(), minor)
}

fn minor(amount: &Value) -> i64 {
    Currency::parse("USD")
        .unwrap()
        .parse_amount(amount.as_str().unwrap())
        .unwrap()
}

/// sme_b's trial of tech_b insured by insurer A's product (cover 10,000.00, deductible
/// 500.00), running: its id.
async fn running_trial(app: &TestApp, w: &World) -> String {
    let id = id_of(&app.signed_insured(w, &w.sme_b, "2026-03-10").await);
    app.pass_days(8);
    id
}

/// sme_b files an implementation-failure claim of `amount` on agreement `id`: the claim.
async fn file_claim(app: &TestApp, w: &World, id: &str, amount: &str) -> Value {
    let (s, claim) = app
        .post(
            &w.sme_b.token,
            "/api/v1/claims",
            json!({"agreement_id": id, "risk": "implementation_failure", "amount": amount,
                   "reason": "Dây chuyền không đạt công suất", "evidence": "Biên bản ngày 02/04/2026"}),
        )
        .await;
    assert_eq!(s, 201, "{claim}");
    claim
}

async fn claim_json(app: &TestApp, w: &World, id: &str) -> Value {
    let (s, c) = app
        .get(&w.insurer_a.token, &format!("/api/v1/claims/{id}"))
        .await;
    assert_eq!(s, 200, "{c}");
    c
}

async fn policy_of(app: &TestApp, w: &World, agreement: &str) -> Value {
    let (s, policies) = app
        .get(
            &w.insurer_a.token,
            &format!("/api/v1/insurance/policies?agreement_id={agreement}"),
        )
        .await;
    assert_eq!(s, 200, "{policies}");
    policies["items"][0].clone()
}

#[actix_web::test]
async fn an_insurer_sees_only_the_trials_it_covers() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // An agreement insurer A does not cover.
    let other = id_of(&app.signed_agreement(&w).await);
    let id = running_trial(&app, &w).await;
    let number = {
        let (_, a) = app
            .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
            .await;
        a["number"].as_str().unwrap().to_string()
    };
    let claim = file_claim(&app, &w, &id, "1200.00").await;
    let claim_id = claim["id"].as_str().unwrap();

    let mut ins = browser(&app, &w.insurer_a).await;
    let (s, _, page) = ins.get("/insurer/trials").await;
    assert_eq!(s, 200, "{page}");
    let page = text(&page);
    assert!(page.contains(&number), "{page}");
    assert!(page.contains(&format!("/insurer/agreements/{id}")));
    assert!(!page.contains(&format!("/insurer/agreements/{other}")));
    assert!(
        page.contains("Tổ chức sme_b") && page.contains("Tổ chức inst_b"),
        "{page}"
    );
    // The filters: each narrows the list, the choices are what it covers.
    assert!(page.contains(&format!("<option value=\"{}\"", w.inst_b.org)));
    assert!(!page.contains(&format!("<option value=\"{}\"", w.inst_a.org)));
    let inst_b = format!("institute={}", w.inst_b.org);
    let inst_a = format!("institute={}", w.inst_a.org);
    for (query, shown) in [
        ("status=active", true),
        ("status=converted", false),
        ("risk=implementation_failure", true),
        ("province=Bình Dương", true),
        ("province=Đồng Tháp", false),
        (inst_b.as_str(), true),
        (inst_a.as_str(), false),
    ] {
        let query = query.replace(' ', "+");
        let (s, _, page) = ins.get(&format!("/insurer/trials?{query}")).await;
        assert_eq!(s, 200, "{query}: {page}");
        assert_eq!(page.contains(&number), shown, "{query}: {page}");
        // The filter chosen stays chosen on the answer when it is one of the choices (an
        // institute or province it does not cover is not offered, and its list then shows none).
        let (name, value) = query.split_once('=').unwrap();
        let value = value.replace('+', " ");
        let offered = shown || name == "status" || name == "risk";
        assert_eq!(
            page.contains(&format!("<option value=\"{value}\" selected>")),
            offered,
            "{query}: {page}"
        );
        let chosen = if offered { 4 } else { 3 };
        assert_eq!(page.matches(" selected>").count(), chosen, "{name}: {page}");
    }
    let (s, _, page) = ins.get(&format!("/insurer/agreements/{id}")).await;
    assert_eq!(s, 200, "{page}");
    assert!(text(&page).contains(&number));
    // The parties' insurance tab shows the insurer the same page.
    let (s, _, tab) = ins.get(&format!("/agreements/{id}/cover")).await;
    assert_eq!(s, 200);
    assert!(
        tab.contains(&format!("Bảo hiểm của thỏa thuận {number}"))
            && tab.contains("/insurer/claims/"),
        "{tab}"
    );
    // Not its agreement: the 404 page, as for the other insurer on its agreement and claim.
    let (s, _, _) = ins.get(&format!("/insurer/agreements/{other}")).await;
    assert_eq!(s, 404);
    let mut ins_b = browser(&app, &w.insurer_b).await;
    let (s, _, page) = ins_b.get("/insurer/trials").await;
    assert_eq!(s, 200);
    assert!(!page.contains(&number), "{page}");
    for path in [
        format!("/insurer/agreements/{id}"),
        format!("/insurer/claims/{claim_id}"),
        format!("/insurer/claims/{claim_id}/approve"),
        format!("/insurer/products/{}", w.product_a),
    ] {
        let (s, _, page) = ins_b.get(&path).await;
        assert_eq!(s, 404, "{path}: {page}");
        assert!(page.contains("<html lang=\"vi\">"), "a page, not JSON");
    }
    let (_, _, page) = ins_b.get("/insurer/claims").await;
    assert!(!page.contains(claim_id), "{page}");
    let (s, _, _) = ins_b
        .post(
            &format!("/insurer/claims/{claim_id}/approve"),
            &[
                ("csrf", &ins_b.csrf()),
                ("version", "1"),
                ("payout", "70000"),
            ],
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(claim_json(&app, &w, claim_id).await["status"], "filed");
    // The parties do not have the insurer's pages.
    let mut sme = browser(&app, &w.sme_b).await;
    for path in ["/insurer/trials", "/insurer/claims", "/insurer/products"] {
        let (s, _, _) = sme.get(path).await;
        assert_eq!(s, 404, "{path}");
    }
}

/// Posts the confirmation of claim `cid` at `version` for a payout of `pay`.
async fn approve(b: &mut Browser, cid: &str, version: &str, pay: i64) -> (u16, String) {
    let csrf = b.csrf();
    let pay = pay.to_string();
    let (s, _, page) = b
        .post(
            &format!("/insurer/claims/{cid}/approve"),
            &[("csrf", &csrf), ("version", version), ("payout", &pay)],
        )
        .await;
    (s, page)
}

#[actix_web::test]
async fn the_payout_shown_before_approving_is_the_rules_figure_and_the_one_approved() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = running_trial(&app, &w).await;
    let policy = policy_of(&app, &w, &id).await;
    let (coverage, deductible) = (policy["coverage_minor"].as_i64().unwrap(), 50_000);
    assert_eq!(minor(&policy["deductible"]), deductible);
    let first = file_claim(&app, &w, &id, "1200.00").await;
    let first_id = first["id"].as_str().unwrap();
    let mut ins = browser(&app, &w.insurer_a).await;

    // The inbox lists it as waiting; its page says what approving pays.
    let (s, _, page) = ins.get("/insurer/claims?status=filed").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(first["number"].as_str().unwrap()), "{page}");
    let expected = payout(120_000, coverage, deductible, 0).unwrap();
    assert_eq!(expected, 70_000);
    let (s, _, page) = ins.get(&format!("/insurer/claims/{first_id}")).await;
    assert_eq!(s, 200, "{page}");
    assert!(text(&page).contains(&usd(expected)), "{page}");

    // The confirmation: how the rule reaches the payout, then the payout itself.
    for lang in ["en", "vi"] {
        let path = format!("/insurer/claims/{first_id}/approve");
        ins.get(&format!("/lang/{lang}?back={path}")).await;
        let (s, _, page) = ins.get(&path).await;
        assert_eq!(s, 200, "{page}");
        let page = text(&page);
        for figure in [120_000, coverage, deductible, expected] {
            assert!(page.contains(&usd(figure)), "{lang} {figure}: {page}");
        }
        assert!(page.contains(&format!("<strong id=\"payout\">{}</strong>", usd(expected))));
        assert_eq!(field(&page, "payout"), expected.to_string());
    }
    let (_, _, page) = ins
        .get(&format!("/insurer/claims/{first_id}/approve"))
        .await;
    let (s, h, page) = ins
        .post(
            &format!("/insurer/claims/{first_id}/approve"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &field(&page, "version")),
                ("payout", &field(&page, "payout")),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(s, 303, "{page}");
    assert_eq!(
        h[LOCATION],
        format!("/insurer/claims/{first_id}?done=approved").as_str()
    );
    let approved = claim_json(&app, &w, first_id).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["payout_minor"], expected);

    // Two more claims of the whole cover: each is shown what the first left.
    let second = file_claim(&app, &w, &id, "10000.00").await;
    let third = file_claim(&app, &w, &id, "10000.00").await;
    let left = payout(1_000_000, coverage, deductible, expected).unwrap();
    assert_eq!(left, coverage - expected, "limited by the cover left");
    let mut shown = Vec::new();
    for c in [&second, &third] {
        let cid = c["id"].as_str().unwrap();
        let (s, _, page) = ins.get(&format!("/insurer/claims/{cid}/approve")).await;
        assert_eq!(s, 200, "{page}");
        assert!(text(&page).contains(&usd(left)), "{page}");
        assert_eq!(field(&page, "payout"), left.to_string());
        shown.push((cid.to_string(), field(&page, "version")));
    }
    let (s, _) = approve(&mut ins, &shown[0].0, &shown[0].1, left).await;
    assert_eq!(s, 303);
    // The third was shown a payout the second has since used up: asked again, with the
    // payout now, and nothing approved.
    let (s, page) = approve(&mut ins, &shown[1].0, &shown[1].1, left).await;
    assert_eq!(s, 409, "{page}");
    let now = payout(1_000_000, coverage, deductible, expected + left).unwrap();
    assert_eq!(now, 0);
    assert_eq!(field(&page, "payout"), "0");
    assert!(page.contains("role=\"alert\""), "{page}");
    assert_eq!(claim_json(&app, &w, &shown[1].0).await["status"], "filed");
    // A payout that was never shown is not approved either.
    let (s, _) = approve(&mut ins, &shown[1].0, &shown[1].1, 1).await;
    assert_eq!(s, 409);
    assert_eq!(claim_json(&app, &w, &shown[1].0).await["status"], "filed");
}

#[actix_web::test]
async fn rejecting_needs_a_reason_and_paying_a_reference() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = running_trial(&app, &w).await;
    let to_reject = file_claim(&app, &w, &id, "800.00").await;
    let to_pay = file_claim(&app, &w, &id, "1200.00").await;
    let mut ins = browser(&app, &w.insurer_a).await;

    // Reject without a reason: the page again, 422, the message beside the field.
    let rid = to_reject["id"].as_str().unwrap();
    let (_, _, page) = ins.get(&format!("/insurer/claims/{rid}")).await;
    let version = field(&page, "version");
    let (s, _, page) = ins
        .post(
            &format!("/insurer/claims/{rid}/reject"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &version),
                ("reason", "  "),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("id=\"reject-reason-error\"") && page.contains("aria-invalid=\"true\""),
        "{page}"
    );
    assert!(page.contains("Hãy ghi lý do từ chối yêu cầu."), "{page}");
    assert_eq!(claim_json(&app, &w, rid).await["status"], "filed");
    let (s, h, _) = ins
        .post(
            &format!("/insurer/claims/{rid}/reject"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &version),
                ("reason", "Sự cố do vận hành sai quy trình"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(
        h[LOCATION],
        format!("/insurer/claims/{rid}?done=rejected").as_str()
    );
    let rejected = claim_json(&app, &w, rid).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        rejected["decision_reason"],
        "Sự cố do vận hành sai quy trình"
    );
    // The same form again is stale: the 412 page.
    let (s, _, _) = ins
        .post(
            &format!("/insurer/claims/{rid}/reject"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &version),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(s, 412);

    // Approve the other, then record its payment: a reference is asked for.
    let pid = to_pay["id"].as_str().unwrap();
    let (_, _, page) = ins.get(&format!("/insurer/claims/{pid}/approve")).await;
    let (s, _, _) = ins
        .post(
            &format!("/insurer/claims/{pid}/approve"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &field(&page, "version")),
                ("payout", &field(&page, "payout")),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, _, page) = ins.get(&format!("/insurer/claims/{pid}")).await;
    assert!(page.contains("Ghi nhận chi trả"), "{page}");
    let version = field(&page, "version");
    let (s, _, page) = ins
        .post(
            &format!("/insurer/claims/{pid}/pay"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &version),
                ("reference", ""),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"pay-reference-error\""), "{page}");
    assert_eq!(claim_json(&app, &w, pid).await["status"], "approved");
    let (s, _, _) = ins
        .post(
            &format!("/insurer/claims/{pid}/pay"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &version),
                ("reference", "UNC-2026-0042"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let paid = claim_json(&app, &w, pid).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment_reference"], "UNC-2026-0042");
    let (_, _, page) = ins.get(&format!("/insurer/claims/{pid}?done=paid")).await;
    assert!(
        page.contains("UNC-2026-0042") && page.contains("Đã ghi nhận khoản chi trả."),
        "{page}"
    );
    // The agreement's page: the cover left after the payout, what happened with the
    // reference, the claims linked to their pages.
    let (_, _, page) = ins.get(&format!("/insurer/agreements/{id}")).await;
    let page = text(&page);
    let left = 1_000_000 - paid["payout_minor"].as_i64().unwrap();
    assert!(page.contains(&usd(left)), "{page}");
    assert!(page.contains("Mã thanh toán: UNC-2026-0042"), "{page}");
    assert!(page.contains(&format!("/insurer/claims/{pid}")));
    // Paid is final: no form, and posting one is the conflict page.
    let (s, _, _) = ins
        .post(
            &format!("/insurer/claims/{pid}/pay"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &paid["version"].to_string()),
                ("reference", "again"),
            ],
        )
        .await;
    assert_eq!(s, 409);
}

#[actix_web::test]
async fn revising_a_product_makes_a_new_version_and_the_compare_shows_both() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let mut ins = browser(&app, &w.insurer_a).await;
    let (s, _, page) = ins.get("/insurer/products/new").await;
    assert_eq!(s, 200, "{page}");
    let csrf = ins.csrf();
    let form = |rate: &'static str, sme: &'static str| -> Vec<(&'static str, String)> {
        [
            ("name_vi", "Bảo hiểm chuyển giao"),
            ("name_en", "Transfer cover"),
            ("risk_non_payment", "1"),
            ("currency", "VND"),
            ("premium_rate", rate),
            ("max_coverage", "500000000"),
            ("deductible", "5000000"),
            ("shares_sme", sme),
            ("shares_institute", "20"),
            ("shares_subsidy", "50"),
            ("subsidy_cap", ""),
            ("active_from", "2026-01-01"),
            ("active_until", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .chain([("csrf", csrf.clone())])
        .collect()
    };
    async fn send(
        b: &mut Browser,
        path: &str,
        f: &[(&'static str, String)],
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post(path, &pairs).await
    }
    // A rate that is no number and shares that do not add up: the form again, what was
    // typed kept, each message beside its field.
    let (s, _, page) = send(
        &mut ins,
        "/insurer/products/new",
        &form("một phẩy năm", "40"),
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"premium_rate-error\""), "{page}");
    assert!(page.contains("value=\"một phẩy năm\""), "{page}");
    let (s, _, page) = send(&mut ins, "/insurer/products/new", &form("1,5", "40")).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"shares-error\""), "{page}");
    let (s, h, page) = send(&mut ins, "/insurer/products/new", &form("1,5", "30")).await;
    assert_eq!(s, 303, "{page}");
    let to = h[LOCATION].to_str().unwrap().to_string();
    assert!(to.ends_with("?saved=1"), "{to}");
    let pid = to
        .trim_start_matches("/insurer/products/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (s, product) = app
        .get(
            &w.insurer_a.token,
            &format!("/api/v1/insurance/products/{pid}"),
        )
        .await;
    assert_eq!(s, 200, "{product}");
    assert_eq!(product["premium_rate"], "0.015");
    assert_eq!(product["shares"]["sme"], "0.3");
    assert_eq!(product["risks"], json!(["non_payment"]));

    // The change: the form holds the current version, saving writes version 2.
    let (s, _, page) = ins.get(&format!("/insurer/products/{pid}/edit")).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(field(&page, "premium_rate"), "1,5");
    assert_eq!(field(&page, "version"), "1");
    let mut change = form("2", "30");
    change.push(("version", "1".to_string()));
    let edit = format!("/insurer/products/{pid}/edit");
    let (s, h, page) = send(&mut ins, &edit, &change).await;
    assert_eq!(s, 303, "{page}");
    assert!(h[LOCATION].to_str().unwrap().ends_with("?saved=2"));
    let (_, v1) = app
        .get(
            &w.insurer_a.token,
            &format!("/api/v1/insurance/products/{pid}?version=1"),
        )
        .await;
    let (_, v2) = app
        .get(
            &w.insurer_a.token,
            &format!("/api/v1/insurance/products/{pid}"),
        )
        .await;
    assert_eq!(
        (v1["premium_rate"].as_str(), v2["premium_rate"].as_str()),
        (Some("0.015"), Some("0.02"))
    );
    assert_eq!(v2["version"], 2);
    // The same form again is stale.
    let (s, _, _) = send(&mut ins, &edit, &change).await;
    assert_eq!(s, 412);

    // The history lists both; the side-by-side shows both rates, the rate marked changed.
    let (_, _, page) = ins.get(&format!("/insurer/products/{pid}?saved=2")).await;
    assert!(
        page.contains("Phiên bản 1")
            && page.contains("Phiên bản 2")
            && page.contains("Đã lưu thành phiên bản 2."),
        "{page}"
    );
    for (lang, one, two, changed) in [
        ("vi", "1,5%", "2%", "Đã thay đổi"),
        ("en", "1.5%", "2%", "Changed"),
    ] {
        let path = format!("/insurer/products/{pid}/compare?a=1&b=2");
        ins.get(&format!("/lang/{lang}?back=/")).await;
        let (s, _, page) = ins.get(&path).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains(one) && page.contains(two), "{lang}: {page}");
        assert_eq!(
            page.matches(changed).count(),
            1,
            "{lang}: only the rate: {page}"
        );
    }
    let (s, _, _) = ins
        .get(&format!("/insurer/products/{pid}/compare?a=1&b=9"))
        .await;
    assert_eq!(s, 404);
    // The list shows the current version.
    let (_, _, page) = ins.get("/insurer/products").await;
    assert!(
        page.contains("Transfer cover") && page.contains("Version 2"),
        "{page}"
    );
}

#[actix_web::test]
async fn no_page_of_the_insurer_names_a_person() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = running_trial(&app, &w).await;
    let one = file_claim(&app, &w, &id, "1200.00").await;
    let two = file_claim(&app, &w, &id, "800.00").await;
    let (one, two) = (one["id"].as_str().unwrap(), two["id"].as_str().unwrap());
    let mut ins = browser(&app, &w.insurer_a).await;
    // One claim approved and paid, so every kind of event is in the history.
    let (_, _, page) = ins.get(&format!("/insurer/claims/{one}/approve")).await;
    let (s, _, _) = ins
        .post(
            &format!("/insurer/claims/{one}/approve"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &field(&page, "version")),
                ("payout", &field(&page, "payout")),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, _, page) = ins.get(&format!("/insurer/claims/{one}")).await;
    let (s, _, _) = ins
        .post(
            &format!("/insurer/claims/{one}/pay"),
            &[
                ("csrf", &ins.csrf()),
                ("version", &field(&page, "version")),
                ("reference", "UNC-1"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let product = w.product_a.clone();
    let pages = [
        "/home".to_string(),
        "/insurer/trials".into(),
        format!("/insurer/agreements/{id}"),
        "/insurer/claims".into(),
        format!("/insurer/claims/{one}"),
        format!("/insurer/claims/{two}"),
        format!("/insurer/claims/{two}/approve"),
        "/insurer/products".into(),
        format!("/insurer/products/{product}"),
        format!("/insurer/products/{product}/edit"),
        format!("/insurer/products/{product}/compare?a=1&b=1"),
    ];
    // Everyone else's people: their names and their own addresses.
    let people: Vec<(String, String)> = w
        .all()
        .into_iter()
        .filter(|(label, _)| *label != "insurer_a")
        .map(|(label, u)| (format!("Người dùng {label}"), u.email.clone()))
        .collect();
    for lang in ["vi", "en"] {
        ins.get(&format!("/lang/{lang}?back=/")).await;
        for path in &pages {
            let (s, _, page) = ins.get(path).await;
            assert_eq!(s, 200, "{path}: {page}");
            assert!(page.contains(&format!("<html lang=\"{lang}\">")));
            let page = text(&page);
            for (name, email) in &people {
                assert!(!page.contains(name.as_str()), "{path} names {name}");
                assert!(!page.contains(email.as_str()), "{path} shows {email}");
            }
            // The organisations are what it sees.
            if path.contains("/agreements/") {
                assert!(
                    page.contains("Tổ chức sme_b") && page.contains("contact.sme_b@example.vn")
                );
            }
        }
    }
    // The home shows the premium written this month.
    let (_, _, page) = ins.get("/home").await;
    assert!(text(&page).contains(&usd(15_000)), "{page}");
    // Its four charts, drawn on the server, each named for a screen reader.
    assert_eq!(page.matches("<svg").count(), 4, "{page}");
    assert_eq!(page.matches("role=\"img\"").count(), 4, "{page}");
    assert!(page.contains("Loss ratio at month end (USD)"), "{page}");
}
