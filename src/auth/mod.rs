//! Who is calling and what they may do: signing in, users' passwords, sessions, and the role
//! rules, and the links that set a forgotten password.

pub mod login;
pub mod password;
pub mod policy;
pub mod reset;
pub mod session;
pub mod throttle;

/// Whether two secrets are equal, in time that depends only on their length, so a guess
/// learns nothing from how long the answer took.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
