//! Who is calling and what they may do: signing in, users' passwords, sessions, and the role
//! rules.

pub mod login;
pub mod password;
pub mod policy;
pub mod session;
