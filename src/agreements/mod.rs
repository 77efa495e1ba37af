//! Trial agreements: the pure lifecycle, their storage, and the HTTP handlers.

pub mod handlers;
pub mod lifecycle;
pub mod store;
