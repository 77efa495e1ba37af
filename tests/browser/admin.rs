//! The administrator's walk, in Vietnamese and in English: home with every admin page, an
//! institute's page, a user invited by e-mail who sets their password from the mail (read
//! from the real SMTP server on loopback) and lands at home, a registration approved, and the
//! outbox, a failed message's page and the scheduler's runs looked at on the way.

use crate::driver::{browse, Browser};
use crate::helpers::{long_sessions, TestApp, World};
use crate::steps::*;

#[path = "../api/smtp_sink.rs"]
#[allow(dead_code)]
mod smtp_sink;

use smtp_sink::SmtpSink;

/// What the walk needs from off the page: the app's state (mail delivery, a registration made
/// as the enterprise would) and the SMTP server that receives the mail.
struct Backstage {
    state: actix_web::web::Data<usefirst::AppState>,
    sink: std::sync::Arc<SmtpSink>,
}

impl Backstage {
    /// Delivers the mail due, as the `deliver-mail` job would, and returns the link starting
    /// with `prefix` in the last message `to` received over SMTP.
    fn mailed_link(&self, to: &str, prefix: &str) -> String {
        usefirst::app::mail::deliver(&self.state).unwrap();
        let received = self.sink.messages();
        let m = received
            .iter()
            .rev()
            .find(|m| m.to == vec![to.to_string()])
            .unwrap_or_else(|| panic!("no mail to {to}"));
        let text = body_of(&m.data);
        let at = text
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} in {text}"));
        let path: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c))
            .collect();
        assert!(path.len() > prefix.len() + 40, "{path}");
        path
    }
}

/// The text of a message as sent, its transfer encoding (base64 or quoted-printable) undone.
fn body_of(data: &str) -> String {
    use base64::Engine;
    let (head, body) = data.split_once("\r\n\r\n").unwrap_or(("", data));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        let clean: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(clean)
            .unwrap();
        return String::from_utf8(bytes).unwrap();
    }
    // Quoted-printable: soft line breaks joined; the link has no other escapes.
    body.replace("=\r\n", "")
}

/// An enterprise that registered and confirmed its address, waiting for an admin.
const WAITING: &str = "Công ty CP Nông sản Hậu Giang";

async fn setup(language: &str) -> (TestApp, World, Backstage) {
    let sink = std::sync::Arc::new(SmtpSink::start());
    let url = sink.url();
    let app = TestApp::spawn_with(move |c| {
        c.mail.smtp_url = url;
        long_sessions(c);
    })
    .await;
    let w = app.world().await;
    let form = usefirst::accounts::RegistrationForm {
        organisation_name: WAITING.into(),
        registration_no: "6300112233".into(),
        province: "Hậu Giang".into(),
        sector: "Nông sản".into(),
        address: "5 Trần Hưng Đạo, Vị Thanh".into(),
        name: "Lâm Thị Thu".into(),
        email: format!("thu.{language}@haugiang.vn"),
        password: "lúa gạo Hậu Giang 2026".into(),
        password_again: "lúa gạo Hậu Giang 2026".into(),
    };
    usefirst::app::registration::register(&app.state, &form, language).unwrap();
    let back = Backstage {
        state: app.state.clone(),
        sink,
    };
    // The enterprise confirms its address with the button its mailed link opens.
    let confirm = back.mailed_link(&form.email, "/register/confirm/");
    let token = confirm.trim_start_matches("/register/confirm/");
    usefirst::app::registration::confirm(&app.state, token)
        .unwrap()
        .expect("the link works");
    // Some runs for the scheduler's page, as `usefirst run-job` makes them.
    let scheduler = usefirst::scheduler::Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    for kind in [
        usefirst::jobs::JobKind::VerifyAudit,
        usefirst::jobs::JobKind::Advance,
    ] {
        scheduler.run_now(&app.state, kind).unwrap();
    }
    (app, w, back)
}

