//! The shipped contract templates set by the PDF engine (`typeset::pdf`): every kind in every
//! language read back from its PDF, and every character of the Chinese ones in a built-in
//! face.

use chrono::NaiveDate;

use super::model::KINDS;
use super::templates::{sample_context, ContractTemplates};
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
