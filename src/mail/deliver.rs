//! Delivery: the `deliver-mail` job claims due messages one by one (a lease, so two
//! instances never send the same row at once), reads the files they name, sends them over SMTP
//! with lettre's pooled transport from several threads (or writes `.eml` files when no server
//! is configured), and records the outcome: `sent`, a retry with exponential backoff, or
//! `failed` after `mail.max_attempts`.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::Duration;
use diesel::prelude::*;

use super::model::{Attachment, DeliveryCounts, File};
use crate::clock::Clock;
use crate::config::MailConfig;
use crate::db::schema::outbox;
use crate::db::{Db, DbConn};
use crate::error::AppError;

/// What a delivery run needs of the running service.
pub struct Delivery<'a> {
    pub db: &'a Db,
    pub cfg: &'a MailConfig,
    pub clock: &'a Clock,
    /// The process's pooled SMTP transport, built on the first delivery: its connections stay
    /// open between delivery runs.
    pub transport: &'a OnceLock<lettre::SmtpTransport>,
    /// Reads a file a message names, on a reader connection, when the message is sent
    /// (`app::mail` supplies it; `None` when the file is not stored).
    pub read_file: &'a dyn Fn(&mut DbConn, &Attachment) -> Result<Option<File>, AppError>,
}

/// The files of each claimed message, read once per stored report and format. A message
/// whose files cannot be read fails on its own, retried when the store was only busy; the
/// others go.
fn load_attachments(d: &Delivery<'_>, messages: &[Pending]) -> Vec<Files> {
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
                let mut conn = d.db.reader().map_err(|e| busy(e.to_string()))?;
                let f = (d.read_file)(&mut conn, &a)
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
pub fn deliver_due(d: &Delivery<'_>) -> Result<DeliveryCounts, AppError> {
    let cfg = d.cfg;
    let now = d.clock.now();
    let candidates: Vec<String> = {
        let mut conn = d.db.reader()?;
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
    let claimed: Vec<Pending> = d.db.write(|conn| {
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
    let files = load_attachments(d, &claimed);
    let outcomes = send_all(d, &claimed, &files)?;
    let mut counts = DeliveryCounts::default();
    let done = d.clock.now();
    // One transaction records every outcome.
    d.db.write(|conn| {
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
    d: &Delivery<'_>,
    messages: &[Pending],
    files: &[Files],
) -> Result<Vec<Result<(), SendError>>, AppError> {
    let cfg = d.cfg;
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
    let transport = transport(d)?;
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
fn transport<'a>(d: &Delivery<'a>) -> Result<&'a lettre::SmtpTransport, AppError> {
    if let Some(transport) = d.transport.get() {
        return Ok(transport);
    }
    let built = smtp_transport(d.cfg)?;
    Ok(d.transport.get_or_init(|| built))
}

/// The pooled SMTP transport for `mail.smtp_url` (`smtp://host:port` plain, `?tls=required`
/// for STARTTLS, `smtps://` for TLS; credentials as `user:password@`).
pub fn smtp_transport(cfg: &MailConfig) -> Result<lettre::SmtpTransport, AppError> {
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

    #[test]
    fn backoff_doubles_up_to_a_day() {
        assert_eq!(backoff(30, 1), Duration::seconds(30));
        assert_eq!(backoff(30, 2), Duration::seconds(60));
        assert_eq!(backoff(30, 5), Duration::seconds(480));
        assert_eq!(backoff(30, 40), Duration::seconds(86_400));
    }
}
