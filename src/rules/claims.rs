//! The insurance-claim state machine: which party may take which action on a claim, from which
//! state, and where it leads. Pure; `insurance::claims` stores claims and calls [`decide`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    Filed,
    Approved,
    Rejected,
    Withdrawn,
    Paid,
}

impl ClaimStatus {
    pub const ALL: [ClaimStatus; 5] = [
        ClaimStatus::Filed,
        ClaimStatus::Approved,
        ClaimStatus::Rejected,
        ClaimStatus::Withdrawn,
        ClaimStatus::Paid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Filed => "filed",
            ClaimStatus::Approved => "approved",
            ClaimStatus::Rejected => "rejected",
            ClaimStatus::Withdrawn => "withdrawn",
            ClaimStatus::Paid => "paid",
        }
    }

    pub fn parse(text: &str) -> Option<ClaimStatus> {
        ClaimStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the claim's payout is owed or paid (it counts against the coverage).
    pub fn pays(self) -> bool {
        matches!(self, ClaimStatus::Approved | ClaimStatus::Paid)
    }
}

/// What can be done to a filed claim (in a path, lower case: `approve`, `reject`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ClaimAction {
    Approve,
    Reject,
    Withdraw,
    Pay,
}

impl ClaimAction {
    pub const ALL: [ClaimAction; 4] = [
        ClaimAction::Approve,
        ClaimAction::Reject,
        ClaimAction::Withdraw,
        ClaimAction::Pay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimAction::Approve => "approve",
            ClaimAction::Reject => "reject",
            ClaimAction::Withdraw => "withdraw",
            ClaimAction::Pay => "pay",
        }
    }
}

/// Who acts on a claim, relative to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimParty {
    /// The party that filed it.
    Claimant,
    /// The agreement's other party.
    Counterparty,
    /// The insurer covering the agreement.
    Insurer,
    Admin,
    Auditor,
}

impl ClaimParty {
    pub const ALL: [ClaimParty; 5] = [
        ClaimParty::Claimant,
        ClaimParty::Counterparty,
        ClaimParty::Insurer,
        ClaimParty::Admin,
        ClaimParty::Auditor,
    ];
}

/// Why an action on a claim was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// This party never takes this action.
    NotPermitted,
    /// The action does not leave from the claim's state.
    WrongState,
}

/// The claim state machine: the state `action` by `party` leads to from `status`.
pub fn decide(
    status: ClaimStatus,
    action: ClaimAction,
    party: ClaimParty,
) -> Result<ClaimStatus, ClaimRefusal> {
    use ClaimAction as A;
    use ClaimStatus as S;
    let allowed = match action {
        A::Approve | A::Reject | A::Pay => party == ClaimParty::Insurer,
        A::Withdraw => party == ClaimParty::Claimant,
    };
    if !allowed {
        return Err(ClaimRefusal::NotPermitted);
    }
    match (status, action) {
        (S::Filed, A::Approve) => Ok(S::Approved),
        (S::Filed, A::Reject) => Ok(S::Rejected),
        (S::Filed, A::Withdraw) => Ok(S::Withdrawn),
        (S::Approved, A::Pay) => Ok(S::Paid),
        _ => Err(ClaimRefusal::WrongState),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the OpenAPI gives the actions are the ones the path is parsed with.
    #[test]
    fn the_schema_names_the_actions_as_the_path_does() {
        let schema =
            serde_json::to_value(<ClaimAction as utoipa::PartialSchema>::schema()).unwrap();
        let names: Vec<&str> = ClaimAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(schema["enum"], serde_json::json!(names), "{schema}");
    }
    use ClaimAction as A;
    use ClaimParty as P;
    use ClaimStatus as S;

    /// Every (state, action, party): where it leads, or why it is refused.
    #[test]
    fn every_transition_and_party() {
        let expected = |s: S, a: A, p: P| -> Result<S, ClaimRefusal> {
            let rows: &[(S, A, P, S)] = &[
                (S::Filed, A::Approve, P::Insurer, S::Approved),
                (S::Filed, A::Reject, P::Insurer, S::Rejected),
                (S::Filed, A::Withdraw, P::Claimant, S::Withdrawn),
                (S::Approved, A::Pay, P::Insurer, S::Paid),
            ];
            if let Some((_, _, _, to)) = rows.iter().find(|r| (r.0, r.1, r.2) == (s, a, p)) {
                return Ok(*to);
            }
            let permitted = match a {
                A::Approve | A::Reject | A::Pay => p == P::Insurer,
                A::Withdraw => p == P::Claimant,
            };
            Err(if permitted {
                ClaimRefusal::WrongState
            } else {
                ClaimRefusal::NotPermitted
            })
        };
        let mut allowed = 0;
        for s in S::ALL {
            for a in A::ALL {
                for p in P::ALL {
                    let got = decide(s, a, p);
                    assert_eq!(got, expected(s, a, p), "{s:?} {a:?} by {p:?}");
                    allowed += usize::from(got.is_ok());
                }
            }
        }
        assert_eq!(allowed, 4);
        // Final states leave nowhere.
        for s in [S::Rejected, S::Withdrawn, S::Paid] {
            for a in A::ALL {
                for p in P::ALL {
                    assert!(decide(s, a, p).is_err());
                }
            }
        }
        // Neither the other party, admins nor auditors ever move a claim.
        for p in [P::Counterparty, P::Admin, P::Auditor] {
            for s in S::ALL {
                for a in A::ALL {
                    assert_eq!(decide(s, a, p), Err(ClaimRefusal::NotPermitted));
                }
            }
        }
    }
}
