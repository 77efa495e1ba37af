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

/// One scheduler tick off the test's thread, so the server (on this thread) keeps serving.
async fn tick(app: &TestApp, scheduler: &Scheduler) -> Vec<usefirst::scheduler::RunReport> {
    let (state, scheduler, now) = (app.state.clone(), scheduler.clone(), app.clock.now());
    tokio::task::spawn_blocking(move || scheduler.tick(&state, now).unwrap())
        .await
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
    let r = tick(&app, &scheduler).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, "ok");
    assert!(tick(&app, &scheduler).await.is_empty(), "claimed once");
    app.clock.advance(Duration::minutes(59));
    assert!(tick(&app, &scheduler).await.is_empty(), "03:00 not yet");
    app.clock.advance(Duration::minutes(1));
    assert_eq!(tick(&app, &scheduler).await.len(), 1);
    // Five hours with no instance running: one catch-up run, for the latest slot.
    app.clock
        .advance(Duration::hours(5) + Duration::minutes(10));
    let r = tick(&app, &scheduler).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].slot.naive_utc(), at(8, 0));
    let slots: Vec<NaiveDateTime> = runs(&app).into_iter().map(|r| r.1).collect();
    assert_eq!(slots, vec![at(2, 0), at(3, 0), at(8, 0)]);
    // A fresh instance on the same database does not redo what is recorded.
    let other = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    assert!(tick(&app, &other).await.is_empty());
}

