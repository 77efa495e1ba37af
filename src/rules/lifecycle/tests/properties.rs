//! Properties of the state machine (proptest), facts it never makes itself, and names.

use super::dates::final_facts;
use super::*;

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
