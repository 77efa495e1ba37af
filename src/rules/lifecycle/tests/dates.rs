//! Focused tests of the dates: what approve stamps, signing, and the exact day each
//! time-driven step (start, end_trial, lapse) and extend becomes possible; then `advance`
//! catching up.

use super::*;

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

pub(super) fn final_facts(start: &Facts, steps: &[(Action, Facts)]) -> Facts {
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
