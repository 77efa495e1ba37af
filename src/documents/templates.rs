//! Contract templates: one text template per document kind and language, loaded at start from
//! a folder an operator may edit, and checked then, so wording changes need no rebuild and a
//! broken template stops the service before it produces a wrong document.
//!
//! Templates are minijinja, strict about undefined values: a template that names a field the
//! documents do not provide is refused at start with its file and line. They render to the
//! markup of [`super::markup`].

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use serde_json::{json, Value};

use super::format::LANGS;
use super::markup::{self, Block};

/// The documents usefirst produces.
pub const KINDS: [&str; 2] = ["trial-agreement", "conversion-contract"];

/// The shipped templates, used when no folder is configured and `contract-templates/` is not
/// beside the working directory.
const BUILT_IN: [(&str, &str); 6] = [
    (
        "trial-agreement.vi.txt",
        include_str!("../../contract-templates/trial-agreement.vi.txt"),
    ),
    (
        "trial-agreement.en.txt",
        include_str!("../../contract-templates/trial-agreement.en.txt"),
    ),
    (
        "trial-agreement.zh.txt",
        include_str!("../../contract-templates/trial-agreement.zh.txt"),
    ),
    (
        "conversion-contract.vi.txt",
        include_str!("../../contract-templates/conversion-contract.vi.txt"),
    ),
    (
        "conversion-contract.en.txt",
        include_str!("../../contract-templates/conversion-contract.en.txt"),
    ),
    (
        "conversion-contract.zh.txt",
        include_str!("../../contract-templates/conversion-contract.zh.txt"),
    ),
];

/// The file a kind and language is read from.
pub fn file_name(kind: &str, lang: &str) -> String {
    format!("{kind}.{lang}.txt")
}

/// The checked templates of every kind and language.
pub struct ContractTemplates {
    env: minijinja::Environment<'static>,
    /// Where they came from, for messages: a folder, or "built-in".
    origin: String,
}

impl std::fmt::Debug for ContractTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContractTemplates")
            .field("origin", &self.origin)
            .finish()
    }
}

impl ContractTemplates {
    /// Loads from `dir` when given (every file must be there); otherwise from
    /// `contract-templates/` if it exists, else the built-in copies.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<ContractTemplates> {
        let dir: Option<PathBuf> = match dir {
            Some(dir) => Some(dir.to_path_buf()),
            None => Some(PathBuf::from("contract-templates")).filter(|d| d.is_dir()),
        };
        match dir {
            Some(dir) => {
                let mut files = Vec::new();
                for kind in KINDS {
                    for lang in LANGS {
                        let name = file_name(kind, lang);
                        let path = dir.join(&name);
                        let text = std::fs::read_to_string(&path).with_context(|| {
                            format!("reading contract template {}", path.display())
                        })?;
                        files.push((name, text));
                    }
                }
                Self::from_sources(&dir.display().to_string(), files)
            }
            None => Self::from_sources(
                "built-in",
                BUILT_IN
                    .iter()
                    .map(|(n, t)| (n.to_string(), t.to_string()))
                    .collect(),
            ),
        }
    }

    /// Parses and checks the templates named by file: each kind and language must be present,
    /// parse, render with every field the documents provide (with and without the optional
    /// parts) and give valid markup. Errors name the file and line.
    pub fn from_sources(
        origin: &str,
        files: Vec<(String, String)>,
    ) -> anyhow::Result<ContractTemplates> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // The output is markup for the PDF layout, not HTML: nothing to escape.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_keep_trailing_newline(true);
        let at = |name: &str, line: Option<usize>| match line {
            Some(line) => format!("{origin}/{name}:{line}"),
            None => format!("{origin}/{name}"),
        };
        for (name, text) in files {
            let known = KINDS
                .iter()
                .any(|k| LANGS.iter().any(|l| file_name(k, l) == name));
            if !known {
                return Err(anyhow!(
                    "{}: not a contract template (expected KIND.LANG.txt with KIND one of {} and LANG one of {})",
                    at(&name, None),
                    KINDS.join(", "),
                    LANGS.join(", ")
                ));
            }
            let line_of = |e: &minijinja::Error| e.line();
            env.add_template_owned(name.clone(), text)
                .map_err(|e| anyhow!("{}: {}", at(&name, line_of(&e)), describe(&e)))?;
        }
        let templates = ContractTemplates {
            env,
            origin: origin.to_string(),
        };
        for kind in KINDS {
            for lang in LANGS {
                let name = file_name(kind, lang);
                if templates.env.get_template(&name).is_err() {
                    return Err(anyhow!("{}: missing", at(&name, None)));
                }
                for full in [true, false] {
                    let ctx = sample_context(kind, lang, full);
                    let template = templates
                        .env
                        .get_template(&name)
                        .map_err(|e| anyhow!("{}: {}", at(&name, e.line()), describe(&e)))?;
                    let text = template.render(&ctx).map_err(|e| {
                        let unknown = unknown_fields(&template, &ctx);
                        let mut message = format!("{}: {}", at(&name, e.line()), describe(&e));
                        if !unknown.is_empty() {
                            message.push_str(&format!(" (no such field: {})", unknown.join(", ")));
                        }
                        anyhow!(message)
                    })?;
                    markup::parse(&text).map_err(|e| {
                        anyhow!(
                            "{}: line {} of its output: {}",
                            at(&name, None),
                            e.line,
                            e.message
                        )
                    })?;
                }
            }
        }
        Ok(templates)
    }

    /// Where the templates came from (a folder, or "built-in").
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Renders `kind` in `lang` with `ctx` into blocks.
    pub fn render(&self, kind: &str, lang: &str, ctx: &Value) -> anyhow::Result<Vec<Block>> {
        let name = file_name(kind, lang);
        let text = self
            .env
            .get_template(&name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| anyhow!("{}/{name}: {}", self.origin, describe(&e)))?;
        markup::parse(&text).map_err(|e| {
            anyhow!(
                "{}/{name}: output line {}: {}",
                self.origin,
                e.line,
                e.message
            )
        })
    }
}

