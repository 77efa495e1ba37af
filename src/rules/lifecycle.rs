//! The trial-agreement state machine: the only place that decides whether a transition is
//! allowed, by whom, and what it stamps. Pure: no IO, no clock (callers pass "today" in the
//! agreement's time zone). Handlers and the time-driven advance both call [`decide`].
//!
//! ```text
//! requested ──approve──▶ approved ──both sign──▶ signed ──start date──▶ active
//!   │ reject / withdraw     │ withdraw                                  │ trial end
//!   ▼                       ▼                                           ▼
//! rejected / withdrawn   withdrawn                              awaiting_decision
//!                                    convert ◀──────────(active too)─────┤├──▶ decline
//!                                                            deadline passes ▼
//!                                                                       lapsed
//! active / awaiting_decision ──terminate──▶ terminated
//! active ──extend (once, institute)──▶ active with a later end date
//! ```
//!
//! Dates: the trial runs from `trial_start` through `trial_end` inclusive; the decision is
//! due by `decision_deadline` inclusive. The day after each, the scheduler moves on.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rules::roles::Role;

/// Where an agreement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Requested,
    Approved,
    Rejected,
    Withdrawn,
    Signed,
    Active,
    AwaitingDecision,
    Converted,
    Declined,
    Lapsed,
    Terminated,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::Requested,
        Status::Approved,
        Status::Rejected,
        Status::Withdrawn,
        Status::Signed,
        Status::Active,
        Status::AwaitingDecision,
        Status::Converted,
        Status::Declined,
        Status::Lapsed,
        Status::Terminated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Requested => "requested",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
            Status::Signed => "signed",
            Status::Active => "active",
            Status::AwaitingDecision => "awaiting_decision",
            Status::Converted => "converted",
            Status::Declined => "declined",
            Status::Lapsed => "lapsed",
            Status::Terminated => "terminated",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Ended before its trial began: the request was rejected or withdrawn (nothing of the
    /// trial happened; a demand it came from is open again).
    pub fn ended_before_trial(self) -> bool {
        matches!(self, Status::Rejected | Status::Withdrawn)
    }

    /// No transition leaves a final state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Rejected
                | Status::Withdrawn
                | Status::Converted
                | Status::Declined
                | Status::Lapsed
                | Status::Terminated
        )
    }
}

/// What can be done to an agreement. The last three are made only by the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Approve,
    Reject,
    Withdraw,
    Sign,
    Convert,
    Decline,
    Terminate,
    Extend,
    Start,
    EndTrial,
    Lapse,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::Approve,
        Action::Reject,
        Action::Withdraw,
        Action::Sign,
        Action::Convert,
        Action::Decline,
        Action::Terminate,
        Action::Extend,
        Action::Start,
        Action::EndTrial,
        Action::Lapse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Withdraw => "withdraw",
            Action::Sign => "sign",
            Action::Convert => "convert",
            Action::Decline => "decline",
            Action::Terminate => "terminate",
            Action::Extend => "extend",
            Action::Start => "start",
            Action::EndTrial => "end_trial",
            Action::Lapse => "lapse",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Made by the scheduler as time passes, never by a person.
    pub fn is_time_driven(self) -> bool {
        matches!(self, Action::Start | Action::EndTrial | Action::Lapse)
    }

    /// The states this action may leave from.
    pub fn from_states(self) -> &'static [Status] {
        match self {
            Action::Approve | Action::Reject => &[Status::Requested],
            Action::Withdraw => &[Status::Requested, Status::Approved],
            Action::Sign => &[Status::Approved],
            Action::Start => &[Status::Signed],
            Action::EndTrial => &[Status::Active],
            Action::Convert | Action::Decline | Action::Terminate => {
                &[Status::Active, Status::AwaitingDecision]
            }
            Action::Extend => &[Status::Active],
            Action::Lapse => &[Status::AwaitingDecision],
        }
    }

    /// Who may take this action (on an agreement their organisation is party to).
    pub fn allowed_by(self, by: By) -> bool {
        match by {
            By::System => self.is_time_driven(),
            By::User(role) => match self {
                Action::Approve | Action::Reject | Action::Extend => role == Role::Institute,
                Action::Withdraw | Action::Convert | Action::Decline => role == Role::Sme,
                Action::Sign => matches!(role, Role::Sme | Role::Institute),
                Action::Terminate => matches!(role, Role::Sme | Role::Institute | Role::Admin),
                Action::Start | Action::EndTrial | Action::Lapse => false,
            },
        }
    }
}

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    User(Role),
    System,
}

