//! What a person does in the browser, one small step each, for the walks to put together:
//! open a page, fill a field found by its label's words, press a button found by its words,
//! press a key, look at the page (screenshots at both widths and axe-core). Steps panic with
//! what they saw, so a failed walk says where it stopped. Every step that finds a control
//! finds it the way a person does, by its visible words: a control without a label cannot be
//! filled, which is the point.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::{json, Value};

use crate::driver::Browser;
use crate::helpers::PASSWORD;

/// The desktop window's inner size, and the phone's (an iPhone X's CSS pixels).
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (375, 812);

/// axe-core, vendored (tests/browser/vendor/README.md says which version).
const AXE: &str = include_str!("vendor/axe.min.js");

/// How long a step waits for what it expects to appear.
const PATIENCE: Duration = Duration::from_secs(10);

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    panic!("{what}: {e}")
}

// --- words -------------------------------------------------------------------------------

/// Every page word of every group (`src/web/i18n/*.{vi,en}.toml`), by language and key.
fn words() -> &'static HashMap<(String, String), String> {
    static WORDS: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/web/i18n");
        let mut all = HashMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".toml") else {
                continue;
            };
            let Some((_, lang)) = stem.rsplit_once('.') else {
                continue;
            };
            let table: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| fail(&name, e));
            for (key, text) in table {
                if let toml::Value::String(text) = text {
                    all.insert((lang.to_string(), key), text);
                }
            }
        }
        all
    })
}

