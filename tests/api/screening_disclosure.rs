//! The public disclosure of agreed conversion prices, from conversions made through the API:
//! a (sector, year, currency) cell shows its count, median and range from three agreements
//! on, hides every figure below that, never mixes currencies, leaves royalty-only deals out,
//! and names no party — in the API and on the page, without signing in.

use serde_json::{json, Value};

use crate::helpers::{assert_field_error, version_of, TestApp, User, World};

fn terms(price: Value, currency: &str) -> usefirst::settlement::terms::Terms {
    serde_json::from_value(json!({
        "trial_days": 90, "decision_days": 30, "currency": currency,
        "price": price, "insurance_required": false
    }))
    .unwrap()
}

fn lump(amount: &str, currency: &str) -> usefirst::settlement::terms::Terms {
    terms(
        json!({"model": "lump_sum", "amount": amount, "due_days": 30}),
        currency,
    )
}

async fn convert(app: &TestApp, sme: &User, id: &str) {
    let (_, a) = app
        .get(&sme.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(a["status"], "active", "{a}");
    let (s, a) = app
        .act(&sme.token, id, "convert", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
}

/// The disclosure as anyone sees it (no token), and its body as text.
async fn disclosed(app: &TestApp, query: &str) -> (u16, Value, String) {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/disclosure/conversion-prices{query}")))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap(), text)
}

fn cell<'a>(d: &'a Value, sector: &str, currency: &str) -> &'a Value {
    d["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sector"] == sector && c["currency"] == currency && c["year"] == 2026)
        .unwrap_or_else(|| panic!("no {sector} {currency} cell in {d}"))
}

/// No organisation, person, agreement or technology is named.
fn names_no_party(w: &World, text: &str) {
    for (label, user) in w.all() {
        assert!(
            !text.contains(&format!("Tổ chức {label}")),
            "{label} named: {text}"
        );
        assert!(!text.contains(&user.org), "{label}'s id: {text}");
        assert!(!text.contains(&user.email), "{label}'s e-mail: {text}");
    }
    for word in ["Công nghệ", "Technology D", "UF-", "Nhà máy"] {
        assert!(!text.contains(word), "{word} in {text}");
    }
}

fn assert_hidden(c: &Value) {
    assert_eq!(c["hidden"], true, "{c}");
    for figure in [
        "count",
        "median_minor",
        "min_minor",
        "max_minor",
        "median",
        "min",
        "max",
    ] {
        assert!(c[figure].is_null(), "{figure} shown in {c}");
    }
}

#[actix_web::test]
async fn three_agreements_show_a_cell_two_hide_it_and_no_party_is_named() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let tech = |owner: &User, title: &str, field: &str, t| {
        app.add_technology(owner, title, field, "listed", t)
    };
    let agri = [
        tech(&w.inst_a, "D1", "agriculture", lump("100000000", "VND")),
        tech(&w.inst_a, "D2", "agriculture", lump("400000000", "VND")),
        tech(&w.inst_a, "D3", "agriculture", lump("150000000", "VND")),
    ];
    let env = tech(&w.inst_b, "E", "environment", lump("80000000", "VND"));
    let cny = tech(&w.inst_a, "C", "agriculture", lump("120000.00", "CNY"));
    let royalty = tech(
        &w.inst_a,
        "R",
        "agriculture",
        terms(json!({"model": "royalty", "rate": "0.035"}), "VND"),
    );
    let mut first = Vec::new();
    for (sme, inst, t) in [
        (&w.sme_a, &w.inst_a, &agri[0]),
        (&w.sme_b, &w.inst_a, &agri[1]),
        (&w.sme_a, &w.inst_b, &env),
        (&w.sme_b, &w.inst_b, &env),
        (&w.sme_a, &w.inst_a, &cny),
        (&w.sme_b, &w.inst_a, &royalty),
    ] {
        first.push((sme, app.signed_trial(sme, inst, t, "2026-03-03").await));
    }
    let third = app
        .signed_trial(&w.sme_a, &w.inst_a, &agri[2], "2026-03-03")
        .await;
    app.pass_days(1);

    // Nothing converted yet: nothing to disclose.
    let (s, d, _) = disclosed(&app, "").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["cells"], json!([]));

    for (sme, id) in &first {
        convert(&app, sme, id).await;
    }
    let (s, d, text) = disclosed(&app, "").await;
    assert_eq!(s, 200, "{d}");
    // Two agreed prices in agriculture/VND (the royalty-only deal fixes no price): hidden.
    assert_hidden(cell(&d, "agriculture", "VND"));
    assert_hidden(cell(&d, "agriculture", "CNY"));
    assert_hidden(cell(&d, "environment", "VND"));
    assert_eq!(d["cells"].as_array().unwrap().len(), 3, "{d}");
    assert_eq!(d["years"], json!([2026]));
    assert_eq!(d["sectors"], json!(["agriculture", "environment"]));
    assert!(
        !text.contains("100000000") && !text.contains("400000000"),
        "{text}"
    );
    names_no_party(&w, &text);

    // The third: the cell shows its count, median and range; the others stay hidden.
    convert(&app, &w.sme_a, &third).await;
    let (s, d, text) = disclosed(&app, "").await;
    assert_eq!(s, 200, "{d}");
    let shown = cell(&d, "agriculture", "VND");
    assert_eq!(shown["hidden"], false);
    assert_eq!(shown["count"], 3);
    assert_eq!(shown["median_minor"], 150_000_000);
    assert_eq!(shown["min_minor"], 100_000_000);
    assert_eq!(shown["max_minor"], 400_000_000);
    assert_eq!(shown["median"], "150000000");
    assert_hidden(cell(&d, "agriculture", "CNY"));
    assert_hidden(cell(&d, "environment", "VND"));
    // No total anywhere to subtract a shown cell from.
    assert!(d.get("total").is_none() && d.get("count").is_none(), "{d}");
    names_no_party(&w, &text);

    // Filters: a sector, a year with nothing, and bad values named.
    let (s, d, _) = disclosed(&app, "?sector=environment&year=2026").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["cells"].as_array().unwrap().len(), 1, "{d}");
    assert_hidden(&d["cells"][0]);
    let (s, d, _) = disclosed(&app, "?year=2025").await;
    assert_eq!((s, &d["cells"]), (200, &json!([])));
    let (s, d, _) = disclosed(&app, "?year=twenty").await;
    assert_eq!(s, 422, "{d}");
    assert_field_error(&d, "year");
    let (s, d, _) = disclosed(&app, "?colour=red").await;
    assert_eq!(s, 422, "{d}");
    assert_field_error(&d, "colour");

    // The page, without signing in, in both languages: the figures of the shown cell, the
    // hidden ones as "fewer than 3", no party.
    for (lang, fewer) in [("vi", "Dưới 3"), ("en", "Fewer than 3")] {
        let res = app
            .client
            .get(app.url("/conversion-prices"))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let page = res.text().await.unwrap();
        assert!(page.contains(&format!("<html lang=\"{lang}\">")), "{page}");
        assert!(page.contains(fewer), "{lang}: {page}");
        assert!(
            page.contains("150.000.000") || page.contains("150,000,000"),
            "{page}"
        );
        names_no_party(&w, &page);
    }
    let res = app
        .client
        .get(app.url("/conversion-prices?year=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("value=\"abc\""), "{page}");
}
