//! Organisations and users as the API shows them and as they are created: the values other
//! parts and the edges take from `accounts`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{organisations, users};
use crate::rules::roles::{OrgKind, Role};

/// An organisation taking part in the programme.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: String,
    /// `institute`, `sme`, `insurer` or `operator`.
    pub kind: String,
    pub name: String,
    /// Business registration or tax number.
    pub registration_no: String,
    pub province: String,
    pub contact_email: String,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// When its registration was refused: it takes no part, and its registration number is
    /// free for a new registration.
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<NaiveDateTime>,
}

/// A user, without secrets.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub organisation_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub locale: String,
    pub active: bool,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub kind: OrgKind,
    pub name: String,
    pub registration_no: String,
    pub province: String,
    pub contact_email: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub organisation_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
    /// `vi` or `en`; the platform default when absent.
    pub locale: Option<String>,
}

/// What an enterprise registering itself fills in: the organisation and its first user.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegistrationForm {
    #[serde(default)]
    pub organisation_name: String,
    /// The tax code, unique among organisations.
    #[serde(default)]
    pub registration_no: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub sector: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_again: String,
}

/// A registration as admins review it.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub organisation_id: String,
    pub organisation_name: String,
    pub registration_no: String,
    pub province: String,
    pub sector: String,
    pub address: String,
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub locale: String,
    /// `unconfirmed`, `confirmed`, `approved` or `refused`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
}

/// What an admin fills in to invite a user.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Invite {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    /// A role of the organisation's kind (`admin` or `auditor` for the operator).
    #[serde(default)]
    pub role: String,
    /// `vi` or `en`: the language of the mail and the pages.
    #[serde(default)]
    pub locale: String,
}

/// What an admin fills in to register an organisation.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OrganisationForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub registration_no: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub contact_email: String,
}

pub(crate) use crate::auth::login::RELEASED;

/// The address a user registered with: a released one ([`RELEASED`]) without its mark.
pub fn registered_email(stored: &str) -> &str {
    stored.split(RELEASED).next().unwrap_or(stored)
}

impl User {
    /// The address to show: the one the user registered with, even once it was released.
    pub fn shown_email(&self) -> &str {
        registered_email(&self.email)
    }
}
