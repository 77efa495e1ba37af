//! chromedriver on a free loopback port and one headless Chromium session per test; both are
//! ended when the test ends, passed or failed.

use std::future::Future;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::helpers::TestApp;

/// The language the browser asks for (`Accept-Language`) unless a test says otherwise.
pub const BROWSER_LANGUAGE: &str = "vi";

/// A browser window on the app under test: the WebDriver client and the app's base URL.
pub struct Browser {
    pub c: Client,
    pub base: String,
}

/// A running chromedriver; dropping it ends the process.
struct Chromedriver {
    child: Child,
    url: String,
}

fn executable(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Chromedriver {
    async fn start() -> Chromedriver {
        let exe = executable("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let child = Command::new(&exe)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {exe} ({e}): install chromium-driver (scripts/install-deps.sh)"
                )
            });
        let driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(res) = client.get(&status).send().await {
                if res.status().is_success() {
                    return driver;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{exe} did not answer on port {port} within 20 s"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new Chromium session asking for pages in `language`.
async fn session(driver: &Chromedriver, language: &str) -> Client {
    let binary = executable("CHROMIUM", "/usr/bin/chromium");
    let mut args = vec![
        "--no-sandbox".to_string(),
        "--disable-dev-shm-usage".to_string(),
        "--disable-gpu".to_string(),
        "--hide-scrollbars".to_string(),
        "--force-device-scale-factor=1".to_string(),
        "--no-first-run".to_string(),
        "--disable-extensions".to_string(),
        "--font-render-hinting=none".to_string(),
        format!("--lang={language}"),
        format!(
            "--window-size={},{}",
            crate::steps::DESKTOP.0,
            crate::steps::DESKTOP.1
        ),
    ];
    if std::env::var("BROWSER_HEADED").as_deref() != Ok("1") {
        args.push("--headless=new".to_string());
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": binary,
            "args": args,
            "prefs": { "intl.accept_languages": language },
        },
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("no Chromium session from chromedriver ({binary}): {e}"))
}

/// Runs `walk` in a fresh browser asking for `language` pages of `app`, then ends the
/// browser and chromedriver whether the walk passed or not (a failed walk fails the test
/// with its own message).
pub async fn browse<W, F>(app: &TestApp, language: &str, walk: W)
where
    W: FnOnce(Browser) -> F,
    F: Future<Output = ()> + 'static,
{
    let driver = Chromedriver::start().await;
    let c = session(&driver, language).await;
    let b = Browser {
        c: c.clone(),
        base: app.base.clone(),
    };
    crate::steps::viewport(&b, crate::steps::DESKTOP).await;
    // Its own task, so that a panic in the walk comes back here instead of skipping the
    // clean-up below.
    let outcome = actix_web::rt::spawn(walk(b)).await;
    let _ = c.close().await;
    drop(driver);
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("the walk did not finish: {e}");
    }
}
