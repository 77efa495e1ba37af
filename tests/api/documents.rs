//! Agreements as documents over HTTP: each kind and language generated once per agreement
//! version, read back with a PDF reader, stored with its hash in the audit chain, found
//! again by `verify`; and the contract templates checked at start (a template that names a
//! field the documents do not provide stops `usefirst serve` before it listens).

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{id_of, version_of, TestApp, World};
use crate::json_shape::same_keys;
use crate::pdf_reader::Pdf;

#[test]
fn serve_refuses_to_start_on_a_template_with_an_unknown_field() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract-templates");
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), templates.join(entry.file_name())).unwrap();
    }
    let file = templates.join("conversion-contract.zh.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.replacen(
        "## 第十二条 保险",
        "## 第十二条 保险 {{ insurance.policy_no }}",
        1,
    );
    let line = text.lines().position(|l| l.contains("policy_no")).unwrap() + 1;
    std::fs::write(&file, text).unwrap();

    let out = run_for_at_most(
        Command::new(env!("CARGO_BIN_EXE_usefirst"))
            .arg("serve")
            .env("USEFIRST_DATABASE__URL", dir.path().join("u.db"))
            .env("USEFIRST_SERVER__LISTEN", "127.0.0.1:0")
            .env("USEFIRST_DOCUMENTS__TEMPLATES_DIR", &templates)
            .env("USEFIRST_LOG__FILTER", "warn"),
    );
    assert!(
        !out.status.success(),
        "serve started with a broken template"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = format!("{}:{line}: ", file.display());
    assert!(stderr.contains(&at), "{stderr}");
    assert!(
        stderr.contains("no such field: insurance.policy_no"),
        "{stderr}"
    );
    // Refused before the database was touched.
    assert!(!dir.path().join("u.db").exists());

    // Mended, the folder is read and checked (and said so) by a command that then ends.
    let fixed = std::fs::read_to_string(shipped.join("conversion-contract.zh.txt")).unwrap();
    std::fs::write(&file, fixed).unwrap();
    let out = run_for_at_most(
        Command::new(env!("CARGO_BIN_EXE_usefirst"))
            .arg("verify-audit")
            .env("USEFIRST_DATABASE__URL", dir.path().join("u.db"))
            .env("USEFIRST_DOCUMENTS__TEMPLATES_DIR", &templates)
            .env("USEFIRST_LOG__FILTER", "info"),
    );
    let log = printed(&out);
    assert!(out.status.success(), "{log}");
    let checked = log
        .lines()
        .find(|l| l.contains("contract templates checked"))
        .unwrap_or_else(|| panic!("no templates line in {log}"));
    assert!(
        checked.contains(&templates.display().to_string()),
        "{checked}"
    );
}

#[test]
fn start_up_names_a_missing_cjk_font_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_for_at_most(
        Command::new(env!("CARGO_BIN_EXE_usefirst"))
            .arg("verify-audit")
            .env("USEFIRST_DATABASE__URL", dir.path().join("u.db"))
            .env(
                "USEFIRST_DOCUMENTS__CJK_FONT",
                "/nonexistent/NotoSansCJK-Regular.ttc",
            )
            .env("USEFIRST_LOG__FILTER", "info"),
    );
    let log = printed(&out);
    assert!(out.status.success(), "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("Chinese documents unavailable"))
        .unwrap_or_else(|| panic!("no font line in {log}"));
    assert!(
        line.contains("/nonexistent/NotoSansCJK-Regular.ttc"),
        "{line}"
    );
    assert!(line.contains("WARN"), "{line}");
}

