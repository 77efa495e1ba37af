//! A browser for the page tests: it keeps the cookies it is given, does not follow redirects
//! (a test checks where each one goes), and sends forms as a browser does.

use reqwest::header::{HeaderMap, ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};

use crate::helpers::{TestApp, PASSWORD};

/// A browser that does not follow redirects and keeps the cookies it is given.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
    /// The browser's `Accept-Language` (`vi` unless a test sets another).
    pub accept_language: &'static str,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // Shorter than the server's keep-alive (5 s): a connection left idle while a
                // test works directly on the app is never reused just as the server closes it.
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookies: Vec::new(),
            accept_language: "vi",
        }
    }

    /// This browser's form token (set by the first page it opened).
    pub fn csrf(&self) -> String {
        self.cookie("uf_csrf")
            .expect("a page has set the form token")
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for set in headers.get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !set.contains("Max-Age=0") {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send_get(&mut self, path: &str) -> (u16, HeaderMap, reqwest::Response) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header(ACCEPT_LANGUAGE, self.accept_language)
            .send()
            .await
            .unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        self.keep(&headers);
        (status, headers, res)
    }

    pub async fn get(&mut self, path: &str) -> (u16, HeaderMap, String) {
        let (status, headers, res) = self.send_get(path).await;
        (status, headers, res.text().await.unwrap())
    }

    /// A download: the answer's bytes as they came.
    pub async fn get_bytes(&mut self, path: &str) -> (u16, HeaderMap, Vec<u8>) {
        let (status, headers, res) = self.send_get(path).await;
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, HeaderMap, String) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        self.keep(&headers);
        (status, headers, res.text().await.unwrap())
    }

    /// Signs in through the form; the token is the one the page gave.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> (u16, HeaderMap, String) {
        let (s, _, _) = self.get("/sign-in").await;
        assert_eq!(s, 200);
        let csrf = self
            .cookie("uf_csrf")
            .expect("the sign-in page sets the form token");
        self.post(
            "/sign-in",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// A browser signed in through the form as the fixture user with `email`.
    pub async fn signed_in(app: &TestApp, email: &str) -> Browser {
        let mut b = Browser::new(app);
        let (s, _, page) = b.sign_in(email, PASSWORD).await;
        assert_eq!(s, 303, "{page}");
        b
    }

    /// Switches the pages to `lang` with the language switch.
    pub async fn language(&mut self, lang: &str) {
        let (s, _, _) = self.get(&format!("/lang/{lang}?back=/home")).await;
        assert_eq!(s, 303);
    }
}

/// A page's text as a person reads it (the templates escape quotes and brackets).
pub fn text(page: &str) -> String {
    page.replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
