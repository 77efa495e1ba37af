//! Many writers at once: on SQLite they queue on the single writer connection instead of
//! failing with "database is locked"; on PostgreSQL they run side by side. Either way every
//! request succeeds, numbers stay unique and the audit chain stays whole.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn concurrent_requests_all_succeed_with_unique_numbers() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let before = app.count("agreements");
    let mut handles = Vec::new();
    for i in 0..48 {
        let client = app.client.clone();
        let url = app.url("/api/v1/agreements");
        let (token, tech) = if i % 2 == 0 {
            (w.sme_a.token.clone(), w.tech_a.clone())
        } else {
            (w.sme_b.token.clone(), w.tech_b.clone())
        };
        handles.push(actix_web::rt::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"technology_id": tech, "place_of_use": format!("Xưởng {i}"), "requested_start": "2026-04-01"}))
                .send()
                .await
                .unwrap();
            read(res).await
        }));
    }
    let mut numbers = HashSet::new();
    for h in handles {
        let (status, body) = h.await.unwrap();
        assert_eq!(status, 201, "{body}");
        numbers.insert(body["number"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 48, "agreement numbers are unique");
    assert_eq!(app.count("agreements"), before + 48);
    let (status, v) = app.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!(status, 200);
    assert_eq!(v["ok"], true, "{v}");
}

#[actix_web::test]
async fn responses_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    let id = res
        .headers()
        .get("x-request-id")
        .expect("x-request-id header")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let other = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
}

/// While another transaction holds the lock a request needs for longer than
/// `database.busy_timeout_ms`, the request answers 503 busy with Retry-After and writes
/// nothing; once the lock is gone the same request succeeds.
#[actix_web::test]
async fn a_locked_database_answers_503_and_changes_nothing() {
    let app = TestApp::spawn_with(|cfg| cfg.database.busy_timeout_ms = 300).await;
    let w = app.world().await;
    let before = app.snapshot();
    let state = app.state.clone();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        state
            .db
            .write(|conn| {
                use diesel::RunQueryDsl;
                if let usefirst::db::DbConn::Postgres(_) = conn {
                    diesel::sql_query("LOCK TABLE agreements IN ACCESS EXCLUSIVE MODE")
                        .execute(conn)?;
                }
                // SQLite: holding the single writer connection is the lock.
                locked_tx.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(2500));
                Ok::<_, usefirst::error::AppError>(())
            })
            .unwrap();
    });
    locked_rx.recv().unwrap();
    let body = json!({"technology_id": w.tech_a, "place_of_use": "Xưởng", "requested_start": "2026-04-01"});
    let res = app
        .client
        .post(app.url("/api/v1/agreements"))
        .bearer_auth(&w.sme_a.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert!(res.headers().contains_key("retry-after"));
    let (_, problem) = read(res).await;
    assert_eq!(problem["type"], "urn:usefirst:problem:busy");
    holder.join().unwrap();
    assert_eq!(
        app.snapshot(),
        before,
        "a request that timed out wrote nothing"
    );
    let (status, created) = app.post(&w.sme_a.token, "/api/v1/agreements", body).await;
    assert_eq!(status, 201, "{created}");
}