/// What a command printed, standard output then standard error.
fn printed(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `command` to its end, or kills it after 60 s and fails (a server that started by
/// mistake would otherwise hang the test).
fn run_for_at_most(command: &mut Command) -> std::process::Output {
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after 60 s: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// The text of a PDF with its lines joined by spaces.
fn text_of(pdf: &[u8]) -> String {
    Pdf::read(pdf).words()
}

/// `sme_b`'s trial of `tech_b` (USD installments, insurance required), approved with
/// insurer A's product chosen (10,000.00 of cover at 1.5%, shared 30/20/50), signed by both
/// parties, which binds the policy.
async fn insured_and_signed(app: &TestApp, w: &World) -> Value {
    let a = app.request(&w.sme_b, &w.tech_b, "2026-03-10").await;
    let id = id_of(&a);
    let (s, a) = app
        .act(
            &w.inst_b.token,
            &id,
            "approve",
            version_of(&a),
            json!({"insurance_product_id": w.product_a, "insurance_coverage": "10000.00"}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    let (_, a) = app
        .act(&w.sme_b.token, &id, "sign", version_of(&a), json!({}))
        .await;
    let (s, a) = app
        .act(&w.inst_b.token, &id, "sign", version_of(&a), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status"], "signed");
    a
}

#[actix_web::test]
async fn each_language_holds_the_agreement_and_is_generated_once_per_version() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = insured_and_signed(&app, &w).await;
    let id = id_of(&a);
    let number = a["number"].as_str().unwrap().to_string();
    let path =
        |kind: &str, lang: &str| format!("/api/v1/agreements/{id}/documents/{kind}?lang={lang}");

    let events_before = app.count("audit_events");
    let mut hashes = Vec::new();
    for (lang, values) in [
        (
            "vi",
            vec![
                "10/03/2026",
                "08/05/2026",
                "US$12,000.00",
                "US$150.00",
                "US$45.00",
                "US$30.00",
                "US$75.00",
                "60%",
            ],
        ),
        (
            "en",
            vec![
                "10 March 2026",
                "8 May 2026",
                "US$12,000.00",
                "US$150.00",
                "60%",
            ],
        ),
        (
            "zh",
            vec![
                "2026年3月10日",
                "2026年5月8日",
                "US$12,000.00",
                "US$150.00",
                "60%",
            ],
        ),
    ] {
        let (s, headers, pdf) = app
            .get_bytes(&w.sme_b.token, &path("trial-agreement", lang))
            .await;
        assert_eq!(s, 200, "{lang}: {}", String::from_utf8_lossy(&pdf));
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        let sha = headers["x-document-sha256"].to_str().unwrap().to_string();
        use sha2::Digest;
        assert_eq!(sha, hex::encode(sha2::Sha256::digest(&pdf)), "{lang}");
        assert_eq!(headers["etag"].to_str().unwrap(), format!("\"{sha}\""));

        let text = text_of(&pdf);
        for value in values.iter().copied().chain([
            number.as_str(),
            "Tổ chức inst_b",
            "REG-003",
            "Tổ chức sme_b",
            "REG-005",
            "Tổ chức insurer_a",
            "Nhà máy Cao Lãnh",
            "VN 1-B",
            "Người dùng sme_b",
            "Người dùng inst_b",
        ]) {
            assert!(text.contains(value), "{lang}: {value} missing from {text}");
        }
        let expected = if lang == "zh" { 3 } else { 2 };
        Pdf::read(&pdf).assert_fonts_embedded_and_subset(expected, lang);

        // Asked again: the same bytes, from storage.
        let (s, again_headers, again) = app
            .get_bytes(&w.inst_b.token, &path("trial-agreement", lang))
            .await;
        assert_eq!(s, 200);
        assert!(again == pdf, "{lang}: a second request gave other bytes");
        assert_eq!(again_headers["etag"], headers["etag"]);
        hashes.push(sha);
    }
    assert_eq!(app.count("agreement_documents"), 3);
    // One audit event per generated document, with its hash and the agreement version.
    assert_eq!(app.count("audit_events"), events_before + 3);
    let (_, events) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}/events"))
        .await;
    let generated: Vec<Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "document.generated")
        .map(|e| serde_json::from_str(e["data"].as_str().unwrap()).unwrap())
        .collect();
    let logged: Vec<&str> = generated
        .iter()
        .map(|d| d["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(
        logged,
        hashes.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(generated
        .iter()
        .all(|d| d["version"] == a["version"] && d["kind"] == "trial-agreement"));

    // Verify by file and by hash; a file changed in one byte is no document of ours.
    let (s, headers, pdf) = app
        .get_bytes(&w.sme_b.token, &path("trial-agreement", "en"))
        .await;
    assert_eq!(s, 200);
    let res = app
        .client
        .post(app.url("/api/v1/documents/verify"))
        .bearer_auth(&w.auditor.token)
        .header("content-type", "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    let (s, found) = crate::helpers::read(res).await;
    assert_eq!(s, 200, "{found}");
    assert_eq!(
        (
            found["agreement_id"].as_str(),
            found["number"].as_str(),
            found["kind"].as_str(),
            found["lang"].as_str()
        ),
        (
            Some(id.as_str()),
            Some(number.as_str()),
            Some("trial-agreement"),
            Some("en")
        )
    );
    assert_eq!(found["version"], a["version"]);
    assert_eq!(found["current_version"], a["version"]);
    let mut changed = pdf.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x01;
    let res = app
        .client
        .post(app.url("/api/v1/documents/verify"))
        .bearer_auth(&w.auditor.token)
        .header("content-type", "application/pdf")
        .body(changed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let sha = headers["x-document-sha256"].to_str().unwrap();
    let (s, found) = app
        .post(
            &w.inst_b.token,
            "/api/v1/documents/verify",
            json!({"sha256": sha.to_uppercase()}),
        )
        .await;
    assert_eq!((s, found["lang"].as_str()), (200, Some("en")), "{found}");
    // Not a party to it: as if it did not exist.
    let (s, _) = app
        .post(
            &w.sme_a.token,
            "/api/v1/documents/verify",
            json!({"sha256": sha}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, p) = app
        .post(
            &w.sme_b.token,
            "/api/v1/documents/verify",
            json!({"sha256": "abc"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("sha256")),
        "{p}"
    );

    // The agreement moves on (the trial starts): a new version, a new document and hash; the
    // earlier one still verifies, as that version.
    app.pass_days(8);
    let (_, now) = app
        .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(now["status"], "active");
    let (s, headers, _) = app
        .get_bytes(&w.sme_b.token, &path("trial-agreement", "en"))
        .await;
    assert_eq!(s, 200);
    assert_ne!(headers["x-document-sha256"].to_str().unwrap(), sha);
    let (s, found) = app
        .post(
            &w.sme_b.token,
            "/api/v1/documents/verify",
            json!({"sha256": sha}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(found["version"], a["version"]);
    assert_eq!(found["current_version"], now["version"]);

    // The conversion contract exists once the SME converts, with its schedule.
    let (s, p) = app
        .get(&w.sme_b.token, &path("conversion-contract", "vi"))
        .await;
    assert_eq!(
        (s, p["type"].as_str()),
        (409, Some("urn:usefirst:problem:invalid-transition")),
        "{p}"
    );
    let (s, converted) = app
        .act(&w.sme_b.token, &id, "convert", version_of(&now), json!({}))
        .await;
    assert_eq!(s, 200, "{converted}");
    let (s, _, pdf) = app
        .get_bytes(&w.inst_b.token, &path("conversion-contract", "vi"))
        .await;
    assert_eq!(s, 200);
    let text = text_of(&pdf);
    for value in [
        "US$3,000.00",
        "Kỳ 1/4",
        "Kỳ 4/4",
        number.as_str(),
        "Người dùng sme_b",
    ] {
        assert!(text.contains(value), "{value} missing from {text}");
    }
}

#[actix_web::test]
async fn documents_are_only_for_those_who_see_the_agreement_and_bad_requests_are_refused() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let a = insured_and_signed(&app, &w).await;
    let id = id_of(&a);
    let path = format!("/api/v1/agreements/{id}/documents/trial-agreement?lang=vi");
    for (who, user, expected) in [
        ("sme_b", &w.sme_b, 200),
        ("inst_b", &w.inst_b, 200),
        ("insurer_a (covers it)", &w.insurer_a, 200),
        ("admin", &w.admin, 200),
        ("auditor", &w.auditor, 200),
        ("sme_a", &w.sme_a, 404),
        ("inst_a", &w.inst_a, 404),
        ("insurer_b", &w.insurer_b, 404),
    ] {
        let (s, _, _) = app.get_bytes(&user.token, &path).await;
        assert_eq!(s, expected, "{who}");
    }
    let (s, _, _) = app.get_bytes("not-a-token", &path).await;
    assert_eq!(s, 401);
    let before = app.count("agreement_documents");
    let (s, p) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/agreements/{id}/documents/trial-agreement?lang=fr"),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("lang")),
        "{p}"
    );
    let (s, _) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/agreements/{id}/documents/invoice?lang=vi"),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .get(
            &w.sme_b.token,
            "/api/v1/agreements/nope/documents/trial-agreement",
        )
        .await;
    assert_eq!(s, 404);
    // Before approval there is no trial agreement to print.
    let requested = app.request(&w.sme_a, &w.tech_a, "2026-04-01").await;
    let (s, p) = app
        .get(
            &w.sme_a.token,
            &format!(
                "/api/v1/agreements/{}/documents/trial-agreement",
                id_of(&requested)
            ),
        )
        .await;
    assert_eq!(
        (s, p["current_state"].as_str()),
        (409, Some("requested")),
        "{p}"
    );
    assert_eq!(app.count("agreement_documents"), before);
    // Verify takes a PDF or JSON, nothing else.
    let res = app
        .client
        .post(app.url("/api/v1/documents/verify"))
        .bearer_auth(&w.sme_b.token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    // Without a language the caller's own is used (vi for these users).
    let (s, headers, _) = app
        .get_bytes(
            &w.sme_b.token,
            &format!("/api/v1/agreements/{id}/documents/trial-agreement"),
        )
        .await;
    assert_eq!(s, 200);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .ends_with("-trial-agreement-vi.pdf\""));
}

#[actix_web::test]
async fn without_the_cjk_font_chinese_answers_503_naming_it_and_the_rest_works() {
    let app = TestApp::spawn_with(|c| {
        crate::helpers::long_sessions(c);
        c.documents.cjk_font = "/nonexistent/fonts/NotoSansCJK-Regular.ttc".into();
    })
    .await;
    let w = app.world().await;
    let id = id_of(&insured_and_signed(&app, &w).await);
    let (s, p) = app
        .get(
            &w.sme_b.token,
            &format!("/api/v1/agreements/{id}/documents/trial-agreement?lang=zh"),
        )
        .await;
    assert_eq!(s, 503, "{p}");
    assert_eq!(p["type"], "urn:usefirst:problem:unavailable");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/fonts/NotoSansCJK-Regular.ttc"),
        "{p}"
    );
    assert_eq!(app.count("agreement_documents"), 0);
    let (s, _, _) = app
        .get_bytes(
            &w.sme_b.token,
            &format!("/api/v1/agreements/{id}/documents/trial-agreement?lang=en"),
        )
        .await;
    assert_eq!(s, 200);
}

#[actix_web::test]
async fn simultaneous_first_requests_store_one_document_and_etags_answer_304() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = id_of(&insured_and_signed(&app, &w).await);
    let path = format!("/api/v1/agreements/{id}/documents/trial-agreement?lang=en");
    let events_before = app.count("audit_events");
    let answers = futures_util::future::join_all((0..8).map(|i| {
        app.get_bytes(
            if i % 2 == 0 {
                &w.sme_b.token
            } else {
                &w.inst_b.token
            },
            &path,
        )
    }))
    .await;
    let first = &answers[0].2;
    for (status, headers, pdf) in &answers {
        assert_eq!(*status, 200);
        assert!(pdf == first, "simultaneous requests got different bytes");
        assert_eq!(headers["etag"], answers[0].1["etag"]);
    }
    assert_eq!(app.count("agreement_documents"), 1);
    assert_eq!(app.count("audit_events"), events_before + 1);

    let etag = answers[0].1["etag"].to_str().unwrap().to_string();
    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        "*".to_string(),
        format!("\"other\", {etag}"),
    ] {
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(&w.sme_b.token)
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 304, "{tag}");
        assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
    }
    let res = app
        .client
        .get(app.url(&path))
        .bearer_auth(&w.sme_b.token)
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[actix_web::test]
async fn text_no_font_can_print_answers_409_naming_the_character() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let (s, a) = app
        .post(&w.sme_a.token, "/api/v1/agreements", json!({
            "technology_id": w.tech_a, "place_of_use": "Xưởng 🏭 Cao Lãnh", "requested_start": "2026-03-10"
        }))
        .await;
    assert_eq!(s, 201, "{a}");
    let (s, a) = app
        .act(
            &w.inst_a.token,
            &id_of(&a),
            "approve",
            version_of(&a),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    let before = app.count("audit_events");
    let (s, p) = app
        .get(
            &w.sme_a.token,
            &format!(
                "/api/v1/agreements/{}/documents/trial-agreement?lang=vi",
                id_of(&a)
            ),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("U+1F3ED"), "{p}");
    assert_eq!(app.count("agreement_documents"), 0);
    assert_eq!(app.count("audit_events"), before);
}

/// The parties and the technology are printed as they were when the terms were fixed, and
/// signers as they were named when they signed: edits made later to the catalogue, the
/// organisations or the users change no document of the agreement.
#[actix_web::test]
async fn documents_print_what_was_fixed_at_approval_and_signing() {
    use diesel::prelude::*;
    use usefirst::db::schema::{organisations, technologies, users};

    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let id = id_of(&insured_and_signed(&app, &w).await);
    app.state
        .db
        .write(|conn| {
            diesel::update(technologies::table.find(&w.tech_b))
                .set((
                    technologies::title_vi.eq("Tên mới của công nghệ"),
                    technologies::ip_reference.eq("VN 9-EDITED"),
                ))
                .execute(conn)?;
            diesel::update(organisations::table.find(&w.inst_b.org))
                .set(organisations::name.eq("Viện đã đổi tên"))
                .execute(conn)?;
            diesel::update(users::table.find(&w.sme_b.id))
                .set(users::display_name.eq("Tên người ký đã đổi"))
                .execute(conn)?;
            Ok::<_, usefirst::error::AppError>(())
        })
        .unwrap();
    let (s, _, pdf) = app
        .get_bytes(
            &w.sme_b.token,
            &format!("/api/v1/agreements/{id}/documents/trial-agreement?lang=vi"),
        )
        .await;
    assert_eq!(s, 200);
    let text = text_of(&pdf);
    for kept in [
        "Công nghệ B",
        "VN 1-B",
        "Tổ chức inst_b",
        "Người dùng sme_b",
    ] {
        assert!(text.contains(kept), "{kept} missing from {text}");
    }
    for edited in [
        "Tên mới",
        "VN 9-EDITED",
        "Viện đã đổi tên",
        "Tên người ký đã đổi",
    ] {
        assert!(!text.contains(edited), "{edited} printed: {text}");
    }
}

/// `app::documents::load` against a migrated SQLite database holding the demo programme, with
/// a policy bound on one converted agreement.
#[test]
fn load_reads_an_agreement_as_stored() {
    use diesel::prelude::*;
    use usefirst::agreements::model::AgreementRow;
    use usefirst::app::documents::load;
    use usefirst::db::schema::{agreements, organisations, users};
    use usefirst::documents::context::context;
    use usefirst::documents::model::{KINDS, LANGS};
    use usefirst::documents::templates::sample_context;
    use usefirst::insurance::model::{Insured, PolicyTerms, Risk};
    use usefirst::settlement::money::Currency;
    use usefirst::settlement::terms::Terms;

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = usefirst::config::Config::load(None).unwrap();
    cfg.database.url = dir.path().join("t.db").to_string_lossy().into_owned();
    let db = usefirst::db::Db::connect(&cfg.database).unwrap();
    db.migrate().unwrap();
    let now: chrono::DateTime<chrono::Utc> = "2027-03-01T03:00:00Z".parse().unwrap();
    let clock = usefirst::clock::Clock::manual(now);
    let state = usefirst::AppState::new(cfg, db, clock).unwrap();
    usefirst::seed::demo(&state).unwrap();
    let mut conn = state.db.reader().unwrap();
    let rows: Vec<AgreementRow> = agreements::table
        .order(agreements::number.asc())
        .select(AgreementRow::as_select())
        .load(&mut *conn)
        .unwrap();
    let converted = rows
        .iter()
        .find(|r| r.status == "converted")
        .unwrap()
        .clone();
    let insurer: String = organisations::table
        .filter(organisations::kind.eq("insurer"))
        .select(organisations::id)
        .first(&mut *conn)
        .unwrap();
    let shares = |s: &str| s.parse().unwrap();
    let policy = PolicyTerms {
        insurer_id: insurer,
        product_id: None,
        product_version: None,
        risks: vec![Risk::ImplementationFailure],
        currency: Currency::parse("VND").unwrap(),
        coverage_minor: 500_000_000,
        premium_rate: shares("0.02"),
        deductible_minor: 0,
        shares: usefirst::settlement::insurance::PremiumShares {
            sme: shares("0.3"),
            institute: shares("0.2"),
            subsidy: shares("0.5"),
        },
        subsidy_cap_minor: None,
    };
    let on = Insured {
        agreement_id: &converted.id,
        sme_id: &converted.sme_id,
        subsidy_year: 2027,
    };
    let rounding = usefirst::settlement::allocate::Rounding::HalfUp;
    state
        .db
        .write(|c| {
            usefirst::insurance::bind(c, now, usefirst::audit::Who::SYSTEM, on, &policy, rounding)
        })
        .unwrap();

    let facts = load(&mut conn, converted.clone()).unwrap();
    let snapshot: Terms =
        serde_json::from_str(converted.terms_snapshot.as_deref().unwrap()).unwrap();
    assert_eq!(facts.terms, snapshot);
    assert!(facts.approved_at.is_some());
    let contract = facts.contract.as_ref().unwrap();
    assert!(!contract.lines.is_empty());
    let cover = facts.insurance.as_ref().unwrap();
    assert_eq!(
        (cover.premium_minor, cover.subsidy_minor),
        (10_000_000, 5_000_000)
    );
    assert_eq!(cover.risks, ["implementation_failure"]);
    for (party, signature) in [
        (&converted.institute_id, &facts.institute_signature),
        (&converted.sme_id, &facts.sme_signature),
    ] {
        let name: String = users::table
            .filter(users::organisation_id.eq(party))
            .select(users::display_name)
            .first(&mut *conn)
            .unwrap();
        let signature = signature.as_ref().unwrap();
        assert_eq!(signature.by, name);
    }
    assert_eq!(
        facts.sme_signature.as_ref().map(|s| s.at),
        converted.sme_signed_at
    );
    for kind in KINDS {
        for lang in LANGS {
            let ctx = context(&facts, kind, lang);
            // The demo's converted agreement has no registration certificate entered.
            assert!(facts.registration.is_none());
            let mut sample = sample_context(kind, lang, true);
            sample["registration"] = serde_json::Value::Null;
            same_keys(&ctx, &sample, kind).unwrap();
            state.templates.render(kind, lang, &ctx).unwrap();
        }
    }

    // A request: the terms it references, nothing signed, no contract or policy.
    let requested = rows
        .iter()
        .find(|r| r.status == "requested")
        .unwrap()
        .clone();
    let facts = load(&mut conn, requested.clone()).unwrap();
    let current = usefirst::technologies::current_terms(&mut conn, &requested.technology_id)
        .unwrap()
        .unwrap();
    assert_eq!(facts.terms, current.terms);
    assert_eq!(facts.approved_at, None);
    assert!(facts.contract.is_none() && facts.insurance.is_none());
    assert!(facts.institute_signature.is_none() && facts.sme_signature.is_none());
    let ctx = context(&facts, "trial-agreement", "vi");
    state
        .templates
        .render("trial-agreement", "vi", &ctx)
        .unwrap();
}
