//! The shipped contract templates set by the PDF engine (`typeset::pdf`): every kind in every
//! language read back from its PDF, and every character of the Chinese ones in a built-in
//! face.

use chrono::NaiveDate;

use super::model::KINDS;
use super::templates::{built_in, sample_context, ContractTemplates};
use crate::typeset::format::LANGS;
use crate::typeset::markup::Block;
use crate::typeset::pdf::reader::Pdf;
use crate::typeset::pdf::tests::text_of;
use crate::typeset::pdf::{labels, render, Fonts, Layout, Signature};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
}

/// The blocks and signatures of the shipped template for `kind` and `lang`.
fn sample(kind: &str, lang: &str) -> (Vec<Block>, Vec<Signature>) {
    let templates =
        ContractTemplates::load(Some(std::path::Path::new("contract-templates"))).unwrap();
    let ctx = sample_context(kind, lang, true);
    let blocks = templates.render(kind, lang, &ctx).unwrap();
    let signatures = serde_json::from_value(ctx["signatures"].clone()).unwrap();
    (blocks, signatures)
}

fn layout<'a>(lang: &'a str, blocks: &'a [Block], signatures: &'a [Signature]) -> Layout<'a> {
    Layout {
        lang,
        blocks,
        signatures,
        number: "UF-2026-000123",
        terms_version: 2,
        date: day(),
        id_seed: "agreement-1:7:trial-agreement",
        verify: None,
    }
}

#[test]
fn every_kind_and_language_holds_its_text_in_embedded_subset_fonts() {
    let fonts = Fonts::new(None);
    for kind in KINDS {
        for lang in LANGS {
            let (blocks, signatures) = sample(kind, lang);
            let rendered = render(&fonts, &layout(lang, &blocks, &signatures)).unwrap();
            let at = format!("{kind}.{lang}");
            let text = text_of(&rendered.bytes, lang);
            // Every block, every table cell, every value inserted into them.
            for block in &blocks {
                match block {
                    Block::Table { header, rows } => {
                        for cell in header.iter().chain(rows.iter().flatten()) {
                            assert!(text.contains(cell.as_str()), "{at}: cell {cell:?} missing");
                        }
                    }
                    Block::Signatures => {}
                    b => {
                        let t = b.text();
                        assert!(text.contains(&t), "{at}: {t:?} missing from\n{text}");
                    }
                }
            }
            for value in [
                "UF-2026-000123",
                "Viện Nghiên cứu Cơ khí",
                "Công ty TNHH Cơ khí Bình Dương",
                "0100100079",
                "1.500.000.000 ₫",
                "5.000.000 ₫",
                "Nguyễn Văn An",
            ] {
                assert!(text.contains(value), "{at}: {value} missing");
            }
            let date = crate::typeset::format::date(lang, day());
            assert!(text.contains(&date), "{at}: {date} missing");
            let signed =
                crate::typeset::format::date(lang, NaiveDate::from_ymd_opt(2027, 1, 10).unwrap());
            let sep = if lang == "zh" { "" } else { " " };
            let signed_on = format!("{}{sep}{signed}", labels(lang).signed_at);
            assert!(text.contains(&signed_on), "{at}: {signed_on}");
            assert!(
                text.contains(labels(lang).unsigned),
                "{at}: the unsigned party"
            );
            // Footer on every page: the number, the terms version, page n of N.
            let raw = Pdf::read(&rendered.bytes).text();
            let l = labels(lang);
            for p in 1..=rendered.pages {
                assert!(raw.contains(&(l.page)(p, rendered.pages)), "{at}: page {p}");
            }
            assert_eq!(
                raw.matches(&(l.footer)("UF-2026-000123", 2)).count(),
                rendered.pages,
                "{at}: a footer on every page"
            );
            assert_eq!(
                Pdf::read(&rendered.bytes).page_count(),
                rendered.pages,
                "{at}"
            );

            let expected = if lang == "zh" { 3 } else { 2 };
            Pdf::read(&rendered.bytes).assert_fonts_embedded_and_subset(expected, &at);
        }
    }
}

#[path = "../../tests/support/qr_reader.rs"]
mod qr_reader;

