//! The administrator's pages over HTTP, as a browser sees them: the home with a link to each
//! admin page; organisations and users (invite by e-mail with a single-use link read from the
//! real SMTP server on loopback, deactivate, re-activate, a link to set a new password); the
//! registrations' fixes (confirming needs a POST, admins are mailed, a refused tax code can
//! register again); the outbox (filters, why a message failed, retry) and the scheduler's runs
//! (failures first). Every admin page is a 404 to everyone else.

use base64::Engine;
use chrono::Duration;
use diesel::prelude::*;
use reqwest::header::LOCATION;
use usefirst::app::mail::deliver;

use crate::browser::Browser;
use crate::helpers::*;
use crate::smtp_sink::{Received, SmtpSink};

const NEW_PASSWORD: &str = "mùa thu Hà Nội 2026";

fn location(h: &reqwest::header::HeaderMap) -> String {
    h[LOCATION].to_str().unwrap().to_string()
}

/// The text of a message as sent, its transfer encoding undone (quoted-printable or base64).
fn body_of(m: &Received) -> String {
    let body = m.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let encoding = m
        .header("Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "base64" => {
            let clean: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .unwrap(),
            )
            .unwrap()
        }
        "quoted-printable" => {
            let joined = body.replace("=\r\n", "");
            let bytes = joined.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'=' && i + 2 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        }
        _ => body.to_string(),
    }
}

/// The bodies of the messages the sink received for `email`, oldest first.
fn received_by(sink: &SmtpSink, email: &str) -> Vec<String> {
    sink.messages()
        .iter()
        .filter(|m| m.to == vec![email.to_string()])
        .map(body_of)
        .collect()
}

/// The path of the link in `body` that starts with `prefix` (`/invitation/`).
fn link(body: &str, prefix: &str) -> String {
    let at = body
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {body}"));
    body[at..].split_whitespace().next().unwrap().to_string()
}

/// (kind, subject, body) of every outbox message to `email`, oldest first.
fn outbox_to(app: &TestApp, email: &str) -> Vec<(String, String, String)> {
    use usefirst::db::schema::outbox::dsl::*;
    app.db(|c| {
        usefirst::on_backend!(c, |c| outbox
            .filter(recipient_email.eq(email))
            .order((created_at.asc(), id.asc()))
            .select((kind, subject, body))
            .load(c))
    })
    .unwrap()
}

async fn admin_browser(app: &TestApp, w: &World) -> (Browser, String) {
    let mut admin = Browser::new(app);
    let (s, h, _) = admin.sign_in(&w.admin.email, PASSWORD).await;
    assert_eq!((s, location(&h).as_str()), (303, "/home"));
    let csrf = admin.csrf();
    (admin, csrf)
}

