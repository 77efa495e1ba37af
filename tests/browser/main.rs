//! The pages in a real browser: headless Chromium driven through chromedriver (WebDriver),
//! against the real app on a loopback port with a fresh database (a temporary SQLite file, or
//! a new PostgreSQL database when `TEST_DATABASE_URL` is set, as in the API suite). A walk
//! signs in through the form, uses the keyboard alone, takes a screenshot of every page at a
//! desktop and a phone width (`<target>/screenshots/<name>-<lang>-<width>.png`) and runs
//! axe-core on it, failing on any serious or critical violation.
//!
//! Plain `cargo test` does not build this target (`test = false` in Cargo.toml): it needs
//! `chromium` and `chromium-driver` (scripts/install-deps.sh). `.ci/run` runs it as
//! `cargo test --test browser`; a missing browser fails the run, never skips it.
//!
//! `CHROMEDRIVER` and `CHROMIUM` name other executables than /usr/bin's; `BROWSER_HEADED=1`
//! shows the window (on a machine with a display).

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod admin;
mod audit;
mod contract;
mod driver;
mod insurer;
mod market;
mod registration;
mod reports;
mod screening;
mod steps;
mod verify;
mod walk;