/// A document carries the link to check it: the QR code on its first page reads as the
/// link, and every page prints the link and the code under its footer, in each language.
#[test]
fn every_document_carries_its_check_link_as_a_qr_code_and_in_print() {
    use crate::typeset::pdf::Verify;
    let fonts = Fonts::new(None);
    let url = "https://usefirst.example.vn/verify/7K3M0QRS1TVW9XYZ2AB4";
    let code = "7K3M-0QRS-1TVW-9XYZ-2AB4";
    for lang in LANGS {
        let (blocks, signatures) = sample("trial-agreement", lang);
        let mut with = layout(lang, &blocks, &signatures);
        with.verify = Some(Verify { url, code });
        let rendered = render(&fonts, &with).unwrap();
        assert_eq!(
            qr_reader::first_page_qr(&rendered.bytes).as_deref(),
            Some(url),
            "{lang}: the QR code"
        );
        let raw = Pdf::read(&rendered.bytes).text();
        let line = (labels(lang).verify)(url, code);
        assert_eq!(
            raw.matches(&line).count(),
            rendered.pages,
            "{lang}: {line} on every page of\n{raw}"
        );
        // The same inputs, the same bytes.
        assert_eq!(render(&fonts, &with).unwrap().bytes, rendered.bytes);
        // Without it, no code at all.
        let without = render(&fonts, &layout(lang, &blocks, &signatures)).unwrap();
        assert_eq!(qr_reader::first_page_qr(&without.bytes), None);
    }
}

/// The contents Article 23 of Vietnam's Law on Technology Transfer (No. 07/2017/QH14)
/// requires of a technology transfer contract, each with the heading of the conversion
/// contract's article that covers it in Vietnamese, English and Chinese.
const ART_23: [(&str, [&str; 3]); 13] = [
    (
        "name of the technology",
        [
            "Tên công nghệ chuyển giao",
            "Name of the technology",
            "技术名称",
        ],
    ),
    (
        "subject of the technology and its products",
        [
            "Đối tượng công nghệ và sản phẩm",
            "Subject of the transfer and products",
            "转让标的及产品",
        ],
    ),
    (
        "ownership or right of use transferred",
        [
            "Quyền sở hữu, quyền sử dụng công nghệ",
            "Ownership and right of use",
            "所有权与使用权",
        ],
    ),
    (
        "method of transfer",
        ["Phương thức chuyển giao", "Method of transfer", "转让方式"],
    ),
    (
        "rights and obligations of the parties",
        [
            "Quyền và nghĩa vụ của các bên",
            "Rights and obligations of the parties",
            "双方的权利与义务",
        ],
    ),
    (
        "price and payment",
        [
            "Giá và phương thức thanh toán",
            "Price and payment",
            "价款与支付方式",
        ],
    ),
    (
        "term and effect of the contract",
        [
            "Thời hạn và hiệu lực của hợp đồng",
            "Term and effect",
            "合同期限与效力",
        ],
    ),
    (
        "definitions",
        ["Giải thích từ ngữ", "Definitions", "名词和术语"],
    ),
    (
        "plan, schedule and place of transfer",
        [
            "Kế hoạch, tiến độ và địa điểm chuyển giao",
            "Plan, schedule and place of transfer",
            "转让计划、进度和地点",
        ],
    ),
    ("warranty", ["Bảo hành công nghệ", "Warranty", "技术保证"]),
    (
        "penalties for breach",
        ["Phạt vi phạm hợp đồng", "Penalties for breach", "违约金"],
    ),
    (
        "liability for damage",
        ["Bồi thường thiệt hại", "Liability for damage", "损害赔偿"],
    ),
    (
        "dispute resolution",
        ["Giải quyết tranh chấp", "Dispute resolution", "争议解决"],
    ),
];

/// The Article 23 items whose heading no line of the PDF holds: a heading line starts with
/// the article's number (`Điều 3.`, `Article 3.`, `第三条`) and holds the item's heading.
fn art_23_missing(pdf: &[u8], lang: &str) -> Vec<&'static str> {
    let column = LANGS.iter().position(|l| *l == lang).unwrap();
    let article = ["Điều ", "Article ", "第"][column];
    let rows = Pdf::read(pdf).rows();
    ART_23
        .iter()
        .filter(|(_, headings)| {
            !rows
                .iter()
                .any(|r| r.starts_with(article) && r.contains(headings[column]))
        })
        .map(|(item, _)| *item)
        .collect()
}

/// The conversion contract in `lang` from `templates`, rendered to a PDF.
fn contract_pdf(templates: &ContractTemplates, lang: &str) -> Vec<u8> {
    let kind = "conversion-contract";
    let ctx = sample_context(kind, lang, false);
    let blocks = templates.render(kind, lang, &ctx).unwrap();
    let signatures: Vec<Signature> = serde_json::from_value(ctx["signatures"].clone()).unwrap();
    render(&Fonts::new(None), &layout(lang, &blocks, &signatures))
        .unwrap()
        .bytes
}

