//! Mail: a transactional outbox and its delivery.
//!
//! Every message is a row of `outbox`, written in the same transaction as the change that
//! causes it ([`enqueue_agreement`]), one per recipient, in the recipient's locale, from the
//! templates in `mail-templates/{vi,en}.toml`. The `deliver-mail` job ([`deliver_due`]) claims
//! due rows one by one (a lease, so two instances never send the same row at once), sends them
//! over SMTP with lettre's pooled transport from several threads, and records the outcome:
//! `sent`, or a retry with exponential backoff, or `failed` after `mail.max_attempts`. With no
//! SMTP server configured each message is written as an `.eml` file under `mail.outbox_dir`.
//! The Message-ID is derived from the row, so a retried message keeps its identity.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use crate::agreements::model::AgreementRow;
use crate::db::schema::{organisations, outbox, technologies, users};
use crate::db::DbConn;
use crate::error::AppError;
use crate::AppState;

/// The kinds of message, each with a template per locale.
pub const KINDS: [&str; 24] = [
    "requested",
    "approved",
    "rejected",
    "withdrawn",
    "signed",
    "started",
    "trial_ended",
    "converted",
    "declined",
    "lapsed",
    "terminated",
    "extended",
    "payment_recorded",
    "reminder_trial_end",
    "reminder_decision",
    "reminder_installment",
    "reminder_overdue",
    "audit_broken",
    "monthly_report",
    "claim_filed",
    "claim_approved",
    "claim_rejected",
    "claim_withdrawn",
    "claim_paid",
];

/// The locales messages are written in.
pub const LOCALES: [&str; 2] = ["vi", "en"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    subject: String,
    body: String,
}

/// The templates, parsed and checked once.
pub struct Templates {
    env: minijinja::Environment<'static>,
}

impl Templates {
    /// Parses the templates of every locale; each must have every kind, and nothing else.
    pub fn parse(sources: &[(&str, &str)]) -> anyhow::Result<Templates> {
        let mut env = crate::templating::text_environment();
        for (locale, text) in sources {
            let file = format!("mail-templates/{locale}.toml");
            let parsed: BTreeMap<String, Template> =
                toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            for kind in KINDS {
                if !parsed.contains_key(kind) {
                    anyhow::bail!("{file}: no template for [{kind}]");
                }
            }
            for (kind, t) in parsed {
                if !KINDS.contains(&kind.as_str()) {
                    anyhow::bail!("{file}: [{kind}] is not a kind of message");
                }
                for (part, source) in [("subject", t.subject), ("body", t.body)] {
                    env.add_template_owned(format!("{locale}/{kind}/{part}"), source)
                        .map_err(|e| anyhow::anyhow!("{file}: [{kind}] {part}: {e}"))?;
                }
            }
        }
        Ok(Templates { env })
    }

    /// Subject and body of `kind` in `locale` (English when the locale has no templates).
    pub fn render(
        &self,
        locale: &str,
        kind: &str,
        ctx: &serde_json::Value,
    ) -> Result<(String, String), minijinja::Error> {
        let locale = if LOCALES.contains(&locale) {
            locale
        } else {
            "en"
        };
        let subject = self
            .env
            .get_template(&format!("{locale}/{kind}/subject"))?
            .render(ctx)?;
        let body = self
            .env
            .get_template(&format!("{locale}/{kind}/body"))?
            .render(ctx)?;
        Ok((subject.trim().to_string(), format!("{}\n", body.trim())))
    }
}

/// The templates shipped with usefirst.
pub static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| {
    Templates::parse(&[
        ("vi", include_str!("../../mail-templates/vi.toml")),
        ("en", include_str!("../../mail-templates/en.toml")),
    ])
    .expect("the shipped mail templates are checked by tests")
});

/// The states of an outbox message.
pub const STATUSES: [&str; 3] = ["pending", "sent", "failed"];

/// One message to write.
struct Recipient {
    email: String,
    name: String,
    locale: String,
}

