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
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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
