//! The account pages over HTTP, as a browser sees them: the profile (language, password),
//! setting a forgotten password with a mailed link, the notifications a user was sent, an
//! enterprise registering itself and the admins' review. Mail is read from the outbox.

use chrono::Duration;
use diesel::prelude::*;
use reqwest::header::LOCATION;

use crate::browser::Browser;
use crate::helpers::*;

const NEW_PASSWORD: &str = "mùa thu Hà Nội 2026";

/// (locale, subject, body) of every message to `email`, oldest first.
fn mail_to(app: &TestApp, email: &str) -> Vec<(String, String, String)> {
    use usefirst::db::schema::outbox::dsl::*;
    app.db(|c| {
        usefirst::on_backend!(c, |c| outbox
            .filter(recipient_email.eq(email))
            .order((created_at.asc(), id.asc()))
            .select((locale, subject, body))
            .load(c))
    })
    .unwrap()
}

/// The path of the link in `body` that starts with `prefix` (`/password/reset/`).
fn link(body: &str, prefix: &str) -> String {
    let at = body
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {body}"));
    body[at..].split_whitespace().next().unwrap().to_string()
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

fn location(h: &reqwest::header::HeaderMap) -> &str {
    h[LOCATION].to_str().unwrap()
}

#[actix_web::test]
async fn the_profile_sets_the_language_and_changes_the_password() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = Browser::new(&app);
    let mut other = Browser::new(&app);
    // Not signed in: sign in first.
    let (s, h, _) = b.get("/profile").await;
    assert_eq!((s, location(&h)), (303, "/sign-in?next=%2Fprofile"));
    b.sign_in(&w.sme_a.email, PASSWORD).await;
    other.sign_in(&w.sme_a.email, PASSWORD).await;

    let (s, _, page) = b.get("/profile").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("<html lang=\"vi\">") && page.contains("Hồ sơ của bạn"),
        "{page}"
    );
    assert!(page.contains("Người dùng sme_a") && page.contains(&w.sme_a.email));
    assert!(page.contains("Tổ chức sme_a") && !page.contains("Tổ chức sme_b"));

    // The language: saved on the user (their mail follows), and the switch's cookie too.
    let csrf = b.csrf();
    let (s, _, _) = b
        .post("/profile/language", &[("csrf", "forged"), ("locale", "en")])
        .await;
    assert_eq!(s, 403);
    let (s, h, _) = b
        .post("/profile/language", &[("csrf", &csrf), ("locale", "fr")])
        .await;
    assert_eq!(s, 422);
    assert!(h.get(LOCATION).is_none());
    let (s, h, _) = b
        .post("/profile/language", &[("csrf", &csrf), ("locale", "en")])
        .await;
    assert_eq!((s, location(&h)), (303, "/profile?saved=language"));
    assert_eq!(b.cookie("uf_lang").as_deref(), Some("en"));
    let (_, _, page) = b.get("/profile?saved=language").await;
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("Your language is saved"),
        "{page}"
    );
    let (s, me) = app.get(&w.sme_a.token, "/api/v1/auth/me").await;
    assert_eq!((s, me["locale"].as_str()), (200, Some("en")), "{me}");
    // The other browser has no switch cookie: the user's language now.
    let (_, _, page) = other.get("/profile").await;
    assert!(page.contains("<html lang=\"en\">"), "{page}");

    // Bad forms: 422, the field named, the reason beside it.
    let failures_before = app.count("login_failures");
    let (s, _, page) = b
        .post(
            "/profile/password",
            &[
                ("csrf", &csrf),
                ("current_password", "not my password"),
                ("new_password", NEW_PASSWORD),
                ("password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("This is not your current password."),
        "{page}"
    );
    assert!(page.contains("id=\"current_password\" name=\"current_password\" type=\"password\" autocomplete=\"current-password\" aria-invalid=\"true\" aria-describedby=\"current_password-error\""), "{page}");
    assert_eq!(
        app.count("login_failures"),
        failures_before + 1,
        "a wrong current password counts toward the lockout"
    );
    for (new, again, field, says) in [
        ("short", "short", "new_password", "at least 8 characters"),
        ("password123", "password123", "new_password", "too common"),
        (
            NEW_PASSWORD,
            "something else entirely",
            "password_again",
            "not the same",
        ),
    ] {
        let (s, _, page) = b
            .post(
                "/profile/password",
                &[
                    ("csrf", &csrf),
                    ("current_password", PASSWORD),
                    ("new_password", new),
                    ("password_again", again),
                ],
            )
            .await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains(says), "{says}: {page}");
        assert!(
            page.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{page}"
        );
    }
    // Nothing changed yet: the old password still signs in.
    assert_eq!(app.login(&w.sme_a.email, PASSWORD).await.0, 200);

    // The change: this browser stays signed in; every other session ends.
    let (s, h, _) = b
        .post(
            "/profile/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!((s, location(&h)), (303, "/profile?saved=password"));
    let (s, _, page) = b.get("/profile?saved=password").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("You were signed out everywhere else"),
        "{page}"
    );
    let (s, h, _) = other.get("/profile").await;
    assert_eq!((s, location(&h)), (303, "/sign-in?next=%2Fprofile"));
    assert_eq!(app.get(&w.sme_a.token, "/api/v1/auth/me").await.0, 401);
    assert_eq!(app.login(&w.sme_a.email, PASSWORD).await.0, 401);
    assert_eq!(app.login(&w.sme_a.email, NEW_PASSWORD).await.0, 200);
    // Another user is untouched.
    assert_eq!(app.get(&w.sme_b.token, "/api/v1/auth/me").await.0, 200);
}