/// The admin's walk in `l`.
async fn walk(b: Browser, l: &'static str, w: World, back: Backstage) {
    let invited = format!("hoa.{l}@vien-a.vn");
    let invited_name = if l == "vi" {
        "Đỗ Thị Hoa"
    } else {
        "Hoa Do"
    };

    // Home: what is waiting, and every admin page.
    sign_in(&b, &w.admin.email).await;
    arrive(&b, "/home").await;
    expect_page(
        &b,
        l,
        &word(l, "dashboard.greeting", &[("name", "Người dùng admin")]),
    )
    .await;
    expect_text(&b, &word(l, "admin.home.registrations", &[("count", "1")])).await;
    look(&b, "admin-home").await;

    // Organisations, then institute A's page with its users and the invitation form.
    follow(&b, &word(l, "admin.nav.organisations", &[])).await;
    arrive(&b, "/admin/organisations").await;
    expect_page(&b, l, &word(l, "admin.orgs.title", &[])).await;
    look(&b, "admin-organisations").await;
    follow(&b, "Tổ chức inst_a").await;
    expect_page(&b, l, "Tổ chức inst_a").await;
    look(&b, "admin-organisation").await;

    // A bad invitation first: the reason beside the field.
    fill(&b, &word(l, "admin.user.name", &[]), invited_name).await;
    fill(&b, &word(l, "admin.user.email", &[]), "not an address").await;
    submit(&b, &word(l, "admin.invite.submit", &[])).await;
    expect_text(&b, &word(l, "account.err.email", &[])).await;
    assert_eq!(
        value_of(&b, &word(l, "admin.user.name", &[])).await,
        invited_name
    );
    look(&b, "admin-invite-error").await;
    fill(&b, &word(l, "admin.user.email", &[]), &invited).await;
    choose_containing(
        &b,
        &word(l, "admin.user.locale", &[]),
        if l == "vi" {
            "Tiếng Việt"
        } else {
            "English"
        },
    )
    .await;
    submit(&b, &word(l, "admin.invite.submit", &[])).await;
    expect_text(
        &b,
        &word(l, "admin.done.invited", &[("name", invited_name)]),
    )
    .await;
    expect_text(&b, &word(l, "admin.user.state.invited", &[])).await;
    look(&b, "admin-invited").await;
    sign_out(&b).await;
    arrive(&b, "/sign-in").await;

    // The invited person opens the mailed link, sets a password and is home.
    let link = back.mailed_link(&invited, "/invitation/");
    open(&b, &link).await;
    expect_page(&b, l, &word(l, "admin.accept.title", &[])).await;
    expect_text(&b, &invited).await;
    look(&b, "invitation").await;
    fill(
        &b,
        &word(l, "account.password.new", &[]),
        "hoa sen trắng 2026",
    )
    .await;
    fill(
        &b,
        &word(l, "account.password.again", &[]),
        "hoa sen trắng 2026",
    )
    .await;
    submit(&b, &word(l, "admin.accept.submit", &[])).await;
    arrive(&b, "/home").await;
    expect_page(
        &b,
        l,
        &word(l, "dashboard.greeting", &[("name", invited_name)]),
    )
    .await;
    look(&b, "invited-home").await;
    // The link works once.
    open(&b, &link).await;
    expect_page(&b, l, &word(l, "admin.accept.dead.title", &[])).await;
    look(&b, "invitation-used").await;
    open(&b, "/home").await;
    sign_out(&b).await;
    arrive(&b, "/sign-in").await;

    // The admin approves the waiting registration from home.
    sign_in(&b, &w.admin.email).await;
    arrive(&b, "/home").await;
    follow(&b, &word(l, "admin.nav.registrations", &[])).await;
    arrive(&b, "/admin/registrations").await;
    expect_text(&b, WAITING).await;
    submit(
        &b,
        &word(l, "account.review.approve", &[("organisation", WAITING)]),
    )
    .await;
    expect_text(&b, &word(l, "account.review.none", &[])).await;

    // The outbox: the invitation and the approval among the messages; one message's page.
    follow(&b, &word(l, "admin.nav.outbox", &[])).await;
    arrive(&b, "/admin/outbox").await;
    expect_page(&b, l, &word(l, "admin.outbox.title", &[])).await;
    expect_text(&b, &invited).await;
    look(&b, "admin-outbox").await;
    choose_containing(
        &b,
        &word(l, "admin.outbox.kind", &[]),
        &word(l, "admin.mail.kind.invitation", &[]),
    )
    .await;
    submit(&b, &word(l, "admin.filter.apply", &[])).await;
    expect_text(&b, &word(l, "admin.outbox.count", &[("count", "1")])).await;
    let subject = if l == "vi" {
        "usefirst: lời mời tham gia cùng Tổ chức inst_a"
    } else {
        "usefirst: you are invited to join Tổ chức inst_a"
    };
    follow(&b, subject).await;
    expect_page(&b, l, subject).await;
    look(&b, "admin-message").await;

    // The users, and the scheduler's runs.
    open(&b, "/admin/users").await;
    expect_page(&b, l, &word(l, "admin.users.title", &[])).await;
    look(&b, "admin-users").await;
    follow(&b, &word(l, "admin.nav.jobs", &[])).await;
    arrive(&b, "/admin/jobs").await;
    expect_page(&b, l, &word(l, "admin.jobs.title", &[])).await;
    look(&b, "admin-jobs").await;
}

#[actix_web::test]
async fn admin_invites_a_user_and_approves_a_registration_in_vietnamese() {
    let (app, w, back) = setup("vi").await;
    browse(&app, "vi", move |b| walk(b, "vi", w, back)).await;
}

#[actix_web::test]
async fn admin_invites_a_user_and_approves_a_registration_in_english() {
    let (app, w, back) = setup("en").await;
    browse(&app, "en", move |b| async move {
        // The choice kept in a cookie: the admin's own language is Vietnamese.
        open(&b, "/lang/en?back=/sign-in").await;
        walk(b, "en", w, back).await
    })
    .await;
}
