//! Typed configuration: embedded `config/default.toml`, then an optional file, then
//! `USEFIRST_*` environment variables. Loaded once at start-up and passed explicitly; never a
//! global. Validation names the offending key so an operator can fix it without guessing.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{bail, Context};
use chrono_tz::Tz;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub app: AppConfig,
    pub auth: AuthConfig,
    pub scheduler: SchedulerConfig,
    pub settlement: SettlementConfig,
    pub insurance: InsuranceConfig,
    pub mail: MailConfig,
    pub documents: DocumentsConfig,
    pub log: LogConfig,
    /// Who may read `/metrics`.
    pub metrics: MetricsConfig,
    /// Registration of conversion contracts, per jurisdiction (`[registration.vn]`,
    /// `[registration.cn]`).
    pub registration: crate::settlement::registration::Rules,
}

/// Agreements as documents.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsConfig {
    /// Folder of the contract templates (`KIND.LANG.txt`), read and checked at start. Empty:
    /// `contract-templates/` in the working directory if there is one, else the copies built
    /// into the binary.
    pub templates_dir: String,
    /// A CJK font file Chinese documents are set in (a `.ttc` collection or a `.ttf`/`.otf`),
    /// instead of the built-in Noto Sans SC subset. Empty: the built-in face.
    pub cjk_font: String,
    /// The face in `cjk_font` when it is a collection: 2 is Simplified Chinese in Noto Sans CJK.
    pub cjk_font_index: usize,
    /// Documents set at the same time at most; further requests wait their turn, so memory
    /// stays bounded however many arrive at once.
    pub max_concurrent_renders: usize,
    /// Checks of a document by its code or its file that one client address may make a
    /// minute on the public page (`/verify`); more answer 429 with `Retry-After`.
    pub verify_requests_per_minute: u32,
    /// The largest PDF the public page and the auditors' page take to check, in bytes.
    pub verify_upload_max_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    pub workers: usize,
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: u32,
    pub busy_timeout_ms: u64,
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    pub time_zone: String,
    pub locale: String,
    pub agreement_prefix: String,
    /// Where people reach the pages (links in mail start with it), without a trailing `/`.
    pub public_url: String,
    /// How long the catalogue's filter choices (institutes, fields) are kept between reads.
    #[serde(default = "catalogue_cache_seconds")]
    pub catalogue_cache_seconds: u64,
    /// The memory for pages kept for a repeated view (`web::kept`), in KiB; 0 keeps none.
    #[serde(default = "page_cache_kilobytes")]
    pub page_cache_kilobytes: u64,
    /// The oldest a kept page may be when it is given again, in seconds; 0 keeps none.
    #[serde(default = "page_cache_seconds")]
    pub page_cache_seconds: u64,
}

fn max_failed_logins_per_address() -> i64 {
    30
}

fn catalogue_cache_seconds() -> u64 {
    10
}

fn page_cache_kilobytes() -> u64 {
    8 * 1024
}

fn page_cache_seconds() -> u64 {
    10
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Failed sign-ins of one e-mail address within the window before it is refused (429).
    pub max_failed_logins: i64,
    /// Failed sign-ins from one client address (an IPv6 client by its /64) within the same
    /// window, whatever e-mail addresses they tried, before it is refused (429). 0: no limit.
    #[serde(default = "max_failed_logins_per_address")]
    pub max_failed_logins_per_address: i64,
    pub failed_login_window_minutes: i64,
    pub session_cache_seconds: u64,
    /// How long a mailed link to set a new password works.
    pub password_reset_minutes: i64,
    /// How many such links one address may be sent within an hour.
    pub password_resets_per_hour: i64,
    /// How long the link confirming a registration's e-mail address works.
    pub registration_confirm_hours: i64,
    /// How long the link inviting a user to set their password works.
    pub invitation_hours: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// How often the scheduler looks for a due slot, in seconds.
    pub tick_seconds: u64,
    /// Jobs by name, each with its cron expression.
    pub jobs: std::collections::BTreeMap<String, JobConfig>,
    pub reminders: RemindersConfig,
}

/// When the `remind` job writes to the parties.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemindersConfig {
    /// Days before the trial's last day.
    pub trial_end_days: Vec<u32>,
    /// Days before the decision deadline.
    pub decision_days: Vec<u32>,
    /// Days before an installment (or other schedule line) falls due.
    pub installment_days: Vec<u32>,
    /// Also remind once when a line is overdue.
    pub overdue: bool,
    /// Days before a conversion contract's registration deadline.
    pub registration_days: Vec<u32>,
}

/// The jobs the scheduler knows, by the name `[scheduler.jobs.NAME]` gives them.
pub const JOB_NAMES: [&str; 5] = [
    "advance",
    "remind",
    "deliver-mail",
    "verify-audit",
    "monthly-report",
];

