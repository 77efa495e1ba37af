//! The command line: `serve` (default), `migrate`, `create-admin`, `seed-demo`,
//! `seed-synthetic`, `verify-audit`, `backup`. Start-up errors are reported with context, not panics.

use std::io::{BufRead, IsTerminal, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, Db};
use crate::error::AppError;
use crate::AppState;

#[derive(Debug, Parser)]
#[command(
    name = "usefirst",
    version,
    about = "Use first, transfer later: technology trials between institutes and SMEs"
)]
pub struct Cli {
    /// A TOML file over the built-in defaults (USEFIRST_* variables still win).
    #[arg(long, global = true, env = "USEFIRST_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve {
        /// Run no scheduled jobs in this instance (others sharing the database may).
        #[arg(long)]
        no_scheduler: bool,
    },
    /// Apply pending database migrations (or revert them all).
    Migrate {
        /// Revert every migration instead (drops all data).
        #[arg(long)]
        revert_all: bool,
    },
    /// Create a platform administrator.
    CreateAdmin {
        /// E-mail address (or USEFIRST_ADMIN_EMAIL; asked for if absent).
        #[arg(long, env = "USEFIRST_ADMIN_EMAIL")]
        email: Option<String>,
        /// Display name.
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Fill the database with a believable demo: institutes, SMEs, an insurer, technologies
    /// and agreements in every state.
    SeedDemo,
    /// Add years of synthetic history, for load tests and reports: more organisations and
    /// technologies, then agreements in every state with their contracts, payments, policies
    /// and claims. It builds on the demo data, and loads it first on a database without it.
    SeedSynthetic {
        #[arg(long)]
        agreements: u32,
        /// Of those, how many are signed trials due to start today (for scheduler benchmarks);
        /// the rest are never due on the day they are made.
        #[arg(long, default_value_t = 0)]
        due: u32,
        /// Years of history, ending now.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=30))]
        years: u32,
        /// Seed of the random draws (the same seed on the same database gives the same data).
        #[arg(long, default_value_t = crate::seed::DEFAULT_SEED)]
        seed: u64,
    },
    /// Write a month's conversion report (figures in the configured time zone) to a file.
    Report {
        /// The calendar month, yyyy-mm (default: the month before this one).
        #[arg(long)]
        month: Option<String>,
        /// json, csv (a ZIP of one file per table), xlsx or pdf.
        #[arg(long, default_value = "pdf")]
        format: String,
        /// vi or en (the PDF's language and the XLSX headings).
        #[arg(long, default_value = "vi")]
        lang: String,
        /// The file to write; `-` writes to standard output.
        #[arg(long)]
        out: String,
    },
    /// Read a month's report figures from the roll-ups the database keeps and from the
    /// tables themselves, in one snapshot, and compare them; exit status 1 if they differ.
    ReportCheck {
        /// The calendar month, yyyy-mm (default: the month before this one).
        #[arg(long)]
        month: Option<String>,
        /// First count the roll-ups again from the tables (and lift a pause a bulk load left).
        #[arg(long)]
        rebuild: bool,
    },
    /// Walk the audit chain; exit status 1 if a link is broken.
    VerifyAudit,
    /// Copy the SQLite database to a new file while the service runs, then walk the audit
    /// chain in the copy (exit status 1 if it is broken). PostgreSQL: use `pg_dump` (README).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run one scheduled job now (advance, verify-audit), recorded as a manual run; exit
    /// status 1 if it failed.
    RunJob {
        /// The job's name, as in `[scheduler.jobs.NAME]`.
        name: String,
    },
}

/// After migrating: the report milestones of agreements closed before they were kept.
fn fill_milestones(db: &Db) -> anyhow::Result<()> {
    let filled = crate::app::agreements::fill_milestones(db)
        .map_err(|e| anyhow::anyhow!("filling the report milestones of older agreements: {e}"))?;
    if filled > 0 {
        tracing::info!(
            agreements = filled,
            "report milestones filled for older agreements"
        );
    }
    Ok(())
}

