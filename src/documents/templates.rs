//! Contract templates: one text template per document kind and language, loaded at start from
//! a folder an operator may edit, and checked then, so wording changes need no rebuild and a
//! broken template stops the service before it produces a wrong document.
//!
//! Templates are minijinja, strict about undefined values: a template that names a field the
//! documents do not provide is refused at start with its file and line. They render to the
//! markup of [`crate::typeset::markup`].

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use serde_json::{json, Value};

use super::model::KINDS;
use crate::typeset::format::LANGS;
use crate::typeset::markup::{self, Block};

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
    /// Loads from `dir` when given, otherwise from `contract-templates/` if it exists, else the
    /// built-in copies. A folder must hold every kind and language and no other `.txt` file
    /// (a misnamed file would otherwise be ignored without a word).
    pub fn load(dir: Option<&Path>) -> anyhow::Result<ContractTemplates> {
        let dir: Option<PathBuf> = match dir {
            Some(dir) => Some(dir.to_path_buf()),
            None => Some(PathBuf::from("contract-templates")).filter(|d| d.is_dir()),
        };
        let Some(dir) = dir else {
            return Self::from_sources("built-in", built_in());
        };
        let entries = std::fs::read_dir(&dir)
            .with_context(|| format!("reading the contract templates folder {}", dir.display()))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "txt") {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading contract template {}", path.display()))?;
                files.push((name, text));
            }
        }
        files.sort();
        Self::from_sources(&dir.display().to_string(), files)
    }

    /// Parses and checks the templates named by file: each kind and language must be present
    /// and nothing else, and each must parse, render with every field the documents provide
    /// (with and without the optional parts) and give valid markup. Errors name the file and
    /// line.
    pub fn from_sources(
        origin: &str,
        files: Vec<(String, String)>,
    ) -> anyhow::Result<ContractTemplates> {
        let mut env = crate::templating::text_environment();
        env.set_keep_trailing_newline(true);
        // Inserted values cannot break the markup: no line breaks, `|` escaped.
        env.set_formatter(|out, _state, value| {
            out.write_str(&markup::escape(&value.to_string()))
                .map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
                })
        });
        for (name, text) in files {
            let known = KINDS
                .iter()
                .any(|k| LANGS.iter().any(|l| file_name(k, l) == name));
            if !known {
                return Err(anyhow!(
                    "{origin}/{name}: not a contract template (expected KIND.LANG.txt with KIND one of {} and LANG one of {})",
                    KINDS.join(", "),
                    LANGS.join(", ")
                ));
            }
            env.add_template_owned(name.clone(), text)
                .map_err(|e| anyhow!("{}: {}", at(origin, &name, e.line()), describe(&e)))?;
        }
        let templates = ContractTemplates {
            env,
            origin: origin.to_string(),
        };
        for kind in KINDS {
            for lang in LANGS {
                let name = file_name(kind, lang);
                if templates.env.get_template(&name).is_err() {
                    return Err(anyhow!("{}: missing", at(origin, &name, None)));
                }
                for full in [true, false] {
                    templates.render(kind, lang, &sample_context(kind, lang, full))?;
                }
            }
        }
        Ok(templates)
    }

    /// Where the templates came from (a folder, or "built-in").
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Renders `kind` in `lang` with `ctx` into blocks. An error names the file and line,
    /// and the fields it reads that documents do not have.
    pub fn render(&self, kind: &str, lang: &str, ctx: &Value) -> anyhow::Result<Vec<Block>> {
        let name = file_name(kind, lang);
        let template = self
            .env
            .get_template(&name)
            .map_err(|e| anyhow!("{}: {}", at(&self.origin, &name, None), describe(&e)))?;
        let text = template.render(ctx).map_err(|e| {
            let mut message = format!("{}: {}", at(&self.origin, &name, e.line()), describe(&e));
            // Against every field documents have, so an optional part that is absent here is
            // not reported as unknown.
            let unknown = unknown_fields(&template, &sample_context(kind, lang, true));
            if !unknown.is_empty() {
                message.push_str(&format!(" (no such field: {})", unknown.join(", ")));
            }
            anyhow!(message)
        })?;
        markup::parse(&text).map_err(|e| {
            anyhow!(
                "{}: line {} of its output: {}",
                at(&self.origin, &name, None),
                e.line,
                e.message
            )
        })
    }
}

/// `ORIGIN/FILE:LINE`, or without the line when there is none.
fn at(origin: &str, name: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{origin}/{name}:{line}"),
        None => format!("{origin}/{name}"),
    }
}

