//! The application layer: one function per user action (or group of them), the one place that
//! knows what an action does across the parts. Each opens or joins the transaction, calls the
//! domain parts in order, appends the audit event and queues the mail. The edges (the JSON API,
//! the scheduler's jobs, the CLI, the seed) call these, never a part's storage.

pub mod accounts;
pub mod admin;
pub mod agreements;
pub mod audit;
pub mod auth;
pub mod contract_registration;
pub mod contracts;
pub mod dashboard;
pub mod demands;
pub mod disclosure;
pub mod documents;
pub mod insurance;
pub mod jobs;
pub mod mail;
pub mod operations;
pub mod payment_record;
pub mod registration;
pub mod remind;
pub mod reports;
pub mod screening;
pub mod technologies;
