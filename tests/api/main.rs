//! Black-box HTTP tests: the real app over loopback, a fresh database per test. Set
//! `TEST_DATABASE_URL=postgres://…/DB` to run the same suite on PostgreSQL.

mod access;
mod audit;
mod auth;
mod bad_input;
mod browser;
mod concurrency;
mod contract_improvements;
mod contract_record;
mod documents;
mod helpers;
mod insurance;
#[path = "../support/json_shape.rs"]
mod json_shape;
mod lifecycle;
mod mail;
mod market_demands;
mod market_pages;
mod market_search;
mod operations;
#[path = "../support/pdf_reader.rs"]
mod pdf_reader;
#[path = "../support/qr_reader.rs"]
mod qr_reader;
mod registration_contracts;
mod registration_form01;
mod registration_triggers;
mod registration_web;
mod reports;
mod scheduler;
mod screening_disclosure;
mod screening_flow;
mod settlement;
mod smoke;
mod smtp_sink;
mod synthetic;
mod web;
mod web_account;
mod web_admin;
mod web_agreement;
mod web_audit;
mod web_catalogue;
mod web_dashboard;
mod web_insurer;
mod web_kept;
mod web_money;
mod web_reports;
mod web_screening;
mod web_technologies;
mod web_verify;
