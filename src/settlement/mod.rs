//! Exact money: currencies, amounts in integer minor units, rates as exact decimals, the one
//! allocation primitive every split uses, schedules, insurance, pricing rules and quotes, and the
//! conversion terms they are computed from (with their validation). Pure: no IO, no clock, no
//! floats anywhere. Part of the core with `rules`, which it builds on (never the reverse).

pub mod allocate;
pub mod insurance;
pub mod money;
pub mod pricing;
pub mod quote;
pub mod registration;
pub mod schedule;
pub mod terms;