/// Writes one message of `kind` about `agreement` to every active user of the organisations
/// party to it (and of its insurer), inside the caller's transaction. `extra` adds template
/// variables (`reason`, `amount`, …). Returns how many messages were written.
pub fn enqueue_agreement(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: &str,
    agreement: &AgreementRow,
    extra: serde_json::Value,
) -> Result<usize, AppError> {
    let mut orgs = vec![agreement.sme_id.clone(), agreement.institute_id.clone()];
    orgs.extend(agreement.insurer_id.clone());
    let recipients = recipients(conn, Audience::Organisations(&orgs))?;
    if recipients.is_empty() {
        return Ok(0);
    }
    // Key lookups on the concrete connection, so their statements are prepared once: this runs
    // inside every agreement write.
    let mut name_of = |org: &str| -> diesel::QueryResult<String> {
        crate::on_backend!(&mut *conn, |c| organisations::table
            .find(org)
            .select(organisations::name)
            .first(c))
    };
    let sme = name_of(&agreement.sme_id)?;
    let institute = name_of(&agreement.institute_id)?;
    let (title_vi, title_en): (String, String) = crate::on_backend!(&mut *conn, |c| {
        technologies::table
            .find(&agreement.technology_id)
            .select((technologies::title_vi, technologies::title_en))
            .first(c)
    })?;
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut ctx = serde_json::json!({
        "number": agreement.number,
        "sme": sme,
        "institute": institute,
        "status": agreement.status,
        "trial_start": date(agreement.trial_start.or(Some(agreement.requested_start))),
        "trial_end": date(agreement.trial_end),
        "decision_deadline": date(agreement.decision_deadline),
        "reason": agreement.closed_reason.clone().unwrap_or_default(),
    });
    if let (Some(ctx), serde_json::Value::Object(extra)) = (ctx.as_object_mut(), extra) {
        ctx.extend(extra);
    }
    for r in &recipients {
        ctx["technology"] = if r.locale == "vi" {
            &title_vi
        } else {
            &title_en
        }
        .clone()
        .into();
        write_message(conn, now, kind, Some(&agreement.id), r, &mut ctx, None)?;
    }
    Ok(recipients.len())
}

/// Renders `kind` for `to` in their locale (with `recipient` set in `ctx`) and writes it to
/// the outbox, due now, inside the caller's transaction.
fn write_message(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: &str,
    agreement_id: Option<&str>,
    to: &Recipient,
    ctx: &mut serde_json::Value,
    attachments: Option<&str>,
) -> Result<(), AppError> {
    ctx["recipient"] = to.name.clone().into();
    let (subject, body) = TEMPLATES
        .render(&to.locale, kind, ctx)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("mail template {kind}: {e}")))?;
    let id = uuid::Uuid::now_v7().to_string();
    crate::on_backend!(conn, |c| diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::message_id.eq(format!("{id}@usefirst")),
            outbox::kind.eq(kind),
            outbox::agreement_id.eq(agreement_id),
            outbox::recipient_email.eq(&to.email),
            outbox::recipient_name.eq(&to.name),
            outbox::locale.eq(&to.locale),
            outbox::subject.eq(&subject),
            outbox::body.eq(&body),
            outbox::status.eq("pending"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now.naive_utc()),
            outbox::created_at.eq(now.naive_utc()),
            outbox::attachments.eq(attachments),
        ))
        .execute(c))?;
    Ok(())
}

/// Writes one message of `kind` to every active platform administrator, inside the caller's
/// transaction. Returns how many were written.
pub fn enqueue_admins(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: &str,
    ctx: serde_json::Value,
) -> Result<usize, AppError> {
    enqueue_admins_with(conn, now, kind, ctx, &|_| Vec::new())
}

/// A file a message carries, read from where it is stored when the message is sent (the
/// outbox row stays small and the file is written once however many receive it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// A stored monthly report (`monthly_reports.id`).
    pub report_id: String,
    /// `pdf` or `xlsx`.
    pub format: String,
    /// `vi` or `en`.
    pub lang: String,
}

