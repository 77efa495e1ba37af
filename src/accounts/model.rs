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
