//! The search index behind the catalogue: Vietnamese found without its accents, Chinese
//! found by its words, matches ranked, and the index kept in step with every change.

use reqwest::Method;
use serde_json::{json, Value};
use usefirst::audit::Who;
use usefirst::search::{self, Kind};
use usefirst::technologies::{self, Localized, TechnologyInput};

use crate::helpers::*;
use crate::market_demands::{close_need, edit_need, items, listed};

/// A technology as an institute saves it: a draft, listed later through screening.
fn input(title_vi: &str, summary_vi: &str, summary_en: &str) -> Value {
    json!({
        "title": {"vi": title_vi, "en": "Crop dryer"},
        "summary": {"vi": summary_vi, "en": summary_en},
        "field": "agriculture", "ip_type": "patent", "ip_reference": "VN 1-2024",
        "valuation": {"amount": "400000000", "currency": "VND"}, "status": "draft"
    })
}

/// The ids `q` finds through the technologies API, in the order given.
async fn found(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let res = app
        .client
        .get(app.url("/api/v1/technologies"))
        .query(&[("q", q), ("per_page", "100")])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (s, body) = read(res).await;
    assert_eq!(s, 200, "{q}: {body}");
    assert_eq!(
        body["total"].as_i64().unwrap() as usize,
        body["items"].as_array().unwrap().len(),
        "{q}: {body}"
    );
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn vietnamese_without_accents_and_chinese_words_are_found_best_first() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let inst = &w.inst_a.token;
    let (s, dryer) = app
        .post(
            inst,
            "/api/v1/technologies",
            input(
                "Máy sấy rơm rạ và nông sản",
                "Máy sấy rơm rạ dùng năng lượng mặt trời. 太阳能干燥机，适用于稻草。",
                "A solar dryer for straw.",
            ),
        )
        .await;
    assert_eq!(s, 201, "{dryer}");
    let (s, press) = app
        .post(
            inst,
            "/api/v1/technologies",
            input(
                "Máy ép viên nén mùn cưa",
                "Máy ép viên nén từ mùn cưa, trấu và các phụ phẩm khác như rơm rạ, vỏ cà phê, \
                 lõi ngô; công suất từ một đến ba tấn mỗi giờ, tiết kiệm điện.",
                "Sawdust pellet press.",
            ),
        )
        .await;
    assert_eq!(s, 201, "{press}");
    let (dryer, press) = (id_of(&dryer), id_of(&press));
    for id in [&dryer, &press] {
        app.list_through_screening(&w, &w.inst_a, id).await;
    }
    let sme = &w.sme_a.token;

    // Without accents, with them, in capitals, with đ typed as d: the same words.
    for q in ["rom ra", "rơm rạ", "ROM RA", "Rom   ra"] {
        assert_eq!(
            found(&app, sme, q).await,
            [dryer.clone(), press.clone()],
            "{q}"
        );
    }
    assert_eq!(found(&app, sme, "may say").await, [dryer.clone()]);
    assert_eq!(found(&app, sme, "tiet kiem dien").await, [press.clone()]);
    assert_eq!(
        found(&app, sme, "dong thap may say").await,
        Vec::<String>::new()
    );
    // Chinese has no spaces: its words are found inside the sentence, and a pair of
    // characters that is not in it finds nothing.
    for q in ["太阳能", "干燥", "稻草", "太阳能 干燥机"] {
        assert_eq!(found(&app, sme, q).await, [dryer.clone()], "{q}");
    }
    assert_eq!(found(&app, sme, "阳干").await, Vec::<String>::new());
    assert_eq!(
        found(&app, sme, "太阳能 mùn cưa").await,
        Vec::<String>::new()
    );
    // Filters and pages apply to the ranked matches.
    let (_, body) = app
        .get(sme, "/api/v1/technologies?q=rom%20ra&per_page=1&page=2")
        .await;
    assert_eq!(body["total"], 2, "{body}");
    assert_eq!(body["items"][0]["id"], press.as_str(), "{body}");
    let (_, body) = app
        .get(sme, "/api/v1/technologies?q=rom%20ra&field=energy")
        .await;
    assert_eq!(body["total"], 0, "{body}");
}

