//! The direction of dependency, kept true by a test that reads `src/**` (docs/ARCHITECTURE.md
//! draws the picture). Layers, lowest first; each imports only from its own layer or below:
//!
//! 0. **shared**: `error`, `clock` — the error type and the one "now";
//! 1. **core**: `settlement`, `rules` — pure: no I/O, no database, no web;
//! 2. **foundation**: `config`, `db`, `templating`, `typeset`, `auth`, `audit` — settings,
//!    storage plumbing, text templates and PDF typesetting, who is calling, the hash-chained
//!    log every change appends to, and `search`, the index of words every part that owns
//!    searchable things writes in the same transaction;
//! 3. **domain parts**: `accounts`, `technologies`, `agreements`, `contracts`, `insurance`,
//!    `documents`, `reports`, `mail`, `jobs`, `demands` — each owns its tables; from a sibling
//!    it may take only the values of its `model` module, never its storage;
//! 4. **app**: one function per user action — the transaction, the parts in order, the mail;
//!    it queries no table itself;
//! 5. **edges**: `api` (JSON), `scheduler` (jobs), `cli`, `openapi`, `http`,
//!    `lib.rs`/`main.rs` — they parse, call app, and answer; an edge takes a domain part's
//!    `model` values but never calls its storage, and never queries tables. Beside them the
//!    **tools**, `seed` (the demo and years of synthetic data): they load data in bulk, so they
//!    may write through the parts and their tables directly; nothing below them uses them.
//!
//! The folders of `src/` also form no import circle, and every table has one owner: only the
//! part (or foundation module) that owns a table names it, except for the reads listed in
//! [`CROSS_READS`], each with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A layer, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Shared,
    Core,
    Foundation,
    Domain,
    App,
    Edge,
}

/// Each top-level module of `src/` and its layer.
const LAYERS: &[(&str, Layer)] = &[
    ("error", Layer::Shared),
    ("clock", Layer::Shared),
    ("settlement", Layer::Core),
    ("rules", Layer::Core),
    ("config", Layer::Foundation),
    ("db", Layer::Foundation),
    ("templating", Layer::Foundation),
    ("typeset", Layer::Foundation),
    ("auth", Layer::Foundation),
    ("audit", Layer::Foundation),
    ("search", Layer::Foundation),
    ("metrics", Layer::Foundation),
    ("accounts", Layer::Domain),
    ("technologies", Layer::Domain),
    ("agreements", Layer::Domain),
    ("contracts", Layer::Domain),
    ("insurance", Layer::Domain),
    ("documents", Layer::Domain),
    ("reports", Layer::Domain),
    ("mail", Layer::Domain),
    ("jobs", Layer::Domain),
    ("demands", Layer::Domain),
    ("app", Layer::App),
    ("api", Layer::Edge),
    ("scheduler", Layer::Edge),
    ("cli", Layer::Edge),
    ("seed", Layer::Edge),
    ("openapi", Layer::Edge),
    ("http", Layer::Edge),
    ("web", Layer::Edge),
    ("lib", Layer::Edge),
    ("main", Layer::Edge),
    ("architecture", Layer::Edge),
];

/// Crates and modules that do I/O or belong to the web or the database: the core names none.
const NOT_IN_CORE: &[&str] = &[
    "diesel",
    "actix_web",
    "lettre",
    "tokio",
    "reqwest",
    "std::fs",
    "std::net",
    "std::process",
    "printpdf",
    "lopdf",
];

/// Paths under `crate::` that app and the edges may not use even though their layer is
/// below: tables are queried by the parts that own them.
const EDGES_NEVER: &[&str] = &["db::schema", "on_backend"];

