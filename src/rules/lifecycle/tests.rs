//! Tests of the trial-agreement state machine (`agreements::lifecycle`).
//!
//! * **The rule table** — an independent, hand-written statement of who may take which action
//!   from which state and where it lands (from DESIGN.md's lifecycle section), checked against
//!   [`decide`] for every (status, action, actor) triple: 11 × 11 × 6 = 726 cases.
//! * **Dates** — what approve stamps, what signing late does, and the exact day each
//!   time-driven step (start, end_trial, lapse) and extend becomes possible.
//! * **`advance`** — catching up in one call, idempotence, and a day-by-day walk of a trial.
//! * **Properties** (proptest) — random facts and random command sequences never leave a final
//!   state, never panic, only land on the rule's targets, never move dates backwards; `advance`
//!   is a fixpoint made of legal scheduler steps.
//! * **Names** — `parse(as_str())` round-trips for every status and action.
//!
//! `inconsistent_facts` feeds facts the machine never makes itself (damaged rows): refused, never a panic.

use super::*;

use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

fn plus(date: NaiveDate, days: i64) -> NaiveDate {
    date + chrono::Duration::days(days)
}

const SME: By = By::User(Role::Sme);
const INSTITUTE: By = By::User(Role::Institute);
const ADMIN: By = By::User(Role::Admin);
const SYSTEM: By = By::System;

/// Every actor: each user role, then the scheduler.
fn all_actors() -> Vec<By> {
    Role::ALL
        .into_iter()
        .map(By::User)
        .chain([By::System])
        .collect()
}

/// The name an actor has in [`RULES`].
fn actor_name(by: By) -> &'static str {
    match by {
        By::User(role) => role.as_str(),
        By::System => "system",
    }
}

/// A command for `action` with ordinary parameters (90-day trial, 30-day decision window,
/// start on the requested date, 30-day extension).
fn command_for(action: Action) -> Command {
    match action {
        Action::Approve => Command::Approve {
            trial_days: 90,
            decision_days: 30,
            start: None,
        },
        Action::Reject => Command::Reject,
        Action::Withdraw => Command::Withdraw,
        Action::Sign => Command::Sign,
        Action::Convert => Command::Convert,
        Action::Decline => Command::Decline,
        Action::Terminate => Command::Terminate,
        Action::Extend => Command::Extend { days: 30 },
        Action::Start => Command::Start,
        Action::EndTrial => Command::EndTrial,
        Action::Lapse => Command::Lapse,
    }
}

/// A fresh request for a trial starting on `requested_start`.
fn requested(requested_start: NaiveDate) -> Facts {
    Facts {
        status: Status::Requested,
        requested_start,
        trial_start: None,
        trial_end: None,
        decision_deadline: None,
        extended: false,
        sme_signed: false,
        institute_signed: false,
    }
}

