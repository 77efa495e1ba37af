//! Exact money: currencies, amounts in integer minor units, rates as exact decimals, the one
//! allocation primitive every split uses, schedules, insurance, pricing rules and quotes.
//! Pure: no IO, no clock, no floats anywhere.

pub mod allocate;
pub mod insurance;
pub mod money;
pub mod pricing;
pub mod quote;
pub mod schedule;