/// Each table and the module that owns it (writes it and answers for it).
const TABLES: &[(&str, &str)] = &[
    ("organisations", "accounts"),
    ("users", "accounts"),
    ("technologies", "technologies"),
    ("conversion_terms", "technologies"),
    ("technology_screenings", "technologies"),
    ("agreements", "agreements"),
    ("counters", "agreements"),
    ("conversion_contracts", "contracts"),
    ("schedule_lines", "contracts"),
    ("payments", "contracts"),
    ("payment_allocations", "contracts"),
    ("royalty_years", "contracts"),
    ("sales_reports", "contracts"),
    ("contract_registrations", "contracts"),
    ("insurance_products", "insurance"),
    ("insurance_policies", "insurance"),
    ("insurance_claims", "insurance"),
    ("agreement_insurance", "insurance"),
    ("agreement_documents", "documents"),
    ("monthly_reports", "reports"),
    ("monthly_report_files", "reports"),
    ("report_documents", "reports"),
    ("report_tallies", "reports"),
    ("report_tallies_paused", "reports"),
    ("outbox", "mail"),
    ("job_runs", "jobs"),
    ("reminders", "jobs"),
    ("audit_events", "audit"),
    ("audit_head", "audit"),
    ("sessions", "auth"),
    ("login_failures", "auth"),
    ("password_resets", "auth"),
    ("registrations", "accounts"),
    ("invitations", "accounts"),
    ("idempotency_keys", "db"),
    ("search_docs", "search"),
    ("demands", "demands"),
    ("demand_invitees", "demands"),
    ("demand_proposals", "demands"),
];

/// Reads of another part's table that remain, each (reader, table, why). They are reads
/// only; a new one fails the test until it is listed here with its reason, or, better, turned
/// into a value app passes in.
const CROSS_READS: &[(&str, &str, &str)] = &[
    (
        "insurance",
        "organisations",
        "the insurer's view names the parties and filters by province",
    ),
    (
        "insurance",
        "technologies",
        "the insurer's view names the technology and its field",
    ),
    (
        "auth",
        "users",
        "sign-in and sessions read the user's credentials and role",
    ),
    (
        "contracts",
        "agreements",
        "royalty years join the agreement for its time zone; the home pages' money figures \
         are summed over the agreements an organisation takes part in, per time zone; the \
         SME's payment record finds its schedule lines by the agreement's SME",
    ),
    (
        "insurance",
        "agreements",
        "the insurer's portfolio is filtered and joined by agreement; the SME's payment record \
         counts the non-payment claims on its agreements",
    ),
    (
        "insurance",
        "conversion_contracts",
        "non-payment cover reads what the contract owes",
    ),
    (
        "insurance",
        "schedule_lines",
        "a non-payment claim is capped at what is overdue",
    ),
    (
        "documents",
        "agreements",
        "a stored document is current only for its agreement's version",
    ),
    (
        "reports",
        "organisations",
        "the report's breakdowns name institutes and provinces",
    ),
    (
        "reports",
        "technologies",
        "the report's breakdowns and top ten name technologies",
    ),
    (
        "mail",
        "users",
        "a message goes to each user of the organisations, in their language",
    ),
    (
        "reports",
        "conversion_contracts",
        "the public price disclosure reads each agreed price, its currency and its date",
    ),
    (
        "reports",
        "agreements",
        "the public price disclosure finds each contract's technology, for its sector",
    ),
    ("mail", "organisations", "messages name the parties"),
    ("mail", "technologies", "messages name the technology"),
    (
        "jobs",
        "schedule_lines",
        "installment reminders find lines falling due",
    ),
    (
        "jobs",
        "conversion_contracts",
        "installment reminders state the contract's currency",
    ),
];

/// Edges that load data in bulk and may use the parts' storage and tables.
const TOOLS: &[&str] = &["seed"];

fn layer_of(module: &str) -> Option<Layer> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// One `crate::…` path named in a file: the module it enters and the one below that.
#[derive(Debug, Clone)]
struct Import {
    file: PathBuf,
    line: usize,
    text: String,
    module: String,
    sub: Option<String>,
}

/// The top-level module a file under `src/` belongs to (`src/agreements/store.rs` →
/// `agreements`, `src/lib.rs` → `lib`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    first
        .unwrap_or_default()
        .trim_end_matches(".rs")
        .to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs")
            // This file names paths as the test's own data.
            && !path.ends_with("architecture.rs")
        {
            out.push(path);
        }
    }
}

/// Every `crate::a::b` path of `code` (one line), including each of `crate::{a::b, c}`.
fn crate_paths(code: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        // `usefirst_crate::` or `$crate::` are not ours.
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let mut parts = item.trim().split("::");
                if let Some(m) = parts.next().filter(|m| !m.is_empty()) {
                    out.push((m.to_string(), parts.next().map(str::to_string)));
                }
            }
            continue;
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let mut parts = path.split("::").filter(|p| !p.is_empty());
        if let Some(m) = parts.next() {
            out.push((
                m.to_string(),
                parts.next().map(|s| s.trim_end_matches(':').to_string()),
            ));
        }
    }
    out
}

