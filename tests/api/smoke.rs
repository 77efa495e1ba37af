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

/// The OpenAPI tells the truth about the shapes it names: two types of one name must not
/// share one schema (a registration's status is not an agreement's, the audit chain's
/// problem is not the error document, a screening queue entry is not a payment's wait),
/// every error is declared as `application/problem+json`, and the statuses an operation
/// does not name are covered by a problem document (`default`).
#[actix_web::test]
async fn the_openapi_names_each_schema_once_and_declares_problem_documents() {
    let app = TestApp::spawn().await;
    let (status, doc) = read(
        app.client
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Problem"]["type"], "object",
        "{}",
        schemas["Problem"]
    );
    assert!(schemas["Problem"]["properties"]["title"].is_object());
    let audit = schemas["AuditProblem"]["enum"]
        .as_array()
        .expect("AuditProblem");
    assert!(audit.iter().any(|v| v == "link_broken"), "{audit:?}");
    let reg = schemas["RegistrationStatus"]["enum"]
        .as_array()
        .expect("RegistrationStatus");
    assert!(reg.iter().any(|v| v == "not_required"), "{reg:?}");
    let agreement = schemas["Status"]["enum"].as_array().unwrap();
    assert!(agreement.iter().any(|v| v == "awaiting_decision"));
    assert!(schemas["ScreeningQueueItem"]["properties"]["technology"].is_object());
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses["default"]["content"]["application/problem+json"].is_object(),
                "{method} {path} has no problem document for the statuses it does not name"
            );
            for (code, res) in responses {
                let json = &res["content"]["application/json"]["schema"]["$ref"];
                assert_ne!(
                    json, "#/components/schemas/Problem",
                    "{method} {path} {code}: a problem document is application/problem+json"
                );
            }
        }
    }
    assert!(operations > 60);
}
