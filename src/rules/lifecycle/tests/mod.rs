//! Tests of the trial-agreement state machine (`rules::lifecycle`).
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
fn the_ends_before_a_trial_are_the_final_states_reached_before_it_starts() {
    let before_trial = [Requested, Approved, Signed];
    for action in Action::ALL {
        let (from, _, to) = rule(action);
        let from_before = from.iter().all(|s| before_trial.contains(s));
        assert_eq!(
            to.ended_before_trial(),
            to.is_final() && from_before,
            "{action:?} -> {to:?}"
        );
    }
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

mod dates;
mod properties;

// ---------------------------------------------------------------------------------------------
// What a user may take now
// ---------------------------------------------------------------------------------------------

/// `open_to` offers exactly the actions `decide` accepts from each role, in every status,
/// with either side signed or not and the trial extended or not (on a day dates allow).
#[test]
fn open_to_offers_exactly_what_decide_accepts() {
    let today = d(2026, 1, 1);
    for status in Status::ALL {
        for (sme_signed, institute_signed, extended) in [
            (false, false, false),
            (true, false, false),
            (false, true, false),
            (true, true, true),
        ] {
            let facts = Facts {
                sme_signed,
                institute_signed,
                extended,
                ..standard(status)
            };
            for role in Role::ALL {
                let open = open_to(&facts, role);
                for action in Action::ALL {
                    let accepted =
                        decide(&facts, By::User(role), &command_for(action), today).is_ok();
                    assert_eq!(
                        open.contains(&action),
                        accepted,
                        "{} {} from {} (signed {sme_signed}/{institute_signed}, extended {extended})",
                        role.as_str(),
                        action.as_str(),
                        status.as_str()
                    );
                }
            }
        }
    }
    // The plain cases a page relies on.
    let requested = requested(today);
    assert_eq!(
        open_to(&requested, Role::Institute),
        [Action::Approve, Action::Reject]
    );
    assert_eq!(open_to(&requested, Role::Sme), [Action::Withdraw]);
    assert!(open_to(&standard(Active), Role::Insurer).is_empty());
    assert!(!open_to(&standard(Active), Role::Institute).contains(&Action::Convert));
}
