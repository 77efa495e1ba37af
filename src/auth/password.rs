//! Password policy and hashing: argon2id, 8 to 128 characters, no composition rules, and
//! passwords found in public breach lists refused (NIST SP 800-63B).

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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

/// argon2id with 7 MiB of memory and 5 passes, one lane: one of the configurations OWASP's
/// Password Storage Cheat Sheet gives as equal in strength to 19 MiB and 2 passes (the
/// crate's default), for the same CPU time. Each hash holds its memory while it runs, so the
/// smaller block matters to a server that checks sign-ins in parallel: with 19 MiB two
/// sign-ins alone lifted the resident set by 38 MB. Hashes made before keep their own
/// parameters (the PHC string carries them) and still verify.
const MEMORY_KIB: u32 = 7 * 1024;
const PASSES: u32 = 5;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// At most one hash per core runs at a time; the others wait their turn. A burst of sign-in
/// attempts then costs waiting requests, not a block of hashing memory each (64 at once
/// would have been 1.2 GB at the default parameters).
fn one_per_core<T>(f: impl FnOnce() -> T) -> T {
    static HASHING: Turns = Turns::new();
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    HASHING.run(cores, f)
}

/// A counting semaphore for blocking threads: at most `limit` callers inside [`Turns::run`]
/// at a time.
struct Turns {
    running: Mutex<usize>,
    freed: Condvar,
}

impl Turns {
    const fn new() -> Turns {
        Turns {
            running: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Runs `f` once fewer than `limit` others are running, waiting until then.
    fn run<T>(&self, limit: usize, f: impl FnOnce() -> T) -> T {
        {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            while *running >= limit {
                running = self.freed.wait(running).unwrap_or_else(|e| e.into_inner());
            }
            *running += 1;
        }
        // Released however `f` ends, a panic included.
        struct Release<'a>(&'a Turns);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                *self.0.running.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                self.0.freed.notify_one();
            }
        }
        let _release = Release(self);
        f()
    }
}

/// An argon2id PHC string for `password`.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    one_per_core(|| {
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
}

/// Does `password` match the stored PHC string? (With the parameters the string names.)
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => one_per_core(|| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        }),
        Err(_) => false,
    }
}

/// Whether `stored` was made with other parameters than a new hash gets (a password stored
/// before they changed): the next right sign-in stores it again.
pub fn needs_rehash(stored: &str) -> bool {
    let current = format!("$argon2id$v=19$m={MEMORY_KIB},t={PASSES},p=1$");
    !stored.starts_with(&current)
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

    /// New hashes carry the smaller parameters; a hash made with the crate's defaults (every
    /// password stored before) still verifies, and a wrong password fails against both.
    #[test]
    fn new_hashes_use_7_mib_and_older_ones_still_verify() {
        let new = hash("tre xanh bon mua").unwrap();
        assert!(new.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{new}");
        let salt = SaltString::generate(&mut OsRng);
        let old = Argon2::default()
            .hash_password(b"tre xanh bon mua", &salt)
            .unwrap()
            .to_string();
        assert!(old.contains("m=19456,t=2,p=1"), "{old}");
        for stored in [&new, &old] {
            assert!(verify("tre xanh bon mua", stored));
            assert!(!verify("tre xanh bốn mùa", stored));
        }
        assert!(!needs_rehash(&new));
        assert!(needs_rehash(&old));
    }

    /// Eight callers at once with room for two: never more than two inside, two at times, and
    /// every caller gets its turn (hashing goes through such a limit of one per core).
    #[test]
    fn turns_let_at_most_the_limit_in_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let turns = Turns::new();
        let (inside, most, done) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    turns.run(2, || {
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        inside.fetch_sub(1, Ordering::SeqCst);
                        done.fetch_add(1, Ordering::SeqCst);
                    })
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(done.load(Ordering::SeqCst), 8);
    }

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
