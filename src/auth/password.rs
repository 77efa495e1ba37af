//! Password policy and hashing: argon2id, 8 to 128 characters, no composition rules, and
//! passwords found in public breach lists refused (NIST SP 800-63B).

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

static COMMON: OnceLock<HashSet<&'static str>> = OnceLock::new();

fn common() -> &'static HashSet<&'static str> {
    COMMON.get_or_init(|| {
        include_str!("common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    TooShort,
    TooLong,
    Common,
    IsEmail,
}

impl Weakness {
    /// A stable name (the pages say it in the visitor's language).
    pub fn code(self) -> &'static str {
        match self {
            Weakness::TooShort => "password_short",
            Weakness::TooLong => "password_long",
            Weakness::Common => "password_common",
            Weakness::IsEmail => "password_is_email",
        }
    }
}

/// Why a new password is refused; `None` if acceptable.
pub fn weakness(password: &str, email: &str) -> Option<Weakness> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Some(Weakness::TooShort);
    }
    if len > MAX_LEN {
        return Some(Weakness::TooLong);
    }
    let lower = password.to_lowercase();
    if common().contains(lower.as_str()) {
        return Some(Weakness::Common);
    }
    if lower == email.to_lowercase()
        || email
            .split('@')
            .next()
            .is_some_and(|local| lower == local.to_lowercase())
    {
        return Some(Weakness::IsEmail);
    }
    None
}

/// Why a new password is refused, in words for the user; `None` if acceptable.
pub fn check(password: &str, email: &str) -> Option<String> {
    weakness(password, email).map(|w| match w {
        Weakness::TooShort => format!("must be at least {MIN_LEN} characters"),
        Weakness::TooLong => format!("must be at most {MAX_LEN} characters"),
        Weakness::Common => "is too common: it appears in lists of breached passwords".into(),
        Weakness::IsEmail => "must not be your e-mail address".into(),
    })
}

/// An argon2id PHC string for `password`.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Does `password` match the stored PHC string?
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the e-mail is unknown, so timing does not reveal which
/// addresses have accounts.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash("usefirst decoy password for timing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check("short", "a@b.vn").unwrap().contains("at least"));
        assert!(check(&"x".repeat(129), "a@b.vn")
            .unwrap()
            .contains("at most"));
        assert!(check("password123", "a@b.vn").unwrap().contains("common"));
        assert!(
            check("Password123", "a@b.vn").unwrap().contains("common"),
            "case-insensitive"
        );
        assert!(check("nguyen.van.a", "nguyen.van.a@x.vn").is_some());
        assert_eq!(
            check("mùa thu Hà Nội 2026", "a@b.vn"),
            None,
            "no composition rules; unicode counts by character"
        );
        assert_eq!(check(&"é".repeat(128), "a@b.vn"), None);
        assert!(common().len() > 8000);
    }

    #[test]
    fn hash_and_verify() {
        let h = hash("trâu vàng 2026").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("trâu vàng 2026", &h));
        assert!(!verify("trau vang 2026", &h));
        assert!(!verify("anything", "not a hash"));
    }
}
