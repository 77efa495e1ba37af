//! Mail through the outbox to a real SMTP server on loopback: written with the change that
//! causes it, delivered in each recipient's language, never lost while the server is down,
//! never sent twice; failed messages are visible to admins, who can retry them.

use std::collections::BTreeSet;

use base64::Engine;
use chrono::Duration;
use diesel::prelude::*;
use serde_json::json;
use usefirst::app::mail::deliver;
use usefirst::mail::model::DeliveryCounts;

use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

/// (message_id, recipient, locale, subject, status) of every outbox row, oldest first.
fn outbox(app: &TestApp) -> Vec<(String, String, String, String, String)> {
    use usefirst::db::schema::outbox::dsl::*;
    app.db(|c| {
        usefirst::on_backend!(c, |c| outbox
            .order((created_at.asc(), recipient_email.asc()))
            .select((message_id, recipient_email, locale, subject, status))
            .load(c))
    })
    .unwrap()
}

fn set_locale(app: &TestApp, email: &str, locale: &str) {
    app.db(|c| {
        diesel::sql_query(format!(
            "UPDATE users SET locale = '{locale}' WHERE email = '{email}'"
        ))
        .execute(c)
    })
    .unwrap();
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words in a header (white space between two encoded
/// words is dropped; anywhere else it stays).
fn decode_header(value: &str) -> String {
    let decode = |word: &str| -> Option<String> {
        let lower = word.to_ascii_lowercase();
        (lower.starts_with("=?utf-8?b?") && word.ends_with("?=")).then(|| {
            let b = &word[10..word.len() - 2];
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
        })
    };
    let mut out = String::new();
    let mut last_encoded = None;
    for word in value.split_whitespace() {
        let decoded = decode(word);
        if let Some(prev) = last_encoded {
            if !(prev && decoded.is_some()) {
                out.push(' ');
            }
        }
        last_encoded = Some(decoded.is_some());
        out.push_str(&decoded.unwrap_or_else(|| word.to_string()));
    }
    out
}

#[actix_web::test]
async fn the_parties_get_each_change_once_in_their_own_language() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = TestApp::spawn_with(move |c| c.mail.smtp_url = url).await;
    let w = app.world().await;
    let (sme_email, inst_email) = (w.sme_a.email.clone(), w.inst_a.email.clone());
    set_locale(&app, &sme_email, "en");
    set_locale(&app, &inst_email, "vi");

    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    let id = id_of(&a);
    assert_eq!(
        outbox(&app).len(),
        2,
        "the SME and the institute hear of the request"
    );
    // A refused change writes no mail.
    let (s, _) = app
        .act(&w.inst_a.token, &id, "approve", 99, json!({}))
        .await;
    assert_eq!(s, 412);
    let (s, _) = app.act(&w.sme_a.token, &id, "approve", 1, json!({})).await;
    assert_eq!(s, 403);
    assert_eq!(outbox(&app).len(), 2);
    let (s, _) = app.act(&w.inst_a.token, &id, "approve", 1, json!({})).await;
    assert_eq!(s, 200);
    let rows = outbox(&app);
    assert_eq!(rows.len(), 4);

    let counts = deliver(&app.state).unwrap();
    assert_eq!(
        counts,
        DeliveryCounts {
            sent: 4,
            retrying: 0,
            failed: 0
        }
    );
    let got = sink.messages();
    assert_eq!(got.len(), 4);
    for (message_id, recipient, locale, subject, status) in &rows {
        assert_eq!(status, "pending", "read before delivery");
        let expected = if *recipient == sme_email { "en" } else { "vi" };
        assert_eq!(
            locale, expected,
            "{recipient} is written to in their locale"
        );
        let m = got
            .iter()
            .find(|m| m.header("Message-ID").as_deref() == Some(&format!("<{message_id}>")))
            .unwrap_or_else(|| panic!("{message_id} not delivered"));
        assert_eq!(m.to, vec![recipient.clone()]);
        assert_eq!(m.from, "no-reply@usefirst.local");
        let raw = m.header("Subject").unwrap();
        assert_eq!(&decode_header(&raw), subject, "raw: {raw}");
    }
    let approved_for = |email: &str| {
        rows.iter()
            .find(|r| r.1 == email && (r.3.contains("approved") || r.3.contains("chấp thuận")))
            .map(|r| r.3.clone())
            .unwrap()
    };
    assert!(
        approved_for(&sme_email).starts_with("Trial approved:"),
        "English for the SME"
    );
    assert!(
        approved_for(&inst_email).starts_with("Đã chấp thuận dùng thử:"),
        "Vietnamese for the institute"
    );
    let english = got
        .iter()
        .find(|m| m.to == vec![sme_email.clone()] && m.data.contains("approved the trial"))
        .expect("the English body");
    assert!(english.data.contains("Dear "), "{}", english.data);
    // The technology by its English title, and the agreement by its number.
    assert!(english.data.contains("Technology A"), "{}", english.data);
    let number = a["number"].as_str().unwrap();
    assert!(english.data.contains(number), "{}", english.data);

    // Delivered once: another run finds nothing, and the rows say sent.
    assert_eq!(deliver(&app.state).unwrap(), DeliveryCounts::default());
    assert_eq!(sink.messages().len(), 4);
    assert!(outbox(&app).iter().all(|r| r.4 == "sent"));
}

#[actix_web::test]
async fn while_smtp_is_down_mail_waits_and_then_arrives_exactly_once() {
    // A port nobody listens on, for now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_with(move |c| {
        c.mail.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.mail.retry_base_seconds = 30;
        c.mail.timeout_seconds = 2;
        long_sessions(c);
    })
    .await;
    let w = app.world().await;
    let a = app.signed_agreement(&w).await;
    let expected = outbox(&app).len();
    assert_eq!(
        expected, 8,
        "requested, approved and two signatures, to one user of each of the two parties"
    );
    let counts = deliver(&app.state).unwrap();
    assert_eq!(
        counts,
        DeliveryCounts {
            sent: 0,
            retrying: expected,
            failed: 0
        }
    );
    assert_eq!(
        deliver(&app.state).unwrap(),
        DeliveryCounts::default(),
        "not due again yet"
    );
    // Meanwhile the trial starts: one more message per party, queued behind the others.
    app.pass_days(1);
    let (_, now) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{}", id_of(&a)))
        .await;
    assert_eq!(now["status"], "active");
    let expected = outbox(&app).len();

    let sink = SmtpSink::start_on(port);
    app.clock.advance(Duration::seconds(31));
    let counts = deliver(&app.state).unwrap();
    assert_eq!(counts.sent, expected, "{counts:?}");
    assert_eq!(deliver(&app.state).unwrap(), DeliveryCounts::default());
    let ids: Vec<String> = sink
        .messages()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), expected, "none lost");
    assert_eq!(unique.len(), expected, "none twice");
    let rows: BTreeSet<String> = outbox(&app)
        .into_iter()
        .map(|r| format!("<{}>", r.0))
        .collect();
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), rows);
}