/// [`enqueue_admins`] with the files `attachments` names for each recipient's locale.
pub fn enqueue_admins_with(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: &str,
    ctx: serde_json::Value,
    attachments: &dyn Fn(&str) -> Vec<Attachment>,
) -> Result<usize, AppError> {
    let admins = recipients(conn, Audience::Admins)?;
    let mut ctx = ctx;
    for to in &admins {
        let files = attachments(&to.locale);
        let files = if files.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&files).map_err(|e| AppError::Internal(e.into()))?)
        };
        write_message(conn, now, kind, None, to, &mut ctx, files.as_deref())?;
    }
    Ok(admins.len())
}

/// The files of each claimed message, read once per stored report and format. A message
/// whose files cannot be read fails on its own, retried when the store was only busy; the
/// others go.
fn load_attachments(state: &AppState, messages: &[Pending]) -> Vec<Files> {
    let mut cache: HashMap<(String, String), File> = HashMap::new();
    messages
        .iter()
        .map(|m| {
            let Some(text) = m.attachments.as_deref() else {
                return Ok(Vec::new());
            };
            let wanted: Vec<Attachment> = serde_json::from_str(text).map_err(|e| SendError {
                message: format!("attachments unreadable: {e}"),
                permanent: true,
            })?;
            let mut files = Vec::with_capacity(wanted.len());
            for a in wanted {
                let key = (a.report_id.clone(), format!("{}.{}", a.format, a.lang));
                if let Some(f) = cache.get(&key) {
                    files.push(f.clone());
                    continue;
                }
                let busy = |e: String| SendError {
                    message: format!(
                        "reading attachment {} of report {}: {e}",
                        a.format, a.report_id
                    ),
                    permanent: false,
                };
                let mut conn = state.db.reader().map_err(|e| busy(e.to_string()))?;
                let f = crate::reports::stored::attachment(&mut conn, &a)
                    .map_err(|e| busy(e.to_string()))?
                    .ok_or_else(|| SendError {
                        message: format!(
                            "attachment {} of report {} is not stored",
                            a.format, a.report_id
                        ),
                        permanent: true,
                    })?;
                cache.insert(key, f.clone());
                files.push(f);
            }
            Ok(files)
        })
        .collect()
}

/// A message's files, or why they cannot be attached.
type Files = Result<Vec<File>, SendError>;

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub content_type: String,
    pub bytes: std::sync::Arc<Vec<u8>>,
}

/// Whose active users a message goes to.
enum Audience<'a> {
    Organisations(&'a [String]),
    Admins,
}

/// The active users of `audience`, as recipients, in e-mail order.
fn recipients(conn: &mut DbConn, audience: Audience<'_>) -> Result<Vec<Recipient>, AppError> {
    let columns = (users::email, users::display_name, users::locale);
    let active = users::table.filter(users::active.eq(true));
    let rows: Vec<(String, String, String)> = match audience {
        // One cached lookup per organisation (this runs inside every agreement write), merged
        // into e-mail order.
        Audience::Organisations(orgs) => {
            let mut rows = Vec::new();
            for org in orgs {
                rows.extend(crate::on_backend!(&mut *conn, |c| active
                    .filter(users::organisation_id.eq(org))
                    .select(columns)
                    .load::<(String, String, String)>(c))?);
            }
            // E-mail addresses are unique, and each user is of one organisation.
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            rows
        }
        Audience::Admins => active
            .filter(users::role.eq("admin"))
            .order(users::email.asc())
            .select(columns)
            .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|(email, name, locale)| Recipient {
            email,
            name,
            locale,
        })
        .collect())
}

/// A claimed message.
#[derive(Debug, Clone, Queryable)]
struct Pending {
    id: String,
    message_id: String,
    recipient_email: String,
    recipient_name: String,
    subject: String,
    body: String,
    attempts: i32,
    created_at: chrono::NaiveDateTime,
    attachments: Option<String>,
}

/// What one delivery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryCounts {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// How long a claimed message is reserved for the instance that claimed it.
const LEASE_SECONDS: i64 = 300;

/// The wait before attempt `attempts + 1`: `retry_base_seconds × 2^(attempts − 1)`, at most
/// a day.
pub fn backoff(base_seconds: u64, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let secs = base_seconds.saturating_mul(1u64 << exp).min(86_400);
    Duration::seconds(secs as i64)
}