/// Sets up logging once.
pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let cfg = Config::load(cli.config.as_deref())?;
    init_tracing(&cfg.log.filter);
    let command = cli.command.unwrap_or(Command::Serve {
        no_scheduler: false,
    });
    if let Command::Migrate { revert_all } = command {
        let db = Db::connect(&cfg.database)?;
        if revert_all {
            let n = db.revert_all()?;
            println!(
                "reverted {n} migrations on {}",
                db::describe(&cfg.database.url)
            );
        } else {
            let n = db.migrate()?;
            println!(
                "applied {n} migrations on {}",
                db::describe(&cfg.database.url)
            );
            if n > 0 {
                fill_milestones(&db)?;
            }
        }
        return Ok(0);
    }
    if let Command::Backup { out } = command {
        // Neither migrates nor loads templates: it copies what is there, beside a running
        // service. Connecting makes a missing SQLite file (what `serve` wants), which would
        // back up an empty database under a mistyped name.
        let url = &cfg.database.url;
        if db::Backend::of(url) == db::Backend::Sqlite && !db::sqlite_path(url).exists() {
            bail!("no database at {}: nothing to back up", db::describe(url));
        }
        let db = Db::connect(&cfg.database)?;
        let done = crate::app::operations::backup(&db, &out)?;
        println!(
            "backed up {} to {} ({} bytes); audit chain in the copy: {} events, {}",
            db::describe(&cfg.database.url),
            out.display(),
            done.bytes,
            done.chain.events_checked,
            if done.chain.ok { "intact" } else { "BROKEN" }
        );
        return Ok(if done.chain.ok { 0 } else { 1 });
    }
    // A broken contract template stops everything before the database is touched.
    let templates = crate::app::documents::load_templates(&cfg)?;
    let db = Db::connect(&cfg.database)?;
    if cfg.database.migrate_on_start || !matches!(command, Command::Serve { .. }) {
        let n = db.migrate()?;
        if n > 0 {
            tracing::info!(migrations = n, "database migrated");
            fill_milestones(&db)?;
        }
    } else if db.pending_migrations()? > 0 {
        bail!("the database has pending migrations: run `usefirst migrate`");
    }
    let state = AppState::with_templates(cfg, db, Clock::system(), templates)?;
    match command {
        Command::Serve { no_scheduler } => serve(state, no_scheduler).await.map(|_| 0),
        Command::Migrate { .. } | Command::Backup { .. } => Ok(0),
        Command::CreateAdmin { email, name } => {
            actix_web::web::block(move || create_admin(&state, email, &name))
                .await?
                .map(|_| 0)
        }
        Command::SeedDemo => actix_web::web::block(move || crate::seed::demo(&state))
            .await?
            .map(|_| 0),
        Command::SeedSynthetic {
            agreements,
            due,
            years,
            seed,
        } => {
            if due > agreements {
                anyhow::bail!("--due {due} is more than --agreements {agreements}");
            }
            let opts = crate::seed::SyntheticOptions {
                agreements,
                due,
                years,
                seed,
            };
            let s = actix_web::web::block(move || crate::seed::synthetic(&state, &opts)).await??;
            let mix = s
                .by_status
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "added {} synthetic agreements over {years} years in {:.1} s (run {}, {:.0}/s): {mix}",
                s.agreements,
                s.seconds,
                s.run,
                s.agreements as f64 / s.seconds.max(1e-9)
            );
            println!(
                "  {} organisations, {} technologies, {} contracts, {} payments ({} through record_payment), \
                 {} policies, {} claims, {} royalty years closed, {} reminders, {} audit events",
                s.organisations,
                s.technologies,
                s.contracts,
                s.payments,
                s.payments_via_record_payment,
                s.policies,
                s.claims,
                s.royalty_years,
                s.reminders,
                s.audit_events
            );
            Ok(0)
        }
        Command::RunJob { name } => {
            let kind = crate::scheduler::JobKind::parse(&name).ok_or_else(|| {
                anyhow::anyhow!(
                    "no job named {name:?} (known: {})",
                    crate::scheduler::JobKind::ALL
                        .map(crate::scheduler::JobKind::name)
                        .join(", ")
                )
            })?;
            let scheduler = crate::scheduler::Scheduler::new(&state.cfg, state.clock.now())?;
            let report = actix_web::web::block(move || scheduler.run_now(&state, kind)).await??;
            println!(
                "{} (manual run at {}, {:.1} ms): {} {}",
                report.job,
                report
                    .slot
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                report.elapsed.as_secs_f64() * 1000.0,
                report.status,
                report
                    .error
                    .as_deref()
                    .unwrap_or(&report.counts.to_string())
            );
            Ok(if report.status == "ok" { 0 } else { 1 })
        }
        Command::Report {
            month,
            format,
            lang,
            out,
        } => {
            use crate::reports::model::Format;
            let month = month_arg(&state, month)?;
            let format = Format::parse(&format)
                .ok_or_else(|| anyhow::anyhow!("--format {format:?}: json, csv, xlsx or pdf"))?;
            if !["vi", "en"].contains(&lang.as_str()) {
                anyhow::bail!("--lang {lang:?}: vi or en");
            }
            let written = actix_web::web::block(move || {
                crate::app::reports::monthly(&state, month, format, &lang)
            })
            .await?
            .map_err(|e| anyhow::anyhow!("making the {month} report: {e}"))?;
            let provisional = written.provisional;
            if out == "-" {
                use std::io::Write;
                std::io::stdout().write_all(&written.bytes)?;
            } else {
                std::fs::write(&out, &written.bytes).with_context(|| format!("writing {out}"))?;
                eprintln!(
                    "wrote the {month} report{} to {out} ({} bytes)",
                    if provisional {
                        " (provisional: the month has not ended)"
                    } else {
                        ""
                    },
                    written.bytes.len()
                );
            }
            Ok(0)
        }
        Command::ReportCheck { month, rebuild } => {
            let month = month_arg(&state, month)?;
            let (rebuilt, check) = actix_web::web::block(move || {
                let rebuilt = if rebuild {
                    let t = std::time::Instant::now();
                    crate::app::reports::rebuild_tallies(&state)?;
                    Some(t.elapsed().as_secs_f64())
                } else {
                    None
                };
                Ok::<_, crate::error::AppError>((
                    rebuilt,
                    crate::app::reports::check_tallies(&state, month)?,
                ))
            })
            .await?
            .map_err(|e| anyhow::anyhow!("reading the {month} report: {e}"))?;
            if let Some(secs) = rebuilt {
                println!("counted the report's tallies again from the tables in {secs:.1} s");
            }
            let differences = check.differences();
            println!(
                "{month}: from the tallies {:.1} ms, from the tables {:.1} ms: {}",
                check.tallies_ms,
                check.tables_ms,
                if differences.is_empty() {
                    "the same figures".to_string()
                } else {
                    format!("{} figures differ", differences.len())
                }
            );
            for d in &differences {
                println!("  {d}");
            }
            Ok(if differences.is_empty() { 0 } else { 1 })
        }
        Command::VerifyAudit => {
            let v = crate::app::audit::verify_for_operator(&state.db)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(if v.ok { 0 } else { 1 })
        }
    }
}