/// The code of a line: nothing of a comment (`//`, `///`, `//!`) or a string's words.
fn code_of(line: &str) -> &str {
    let line = line.trim_start();
    if line.starts_with("//") {
        return "";
    }
    match line.find("//") {
        // A `//` inside a string ("https://…") is rare in paths; cut only after the code.
        Some(at) if !line[..at].contains('"') => &line[..at],
        _ => line,
    }
}

/// The code of `text` line by line, with each `use` statement that spans several lines
/// joined onto its first line (`use crate::db::schema::{\n a,\n b,\n};`), numbered from 1.
fn statements(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    for (n, line) in text.lines().enumerate() {
        let code = code_of(line);
        if open {
            if let Some((_, joined)) = out.last_mut() {
                joined.push(' ');
                joined.push_str(code.trim());
            }
        } else {
            out.push((n + 1, code.to_string()));
        }
        let starts_use = code.starts_with("use ") || code.starts_with("pub use ");
        if starts_use && !open {
            open = !code.trim_end().ends_with(';');
        } else if open && code.trim_end().ends_with(';') {
            open = false;
        }
    }
    out
}

/// The tables a line of code names through `db::schema` (`schema::{a, b as c}`, `schema::a`).
fn tables_named(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("schema::") {
        rest = &rest[at + "schema::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = item.trim().split_whitespace().next().unwrap_or("");
                if !name.is_empty() && name != "self" {
                    out.push(name.to_string());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// Every table named outside its owner and not listed in [`CROSS_READS`], as
/// `FILE:LINE: why`.
fn foreign_tables(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let module = module_of(src, &file);
        let layer = layer_of(&module);
        // Tools load in bulk; edges and app are kept from tables by the import rule.
        if !matches!(layer, Some(Layer::Domain | Layer::Foundation)) || module == "db" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (line_no, line) in statements(&text) {
            let n = line_no - 1;
            for table in tables_named(&line) {
                let Some((_, owner)) = TABLES.iter().find(|(t, _)| *t == table) else {
                    wrong.push(format!(
                        "{}:{}: table {table} has no owner in TABLES",
                        file.strip_prefix(src).unwrap_or(&file).display(),
                        n + 1
                    ));
                    continue;
                };
                let listed = CROSS_READS
                    .iter()
                    .any(|(reader, t, _)| *reader == module && *t == table);
                if *owner != module && !listed {
                    wrong.push(format!(
                        "{}:{}: {module} names {owner}'s table {table}\n    {}",
                        file.strip_prefix(src).unwrap_or(&file).display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    wrong
}

fn imports(src: &Path) -> (Vec<Import>, Vec<(PathBuf, usize, String)>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = Vec::new();
    let mut io_in_core = Vec::new();
    for file in files {
        let module = module_of(src, &file);
        let text = std::fs::read_to_string(&file).unwrap();
        let core = layer_of(&module) == Some(Layer::Core);
        for (line_no, code) in statements(&text) {
            let (n, code, line) = (line_no - 1, code.as_str(), code.as_str());
            if code.is_empty() {
                continue;
            }
            for (m, sub) in crate_paths(code) {
                found.push(Import {
                    file: file.clone(),
                    line: n + 1,
                    text: line.trim().to_string(),
                    module: m,
                    sub,
                });
            }
            if core {
                for name in NOT_IN_CORE {
                    let named = code.match_indices(name).any(|(at, _)| {
                        let before = code[..at].chars().last();
                        let after = code[at + name.len()..].chars().next();
                        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    });
                    if named {
                        io_in_core.push((file.clone(), n + 1, line.trim().to_string()));
                    }
                }
            }
        }
    }
    (found, io_in_core)
}

/// What is wrong with `import` from `from`, if anything.
fn judge(src: &Path, import: &Import) -> Option<String> {
    let from = module_of(src, &import.file);
    let to = import.module.as_str();
    if from == to {
        return None;
    }
    let from_layer = layer_of(&from)?;
    if TOOLS.contains(&from.as_str()) {
        return None;
    }
    let Some(to_layer) = layer_of(to) else {
        // A macro or item at the crate root (`crate::on_backend!`, `crate::AppState`).
        return (from_layer < Layer::App && to == "AppState")
            .then(|| format!("{from} ({from_layer:?}) uses the application's state"))
            .or_else(|| {
                (from_layer >= Layer::App && EDGES_NEVER.contains(&to))
                    .then(|| format!("{from} ({from_layer:?}) queries tables ({to})"))
            });
    };
    let sub = import.sub.as_deref().unwrap_or("");
    if to_layer > from_layer {
        return Some(format!(
            "{from} ({from_layer:?}) imports {to} ({to_layer:?}), a layer above it"
        ));
    }
    if to_layer == Layer::Domain && (from_layer == Layer::Domain || from_layer == Layer::Edge) {
        if sub != "model" {
            let who = if from_layer == Layer::Edge {
                "the edge"
            } else {
                "the part"
            };
            return Some(format!(
                "{who} {from} reaches into {to}::{sub} (only {to}::model is shared)"
            ));
        }
    }
    let path = format!("{to}::{sub}");
    if from_layer >= Layer::App && EDGES_NEVER.iter().any(|never| path.starts_with(never)) {
        return Some(format!(
            "{from} ({from_layer:?}) queries tables ({path}): the parts own them"
        ));
    }
    if from_layer == Layer::Edge {
        if to == "audit" && sub != "model" {
            return Some(format!(
                "the edge {from} reaches into audit::{sub} (through app)"
            ));
        }
    }
    None
}

/// Every finding of `found`, as `FILE: WHY`, with how often it occurs and where.
fn findings(src: &Path, found: &[Import]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in found {
        if let Some(why) = judge(src, i) {
            let file = i
                .file
                .strip_prefix(src)
                .unwrap_or(&i.file)
                .display()
                .to_string();
            out.entry(format!("{file}: {why}"))
                .or_default()
                .push(format!("{file}:{}: {}", i.line, i.text));
        }
    }
    out
}

/// The folders' import graph of the allowed imports (`lib` and `main` wire everything and are
/// left out; a finding is already reported on its own).
fn graph(src: &Path, found: &[Import]) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for i in found {
        let from = module_of(src, &i.file);
        if from == i.module
            || from == "lib"
            || from == "main"
            || layer_of(&i.module).is_none()
            || judge(src, i).is_some()
        {
            continue;
        }
        g.entry(from).or_default().insert(i.module.clone());
    }
    g
}

/// A circle in `g`, if there is one, as the modules along it.
fn circle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == at) {
            let mut c = path[start..].to_vec();
            c.push(at.to_string());
            return Some(c);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in g.get(at).into_iter().flatten() {
            if let Some(c) = visit(g, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for start in g.keys() {
        if let Some(c) = visit(g, start, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    #[test]
    fn every_module_of_src_has_a_layer() {
        let mut files = Vec::new();
        rust_files(&src(), &mut files);
        let missing: BTreeSet<String> = files
            .iter()
            .map(|f| module_of(&src(), f))
            .filter(|m| layer_of(m).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "modules without a layer (add them to LAYERS in src/architecture.rs): {missing:?}"
        );
    }

    #[test]
    fn imports_point_down_and_parts_share_only_their_models() {
        let src = src();
        let (found, io_in_core) = imports(&src);
        assert!(found.len() > 300, "read only {} imports", found.len());
        let mut wrong: Vec<String> = io_in_core
            .iter()
            .map(|(file, line, text)| {
                format!(
                    "{}:{line}: the pure core names I/O or the web\n    {text}",
                    file.strip_prefix(&src).unwrap_or(file).display()
                )
            })
            .collect();
        for (what, places) in findings(&src, &found) {
            wrong.push(format!("{what}\n    {}", places.join("\n    ")));
        }
        assert!(
            wrong.is_empty(),
            "{} imports against the direction (docs/ARCHITECTURE.md):\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn each_table_is_named_only_by_its_owner_and_the_listed_reads() {
        let wrong = foreign_tables(&src());
        assert!(
            wrong.is_empty(),
            "tables named outside their owner (src/architecture.rs TABLES, CROSS_READS):\n{}",
            wrong.join("\n")
        );
        // Every listed read still happens: a read that went away leaves the list.
        let mut files = Vec::new();
        rust_files(&src(), &mut files);
        for (reader, table, _) in CROSS_READS {
            let named = files
                .iter()
                .filter(|f| module_of(&src(), f) == *reader)
                .any(|f| {
                    statements(&std::fs::read_to_string(f).unwrap())
                        .iter()
                        .any(|(_, l)| tables_named(l).iter().any(|t| t == table))
                });
            assert!(
                named,
                "{reader} no longer reads {table}: remove it from CROSS_READS"
            );
        }
        // Every table of the schema has an owner.
        let schema = std::fs::read_to_string(src().join("db/schema.rs")).unwrap();
        for line in schema.lines() {
            let line = line.trim_start();
            if let Some(name) = line.strip_suffix(" (").or_else(|| {
                line.split_once(" (")
                    .map(|(n, _)| n)
                    .filter(|n| !n.contains(' ') && line.ends_with('{') && !n.is_empty())
            }) {
                if name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    assert!(
                        TABLES.iter().any(|(t, _)| *t == name),
                        "table {name} has no owner in TABLES"
                    );
                }
            }
        }
        assert_eq!(
            tables_named("use crate::db::schema::{agreements, users as u};"),
            ["agreements", "users"]
        );
        assert_eq!(tables_named("schema::outbox::table"), ["outbox"]);
        // A `use` wrapped over lines is read whole.
        let wrapped = "use crate::db::schema::{\n    agreements,\n    outbox,\n};\nfn f() {}";
        let joined = statements(wrapped);
        assert_eq!(joined[0].0, 1);
        assert_eq!(tables_named(&joined[0].1), ["agreements", "outbox"]);
        assert_eq!(joined[1], (5, "fn f() {}".to_string()));
    }

    #[test]
    fn the_folders_of_src_form_no_import_circle() {
        let src = src();
        let (found, _) = imports(&src);
        let g = graph(&src, &found);
        if let Some(c) = circle(&g) {
            panic!("an import circle: {}", c.join(" → "));
        }
    }

    /// The checks themselves: a back-import, a sibling's storage, a table queried from an
    /// edge, I/O in the core and a circle are each found.
    #[test]
    fn the_checks_catch_what_they_are_for() {
        let src = Path::new("/x/src");
        let at = |file: &str, path: &str| {
            let (module, sub) = crate_paths(path).remove(0);
            Import {
                file: src.join(file),
                line: 1,
                text: path.into(),
                module,
                sub,
            }
        };
        let wrong = |file: &str, path: &str| judge(src, &at(file, path));
        assert!(wrong("settlement/quote.rs", "use crate::technologies::model::X;").is_some());
        assert!(wrong("config.rs", "use crate::scheduler::Job;").is_some());
        assert!(wrong("agreements/store.rs", "use crate::contracts::create;").is_some());
        assert!(wrong("agreements/store.rs", "use crate::app::convert;").is_some());
        assert!(wrong(
            "insurance/cover.rs",
            "use crate::agreements::model::AgreementRow;"
        )
        .is_none());
        assert!(wrong("api/agreements.rs", "use crate::agreements::store::get;").is_some());
        assert!(wrong("api/agreements.rs", "use crate::db::schema::agreements;").is_some());
        assert!(wrong("api/agreements.rs", "use crate::app::agreements::act;").is_none());
        assert!(wrong(
            "api/agreements.rs",
            "use crate::agreements::model::Agreement;"
        )
        .is_none());
        assert!(wrong("scheduler/mod.rs", "crate::audit::verify(conn)").is_some());
        assert!(wrong("app/agreements.rs", "use crate::agreements::store;").is_none());
        assert!(wrong("app/documents.rs", "use crate::db::schema::users;").is_some());
        assert!(wrong("rules/lifecycle.rs", "use crate::error::FieldError;").is_none());
        assert_eq!(
            crate_paths("use crate::{agreements::store, mail::enqueue};"),
            vec![
                ("agreements".to_string(), Some("store".to_string())),
                ("mail".to_string(), Some("enqueue".to_string()))
            ]
        );
        assert!(crate_paths("$crate::db::DbConn and usefirst_crate::x").is_empty());
        assert_eq!(code_of("/// see crate::agreements::store"), "");
        let mut g = BTreeMap::new();
        g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
        g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
        assert!(circle(&g).is_none());
        g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
        assert_eq!(circle(&g).unwrap(), ["a", "b", "c", "a"]);
    }
}
