//! `seed-synthetic`: years of history whose every date is consistent with the lifecycle and
//! with today, whose money is what the settlement code makes, and which leaves the audit chain
//! whole and nothing due for the scheduler but the trials asked to be due.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use usefirst::agreements::model::AgreementRow;
use usefirst::db::schema::{
    agreements, conversion_contracts, insurance_claims, insurance_policies, payment_allocations,
    payments, schedule_lines,
};
use usefirst::reports::model::Month;
use usefirst::seed::SyntheticOptions;

use crate::helpers::*;

const N: u32 = 2_000;
const DUE: u32 = 12;

#[actix_web::test]
async fn synthetic_history_is_consistent_and_leaves_only_the_due_trials_to_the_scheduler() {
    let app = TestApp::spawn().await;
    usefirst::seed::demo(&app.state).unwrap();
    let demo_count: i64 = app.db(|c| agreements::table.count().get_result(c)).unwrap();
    let opts = SyntheticOptions {
        due: DUE,
        years: 3,
        ..SyntheticOptions::new(N)
    };
    let summary = usefirst::seed::synthetic(&app.state, &opts).unwrap();
    assert_eq!(summary.agreements, u64::from(N));
    assert_eq!(summary.run, 1);

    let tz = app.state.tz;
    let now = app.clock.now();
    let today = now.with_timezone(&tz).date_naive();
    let day = |t: NaiveDateTime| Utc.from_utc_datetime(&t).with_timezone(&tz).date_naive();
    let midnight = |d: NaiveDate| usefirst::reports::figures::midnight(tz, d).naive_utc();
    let rows: Vec<AgreementRow> = app
        .db(|c| agreements::table.select(AgreementRow::as_select()).load(c))
        .unwrap();
    assert_eq!(rows.len() as i64, demo_count + i64::from(N));

    let mut by_status: HashMap<String, i64> = HashMap::new();
    let mut due_today = 0;
    for a in &rows {
        *by_status.entry(a.status.clone()).or_insert(0) += 1;
        let final_state = matches!(
            a.status.as_str(),
            "rejected" | "withdrawn" | "converted" | "declined" | "lapsed" | "terminated"
        );
        let started = matches!(
            a.status.as_str(),
            "active" | "awaiting_decision" | "converted" | "declined" | "lapsed" | "terminated"
        );
        let ctx = format!("{} {} {:?}", a.number, a.status, a);
        assert!(a.created_at < now.naive_utc(), "{ctx}");
        assert!(a.updated_at >= a.created_at, "{ctx}");
        if let Some(at) = a.approved_at {
            assert!(at > a.created_at, "approved after the request: {ctx}");
            assert!(a.terms_snapshot.is_some(), "terms fixed at approval: {ctx}");
            let (start, end, deadline) = (
                a.trial_start.unwrap(),
                a.trial_end.unwrap(),
                a.decision_deadline.unwrap(),
            );
            assert!(
                start > day(at),
                "trial starts after the approval day: {ctx}"
            );
            assert!((59..=119).contains(&(end - start).num_days()), "{ctx}");
            assert!((14..=30).contains(&(deadline - end).num_days()), "{ctx}");
            for signed in [a.sme_signed_at, a.institute_signed_at]
                .into_iter()
                .flatten()
            {
                assert!(signed >= at, "signed after approval: {ctx}");
                // The last signature moves a start date that has passed to its own day.
                if a.status != "approved" {
                    assert!(day(signed) <= start, "signed by the first day: {ctx}");
                }
            }
        } else {
            assert!(
                matches!(a.status.as_str(), "requested" | "rejected" | "withdrawn"),
                "{ctx}"
            );
        }
        assert_eq!(a.closed_at.is_some(), final_state, "{ctx}");
        assert_eq!(a.started_on.is_some(), started, "{ctx}");
        if started {
            assert_eq!(a.started_on, a.trial_start, "{ctx}");
            assert!(
                a.sme_signed_at.is_some() && a.institute_signed_at.is_some(),
                "{ctx}"
            );
        }
        let (start, end) = (a.trial_start, a.trial_end);
        match a.status.as_str() {
            "active" => {
                assert!(
                    a.trial_ended_on.is_none() && start.unwrap() <= today,
                    "{ctx}"
                );
                assert!(
                    end.unwrap() > today,
                    "an active trial ends after today: {ctx}"
                );
            }
            "awaiting_decision" => {
                assert_eq!(a.trial_ended_on, end, "{ctx}");
                assert!(
                    end.unwrap() < today && a.decision_deadline.unwrap() >= today,
                    "{ctx}"
                );
            }
            "signed" => {
                if start == Some(today) {
                    due_today += 1;
                } else {
                    assert!(start.unwrap() > today, "a signed trial starts later: {ctx}");
                }
            }
            "approved" | "requested" => assert!(a.trial_ended_on.is_none(), "{ctx}"),
            "lapsed" => {
                assert_eq!(a.trial_ended_on, end, "{ctx}");
                let after_deadline = a.decision_deadline.unwrap().succ_opt().unwrap();
                assert_eq!(
                    day(a.closed_at.unwrap()),
                    after_deadline,
                    "lapses the day after: {ctx}"
                );
                assert!(a.closed_at.unwrap() >= midnight(after_deadline), "{ctx}");
            }
            "converted" | "declined" | "terminated" => {
                let ended = a.trial_ended_on.unwrap();
                assert!(ended >= start.unwrap() && ended <= end.unwrap(), "{ctx}");
                assert_eq!(ended, end.unwrap().min(day(a.closed_at.unwrap())), "{ctx}");
            }
            _ => {}
        }
        if let Some(closed) = a.closed_at {
            for step in [
                Some(a.created_at),
                a.approved_at,
                a.sme_signed_at,
                a.institute_signed_at,
            ]
            .into_iter()
            .flatten()
            {
                assert!(closed > step, "closed after every step: {ctx}");
            }
            assert!(closed < now.naive_utc(), "{ctx}");
        }
        // As the transition path computes it (agreements/store.rs, `milestones`).
        let expected = match a.status.as_str() {
            "converted" | "declined" | "lapsed" => {
                Some((day(a.closed_at.unwrap()) - end.unwrap()).num_days().max(0) as i32)
            }
            _ => None,
        };
        assert_eq!(a.decision_days, expected, "{ctx}");
    }
    assert_eq!(due_today, DUE as i64);
    // The mix, roughly.
    let share = |s: &str| by_status.get(s).copied().unwrap_or(0) as f64 / rows.len() as f64;
    assert!((0.33..0.47).contains(&share("converted")), "{by_status:?}");
    assert!((0.15..0.25).contains(&share("declined")), "{by_status:?}");
    assert!((0.05..0.11).contains(&share("active")), "{by_status:?}");
    for s in [
        "requested",
        "approved",
        "signed",
        "awaiting_decision",
        "lapsed",
        "terminated",
        "withdrawn",
    ] {
        assert!(share(s) > 0.005, "{s}: {by_status:?}");
    }

    // Every conversion has its contract, dated the local day it converted.
    let contracts: HashMap<String, NaiveDate> = app
        .db(|c| {
            conversion_contracts::table
                .select((
                    conversion_contracts::agreement_id,
                    conversion_contracts::converted_on,
                ))
                .load::<(String, NaiveDate)>(c)
        })
        .unwrap()
        .into_iter()
        .collect();
    for a in rows.iter().filter(|a| a.status == "converted") {
        assert_eq!(
            contracts.get(&a.id).copied(),
            Some(day(a.closed_at.unwrap())),
            "{}",
            a.number
        );
    }
    assert_eq!(contracts.len(), by_status["converted"] as usize);

    // Paid amounts are the sums of the allocations, and never more than the line.
    let lines: Vec<(String, i32, i64, i64)> = app
        .db(|c| {
            schedule_lines::table
                .select((
                    schedule_lines::agreement_id,
                    schedule_lines::number,
                    schedule_lines::amount_minor,
                    schedule_lines::paid_minor,
                ))
                .load(c)
        })
        .unwrap();
    let allocations: Vec<(String, i32, i64)> = app
        .db(|c| {
            payment_allocations::table
                .inner_join(payments::table)
                .select((
                    payments::agreement_id,
                    payment_allocations::line_number,
                    payment_allocations::amount_minor,
                ))
                .load(c)
        })
        .unwrap();
    let mut allocated: HashMap<(String, i32), i64> = HashMap::new();
    for (id, line, amount) in allocations {
        *allocated.entry((id, line)).or_insert(0) += amount;
    }
    let mut paid_lines = 0;
    for (id, number, amount, paid) in &lines {
        let sum = allocated.get(&(id.clone(), *number)).copied().unwrap_or(0);
        assert_eq!(*paid, sum, "line {number} of {id}");
        assert!(*paid <= *amount, "line {number} of {id}");
        paid_lines += (*paid > 0) as usize;
    }
    assert!(paid_lines > 100, "payments were made ({paid_lines} lines)");
    assert!(summary.payments_via_record_payment > 0, "{summary:?}");
    let received: Vec<(String, NaiveDate)> = app
        .db(|c| {
            payments::table
                .select((payments::agreement_id, payments::received_on))
                .load(c)
        })
        .unwrap();
    for (id, on) in received {
        assert!(
            on >= contracts[&id] && on <= today,
            "payment on {on} of {id}"
        );
    }

    // Premiums split exactly; claims decided after filing and paid after deciding.
    type PolicyRow = (String, i64, String, i64, i64, i64, i64, NaiveDateTime);
    let policies: Vec<PolicyRow> = app
        .db(|c| {
            insurance_policies::table
                .select((
                    insurance_policies::agreement_id,
                    insurance_policies::coverage_minor,
                    insurance_policies::premium_rate,
                    insurance_policies::premium_minor,
                    insurance_policies::sme_pays_minor,
                    insurance_policies::institute_pays_minor,
                    insurance_policies::subsidy_minor,
                    insurance_policies::bound_at,
                ))
                .load(c)
        })
        .unwrap();
    assert!(policies.len() > 100);
    let by_id: HashMap<&str, &AgreementRow> = rows.iter().map(|a| (a.id.as_str(), a)).collect();
    for (agreement, coverage, rate, premium, sme, inst, subsidy, bound_at) in &policies {
        let rate: rust_decimal::Decimal = rate.parse().unwrap();
        let expected = usefirst::settlement::insurance::premium(
            *coverage,
            rate,
            app.state.cfg.settlement.rounding,
        )
        .unwrap();
        assert_eq!(*premium, expected);
        assert_eq!(sme + inst + subsidy, *premium);
        let a = by_id[agreement.as_str()];
        assert!(a.insurer_id.is_some());
        assert_eq!(
            Some(*bound_at),
            a.sme_signed_at.max(a.institute_signed_at),
            "{}",
            a.number
        );
    }
    type ClaimTimes = (
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let claims: Vec<ClaimTimes> = app
        .db(|c| {
            insurance_claims::table
                .select((
                    insurance_claims::agreement_id,
                    insurance_claims::status,
                    insurance_claims::filed_at,
                    insurance_claims::decided_at,
                    insurance_claims::paid_at,
                ))
                .load(c)
        })
        .unwrap();
    assert!(!claims.is_empty());
    for (agreement, status, filed, decided, paid) in &claims {
        let a = by_id[agreement.as_str()];
        assert!(
            *filed >= midnight(a.started_on.unwrap()),
            "filed in the trial: {}",
            a.number
        );
        assert!(
            day(*filed) <= a.trial_end.unwrap(),
            "filed in the trial: {}",
            a.number
        );
        assert_eq!(
            decided.is_some(),
            matches!(status.as_str(), "approved" | "paid" | "rejected")
        );
        assert_eq!(paid.is_some(), status == "paid");
        assert!(decided.is_none_or(|d| d >= *filed) && paid.is_none_or(|p| Some(p) >= *decided));
    }

    // The report counts what the rows say (an agreement closing at 23:30 local on the
    // month's last day is that month's).
    let month = Month::of(today).prev();
    let report = usefirst::app::reports::figures(&app.state, month).unwrap();
    let in_month = |t: Option<NaiveDateTime>| t.is_some_and(|t| Month::of(day(t)) == month);
    let count = |status: &str| {
        rows.iter()
            .filter(|a| a.status == status && in_month(a.closed_at))
            .count() as i64
    };
    assert_eq!(report.counts.conversions.month, count("converted"));
    assert_eq!(report.counts.declines.month, count("declined"));
    assert_eq!(
        report.counts.requests.month,
        rows.iter().filter(|a| in_month(Some(a.created_at))).count() as i64
    );
    let month_end = midnight(month.next().first_day());
    assert_eq!(
        report.counts.requests.cumulative,
        rows.iter().filter(|a| a.created_at < month_end).count() as i64
    );
    assert!(report.counts.conversions.month > 0);

    // Nothing is due for the scheduler but the trials asked to be due; the chain holds.
    assert_eq!(app.close_royalty_years(), 0);
    assert_eq!(app.advance(), DUE as usize);
    let v = app.db(usefirst::audit::verify).unwrap();
    assert!(v.ok, "{v:?}");

    // The roll-ups the triggers kept through the seeding and the scheduler's transitions say
    // what the tables say: every month of the history in the service's zone, and some in
    // zones whose midnights cut through a UTC hour (+05:30, +05:45) or move with DST.
    tallies_equal_tables(&app, tz, today, 40);
    for zone in ["Asia/Kolkata", "Asia/Kathmandu", "America/Havana"] {
        tallies_equal_tables(&app, zone.parse().unwrap(), today, 8);
    }
    let check = usefirst::app::reports::check_tallies(&app.state, month).unwrap();
    assert_eq!(check.differences(), Vec::<String>::new());
    assert_eq!(
        check.from_tallies.counts.requests.cumulative,
        report.counts.requests.cumulative
    );

    // A second run adds as much again without clashing with the first.
    let again = usefirst::seed::synthetic(&app.state, &SyntheticOptions::new(300)).unwrap();
    assert_eq!(again.run, 2);
    let total: i64 = app.db(|c| agreements::table.count().get_result(c)).unwrap();
    assert_eq!(total, demo_count + i64::from(N) + 300);
    assert_eq!((app.advance(), app.close_royalty_years()), (0, 0));
    let v = app.db(usefirst::audit::verify).unwrap();
    assert!(v.ok, "{v:?}");
}

/// The report of each of the last `months` months in `tz`, from the tallies and from the
/// tables, as the database stands: the same, figure for figure.
fn tallies_equal_tables(app: &TestApp, tz: chrono_tz::Tz, today: NaiveDate, months: usize) {
    use usefirst::reports::figures::{monthly_from, Source};
    let now = app.clock.now();
    let mut month = Month::of(today);
    for _ in 0..months {
        let (a, b) = app.db(|c| {
            (
                monthly_from(c, Source::Tallies, tz, month, now).unwrap(),
                monthly_from(c, Source::Tables, tz, month, now).unwrap(),
            )
        });
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap(),
            "{month} in {tz}"
        );
        month = month.prev();
    }
}