/// The dotted names the template reads that the context does not have.
fn unknown_fields(template: &minijinja::Template<'_, '_>, ctx: &Value) -> Vec<String> {
    let mut unknown: Vec<String> = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|path| {
            let mut at = ctx;
            path.split('.').any(|part| match at.get(part) {
                Some(next) => {
                    at = next;
                    false
                }
                None => true,
            })
        })
        .collect();
    unknown.sort();
    unknown
}

/// A minijinja error without its own location suffix (the caller names file and line).
fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Every field a document's template may use, with believable values; `full = false` leaves
/// the optional parts (insurance, distribution) out. Documents built from an agreement have
/// exactly these fields.
pub fn sample_context(kind: &str, lang: &str, full: bool) -> Value {
    let optional = |v: Value| if full { v } else { Value::Null };
    json!({
        "doc": {
            "kind": kind,
            "lang": lang,
            "number": "UF-2026-000123",
            "terms_version": 2,
            "date": "15/01/2027",
        },
        "institute": {
            "name": "Viện Nghiên cứu Cơ khí",
            "registration_no": "0100100079",
            "province": "Hà Nội",
            "contact_email": "contact@narime.example",
        },
        "sme": {
            "name": "Công ty TNHH Cơ khí Bình Dương",
            "registration_no": "3702456789",
            "province": "Bình Dương",
            "contact_email": "info@ckbd.example",
        },
        "technology": {
            "title": "Dây chuyền sấy nông sản tiết kiệm năng lượng",
            "field": "Cơ khí",
            "ip_type": "Bằng độc quyền sáng chế",
            "ip_reference": "1-0023456",
        },
        "trial": {
            "start": "15/01/2027",
            "end": "14/04/2027",
            "days": "90 ngày",
            "decision_days": "30 ngày",
            "decision_deadline": "14/05/2027",
            "place_of_use": "Xưởng sản xuất, Bình Dương",
        },
        "terms": {
            "model": "Trả góp",
            "currency": "VND",
            "rows": [
                {"label": "Tổng giá", "value": "1.500.000.000 ₫"},
                {"label": "Số kỳ", "value": "6"},
            ],
        },
        "insurance": optional(json!({
            "insurer": "Bảo hiểm Bảo Việt",
            "risks": "rủi ro triển khai thất bại",
            "coverage": "500.000.000 ₫",
            "premium": "10.000.000 ₫",
            "sme_pays": "3.000.000 ₫",
            "institute_pays": "2.000.000 ₫",
            "subsidy": "5.000.000 ₫",
        })),
        "distribution": optional(json!({
            "institute": "50%",
            "inventors": "40%",
            "intermediary": "10%",
        })),
        "contract": {
            "converted_on": "20/04/2027",
            "schedule": [
                {"due": "20/05/2027", "item": "Kỳ 1/6", "amount": "250.000.000 ₫"},
            ],
        },
        "signatures": [
            {"party": "Bên A", "organisation": "Viện Nghiên cứu Cơ khí", "signed_by": "Nguyễn Văn An", "signed_at": "10/01/2027 09:30"},
            {"party": "Bên B", "organisation": "Công ty TNHH Cơ khí Bình Dương", "signed_by": "", "signed_at": ""},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Vec<(String, String)> {
        BUILT_IN
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn the_shipped_templates_pass_their_checks() {
        let t = ContractTemplates::from_sources("built-in", shipped()).unwrap();
        for kind in KINDS {
            for lang in LANGS {
                let blocks = t
                    .render(kind, lang, &sample_context(kind, lang, true))
                    .unwrap();
                assert!(matches!(blocks[0], Block::Title(_)), "{kind}.{lang}");
                assert!(blocks.contains(&Block::Signatures), "{kind}.{lang}");
                let text = format!("{blocks:?}");
                for value in [
                    "UF-2026-000123",
                    "Viện Nghiên cứu Cơ khí",
                    "0100100079",
                    "3702456789",
                    "1-0023456",
                    "Xưởng sản xuất, Bình Dương",
                    "1.500.000.000 ₫",
                    "5.000.000 ₫",
                    "40%",
                ] {
                    assert!(text.contains(value), "{kind}.{lang} lacks {value}");
                }
            }
        }
    }

    #[test]
    fn an_unknown_field_is_refused_with_file_and_line() {
        let mut files = shipped();
        let (_, text) = files
            .iter_mut()
            .find(|(n, _)| n == "trial-agreement.en.txt")
            .unwrap();
        *text = text.replacen(
            "## Article 4. Confidentiality",
            "## Article 4. Confidentiality {{ sme.bank_account }}",
            1,
        );
        let line = text
            .lines()
            .position(|l| l.contains("bank_account"))
            .unwrap()
            + 1;
        let err = ContractTemplates::from_sources("contract-templates", files)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "contract-templates/trial-agreement.en.txt:{line}: "
            )),
            "{err}"
        );
        assert!(err.contains("undefined"), "{err}");
        assert!(err.ends_with("(no such field: sme.bank_account)"), "{err}");
    }

    #[test]
    fn syntax_errors_missing_and_stray_files_are_refused() {
        let mut files = shipped();
        files[3].1.push_str("\n{% if %}\n");
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t/conversion-contract.vi.txt:"), "{err}");

        let mut files = shipped();
        files.remove(2);
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t/trial-agreement.zh.txt: missing");

        let mut files = shipped();
        files.push(("trial-agreement.fr.txt".into(), "# T\n".into()));
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t/trial-agreement.fr.txt: not a contract template"),
            "{err}"
        );

        let mut files = shipped();
        files[0].1 = files[0]
            .1
            .replacen("| Khoản mục | Giá trị |", "| Khoản mục |", 1);
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert!(err.contains("table row has 2 cells"), "{err}");
    }

    #[test]
    fn a_folder_is_read_file_by_file() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in shipped() {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let t = ContractTemplates::load(Some(dir.path())).unwrap();
        assert_eq!(t.origin(), dir.path().display().to_string());
        std::fs::remove_file(dir.path().join("conversion-contract.en.txt")).unwrap();
        let err = format!(
            "{:#}",
            ContractTemplates::load(Some(dir.path())).unwrap_err()
        );
        assert!(err.contains("conversion-contract.en.txt"), "{err}");
    }
}
