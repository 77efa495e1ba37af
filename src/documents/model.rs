//! What an agreement's documents are, as the API and the other parts see them: the kinds and
//! languages there are, a stored document, and what `verify` answers. The values the edges
//! take from `documents` (never its storage).

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

/// The languages documents are written in.
pub use crate::typeset::format::LANGS;

/// The documents usefirst produces.
pub const KINDS: [&str; 2] = ["trial-agreement", "conversion-contract"];

/// A document as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sha256: String,
    pub pdf: Vec<u8>,
    /// The code the document prints for checking it at `/verify/{code}` (none on documents
    /// generated before codes existed).
    pub verify_code: Option<String>,
}

/// What anyone may learn of a document from its code or its exact bytes: which document it
/// is, never an amount, a party or a person.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// The agreement's number, as printed on every page.
    pub number: String,
    pub kind: String,
    pub lang: String,
    /// The agreement version the document was generated from.
    pub version: i64,
    pub sha256: String,
    pub generated_at: NaiveDateTime,
    /// The agreement's version now.
    pub current_version: i64,
}

impl Checked {
    /// Whether the document was generated from the agreement as it stands now (a later
    /// change — a signature, the trial starting, a conversion — supersedes it).
    pub fn is_current(&self) -> bool {
        self.version == self.current_version
    }
}

/// What a document is, as `verify` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Identified {
    pub agreement_id: String,
    /// The agreement's number, as printed on every page.
    pub number: String,
    pub kind: String,
    pub lang: String,
    /// The agreement version the document was generated from.
    pub version: i64,
    pub sha256: String,
    pub pages: i32,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: NaiveDateTime,
    /// The agreement's version now; equal to `version` when nothing has changed since.
    pub current_version: i64,
}