#[actix_web::test]
async fn an_edit_is_found_by_its_new_words_and_a_failed_change_leaves_the_index_as_it_was() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let inst = &w.inst_a.token;
    let (s, tech) = app
        .post(
            inst,
            "/api/v1/technologies",
            input("Lò sấy cà phê", "Sấy cà phê nhân.", "Coffee drying."),
        )
        .await;
    assert_eq!(s, 201, "{tech}");
    let id = id_of(&tech);
    let v = app.list_through_screening(&w, &w.inst_a, &id).await;
    assert_eq!(found(&app, &w.sme_a.token, "ca phe").await, [id.clone()]);

    // An edit (a new description goes back to a draft, then through screening): found by its
    // new words, no longer by the old ones, by its institute at once and by SMEs once listed.
    let path = format!("/api/v1/technologies/{id}");
    let (s, edited) = app
        .send_matching(
            Method::PUT,
            inst,
            &path,
            v,
            input("Lò sấy hạt điều", "Sấy hạt điều thô.", "Cashew drying."),
        )
        .await;
    assert_eq!(s, 200, "{edited}");
    assert_eq!(found(&app, inst, "hat dieu").await, [id.clone()]);
    assert!(found(&app, inst, "ca phe").await.is_empty());
    assert!(found(&app, &w.sme_a.token, "ca phe").await.is_empty());
    let v = app.list_through_screening(&w, &w.inst_a, &id).await;
    assert_eq!(found(&app, &w.sme_a.token, "hat dieu").await, [id.clone()]);
    assert!(found(&app, &w.sme_a.token, "ca phe").await.is_empty());

    // A stale edit and an invalid one change nothing, in the table or the index.
    let (s, _) = app
        .send_matching(
            Method::PUT,
            inst,
            &path,
            v - 1,
            input("Lò sấy tiêu", "Tiêu.", "Pepper."),
        )
        .await;
    assert_eq!(s, 412);
    let (s, body) = app
        .send_matching(
            Method::PUT,
            inst,
            &path,
            v,
            input("", "Hồ tiêu đen.", "Pepper."),
        )
        .await;
    assert_eq!(s, 422);
    assert_field_error(&body, "title.vi");
    assert!(found(&app, inst, "tieu").await.is_empty());
    assert!(found(&app, &w.sme_a.token, "tieu").await.is_empty());
    assert_eq!(found(&app, &w.sme_a.token, "hat dieu").await, [id.clone()]);

    // A creation rolled back after it was written leaves no index row.
    let who = Who {
        user_id: Some(&w.inst_a.id),
        organisation_id: Some(&w.inst_a.org),
    };
    let mut made = String::new();
    let failed: Result<(), usefirst::error::AppError> = app.state.db.write(|conn| {
        let t = technologies::create(
            conn,
            app.clock.now(),
            who,
            &w.inst_a.org,
            &TechnologyInput {
                title: Localized {
                    vi: "Giàn phơi thông minh".into(),
                    en: "Smart drying rack".into(),
                },
                summary: Localized {
                    vi: "Giàn phơi.".into(),
                    en: "A rack.".into(),
                },
                field: "agriculture".into(),
                ip_type: "patent".into(),
                ip_reference: "VN 2-1".into(),
                valuation: usefirst::settlement::money::MoneyText {
                    amount: "1000000".into(),
                    currency: "VND".into(),
                },
                status: Some("listed".into()),
            },
        )?;
        assert!(search::indexed(conn, Kind::Technology, &t.id)?);
        made = t.id;
        Err(usefirst::error::AppError::Conflict(
            "a later step failed".into(),
        ))
    });
    assert!(failed.is_err());
    assert!(!made.is_empty());
    assert!(!app.db(|c| search::indexed(c, Kind::Technology, &made).unwrap()));
    assert!(found(&app, &w.sme_a.token, "gian phoi").await.is_empty());
}

/// The ids `q` finds among the needs `user` may see, through the demands API.
async fn needs_found(app: &TestApp, user: &User, q: &str) -> Vec<String> {
    let (s, body) = listed(app, user, &[("q", q), ("per_page", "100")]).await;
    assert_eq!(s, 200, "{q}: {body}");
    items(&body)
}