/// Delivers the messages that are due; returns what happened to them.
pub fn deliver_due(state: &AppState) -> Result<DeliveryCounts, AppError> {
    let cfg = &state.cfg.mail;
    let now = state.clock.now();
    let candidates: Vec<String> = {
        let mut conn = state.db.reader()?;
        outbox::table
            .filter(outbox::status.eq("pending"))
            .filter(outbox::next_attempt_at.le(now.naive_utc()))
            .filter(
                outbox::claimed_until
                    .is_null()
                    .or(outbox::claimed_until.lt(now.naive_utc())),
            )
            .order(outbox::created_at.asc())
            .limit(cfg.batch_size)
            .select(outbox::id)
            .load(&mut conn)?
    };
    let lease = (now + Duration::seconds(LEASE_SECONDS)).naive_utc();
    // One transaction claims the batch; each row is claimed only if no other instance holds
    // it, so two instances never send the same message at once.
    let claimed: Vec<Pending> = state.db.write(|conn| {
        let mut won = Vec::with_capacity(candidates.len());
        for id in &candidates {
            let claimed = diesel::update(
                outbox::table
                    .find(id)
                    .filter(outbox::status.eq("pending"))
                    .filter(
                        outbox::claimed_until
                            .is_null()
                            .or(outbox::claimed_until.lt(now.naive_utc())),
                    ),
            )
            .set(outbox::claimed_until.eq(Some(lease)))
            .execute(conn)?;
            if claimed == 1 {
                won.push(id);
            }
        }
        Ok::<_, AppError>(
            outbox::table
                .filter(outbox::id.eq_any(won))
                .order(outbox::created_at.asc())
                .select((
                    outbox::id,
                    outbox::message_id,
                    outbox::recipient_email,
                    outbox::recipient_name,
                    outbox::subject,
                    outbox::body,
                    outbox::attempts,
                    outbox::created_at,
                    outbox::attachments,
                ))
                .load::<Pending>(conn)?,
        )
    })?;
    if claimed.is_empty() {
        return Ok(DeliveryCounts::default());
    }
    let files = load_attachments(state, &claimed);
    let outcomes = send_all(state, &claimed, &files)?;
    let mut counts = DeliveryCounts::default();
    let done = state.clock.now();
    // One transaction records every outcome.
    state.db.write(|conn| {
        for (msg, outcome) in claimed.iter().zip(&outcomes) {
            match outcome {
                Ok(()) => {
                    counts.sent += 1;
                    diesel::update(outbox::table.find(&msg.id))
                        .set((
                            outbox::status.eq("sent"),
                            outbox::attempts.eq(msg.attempts + 1),
                            outbox::sent_at.eq(Some(done.naive_utc())),
                            outbox::claimed_until.eq(None::<chrono::NaiveDateTime>),
                            outbox::last_error.eq(None::<String>),
                        ))
                        .execute(conn)?;
                }
                Err(e) => {
                    let attempts = msg.attempts + 1;
                    let give_up = attempts >= cfg.max_attempts || e.permanent;
                    if give_up {
                        counts.failed += 1;
                    } else {
                        counts.retrying += 1;
                    }
                    let next = done + backoff(cfg.retry_base_seconds, attempts);
                    diesel::update(outbox::table.find(&msg.id))
                        .set((
                            outbox::status.eq(if give_up { "failed" } else { "pending" }),
                            outbox::attempts.eq(attempts),
                            outbox::next_attempt_at.eq(next.naive_utc()),
                            outbox::claimed_until.eq(None::<chrono::NaiveDateTime>),
                            outbox::last_error.eq(Some(e.message.clone())),
                        ))
                        .execute(conn)?;
                }
            }
        }
        Ok::<_, AppError>(())
    })?;
    if counts.failed > 0 {
        tracing::error!(failed = counts.failed, "mail given up after retries");
    }
    if counts.retrying > 0 {
        tracing::warn!(
            retrying = counts.retrying,
            "mail delivery failed; will retry"
        );
    }
    Ok(counts)
}

