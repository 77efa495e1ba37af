//! The code every document carries so that anyone can check it: printed on each page and in
//! the QR code as `{app.public_url}/verify/{code}`, and stored with the document. What a
//! check answers is the document's public facts ([`Checked`]): which agreement number, kind,
//! version and language, when it was generated, its SHA-256 and whether it is current —
//! never an amount, a party or a person.
//!
//! The code is 100 random bits written as 20 characters of Crockford's base32 (no I, L, O, U,
//! so nothing reads as another letter), printed in groups of four. With 2^100 codes and a
//! rate-limited page, guessing one that exists is hopeless, so a code tells nothing about
//! agreements that its holder did not already have. It is stored as printed, not hashed:
//! hashing would hide nothing, the document stored beside it carries the code.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;

use super::model::Checked;
use crate::db::schema::{agreement_documents, agreements};
use crate::db::DbConn;
use crate::typeset::pdf::Verify;

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a code: 20 × 5 = 100 bits.
pub const CODE_LEN: usize = 20;

/// A new code: 100 bits from the operating system's generator.
pub fn new_code() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let bits = u128::from_be_bytes(bytes);
    (0..CODE_LEN)
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// A new code for a document about to be set, with the link and the printed form the
/// document carries: decided before the document is set, so the SHA-256 taken after covers it.
pub struct Issued {
    /// As stored.
    pub code: String,
    /// `{public_url}/verify/{code}`: the QR code's text.
    url: String,
    /// In groups of four, as a person types it.
    printed: String,
}

impl Issued {
    pub fn new(public_url: &str) -> Issued {
        let code = new_code();
        Issued {
            url: format!("{}/verify/{code}", public_url.trim_end_matches('/')),
            printed: printed(&code),
            code,
        }
    }

    /// What the PDF prints and draws.
    pub fn verify(&self) -> Verify<'_> {
        Verify {
            url: &self.url,
            code: &self.printed,
        }
    }
}

/// `code` as printed: groups of four joined by `-` (`7K3M-…`).
pub fn printed(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as someone typed or scanned it, in its stored form: case and the group dashes
/// and spaces do not matter, and the letters Crockford's alphabet leaves out are read as
/// the digits they look like (O as 0, I and L as 1). `None` when it cannot be a code.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

type Row = (String, i64, String, String, String, NaiveDateTime, i64);

fn checked((number, version, kind, lang, sha256, generated_at, current_version): Row) -> Checked {
    Checked {
        number,
        kind,
        lang,
        version,
        sha256,
        generated_at,
        current_version,
    }
}

/// The public facts of the document whose code is `code` (as stored), if there is one.
pub fn by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Checked>> {
    let found: Option<Row> = crate::on_backend!(conn, |c| agreement_documents::table
        .inner_join(agreements::table)
        .filter(agreement_documents::verify_code.eq(code))
        .select((
            agreements::number,
            agreement_documents::version,
            agreement_documents::kind,
            agreement_documents::lang,
            agreement_documents::sha256,
            agreement_documents::generated_at,
            agreements::version,
        ))
        .first(c)
        .optional())?;
    Ok(found.map(checked))
}

/// The public facts of a stored document whose SHA-256 is `sha256`, whoever's it is: whoever
/// holds the exact file holds everything it prints already. (The first by agreement,
/// version, kind and language, should one file be stored twice.)
pub fn by_hash(conn: &mut DbConn, sha256: &str) -> QueryResult<Option<Checked>> {
    let found: Option<Row> = crate::on_backend!(conn, |c| agreement_documents::table
        .inner_join(agreements::table)
        .filter(agreement_documents::sha256.eq(sha256))
        .select((
            agreements::number,
            agreement_documents::version,
            agreement_documents::kind,
            agreement_documents::lang,
            agreement_documents::sha256,
            agreement_documents::generated_at,
            agreements::version,
        ))
        .order((
            agreement_documents::agreement_id,
            agreement_documents::version,
            agreement_documents::kind,
            agreement_documents::lang,
        ))
        .first(c)
        .optional())?;
    Ok(found.map(checked))
}

/// The code stored with the document `kind` in `lang` of agreement `agreement_id` at
/// `version` (`None` for a document generated before codes existed).
pub fn code_of(
    conn: &mut DbConn,
    agreement_id: &str,
    version: i64,
    kind: &str,
    lang: &str,
) -> QueryResult<Option<String>> {
    crate::on_backend!(conn, |c| agreement_documents::table
        .find((agreement_id, version, kind, lang))
        .select(agreement_documents::verify_code)
        .first::<Option<String>>(c)
        .optional())
    .map(Option::flatten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_twenty_characters_of_the_alphabet_and_differ() {
        let a = new_code();
        let b = new_code();
        assert_eq!(a.len(), CODE_LEN);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
        assert_ne!(a, b);
        assert_eq!(normalise(&a).as_deref(), Some(a.as_str()));
    }

    #[test]
    fn a_code_is_read_as_people_type_it() {
        let code = "7K3M0QRS1TVW9XYZ2AB4";
        let p = printed(code);
        assert_eq!(p, "7K3M-0QRS-1TVW-9XYZ-2AB4");
        assert_eq!(normalise(&p).as_deref(), Some(code));
        assert_eq!(
            normalise("7k3m oqrs ltvw 9xyz 2ab4").as_deref(),
            Some(code),
            "lower case, spaces, O for 0 and L for 1"
        );
        assert_eq!(normalise("7K3M-0QRS-1TVW-9XYZ-2AB"), None, "too short");
        assert_eq!(
            normalise("7K3M-0QRS-1TVW-9XYZ-2ABU"),
            None,
            "U is not in the alphabet"
        );
        assert_eq!(normalise("../../etc/passwd"), None);
    }
}
