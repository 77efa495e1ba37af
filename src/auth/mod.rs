//! Who is calling and what they may do: users' passwords, sessions, and the role rules.

pub mod password;
pub mod policy;
pub mod session;