/// One scheduled job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// `sec min hour day-of-month month day-of-week [year]`, the `cron` crate's syntax,
    /// evaluated in `app.time_zone`.
    pub cron: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

impl JobConfig {
    /// `[scheduler.jobs.NAME]`, checked: a known job and a valid cron expression, or an error
    /// naming the key (configuration validation reports it at start).
    pub fn check(&self, name: &str) -> anyhow::Result<cron::Schedule> {
        if !JOB_NAMES.contains(&name) {
            bail!(
                "invalid configuration at `scheduler.jobs.{name}`: no such job (known: {})",
                JOB_NAMES.join(", ")
            );
        }
        <cron::Schedule as std::str::FromStr>::from_str(&self.cron).map_err(|e| {
            anyhow::anyhow!(
                "invalid configuration at `scheduler.jobs.{name}.cron`: {:?} is not a cron expression ({e})",
                self.cron
            )
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://host:port` (add `?tls=required` for STARTTLS), `smtps://host:port`, with
    /// `user:password@` if the server wants it. Empty: mail is written as `.eml` files.
    pub smtp_url: String,
    /// The sender, `Name <address>`.
    pub from: String,
    /// Where `.eml` files go when there is no SMTP server.
    pub outbox_dir: String,
    /// Attempts before a message is marked failed.
    pub max_attempts: i32,
    /// The first retry waits this long; each further one twice as long (at most a day).
    pub retry_base_seconds: u64,
    /// Messages sent at once over the pooled connections.
    pub concurrency: usize,
    /// Messages one delivery run takes.
    pub batch_size: i64,
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementConfig {
    /// `half_up` or `half_even`; printed on every statement and quote.
    pub rounding: crate::settlement::allocate::Rounding,
}

/// Insurance claims.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsuranceConfig {
    /// Days an installment must be overdue before the institute may file a non-payment claim.
    pub non_payment_grace_days: u32,
}

/// The Prometheus metrics at `/metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Empty: only clients on this machine (loopback) may read them. Set: anyone who sends
    /// `Authorization: Bearer <token>`, and no one else. Others get 404.
    pub token: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub filter: String,
}

/// `USEFIRST_*` variables that stand for command-line arguments (`--config`, and
/// `create-admin`'s e-mail and password), not settings: the settings leave them alone.
const COMMAND_LINE_VARIABLES: [&str; 3] = ["config", "admin_email", "admin_password"];

/// The key a `USEFIRST_*` variable sets, with a job's name spelt as `[scheduler.jobs.NAME]`
/// spells it: a shell's variable cannot hold a dash, so `deliver-mail` is also found as
/// `deliver_mail` (`USEFIRST_SCHEDULER__JOBS__DELIVER_MAIL__CRON`).
fn job_key(key: &figment::value::UncasedStr) -> figment::value::Uncased<'static> {
    let lower = key.as_str().to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("scheduler.jobs.") {
        let (name, tail) = rest
            .split_once('.')
            .map_or((rest, None), |(n, t)| (n, Some(t)));
        if let Some(job) = JOB_NAMES.iter().find(|j| j.replace('-', "_") == name) {
            return match tail {
                Some(tail) => format!("scheduler.jobs.{job}.{tail}"),
                None => format!("scheduler.jobs.{job}"),
            }
            .into();
        }
    }
    key.as_str().to_string().into()
}

/// Languages the product speaks.
pub const LOCALES: [&str; 2] = ["vi", "en"];

impl Config {
    /// Defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        Self::from_figment(Self::figment(file)?)
    }