/// Two instances of the service on one database — each with its own connection pool, writer,
/// session cache, HTTP server and scheduler; they share only the database and the test's
/// clock — ticking at the same moments every hour through a month with every job on: every
/// slot runs exactly once and none is missed, no transition happens twice, each reminder is
/// recorded and mailed once, and every mail reaches the SMTP server once. Requests served by
/// either instance see the other's changes, and a sign-out on one is honoured by the other
/// within `auth.session_cache_seconds`. The figures are printed (scripts/probe-two-instances.sh
/// runs this on both backends and shows them).
#[actix_web::test]
async fn two_instances_over_a_month_run_every_slot_exactly_once() {
    let sink = crate::smtp_sink::SmtpSink::start();
    let url = sink.url();
    let crons = [
        ("advance", "0 0 * * * *"),
        ("remind", "0 0 8 * * *"),
        ("deliver-mail", "0 0 * * * *"),
        ("verify-audit", "0 30 2 * * *"),
        ("monthly-report", "0 0 6 1 * *"),
    ];
    let one = TestApp::spawn_with(move |c| {
        long_sessions(c);
        c.auth.session_cache_seconds = 1;
        c.scheduler.jobs = jobs(&crons);
        c.mail.smtp_url = url;
    })
    .await;
    let two = one.spawn_beside().await;
    let w = one.world().await;
    // A 60-day insured trial from 3 March (last day 1 May, decision by 15 May), made through
    // the first instance; a trial of institute A's technology made through the second.
    let x = id_of(&one.signed_insured(&w, &w.sme_b, "2026-03-03").await);
    let y = two
        .signed_trial(&w.sme_a, &w.inst_a, &w.tech_a, "2026-03-20")
        .await;
    for (app, other) in [(&one, &two), (&two, &one)] {
        for (id, token) in [(&x, &w.sme_b.token), (&y, &w.sme_a.token)] {
            let path = format!("/api/v1/agreements/{id}");
            let (s, here) = app.get(token, &path).await;
            let (_, there) = other.get(token, &path).await;
            assert_eq!(s, 200, "{here}");
            assert_eq!(
                here["version"], there["version"],
                "both instances see {id} alike"
            );
        }
    }

    // Watched from 15 April 09:00 local, every hour for 31 days (to 16 May 09:00).
    one.clock.advance(Duration::days(44));
    let start = one.clock.now();
    let hours = 31 * 24;
    let schedulers = [
        (
            Arc::new(Scheduler::new(&one.state.cfg, start).unwrap()),
            one.state.clone(),
        ),
        (
            Arc::new(Scheduler::new(&two.state.cfg, start).unwrap()),
            two.state.clone(),
        ),
    ];
    let clock = one.clock.clone();
    let won = tokio::task::spawn_blocking(move || {
        let mut won = [0usize; 2];
        for _ in 0..hours {
            clock.advance(Duration::hours(1));
            let now = clock.now();
            let barrier = Arc::new(Barrier::new(2));
            let results: Vec<usize> = std::thread::scope(|s| {
                let handles: Vec<_> = schedulers
                    .iter()
                    .map(|(sch, state)| {
                        let barrier = barrier.clone();
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
    let end = one.clock.now();

    // Runs: each job's slots in the month, from its cron expression in the local time zone.
    let tz = one.state.cfg.time_zone().unwrap();
    let all = runs(&one);
    let (mut missed, mut extra) = (0usize, 0usize);
    for (job, cron) in crons {
        let schedule: cron::Schedule = cron.parse().unwrap();
        let slots: Vec<NaiveDateTime> = schedule
            .after(&start.with_timezone(&tz))
            .take_while(|slot| slot.with_timezone(&Utc) <= end)
            .map(|slot| slot.with_timezone(&Utc).naive_utc())
            .collect();
        let ran: Vec<NaiveDateTime> = all.iter().filter(|r| r.0 == job).map(|r| r.1).collect();
        missed += slots.iter().filter(|s| !ran.contains(s)).count();
        extra += ran.iter().filter(|r| !slots.contains(r)).count();
        for r in all.iter().filter(|r| r.0 == job) {
            assert_eq!(r.2, "ok", "{job} at {}", r.1);
        }
    }
    let duplicate_runs = (won[0] + won[1]).saturating_sub(all.len()) + extra;

    // Transitions the jobs made (no user acting): none twice; trial x went through its three.
    use usefirst::db::schema::{audit_events, monthly_reports, outbox, reminders};
    let made: Vec<(String, String)> = one
        .db(|c| {
            usefirst::on_backend!(c, |c| audit_events::table
                .filter(audit_events::actor_user_id.is_null())
                .filter(audit_events::entity_type.eq("agreement"))
                .select((audit_events::entity_id, audit_events::action))
                .load(c))
        })
        .unwrap();
    let mut seen = std::collections::BTreeMap::<&(String, String), usize>::new();
    for m in &made {
        *seen.entry(m).or_default() += 1;
    }
    let duplicate_transitions: usize = seen.values().map(|n| n - 1).sum();
    for action in ["agreement.start", "agreement.end_trial", "agreement.lapse"] {
        assert_eq!(
            seen.get(&(x.clone(), action.to_string())),
            Some(&1),
            "{action} of the insured trial, once"
        );
    }

    // Reminders: trial end (30 days, sent on the first morning, 16 days ahead; then 7 and 1)
    // and decision (7 and 1), once each.
    let sent: Vec<(String, String, i32)> = one
        .db(|c| {
            usefirst::on_backend!(c, |c| reminders::table
                .order((
                    reminders::agreement_id.asc(),
                    reminders::kind.desc(),
                    reminders::offset_days.desc(),
                ))
                .select((
                    reminders::agreement_id,
                    reminders::kind,
                    reminders::offset_days
                ))
                .load(c))
        })
        .unwrap();
    let distinct: std::collections::BTreeSet<&(String, String, i32)> = sent.iter().collect();
    let duplicate_reminders = sent.len() - distinct.len();
    let of_x: Vec<(String, i32)> = sent
        .iter()
        .filter(|r| r.0 == x)
        .map(|r| (r.1.clone(), r.2))
        .collect();
    let expected: Vec<(String, i32)> = [
        ("trial_end", 30),
        ("trial_end", 7),
        ("trial_end", 1),
        ("decision", 7),
        ("decision", 1),
    ]
    .iter()
    .map(|(k, o)| (k.to_string(), *o))
    .collect();
    assert_eq!(of_x, expected);

    // April's report, stored once by the job on 1 May.
    let reports: Vec<String> = one
        .db(|c| {
            usefirst::on_backend!(c, |c| monthly_reports::table
                .select(monthly_reports::month)
                .load(c))
        })
        .unwrap();
    assert_eq!(reports, vec!["2026-04".to_string()]);

    // Mail: every message in the outbox sent, and received by the SMTP server exactly once.
    let mails: Vec<(String, String)> = one
        .db(|c| {
            usefirst::on_backend!(c, |c| outbox::table
                .select((outbox::message_id, outbox::status))
                .load(c))
        })
        .unwrap();
    assert!(mails.iter().all(|m| m.1 == "sent"), "all delivered");
    let delivered: Vec<String> = sink
        .messages()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    let unique: std::collections::BTreeSet<&String> = delivered.iter().collect();
    let duplicate_mails = delivered.len() - unique.len();
    let lost_mails = mails.len().saturating_sub(unique.len());

    // Either instance answers with the other's changes: the trial lapsed, at one version.
    let path = format!("/api/v1/agreements/{x}");
    let (_, seen_one) = one.get(&w.sme_b.token, &path).await;
    let (_, seen_two) = two.get(&w.sme_b.token, &path).await;
    assert_eq!(seen_one["status"], "lapsed");
    assert_eq!(seen_one["version"], seen_two["version"]);

    // A sign-out on one instance: at once there, and on the other within the cache lifetime.
    let (s, login) = one.login(&w.sme_b.email, PASSWORD).await;
    assert_eq!(s, 200, "{login}");
    let token = login["token"].as_str().unwrap().to_string();
    assert_eq!(
        two.get(&token, &path).await.0,
        200,
        "the second instance knows the session"
    );
    let (s, body) = one.post(&token, "/api/v1/auth/logout", json!({})).await;
    assert_eq!(s, 204, "{body}");
    assert_eq!(one.get(&token, &path).await.0, 401);
    let cache = std::time::Duration::from_secs(one.state.cfg.auth.session_cache_seconds);
    tokio::time::sleep(cache + std::time::Duration::from_millis(100)).await;
    assert_eq!(
        two.get(&token, &path).await.0,
        401,
        "ended on the second instance too"
    );

    println!(
        "two instances ({}): duplicate runs {duplicate_runs}, missed runs {missed}, \
         duplicate mails {duplicate_mails}, lost mails {lost_mails}, duplicate reminders \
         {duplicate_reminders}, duplicate transitions {duplicate_transitions} \
         ({} runs: {} by the first instance, {} by the second; {} mails)",
        if backend_url().is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        all.len(),
        won[0],
        won[1],
        mails.len()
    );
    assert_eq!(
        (duplicate_runs, missed, duplicate_mails, lost_mails),
        (0, 0, 0, 0),
        "runs duplicated and missed, mails duplicated and lost"
    );
    assert_eq!((duplicate_reminders, duplicate_transitions), (0, 0));
    drop(two);
}

/// A run that died after claiming its slot leaves the work to the next slot's run, which also
/// marks the dead run abandoned.
#[actix_web::test]
async fn a_crashed_run_is_picked_up_by_the_next_slot() {
    let app = TestApp::spawn_with(|c| {
        c.scheduler.jobs = jobs(&[("advance", "0 0 * * * *")]);
        long_sessions(c);
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
    let r = tick(&app, &scheduler).await;
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
    let a = app.signed_insured(&w, &w.sme_b, "2026-03-10").await;
    let id = id_of(&a);
    let trial_end = a["trial_end"].as_str().unwrap().to_string();
    let deadline = a["decision_deadline"].as_str().unwrap().to_string();
    let scheduler = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
    // Midnight local each day, then a tick: what the first minute of the day sees.
    app.clock.advance(Duration::hours(15)); // 2026-03-02 17:00 UTC = 03-03 00:00 local
    let mut seen = Vec::new();
    for _ in 0..130 {
        app.clock.advance(Duration::days(1));
        tick(&app, &scheduler).await;
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
    // The admins are told by mail (and nobody else).
    let alerts: Vec<(String, Option<String>)> = app
        .db(|c| {
            use usefirst::db::schema::outbox;
            usefirst::on_backend!(c, |c| outbox::table
                .filter(outbox::kind.eq("audit_broken"))
                .select((outbox::recipient_email, outbox::agreement_id))
                .load(c))
        })
        .unwrap();
    assert_eq!(alerts, vec![(w.admin.email.clone(), None)]);
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

/// Day by day at 08:00 local through the scheduler with its default jobs: a 90-day trial
/// that lapses gets its trial-end reminders 30, 7 and 1 days ahead and its decision
/// reminders 7 and 1 days ahead; a converted one gets its first installment's reminders 7
/// and 1 days ahead and one overdue reminder. Each once, to every party, never again.
#[actix_web::test]
async fn reminders_arrive_once_each_on_their_days() {
    use usefirst::db::schema::{outbox, reminders};
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let lapsing = id_of(&app.signed_insured(&w, &w.sme_b, "2026-03-10").await);
    let converting = id_of(&app.signed_insured(&w, &w.sme_a, "2026-03-05").await);
    let scheduler = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
    app.clock.advance(Duration::hours(23)); // 2026-03-03 08:00 local
    let mut converted = false;
    let mut reminded_on: Vec<(String, String, i32, i32, String)> = Vec::new();
    for _ in 0..140 {
        tick(&app, &scheduler).await;
        let today = app.clock.now().with_timezone(&tz).date_naive().to_string();
        if !converted && today == "2026-03-06" {
            let (_, a) = app
                .get(&w.sme_a.token, &format!("/api/v1/agreements/{converting}"))
                .await;
            assert_eq!(a["status"], "active");
            let (s, a) = app
                .act(
                    &w.sme_a.token,
                    &converting,
                    "convert",
                    version_of(&a),
                    json!({}),
                )
                .await;
            assert_eq!(s, 200, "{a}");
            converted = true;
        }
        let new: Vec<(String, String, i32, i32)> = app
            .db(|c| {
                usefirst::on_backend!(c, |c| reminders::table
                    .order((
                        reminders::agreement_id,
                        reminders::kind,
                        reminders::offset_days.desc()
                    ))
                    .select((
                        reminders::agreement_id,
                        reminders::kind,
                        reminders::offset_days,
                        reminders::line_number
                    ))
                    .load(c))
            })
            .unwrap();
        for r in new {
            if !reminded_on.iter().any(|k| {
                (k.0.as_str(), k.1.as_str(), k.2, k.3) == (r.0.as_str(), r.1.as_str(), r.2, r.3)
            }) {
                reminded_on.push((r.0, r.1, r.2, r.3, today.clone()));
            }
        }
        app.clock.advance(Duration::days(1));
    }
    let got = |id: &str| -> Vec<(String, i32, i32, String)> {
        reminded_on
            .iter()
            .filter(|r| r.0 == id)
            .map(|r| (r.1.clone(), r.2, r.3, r.4.clone()))
            .collect()
    };
    let r = |k: &str, o: i32, l: i32, d: &str| (k.to_string(), o, l, d.to_string());
    // tech_b: 60-day trial from 10 March (last day 8 May), 14 days to decide (until 22 May).
    let (_, a) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{lapsing}"))
        .await;
    assert_eq!(a["status"], "lapsed");
    let end =
        chrono::NaiveDate::parse_from_str(a["trial_end"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let deadline =
        chrono::NaiveDate::parse_from_str(a["decision_deadline"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    let before = |d: chrono::NaiveDate, n: i64| (d - Duration::days(n)).to_string();
    assert_eq!(
        got(&lapsing),
        vec![
            r("trial_end", 30, 0, &before(end, 30)),
            r("trial_end", 7, 0, &before(end, 7)),
            r("trial_end", 1, 0, &before(end, 1)),
            r("decision", 7, 0, &before(deadline, 7)),
            r("decision", 1, 0, &before(deadline, 1)),
        ]
    );
    // Converted on 6 March: the first of four quarterly installments is due 30 days later.
    let (_, st) = app
        .get(
            &w.sme_a.token,
            &format!("/api/v1/agreements/{converting}/settlement"),
        )
        .await;
    let first_due =
        chrono::NaiveDate::parse_from_str(st["lines"][0]["due"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    let second_due =
        chrono::NaiveDate::parse_from_str(st["lines"][1]["due"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    // The walk ends on 20 July: the first two lines (due 5 April and 5 July) go through all
    // their reminders; the third (October) is not yet near.
    assert_eq!(
        (first_due.to_string(), second_due.to_string()),
        ("2026-04-05".into(), "2026-07-05".into())
    );
    let expected = vec![
        r("installment", 7, 1, &before(first_due, 7)),
        r("installment", 1, 1, &before(first_due, 1)),
        r(
            "overdue",
            0,
            1,
            &(first_due + Duration::days(1)).to_string(),
        ),
        r("installment", 7, 2, &before(second_due, 7)),
        r("installment", 1, 2, &before(second_due, 1)),
        r(
            "overdue",
            0,
            2,
            &(second_due + Duration::days(1)).to_string(),
        ),
    ];
    let mut converting_got = got(&converting);
    converting_got.sort_by(|a, b| a.3.cmp(&b.3));
    assert_eq!(converting_got, expected);
    // Each reminder reached every party once: the SME's, the institute's and the insurer's users.
    let mails: Vec<(Option<String>, String)> = app
        .db(|c| {
            usefirst::on_backend!(c, |c| outbox::table
                .filter(outbox::kind.like("reminder_%"))
                .select((outbox::agreement_id, outbox::kind))
                .load(c))
        })
        .unwrap();
    let per_reminder = mails.len() / reminded_on.len();
    assert!(
        per_reminder >= 3,
        "{} mails for {} reminders",
        mails.len(),
        reminded_on.len()
    );
    assert_eq!(
        mails.len(),
        per_reminder * reminded_on.len(),
        "the same parties each time"
    );
}

/// When the audit check cannot read the chain, the failed run says why in the database's own
/// words (the table it could not read), not the API's "internal error".
#[actix_web::test]
async fn an_audit_check_that_cannot_read_the_chain_records_the_cause() {
    let app = TestApp::spawn().await;
    let scheduler = Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    app.db(|c| diesel::sql_query("ALTER TABLE audit_head RENAME TO audit_head_moved").execute(c))
        .unwrap();
    let failed = scheduler.run_now(&app.state, JobKind::VerifyAudit).unwrap();
    assert_eq!(failed.status, "failed");
    let error = failed.error.unwrap_or_default();
    assert!(error.contains("audit_head"), "{error}");
    assert!(!error.contains("internal error"), "{error}");
}
