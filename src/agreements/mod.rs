//! Trial agreements: their storage and the HTTP handlers (the lifecycle is `rules::lifecycle`).

pub mod store;