#[actix_web::test]
async fn an_invited_user_sets_a_password_from_the_mailed_link_once() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = TestApp::spawn_with(move |c| {
        c.mail.smtp_url = url;
        long_sessions(c);
    })
    .await;
    let w = app.world().await;
    let (mut admin, csrf) = admin_browser(&app, &w).await;

    // The admins' home links every admin page, the report's too.
    let (s, _, page) = admin.get("/home").await;
    assert_eq!(s, 200, "{page}");
    for href in [
        "/admin/registrations",
        "/admin/organisations",
        "/admin/users",
        "/admin/outbox",
        "/admin/jobs",
        "/admin/reports",
    ] {
        assert!(page.contains(&format!("href=\"{href}")), "{href}: {page}");
    }
    let (s, h, _) = admin.get("/admin").await;
    assert_eq!((s, location(&h).as_str()), (303, "/home"));

    // The list of institutes has institute A, and no enterprise.
    let (s, _, page) = admin.get("/admin/organisations?kind=institute").await;
    assert_eq!(s, 200);
    assert!(page.contains(&format!("/admin/organisations/{}", w.inst_a.org)));
    assert!(!page.contains(&format!("/admin/organisations/{}", w.sme_a.org)));
    let org_page = format!("/admin/organisations/{}", w.inst_a.org);
    let (s, _, page) = admin.get(&org_page).await;
    assert_eq!(s, 200);
    assert!(page.contains(&w.inst_a.email) && page.contains("Mời người dùng qua email"));
    // Only the institute's role is offered.
    assert!(page.contains("value=\"institute\"") && !page.contains("value=\"admin\""));

    // A bad invitation: 422, each field named beside it, what was typed kept.
    let invite = format!("{org_page}/invite");
    let users = app.count("users");
    let (s, _, page) = admin
        .post(
            &invite,
            &[
                ("csrf", &csrf),
                ("display_name", " "),
                ("email", &w.sme_a.email),
                ("role", "admin"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("aria-describedby=\"display_name-error\"")
            && page.contains("Vui lòng điền mục này.")
    );
    assert!(page.contains("Đã có tài khoản dùng địa chỉ email này."));
    assert!(page.contains("aria-describedby=\"role-error\""));
    assert!(page.contains(&format!("value=\"{}\"", w.sme_a.email)));
    assert_eq!(app.count("users"), users);
    // Without the form token: refused, nothing made.
    let (s, _, _) = admin
        .post(
            &invite,
            &[
                ("display_name", "X"),
                ("email", "x@vien-a.vn"),
                ("role", "institute"),
                ("locale", "vi"),
            ],
        )
        .await;
    assert_eq!(s, 403);

    // Invited: a user without a password, a mail in the language chosen.
    let (s, h, _) = admin
        .post(
            &invite,
            &[
                ("csrf", &csrf),
                ("display_name", "Phạm Thu Hà"),
                ("email", " Ha@Vien-A.vn "),
                ("role", "institute"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let back = location(&h);
    assert!(
        back.starts_with(&format!("{org_page}?done=invited&user=")),
        "{back}"
    );
    let (_, _, page) = admin.get(back.split('#').next().unwrap()).await;
    assert!(
        page.contains("Đã mời Phạm Thu Hà") && page.contains("Đã mời, chưa đặt mật khẩu"),
        "{page}"
    );
    assert_eq!(app.count("users"), users + 1);
    assert_eq!(app.count("audit_events WHERE action = 'user.invited'"), 1);
    let mut ha = Browser::new(&app);
    let (s, _, _) = ha.sign_in("ha@vien-a.vn", "!invited").await;
    assert_eq!(
        s, 401,
        "no password works before the invitation is accepted"
    );

    // Delivered over SMTP; the link is in the mail, and nowhere on the admin's pages.
    assert_eq!(deliver(&app.state).unwrap().sent, 1);
    let bodies = received_by(&sink, "ha@vien-a.vn");
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains("Dear Phạm Thu Hà") && bodies[0].contains("72 hours"),
        "{}",
        bodies[0]
    );
    let accept = link(&bodies[0], "/invitation/");
    assert!(!page.contains(&accept));
    let (_, _, outbox_page) = admin.get("/admin/outbox").await;
    assert!(!outbox_page.contains(&accept));

    // The page names the person; a weak password is refused beside the field.
    let (s, _, page) = ha.get(&accept).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Phạm Thu Hà") && page.contains("ha@vien-a.vn"));
    let ha_csrf = ha.csrf();
    let (s, _, page) = ha
        .post(
            &accept,
            &[
                ("csrf", &ha_csrf),
                ("new_password", "short"),
                ("password_again", "short"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        page.contains("aria-describedby=\"new_password-error\""),
        "{page}"
    );

    // Set: signed in, at home.
    let (s, h, _) = ha
        .post(
            &accept,
            &[
                ("csrf", &ha_csrf),
                ("new_password", NEW_PASSWORD),
                ("password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!((s, location(&h).as_str()), (303, "/home"));
    assert!(ha.cookie("uf_session").is_some());
    let (s, _, page) = ha.get("/profile").await;
    assert_eq!(s, 200);
    assert!(page.contains("Phạm Thu Hà"), "{page}");
    assert_eq!(
        app.count("audit_events WHERE action = 'user.invitation_accepted'"),
        1
    );

    // The link works once.
    let mut other = Browser::new(&app);
    let (s, _, page) = other.get(&accept).await;
    assert_eq!(s, 410);
    assert!(page.contains("Lời mời này không còn dùng được"), "{page}");
    other.get("/sign-in").await;
    let c = other.csrf();
    let (s, _, _) = other
        .post(
            &accept,
            &[
                ("csrf", &c),
                ("new_password", "another good one 2026"),
                ("password_again", "another good one 2026"),
            ],
        )
        .await;
    assert_eq!(s, 410);
    let (s, h, _) = other.sign_in("ha@vien-a.vn", NEW_PASSWORD).await;
    assert_eq!((s, location(&h).as_str()), (303, "/home"));
    let (_, _, page) = admin.get(&org_page).await;
    assert!(
        !page.contains("Đã mời, chưa đặt mật khẩu"),
        "accepted: active"
    );

    // A link expires: invited again, the first link 72 hours later no longer works.
    let (s, _, _) = admin
        .post(
            &invite,
            &[
                ("csrf", &csrf),
                ("display_name", "Late"),
                ("email", "late@vien-a.vn"),
                ("role", "institute"),
                ("locale", "vi"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    deliver(&app.state).unwrap();
    let late = link(&received_by(&sink, "late@vien-a.vn")[0], "/invitation/");
    assert!(late != accept);
    app.clock.advance(Duration::hours(72));
    let (s, _, _) = other.get(&late).await;
    assert_eq!(s, 410);
    // Invited again: a new link that works, in Vietnamese this time.
    let late_id: String = app
        .db(|c| {
            use usefirst::db::schema::users::dsl::*;
            users.filter(email.eq("late@vien-a.vn")).select(id).first(c)
        })
        .unwrap();
    let (s, h, _) = admin
        .post(
            &format!("/admin/users/{late_id}/invite-again"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    assert!(location(&h).contains("done=invite-again"));
    deliver(&app.state).unwrap();
    let again = received_by(&sink, "late@vien-a.vn");
    assert_eq!(again.len(), 2);
    assert!(again[1].contains("Kính gửi Late"), "{}", again[1]);
    let (s, _, _) = other.get(&link(&again[1], "/invitation/")).await;
    assert_eq!(s, 200);
    // Someone who accepted is not invited again.
    let ha_id: String = app
        .db(|c| {
            use usefirst::db::schema::users::dsl::*;
            users.filter(email.eq("ha@vien-a.vn")).select(id).first(c)
        })
        .unwrap();
    let (s, _, _) = admin
        .post(
            &format!("/admin/users/{ha_id}/invite-again"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 409);
    let (s, v) = app.get(&w.admin.token, "/api/v1/audit/verify").await;
    assert_eq!(s, 200, "{v}");
}

#[actix_web::test]
async fn organisations_are_created_with_errors_beside_their_fields() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let (mut admin, csrf) = admin_browser(&app, &w).await;
    let (s, _, page) = admin.get("/admin/organisations/new").await;
    assert_eq!(s, 200);
    assert!(page.contains("<label for=\"registration_no\">"), "{page}");
    let taken: String = app
        .db(|c| {
            use usefirst::db::schema::organisations::dsl::*;
            organisations
                .find(&w.inst_b.org)
                .select(registration_no)
                .first(c)
        })
        .unwrap();
    let orgs = app.count("organisations");
    let (s, _, page) = admin
        .post(
            "/admin/organisations/new",
            &[
                ("csrf", &csrf),
                ("kind", "institute"),
                ("name", "Viện <Cơ khí>"),
                ("registration_no", &taken),
                ("province", ""),
                ("contact_email", "not an address"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("Đã có tổ chức đăng ký với mã số thuế này."),
        "{page}"
    );
    assert!(page.contains("aria-describedby=\"province-error\""));
    assert!(page.contains("aria-describedby=\"contact_email-error\""));
    assert!(page.contains("value=\"Viện &lt;Cơ khí&gt;\""));
    assert_eq!(app.count("organisations"), orgs);
    let (s, h, _) = admin
        .post(
            "/admin/organisations/new",
            &[
                ("csrf", &csrf),
                ("kind", "insurer"),
                ("name", "Bảo hiểm Sông Hồng"),
                ("registration_no", "0109998887"),
                ("province", "Hà Nội"),
                ("contact_email", "lienhe@songhong.vn"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (s, _, page) = admin.get(&location(&h)).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Bảo hiểm Sông Hồng") && page.contains("value=\"insurer\""),
        "{page}"
    );
    assert_eq!(app.count("organisations"), orgs + 1);
    let (_, _, page) = admin.get("/admin/users?q=SME_A").await;
    assert!(
        page.contains(&w.sme_a.email) && !page.contains(&w.sme_b.email),
        "{page}"
    );
}

#[actix_web::test]
async fn a_deactivated_user_is_signed_out_and_cannot_sign_in_until_reactivated() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let (mut admin, csrf) = admin_browser(&app, &w).await;
    let mut sme = Browser::new(&app);
    sme.sign_in(&w.sme_a.email, PASSWORD).await;
    let (s, _, _) = sme.get("/profile").await;
    assert_eq!(s, 200);
    let (s, _) = app.get(&w.sme_a.token, "/api/v1/agreements").await;
    assert_eq!(s, 200);

    let (s, h, _) = admin
        .post(
            &format!("/admin/users/{}/deactivate", w.sme_a.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let back = location(&h);
    assert!(back.starts_with(&format!(
        "/admin/organisations/{}?done=deactivate",
        w.sme_a.org
    )));
    let (_, _, page) = admin.get(back.split('#').next().unwrap()).await;
    assert!(
        page.contains("Đã vô hiệu hóa") && page.contains("Kích hoạt lại"),
        "{page}"
    );
    // Every session ended at once: the page's and the API's.
    let (s, h, _) = sme.get("/profile").await;
    assert_eq!(
        (s, location(&h).as_str()),
        (303, "/sign-in?next=%2Fprofile")
    );
    let (s, _) = app.get(&w.sme_a.token, "/api/v1/agreements").await;
    assert_eq!(s, 401);
    // The right password no longer signs in.
    let (s, _, _) = sme.sign_in(&w.sme_a.email, PASSWORD).await;
    assert_eq!(s, 401);
    let (s, _) = app.login(&w.sme_a.email, PASSWORD).await;
    assert_eq!(s, 401);
    // Twice is a conflict; an admin does not deactivate themselves.
    let (s, _, _) = admin
        .post(
            &format!("/admin/users/{}/deactivate", w.sme_a.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 409);
    let (s, _, _) = admin
        .post(
            &format!("/admin/users/{}/deactivate", w.admin.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 409);
    // A deactivated user is sent no link to set a password.
    let (s, _, _) = admin
        .post(
            &format!("/admin/users/{}/reset-password", w.sme_a.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 409);
    let (_, _, page) = admin.get("/admin/users?state=deactivated").await;
    assert!(
        page.contains(&w.sme_a.email) && !page.contains(&w.sme_b.email),
        "{page}"
    );

    // Re-activated: the password signs in again.
    let (s, _, _) = admin
        .post(
            &format!("/admin/users/{}/reactivate", w.sme_a.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let (s, h, _) = sme.sign_in(&w.sme_a.email, PASSWORD).await;
    assert_eq!((s, location(&h).as_str()), (303, "/home"));
    let (s, _, _) = sme.get("/profile").await;
    assert_eq!(s, 200);
    for action in ["user.deactivated", "user.reactivated"] {
        assert_eq!(
            app.count(&format!("audit_events WHERE action = '{action}'")),
            1,
            "{action}"
        );
    }
}

#[actix_web::test]
async fn a_reset_sends_the_user_a_link_the_admin_never_sees() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let (mut admin, csrf) = admin_browser(&app, &w).await;
    let (s, h, page) = admin
        .post(
            &format!("/admin/users/{}/reset-password", w.inst_b.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303, "{page}");
    let (_, _, page) = admin.get(location(&h).split('#').next().unwrap()).await;
    assert!(page.contains("đường dẫn đặt mật khẩu mới"), "{page}");
    let (kind, subject, body) = outbox_to(&app, &w.inst_b.email).pop().unwrap();
    assert_eq!(kind, "password_reset_admin");
    assert!(subject.contains("mật khẩu mới"), "{subject}");
    let reset = link(&body, "/password/reset/");
    assert!(!page.contains(&reset));
    let (_, _, list) = admin.get("/admin/outbox?kind=password_reset_admin").await;
    assert!(
        list.contains(&w.inst_b.email) && !list.contains(&reset),
        "{list}"
    );
    // The old password works until the user sets a new one with the link.
    let (s, _) = app.login(&w.inst_b.email, PASSWORD).await;
    assert_eq!(s, 200);
    let mut user = Browser::new(&app);
    let (s, _, _) = user.get(&reset).await;
    assert_eq!(s, 200);
    let c = user.csrf();
    let (s, _, _) = user
        .post(
            &reset,
            &[
                ("csrf", &c),
                ("new_password", NEW_PASSWORD),
                ("password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.login(&w.inst_b.email, NEW_PASSWORD).await;
    assert_eq!(s, 200);
    assert_eq!(
        app.count("audit_events WHERE action = 'user.password_reset_sent'"),
        1
    );
}

#[actix_web::test]
async fn every_admin_page_is_missing_for_everyone_else() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let message: String = {
        app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
        app.db(|c| {
            use usefirst::db::schema::outbox::dsl::*;
            outbox.select(id).first(c)
        })
        .unwrap()
    };
    let gets = [
        "/admin".to_string(),
        "/admin/organisations".into(),
        "/admin/organisations/new".into(),
        format!("/admin/organisations/{}", w.sme_a.org),
        "/admin/users".into(),
        "/admin/outbox".into(),
        "/admin/outbox?from=nonsense".into(),
        format!("/admin/outbox/{message}"),
        "/admin/jobs".into(),
        "/admin/registrations".into(),
    ];
    let posts = [
        "/admin/organisations/new".to_string(),
        format!("/admin/organisations/{}/invite", w.sme_a.org),
        format!("/admin/users/{}/deactivate", w.sme_b.id),
        format!("/admin/users/{}/reactivate", w.sme_b.id),
        format!("/admin/users/{}/reset-password", w.sme_b.id),
        format!("/admin/users/{}/invite-again", w.sme_b.id),
        format!("/admin/outbox/{message}/retry"),
    ];
    let before = app.snapshot();
    for (label, user) in w.all().into_iter().filter(|(l, _)| *l != "admin") {
        let mut b = Browser::new(&app);
        b.sign_in(&user.email, PASSWORD).await;
        let csrf = b.csrf();
        for path in &gets {
            let (s, _, page) = b.get(path).await;
            assert_eq!(s, 404, "{label} GET {path}");
            assert!(
                page.contains("Không tìm thấy trang"),
                "{label} {path}: {page}"
            );
        }
        for path in &posts {
            let (s, _, _) = b
                .post(
                    path,
                    &[
                        ("csrf", &csrf),
                        ("kind", "sme"),
                        ("name", "X"),
                        ("registration_no", "1"),
                        ("province", "P"),
                        ("contact_email", "x@y.vn"),
                        ("display_name", "X"),
                        ("email", "x@y.vn"),
                        ("role", "sme"),
                        ("locale", "vi"),
                    ],
                )
                .await;
            assert_eq!(s, 404, "{label} POST {path}");
        }
    }
    assert_eq!(app.snapshot(), before, "nothing changed");
    // Signed out: to sign in first.
    let mut nobody = Browser::new(&app);
    let (s, h, _) = nobody.get("/admin/outbox").await;
    assert_eq!(
        (s, location(&h).as_str()),
        (303, "/sign-in?next=%2Fadmin%2Foutbox")
    );
}

#[actix_web::test]
async fn the_outbox_filters_says_why_a_message_failed_and_retries_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_with(move |c| {
        c.mail.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.mail.max_attempts = 1;
        c.mail.timeout_seconds = 2;
        long_sessions(c);
    })
    .await;
    let w = app.world().await;
    app.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
    // Nothing listens on the port: both messages fail for good.
    assert_eq!(deliver(&app.state).unwrap().failed, 2);
    app.clock.advance(Duration::days(2));
    app.request(&w.sme_b, &w.tech_a, "2026-03-10").await;
    let (mut admin, csrf) = admin_browser(&app, &w).await;

    let (s, _, page) = admin.get("/admin/outbox").await;
    assert_eq!(s, 200);
    assert!(page.contains("4 thư"), "{page}");
    let (_, _, page) = admin.get("/admin/outbox?status=failed").await;
    assert!(
        page.contains("2 thư") && page.contains(&w.sme_a.email) && !page.contains(&w.sme_b.email),
        "{page}"
    );
    let (_, _, page) = admin.get(&format!("/admin/outbox?to={}", "SME.B@")).await;
    assert!(
        page.contains("1 thư") && page.contains(&w.sme_b.email),
        "{page}"
    );
    let (_, _, page) = admin
        .get("/admin/outbox?kind=requested&from=2026-03-04")
        .await;
    assert!(
        page.contains("2 thư") && page.contains(&w.sme_b.email) && !page.contains(&w.sme_a.email),
        "{page}"
    );
    let (_, _, page) = admin.get("/admin/outbox?until=2026-03-02").await;
    assert!(
        page.contains("2 thư") && page.contains(&w.sme_a.email),
        "{page}"
    );
    let (_, _, page) = admin.get("/admin/outbox?kind=invitation").await;
    assert!(page.contains("0 thư"), "{page}");
    let (s, _, page) = admin
        .get("/admin/outbox?from=2026-13-01&until=2026-03-01")
        .await;
    assert_eq!(s, 422);
    assert!(
        page.contains("aria-describedby=\"from-error\"") && page.contains("value=\"2026-13-01\""),
        "{page}"
    );
    let (s, _, page) = admin
        .get("/admin/outbox?from=2026-03-05&until=2026-03-01")
        .await;
    assert_eq!(s, 422);
    assert!(page.contains("aria-describedby=\"until-error\""), "{page}");

    // Why it failed: the error and the attempts; retried with the form's token only.
    let failed: String = app
        .db(|c| {
            use usefirst::db::schema::outbox::dsl::*;
            outbox
                .filter(status.eq("failed"))
                .filter(recipient_email.eq(&w.sme_a.email))
                .select(id)
                .first(c)
        })
        .unwrap();
    let page_of = format!("/admin/outbox/{failed}");
    let (s, _, page) = admin.get(&page_of).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("Vì sao gửi không được") && page.contains("Gửi lại thư này"),
        "{page}"
    );
    let last_error: String = app
        .db(|c| {
            use usefirst::db::schema::outbox::dsl::*;
            outbox
                .find(&failed)
                .select(last_error)
                .first::<Option<String>>(c)
        })
        .unwrap()
        .unwrap();
    let escaped = last_error
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    assert!(page.contains(&escaped), "{last_error}\n{page}");
    let (s, _, _) = admin.post(&format!("{page_of}/retry"), &[]).await;
    assert_eq!(s, 403);
    let (s, h, _) = admin
        .post(&format!("{page_of}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!((s, location(&h)), (303, format!("{page_of}?done=retried")));
    let (_, _, page) = admin.get(&location(&h)).await;
    assert!(
        page.contains("Thư đã vào lại hàng đợi") && !page.contains("Gửi lại thư này"),
        "{page}"
    );
    let (s, _, _) = admin
        .post(&format!("{page_of}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(s, 409, "only a failed message is retried");
    let (s, _, _) = admin.get("/admin/outbox/no-such-message").await;
    assert_eq!(s, 404);
    assert_eq!(app.count("audit_events WHERE action = 'mail.retried'"), 1);
}

#[actix_web::test]
async fn each_jobs_latest_runs_show_failures_first() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let at = |h: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
            .and_utc()
    };
    // remind: ok, failed, ok (newest); advance: ok only.
    let runs = [
        ("remind", 1, "ok", None),
        ("remind", 2, "failed", Some("the SMTP pool is gone")),
        ("remind", 3, "ok", None),
        ("advance", 1, "ok", None),
        ("advance", 2, "ok", None),
    ];
    app.db(|c| {
        for (job, h, status, error) in runs {
            let id = format!("{job}-{h}");
            usefirst::jobs::claim(c, &id, job, at(h), "schedule", "test", at(h)).unwrap();
            usefirst::jobs::finish(
                c,
                &id,
                job,
                at(h),
                status,
                at(h) + Duration::seconds(2),
                &serde_json::json!({"sent": h}),
                error,
                at(0).naive_utc(),
            )
            .unwrap();
        }
    });
    let (mut admin, _) = admin_browser(&app, &w).await;
    let (_, _, home) = admin.get("/home").await;
    assert!(
        !home.contains("Lần chạy gần nhất bị lỗi"),
        "remind's latest run is ok"
    );
    let (s, _, page) = admin.get("/admin/jobs").await;
    assert_eq!(s, 200, "{page}");
    let pos = |text: &str| {
        page.find(text)
            .unwrap_or_else(|| panic!("no {text} in {page}"))
    };
    // The job with a failure comes first, and its failed run before its newer good one.
    assert!(pos("id=\"job-remind\"") < pos("id=\"job-advance\""));
    assert!(pos("id=\"job-advance\"") < pos("id=\"job-deliver-mail\""));
    assert!(pos("the SMTP pool is gone") < pos("sent: 3"));
    assert!(pos("sent: 3") < pos("sent: 1"), "then newest first");
    assert!(page.contains("1 lần lỗi") && page.contains("Chưa chạy lần nào."));
    // A latest run that failed is named on the home page.
    app.db(|c| {
        usefirst::jobs::claim(c, "advance-3", "advance", at(3), "manual", "test", at(3)).unwrap();
        usefirst::jobs::finish(
            c,
            "advance-3",
            "advance",
            at(3),
            "failed",
            at(3),
            &serde_json::json!({}),
            Some("x"),
            at(0).naive_utc(),
        )
        .unwrap();
    });
    let (_, _, home) = admin.get("/home").await;
    assert!(
        home.contains("Lần chạy gần nhất bị lỗi: advance."),
        "{home}"
    );
}

/// The registration form's fields, good values but `changes`.
fn registration<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("organisation_name", "Công ty TNHH Sấy Mekong"),
        ("registration_no", "1801234567"),
        ("province", "Cần Thơ"),
        ("sector", "Chế biến nông sản"),
        ("address", "12 Nguyễn Trãi, Ninh Kiều"),
        ("name", "Trần Thị Mai"),
        ("email", "mai@saymekong.vn"),
        ("password", NEW_PASSWORD),
        ("password_again", NEW_PASSWORD),
    ];
    for (k, v) in changes {
        form.iter_mut().find(|(f, _)| f == k).unwrap().1 = v;
    }
    form
}

#[actix_web::test]
async fn a_registration_is_confirmed_by_a_button_admins_hear_and_a_refused_tax_code_is_free() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = Browser::new(&app);
    b.get("/register").await;
    let csrf = b.csrf();
    let (s, _, _) = b.post("/register", &registration(&csrf, &[])).await;
    assert_eq!(s, 200);
    let (_, _, body) = outbox_to(&app, "mai@saymekong.vn")[0].clone();
    let confirm = link(&body, "/register/confirm/");

    // Opening the link changes nothing: it shows the button that confirms.
    for _ in 0..2 {
        let (s, _, page) = b.get(&confirm).await;
        assert_eq!(s, 200);
        assert!(
            page.contains("method=\"post\"") && page.contains("Xác nhận địa chỉ email của tôi"),
            "{page}"
        );
    }
    let status = || -> String {
        app.db(|c| {
            use usefirst::db::schema::registrations::dsl::*;
            registrations.select(status).first(c)
        })
        .unwrap()
    };
    assert_eq!(status(), "unconfirmed");
    assert!(outbox_to(&app, &w.admin.email).is_empty());
    let (s, _, _) = b.post(&confirm, &[]).await;
    assert_eq!(s, 403, "the form's token is needed");
    assert_eq!(status(), "unconfirmed");
    let (s, _, page) = b.post(&confirm, &[("csrf", &csrf)]).await;
    assert_eq!(s, 200);
    assert!(page.contains("Đã xác nhận địa chỉ email"), "{page}");
    assert_eq!(status(), "confirmed");
    let (s, _, _) = b.post(&confirm, &[("csrf", &csrf)]).await;
    assert_eq!(s, 410, "once");
    let (s, _, _) = b.get(&confirm).await;
    assert_eq!(s, 410);

    // Every admin hears of it, with a link to the review.
    let mailed = outbox_to(&app, &w.admin.email);
    assert_eq!(mailed.len(), 1);
    let (kind, subject, body) = mailed[0].clone();
    assert_eq!(kind, "registration_waiting");
    assert!(subject.contains("Công ty TNHH Sấy Mekong"), "{subject}");
    assert!(
        body.contains("/admin/registrations") && body.contains("1801234567"),
        "{body}"
    );
    assert!(outbox_to(&app, &w.auditor.email).is_empty(), "admins only");

    // Refused: the record stays, and the tax code is free for a new registration.
    let (mut admin, admin_csrf) = admin_browser(&app, &w).await;
    let org: String = app
        .db(|c| {
            use usefirst::db::schema::registrations::dsl::*;
            registrations.select(organisation_id).first(c)
        })
        .unwrap();
    let (s, _, _) = admin
        .post(
            &format!("/admin/registrations/{org}/refuse"),
            &[
                ("csrf", &admin_csrf),
                ("reason", "Giấy phép kinh doanh không khớp"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, _, page) = admin.get(&format!("/admin/organisations/{org}")).await;
    assert!(
        page.contains("Đã đóng (hồ sơ bị từ chối)") && !page.contains("Gửi lời mời"),
        "{page}"
    );
    let (s, _, _) = admin
        .post(
            &format!("/admin/users/{}/reactivate", {
                let uid: String = app
                    .db(|c| {
                        use usefirst::db::schema::users::dsl::*;
                        users
                            .filter(email.like("mai@saymekong.vn#refused-%"))
                            .select(id)
                            .first(c)
                    })
                    .unwrap();
                uid
            }),
            &[("csrf", &admin_csrf)],
        )
        .await;
    assert_eq!(s, 409, "a refused applicant is not re-activated by hand");
    // The applicant's address is free too: the same person applies again with it, and the
    // refused record still shows whose it was.
    let orgs = app.count("organisations");
    let mailed_before = outbox_to(&app, "mai@saymekong.vn").len();
    let mut again = Browser::new(&app);
    again.get("/register").await;
    let c2 = again.csrf();
    let (s, _, page) = again
        .post(
            "/register",
            &registration(&c2, &[("name", "Nguyễn Văn Tâm")]),
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(app.count("organisations"), orgs + 1);
    assert_eq!(app.count("users WHERE email = 'mai@saymekong.vn'"), 1);
    assert_eq!(
        app.count("users WHERE email LIKE 'mai@saymekong.vn#refused-%' AND active = false"),
        1
    );
    let mailed = outbox_to(&app, "mai@saymekong.vn");
    assert_eq!(mailed.len(), mailed_before + 1, "the new confirmation link");
    assert_eq!(mailed.last().unwrap().0, "registration_confirm");
    let (_, _, page) = admin.get(&format!("/admin/organisations/{org}")).await;
    assert!(
        page.contains("mai@saymekong.vn") && !page.contains("#refused-"),
        "{page}"
    );
    assert_eq!(
        app.count("organisations WHERE registration_no = '1801234567'"),
        2
    );
    assert_eq!(app.count("registrations WHERE status = 'refused'"), 1);
    // While that one is open, the tax code is taken again.
    let mut third = Browser::new(&app);
    third.get("/register").await;
    let c3 = third.csrf();
    let (s, _, page) = third
        .post(
            "/register",
            &registration(&c3, &[("email", "ketoan@saymekong.vn")]),
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        page.contains("Đã có tổ chức đăng ký với mã số thuế này."),
        "{page}"
    );
    assert_eq!(
        app.count("audit_events WHERE action = 'registration.confirmed'"),
        1
    );
    let (s, v) = app.get(&w.admin.token, "/api/v1/audit/verify").await;
    assert_eq!(s, 200, "{v}");
}