#[actix_web::test]
async fn a_forgotten_password_is_set_with_a_link_that_works_once_for_an_hour() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    set_locale(&app, &w.sme_a.email, "en");
    let mut b = Browser::new(&app);
    let (_, _, page) = b.get("/sign-in").await;
    assert!(page.contains("href=\"/password/forgot\"") && page.contains("Quên mật khẩu?"));
    let (s, _, page) = b.get("/password/forgot").await;
    assert_eq!(s, 200);
    assert!(page.contains("Quên mật khẩu"), "{page}");
    let csrf = b.csrf();

    // Not an address: 422 beside the field, what was typed kept.
    let (s, _, page) = b
        .post(
            "/password/forgot",
            &[("csrf", &csrf), ("email", "an-nguyen")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(page.contains("value=\"an-nguyen\"") && page.contains("aria-invalid=\"true\""));
    assert!(
        page.contains("Đây không phải là địa chỉ email hợp lệ."),
        "{page}"
    );

    // An address with no account and one with: the same answer; a mail only for the account.
    let mails_before = app.count("outbox");
    let (s1, _, unknown) = b
        .post(
            "/password/forgot",
            &[("csrf", &csrf), ("email", "nobody@example.vn")],
        )
        .await;
    let (s2, _, known) = b
        .post(
            "/password/forgot",
            &[("csrf", &csrf), ("email", &w.sme_a.email.to_uppercase())],
        )
        .await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(
        unknown, known,
        "the answer does not tell which addresses have accounts"
    );
    assert!(known.contains("Nếu địa chỉ này có tài khoản"), "{known}");
    assert_eq!(app.count("outbox"), mails_before + 1);
    let mails = mail_to(&app, &w.sme_a.email);
    let (locale, subject, body) = mails.last().unwrap();
    assert_eq!(
        (locale.as_str(), subject.as_str()),
        ("en", "usefirst: set a new password")
    );
    assert!(body.contains("60 minutes"), "{body}");
    let reset = link(body, "/password/reset/");
    let token = reset.trim_start_matches("/password/reset/");
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    assert_eq!(
        app.count(&format!("password_resets WHERE token_hash = '{token}'")),
        0,
        "stored hashed"
    );

    // The form: bad values 422; then the new password, every session ended.
    let (s, _, page) = b.get(&reset).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Đặt mật khẩu mới"));
    let (s, _, page) = b
        .post(
            &reset,
            &[
                ("csrf", &csrf),
                ("new_password", NEW_PASSWORD),
                ("password_again", "x"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        page.contains("Hai mật khẩu không giống nhau.") && page.contains("password_again-error")
    );
    let (s, _, page) = b
        .post(
            &reset,
            &[
                ("csrf", &csrf),
                ("new_password", NEW_PASSWORD),
                ("password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Đã lưu mật khẩu mới"), "{page}");
    assert_eq!(app.get(&w.sme_a.token, "/api/v1/auth/me").await.0, 401);
    assert_eq!(app.login(&w.sme_a.email, PASSWORD).await.0, 401);
    assert_eq!(app.login(&w.sme_a.email, NEW_PASSWORD).await.0, 200);

    // Used up: a clear page, and nothing changes.
    for (s, page) in [
        {
            let (s, _, p) = b.get(&reset).await;
            (s, p)
        },
        {
            let (s, _, p) = b
                .post(
                    &reset,
                    &[
                        ("csrf", &csrf),
                        ("new_password", "another good one 42"),
                        ("password_again", "another good one 42"),
                    ],
                )
                .await;
            (s, p)
        },
    ] {
        assert_eq!(s, 410);
        assert!(
            page.contains("Đường dẫn này đã được sử dụng hoặc đã hết hạn."),
            "{page}"
        );
    }
    assert_eq!(app.login(&w.sme_a.email, NEW_PASSWORD).await.0, 200);

    // Expired after an hour; at most three links an hour to one address.
    b.post(
        "/password/forgot",
        &[("csrf", &csrf), ("email", &w.inst_a.email)],
    )
    .await;
    let (locale, subject, body) = mail_to(&app, &w.inst_a.email).last().unwrap().clone();
    assert_eq!(
        (locale.as_str(), subject.as_str()),
        ("vi", "usefirst: đặt lại mật khẩu")
    );
    let late = link(&body, "/password/reset/");
    app.clock.advance(Duration::minutes(61));
    let (s, _, _) = b.get(&late).await;
    assert_eq!(s, 410);
    let before = mail_to(&app, &w.inst_a.email).len();
    for _ in 0..5 {
        let (s, _, _) = b
            .post(
                "/password/forgot",
                &[("csrf", &csrf), ("email", &w.inst_a.email)],
            )
            .await;
        assert_eq!(s, 200);
    }
    assert_eq!(mail_to(&app, &w.inst_a.email).len(), before + 3);
}

#[actix_web::test]
async fn notifications_list_your_own_mail_newest_first_page_by_page() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mine = app.request(&w.sme_a, &w.tech_a, "2030-01-10").await;
    let theirs = app.request(&w.sme_b, &w.tech_a, "2030-01-11").await;
    let number = |a: &serde_json::Value| a["number"].as_str().unwrap().to_string();
    let mut b = Browser::new(&app);
    let (s, h, _) = b.get("/notifications").await;
    assert_eq!((s, location(&h)), (303, "/sign-in?next=%2Fnotifications"));
    b.sign_in(&w.sme_a.email, PASSWORD).await;
    let (s, _, page) = b.get("/notifications").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(&number(&mine)), "{page}");
    assert!(
        !page.contains(&number(&theirs)),
        "another SME's mail on the page"
    );
    assert!(
        page.contains("Đang chờ gửi") && page.contains("<details>"),
        "{page}"
    );
    let (_, subject, body) = mail_to(&app, &w.sme_a.email)[0].clone();
    assert!(page.contains(&subject));
    let first_line = body.lines().next().unwrap();
    assert!(page.contains(first_line), "the body is on the page: {page}");

    usefirst::app::mail::deliver(&app.state).unwrap();
    b.get("/lang/en?back=/notifications").await;
    let (_, _, page) = b.get("/notifications").await;
    assert!(page.contains("Sent") && !page.contains("Queued"), "{page}");

    // Many messages: 20 a page, newest first.
    app.state
        .db
        .write(|conn| {
            for i in 0..24 {
                usefirst::mail::enqueue_to(
                    conn,
                    app.clock.now() + Duration::seconds(i + 1),
                    "registration_refused",
                    &w.sme_a.email,
                    "Người dùng sme_a",
                    "vi",
                    serde_json::json!({"organisation": format!("Đơn {i:02}"), "reason": "r"}),
                )?;
            }
            Ok::<_, usefirst::error::AppError>(())
        })
        .unwrap();
    let (_, _, page) = b.get("/notifications").await;
    assert_eq!(page.matches("<li class=\"card\">").count(), 20);
    assert!(
        page.contains("Đơn 23") && !page.contains("Đơn 03"),
        "{page}"
    );
    assert!(
        page.find("Đơn 23").unwrap() < page.find("Đơn 22").unwrap(),
        "newest first"
    );
    assert!(page.contains("href=\"/notifications?page=2\""));
    let (_, _, page) = b.get("/notifications?page=2").await;
    assert!(
        page.contains("Đơn 03") && page.contains(&number(&mine)),
        "{page}"
    );
    assert!(page.contains("href=\"/notifications?page=1\""));
    // Another user sees none of them.
    let mut other = Browser::new(&app);
    other.sign_in(&w.sme_b.email, PASSWORD).await;
    let (_, _, page) = other.get("/notifications").await;
    assert!(
        !page.contains("Đơn 23")
            && !page.contains(&number(&mine))
            && page.contains(&number(&theirs))
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
async fn an_enterprise_registers_confirms_and_is_approved_or_refused() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = Browser::new(&app);
    let (_, _, page) = b.get("/sign-in").await;
    assert!(page.contains("href=\"/register\""));
    let (s, _, page) = b.get("/register").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Đăng ký doanh nghiệp") && page.contains("Mã số thuế"),
        "{page}"
    );
    let csrf = b.csrf();

    // Bad forms: 422, each field named, what was typed kept (never the passwords).
    let (s, _, page) = b
        .post(
            "/register",
            &registration(
                &csrf,
                &[
                    ("organisation_name", " "),
                    ("registration_no", "REG-004"),
                    ("password_again", "khác hẳn"),
                ],
            ),
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("Đã có tổ chức đăng ký với mã số thuế này."),
        "{page}"
    );
    assert!(
        page.contains("aria-describedby=\"registration_no-error\"")
            && page.contains("value=\"REG-004\"")
    );
    assert!(
        page.contains("aria-describedby=\"organisation_name-error\"")
            && page.contains("Vui lòng điền mục này.")
    );
    assert!(page.contains("Hai mật khẩu không giống nhau.") && page.contains("value=\"Cần Thơ\""));
    assert!(!page.contains(NEW_PASSWORD));
    let (s, _, page) = b
        .post(
            "/register",
            &registration(&csrf, &[("email", &w.sme_b.email)]),
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        page.contains("Đã có tài khoản dùng địa chỉ email này."),
        "{page}"
    );
    let orgs = app.count("organisations");

    // Registered: a mail in the page's language with the confirmation link.
    let (s, _, page) = b.post("/register", &registration(&csrf, &[])).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Vui lòng xác nhận địa chỉ email"), "{page}");
    assert_eq!(app.count("organisations"), orgs + 1);
    let (locale, subject, body) = mail_to(&app, "mai@saymekong.vn")[0].clone();
    assert_eq!(locale, "vi");
    assert_eq!(
        subject,
        "usefirst: xác nhận đăng ký của Công ty TNHH Sấy Mekong"
    );
    let confirm = link(&body, "/register/confirm/");

    // The right password says where the registration stands; a wrong one says nothing more.
    let mut applicant = Browser::new(&app);
    let (s, _, page) = applicant
        .sign_in("mai@saymekong.vn", "not the password")
        .await;
    assert_eq!(s, 401);
    assert!(page.contains("Email hoặc mật khẩu không đúng."));
    let (s, _, page) = applicant.sign_in("mai@saymekong.vn", NEW_PASSWORD).await;
    assert_eq!(s, 403, "{page}");
    assert!(page.contains("đang chờ xác nhận email"), "{page}");
    assert!(applicant.cookie("uf_session").is_none());

    // A second registration, in English, not confirmed.
    let mut second = Browser::new(&app);
    second.get("/lang/en?back=/register").await;
    second.get("/register").await;
    let csrf2 = second.csrf();
    let (s, _, page) = second
        .post(
            "/register",
            &registration(
                &csrf2,
                &[
                    ("organisation_name", "Delta Dryers JSC"),
                    ("registration_no", "0319999999"),
                    ("email", "ops@deltadryers.vn"),
                    ("name", "Lê Văn Bình"),
                ],
            ),
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let (locale, subject, _) = mail_to(&app, "ops@deltadryers.vn")[0].clone();
    assert_eq!(
        (locale.as_str(), subject.as_str()),
        (
            "en",
            "usefirst: confirm the registration of Delta Dryers JSC"
        )
    );

    // Confirmed once, by the button the link's page shows; the link is then used up.
    let (s, _, page) = b.get(&confirm).await;
    assert_eq!(s, 200);
    assert!(page.contains(&format!("action=\"{confirm}\"")), "{page}");
    let (s, _, page) = b.post(&confirm, &[("csrf", &csrf)]).await;
    assert_eq!(s, 200);
    assert!(page.contains("Đã xác nhận địa chỉ email"), "{page}");
    let (s, _, page) = b.get(&confirm).await;
    assert_eq!(s, 410);
    assert!(page.contains("Đường dẫn này đã được sử dụng hoặc đã hết hạn."));
    let (s, _, page) = applicant.sign_in("mai@saymekong.vn", NEW_PASSWORD).await;
    assert_eq!(s, 403);
    assert!(
        page.contains("đang chờ quản trị viên nền tảng duyệt"),
        "{page}"
    );

    // Only admins have the review; to anyone else it does not exist.
    let mut sme = Browser::new(&app);
    sme.sign_in(&w.sme_a.email, PASSWORD).await;
    let (s, _, page) = sme.get("/admin/registrations").await;
    assert_eq!(s, 404);
    assert!(page.contains("Không tìm thấy trang"), "{page}");
    let mut admin = Browser::new(&app);
    admin.get("/lang/en").await;
    admin.sign_in(&w.admin.email, PASSWORD).await;
    let (s, _, page) = admin.get("/admin/registrations").await;
    assert_eq!(s, 200, "{page}");
    let (mekong, delta) = (
        page.find("Công ty TNHH Sấy Mekong").unwrap(),
        page.find("Delta Dryers JSC").unwrap(),
    );
    assert!(mekong < delta, "confirmed first");
    assert!(page.contains("E-mail confirmed") && page.contains("E-mail not confirmed yet"));
    let org_of = |addr: &str| -> String {
        use usefirst::db::schema::users::dsl::*;
        app.db(|c| {
            users
                .filter(email.eq(addr.to_string()))
                .select(organisation_id)
                .first::<String>(c)
        })
        .unwrap()
    };
    let (mekong_id, delta_id) = (org_of("mai@saymekong.vn"), org_of("ops@deltadryers.vn"));
    assert!(page.contains(&format!("/admin/registrations/{mekong_id}/approve")));
    assert!(
        !page.contains(&format!("/admin/registrations/{delta_id}/approve")),
        "only confirmed ones"
    );
    let csrf_sme = sme.csrf();
    let (s, _, _) = sme
        .post(
            &format!("/admin/registrations/{mekong_id}/approve"),
            &[("csrf", &csrf_sme)],
        )
        .await;
    assert_eq!(s, 404);
    let csrf_admin = admin.csrf();
    let (s, _, _) = admin
        .post(
            &format!("/admin/registrations/{delta_id}/approve"),
            &[("csrf", &csrf_admin)],
        )
        .await;
    assert_eq!(s, 409, "an address not confirmed cannot be approved");

    // A refusal needs a reason; the typed text is kept.
    let (s, _, page) = admin
        .post(
            &format!("/admin/registrations/{delta_id}/refuse"),
            &[("csrf", &csrf_admin), ("reason", "  ")],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("Please fill this in.")
            && page.contains(&format!("aria-describedby=\"reason-{delta_id}-error\""))
    );
    let reason = "The tax code does not match the business register";
    let (s, h, _) = admin
        .post(
            &format!("/admin/registrations/{delta_id}/refuse"),
            &[("csrf", &csrf_admin), ("reason", reason)],
        )
        .await;
    assert_eq!((s, location(&h)), (303, "/admin/registrations"));
    let (_, subject, body) = mail_to(&app, "ops@deltadryers.vn").last().unwrap().clone();
    assert_eq!(
        subject,
        "usefirst: the registration of Delta Dryers JSC was not approved"
    );
    assert!(body.contains(reason), "{body}");
    let mut refused = Browser::new(&app);
    refused.get("/lang/en").await;
    let (s, _, page) = refused.sign_in("ops@deltadryers.vn", NEW_PASSWORD).await;
    assert_eq!(s, 403);
    assert!(page.contains("was not approved"), "{page}");

    // Approved: the applicant hears so, and signs in.
    let (s, h, _) = admin
        .post(
            &format!("/admin/registrations/{mekong_id}/approve"),
            &[("csrf", &csrf_admin)],
        )
        .await;
    assert_eq!((s, location(&h)), (303, "/admin/registrations"));
    let (s, _, _) = admin
        .post(
            &format!("/admin/registrations/{mekong_id}/approve"),
            &[("csrf", &csrf_admin)],
        )
        .await;
    assert_eq!(s, 409, "decided once");
    let (_, page_after) = (0, admin.get("/admin/registrations").await.2);
    assert!(
        page_after.contains("No registrations are waiting."),
        "{page_after}"
    );
    let (_, subject, body) = mail_to(&app, "mai@saymekong.vn").last().unwrap().clone();
    assert_eq!(
        subject,
        "usefirst: đăng ký của Công ty TNHH Sấy Mekong đã được duyệt"
    );
    assert!(body.contains("/sign-in"));
    let (s, h, _) = applicant.sign_in("mai@saymekong.vn", NEW_PASSWORD).await;
    assert_eq!((s, location(&h)), (303, "/home"));
    let (s, _, page) = applicant.get("/profile").await;
    assert_eq!(s, 200);
    assert!(page.contains("Công ty TNHH Sấy Mekong") && page.contains("Trần Thị Mai"));
    for action in ["registration.approved", "registration.refused"] {
        assert_eq!(
            app.count(&format!("audit_events WHERE action = '{action}'")),
            1,
            "{action}"
        );
    }
    let (s, v) = app.get(&w.admin.token, "/api/v1/audit/verify").await;
    assert_eq!(s, 200, "{v}");

    // A confirmation link expires.
    let (s, _, _) = b
        .post(
            "/register",
            &registration(
                &csrf,
                &[
                    ("registration_no", "1807777777"),
                    ("email", "late@example.vn"),
                ],
            ),
        )
        .await;
    assert_eq!(s, 200);
    let (_, _, body) = mail_to(&app, "late@example.vn")[0].clone();
    app.clock.advance(Duration::hours(73));
    let (s, _, _) = b.get(&link(&body, "/register/confirm/")).await;
    assert_eq!(s, 410);
}

/// A crafted form with NUL characters (`%00`) in its fields is read without them: no browser
/// sends one and PostgreSQL refuses them in text, so they must never reach a query (a 500).
#[actix_web::test]
async fn nul_characters_in_a_posted_form_are_taken_out() {
    let app = TestApp::spawn().await;
    let _w = app.world().await;
    let mut b = Browser::new(&app);
    b.get("/register").await;
    let csrf = b.csrf();
    let (s, _, page) = b
        .post(
            "/register",
            &registration(
                &csrf,
                &[
                    ("organisation_name", "Công ty\0 Sấy Mekong"),
                    ("name", "Trần\0 Thị Mai"),
                    ("province", "Cần\0 Thơ"),
                ],
            ),
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let stored: Vec<(String, String, String)> = app
        .db(|c| {
            use usefirst::db::schema::{organisations, users};
            usefirst::on_backend!(c, |c| users::table
                .inner_join(organisations::table)
                .filter(users::email.eq("mai@saymekong.vn"))
                .select((
                    organisations::name,
                    organisations::province,
                    users::display_name,
                ))
                .load(c))
        })
        .unwrap();
    let expected = ("Công ty Sấy Mekong", "Cần Thơ", "Trần Thị Mai");
    assert_eq!(
        stored,
        vec![(
            expected.0.to_string(),
            expected.1.to_string(),
            expected.2.to_string()
        )]
    );
}
