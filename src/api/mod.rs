//! The JSON API under `/api/v1`: one module per part of the product, each a set of actix-web
//! handlers that authenticate, parse, call the application layer and answer. No handler
//! queries a table or calls a part's storage (src/architecture.rs keeps it so).

pub mod accounts;
pub mod agreements;
pub mod audit;
pub mod auth;
pub mod contract_registration;
pub mod contracts;
pub mod demands;
pub mod disclosure;
pub mod documents;
pub mod insurance;
pub mod mail;
pub mod metrics;
pub mod payment_record;
pub mod reports;
pub mod scheduler;
pub mod screening;
pub mod technologies;
