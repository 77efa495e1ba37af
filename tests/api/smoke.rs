//! The health probes, the OpenAPI document and the docs page.

use crate::helpers::*;

#[actix_web::test]
async fn health_and_docs() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, doc) = read(
        app.client
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    for path in [
        "/api/v1/agreements",
        "/api/v1/agreements/{id}",
        "/api/v1/agreements/{id}/approve",
        "/api/v1/auth/login",
        "/api/v1/audit/verify",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    let res = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("swagger-ui-bundle.js") && !html.contains("http"),
        "docs page must load nothing from the network"
    );
    let res = app
        .client
        .get(app.url("/api/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn unknown_routes_are_problem_404() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[actix_web::test]
async fn whole_world_signs_in_and_a_trial_gets_signed() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    assert!(a["number"].as_str().unwrap().starts_with("UF-2026-"));
    assert_eq!(a["terms"]["price"]["model"], "lump_sum");
}