#[actix_web::test]
async fn a_need_s_edit_is_found_by_its_new_words_and_a_failed_change_leaves_the_index_as_it_was() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let sme = &w.sme_a;
    let need = |title: &str, description: &str| {
        let mut body = crate::market_demands::need(title);
        body["description"] = json!(description);
        body
    };
    let id = id_of(
        &crate::market_demands::post_need(
            &app,
            &w.sme_a,
            need("Lò sấy cà phê", "Sấy cà phê nhân."),
        )
        .await,
    );
    for user in [sme, &w.inst_a] {
        assert_eq!(needs_found(&app, user, "ca phe").await, vec![id.clone()]);
    }

    // An edit: found by its new words, by its SME and the institutes, no longer by the old.
    let path = format!("/api/v1/demands/{id}");
    let (s, edited) = edit_need(
        &app,
        sme,
        &id,
        1,
        need("Lò sấy hạt điều", "Sấy hạt điều thô."),
    )
    .await;
    assert_eq!(s, 200, "{edited}");
    for user in [sme, &w.inst_a] {
        assert_eq!(needs_found(&app, user, "hat dieu").await, vec![id.clone()]);
        assert!(needs_found(&app, user, "ca phe").await.is_empty());
    }

    // A stale edit and an invalid one change nothing, in the table or the index.
    let (s, _) = edit_need(&app, sme, &id, 1, need("Lò sấy tiêu", "Tiêu.")).await;
    assert_eq!(s, 412);
    let (s, body) = edit_need(&app, sme, &id, 2, need("", "Hồ tiêu đen.")).await;
    assert_eq!(s, 422);
    assert_field_error(&body, "title");
    let mut bad_budget = need("Lò sấy tiêu", "Hồ tiêu đen.");
    bad_budget["budget"]["max"] = json!("1");
    let (s, body) = edit_need(&app, sme, &id, 2, bad_budget).await;
    assert_eq!(s, 422);
    assert_field_error(&body, "budget.max");
    for user in [sme, &w.inst_a] {
        assert!(needs_found(&app, user, "tieu").await.is_empty());
        assert_eq!(needs_found(&app, user, "hat dieu").await, vec![id.clone()]);
    }
    let (_, d) = app.get(&sme.token, &path).await;
    assert_eq!(
        (&d["version"], &d["title"]),
        (&json!(2), &json!("Lò sấy hạt điều"))
    );

    // Closed: still found by its SME, by status too, and an edit of it (409) changes nothing.
    assert_eq!(close_need(&app, sme, &id, 2).await, 200);
    let (s, _) = edit_need(&app, sme, &id, 3, need("Lò sấy tiêu", "Tiêu.")).await;
    assert_eq!(s, 409);
    assert!(needs_found(&app, sme, "tieu").await.is_empty());
    assert_eq!(needs_found(&app, sme, "hat dieu").await, vec![id.clone()]);
    for (status, found) in [("closed", vec![id.clone()]), ("open", Vec::new())] {
        let (s, body) = listed(&app, sme, &[("q", "hat dieu"), ("status", status)]).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(items(&body), found, "{status}");
    }
    assert!(needs_found(&app, &w.inst_a, "hat dieu").await.is_empty());

    // A need posted in a change that fails later leaves no index row.
    let who = Who {
        user_id: Some(&w.sme_a.id),
        organisation_id: Some(&w.sme_a.org),
    };
    let input: usefirst::demands::DemandInput =
        serde_json::from_value(need("Giàn phơi thông minh", "Giàn phơi.")).unwrap();
    let mut made = String::new();
    let failed: Result<(), usefirst::error::AppError> = app.state.db.write(|conn| {
        let d = usefirst::demands::create(
            conn,
            app.clock.now(),
            app.clock.today(app.state.tz),
            who,
            &w.sme_a.org,
            &input,
            &|_| Vec::new(),
        )?;
        assert!(search::indexed(conn, Kind::Demand, &d.id)?);
        made = d.id;
        Err(usefirst::error::AppError::Conflict(
            "a later step failed".into(),
        ))
    });
    assert!(failed.is_err());
    assert!(!made.is_empty());
    assert!(!app.db(|c| search::indexed(c, Kind::Demand, &made).unwrap()));
    assert!(needs_found(&app, sme, "gian phoi").await.is_empty());
}
