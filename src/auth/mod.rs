//! Who is calling and what they may do: signing in, users' passwords, sessions, and the role
//! rules, and the links that set a forgotten password.

pub mod login;
pub mod password;
pub mod policy;
pub mod reset;
pub mod session;
pub mod throttle;
