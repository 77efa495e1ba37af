//! The scheduler: jobs run once per slot (on one instance or two sharing a database), missed
//! slots collapse into one catch-up run, a crashed run's work is done by the next one, manual
//! runs, the admin view of runs, and time-driven transitions through the real jobs.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use chrono::{Duration, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::json;
use usefirst::config::JobConfig;
use usefirst::scheduler::{JobKind, Scheduler};

use crate::helpers::*;

fn jobs(list: &[(&str, &str)]) -> BTreeMap<String, JobConfig> {
    list.iter()
        .map(|(name, cron)| {
            (
                name.to_string(),
                JobConfig {
                    cron: cron.to_string(),
                    enabled: true,
                },
            )
        })
        .collect()
}

/// (job, slot, status, triggered_by) of every run, in slot order.
fn runs(app: &TestApp) -> Vec<(String, NaiveDateTime, String, String)> {
    use usefirst::db::schema::job_runs::dsl::*;
    app.db(|c| {
        usefirst::on_backend!(c, |c| job_runs
            .order((job.asc(), slot.asc()))
            .select((job, slot, status, triggered_by))
            .load(c))
    })
    .unwrap()
}

fn at(h: u32, m: u32) -> NaiveDateTime {
    Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0)
        .unwrap()
        .naive_utc()
}

#[actix_web::test]
async fn each_slot_runs_once_and_missed_slots_collapse_into_one_run() {
    let app = TestApp::spawn_with(|c| c.scheduler.jobs = jobs(&[("advance", "0 0 * * * *")])).await;
    let scheduler = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    // 02:00 UTC: the slot of this very instant is due.
    let r = scheduler.tick(&app.state, app.clock.now()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, "ok");
    assert!(
        scheduler
            .tick(&app.state, app.clock.now())
            .unwrap()
            .is_empty(),
        "claimed once"
    );
    app.clock.advance(Duration::minutes(59));
    assert!(
        scheduler
            .tick(&app.state, app.clock.now())
            .unwrap()
            .is_empty(),
        "03:00 not yet"
    );
    app.clock.advance(Duration::minutes(1));
    assert_eq!(
        scheduler.tick(&app.state, app.clock.now()).unwrap().len(),
        1
    );
    // Five hours with no instance running: one catch-up run, for the latest slot.
    app.clock
        .advance(Duration::hours(5) + Duration::minutes(10));
    let r = scheduler.tick(&app.state, app.clock.now()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].slot.naive_utc(), at(8, 0));
    let slots: Vec<NaiveDateTime> = runs(&app).into_iter().map(|r| r.1).collect();
    assert_eq!(slots, vec![at(2, 0), at(3, 0), at(8, 0)]);
    // A fresh instance on the same database does not redo what is recorded.
    let other = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    assert!(other.tick(&app.state, app.clock.now()).unwrap().is_empty());
}

