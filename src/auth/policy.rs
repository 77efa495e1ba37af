//! The role rules in one place: [`authorize`] says whether an actor may take an action on a
//! resource, and the `scope` helpers turn "what may this actor see" into query filters.
//! A resource an actor may not see is reported as not found (404), never as forbidden, so ids
//! cannot be probed; an actor who can see a resource but not act on it gets 403.

use crate::auth::session::Actor;
use crate::rules::roles::Role;

/// Something an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Create or change organisations and users.
    ManageAccounts,
    /// Read the organisation and user directory.
    ReadAccounts,
    /// Walk the audit chain.
    VerifyAudit,
    /// See the scheduler's job runs (admins).
    ReadJobRuns,
    /// See the mail outbox and retry failed messages (admins).
    ManageMail,
    /// List a new technology (institutes).
    CreateTechnology,
    /// Read a technology.
    ReadTechnology,
    /// Change a technology or its terms.
    EditTechnology,
    /// Ask for a trial (SMEs).
    RequestTrial,
    /// Decide a technology's screening before listing (the platform operator's admins).
    ScreenTechnology,
    /// Read an agreement and its history.
    ReadAgreement,
    /// Read the monthly conversion reports (admins and auditors).
    ReadReports,
}

/// The resource the act is on: who owns it and who is party to it.
#[derive(Debug, Clone, Copy)]
pub enum On<'a> {
    Platform,
    Technology {
        institute_id: &'a str,
        listed: bool,
    },
    Agreement {
        institute_id: &'a str,
        sme_id: &'a str,
        insurer_id: Option<&'a str>,
    },
}

/// The outcome of [`authorize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Visible, but this actor may not do it (403).
    Forbid,
    /// Not the actor's to see (404).
    Hide,
}

/// Allowed, or the refusal `authorize` decides: 403 for an action the actor can see but not
/// take, 404 for what is not theirs to see.
pub fn require(actor: &Actor, act: Act) -> Result<(), crate::error::AppError> {
    match authorize(actor, act, On::Platform) {
        Decision::Allow => Ok(()),
        Decision::Forbid => Err(crate::error::AppError::Forbidden(format!(
            "role {} may not do this",
            actor.role.as_str()
        ))),
        Decision::Hide => Err(crate::error::AppError::NotFound),
    }
}

impl Act {
    /// Platform-wide resources only some roles have at all (the audit chain, job runs, the
    /// outbox): to everyone else they do not exist, so a refusal is 404, not 403.
    fn hidden_from_others(self) -> bool {
        matches!(
            self,
            Act::VerifyAudit | Act::ReadJobRuns | Act::ManageMail | Act::ReadReports
        )
    }
}

/// May `actor` do `act` on `on`?
pub fn authorize(actor: &Actor, act: Act, on: On<'_>) -> Decision {
    let role = actor.role;
    let org = actor.organisation_id.as_str();
    let sees = sees(actor, on);
    if !sees {
        return Decision::Hide;
    }
    let allowed = match act {
        Act::ManageAccounts => role == Role::Admin,
        Act::ReadAccounts => role.sees_everything(),
        Act::VerifyAudit | Act::ReadReports => role.sees_everything(),
        Act::ReadJobRuns | Act::ManageMail => role == Role::Admin,
        Act::CreateTechnology => role == Role::Institute,
        Act::ReadTechnology | Act::ReadAgreement => true,
        Act::EditTechnology => {
            matches!(on, On::Technology { institute_id, .. } if role == Role::Institute && institute_id == org)
        }
        Act::RequestTrial => role == Role::Sme,
        Act::ScreenTechnology => role == Role::Admin,
    };
    if allowed {
        Decision::Allow
    } else if act.hidden_from_others() {
        Decision::Hide
    } else {
        Decision::Forbid
    }
}

/// Can the actor see the resource at all?
pub fn sees(actor: &Actor, on: On<'_>) -> bool {
    if actor.role.sees_everything() {
        return true;
    }
    let org = actor.organisation_id.as_str();
    match on {
        On::Platform => true,
        On::Technology {
            institute_id,
            listed,
        } => listed || (actor.role == Role::Institute && institute_id == org),
        On::Agreement {
            institute_id,
            sme_id,
            insurer_id,
        } => match actor.role {
            Role::Sme => sme_id == org,
            Role::Institute => institute_id == org,
            Role::Insurer => insurer_id == Some(org),
            Role::Admin | Role::Auditor => true,
        },
    }
}