/// Why a message was not delivered.
#[derive(Debug, Clone)]
struct SendError {
    message: String,
    /// Retrying cannot help (a malformed address).
    permanent: bool,
}

fn build(
    from: &lettre::message::Mailbox,
    msg: &Pending,
    files: &Files,
) -> Result<lettre::Message, SendError> {
    use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
    let permanent = |what: String| SendError {
        message: what,
        permanent: true,
    };
    let to = Mailbox::new(
        Some(msg.recipient_name.clone()),
        msg.recipient_email
            .parse()
            .map_err(|e| permanent(format!("recipient {}: {e}", msg.recipient_email)))?,
    );
    let builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(msg.subject.clone())
        .message_id(Some(format!("<{}>", msg.message_id)))
        .date(msg.created_at.and_utc().into());
    let files = files.as_ref().map_err(|e| e.clone())?;
    if files.is_empty() {
        return builder
            .header(ContentType::TEXT_PLAIN)
            .body(msg.body.clone())
            .map_err(|e| permanent(e.to_string()));
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(msg.body.clone()));
    for f in files {
        let kind = ContentType::parse(&f.content_type)
            .map_err(|e| permanent(format!("attachment {}: {e}", f.name)))?;
        parts = parts.singlepart(
            lettre::message::Attachment::new(f.name.clone()).body(f.bytes.as_ref().clone(), kind),
        );
    }
    builder
        .multipart(parts)
        .map_err(|e| permanent(e.to_string()))
}

/// Sends every message, `mail.concurrency` at a time over one pooled SMTP transport (or to
/// `.eml` files); the outcomes are in the order of `messages`.
fn send_all(
    state: &AppState,
    messages: &[Pending],
    files: &[Files],
) -> Result<Vec<Result<(), SendError>>, AppError> {
    let cfg = &state.cfg.mail;
    // Checked at start (`Config::validate`).
    let from: lettre::message::Mailbox = cfg
        .from
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("mail.from: {e}")))?;
    if cfg.smtp_url.trim().is_empty() {
        let dir = std::path::Path::new(&cfg.outbox_dir);
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
        let outcomes: Vec<_> = messages
            .iter()
            .zip(files)
            .map(|(m, f)| {
                let mail = build(&from, m, f)?;
                let path = dir.join(format!("{}.eml", m.id));
                std::fs::write(&path, mail.formatted()).map_err(|e| SendError {
                    message: format!("writing {}: {e}", path.display()),
                    permanent: false,
                })
            })
            .collect();
        tracing::info!(
            count = messages.len(),
            folder = %dir.display(),
            "no SMTP server configured (mail.smtp_url): mail written as .eml files"
        );
        return Ok(outcomes);
    }
    let transport = transport(state)?;
    // Each worker takes the next unsent message until none is left.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = cfg.concurrency.clamp(1, 64).min(messages.len());
    let mut outcomes: Vec<Option<Result<(), SendError>>> = vec![None; messages.len()];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(msg) = messages.get(i) else { break };
                        let outcome = build(&from, msg, &files[i]).and_then(|mail| {
                            use lettre::Transport;
                            transport.send(&mail).map(|_| ()).map_err(|e| SendError {
                                permanent: e.is_permanent(),
                                message: e.to_string(),
                            })
                        });
                        done.push((i, outcome));
                    }
                    done
                })
            })
            .collect();
        for handle in handles {
            for (i, outcome) in handle.join().unwrap_or_default() {
                outcomes[i] = Some(outcome);
            }
        }
    });
    // A message whose sender thread died is retried like any failed one.
    Ok(outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                Err(SendError {
                    message: "the sending thread stopped".into(),
                    permanent: false,
                })
            })
        })
        .collect())
}

/// The process's pooled SMTP transport, built on first use: its connections stay open
/// between delivery runs instead of being opened again every `deliver-mail` run.
fn transport(state: &AppState) -> Result<&lettre::SmtpTransport, AppError> {
    if let Some(transport) = state.mail_transport.get() {
        return Ok(transport);
    }
    let built = smtp_transport(&state.cfg.mail)?;
    Ok(state.mail_transport.get_or_init(|| built))
}