/// The standard trial used by the focused tests: 90 days from 2026-01-01 (through 2026-03-31),
/// decision due 30 days later (2026-04-30), in `status`, signed by both, not extended.
fn standard(status: Status) -> Facts {
    Facts {
        status,
        requested_start: d(2026, 1, 1),
        trial_start: Some(d(2026, 1, 1)),
        trial_end: Some(d(2026, 3, 31)),
        decision_deadline: Some(d(2026, 4, 30)),
        extended: false,
        sme_signed: true,
        institute_signed: true,
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The rule table, written out by hand
// ---------------------------------------------------------------------------------------------

use Status::{
    Active, Approved, AwaitingDecision, Converted, Declined, Lapsed, Rejected, Requested, Signed,
    Terminated, Withdrawn,
};

/// Who may do what, from where, landing where. Actor names are role names plus "system".
/// Insurers and auditors appear nowhere: they may do nothing.
#[rustfmt::skip]
const RULES: &[(Action, &[Status], &[&str], Status)] = &[
    // action             may leave from                  who may take it                 lands in
    (Action::Approve,   &[Requested],                   &["institute"],                 Approved),
    (Action::Reject,    &[Requested],                   &["institute"],                 Rejected),
    (Action::Withdraw,  &[Requested, Approved],         &["sme"],                       Withdrawn),
    // The first signature leaves the agreement approved (see `targets`); the second signs it.
    (Action::Sign,      &[Approved],                    &["sme", "institute"],          Signed),
    (Action::Start,     &[Signed],                      &["system"],                    Active),
    (Action::EndTrial,  &[Active],                      &["system"],                    AwaitingDecision),
    (Action::Lapse,     &[AwaitingDecision],            &["system"],                    Lapsed),
    (Action::Convert,   &[Active, AwaitingDecision],    &["sme"],                       Converted),
    (Action::Decline,   &[Active, AwaitingDecision],    &["sme"],                       Declined),
    (Action::Terminate, &[Active, AwaitingDecision],    &["sme", "institute", "admin"], Terminated),
    // Once only, and the agreement stays active with a later end date.
    (Action::Extend,    &[Active],                      &["institute"],                 Active),
];

/// The row of [`RULES`] for `action`.
fn rule(action: Action) -> (&'static [Status], &'static [&'static str], Status) {
    let rows: Vec<_> = RULES.iter().filter(|(a, ..)| *a == action).collect();
    assert_eq!(
        rows.len(),
        1,
        "RULES must have exactly one row for {action:?}"
    );
    let (_, from, who, to) = *rows[0];
    (from, who, to)
}

/// Whether the table lets `by` take `action`.
fn table_permits(action: Action, by: By) -> bool {
    rule(action).1.contains(&actor_name(by))
}

/// Every status `action` can land in when it succeeds.
fn targets(action: Action) -> Vec<Status> {
    let (_, _, to) = rule(action);
    if action == Action::Sign {
        vec![Approved, to]
    } else {
        vec![to]
    }
}

#[test]
fn rule_table_is_well_formed() {
    // One row per action, and only known actor names.
    for action in Action::ALL {
        rule(action);
    }
    assert_eq!(RULES.len(), Action::ALL.len());
    let known: Vec<&str> = all_actors().into_iter().map(actor_name).collect();
    for (action, from, who, _) in RULES {
        assert!(!from.is_empty(), "{action:?} leaves from nowhere");
        for name in *who {
            assert!(
                known.contains(name),
                "unknown actor {name:?} in the row for {action:?}"
            );
        }
        // Nothing leaves a final state.
        assert!(
            from.iter().all(|s| !s.is_final()),
            "{action:?} leaves a final state"
        );
    }
    // Insurers and auditors may do nothing.
    for (action, _, who, _) in RULES {
        assert!(
            !who.contains(&"insurer") && !who.contains(&"auditor"),
            "{action:?}"
        );
    }
    // The scheduler does exactly start, end_trial and lapse, and nobody else does them.
    for (action, _, who, _) in RULES {
        let time_driven = matches!(action, Action::Start | Action::EndTrial | Action::Lapse);
        if time_driven {
            assert_eq!(*who, &["system"][..], "{action:?}");
        } else {
            assert!(!who.contains(&"system"), "{action:?}");
        }
        assert_eq!(action.is_time_driven(), time_driven, "{action:?}");
    }
}

/// The facts used for one cell of the exhaustive table: dates that allow every action
/// ("today" well after them all, the request for approval in the future), the actor not yet
/// signed but the other side signed (so a permitted signature completes), not extended.
fn table_facts(status: Status, by: By, today: NaiveDate) -> Facts {
    let dated = status != Requested;
    Facts {
        status,
        requested_start: plus(today, 7),
        trial_start: dated.then(|| d(2026, 1, 1)),
        trial_end: dated.then(|| d(2026, 3, 31)),
        decision_deadline: dated.then(|| d(2026, 4, 30)),
        extended: false,
        sme_signed: by != SME,
        institute_signed: by != INSTITUTE,
    }
}

#[test]
fn every_status_action_actor_triple_follows_the_rule_table() {
    let today = d(2028, 6, 15); // well after every date in `table_facts`
    let mut checked = 0;
    for status in Status::ALL {
        for action in Action::ALL {
            for by in all_actors() {
                let (from, who, to) = rule(action);
                let facts = table_facts(status, by, today);
                let got = decide(&facts, by, &command_for(action), today);
                let cell = format!(
                    "{} / {} / {}",
                    status.as_str(),
                    action.as_str(),
                    actor_name(by)
                );
                if !who.contains(&actor_name(by)) {
                    assert_eq!(got, Err(Refusal::NotPermitted { action, by }), "{cell}");
                } else if !from.contains(&status) {
                    assert_eq!(got, Err(Refusal::WrongState { action, status }), "{cell}");
                } else {
                    match got {
                        Ok(next) => assert_eq!(next.status, to, "{cell}"),
                        Err(refusal) => panic!("{cell}: expected {to:?}, refused: {refusal}"),
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 11 * 11 * 6);
}

#[test]
fn first_signature_by_either_side_leaves_the_agreement_approved() {
    for by in [SME, INSTITUTE] {
        let mut facts = standard(Approved);
        facts.sme_signed = false;
        facts.institute_signed = false;
        let next = decide(&facts, by, &Command::Sign, d(2025, 12, 1)).unwrap();
        assert_eq!(next.status, Approved, "{by:?}");
        assert_eq!(
            (next.sme_signed, next.institute_signed),
            (by == SME, by == INSTITUTE)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Focused tests: approve, sign, start, end_trial, lapse, extend
// ---------------------------------------------------------------------------------------------

fn approve(trial_days: u32, decision_days: u32, start: Option<NaiveDate>) -> Command {
    Command::Approve {
        trial_days,
        decision_days,
        start,
    }
}

fn assert_invalid(result: Result<Facts, Refusal>, expected_field: &str) {
    match result {
        Err(Refusal::Invalid { field, .. }) => assert_eq!(field, expected_field),
        other => panic!("expected Invalid {{ field: {expected_field:?} }}, got {other:?}"),
    }
}

fn assert_not_now(result: Result<Facts, Refusal>, expected_action: Action) {
    match result {
        Err(Refusal::NotNow { action, .. }) => assert_eq!(action, expected_action),
        other => panic!("expected NotNow for {expected_action:?}, got {other:?}"),
    }
}

#[test]
fn approve_stamps_the_trial_dates() {
    let facts = requested(d(2026, 1, 1));
    let next = decide(&facts, INSTITUTE, &approve(90, 30, None), d(2025, 12, 1)).unwrap();
    assert_eq!(next.status, Approved);
    assert_eq!(next.trial_start, Some(d(2026, 1, 1)));
    assert_eq!(
        next.trial_end,
        Some(d(2026, 3, 31)),
        "90 days from 1 January end on 31 March"
    );
    assert_eq!(
        next.decision_deadline,
        Some(d(2026, 4, 30)),
        "deadline = end + decision_days"
    );
    assert!(!next.extended && !next.sme_signed && !next.institute_signed);
    assert_eq!(next.requested_start, facts.requested_start);
}

#[test]
fn approve_with_an_explicit_start_uses_it() {
    let facts = requested(d(2026, 1, 1));
    let next = decide(
        &facts,
        INSTITUTE,
        &approve(1, 1, Some(d(2026, 2, 28))),
        d(2025, 12, 1),
    )
    .unwrap();
    assert_eq!(next.trial_start, Some(d(2026, 2, 28)));
    assert_eq!(
        next.trial_end,
        Some(d(2026, 2, 28)),
        "a one-day trial ends the day it starts"
    );
    assert_eq!(next.decision_deadline, Some(d(2026, 3, 1)));
}

#[test]
fn approve_may_start_today_but_not_before() {
    let today = d(2026, 1, 10);
    // Starting today is fine.
    let ok = decide(&requested(today), INSTITUTE, &approve(90, 30, None), today).unwrap();
    assert_eq!(ok.trial_start, Some(today));
    // The requested start has passed.
    assert_invalid(
        decide(
            &requested(d(2026, 1, 9)),
            INSTITUTE,
            &approve(90, 30, None),
            today,
        ),
        "trial_start",
    );
    // An explicit start in the past.
    assert_invalid(
        decide(
            &requested(d(2026, 2, 1)),
            INSTITUTE,
            &approve(90, 30, Some(d(2026, 1, 9))),
            today,
        ),
        "trial_start",
    );
    // An explicit start overrides a past requested start.
    let moved = decide(
        &requested(d(2026, 1, 1)),
        INSTITUTE,
        &approve(90, 30, Some(today)),
        today,
    )
    .unwrap();
    assert_eq!(moved.trial_start, Some(today));
}

#[test]
fn approve_checks_the_periods() {
    let facts = requested(d(2026, 1, 1));
    let today = d(2025, 12, 1);
    assert_invalid(
        decide(&facts, INSTITUTE, &approve(0, 30, None), today),
        "trial_days",
    );
    assert_invalid(
        decide(
            &facts,
            INSTITUTE,
            &approve(MAX_PERIOD_DAYS + 1, 30, None),
            today,
        ),
        "trial_days",
    );
    assert_invalid(
        decide(&facts, INSTITUTE, &approve(u32::MAX, 30, None), today),
        "trial_days",
    );
    assert_invalid(
        decide(&facts, INSTITUTE, &approve(90, 0, None), today),
        "decision_days",
    );
    assert_invalid(
        decide(
            &facts,
            INSTITUTE,
            &approve(90, MAX_PERIOD_DAYS + 1, None),
            today,
        ),
        "decision_days",
    );
    // The limits themselves are accepted.
    let longest = decide(
        &facts,
        INSTITUTE,
        &approve(MAX_PERIOD_DAYS, MAX_PERIOD_DAYS, None),
        today,
    )
    .unwrap();
    let end = plus(d(2026, 1, 1), i64::from(MAX_PERIOD_DAYS) - 1);
    assert_eq!(longest.trial_end, Some(end));
    assert_eq!(
        longest.decision_deadline,
        Some(plus(end, i64::from(MAX_PERIOD_DAYS)))
    );
}

#[test]
fn approve_near_the_end_of_the_calendar_is_refused_not_a_panic() {
    let start = plus(NaiveDate::MAX, -10);
    let result = decide(&requested(start), INSTITUTE, &approve(90, 30, None), start);
    assert!(matches!(result, Err(Refusal::Invalid { .. })), "{result:?}");
}

#[test]
fn sme_then_institute_signature_signs_the_agreement() {
    let mut facts = standard(Approved);
    facts.sme_signed = false;
    facts.institute_signed = false;
    let today = d(2025, 12, 20);

    let after_sme = decide(&facts, SME, &Command::Sign, today).unwrap();
    assert_eq!(after_sme.status, Approved);
    assert!(after_sme.sme_signed && !after_sme.institute_signed);

    let after_both = decide(&after_sme, INSTITUTE, &Command::Sign, today).unwrap();
    assert_eq!(after_both.status, Signed);
    assert!(after_both.sme_signed && after_both.institute_signed);
    // Signed before the start date: the dates stay as approved.
    assert_eq!(after_both.trial_start, facts.trial_start);
    assert_eq!(after_both.trial_end, facts.trial_end);
    assert_eq!(after_both.decision_deadline, facts.decision_deadline);
}

#[test]
fn signing_twice_by_the_same_side_is_refused() {
    let mut facts = standard(Approved);
    facts.sme_signed = false;
    facts.institute_signed = false;
    let today = d(2025, 12, 20);
    for by in [SME, INSTITUTE] {
        let once = decide(&facts, by, &Command::Sign, today).unwrap();
        assert_not_now(decide(&once, by, &Command::Sign, today), Action::Sign);
    }
}

#[test]
fn completing_signatures_after_the_start_date_moves_the_dates_to_today() {
    let mut facts = standard(Approved); // 2026-01-01 ..= 2026-03-31, decide by 2026-04-30
    facts.institute_signed = false;
    let today = d(2026, 1, 11);
    let next = decide(&facts, INSTITUTE, &Command::Sign, today).unwrap();
    assert_eq!(next.status, Signed);
    assert_eq!(next.trial_start, Some(today));
    assert_eq!(next.trial_end, Some(d(2026, 4, 10)), "still a 90-day trial");
    assert_eq!(
        next.decision_deadline,
        Some(d(2026, 5, 10)),
        "still a 30-day decision window"
    );
    // The scheduler starts it the same day.
    assert_eq!(
        decide(&next, SYSTEM, &Command::Start, today)
            .unwrap()
            .status,
        Active
    );
}

#[test]
fn completing_signatures_on_the_start_date_keeps_the_dates() {
    let mut facts = standard(Approved);
    facts.sme_signed = false;
    let next = decide(&facts, SME, &Command::Sign, d(2026, 1, 1)).unwrap();
    assert_eq!(next.status, Signed);
    assert_eq!(
        (next.trial_start, next.trial_end, next.decision_deadline),
        (facts.trial_start, facts.trial_end, facts.decision_deadline)
    );
}

#[test]
fn a_first_signature_after_the_start_date_does_not_move_the_dates() {
    let mut facts = standard(Approved);
    facts.sme_signed = false;
    facts.institute_signed = false;
    let next = decide(&facts, SME, &Command::Sign, d(2026, 2, 1)).unwrap();
    assert_eq!(next.status, Approved);
    assert_eq!(next.trial_start, facts.trial_start);
    assert_eq!(next.trial_end, facts.trial_end);
}

#[test]
fn start_happens_on_the_start_date_not_before() {
    let facts = standard(Signed);
    assert_not_now(
        decide(&facts, SYSTEM, &Command::Start, d(2025, 12, 31)),
        Action::Start,
    );
    let on = decide(&facts, SYSTEM, &Command::Start, d(2026, 1, 1)).unwrap();
    assert_eq!(on.status, Active);
    assert_eq!(
        on,
        Facts {
            status: Active,
            ..facts.clone()
        },
        "start only changes the status"
    );
    assert_eq!(
        decide(&facts, SYSTEM, &Command::Start, d(2026, 2, 1))
            .unwrap()
            .status,
        Active
    );
}

#[test]
fn start_without_a_start_date_is_not_now() {
    let mut facts = standard(Signed);
    facts.trial_start = None;
    assert_not_now(
        decide(&facts, SYSTEM, &Command::Start, d(2030, 1, 1)),
        Action::Start,
    );
}

#[test]
fn end_trial_happens_the_day_after_the_trial_end() {
    let facts = standard(Active);
    assert_not_now(
        decide(&facts, SYSTEM, &Command::EndTrial, d(2026, 3, 31)),
        Action::EndTrial,
    );
    let next = decide(&facts, SYSTEM, &Command::EndTrial, d(2026, 4, 1)).unwrap();
    assert_eq!(
        next,
        Facts {
            status: AwaitingDecision,
            ..facts
        }
    );
}

#[test]
fn lapse_happens_the_day_after_the_decision_deadline() {
    let facts = standard(AwaitingDecision);
    assert_not_now(
        decide(&facts, SYSTEM, &Command::Lapse, d(2026, 4, 30)),
        Action::Lapse,
    );
    let next = decide(&facts, SYSTEM, &Command::Lapse, d(2026, 5, 1)).unwrap();
    assert_eq!(
        next,
        Facts {
            status: Lapsed,
            ..facts
        }
    );
}

#[test]
fn the_decision_can_be_made_up_to_the_deadline() {
    let facts = standard(AwaitingDecision);
    for cmd in [Command::Convert, Command::Decline, Command::Terminate] {
        let next = decide(&facts, SME, &cmd, d(2026, 4, 30)).unwrap();
        assert!(next.status.is_final(), "{cmd:?}");
    }
}

#[test]
fn extend_once_moves_the_end_and_the_deadline() {
    let facts = standard(Active);
    let today = d(2026, 2, 1);
    let once = decide(&facts, INSTITUTE, &Command::Extend { days: 30 }, today).unwrap();
    assert_eq!(once.status, Active);
    assert!(once.extended);
    assert_eq!(once.trial_start, facts.trial_start);
    assert_eq!(once.trial_end, Some(d(2026, 4, 30)));
    assert_eq!(once.decision_deadline, Some(d(2026, 5, 30)));
    // The trial now ends later: end_trial is not due on the old date.
    assert_not_now(
        decide(&once, SYSTEM, &Command::EndTrial, d(2026, 4, 1)),
        Action::EndTrial,
    );
    // A second extension is refused.
    assert_not_now(
        decide(&once, INSTITUTE, &Command::Extend { days: 1 }, today),
        Action::Extend,
    );
}

#[test]
fn extend_checks_the_days() {
    let facts = standard(Active);
    let today = d(2026, 2, 1);
    assert_invalid(
        decide(&facts, INSTITUTE, &Command::Extend { days: 0 }, today),
        "days",
    );
    assert_invalid(
        decide(
            &facts,
            INSTITUTE,
            &Command::Extend {
                days: MAX_PERIOD_DAYS + 1,
            },
            today,
        ),
        "days",
    );
    let longest = decide(
        &facts,
        INSTITUTE,
        &Command::Extend {
            days: MAX_PERIOD_DAYS,
        },
        today,
    )
    .unwrap();
    assert_eq!(
        longest.trial_end,
        Some(plus(d(2026, 3, 31), i64::from(MAX_PERIOD_DAYS)))
    );
}

#[test]
fn terminate_is_open_to_sme_institute_and_admin() {
    for status in [Active, AwaitingDecision] {
        for by in [SME, INSTITUTE, ADMIN] {
            let next = decide(&standard(status), by, &Command::Terminate, d(2026, 2, 1)).unwrap();
            assert_eq!(
                next,
                Facts {
                    status: Terminated,
                    ..standard(status)
                }
            );
        }
    }
}

#[test]
fn refusals_read_well() {
    let cases = [
        (
            Refusal::NotPermitted {
                action: Action::Approve,
                by: SME,
            },
            "a user with role sme may not approve",
        ),
        (
            Refusal::WrongState {
                action: Action::Lapse,
                status: Active,
            },
            "cannot lapse an agreement that is active",
        ),
        (
            Refusal::NotNow {
                action: Action::Extend,
                reason: "why".into(),
            },
            "cannot extend now: why",
        ),
        (
            Refusal::Invalid {
                field: "days",
                reason: "too many".into(),
            },
            "days: too many",
        ),
    ];
    for (refusal, text) in cases {
        assert_eq!(refusal.to_string(), text);
    }
    let by_scheduler = Refusal::NotPermitted {
        action: Action::Sign,
        by: SYSTEM,
    }
    .to_string();
    assert!(
        by_scheduler.contains("the scheduler") && by_scheduler.contains("sign"),
        "{by_scheduler}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. advance: the scheduler catching up
// ---------------------------------------------------------------------------------------------

fn final_facts(start: &Facts, steps: &[(Action, Facts)]) -> Facts {
    steps
        .last()
        .map(|(_, f)| f.clone())
        .unwrap_or_else(|| start.clone())
}

#[test]
fn advance_catches_up_a_long_forgotten_agreement_in_one_call() {
    let facts = standard(Signed);
    let today = d(2027, 1, 1);
    let steps = advance(&facts, today);
    let actions: Vec<Action> = steps.iter().map(|(a, _)| *a).collect();
    assert_eq!(actions, [Action::Start, Action::EndTrial, Action::Lapse]);
    let statuses: Vec<Status> = steps.iter().map(|(_, f)| f.status).collect();
    assert_eq!(statuses, [Active, AwaitingDecision, Lapsed]);
    // Only the status moves.
    assert_eq!(
        final_facts(&facts, &steps),
        Facts {
            status: Lapsed,
            ..facts
        }
    );
}

#[test]
fn advance_is_idempotent() {
    let facts = standard(Signed);
    let today = d(2027, 1, 1);
    let once = final_facts(&facts, &advance(&facts, today));
    assert!(advance(&once, today).is_empty());
    assert_eq!(due(&once, today), None);
}

#[test]
fn advance_does_nothing_to_agreements_without_a_scheduled_step() {
    let today = d(2030, 1, 1);
    for status in [
        Requested, Approved, Rejected, Withdrawn, Converted, Declined, Lapsed, Terminated,
    ] {
        assert!(advance(&standard(status), today).is_empty(), "{status:?}");
        assert_eq!(due(&standard(status), today), None, "{status:?}");
    }
}

#[test]
fn a_90_day_trial_walked_day_by_day() {
    let signed = standard(Signed); // 2026-01-01 ..= 2026-03-31, decide by 2026-04-30
    let (start, end, deadline) = (d(2026, 1, 1), d(2026, 3, 31), d(2026, 4, 30));
    let expected = |day: NaiveDate| {
        if day < start {
            Signed
        } else if day <= end {
            Active
        } else if day <= deadline {
            AwaitingDecision
        } else {
            Lapsed
        }
    };

    let mut walked = signed.clone(); // the scheduler running every day
    let mut day = d(2025, 12, 1);
    let mut transitions = Vec::new();
    while day <= d(2026, 6, 1) {
        let steps = advance(&walked, day);
        assert!(
            steps.len() <= 1,
            "{day}: a daily scheduler makes at most one step a day"
        );
        if let Some((action, _)) = steps.first() {
            transitions.push((*action, day));
        }
        walked = final_facts(&walked, &steps);
        assert_eq!(walked.status, expected(day), "daily walk on {day}");

        // A scheduler that only wakes up today reaches the same state.
        let caught_up = final_facts(&signed, &advance(&signed, day));
        assert_eq!(caught_up, walked, "catch-up on {day}");
        day = day.succ_opt().unwrap();
    }
    assert_eq!(
        transitions,
        [
            (Action::Start, d(2026, 1, 1)),
            (Action::EndTrial, d(2026, 4, 1)),
            (Action::Lapse, d(2026, 5, 1)),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Properties
// ---------------------------------------------------------------------------------------------

/// The first day of the date range the properties play in.
fn base() -> NaiveDate {
    d(2026, 1, 1)
}

fn day(offset: u32) -> NaiveDate {
    plus(base(), i64::from(offset))
}

fn arb_status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn arb_by() -> impl Strategy<Value = By> {
    prop::sample::select(all_actors())
}

/// Facts as the state machine itself can produce them: no trial dates while requested (and
/// perhaps none once rejected or withdrawn), otherwise start <= end <= deadline; flags random.
fn arb_facts() -> impl Strategy<Value = Facts> {
    (
        arb_status(),
        0u32..400, // requested start
        0u32..400, // trial start
        1u32..200, // trial length
        1u32..200, // decision window
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(status, req, start, len, window, dated, extended, sme_signed, institute_signed)| {
                let dated = match status {
                    Requested => false,
                    Rejected | Withdrawn => dated,
                    _ => true,
                };
                let (trial_start, trial_end, decision_deadline) = if dated {
                    let s = day(start);
                    let e = plus(s, i64::from(len) - 1);
                    (Some(s), Some(e), Some(plus(e, i64::from(window))))
                } else {
                    (None, None, None)
                };
                Facts {
                    status,
                    requested_start: day(req),
                    trial_start,
                    trial_end,
                    decision_deadline,
                    extended,
                    sme_signed,
                    institute_signed,
                }
            },
        )
}

/// Facts with no consistency at all: every date independently present or not, in a narrow
/// window so that they often coincide or come in the wrong order; half the time an agreement
/// waiting for its second signature, where the signing code does date arithmetic.
fn arb_any_facts() -> impl Strategy<Value = Facts> {
    let date = || (0u32..6).prop_map(day);
    (
        prop_oneof![1 => Just(Approved), 1 => arb_status()],
        date(),
        prop::option::weighted(0.9, date()),
        prop::option::weighted(0.9, date()),
        prop::option::weighted(0.9, date()),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                status,
                requested_start,
                trial_start,
                trial_end,
                decision_deadline,
                extended,
                sme,
                inst,
            )| Facts {
                status,
                requested_start,
                trial_start,
                trial_end,
                decision_deadline,
                extended,
                sme_signed: sme,
                institute_signed: inst,
            },
        )
}

/// A length in days: mostly ordinary, sometimes at or past the limits.
fn arb_days() -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => 1u32..200,
        1 => Just(0u32),
        1 => Just(MAX_PERIOD_DAYS),
        1 => Just(MAX_PERIOD_DAYS + 1),
        1 => any::<u32>(),
    ]
}

fn arb_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (
            arb_days(),
            arb_days(),
            prop::option::of((0u32..800).prop_map(day))
        )
            .prop_map(|(trial_days, decision_days, start)| Command::Approve {
                trial_days,
                decision_days,
                start
            }),
        Just(Command::Reject),
        Just(Command::Withdraw),
        Just(Command::Sign),
        Just(Command::Convert),
        Just(Command::Decline),
        Just(Command::Terminate),
        arb_days().prop_map(|days| Command::Extend { days }),
        Just(Command::Start),
        Just(Command::EndTrial),
        Just(Command::Lapse),
    ]
}

/// A command and who gives it: usually someone the table permits, so that sequences make
/// progress, sometimes anyone at all.
fn arb_step() -> impl Strategy<Value = (Command, By, u32)> {
    (
        arb_command(),
        arb_by(),
        any::<bool>(),
        any::<prop::sample::Index>(),
        prop_oneof![3 => Just(0u32), 2 => 0u32..40, 1 => 0u32..400],
    )
        .prop_map(|(cmd, anyone, permitted, index, wait)| {
            let who = rule(cmd.action()).1;
            let by = if permitted {
                let name = who[index.index(who.len())];
                all_actors()
                    .into_iter()
                    .find(|b| actor_name(*b) == name)
                    .unwrap()
            } else {
                anyone
            };
            (cmd, by, wait)
        })
}

/// `later` is not earlier than `earlier`, and not missing when `earlier` was set.
fn not_before(earlier: Option<NaiveDate>, later: Option<NaiveDate>) -> bool {
    match (earlier, later) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(e), Some(l)) => l >= e,
    }
}

/// Checks one `decide` call against the rule table and the date rules.
fn check_decision(
    before: &Facts,
    by: By,
    cmd: &Command,
    today: NaiveDate,
    result: &Result<Facts, Refusal>,
) -> Result<(), TestCaseError> {
    let action = cmd.action();
    let (from, _, _) = rule(action);
    match result {
        Err(refusal) => {
            if !table_permits(action, by) {
                prop_assert_eq!(refusal, &Refusal::NotPermitted { action, by });
            } else if !from.contains(&before.status) {
                prop_assert_eq!(
                    refusal,
                    &Refusal::WrongState {
                        action,
                        status: before.status
                    }
                );
            } else {
                prop_assert!(
                    matches!(refusal, Refusal::NotNow { .. } | Refusal::Invalid { .. }),
                    "unexpected refusal {:?}",
                    refusal
                );
            }
        }
        Ok(after) => {
            prop_assert!(
                !before.status.is_final(),
                "{:?} left final state {:?}",
                action,
                before.status
            );
            prop_assert!(
                table_permits(action, by),
                "{:?} by {:?} was allowed",
                action,
                by
            );
            prop_assert!(
                from.contains(&before.status),
                "{:?} from {:?} was allowed",
                action,
                before.status
            );
            prop_assert!(
                targets(action).contains(&after.status),
                "{:?} landed in {:?}",
                action,
                after.status
            );
            // Dates only move forward, and stay in order.
            prop_assert!(
                not_before(before.trial_start, after.trial_start),
                "trial_start moved back"
            );
            prop_assert!(
                not_before(before.trial_end, after.trial_end),
                "trial_end moved back"
            );
            prop_assert!(
                not_before(before.decision_deadline, after.decision_deadline),
                "deadline moved back"
            );
            if let (Some(s), Some(e), Some(dl)) =
                (after.trial_start, after.trial_end, after.decision_deadline)
            {
                prop_assert!(s <= e && e < dl, "dates out of order: {} {} {}", s, e, dl);
            }
            prop_assert_eq!(after.requested_start, before.requested_start);
            // What each action may touch besides the status.
            let only_status = Facts {
                status: after.status,
                ..before.clone()
            };
            match cmd {
                Command::Approve {
                    trial_days,
                    decision_days,
                    start,
                } => {
                    let s = start.unwrap_or(before.requested_start);
                    prop_assert!(s >= today);
                    let e = plus(s, i64::from(*trial_days) - 1);
                    prop_assert_eq!(after.trial_start, Some(s));
                    prop_assert_eq!(after.trial_end, Some(e));
                    prop_assert_eq!(
                        after.decision_deadline,
                        Some(plus(e, i64::from(*decision_days)))
                    );
                }
                Command::Sign => {
                    let (mine, theirs) = if by == SME {
                        (
                            after.sme_signed,
                            (before.institute_signed, after.institute_signed),
                        )
                    } else {
                        (
                            after.institute_signed,
                            (before.sme_signed, after.sme_signed),
                        )
                    };
                    prop_assert!(mine);
                    prop_assert_eq!(theirs.0, theirs.1);
                    prop_assert_eq!(
                        after.status == Signed,
                        after.sme_signed && after.institute_signed
                    );
                    prop_assert_eq!(after.extended, before.extended);
                }
                Command::Extend { days } => {
                    prop_assert!(!before.extended && after.extended);
                    let end = before.trial_end.unwrap();
                    prop_assert_eq!(after.trial_end, Some(plus(end, i64::from(*days))));
                    prop_assert_eq!(after.trial_start, before.trial_start);
                }
                Command::Start => {
                    prop_assert!(before.trial_start.is_some_and(|s| today >= s));
                    prop_assert_eq!(after, &only_status);
                }
                Command::EndTrial => {
                    prop_assert!(before.trial_end.is_some_and(|e| today > e));
                    prop_assert_eq!(after, &only_status);
                }
                Command::Lapse => {
                    prop_assert!(before.decision_deadline.is_some_and(|dl| today > dl));
                    prop_assert_eq!(after, &only_status);
                }
                Command::Reject
                | Command::Withdraw
                | Command::Convert
                | Command::Decline
                | Command::Terminate => {
                    prop_assert_eq!(after, &only_status);
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Single commands on any facts: the refusal or the result agrees with the rule table.
    #[test]
    fn any_single_command_follows_the_rules(
        facts in arb_facts(),
        by in arb_by(),
        cmd in arb_command(),
        today in (0u32..800).prop_map(day),
    ) {
        let result = decide(&facts, by, &cmd, today);
        check_decision(&facts, by, &cmd, today, &result)?;
    }

    /// Nothing leaves a final state, whoever asks, whenever.
    #[test]
    fn final_states_are_final(
        facts in arb_facts(),
        by in arb_by(),
        cmd in arb_command(),
        today in (0u32..800).prop_map(day),
    ) {
        prop_assume!(facts.status.is_final());
        prop_assert!(decide(&facts, by, &cmd, today).is_err());
        prop_assert!(advance(&facts, today).is_empty());
    }

    /// Sequences of commands, with time passing between them: every step is checked; once
    /// final, an agreement stays exactly as it is.
    #[test]
    fn random_sequences_follow_the_rules(
        facts in arb_facts(),
        first_day in 0u32..400,
        steps in prop::collection::vec(arb_step(), 1..40),
    ) {
        let mut facts = facts;
        let mut today = day(first_day);
        for (cmd, by, wait) in steps {
            today = plus(today, i64::from(wait));
            let result = decide(&facts, by, &cmd, today);
            check_decision(&facts, by, &cmd, today, &result)?;
            if facts.status.is_final() {
                prop_assert!(result.is_err());
            }
            if let Ok(next) = result {
                facts = next;
            }
        }
    }

    /// The same, but the scheduler also runs between the commands.
    #[test]
    fn random_sequences_with_the_scheduler_follow_the_rules(
        facts in arb_facts(),
        first_day in 0u32..400,
        steps in prop::collection::vec(arb_step(), 1..40),
    ) {
        let mut facts = facts;
        let mut today = day(first_day);
        for (cmd, by, wait) in steps {
            today = plus(today, i64::from(wait));
            for (action, next) in advance(&facts, today) {
                check_decision(&facts, SYSTEM, &command_for(action), today, &Ok(next.clone()))?;
                facts = next;
            }
            let result = decide(&facts, by, &cmd, today);
            check_decision(&facts, by, &cmd, today, &result)?;
            if let Ok(next) = result {
                facts = next;
            }
        }
    }

    /// `advance` is made of legal scheduler steps, leaves nothing due, and is a fixpoint.
    #[test]
    fn advance_is_a_fixpoint_of_legal_scheduler_steps(
        facts in arb_facts(),
        today in (0u32..1000).prop_map(day),
    ) {
        let steps = advance(&facts, today);
        prop_assert!(steps.len() <= 3);
        let mut current = facts.clone();
        for (action, next) in &steps {
            prop_assert!(action.is_time_driven());
            prop_assert_eq!(decide(&current, SYSTEM, &command_for(*action), today), Ok(next.clone()));
            current = next.clone();
        }
        prop_assert!(advance(&current, today).is_empty());
        prop_assert_eq!(due(&current, today), None);
        for action in [Action::Start, Action::EndTrial, Action::Lapse] {
            prop_assert!(decide(&current, SYSTEM, &command_for(action), today).is_err());
        }
    }

    /// Catching up in two stages ends where catching up once does.
    #[test]
    fn advance_in_two_stages_equals_advance_once(
        facts in arb_facts(),
        first in 0u32..800,
        later in 0u32..400,
    ) {
        let (t1, t2) = (day(first), day(first + later));
        let staged = final_facts(&facts, &advance(&facts, t1));
        let staged = final_facts(&staged, &advance(&staged, t2));
        prop_assert_eq!(staged, final_facts(&facts, &advance(&facts, t2)));
    }

    /// `decide` never panics on the facts the state machine produces, whatever the command,
    /// the actor and the day.
    #[test]
    fn decide_never_panics(
        facts in arb_facts(),
        by in arb_by(),
        cmd in arb_command(),
        today in (0u32..800).prop_map(day),
    ) {
        let _ = decide(&facts, by, &cmd, today);
        let _ = due(&facts, today);
        let _ = advance(&facts, today);
    }
}

/// Facts the state machine never produces itself (damaged or imported rows) are refused,
/// never a panic.
mod inconsistent_facts {
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

        /// `decide` and `advance` never panic, even on facts the state machine would never
        /// produce (dates missing or out of order), e.g. rows damaged in the database.
        #[test]
        fn decide_never_panics_on_inconsistent_facts(
            facts in arb_any_facts(),
            by in prop_oneof![2 => prop::sample::select(vec![SME, INSTITUTE]), 1 => arb_by()],
            cmd in prop_oneof![2 => Just(Command::Sign), 1 => arb_command()],
            today in (0u32..12).prop_map(day),
        ) {
            let _ = decide(&facts, by, &cmd, today);
            let _ = advance(&facts, today);
        }
    }

    #[test]
    fn sign_with_trial_end_the_day_before_start_is_refused_not_a_panic() {
        let mut facts = standard(Approved);
        facts.trial_start = Some(d(2026, 1, 10));
        facts.trial_end = Some(d(2026, 1, 9)); // damaged: ends before it starts
        facts.institute_signed = false;
        // Completing the signatures after the start date recomputes the trial length:
        // (end - start) + 1 = 0 days, computed as `-1 as u32 + 1`, overflows.
        let result = decide(&facts, INSTITUTE, &Command::Sign, d(2026, 1, 20));
        assert!(result.is_err(), "{result:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Names
// ---------------------------------------------------------------------------------------------

#[test]
fn status_names_round_trip() {
    for status in Status::ALL {
        assert_eq!(Status::parse(status.as_str()), Some(status));
        // The API's JSON spelling is the same name.
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            serde_json::json!(status.as_str())
        );
    }
    let mut names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Status::ALL.len(), "status names are distinct");
    assert_eq!(Status::parse("Active"), None);
    assert_eq!(Status::parse(""), None);
}

#[test]
fn action_names_round_trip() {
    for action in Action::ALL {
        assert_eq!(Action::parse(action.as_str()), Some(action));
        assert_eq!(
            serde_json::to_value(action).unwrap(),
            serde_json::json!(action.as_str())
        );
        assert_eq!(command_for(action).action(), action);
    }
    let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Action::ALL.len(), "action names are distinct");
    assert_eq!(Action::parse("end-trial"), None);
    assert_eq!(Action::parse(""), None);
}

#[test]
fn final_states_are_the_ones_nothing_leaves() {
    let finals: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_final()).collect();
    assert_eq!(
        finals,
        [Rejected, Withdrawn, Converted, Declined, Lapsed, Terminated]
    );
}