#[actix_web::test]
async fn mail_given_up_on_is_visible_to_admins_who_can_retry_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_with(move |c| {
        c.mail.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.mail.max_attempts = 2;
        c.mail.retry_base_seconds = 10;
        c.mail.timeout_seconds = 2;
        long_sessions(c);
    })
    .await;
    let w = app.world().await;
    app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    assert_eq!(deliver(&app.state).unwrap().retrying, 2);
    app.clock.advance(Duration::seconds(11));
    assert_eq!(deliver(&app.state).unwrap().failed, 2);
    app.clock.advance(Duration::days(1));
    assert_eq!(
        deliver(&app.state).unwrap(),
        DeliveryCounts::default(),
        "failed stays failed"
    );

    let (s, page) = app
        .get(&w.admin.token, "/api/v1/mail/outbox?status=failed")
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][0]["attempts"], 2);
    assert!(page["items"][0]["last_error"].is_string());
    for (who, user) in w.all() {
        if who != "admin" {
            let (s, _) = app.get(&user.token, "/api/v1/mail/outbox").await;
            assert_eq!(s, 404, "{who}");
        }
    }
    let (s, p) = app
        .get(&w.admin.token, "/api/v1/mail/outbox?status=lost")
        .await;
    assert_eq!(s, 422, "{p}");

    let sink = SmtpSink::start_on(port);
    let first = page["items"][0]["id"].as_str().unwrap().to_string();
    let (s, m) = app
        .post(
            &w.admin.token,
            &format!("/api/v1/mail/outbox/{first}/retry"),
            json!({}),
        )
        .await;
    assert_eq!((s, m["status"].as_str()), (200, Some("pending")), "{m}");
    let (s, _) = app
        .post(
            &w.sme_a.token,
            &format!("/api/v1/mail/outbox/{first}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(deliver(&app.state).unwrap().sent, 1);
    assert_eq!(sink.messages().len(), 1);
    // Sent again under the Message-ID it was first given.
    let message_id = page["items"][0]["message_id"].as_str().unwrap();
    assert_eq!(
        sink.messages()[0].header("Message-ID").as_deref(),
        Some(format!("<{message_id}>").as_str())
    );
    let (s, p) = app
        .post(
            &w.admin.token,
            &format!("/api/v1/mail/outbox/{first}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(s, 409, "a sent message is not sent again: {p}");
    let (s, _) = app
        .post(
            &w.admin.token,
            "/api/v1/mail/outbox/no-such-id/retry",
            json!({}),
        )
        .await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn without_an_smtp_server_mail_is_written_as_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mail");
    let f = folder.to_string_lossy().into_owned();
    let app = TestApp::spawn_with(move |c| {
        c.mail.smtp_url = String::new();
        c.mail.outbox_dir = f;
    })
    .await;
    let w = app.world().await;
    app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    let scheduler = usefirst::scheduler::Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    let run = scheduler
        .run_now(&app.state, usefirst::scheduler::JobKind::DeliverMail)
        .unwrap();
    assert_eq!(run.counts["sent"], 2, "{run:?}");
    let rows = outbox(&app);
    let files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 2);
    for (message_id, recipient, ..) in rows {
        assert!(
            files
                .iter()
                .any(|f| f.contains(&format!("<{message_id}>")) && f.contains(&recipient)),
            "{message_id} to {recipient}"
        );
    }
}
