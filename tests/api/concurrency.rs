//! Many writers at once: on SQLite they queue for the writer thread, which commits them in
//! batches, instead of failing with "database is locked"; on PostgreSQL they run side by
//! side. Either way every request succeeds, numbers stay unique and the audit chain stays
//! whole.

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
                // SQLite: a write running on the writer thread holds up every other one.
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

/// Writes a `counters` row named `name`, then fails when `fail` is set.
fn write_counter(
    state: &usefirst::AppState,
    name: &str,
    fail: bool,
) -> Result<String, usefirst::error::AppError> {
    use diesel::RunQueryDsl;
    state.db.write(|conn| {
        diesel::sql_query("INSERT INTO counters (name, value) VALUES ($1, 1)")
            .bind::<diesel::sql_types::Text, _>(name)
            .execute(conn)?;
        if fail {
            return Err(usefirst::error::AppError::field(
                "name",
                "refused after writing",
            ));
        }
        Ok(name.to_string())
    })
}

fn counter_names(app: &TestApp, prefix: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let mut conn = app.state.db.reader().unwrap();
    diesel::sql_query("SELECT name FROM counters WHERE name LIKE $1 ORDER BY name")
        .bind::<diesel::sql_types::Text, _>(format!("{prefix}%"))
        .load::<Name>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

/// A write to run on its own thread, given the app's state.
type Writer<T> = Box<dyn FnOnce(&usefirst::AppState) -> T + Send>;

/// Runs `writers` on their own threads so that, on SQLite, they queue up together behind one
/// write that waits until all of them have been started: the writer thread then takes them
/// as one batch. Returns their results in order and how many COMMITs they took (SQLite).
fn in_one_batch<T: Send + 'static>(
    app: &TestApp,
    writers: Vec<Writer<T>>,
) -> (Vec<T>, Option<u64>) {
    let n = writers.len();
    let started = std::sync::Arc::new(std::sync::Barrier::new(n + 1));
    let before = app.state.db.write_batches();
    let gate = {
        let state = app.state.clone();
        let started = started.clone();
        std::thread::spawn(move || {
            state
                .db
                .write(|_| {
                    started.wait();
                    // Each writer queues right after the barrier; give them all time to.
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok::<_, usefirst::error::AppError>(())
                })
                .unwrap()
        })
    };
    let threads: Vec<_> = writers
        .into_iter()
        .map(|w| {
            let state = app.state.clone();
            let started = started.clone();
            std::thread::spawn(move || {
                started.wait();
                w(&state)
            })
        })
        .collect();
    gate.join().unwrap();
    let results = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let batches = app
        .state
        .db
        .write_batches()
        .zip(before)
        .map(|(after, before)| after - before - 1);
    (results, batches)
}

/// Many writers at once, every third failing after it wrote: on SQLite they share one or two
/// COMMITs (each in its own savepoint), yet each failure undoes only its own row, and each
/// success is readable the moment its caller has its answer. On PostgreSQL each is its own
/// transaction, with the same outcome.
#[actix_web::test]
async fn concurrent_writes_fail_alone_and_succeed_durably() {
    let app = TestApp::spawn().await;
    let writers = (0..60)
        .map(|i| {
            Box::new(move |state: &usefirst::AppState| {
                let name = format!("batch-{i:02}");
                let result = write_counter(state, &name, i % 3 == 0);
                if result.is_ok() {
                    // Committed before the answer: a fresh reader sees it.
                    use diesel::RunQueryDsl;
                    #[derive(diesel::QueryableByName)]
                    struct N {
                        #[diesel(sql_type = diesel::sql_types::BigInt)]
                        n: i64,
                    }
                    let mut conn = state.db.reader().unwrap();
                    let seen =
                        diesel::sql_query("SELECT COUNT(*) AS n FROM counters WHERE name = $1")
                            .bind::<diesel::sql_types::Text, _>(&name)
                            .get_result::<N>(&mut *conn)
                            .unwrap();
                    assert_eq!(seen.n, 1, "{name} is visible once written");
                }
                result
            }) as Writer<_>
        })
        .collect();
    let (results, batches) = in_one_batch(&app, writers);
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(name) => assert!(i % 3 != 0, "{name}"),
            Err(usefirst::error::AppError::Validation(_)) => assert_eq!(i % 3, 0),
            Err(other) => panic!("write {i}: {other:?}"),
        }
    }
    if let Some(batches) = batches {
        assert!(batches <= 2, "60 queued writes took {batches} COMMITs");
    }
    let expected: Vec<String> = (0..60)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("batch-{i:02}"))
        .collect();
    assert_eq!(counter_names(&app, "batch-"), expected);
}

/// A write that panics part-way is undone and its caller sees the panic; writes around it (on
/// SQLite, in the same batch) commit as if it had never run.
#[actix_web::test]
async fn a_panicking_write_is_undone_and_others_commit() {
    let app = TestApp::spawn().await;
    type Outcome = Result<Result<(), usefirst::error::AppError>, i32>;
    let writers = (0..12)
        .map(|i| {
            Box::new(move |state: &usefirst::AppState| {
                let name = format!("panic-{i:02}");
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    use diesel::RunQueryDsl;
                    state.db.write(|conn| {
                        diesel::sql_query("INSERT INTO counters (name, value) VALUES ($1, 1)")
                            .bind::<diesel::sql_types::Text, _>(&name)
                            .execute(conn)?;
                        if i == 5 {
                            panic!("write {i} gives up half-way");
                        }
                        Ok::<_, usefirst::error::AppError>(())
                    })
                }))
                .map_err(|_| i)
            }) as Writer<Outcome>
        })
        .collect();
    let (results, batches) = in_one_batch(&app, writers);
    let mut panicked = Vec::new();
    for result in results {
        match result {
            Ok(result) => result.unwrap(),
            Err(i) => panicked.push(i),
        }
    }
    assert_eq!(panicked, vec![5]);
    if let Some(batches) = batches {
        assert!(batches <= 2, "12 queued writes took {batches} COMMITs");
    }
    let expected: Vec<String> = (0..12)
        .filter(|i| *i != 5)
        .map(|i| format!("panic-{i:02}"))
        .collect();
    assert_eq!(counter_names(&app, "panic-"), expected);
    // The writer goes on serving.
    assert_eq!(
        write_counter(&app.state, "panic-after", false).unwrap(),
        "panic-after"
    );
}
