//! Roles and organisation kinds: plain data, shared by the policy and the lifecycle.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user does on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Sme,
    Institute,
    Insurer,
    Admin,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Sme,
        Role::Institute,
        Role::Insurer,
        Role::Admin,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sme => "sme",
            Role::Institute => "institute",
            Role::Insurer => "insurer",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The organisation kind a user of this role belongs to.
    pub fn organisation_kind(self) -> OrgKind {
        match self {
            Role::Sme => OrgKind::Sme,
            Role::Institute => OrgKind::Institute,
            Role::Insurer => OrgKind::Insurer,
            Role::Admin | Role::Auditor => OrgKind::Operator,
        }
    }

    /// Admins and auditors see every organisation's records.
    pub fn sees_everything(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }
}

/// What an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Institute,
    Sme,
    Insurer,
    Operator,
}

impl OrgKind {
    pub const ALL: [OrgKind; 4] = [
        OrgKind::Institute,
        OrgKind::Sme,
        OrgKind::Insurer,
        OrgKind::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Institute => "institute",
            OrgKind::Sme => "sme",
            OrgKind::Insurer => "insurer",
            OrgKind::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}
