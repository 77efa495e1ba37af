//! The pure core: the rules of the product as plain functions over plain data. No I/O, no
//! database, no clock (callers pass "today"), and no imports from the layers above — only
//! `error`'s field errors. `settlement` (money, conversion terms, splits) is the other half of
//! the core and builds on these rules. Tested exhaustively beside the code.
//!
//! - `lifecycle`: the trial-agreement state machine, the only place that decides a transition;
//! - `claims`: the insurance-claim state machine;
//! - `roles`: who a user is on the platform;
//! - `reminders`: which reminder a date calls for;
//! - `screening`: a technology's way from draft to listed, through a reviewer.
//! - `payment_record`: whether an SME paid a schedule line on time, late, or owes it.

pub mod claims;
pub mod lifecycle;
pub mod payment_record;
pub mod reminders;
pub mod roles;
pub mod screening;