/// The pooled SMTP transport for `mail.smtp_url` (`smtp://host:port` plain, `?tls=required`
/// for STARTTLS, `smtps://` for TLS; credentials as `user:password@`).
pub fn smtp_transport(cfg: &crate::config::MailConfig) -> Result<lettre::SmtpTransport, AppError> {
    use lettre::transport::smtp::PoolConfig;
    Ok(lettre::SmtpTransport::from_url(&cfg.smtp_url)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("mail.smtp_url: {e}")))?
        .timeout(Some(std::time::Duration::from_secs(cfg.timeout_seconds)))
        .pool_config(PoolConfig::new().max_size(cfg.concurrency.clamp(1, 64) as u32))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> serde_json::Value {
        serde_json::json!({
            "recipient": "Nguyễn Văn An", "number": "UF-2026-000001", "technology": "Máy sấy nông sản",
            "sme": "Công ty TNHH Hòa Bình", "institute": "Viện Cơ điện", "status": "signed",
            "trial_start": "2026-03-10", "trial_end": "2026-06-07", "decision_deadline": "2026-07-07",
            "reason": "—", "amount": "1.500.000 VND", "received_on": "2026-08-01", "reference": "UNC-1",
            "days": 7, "due": "2026-09-01", "line": 2, "seq": 42, "reason": "hash mismatch",
            "claim": "CL-2026-000001", "risk": "implementation_failure", "payout": "95.000.000 VND",
            "decision_reason": "", "payment_reference": "",
            "month": "2026-10", "provisional": false, "requests": 148, "trials_started": 102,
            "conversions": 51,
        })
    }

    #[test]
    fn every_kind_renders_in_every_locale() {
        for locale in LOCALES {
            for kind in KINDS {
                let (subject, body) = TEMPLATES.render(locale, kind, &context()).unwrap();
                assert!(
                    !subject.is_empty() && !subject.contains('\n'),
                    "{locale}/{kind}"
                );
                let expect = match kind {
                    "audit_broken" => "42",
                    "monthly_report" => "2026-10",
                    _ => "UF-2026-000001",
                };
                assert!(body.contains(expect), "{locale}/{kind}: {body}");
                assert!(!body.contains("{{"), "{locale}/{kind}");
            }
        }
        let (subject, _) = TEMPLATES.render("vi", "approved", &context()).unwrap();
        assert!(subject.starts_with("Đã chấp thuận"), "{subject}");
        let (subject, _) = TEMPLATES.render("en", "approved", &context()).unwrap();
        assert!(subject.starts_with("Trial approved"), "{subject}");
    }

    #[test]
    fn broken_templates_are_refused_by_name() {
        let err = Templates::parse(&[("en", "[approved]\nsubject = \"x\"\nbody = \"y\"\n")])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("mail-templates/en.toml") && err.contains("[requested]"),
            "{err}"
        );
        let mut all: String = KINDS
            .iter()
            .map(|k| format!("[{k}]\nsubject = \"s\"\nbody = \"b\"\n"))
            .collect();
        all.push_str("[greeting]\nsubject = \"s\"\nbody = \"b\"\n");
        let err = Templates::parse(&[("en", &all)]).err().unwrap().to_string();
        assert!(err.contains("[greeting]"), "{err}");
        // A variable nobody provides fails loudly instead of printing nothing.
        let typo = all
            .replace("[greeting]\nsubject = \"s\"\nbody = \"b\"\n", "")
            .replacen("body = \"b\"", "body = \"{{ numbr }}\"", 1);
        let t = Templates::parse(&[("en", &typo)]).unwrap();
        assert!(t.render("en", "requested", &context()).is_err());
    }

    #[test]
    fn backoff_doubles_up_to_a_day() {
        assert_eq!(backoff(30, 1), Duration::seconds(30));
        assert_eq!(backoff(30, 2), Duration::seconds(60));
        assert_eq!(backoff(30, 5), Duration::seconds(480));
        assert_eq!(backoff(30, 40), Duration::seconds(86_400));
    }
}
