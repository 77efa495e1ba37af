//! Every agreement document and report, rasterised page by page and read by poppler, which
//! also vouches for the lopdf reader the rest of the suite reads documents with; and Chinese
//! documents set in a full system font instead of the built-in subset.

use std::sync::Arc;

use chrono::NaiveDate;
use usefirst::documents::model::KINDS;
use usefirst::documents::templates::{sample_context, ContractTemplates};
use usefirst::reports;
use usefirst::typeset::format::LANGS;
use usefirst::typeset::markup::Block;
use usefirst::typeset::pdf::{self, CjkSource, Fonts, Layout, PdfError, Rendered, Signature};

use crate::pdf_reader::Pdf;
use crate::poppler;

/// Debian's fonts-noto-cjk; face 2 is Simplified Chinese.
const SYSTEM_CJK: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

fn document(fonts: &Fonts, kind: &str, lang: &str) -> Rendered {
    let templates =
        ContractTemplates::load(Some(std::path::Path::new("contract-templates"))).unwrap();
    let ctx = sample_context(kind, lang, true);
    let blocks = templates.render(kind, lang, &ctx).unwrap();
    let signatures: Vec<Signature> = serde_json::from_value(ctx["signatures"].clone()).unwrap();
    pdf::render(fonts, &layout(lang, &blocks, &signatures)).unwrap()
}

fn layout<'a>(lang: &'a str, blocks: &'a [Block], signatures: &'a [Signature]) -> Layout<'a> {
    Layout {
        lang,
        blocks,
        signatures,
        number: "UF-2026-000123",
        terms_version: 2,
        date: NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        id_seed: "system-test",
        verify: None,
    }
}

/// Every document kind in every language and the monthly report (final, provisional and
/// empty) in each of its languages, named.
fn everything() -> Vec<(String, Rendered)> {
    let fonts = Fonts::new(None);
    let mut out = Vec::new();
    for kind in KINDS {
        for lang in LANGS {
            out.push((format!("{kind}-{lang}"), document(&fonts, kind, lang)));
        }
    }
    let mut provisional = reports::sample::report();
    provisional.provisional = true;
    let mut empty = reports::sample::report();
    empty.by_month.clear();
    empty.by_institute.clear();
    empty.top_by_trials.clear();
    empty.amounts.clear();
    for (name, report) in [
        ("report", reports::sample::report()),
        ("provisional", provisional),
        ("empty", empty),
    ] {
        for lang in ["vi", "en"] {
            let rendered = reports::pdf::render(&fonts, &report, lang, None).unwrap();
            out.push((format!("{name}-{lang}"), rendered));
        }
    }
    out
}

/// Every page rasterises (poppler draws the whole document, fonts included); set
/// `USEFIRST_KEEP_PAGES=1` to keep the PNGs in `$TMPDIR/usefirst-pages` and look at them.
#[test]
fn every_page_of_every_document_and_report_rasterises() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = if std::env::var_os("USEFIRST_KEEP_PAGES").is_some() {
        std::env::temp_dir().join("usefirst-pages")
    } else {
        tmp.path().to_path_buf()
    };
    std::fs::create_dir_all(&dir).unwrap();
    let all = everything();
    assert_eq!(all.len(), KINDS.len() * LANGS.len() + 6);
    for (name, rendered) in &all {
        assert_eq!(
            poppler::page_count(&rendered.bytes),
            rendered.pages,
            "{name}"
        );
        let drawn = poppler::rasterise(&rendered.bytes, &dir, name, 60);
        assert_eq!(drawn, rendered.pages, "{name}: pages drawn");
    }
}

/// The lopdf reader the unit and API tests read documents with agrees with poppler: every
/// line it reads is in poppler's text (white space aside), on the same page, and both list
/// the same fonts, embedded, subset and searchable.
#[test]
fn the_suites_pdf_reader_reads_what_poppler_reads() {
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    for (name, rendered) in everything() {
        let ours = Pdf::read(&rendered.bytes);
        let theirs = poppler::text(&rendered.bytes);
        let their_pages: Vec<String> = theirs.split('\u{c}').map(squeeze).collect();
        assert!(their_pages.len() >= ours.page_count(), "{name}");
        let mut lines = 0;
        for (n, page) in ours.pages.iter().enumerate() {
            for line in &page.lines {
                let line = squeeze(&line.text);
                if line.is_empty() {
                    continue;
                }
                assert!(
                    their_pages[n].contains(&line),
                    "{name} page {}: {line:?} not in poppler's text:\n{}",
                    n + 1,
                    theirs.split('\u{c}').nth(n).unwrap_or_default()
                );
                lines += 1;
            }
        }
        assert!(lines > 20, "{name}: {lines} lines");

        let mut ours: Vec<(String, bool, bool, bool)> = ours
            .fonts
            .iter()
            .map(|f| (f.name.clone(), f.embedded, f.subset, f.to_unicode))
            .collect();
        let mut theirs = poppler::fonts(&rendered.bytes);
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{name}: fonts");
    }
}

/// `documents.cjk_font` still selects a full system font: it sets Chinese documents (fonts
/// embedded and subset as ever), and a character only the full face has prints with it and
/// is refused, named, with the built-in subset.
#[test]
fn a_full_system_cjk_font_replaces_the_built_in_face() {
    assert!(
        std::path::Path::new(SYSTEM_CJK).is_file(),
        "{SYSTEM_CJK} (fonts-noto-cjk, scripts/install-deps.sh)"
    );
    let system: Arc<Fonts> = Fonts::new(Some(CjkSource {
        path: SYSTEM_CJK.into(),
        index: 2,
    }));
    assert_eq!(system.cjk_status().unwrap(), SYSTEM_CJK);
    let built_in = Fonts::new(None);
    for kind in KINDS {
        let full = document(&system, kind, "zh");
        let subset = document(&built_in, kind, "zh");
        assert!(full.bytes != subset.bytes, "{kind}: the same bytes");
        let fonts = poppler::fonts(&full.bytes);
        assert_eq!(fonts.len(), 3, "{kind}: {fonts:?}");
        assert!(fonts.iter().all(|f| f.1 && f.2 && f.3), "{kind}: {fonts:?}");
        // The same words either way.
        let squeeze = |pdf: &[u8]| {
            poppler::text(pdf)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
        };
        assert_eq!(squeeze(&full.bytes), squeeze(&subset.bytes), "{kind}");
    }
    // U+5F73 and U+4E8D are GB 2312 level 2, outside the built-in subset. They are written
    // as code points: scripts/subset-cjk-font.sh adds every character the sources spell out.
    let rare: String = [0x5F73, 0x4E8D]
        .into_iter()
        .filter_map(char::from_u32)
        .collect();
    let text = format!("{rare}而行");
    let blocks = vec![Block::Paragraph(text.clone())];
    let rendered = pdf::render(&system, &layout("zh", &blocks, &[])).unwrap();
    assert!(poppler::text(&rendered.bytes).contains(&text));
    let refused = pdf::render(&built_in, &layout("zh", &blocks, &[])).unwrap_err();
    assert!(
        matches!(refused, PdfError::NoGlyph { ch } if rare.contains(ch)),
        "{refused}"
    );
}