/// Which agreements an actor may list: everything, or those where its organisation sits in
/// one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementScope {
    All,
    Sme(String),
    Institute(String),
    Insurer(String),
}

pub fn agreement_scope(actor: &Actor) -> AgreementScope {
    let org = actor.organisation_id.clone();
    match actor.role {
        Role::Admin | Role::Auditor => AgreementScope::All,
        Role::Sme => AgreementScope::Sme(org),
        Role::Institute => AgreementScope::Institute(org),
        Role::Insurer => AgreementScope::Insurer(org),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, org: &str) -> Actor {
        Actor {
            user_id: "u".into(),
            organisation_id: org.into(),
            role,
            email: "u@x.vn".into(),
            display_name: "U".into(),
            locale: "vi".into(),
        }
    }

    #[test]
    fn agreements_are_visible_to_parties_and_supervisors_only() {
        let on = On::Agreement {
            institute_id: "inst",
            sme_id: "sme",
            insurer_id: Some("ins"),
        };
        let cases = [
            (Role::Sme, "sme", true),
            (Role::Sme, "other", false),
            (Role::Institute, "inst", true),
            (Role::Institute, "other", false),
            (Role::Insurer, "ins", true),
            (Role::Insurer, "other", false),
            (Role::Admin, "op", true),
            (Role::Auditor, "op", true),
        ];
        for (role, org, visible) in cases {
            let d = authorize(&actor(role, org), Act::ReadAgreement, on);
            assert_eq!(d == Decision::Allow, visible, "{role:?} {org}");
            if !visible {
                assert_eq!(d, Decision::Hide);
            }
        }
        let uninsured = On::Agreement {
            institute_id: "inst",
            sme_id: "sme",
            insurer_id: None,
        };
        assert_eq!(
            authorize(&actor(Role::Insurer, "ins"), Act::ReadAgreement, uninsured),
            Decision::Hide
        );
    }

    #[test]
    fn technologies() {
        let draft = On::Technology {
            institute_id: "inst",
            listed: false,
        };
        let listed = On::Technology {
            institute_id: "inst",
            listed: true,
        };
        assert_eq!(
            authorize(&actor(Role::Sme, "s"), Act::ReadTechnology, draft),
            Decision::Hide
        );
        assert_eq!(
            authorize(&actor(Role::Sme, "s"), Act::ReadTechnology, listed),
            Decision::Allow
        );
        assert_eq!(
            authorize(&actor(Role::Sme, "s"), Act::EditTechnology, listed),
            Decision::Forbid
        );
        assert_eq!(
            authorize(
                &actor(Role::Institute, "other"),
                Act::EditTechnology,
                listed
            ),
            Decision::Forbid
        );
        assert_eq!(
            authorize(&actor(Role::Institute, "other"), Act::EditTechnology, draft),
            Decision::Hide
        );
        assert_eq!(
            authorize(&actor(Role::Institute, "inst"), Act::EditTechnology, draft),
            Decision::Allow
        );
        assert_eq!(
            authorize(&actor(Role::Admin, "op"), Act::EditTechnology, draft),
            Decision::Forbid
        );
    }

    #[test]
    fn platform_acts() {
        for role in Role::ALL {
            let a = actor(role, "o");
            assert_eq!(
                authorize(&a, Act::ManageAccounts, On::Platform) == Decision::Allow,
                role == Role::Admin
            );
            assert_eq!(
                authorize(&a, Act::VerifyAudit, On::Platform) == Decision::Allow,
                role.sees_everything()
            );
            // The audit chain, job runs and the outbox do not exist for the other roles.
            for (act, allowed) in [
                (Act::VerifyAudit, role.sees_everything()),
                (Act::ReadJobRuns, role == Role::Admin),
                (Act::ManageMail, role == Role::Admin),
                (Act::ReadReports, role.sees_everything()),
            ] {
                let expected = if allowed {
                    Decision::Allow
                } else {
                    Decision::Hide
                };
                assert_eq!(
                    authorize(&a, act, On::Platform),
                    expected,
                    "{role:?} {act:?}"
                );
            }
            // Other refusals of what the actor can see are 403.
            if role != Role::Admin {
                assert_eq!(
                    authorize(&a, Act::ManageAccounts, On::Platform),
                    Decision::Forbid
                );
            }
            assert_eq!(
                authorize(&a, Act::RequestTrial, On::Platform) == Decision::Allow,
                role == Role::Sme
            );
            assert_eq!(
                authorize(&a, Act::CreateTechnology, On::Platform) == Decision::Allow,
                role == Role::Institute
            );
        }
    }
}