/// `--month yyyy-mm`, or the month before this one in the configured zone.
fn month_arg(
    state: &AppState,
    month: Option<String>,
) -> anyhow::Result<crate::reports::model::Month> {
    use crate::reports::model::{previous_month, Month};
    match month {
        Some(m) => Month::parse(&m)
            .ok_or_else(|| anyhow::anyhow!("--month {m:?} is not a calendar month as yyyy-mm")),
        None => Ok(previous_month(state.tz, state.clock.now())),
    }
}

async fn serve(state: AppState, no_scheduler: bool) -> anyhow::Result<()> {
    let addr = state.cfg.listen_addr()?;
    let listener =
        TcpListener::bind(addr).with_context(|| format!("binding {addr} (server.listen)"))?;
    let users = crate::app::accounts::user_count(&state)?;
    let url = format!("http://{}", listener.local_addr()?);
    println!(
        "usefirst is listening on {url}  ({})",
        db::describe(&state.cfg.database.url)
    );
    println!("  API docs: {url}/api/docs/   health: {url}/health/ready");
    if users == 0 {
        println!("  No users yet. Stop the service and run `cargo run --release -- seed-demo` (demo data, password trial-demo-2026)");
        println!(
            "  or `cargo run --release -- create-admin --email you@example.vn` to start empty."
        );
    } else {
        println!("  Sign in: open {url}/ in a browser (Vietnamese or English), or");
        println!("  POST {url}/api/v1/auth/login with {{\"email\": ..., \"password\": ...}}");
    }
    let workers = state.cfg.server.workers;
    let state = actix_web::web::Data::new(state);
    if !no_scheduler {
        let scheduler = crate::scheduler::Scheduler::new(&state.cfg, state.clock.now())?;
        let names: Vec<&str> = scheduler
            .jobs()
            .iter()
            .filter(|j| j.enabled)
            .map(|j| j.kind.name())
            .collect();
        tracing::info!(jobs = ?names, "scheduler started");
        actix_web::rt::spawn(crate::scheduler::run_loop(
            state.clone(),
            std::sync::Arc::new(scheduler),
        ));
    } else {
        tracing::info!("scheduler off in this instance (--no-scheduler)");
    }
    crate::server(state, listener, workers)?.await?;
    Ok(())
}

fn prompt(label: &str) -> anyhow::Result<String> {
    print!("{label}: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn create_admin(state: &AppState, email: Option<String>, name: &str) -> anyhow::Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let email = match email {
        Some(e) => e,
        None if interactive => prompt("Admin e-mail")?,
        None => bail!("give --email or USEFIRST_ADMIN_EMAIL"),
    };
    let password = match std::env::var("USEFIRST_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) if interactive => {
            let p = rpassword::prompt_password("Password (8 to 128 characters): ")?;
            if rpassword::prompt_password("Repeat: ")? != p {
                bail!("the passwords differ");
            }
            p
        }
        Err(_) => bail!("set USEFIRST_ADMIN_PASSWORD or run interactively"),
    };
    let user =
        crate::app::accounts::create_admin(state, &email, name, &password).map_err(
            |e| match e {
                AppError::Validation(errs) => {
                    anyhow::anyhow!(errs
                        .iter()
                        .map(|f| format!("{}: {}", f.field, f.message))
                        .collect::<Vec<_>>()
                        .join("; "))
                }
                other => anyhow::anyhow!("{other}"),
            },
        )?;
    println!("created admin {} ({})", user.email, user.id);
    Ok(())
}