/// The words of `key` in `lang`, as the page shows them (with `{name}` placeholders filled
/// from `args`).
pub fn word(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut text = words()
        .get(&(lang.to_string(), key.to_string()))
        .unwrap_or_else(|| panic!("no words for {key} in {lang}"))
        .clone();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// The words of `key` in the language of the page open now.
pub async fn t(b: &Browser, key: &str) -> String {
    word(&lang(b).await, key, &[])
}

// --- reading the page --------------------------------------------------------------------

/// Runs `script` (a function body) and returns what it returns.
pub async fn js(b: &Browser, script: &str, args: Vec<Value>) -> Value {
    b.c.execute(script, args)
        .await
        .unwrap_or_else(|e| fail(&format!("script {script}"), e))
}

/// The `lang` of the page open now.
pub async fn lang(b: &Browser) -> String {
    let l = js(b, "return document.documentElement.lang;", vec![]).await;
    let l = l.as_str().unwrap_or_default().to_string();
    assert!(!l.is_empty(), "the page has no lang");
    l
}

/// The path (and query) of the page open now.
pub async fn path(b: &Browser) -> String {
    let url = b.c.current_url().await.unwrap_or_else(|e| fail("url", e));
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The visible text of the page's main content.
pub async fn main_text(b: &Browser) -> String {
    // Read in one script, so a page that is replaced between finding <main> and reading it
    // (a redirect landing, an htmx swap) is read again instead of failing on a stale element.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let read =
            b.c.execute(
                "const m = document.querySelector('main'); return m ? m.innerText : null;",
                vec![],
            )
            .await;
        match read {
            Ok(Value::String(text)) => return text,
            Ok(_) if Instant::now() > deadline => fail("the page has no <main>", ""),
            Err(e) if Instant::now() > deadline => fail("main text", e),
            _ => actix_web::rt::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The text of the page's one `<h1>`.
pub async fn heading(b: &Browser) -> String {
    let h1 = b.c.find_all(Locator::Css("h1")).await.unwrap();
    assert_eq!(
        h1.len(),
        1,
        "a page has exactly one h1 (at {})",
        path(b).await
    );
    h1[0].text().await.unwrap()
}

/// The page's heading is `expected`, in its language `lang`.
pub async fn expect_page(b: &Browser, lang_code: &str, expected: &str) {
    assert_eq!(
        lang(b).await,
        lang_code,
        "page language at {}",
        path(b).await
    );
    assert_eq!(heading(b).await, expected, "heading at {}", path(b).await);
}

/// The main content shows `text`.
pub async fn expect_text(b: &Browser, text: &str) {
    let shown = main_text(b).await;
    assert!(
        shown.contains(text),
        "{text:?} not on {}:\n{shown}",
        path(b).await
    );
}

/// An XPath string literal for any text (quotes of both kinds included).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

async fn displayed(found: Vec<Element>) -> Vec<Element> {
    let mut shown = Vec::new();
    for e in found {
        if e.is_displayed().await.unwrap_or(false) {
            shown.push(e);
        }
    }
    shown
}

/// Waits until the page has finished loading.
pub async fn settle(b: &Browser) {
    let started = Instant::now();
    loop {
        let state = js(b, "return document.readyState;", vec![]).await;
        if state == "complete" {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the page did not finish loading"
        );
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
}

// --- doing -------------------------------------------------------------------------------

/// Opens `path` of the app, as typing it in the address bar.
pub async fn open(b: &Browser, path: &str) {
    b.c.goto(&format!("{}{path}", b.base))
        .await
        .unwrap_or_else(|e| fail(&format!("open {path}"), e));
    settle(b).await;
}

/// The control that the `<label>` reading `label` names with its `for`.
pub async fn control(b: &Browser, label: &str) -> Element {
    let xpath = format!("//label[normalize-space(.)={}]", xpath_literal(label));
    let labels = displayed(b.c.find_all(Locator::XPath(&xpath)).await.unwrap()).await;
    if labels.len() != 1 {
        let all = js(
            b,
            "return [...document.querySelectorAll('label')].map(l => l.textContent.trim());",
            vec![],
        )
        .await;
        panic!(
            "{} visible labels read {label:?} on {} (labels there: {all})",
            labels.len(),
            path(b).await
        );
    }
    let id = labels[0]
        .attr("for")
        .await
        .unwrap()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| panic!("the label {label:?} has no `for`"));
    b.c.find(Locator::Id(&id)).await.unwrap_or_else(|e| {
        fail(
            &format!("the label {label:?} names #{id}, not on the page"),
            e,
        )
    })
}

/// Types `value` into the field labelled `label` (what was there is cleared first); picks
/// the option reading `value` when the field is a list.
pub async fn fill(b: &Browser, label: &str, value: &str) {
    let field = control(b, label).await;
    let tag = field.tag_name().await.unwrap().to_lowercase();
    if tag == "select" {
        field
            .select_by_label(value)
            .await
            .unwrap_or_else(|e| fail(&format!("choose {value:?} in {label:?}"), e));
        return;
    }
    field
        .clear()
        .await
        .unwrap_or_else(|e| fail(&format!("clear {label:?}"), e));
    field
        .send_keys(value)
        .await
        .unwrap_or_else(|e| fail(&format!("type into {label:?}"), e));
}

/// What the field labelled `label` holds now.
pub async fn value_of(b: &Browser, label: &str) -> String {
    control(b, label)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Presses the visible button (or submit input) reading `text`, and waits for the page it
/// leads to.
pub async fn submit(b: &Browser, text: &str) {
    let lit = xpath_literal(text);
    let xpath = format!(
        "//button[normalize-space(.)={lit}] | //input[(@type='submit' or @type='button') and @value={lit}]"
    );
    let buttons = displayed(b.c.find_all(Locator::XPath(&xpath)).await.unwrap()).await;
    let Some(button) = buttons.first() else {
        panic!("no visible button reads {text:?} on {}", path(b).await);
    };
    mark_page(b).await;
    button
        .click()
        .await
        .unwrap_or_else(|e| fail(&format!("press {text:?}"), e));
    new_page(b, &format!("pressing {text:?}")).await;
}

/// Presses the visible button reading `text` of a form that htmx sends, which changes part
/// of the page instead of loading another.
pub async fn submit_in_place(b: &Browser, text: &str) {
    let lit = xpath_literal(text);
    let xpath = format!("//button[normalize-space(.)={lit}]");
    let buttons = displayed(b.c.find_all(Locator::XPath(&xpath)).await.unwrap()).await;
    let Some(button) = buttons.first() else {
        panic!("no visible button reads {text:?} on {}", path(b).await);
    };
    button
        .click()
        .await
        .unwrap_or_else(|e| fail(&format!("press {text:?}"), e));
    settle(b).await;
}

/// Marks the page open now, for `new_page` to tell it from the next one.
pub async fn mark_page(b: &Browser) {
    js(b, "document.documentElement.dataset.walkOld = '1';", vec![]).await;
}

/// Waits until the page marked by `mark_page` has been replaced by another, then until that
/// has loaded (a click's `settle` alone can see the old page still complete).
pub async fn new_page(b: &Browser, after: &str) {
    let started = Instant::now();
    loop {
        let old =
            b.c.execute(
                "return document.documentElement.dataset.walkOld === '1';",
                vec![],
            )
            .await;
        if matches!(old, Ok(Value::Bool(false))) {
            settle(b).await;
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no new page after {after}, still at {}",
            path(b).await
        );
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Follows the visible link reading `text`.
pub async fn follow(b: &Browser, text: &str) {
    let xpath = format!("//a[normalize-space(.)={}]", xpath_literal(text));
    let links = displayed(b.c.find_all(Locator::XPath(&xpath)).await.unwrap()).await;
    let Some(link) = links.first() else {
        panic!("no visible link reads {text:?} on {}", path(b).await);
    };
    mark_page(b).await;
    link.click()
        .await
        .unwrap_or_else(|e| fail(&format!("follow {text:?}"), e));
    new_page(b, &format!("following {text:?}")).await;
}

/// Presses and releases `key` (Tab, Enter, …) wherever the focus is.
pub async fn press(b: &Browser, key: Key) {
    let k: char = key.into();
    let keys = KeyActions::new("keyboard".to_string())
        .then(KeyAction::Down { value: k })
        .then(KeyAction::Up { value: k });
    b.c.perform_actions(keys)
        .await
        .unwrap_or_else(|e| fail("press a key", e));
}

/// Types `text` with the keyboard into whatever has the focus.
pub async fn type_text(b: &Browser, text: &str) {
    let mut keys = KeyActions::new("keyboard".to_string());
    for ch in text.chars() {
        keys = keys
            .then(KeyAction::Down { value: ch })
            .then(KeyAction::Up { value: ch });
    }
    b.c.perform_actions(keys)
        .await
        .unwrap_or_else(|e| fail("type", e));
}

/// The element that has the keyboard focus: its tag, id and the words a person sees or hears
/// for it (its text, value or label).
pub async fn focused(b: &Browser) -> Value {
    js(
        b,
        r#"const e = document.activeElement;
        const label = e.id ? document.querySelector(`label[for="${e.id}"]`) : null;
        const style = getComputedStyle(e);
        return { tag: e.tagName.toLowerCase(), id: e.id,
                 words: (label ? label.textContent : (e.textContent || e.value || '')).trim(),
                 outline: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };"#,
        vec![],
    )
    .await
}

/// Presses Tab until the focus is on the control labelled or reading `words` (at most 40
/// times); returns the words of each stop on the way. Every stop must show where the focus
/// is (an outline).
pub async fn tab_to(b: &Browser, words: &str) -> Vec<String> {
    let mut stops = Vec::new();
    for _ in 0..40 {
        press(b, Key::Tab).await;
        let f = focused(b).await;
        let here = f["words"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            f["outline"],
            json!(true),
            "the focus on {f} is not visible on {}",
            path(b).await
        );
        stops.push(here.clone());
        if here == words {
            return stops;
        }
    }
    panic!(
        "Tab never reached {words:?} on {}; stops: {stops:?}",
        path(b).await
    );
}

/// Signs in through the form with the test password, as the user with `email`; ends on the
/// page the form leads to.
pub async fn sign_in(b: &Browser, email: &str) {
    open(b, "/sign-in").await;
    fill(b, &t(b, "sign_in.email").await, email).await;
    fill(b, &t(b, "sign_in.password").await, PASSWORD).await;
    submit(b, &t(b, "sign_in.submit").await).await;
}

/// Signs out with the button in the page header.
pub async fn sign_out(b: &Browser) {
    submit(b, &t(b, "nav.sign_out").await).await;
}

/// Switches the page language with the header link (`vi` or `en`).
pub async fn switch_language(b: &Browser, code: &str) {
    let link =
        b.c.find(Locator::Css(&format!("nav.langs a[hreflang=\"{code}\"]")))
            .await
            .unwrap_or_else(|e| fail(&format!("no link to switch to {code}"), e));
    link.click()
        .await
        .unwrap_or_else(|e| fail("switch language", e));
    settle(b).await;
    assert_eq!(lang(b).await, code, "the switch to {code}");
}

// --- looking -----------------------------------------------------------------------------

/// Sets the page area (the window's inner size) to `size`.
pub async fn viewport(b: &Browser, (width, height): (u32, u32)) {
    let sizes =
        "return [window.innerWidth, window.innerHeight, window.outerWidth, window.outerHeight];";
    let read =
        |v: Value| -> Vec<i64> { (0..4).map(|i| v[i].as_i64().unwrap_or_default()).collect() };
    let target = (width as i64, height as i64);
    for _ in 0..5 {
        // The window's frame takes the difference between the window and the page area.
        let now = read(js(b, sizes, vec![]).await);
        if (now[0], now[1]) == target {
            return;
        }
        let before = now.clone();
        let (fw, fh) = ((now[2] - now[0]).max(0), (now[3] - now[1]).max(0));
        b.c.set_window_size((target.0 + fw) as u32, (target.1 + fh) as u32)
            .await
            .unwrap_or_else(|e| fail("resize the window", e));
        // The page learns its new size a moment after the window has it.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            let now = read(js(b, sizes, vec![]).await);
            if (now[0], now[1]) == target {
                return;
            }
            if now != before {
                // Resized, not to the size asked for (a window narrower than Chromium's
                // least width keeps that width): measure the frame again.
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
    let now = read(js(b, sizes, vec![]).await);
    panic!("cannot make the page area {width}×{height}: it is {now:?} (inner, outer)");
}

/// Where screenshots go: `<target dir>/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

/// Screenshots of the page at the desktop and at the phone width, each of the whole page
/// (as tall as it is, at least the window's height), saved as `<name>-<lang>-<width>.png`.
/// Leaves the window at the desktop size.
pub async fn shot(b: &Browser, name: &str) {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let lang = lang(b).await;
    for (width, height) in [DESKTOP, PHONE] {
        viewport(b, (width, height)).await;
        let tall = js(b, "return document.documentElement.scrollHeight;", vec![])
            .await
            .as_u64()
            .unwrap_or(height as u64) as u32;
        if tall > height {
            viewport(b, (width, tall.min(8000))).await;
        }
        let png =
            b.c.screenshot()
                .await
                .unwrap_or_else(|e| fail("screenshot", e));
        let file = dir.join(format!("{name}-{lang}-{width}.png"));
        std::fs::write(&file, png).unwrap();
    }
    viewport(b, DESKTOP).await;
}

/// axe-core's violations on the page as it is now, each as its impact and a line saying
/// what, where and why.
pub async fn violations(b: &Browser) -> Vec<(String, String)> {
    let loaded = js(b, "return typeof window.axe === 'object';", vec![]).await;
    if loaded != json!(true) {
        js(b, AXE, vec![]).await;
    }
    let found =
        b.c.execute_async(
            r#"const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
               .then(r => done({ ok: r.violations }))
               .catch(e => done({ error: String(e) }));"#,
            vec![],
        )
        .await
        .unwrap_or_else(|e| fail("run axe-core", e));
    if let Some(e) = found.get("error") {
        panic!("axe-core failed on {}: {e}", path(b).await);
    }
    let width = js(b, "return window.innerWidth;", vec![]).await;
    let mut all = Vec::new();
    for v in found["ok"].as_array().cloned().unwrap_or_default() {
        let impact = v["impact"].as_str().unwrap_or("unknown").to_string();
        let nodes: Vec<String> = v["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|n| {
                format!(
                    "{} ({})",
                    n["target"],
                    n["failureSummary"].as_str().unwrap_or("")
                )
            })
            .collect();
        let line = format!(
            "{} [{impact}] at {width}px: {}\n    {}",
            v["id"].as_str().unwrap_or("?"),
            v["help"].as_str().unwrap_or(""),
            nodes.join("\n    ")
        );
        all.push((impact, line));
    }
    all
}

/// Runs axe-core on the page at the desktop and at the phone width; fails listing every
/// violation of serious or critical impact (the others are printed).
pub async fn axe(b: &Browser) {
    let mut serious = Vec::new();
    for size in [DESKTOP, PHONE] {
        viewport(b, size).await;
        for (impact, line) in violations(b).await {
            if impact == "serious" || impact == "critical" {
                serious.push(line);
            } else {
                eprintln!("axe-core ({}): {line}", path(b).await);
            }
        }
    }
    viewport(b, DESKTOP).await;
    assert!(
        serious.is_empty(),
        "axe-core on {}:\n{}",
        path(b).await,
        serious.join("\n")
    );
}

/// Looks at the page as the walk's reviewers do: screenshots at both widths, then axe-core.
pub async fn look(b: &Browser, name: &str) {
    shot(b, name).await;
    axe(b).await;
}

/// Waits until the page open is `expected` (a path, with its query if it has one), then
/// until it has loaded: for steps whose page comes after a key press.
pub async fn arrive(b: &Browser, expected: &str) {
    let started = Instant::now();
    loop {
        if path(b).await == expected {
            settle(b).await;
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "expected to arrive at {expected}, still at {}",
            path(b).await
        );
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
}

// --- more doing ----------------------------------------------------------------------------

/// Sets the date field labelled `label` to `iso` (YYYY-MM-DD), as picking the day in the
/// browser's date picker does (its typed form depends on the browser's locale).
pub async fn fill_date(b: &Browser, label: &str, iso: &str) {
    let field = control(b, label).await;
    let id = field.attr("id").await.unwrap().unwrap_or_default();
    js(
        b,
        r#"const e = document.getElementById(arguments[0]);
        e.focus();
        e.value = arguments[1];
        e.dispatchEvent(new Event('input', { bubbles: true }));
        e.dispatchEvent(new Event('change', { bubbles: true }));"#,
        vec![json!(id), json!(iso)],
    )
    .await;
    assert_eq!(value_of(b, label).await, iso, "the date in {label:?}");
}

/// Picks, in the list labelled `label`, the one option whose words contain `part`.
pub async fn choose_containing(b: &Browser, label: &str, part: &str) {
    let field = control(b, label).await;
    let options = field.find_all(Locator::Css("option")).await.unwrap();
    let mut seen = Vec::new();
    for o in options {
        let text = o.text().await.unwrap_or_default();
        if text.contains(part) {
            o.click()
                .await
                .unwrap_or_else(|e| fail(&format!("choose {text:?}"), e));
            return;
        }
        seen.push(text);
    }
    panic!(
        "no option with {part:?} in {label:?} on {} (options: {seen:?})",
        path(b).await
    );
}

/// Waits until a visible link reads `text` (results that htmx puts in the page).
pub async fn wait_for_link(b: &Browser, text: &str) {
    let xpath = format!("//a[normalize-space(.)={}]", xpath_literal(text));
    let started = Instant::now();
    loop {
        let links = displayed(b.c.find_all(Locator::XPath(&xpath)).await.unwrap()).await;
        if !links.is_empty() {
            settle(b).await;
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no link reads {text:?} on {}:\n{}",
            path(b).await,
            main_text(b).await
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the main content shows `text` (after a key press or an htmx swap).
pub async fn wait_for_text(b: &Browser, text: &str) {
    let started = Instant::now();
    loop {
        if main_text(b).await.contains(text) {
            settle(b).await;
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{text:?} never came on {}:\n{}",
            path(b).await,
            main_text(b).await
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An attribute of the control labelled `label`.
pub async fn attr_of(b: &Browser, label: &str, name: &str) -> String {
    control(b, label)
        .await
        .attr(name)
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Waits until the main content no longer shows `text` (results that htmx narrows).
pub async fn wait_for_text_gone(b: &Browser, text: &str) {
    let started = Instant::now();
    loop {
        if !main_text(b).await.contains(text) {
            settle(b).await;
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{text:?} never went from {}:\n{}",
            path(b).await,
            main_text(b).await
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ticks the radio button or box whose label reads `words` (a label wrapping its control,
/// or naming it with `for`).
pub async fn tick(b: &Browser, words: &str) {
    let xpath = format!("//label[normalize-space(.)={}]", xpath_literal(words));
    let labels = displayed(b.c.find_all(Locator::XPath(&xpath)).await.unwrap()).await;
    let [label] = labels.as_slice() else {
        panic!(
            "{} visible labels read {words:?} on {}",
            labels.len(),
            path(b).await
        );
    };
    let inside = label.find_all(Locator::Css("input")).await.unwrap();
    let choice = match inside.into_iter().next() {
        Some(input) => input,
        None => control(b, words).await,
    };
    choice
        .click()
        .await
        .unwrap_or_else(|e| fail(&format!("tick {words:?}"), e));
    assert_eq!(
        choice.prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "{words:?} is not ticked"
    );
}

/// A file as the link reading `text` downloads it with the page's session: the answer's
/// status, `Content-Type`, `Content-Disposition` and bytes.
pub struct Download {
    pub status: u16,
    pub content_type: String,
    pub disposition: String,
    pub bytes: Vec<u8>,
}

/// Fetches what the visible link reading `text` points at, as the browser downloads it.
pub async fn download(b: &Browser, text: &str) -> Download {
    let xpath = format!("//a[normalize-space(.)={}]", xpath_literal(text));
    let links = displayed(b.c.find_all(Locator::XPath(&xpath)).await.unwrap()).await;
    let Some(link) = links.first() else {
        panic!("no visible link reads {text:?} on {}", path(b).await);
    };
    let href = link.prop("href").await.unwrap().unwrap_or_default();
    let got =
        b.c.execute_async(
            r#"const done = arguments[arguments.length - 1];
            fetch(arguments[0]).then(async r => {
                const bytes = Array.from(new Uint8Array(await r.arrayBuffer()));
                done([r.status, r.headers.get('content-type') || '',
                      r.headers.get('content-disposition') || '', bytes]);
            }).catch(e => done([0, String(e), '', []]));"#,
            vec![json!(href)],
        )
        .await
        .unwrap_or_else(|e| fail(&format!("download {href}"), e));
    Download {
        status: got[0].as_u64().unwrap_or_default() as u16,
        content_type: got[1].as_str().unwrap_or_default().to_string(),
        disposition: got[2].as_str().unwrap_or_default().to_string(),
        bytes: got[3]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_u64().unwrap_or(0) as u8).collect())
            .unwrap_or_default(),
    }
}
