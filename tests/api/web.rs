//! The web pages over HTTP, as a browser sees them: sign in with the form token, a session in
//! an HttpOnly cookie, the home page listing the organisation's trials and nobody else's, the
//! language switch, sign-out, and error pages in the visitor's language.

use reqwest::header::{LOCATION, SET_COOKIE};

use crate::browser::Browser;
use crate::helpers::{id_of, TestApp, World, PASSWORD};

#[actix_web::test]
async fn sign_in_see_your_trials_switch_language_and_sign_out() {
    let app = TestApp::spawn().await;
    let w: World = app.world().await;
    let mine = app.request(&w.sme_a, &w.tech_a, "2030-01-10").await;
    let theirs = app.request(&w.sme_b, &w.tech_a, "2030-01-11").await;
    let number = |a: &serde_json::Value| a["number"].as_str().unwrap().to_string();
    assert_ne!(id_of(&mine), id_of(&theirs));

    let mut b = Browser::new(&app);
    // Not signed in: home sends you to sign in; the page is Vietnamese for a vi browser.
    let (s, h, _) = b.get("/home").await;
    assert_eq!(
        (s, h[LOCATION].to_str().unwrap()),
        (303, "/sign-in?next=%2Fhome")
    );
    let (s, h, page) = b.get("/sign-in").await;
    assert_eq!(s, 200);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(
        page.contains("<html lang=\"vi\">") && page.contains("Đăng nhập"),
        "{page}"
    );
    let csrf = b.cookie("uf_csrf").unwrap();
    assert!(page.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));

    // A form without this browser's token is refused, and nothing happens.
    let (s, _, page) = b
        .post(
            "/sign-in",
            &[
                ("csrf", "forged"),
                ("email", &w.sme_a.email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(s, 403);
    assert!(page.contains("Biểu mẫu đã hết hạn"), "{page}");
    assert!(b.cookie("uf_session").is_none());

    // A wrong password: the form again, with what was typed and why, in the page language.
    let (s, _, page) = b.sign_in(&w.sme_a.email, "not the password").await;
    assert_eq!(s, 401);
    assert!(page.contains("Email hoặc mật khẩu không đúng."), "{page}");
    assert!(page.contains(&format!("value=\"{}\"", w.sme_a.email)));
    let (s, _, page) = b.sign_in("", "").await;
    assert_eq!(s, 422);
    assert!(page.contains("Vui lòng nhập cả email và mật khẩu."));

    // Signed in: a session cookie the page scripts cannot read, and home.
    let (s, h, _) = b.sign_in(&w.sme_a.email, PASSWORD).await;
    assert_eq!((s, h[LOCATION].to_str().unwrap()), (303, "/home"));
    let set = h[SET_COOKIE].to_str().unwrap();
    assert!(
        set.starts_with("uf_session=") && set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let (s, _, page) = b.get("/home").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(&number(&mine)), "{page}");
    assert!(
        !page.contains(&number(&theirs)),
        "another SME's trial on the page"
    );
    assert!(
        page.contains("Đã gửi yêu cầu"),
        "status in Vietnamese: {page}"
    );
    assert!(page.contains("Doanh nghiệp"));

    // The switch: English from now on, back where you were; never off the site.
    let (s, h, _) = b.get("/lang/en?back=/home").await;
    assert_eq!((s, h[LOCATION].to_str().unwrap()), (303, "/home"));
    let (_, _, page) = b.get("/home").await;
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("Requested"),
        "{page}"
    );
    let (_, h, _) = b.get("/lang/vi?back=//example.com/x").await;
    assert_eq!(h[LOCATION].to_str().unwrap(), "/");
    let (_, h, _) = b.get("/lang/en?back=/home").await;
    assert_eq!(h[LOCATION].to_str().unwrap(), "/home");

    // Pages that do not exist: a page in the visitor's language; the API keeps problem+json.
    let (s, h, page) = b.get("/no-such-page").await;
    assert_eq!(s, 404);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.contains("Page not found"), "{page}");
    let (s, h, _) = b.get("/api/v1/no-such-thing").await;
    assert_eq!(s, 404);
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/problem+json"));

    // Sign-out needs the token too, ends the session, and home asks to sign in again.
    let session = b.cookie("uf_session").unwrap();
    let (s, _, _) = b.post("/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(s, 403);
    let csrf = b.cookie("uf_csrf").unwrap();
    let (s, h, _) = b.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!((s, h[LOCATION].to_str().unwrap()), (303, "/sign-in"));
    assert!(b.cookie("uf_session").is_none());
    let (s, h, _) = b.get("/home").await;
    assert_eq!(
        (s, h[LOCATION].to_str().unwrap()),
        (303, "/sign-in?next=%2Fhome")
    );
    // The ended session is ended for the API as well.
    let (s, _) = app.get(&session, "/api/v1/auth/me").await;
    assert_eq!(s, 401);
}

/// Failed sign-ins through the pages count toward the same lockout as the API's.
#[actix_web::test]
async fn failed_page_sign_ins_count_toward_the_lockout() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = Browser::new(&app);
    let limit = app.state.cfg.auth.max_failed_logins;
    for _ in 0..limit {
        let (s, _, _) = b.sign_in(&w.inst_a.email, "wrong").await;
        assert_eq!(s, 401);
    }
    let (s, _, page) = b.sign_in(&w.inst_a.email, PASSWORD).await;
    assert_eq!(s, 429, "{page}");
    assert!(page.contains("Đăng nhập sai quá nhiều lần"), "{page}");
    let (s, _) = app.login(&w.inst_a.email, PASSWORD).await;
    assert_eq!(s, 429);
}