#[test]
fn the_conversion_contract_covers_every_item_of_article_23_in_each_language() {
    assert_eq!(LANGS, ["vi", "en", "zh"], "the table's columns");
    let templates = ContractTemplates::from_sources("t", built_in()).unwrap();
    for lang in LANGS {
        let missing = art_23_missing(&contract_pdf(&templates, lang), lang);
        assert!(
            missing.is_empty(),
            "conversion-contract.{lang} lacks Art. 23 items: {}",
            missing.join(", ")
        );
    }
}

#[test]
fn a_contract_without_an_article_23_heading_is_named() {
    for (lang, heading) in [
        ("vi", "## Điều 11. Bảo hành công nghệ\n"),
        ("en", "## Article 11. Warranty\n"),
        ("zh", "## 第十一条 技术保证\n"),
    ] {
        let mut files = built_in();
        let name = format!("conversion-contract.{lang}.txt");
        let (_, text) = files.iter_mut().find(|(n, _)| *n == name).unwrap();
        assert!(text.contains(heading), "{name}");
        *text = text.replacen(heading, "", 1);
        let templates = ContractTemplates::from_sources("t", files).unwrap();
        assert_eq!(
            art_23_missing(&contract_pdf(&templates, lang), lang),
            ["warranty"],
            "{lang}"
        );
    }
}

#[test]
fn each_rule_for_improvements_is_printed_in_both_documents_and_every_language() {
    use serde_json::json;
    let templates = ContractTemplates::from_sources("t", built_in()).unwrap();
    // Words only the clause for that owner (and licence back) holds, per language.
    let cases: [(serde_json::Value, [&str; 3]); 7] = [
        (
            json!({"owner": "sme", "licence_back": true}),
            [
                "thuộc quyền sở hữu của Bên B. Bên B cấp cho Bên A quyền sử dụng không độc quyền, không thu phí và không thời hạn",
                "belongs to Party B. Party B grants Party A a non-exclusive, royalty-free, perpetual licence",
                "归乙方所有。乙方授予甲方非独占、免费、永久的许可",
            ],
        ),
        (
            json!({"owner": "sme", "licence_back": false}),
            [
                "Bên A không được sử dụng cải tiến đó",
                "Party A has no right to use it",
                "甲方不得使用该改进",
            ],
        ),
        (
            json!({"owner": "institute", "licence_back": true}),
            [
                "Bên A cấp cho Bên B quyền sử dụng không độc quyền, không thu phí",
                "Party A grants Party B a non-exclusive, royalty-free licence",
                "甲方授予乙方非独占、免费的许可",
            ],
        ),
        (
            json!({"owner": "institute", "licence_back": false}),
            [
                "hợp đồng cấp phép riêng với Bên A",
                "a separate licence from Party A",
                "与甲方另行签订的许可合同",
            ],
        ),
        (
            json!({"owner": "joint", "licence_back": true}),
            [
                "không cần sự đồng ý của bên kia",
                "without the other's consent",
                "无需对方同意",
            ],
        ),
        (
            json!({"owner": "joint", "licence_back": false}),
            [
                "phải được cả hai bên đồng ý bằng văn bản",
                "requires the written consent of both",
                "须经双方书面同意",
            ],
        ),
        (
            serde_json::Value::Null,
            [
                "không quy định về cải tiến",
                "do not allocate improvements",
                "未约定改进的归属",
            ],
        ),
    ];
    for kind in KINDS {
        for (column, lang) in LANGS.iter().enumerate() {
            for (rule, words) in &cases {
                let mut ctx = sample_context(kind, lang, true);
                ctx["improvements"] = rule.clone();
                let blocks = templates.render(kind, lang, &ctx).unwrap();
                let at = format!("{kind}.{lang} {rule}");
                let clause: Vec<String> = blocks
                    .iter()
                    .map(Block::text)
                    .filter(|t| t.contains(words[column]))
                    .collect();
                assert_eq!(clause.len(), 1, "{at}: {}", words[column]);
                // No other rule's words beside it.
                for (other, other_words) in &cases {
                    if other != rule && !words[column].contains(other_words[column]) {
                        assert!(
                            !clause[0].contains(other_words[column]),
                            "{at}: also {other}"
                        );
                    }
                }
            }
        }
    }
}