/// The shipped templates, by file name.
pub(super) fn built_in() -> Vec<(String, String)> {
    BUILT_IN
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
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

/// Every field a document's template may use, with believable values written for `lang` as
/// documents write them; `full = false` leaves the optional parts (insurance, distribution)
/// out (insurance, distribution, improvements). Documents built from an agreement have exactly
/// these fields.
pub fn sample_context(kind: &str, lang: &str, full: bool) -> Value {
    use crate::typeset::format::{date, days, money, percent};
    let vnd = crate::settlement::money::Currency::parse("VND").expect("VND is a platform currency");
    let day = |y, m, d| {
        date(
            lang,
            chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a real date"),
        )
    };
    let share = |s: &str| percent(lang, s.parse().expect("a decimal share"));
    let optional = |v: Value| if full { v } else { Value::Null };
    json!({
        "doc": {
            "kind": kind,
            "lang": lang,
            "number": "UF-2026-000123",
            "terms_version": 2,
            "date": day(2027, 1, 15),
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
            "start": day(2027, 1, 15),
            "end": day(2027, 4, 14),
            "days": days(lang, 90),
            "decision_days": days(lang, 30),
            "decision_deadline": day(2027, 5, 14),
            "place_of_use": "Xưởng sản xuất, Bình Dương",
        },
        "terms": {
            "model": "Trả góp",
            "currency": "VND",
            "rows": [
                {"label": "Tổng giá", "value": money(vnd, 1_500_000_000)},
                {"label": "Số kỳ", "value": "6"},
            ],
        },
        "insurance": optional(json!({
            "insurer": "Bảo hiểm Bảo Việt",
            "risks": "rủi ro triển khai thất bại",
            "coverage": money(vnd, 500_000_000),
            "premium": money(vnd, 10_000_000),
            "sme_pays": money(vnd, 3_000_000),
            "institute_pays": money(vnd, 2_000_000),
            "subsidy": money(vnd, 5_000_000),
        })),
        "distribution": optional(json!({
            "institute": share("0.5"),
            "inventors": share("0.4"),
            "intermediary": share("0.1"),
        })),
        "improvements": optional(json!({"owner": "sme", "licence_back": true})),
        // A conversion contract's later edition, once its certificate is entered.
        "registration": if kind == "conversion-contract" { optional(json!({
            "jurisdiction": "vn",
            "number": "15/2027/GCN-ĐKCGCN",
            "date": day(2027, 6, 2),
            "office": "Bộ Khoa học và Công nghệ",
            "vat_exemption_ref": "",
        })) } else { Value::Null },
        "contract": {
            "converted_on": day(2027, 4, 20),
            "schedule": [
                {"due": day(2027, 5, 20), "item": "Kỳ 1/6", "amount": money(vnd, 250_000_000)},
            ],
        },
        "transfer": {
            "method": "chuyển giao tài liệu kỹ thuật và đào tạo",
            "place": "Xưởng sản xuất, Bình Dương",
            "deadline": day(2027, 5, 20),
            "handover_days": days(lang, 30),
        },
        "signatures": [
            {"party": "Bên A", "organisation": "Viện Nghiên cứu Cơ khí", "signed_by": "Nguyễn Văn An", "signed_at": day(2027, 1, 10)},
            {"party": "Bên B", "organisation": "Công ty TNHH Cơ khí Bình Dương", "signed_by": "", "signed_at": ""},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped templates with `name` changed by `edit`.
    fn shipped_with(name: &str, edit: impl FnOnce(&mut String)) -> Vec<(String, String)> {
        let mut files = built_in();
        let (_, text) = files.iter_mut().find(|(n, _)| n == name).unwrap();
        edit(text);
        files
    }

    /// The text of the first block that contains `needle`.
    fn block_with(blocks: &[Block], needle: &str) -> Option<String> {
        blocks.iter().map(Block::text).find(|t| t.contains(needle))
    }

    #[test]
    fn the_shipped_templates_hold_every_value_where_it_belongs() {
        let t = ContractTemplates::from_sources("built-in", built_in()).unwrap();
        for kind in KINDS {
            for lang in LANGS {
                let ctx = sample_context(kind, lang, true);
                let blocks = t.render(kind, lang, &ctx).unwrap();
                let at = format!("{kind}.{lang}");
                assert!(block_with(&blocks, "UF-2026-000123").is_some(), "{at}");
                assert_eq!(blocks.last(), Some(&Block::Signatures), "{at}");
                // The parties, each with its registration number, in one paragraph.
                for (name, reg) in [
                    ("Viện Nghiên cứu Cơ khí", "0100100079"),
                    ("Công ty TNHH Cơ khí Bình Dương", "3702456789"),
                ] {
                    let p = block_with(&blocks, name).unwrap_or_default();
                    assert!(p.contains(reg), "{at}: {name} without {reg}: {p}");
                }
                let tech = block_with(&blocks, "1-0023456").unwrap_or_default();
                assert!(tech.contains("Dây chuyền sấy nông sản"), "{at}: {tech}");
                let place = block_with(&blocks, "Xưởng sản xuất, Bình Dương");
                assert!(place.is_some(), "{at}");
                // The terms table has the price row; dates are written for the language.
                let terms = blocks.iter().find_map(|b| match b {
                    Block::Table { rows, .. } if rows.iter().any(|r| r[1] == "1.500.000.000 ₫") => {
                        Some(rows)
                    }
                    _ => None,
                });
                assert!(terms.is_some(), "{at}: no terms table with the price");
                let start = ctx["trial"]["start"].as_str().unwrap();
                assert!(block_with(&blocks, start).is_some(), "{at}: no {start}");
                // Insurance shares and the distribution, present when there are some.
                assert!(
                    block_with(&blocks, "5.000.000 ₫").is_some(),
                    "{at}: subsidy"
                );
                let share = ctx["distribution"]["inventors"].as_str().unwrap();
                assert!(block_with(&blocks, share).is_some(), "{at}: {share}");
            }
        }
        let vi = sample_context("trial-agreement", "vi", true);
        assert_eq!(vi["trial"]["start"], "15/01/2027");
        assert_eq!(
            sample_context("trial-agreement", "zh", true)["trial"]["start"],
            "2027年1月15日"
        );
        assert_eq!(
            sample_context("trial-agreement", "en", true)["trial"]["days"],
            "90 days"
        );
    }

    #[test]
    fn without_insurance_no_premium_is_printed() {
        let t = ContractTemplates::from_sources("built-in", built_in()).unwrap();
        for kind in KINDS {
            for lang in LANGS {
                let blocks = t
                    .render(kind, lang, &sample_context(kind, lang, false))
                    .unwrap();
                assert!(block_with(&blocks, "Bảo Việt").is_none(), "{kind}.{lang}");
                assert!(
                    block_with(&blocks, "5.000.000 ₫").is_none(),
                    "{kind}.{lang}"
                );
            }
        }
    }

    #[test]
    fn an_unknown_field_is_refused_with_file_and_line() {
        let mut line = 0;
        let files = shipped_with("trial-agreement.en.txt", |text| {
            *text = text.replacen(
                "## Article 4. Confidentiality",
                "## Article 4. Confidentiality {{ sme.bank_account }}",
                1,
            );
            line = text
                .lines()
                .position(|l| l.contains("bank_account"))
                .unwrap()
                + 1;
        });
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
    fn an_optional_part_used_outside_its_condition_is_not_called_unknown() {
        let files = shipped_with("trial-agreement.en.txt", |text| {
            *text = text.replacen("## Article 9.", "{{ insurance.premium }}\n## Article 9.", 1);
        });
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t/trial-agreement.en.txt:"), "{err}");
        assert!(!err.contains("no such field"), "{err}");
    }

    #[test]
    fn syntax_errors_missing_and_stray_files_are_refused() {
        let files = shipped_with("conversion-contract.vi.txt", |t| t.push_str("\n{% if %}\n"));
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t/conversion-contract.vi.txt:"), "{err}");

        let mut files = built_in();
        files.retain(|(n, _)| n != "trial-agreement.zh.txt");
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t/trial-agreement.zh.txt: missing");

        let mut files = built_in();
        files.push(("trial-agreement.fr.txt".into(), "# T\n".into()));
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t/trial-agreement.fr.txt: not a contract template"),
            "{err}"
        );

        let files = shipped_with("trial-agreement.vi.txt", |t| {
            *t = t.replacen("| Khoản mục | Giá trị |", "| Khoản mục |", 1);
        });
        let err = ContractTemplates::from_sources("t", files)
            .unwrap_err()
            .to_string();
        assert!(err.contains("table row has 2 cells"), "{err}");
    }

    #[test]
    fn a_folder_must_hold_every_template_and_no_stray_one() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in built_in() {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let t = ContractTemplates::load(Some(dir.path())).unwrap();
        assert_eq!(t.origin(), dir.path().display().to_string());

        std::fs::write(dir.path().join("trial-agreement.vn.txt"), "# T\n").unwrap();
        let err = format!(
            "{:#}",
            ContractTemplates::load(Some(dir.path())).unwrap_err()
        );
        assert!(
            err.contains("trial-agreement.vn.txt: not a contract template"),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("trial-agreement.vn.txt")).unwrap();

        std::fs::remove_file(dir.path().join("conversion-contract.en.txt")).unwrap();
        let err = format!(
            "{:#}",
            ContractTemplates::load(Some(dir.path())).unwrap_err()
        );
        assert!(
            err.ends_with("conversion-contract.en.txt: missing"),
            "{err}"
        );
    }
}