    /// The layered sources, for callers (tests) that want to add their own on top.
    pub fn figment(file: Option<&Path>) -> anyhow::Result<Figment> {
        let mut fig = Figment::from(Toml::string(DEFAULTS));
        if let Some(path) = file {
            if !path.exists() {
                bail!("config file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        Ok(fig.merge(
            Env::prefixed("USEFIRST_")
                .ignore(&COMMAND_LINE_VARIABLES)
                .split("__")
                .map(|key| job_key(key)),
        ))
    }

    /// Extract and validate.
    pub fn from_figment(fig: Figment) -> anyhow::Result<Config> {
        let cfg: Config = fig.extract().map_err(|e| {
            let key = e.path.join(".");
            anyhow::anyhow!("invalid configuration at `{key}`: {e}")
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        self.time_zone()?;
        if !LOCALES.contains(&self.app.locale.as_str()) {
            bail!(
                "invalid configuration at `app.locale`: expected one of {LOCALES:?}, got {:?}",
                self.app.locale
            );
        }
        let prefix = &self.app.agreement_prefix;
        if prefix.is_empty() || prefix.len() > 8 || !prefix.chars().all(|c| c.is_ascii_uppercase())
        {
            bail!("invalid configuration at `app.agreement_prefix`: 1 to 8 capital letters, got {prefix:?}");
        }
        if self.database.url.trim().is_empty() {
            bail!("invalid configuration at `database.url`: must not be empty");
        }
        if self.database.pool_size == 0 {
            bail!("invalid configuration at `database.pool_size`: must be at least 1");
        }
        if !(1..=64).contains(&self.documents.max_concurrent_renders) {
            bail!("invalid configuration at `documents.max_concurrent_renders`: 1 to 64");
        }
        if self.insurance.non_payment_grace_days > 3660 {
            bail!("invalid configuration at `insurance.non_payment_grace_days`: at most 3660");
        }
        if self.server.max_body_bytes < 1024 {
            bail!("invalid configuration at `server.max_body_bytes`: must be at least 1024");
        }
        if self.auth.session_idle_minutes <= 0 {
            bail!("invalid configuration at `auth.session_idle_minutes`: must be positive");
        }
        if self.auth.session_absolute_hours <= 0 {
            bail!("invalid configuration at `auth.session_absolute_hours`: must be positive");
        }
        if self.auth.max_failed_logins <= 0 || self.auth.failed_login_window_minutes <= 0 {
            bail!("invalid configuration at `auth.max_failed_logins`: limits must be positive");
        }
        if self.auth.max_failed_logins_per_address < 0 {
            bail!("invalid configuration at `auth.max_failed_logins_per_address`: 0 (no limit) or more");
        }
        if self.mail.max_attempts < 1 || self.mail.concurrency == 0 || self.mail.batch_size < 1 {
            bail!("invalid configuration at `mail`: max_attempts, concurrency and batch_size must be at least 1");
        }
        if let Err(e) = self.mail.from.parse::<lettre::message::Mailbox>() {
            bail!(
                "invalid configuration at `mail.from`: {:?} ({e})",
                self.mail.from
            );
        }
        if !self.mail.smtp_url.trim().is_empty() {
            if let Err(e) = lettre::SmtpTransport::from_url(&self.mail.smtp_url) {
                bail!("invalid configuration at `mail.smtp_url`: {e}");
            }
        }
        for (key, rule) in [
            ("registration.vn", &self.registration.vn),
            ("registration.cn", &self.registration.cn),
        ] {
            if rule.deadline_days > 3660 {
                bail!(
                    "invalid configuration at `{key}.deadline_days`: at most 3660 (0: no deadline)"
                );
            }
        }
        if self.scheduler.tick_seconds == 0 {
            bail!("invalid configuration at `scheduler.tick_seconds`: must be positive");
        }
        for (name, job) in &self.scheduler.jobs {
            job.check(name)?;
        }
        Ok(())
    }

    /// The socket address to bind.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.server.listen.parse().with_context(|| {
            format!(
                "invalid configuration at `server.listen`: {:?} is not HOST:PORT",
                self.server.listen
            )
        })
    }

    /// The time zone calendar dates are kept in.
    pub fn time_zone(&self) -> anyhow::Result<Tz> {
        self.app.time_zone.parse::<Tz>().map_err(|_| {
            anyhow::anyhow!(
                "invalid configuration at `app.time_zone`: unknown IANA time zone {:?}",
                self.app.time_zone
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    #[test]
    fn defaults_serve_a_first_time_user() {
        let cfg = Config::from_figment(Figment::from(Toml::string(DEFAULTS))).unwrap();
        assert_eq!(cfg.server.listen, "127.0.0.1:8080");
        assert_eq!(cfg.database.url, "data/usefirst.db");
        assert_eq!(cfg.app.time_zone, "Asia/Ho_Chi_Minh");
        assert_eq!(cfg.app.locale, "vi");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (key, value, expect) in [
            ("app.time_zone", "Mars/Olympus", "app.time_zone"),
            ("app.locale", "fr", "app.locale"),
            ("server.listen", "nowhere", "server.listen"),
            ("database.pool_size", "0", "database.pool_size"),
            ("settlement.rounding", "half_down", "settlement.rounding"),
            (
                "registration.vn.required",
                "sometimes",
                "registration.vn.required",
            ),
            (
                "registration.cn.deadline_days",
                "9999",
                "registration.cn.deadline_days",
            ),
            (
                "scheduler.jobs.advance.cron",
                "every minute",
                "scheduler.jobs.advance.cron",
            ),
            (
                "scheduler.jobs.tidy-up.cron",
                "0 * * * * *",
                "scheduler.jobs.tidy-up",
            ),
        ] {
            let fig = Figment::from(Toml::string(DEFAULTS)).merge(Serialized::default(key, value));
            let err = Config::from_figment(fig).unwrap_err().to_string();
            assert!(err.contains(expect), "{key}: {err}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let fig = Figment::from(Toml::string(DEFAULTS))
            .merge(Toml::string("[server]\nlisten_port = 1\n"));
        let err = Config::from_figment(fig).unwrap_err().to_string();
        assert!(err.contains("listen_port"), "{err}");
    }
}