/// The facts of an agreement the state machine reads and stamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub status: Status,
    pub requested_start: NaiveDate,
    pub trial_start: Option<NaiveDate>,
    pub trial_end: Option<NaiveDate>,
    pub decision_deadline: Option<NaiveDate>,
    pub extended: bool,
    pub sme_signed: bool,
    pub institute_signed: bool,
}

/// A request to change an agreement, with what the action needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The institute approves; the trial length and decision window come from the terms.
    Approve {
        trial_days: u32,
        decision_days: u32,
        start: Option<NaiveDate>,
    },
    Reject,
    Withdraw,
    Sign,
    Convert,
    Decline,
    Terminate,
    /// Lengthen the trial by this many days (once).
    Extend {
        days: u32,
    },
    Start,
    EndTrial,
    Lapse,
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Approve { .. } => Action::Approve,
            Command::Reject => Action::Reject,
            Command::Withdraw => Action::Withdraw,
            Command::Sign => Action::Sign,
            Command::Convert => Action::Convert,
            Command::Decline => Action::Decline,
            Command::Terminate => Action::Terminate,
            Command::Extend { .. } => Action::Extend,
            Command::Start => Action::Start,
            Command::EndTrial => Action::EndTrial,
            Command::Lapse => Action::Lapse,
        }
    }
}

/// Longest trial, decision window or extension the platform accepts, in days.
pub const MAX_PERIOD_DAYS: u32 = 3 * 366;

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// This role never takes this action.
    NotPermitted { action: Action, by: By },
    /// The action does not leave from the current state.
    WrongState { action: Action, status: Status },
    /// Right state, but not yet / no longer possible (date not reached, already signed, extended).
    NotNow { action: Action, reason: String },
    /// A value in the command is out of range.
    Invalid { field: &'static str, reason: String },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotPermitted { action, by } => match by {
                By::User(r) => write!(
                    f,
                    "a user with role {} may not {}",
                    r.as_str(),
                    action.as_str()
                ),
                By::System => write!(f, "the scheduler may not {}", action.as_str()),
            },
            Refusal::WrongState { action, status } => {
                write!(
                    f,
                    "cannot {} an agreement that is {}",
                    action.as_str(),
                    status.as_str()
                )
            }
            Refusal::NotNow { action, reason } => {
                write!(f, "cannot {} now: {reason}", action.as_str())
            }
            Refusal::Invalid { field, reason } => write!(f, "{field}: {reason}"),
        }
    }
}

fn add_days(date: NaiveDate, days: u32) -> Result<NaiveDate, Refusal> {
    date.checked_add_days(Days::new(u64::from(days)))
        .ok_or(Refusal::Invalid {
            field: "days",
            reason: "date out of range".into(),
        })
}

/// Trial dates for a trial of `trial_days` from `start`, decided within `decision_days`.
fn schedule(
    start: NaiveDate,
    trial_days: u32,
    decision_days: u32,
) -> Result<(NaiveDate, NaiveDate, NaiveDate), Refusal> {
    let last_offset = trial_days.checked_sub(1).ok_or(Refusal::Invalid {
        field: "trial_days",
        reason: "a trial lasts at least one day".into(),
    })?;
    let end = add_days(start, last_offset)?;
    let deadline = add_days(end, decision_days)?;
    Ok((start, end, deadline))
}

