//! Mail: a transactional outbox and its delivery.
//!
//! Every message is a row of `outbox`, written in the same transaction as the change that
//! causes it ([`enqueue_agreement`]), one per recipient, in the recipient's locale, from the
//! templates in `mail-templates/{vi,en}.toml`. The `deliver-mail` job ([`deliver`], run by
//! `app::mail`) claims due rows one by one (a lease, so two instances never send the same row
//! at once), sends them over SMTP with lettre's pooled transport from several threads, and
//! records the outcome: `sent`, or a retry with exponential backoff, or `failed` after
//! `mail.max_attempts`. With no SMTP server configured each message is written as an `.eml`
//! file under `mail.outbox_dir`. The Message-ID is derived from the row, so a retried message
//! keeps its identity. Admins list the outbox and retry failed messages ([`admin`]).

pub mod admin;
pub mod deliver;
pub mod model;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use crate::agreements::model::AgreementRow;
use crate::db::schema::{organisations, outbox, technologies, users};
use crate::db::DbConn;
use crate::error::AppError;
use model::Attachment;

pub use model::KINDS;

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

/// Writes one message of `kind` to one person (whether or not they may sign in yet: a
/// registration's applicant, say), in `locale`, inside the caller's transaction.
pub fn enqueue_to(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: &str,
    email: &str,
    name: &str,
    locale: &str,
    ctx: serde_json::Value,
) -> Result<(), AppError> {
    let to = Recipient {
        email: email.to_string(),
        name: name.to_string(),
        locale: locale.to_string(),
    };
    let mut ctx = ctx;
    write_message(conn, now, kind, None, &to, &mut ctx, None)
}

/// Writes one message of `kind` to every active user of organisation `org`, each in their
/// language: `ctx` gives the template's variables for a locale. Inside the caller's
/// transaction; returns how many were written.
pub fn enqueue_organisation(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: &str,
    org: &str,
    ctx: &dyn Fn(&str) -> serde_json::Value,
) -> Result<usize, AppError> {
    let orgs = [org.to_string()];
    let recipients = recipients(conn, Audience::Organisations(&orgs))?;
    for to in &recipients {
        let mut vars = ctx(&to.locale);
        write_message(conn, now, kind, None, to, &mut vars, None)?;
    }
    Ok(recipients.len())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> serde_json::Value {
        let mut ctx = serde_json::json!({
            "recipient": "Nguyễn Văn An", "number": "UF-2026-000001", "technology": "Máy sấy nông sản",
            "sme": "Công ty TNHH Hòa Bình", "institute": "Viện Cơ điện", "status": "signed",
            "trial_start": "2026-03-10", "trial_end": "2026-06-07", "decision_deadline": "2026-07-07",
            "reason": "—", "amount": "1.500.000 VND", "received_on": "2026-08-01", "reference": "UNC-1",
            "days": 7, "due": "2026-09-01", "line": 2, "seq": 42, "reason": "hash mismatch",
            "claim": "CL-2026-000001", "risk": "implementation_failure", "payout": "95.000.000 VND",
            "decision_reason": "", "payment_reference": "",
            "month": "2026-10", "provisional": false, "requests": 148, "trials_started": 102,
            "conversions": 51,
            "link": "https://uf.example.vn/x", "organisation": "Công ty Hòa Bình Xanh",
            "minutes": 60, "hours": 72, "registration_no": "1801234567", "province": "Cần Thơ",
            "name": "Trần Thị Mai", "email": "mai@saymekong.vn",
        });
        // In two parts: one literal this long passes the macro's recursion limit.
        let more = serde_json::json!({
            "deadline": "2026-12-01", "takes_effect": true, "certificate_number": "123/ĐK-BKHCN",
            "certificate_date": "2026-11-20", "issuing_office": "Bộ Khoa học và Công nghệ",
            "demand": "Máy sấy rơm rạ", "message": "Máy đã chạy ở ba hợp tác xã.",
        });
        let serde_json::Value::Object(more) = more else {
            unreachable!("an object literal")
        };
        ctx.as_object_mut().expect("an object literal").extend(more);
        ctx
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
                    "password_reset" | "password_reset_admin" | "demand_proposal" => {
                        "https://uf.example.vn/x"
                    }
                    "invitation" => "Công ty Hòa Bình Xanh",
                    k if k.starts_with("registration_") => "Công ty Hòa Bình Xanh",
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
}