/// Two instances ticking at the same moments against one database, every hour for 30 days:
/// every slot runs exactly once, none is missed.
#[actix_web::test]
async fn two_instances_over_a_month_run_every_slot_exactly_once() {
    let app = TestApp::spawn_with(|c| {
        c.scheduler.jobs = jobs(&[("advance", "0 0 * * * *"), ("verify-audit", "0 30 2 * * *")])
    })
    .await;
    let start = app.clock.now();
    let a = Arc::new(Scheduler::new(&app.state.cfg, start).unwrap());
    let b = Arc::new(Scheduler::new(&app.state.cfg, start).unwrap());
    let state = app.state.clone();
    let clock = app.clock.clone();
    let hours = 30 * 24;
    let won = tokio::task::spawn_blocking(move || {
        let mut won = [0usize; 2];
        for _ in 0..hours {
            clock.advance(Duration::hours(1));
            let now = clock.now();
            let barrier = Arc::new(Barrier::new(2));
            let results: Vec<usize> = std::thread::scope(|s| {
                let handles: Vec<_> = [&a, &b]
                    .into_iter()
                    .map(|sch| {
                        let (barrier, state) = (barrier.clone(), &state);
                        s.spawn(move || {
                            barrier.wait();
                            sch.tick(state, now).unwrap().len()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            won[0] += results[0];
            won[1] += results[1];
        }
        won
    })
    .await
    .unwrap();
    let all = runs(&app);
    let advance: Vec<_> = all.iter().filter(|r| r.0 == "advance").collect();
    let verify: Vec<_> = all.iter().filter(|r| r.0 == "verify-audit").collect();
    // The first tick is at 03:00 (start 02:00 + 1 h): 720 hourly slots, 03:00 to 02:00 a month on.
    assert_eq!(advance.len(), hours as usize, "one run per hourly slot");
    for (i, r) in advance.iter().enumerate() {
        assert_eq!(
            r.1,
            (start + Duration::hours(i as i64 + 1)).naive_utc(),
            "slot {i}"
        );
        assert_eq!(r.2, "ok");
    }
    // 02:30 Ho Chi Minh is 19:30 UTC the day before: 30 nightly slots in the month.
    assert_eq!(verify.len(), 30, "{verify:?}");
    assert_eq!(
        won[0] + won[1],
        all.len(),
        "every run was claimed by exactly one instance"
    );
}

/// A run that died after claiming its slot leaves the work to the next slot's run, which also
/// marks the dead run abandoned.
#[actix_web::test]
async fn a_crashed_run_is_picked_up_by_the_next_slot() {
    let app = TestApp::spawn_with(|c| {
        c.scheduler.jobs = jobs(&[("advance", "0 0 * * * *")]);
        c.auth.session_idle_minutes = 7 * 24 * 60;
        c.auth.session_absolute_hours = 7 * 24;
    })
    .await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let id = id_of(&a);
    // The day the trial starts, at 00:00 UTC (07:00 local): the 00:00 slot was claimed by an
    // instance that then died.
    app.clock.advance(Duration::hours(22));
    let crashed_slot = app.clock.now().naive_utc();
    app.db(|c| {
        diesel::sql_query(format!(
            "INSERT INTO job_runs (id, job, slot, triggered_by, instance, status, started_at) \
             VALUES ('crashed', 'advance', '{crashed_slot}', 'schedule', 'gone:1', 'running', '{crashed_slot}')"
        ))
        .execute(c)
    })
    .unwrap();
    let scheduler = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    assert!(
        scheduler
            .tick(&app.state, app.clock.now())
            .unwrap()
            .is_empty(),
        "the slot is taken"
    );
    let (_, seen) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(seen["status"], "signed", "the crashed run did nothing");
    // The instance is back two hours later: one catch-up run does the work.
    app.clock.advance(Duration::hours(2));
    let r = scheduler.tick(&app.state, app.clock.now()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].counts["transitions"], 1, "{:?}", r[0]);
    let (_, seen) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(seen["status"], "active");
    let statuses: Vec<String> = runs(&app).into_iter().map(|r| r.2).collect();
    assert_eq!(statuses, vec!["abandoned", "ok"]);
}

/// The 90-day trial of tech_b, day by day through the scheduler's own `advance` job (every
/// minute, as configured by default): active on its start date, awaiting decision the day
/// after it ends, lapsed the day after the decision window, each in Asia/Ho_Chi_Minh, and each
/// transition made once.
#[actix_web::test]
async fn the_advance_job_moves_a_trial_on_the_right_local_days() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = app.request(&w.sme_b, &w.tech_b, "2026-03-10").await;
    let id = id_of(&a);
    let mut a = a;
    for (token, action, body) in [
        (
            &w.inst_b.token,
            "approve",
            json!({"insurer_id": w.insurer_a.org}),
        ),
        (&w.sme_b.token, "sign", json!({})),
        (&w.inst_b.token, "sign", json!({})),
    ] {
        let (s, next) = app.act(token, &id, action, version_of(&a), body).await;
        assert_eq!(s, 200, "{action}: {next}");
        a = next;
    }
    let trial_end = a["trial_end"].as_str().unwrap().to_string();
    let deadline = a["decision_deadline"].as_str().unwrap().to_string();
    let scheduler = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
    // Midnight local each day, then a tick: what the first minute of the day sees.
    app.clock.advance(Duration::hours(15)); // 2026-03-02 17:00 UTC = 03-03 00:00 local
    let mut seen = Vec::new();
    for _ in 0..130 {
        app.clock.advance(Duration::days(1));
        scheduler.tick(&app.state, app.clock.now()).unwrap();
        let (_, now) = app
            .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
            .await;
        let day = app.clock.now().with_timezone(&tz).date_naive().to_string();
        let status = now["status"].as_str().unwrap().to_string();
        if seen
            .last()
            .map(|(_, s): &(String, String)| s != &status)
            .unwrap_or(true)
        {
            seen.push((day, status));
        }
    }
    let next_day = |d: &str| {
        (chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap() + Duration::days(1)).to_string()
    };
    assert_eq!(
        seen,
        vec![
            ("2026-03-04".to_string(), "signed".to_string()),
            ("2026-03-10".to_string(), "active".to_string()),
            (next_day(&trial_end), "awaiting_decision".to_string()),
            (next_day(&deadline), "lapsed".to_string()),
        ]
    );
    let events = app
        .db(|c| usefirst::audit::for_entity(c, "agreement", &id))
        .unwrap();
    for action in ["agreement.start", "agreement.end_trial", "agreement.lapse"] {
        assert_eq!(
            events.iter().filter(|e| e.action == action).count(),
            1,
            "{action} once: {:?}",
            events.iter().map(|e| &e.action).collect::<Vec<_>>()
        );
    }
}

#[actix_web::test]
async fn manual_runs_and_the_audit_job_report_their_outcome() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let scheduler = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    let ok = scheduler.run_now(&app.state, JobKind::VerifyAudit).unwrap();
    assert_eq!(ok.status, "ok");
    assert!(ok.counts["events"].as_i64().unwrap() > 0);
    // Two manual runs in the same instant are both recorded.
    let again = scheduler.run_now(&app.state, JobKind::VerifyAudit).unwrap();
    assert_ne!(again.slot, ok.slot);
    app.db(|c| {
        diesel::sql_query("UPDATE audit_events SET action = 'agreement.convert' WHERE seq = 3")
            .execute(c)
    })
    .unwrap();
    let broken = scheduler.run_now(&app.state, JobKind::VerifyAudit).unwrap();
    assert_eq!(broken.status, "failed");
    assert!(
        broken.error.as_deref().unwrap().contains("event 3"),
        "{broken:?}"
    );
    let all = runs(&app);
    assert_eq!(
        all.iter()
            .map(|r| (r.2.as_str(), r.3.as_str()))
            .collect::<Vec<_>>(),
        vec![("ok", "manual"), ("ok", "manual"), ("failed", "manual")]
    );

    // Admins see the runs, newest first, with their outcome; nobody else sees them at all.
    let (s, page) = app.get(&w.admin.token, "/api/v1/scheduler/runs").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"][0]["status"], "failed");
    assert!(page["items"][0]["error"]
        .as_str()
        .unwrap()
        .contains("broken"));
    assert!(page["items"][0]["finished_at"].is_string());
    let (_, page) = app
        .get(
            &w.admin.token,
            "/api/v1/scheduler/runs?status=ok&job=verify-audit",
        )
        .await;
    assert_eq!(page["total"], 2);
    let (s, p) = app
        .get(
            &w.admin.token,
            "/api/v1/scheduler/runs?job=tidy&status=done",
        )
        .await;
    assert_eq!(s, 422, "{p}");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["job", "status"]);
    for (who, user) in w.all() {
        if who == "admin" {
            continue;
        }
        let (s, _) = app.get(&user.token, "/api/v1/scheduler/runs").await;
        assert_eq!(s, 404, "{who}");
    }
}