/// Decide `cmd` by `by` on an agreement with `facts`, on calendar day `today` (in the
/// agreement's time zone). Returns the new facts, or why not.
pub fn decide(facts: &Facts, by: By, cmd: &Command, today: NaiveDate) -> Result<Facts, Refusal> {
    let action = cmd.action();
    if !action.allowed_by(by) {
        return Err(Refusal::NotPermitted { action, by });
    }
    if !action.from_states().contains(&facts.status) {
        return Err(Refusal::WrongState {
            action,
            status: facts.status,
        });
    }
    let mut next = facts.clone();
    match cmd {
        Command::Approve {
            trial_days,
            decision_days,
            start,
        } => {
            for (field, value) in [
                ("trial_days", *trial_days),
                ("decision_days", *decision_days),
            ] {
                if value == 0 || value > MAX_PERIOD_DAYS {
                    return Err(Refusal::Invalid {
                        field,
                        reason: format!("must be between 1 and {MAX_PERIOD_DAYS}"),
                    });
                }
            }
            let start = start.unwrap_or(facts.requested_start);
            if start < today {
                return Err(Refusal::Invalid {
                    field: "trial_start",
                    reason: format!("must not be before today ({today})"),
                });
            }
            let (s, e, d) = schedule(start, *trial_days, *decision_days)?;
            next.status = Status::Approved;
            next.trial_start = Some(s);
            next.trial_end = Some(e);
            next.decision_deadline = Some(d);
        }
        Command::Reject => next.status = Status::Rejected,
        Command::Withdraw => next.status = Status::Withdrawn,
        Command::Sign => {
            let already = match by {
                By::User(Role::Sme) => std::mem::replace(&mut next.sme_signed, true),
                _ => std::mem::replace(&mut next.institute_signed, true),
            };
            if already {
                return Err(Refusal::NotNow {
                    action,
                    reason: "your organisation has already signed".into(),
                });
            }
            if next.sme_signed && next.institute_signed {
                next.status = Status::Signed;
                // A start date that passed while signatures were collected moves to today,
                // keeping the agreed trial length and decision window.
                if let (Some(start), Some(end), Some(deadline)) =
                    (next.trial_start, next.trial_end, next.decision_deadline)
                {
                    if start < today {
                        let lengths = u32::try_from((end - start).num_days() + 1)
                            .ok()
                            .filter(|days| *days >= 1)
                            .zip(u32::try_from((deadline - end).num_days()).ok());
                        let Some((trial_days, decision_days)) = lengths else {
                            return Err(Refusal::Invalid {
                                field: "trial_end",
                                reason: "the trial dates are out of order".into(),
                            });
                        };
                        let (s, e, d) = schedule(today, trial_days, decision_days)?;
                        next.trial_start = Some(s);
                        next.trial_end = Some(e);
                        next.decision_deadline = Some(d);
                    }
                }
            }
        }
        Command::Start => {
            if facts.trial_start.is_none_or(|s| today < s) {
                return Err(Refusal::NotNow {
                    action,
                    reason: "the trial start date has not come".into(),
                });
            }
            next.status = Status::Active;
        }
        Command::EndTrial => {
            if facts.trial_end.is_none_or(|e| today <= e) {
                return Err(Refusal::NotNow {
                    action,
                    reason: "the trial has not ended".into(),
                });
            }
            next.status = Status::AwaitingDecision;
        }
        Command::Lapse => {
            if facts.decision_deadline.is_none_or(|d| today <= d) {
                return Err(Refusal::NotNow {
                    action,
                    reason: "the decision deadline has not passed".into(),
                });
            }
            next.status = Status::Lapsed;
        }
        Command::Convert => next.status = Status::Converted,
        Command::Decline => next.status = Status::Declined,
        Command::Terminate => next.status = Status::Terminated,
        Command::Extend { days } => {
            if facts.extended {
                return Err(Refusal::NotNow {
                    action,
                    reason: "the trial has already been extended once".into(),
                });
            }
            if *days == 0 || *days > MAX_PERIOD_DAYS {
                return Err(Refusal::Invalid {
                    field: "days",
                    reason: format!("must be between 1 and {MAX_PERIOD_DAYS}"),
                });
            }
            let end = facts.trial_end.ok_or(Refusal::NotNow {
                action,
                reason: "the trial has no end date".into(),
            })?;
            let deadline = facts.decision_deadline.unwrap_or(end);
            next.trial_end = Some(add_days(end, *days)?);
            next.decision_deadline = Some(add_days(deadline, *days)?);
            next.extended = true;
        }
    }
    Ok(next)
}

/// The actions a user of `role` on the agreement's side may take now on an agreement with
/// `facts`: the rule's roles and states, less what the facts already rule out (a side that
/// has signed, a trial extended once). Dates are not weighed (approval takes its start date
/// as input). What a page offers and the API's `actions` come from here.
pub fn open_to(facts: &Facts, role: Role) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| a.allowed_by(By::User(role)) && a.from_states().contains(&facts.status))
        .filter(|a| match a {
            Action::Sign => match role {
                Role::Sme => !facts.sme_signed,
                _ => !facts.institute_signed,
            },
            Action::Extend => !facts.extended,
            _ => true,
        })
        .collect()
}

/// The time-driven command due on `today`, if any.
pub fn due(facts: &Facts, today: NaiveDate) -> Option<Command> {
    let cmd = match facts.status {
        Status::Signed => Command::Start,
        Status::Active => Command::EndTrial,
        Status::AwaitingDecision => Command::Lapse,
        _ => return None,
    };
    decide(facts, By::System, &cmd, today).ok().map(|_| cmd)
}

/// Every time-driven step due by `today`, in order: an agreement the scheduler has not seen
/// for a while catches up in one call. Calling it again on the result yields nothing.
pub fn advance(facts: &Facts, today: NaiveDate) -> Vec<(Action, Facts)> {
    let mut steps = Vec::new();
    let mut current = facts.clone();
    while let Some(cmd) = due(&current, today) {
        match decide(&current, By::System, &cmd, today) {
            Ok(next) => {
                steps.push((cmd.action(), next.clone()));
                current = next;
            }
            Err(_) => break,
        }
    }
    steps
}

#[cfg(test)]
mod tests;
