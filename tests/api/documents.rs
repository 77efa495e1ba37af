//! Contract templates are read from the configured folder and checked at start: a template
//! that names a field the documents do not provide stops `usefirst serve` before it listens,
//! naming the file and line.

use std::process::Command;

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
        "## 第五条 保险",
        "## 第五条 保险 {{ insurance.policy_no }}",
        1,
    );
    let line = text.lines().position(|l| l.contains("policy_no")).unwrap() + 1;
    std::fs::write(&file, text).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_usefirst"))
        .arg("serve")
        .env("USEFIRST_DATABASE__URL", dir.path().join("u.db"))
        .env("USEFIRST_SERVER__LISTEN", "127.0.0.1:0")
        .env("USEFIRST_DOCUMENTS__TEMPLATES_DIR", &templates)
        .env("USEFIRST_LOG__FILTER", "warn")
        .output()
        .unwrap();
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

    // Mended, the same folder is accepted (by a command that checks them as serve does and
    // then ends).
    let fixed = std::fs::read_to_string(shipped.join("conversion-contract.zh.txt")).unwrap();
    std::fs::write(&file, fixed).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_usefirst"))
        .arg("verify-audit")
        .env("USEFIRST_DATABASE__URL", dir.path().join("u.db"))
        .env("USEFIRST_DOCUMENTS__TEMPLATES_DIR", &templates)
        .env("USEFIRST_LOG__FILTER", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