/// On an empty database `seed-synthetic` loads the demo it builds on first, then adds its
/// history; a second run finds the demo and does not load it again.
#[actix_web::test]
async fn on_an_empty_database_the_demo_is_loaded_first() {
    use usefirst::db::schema::users;
    let app = TestApp::spawn().await;
    let demo_admins = || {
        app.db(|c| {
            users::table
                .filter(users::email.eq("admin@usefirst.demo"))
                .count()
                .get_result::<i64>(c)
        })
        .unwrap()
    };
    assert_eq!(demo_admins(), 0);
    let opts = SyntheticOptions {
        years: 1,
        ..SyntheticOptions::new(200)
    };
    let first = usefirst::seed::synthetic(&app.state, &opts).unwrap();
    assert!(first.demo_loaded);
    assert_eq!(first.agreements, 200);
    assert_eq!(demo_admins(), 1);
    // While the tallies are paused (a bulk load under way, or one cut short) the report reads
    // the tables: stale tallies are never shown. Counting them again lifts the pause.
    use usefirst::reports::tallies;
    let month = Month::of(app.clock.now().with_timezone(&app.state.tz).date_naive()).prev();
    let right = usefirst::app::reports::figures(&app.state, month).unwrap();
    app.state
        .db
        .write(|c| -> Result<(), usefirst::error::AppError> {
            tallies::pause(c, app.clock.now())?;
            diesel::sql_query("DELETE FROM report_tallies").execute(c)?;
            Ok(())
        })
        .unwrap();
    let while_paused = usefirst::app::reports::figures(&app.state, month).unwrap();
    assert_eq!(while_paused.counts, right.counts);
    assert!(right.counts.requests.cumulative > 0);
    usefirst::app::reports::rebuild_tallies(&app.state).unwrap();
    assert!(!app.db(tallies::paused).unwrap());
    let check = usefirst::app::reports::check_tallies(&app.state, month).unwrap();
    assert_eq!(check.differences(), Vec::<String>::new());
    assert_eq!(check.from_tallies.counts, right.counts);

    let second = usefirst::seed::synthetic(&app.state, &opts).unwrap();
    assert!(!second.demo_loaded);
    assert_eq!(second.run, 2);
    assert_eq!(demo_admins(), 1);
    let v = app.db(usefirst::audit::verify).unwrap();
    assert!(v.ok, "{v:?}");
}
