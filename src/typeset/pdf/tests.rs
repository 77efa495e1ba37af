//! Unit tests of the layout engine: a document in Vietnamese and Chinese read back from its
//! PDF, page breaks and keep-together rules, fonts and glyph fallback, determinism, wrapping
//! and the chart's axis. Every shipped contract template in every language is read back by
//! the tests of `documents::templates`, with [`text_of`].

use std::sync::Arc;

use super::reader::Pdf;

use super::fonts::NOTO_SANS_SC_SUBSET;
use super::parts::axis_step;
use super::text::{wrap, Faces, Style};
use super::*;
use crate::typeset::markup::{is_cjk, parse};

/// The built-in faces, Chinese included: what a machine with nothing installed has.
fn fonts() -> Arc<Fonts> {
    Fonts::new(None)
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
}

/// The parties' signature blocks as a document context gives them: the institute signed, the
/// SME not yet.
fn signatures(lang: &str) -> Vec<Signature> {
    let (a, b, signed_at) = match lang {
        "zh" => ("甲方", "乙方", "2027年1月10日"),
        "en" => ("Party A", "Party B", "10 January 2027"),
        _ => ("Bên A", "Bên B", "10/01/2027"),
    };
    vec![
        Signature {
            party: a.into(),
            organisation: "Viện Nghiên cứu Cơ khí".into(),
            signed_by: "Nguyễn Văn An".into(),
            signed_at: signed_at.into(),
        },
        Signature {
            party: b.into(),
            organisation: "Công ty TNHH Cơ khí Bình Dương".into(),
            signed_by: String::new(),
            signed_at: String::new(),
        },
    ]
}

/// A short agreement in `lang` (`vi` or `zh`): a title, clauses, a table and the signatures.
fn sample(lang: &str) -> (Vec<Block>, Vec<Signature>) {
    let source = match lang {
        "zh" => {
            "# 技术试用协议\n\n## 第一条 双方\n甲方：Viện Nghiên cứu Cơ khí。乙方：Công ty TNHH Cơ khí Bình Dương。\n\n\
             ## 第二条 试用\n乙方在试用期内于平阳省的生产车间使用该技术，试用期为 90 天，\n试用结束后 30 天内决定是否转化。\n\n\
             | 项目 | 金额 |\n| 总价款 | 1.500.000.000 ₫ |\n| 保险费 | 10.000.000 ₫ |\n\n[signatures]\n"
        }
        _ => {
            "# HỢP ĐỒNG DÙNG THỬ CÔNG NGHỆ\n\n## Điều 1. Các bên\nBên A: Viện Nghiên cứu Cơ khí. Bên B: Công ty TNHH Cơ khí Bình Dương.\n\n\
             ## Điều 2. Dùng thử\nBên B dùng thử công nghệ tại xưởng sản xuất ở Bình Dương trong 90 ngày,\nvà quyết định chuyển giao trong 30 ngày sau đó.\n\n\
             | Khoản | Số tiền |\n| Tổng giá | 1.500.000.000 ₫ |\n| Phí bảo hiểm | 10.000.000 ₫ |\n\n[signatures]\n"
        }
    };
    (parse(source).unwrap(), signatures(lang))
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

/// The PDF's text in reading order with the footers of agreement UF-2026-000123 (terms
/// version 2) taken out and the lines joined as the markup joins them (no space between two
/// CJK characters).
pub(crate) fn text_of(pdf: &[u8], lang: &str) -> String {
    let raw = Pdf::read(pdf).text();
    let l = labels(lang);
    let footer = (l.footer)("UF-2026-000123", 2);
    let mut out = String::new();
    for line in raw.lines().map(str::trim) {
        let is_page_label = (1..=99).any(|t| (1..=t).any(|p| line == (l.page)(p, t)));
        if line.is_empty() || line == footer || is_page_label {
            continue;
        }
        let joins_cjk =
            out.chars().last().is_some_and(is_cjk) && line.chars().next().is_some_and(is_cjk);
        if !out.is_empty() && !joins_cjk {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

#[test]
fn a_document_holds_its_text_in_embedded_subset_fonts() {
    let fonts = fonts();
    for lang in ["vi", "zh"] {
        let (blocks, signatures) = sample(lang);
        let rendered = render(&fonts, &layout(lang, &blocks, &signatures)).unwrap();
        let text = text_of(&rendered.bytes, lang);
        for block in &blocks {
            match block {
                Block::Table { header, rows } => {
                    for cell in header.iter().chain(rows.iter().flatten()) {
                        assert!(
                            text.contains(cell.as_str()),
                            "{lang}: cell {cell:?} missing"
                        );
                    }
                }
                Block::Signatures => {}
                b => {
                    let t = b.text();
                    assert!(text.contains(&t), "{lang}: {t:?} missing from\n{text}");
                }
            }
        }
        let signed_on = signatures[0].signed_at.as_str();
        let sep = if lang == "zh" { "" } else { " " };
        let signed_on = format!("{}{sep}{signed_on}", labels(lang).signed_at);
        assert!(text.contains(&signed_on), "{lang}: {signed_on}");
        assert!(text.contains("Nguyễn Văn An"), "{lang}");
        assert!(
            text.contains(labels(lang).unsigned),
            "{lang}: the unsigned party"
        );
        let raw = Pdf::read(&rendered.bytes).text();
        assert_eq!(
            raw.matches(&(labels(lang).footer)("UF-2026-000123", 2))
                .count(),
            rendered.pages,
            "{lang}: a footer on every page"
        );
        let expected = if lang == "zh" { 3 } else { 2 };
        Pdf::read(&rendered.bytes).assert_fonts_embedded_and_subset(expected, lang);
    }
}

#[test]
fn the_same_input_gives_the_same_bytes_and_another_seed_others() {
    let (blocks, signatures) = sample("zh");
    let one = render(&fonts(), &layout("zh", &blocks, &signatures)).unwrap();
    let two = render(&fonts(), &layout("zh", &blocks, &signatures)).unwrap();
    assert!(one.bytes == two.bytes, "two renders differ");
    let mut other = layout("zh", &blocks, &signatures);
    other.id_seed = "agreement-1:8:trial-agreement";
    let three = render(&fonts(), &other).unwrap();
    assert!(three.bytes != one.bytes);
    let text = String::from_utf8_lossy(&one.bytes);
    assert!(!text.contains("GTS_PDFXVersion"));
}

#[test]
fn sixty_clauses_wrap_across_pages_without_losing_a_line() {
    let fonts = fonts();
    let mut blocks = vec![Block::Title("HỢP ĐỒNG DÙNG THỬ CÔNG NGHỆ".into())];
    let mut lines = 0;
    for i in 1..=60 {
        blocks.push(Block::Heading(format!("Điều {i}. Điều khoản số {i}")));
        // Paragraphs of one to eight lines.
        let words = 14 * (1 + i % 8);
        let text: Vec<String> = (0..words)
            .map(|w| format!("từ{i}x{w} trách nhiệm"))
            .collect();
        let text = text.join(" ");
        let faces = Faces::for_text(&fonts, [text.as_str()].into_iter()).unwrap();
        lines += wrap(&faces, &text, Style::Regular, BODY, WIDTH).len() + 1;
        blocks.push(Block::Paragraph(text));
    }
    blocks.push(Block::Signatures);
    let signatures = signatures("vi");
    let rendered = render(&fonts, &layout("vi", &blocks, &signatures)).unwrap();
    // The page count read back is the one laid out, and about what the lines need.
    assert_eq!(Pdf::read(&rendered.bytes).page_count(), rendered.pages);
    let per_page = ((PAGE_H - TOP - BOTTOM) / (BODY * LEADING)) as usize;
    let least = lines.div_ceil(per_page);
    assert!(
        (least..=least + least / 3 + 1).contains(&rendered.pages),
        "{} pages for {lines} lines ({per_page} a page)",
        rendered.pages
    );
    let text = text_of(&rendered.bytes, "vi");
    for block in &blocks[1..blocks.len() - 1] {
        let t = block.text();
        assert!(text.contains(&t), "lost: {t}");
    }
    let raw = Pdf::read(&rendered.bytes).text();
    // The signature blocks share their page with the end of the last clause.
    let last_page = raw.split('\u{c}').rfind(|p| !p.trim().is_empty()).unwrap();
    assert!(
        last_page.contains("từ60x69"),
        "signatures alone: {last_page}"
    );
    // No heading is the last thing on a page.
    for page in raw.split('\u{c}').filter(|p| !p.trim().is_empty()) {
        let body: Vec<&str> = page
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("Số UF-") && !l.starts_with("Trang "))
            .collect();
        let last = body.last().copied().unwrap_or_default();
        assert!(
            !last.starts_with("Điều "),
            "a heading alone at a page foot: {last}"
        );
    }
}

#[test]
fn signature_blocks_never_stand_alone_on_a_page() {
    let fonts = fonts();
    let signatures = signatures("vi");
    // However the clauses before them fall, the last one ends on the signatures' page.
    for n in 10..=45 {
        let mut blocks = vec![Block::Title("HỢP ĐỒNG".into())];
        for i in 0..n {
            blocks.push(Block::Paragraph(format!("Dòng số {i} của hợp đồng.")));
        }
        blocks.push(Block::Paragraph(
            "Hợp đồng có hiệu lực khi cả hai bên ký, và mỗi bên giữ một bản điện tử có giá trị như nhau; mã băm của văn bản được lưu để đối chiếu khi cần. Điều khoản cuối cùng kết thúc tại đây."
                .into(),
        ));
        blocks.push(Block::Signatures);
        let rendered = render(&fonts, &layout("vi", &blocks, &signatures)).unwrap();
        let raw = Pdf::read(&rendered.bytes).text();
        let last_page = raw.split('\u{c}').rfind(|p| !p.trim().is_empty()).unwrap();
        assert!(
            last_page.contains("kết thúc tại đây"),
            "{n} lines: the signatures are alone on page {}: {last_page}",
            rendered.pages
        );
    }
}

/// The last line of each page's body (footer left out).
fn page_feet(pdf: &[u8]) -> Vec<String> {
    let raw = Pdf::read(pdf).text();
    raw.split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .map(|page| {
            let body: Vec<&str> = page
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("Số UF-") && !l.starts_with("Trang "))
                .collect();
            body.last().copied().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn a_heading_stays_with_a_short_table_and_with_the_closing_clause() {
    let fonts = fonts();
    let signatures = signatures("vi");
    let table = Block::Table {
        header: vec!["Hạn thanh toán".into(), "Khoản".into(), "Số tiền".into()],
        rows: (1..=6)
            .map(|k| {
                vec![
                    format!("20/0{k}/2027"),
                    format!("Kỳ {k}/6"),
                    "250.000.000 ₫".into(),
                ]
            })
            .collect(),
    };
    for n in 10..=45 {
        let mut blocks = vec![Block::Title("HỢP ĐỒNG".into())];
        for i in 0..n {
            blocks.push(Block::Paragraph(format!("Dòng số {i} của hợp đồng.")));
        }
        blocks.push(Block::Heading("Điều 4. Lịch thanh toán".into()));
        blocks.push(table.clone());
        for i in 0..n {
            blocks.push(Block::Paragraph(format!("Dòng tiếp theo số {i}.")));
        }
        blocks.push(Block::Heading("Điều 11. Hiệu lực".into()));
        blocks.push(Block::Paragraph(
            "Hợp đồng có hiệu lực khi cả hai bên ký.".into(),
        ));
        blocks.push(Block::Signatures);
        let rendered = render(&fonts, &layout("vi", &blocks, &signatures)).unwrap();
        for foot in page_feet(&rendered.bytes) {
            assert!(
                !foot.starts_with("Điều "),
                "{n} lines: a heading alone at a page foot"
            );
        }
    }
}

#[test]
fn a_character_no_font_has_is_refused_and_a_missing_cjk_font_named() {
    let blocks = vec![Block::Paragraph("Ký hiệu 𓀀 không có trong phông".into())];
    let err = render(&fonts(), &layout("vi", &blocks, &[])).unwrap_err();
    assert!(matches!(err, PdfError::NoGlyph { ch: '𓀀' }), "{err}");

    let without = Fonts::new(Some(CjkSource {
        path: "/nonexistent/NotoSansCJK.ttc".into(),
        index: 2,
    }));
    assert!(without.cjk_status().is_err());
    let (blocks, signatures) = sample("zh");
    let err = render(&without, &layout("zh", &blocks, &signatures)).unwrap_err();
    assert!(
        matches!(&err, PdfError::FontMissing(m) if m.contains("/nonexistent/NotoSansCJK.ttc")),
        "{err}"
    );
    // Vietnamese and English need only the built-in fonts.
    let (blocks, signatures) = sample("vi");
    assert!(render(&without, &layout("vi", &blocks, &signatures)).is_ok());

    // A font installed while the service runs is found by the next Chinese document.
    let dir = tempfile::tempdir().unwrap();
    let later = dir.path().join("NotoSansSC.otf");
    let fonts = Fonts::new(Some(CjkSource {
        path: later.clone(),
        index: 0,
    }));
    let (blocks, signatures) = sample("zh");
    let zh = layout("zh", &blocks, &signatures);
    assert!(matches!(render(&fonts, &zh), Err(PdfError::FontMissing(_))));
    std::fs::write(&later, NOTO_SANS_SC_SUBSET).unwrap();
    assert_eq!(fonts.cjk_status().unwrap(), later.display().to_string());
    assert!(render(&fonts, &zh).is_ok());
}

#[test]
fn the_built_in_chinese_face_covers_gb2312_level_one_and_the_layouts_own_words() {
    let fonts = fonts();
    assert_eq!(fonts.cjk_status().unwrap(), BUILT_IN_CJK);
    let cjk = fonts.cjk().unwrap();
    // GB 2312 level 1: the 3,755 common hanzi, 啊 (B0A1) to 座 (D7F9), in pinyin order;
    // their code points are scattered, so the list the subset was made from is the
    // reference, and a sample of it is checked by code point here.
    let chars = include_str!("../fonts/NotoSansSC-Subset.chars.txt");
    let hanzi: Vec<char> = chars.chars().filter(|c| is_cjk(*c)).collect();
    assert!(hanzi.len() >= 3755, "{} hanzi in the list", hanzi.len());
    for c in [
        '啊', '座', '甲', '乙', '方', '合', '同', '试', '用', '转', '让', '页', '共',
    ] {
        assert!(cjk.glyph(c).is_some(), "{c} missing");
    }
    let missing: Vec<char> = chars
        .chars()
        .filter(|c| is_cjk(*c) && cjk.glyph(*c).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "listed but not in the face: {missing:?}"
    );
    // Every label the layout writes in Chinese, in one face or the other (the shipped zh
    // templates are checked by the tests of `documents::templates`).
    let (blocks, signatures) = sample("zh");
    assert!(render(&fonts, &layout("zh", &blocks, &signatures)).is_ok());
    let l = labels("zh");
    let words: [&str; 5] = [
        l.signed,
        l.signed_at,
        l.unsigned,
        &(l.page)(1, 2),
        &(l.footer)("UF-1", 2),
    ];
    for c in words.concat().chars().filter(|c| is_cjk(*c)) {
        assert!(cjk.glyph(c).is_some(), "{c} missing");
    }
}

#[test]
fn chart_axes_step_by_one_two_or_five_and_figures_are_grouped() {
    for (max, step) in [
        (0, 1),
        (6, 1),
        (7, 2),
        (104, 20),
        (120, 20),
        (121, 50),
        (2_412, 500),
    ] {
        assert_eq!(axis_step(max), step, "{max}");
    }
    assert!(axis_step(i64::MAX) > 0);
    assert_eq!(grouped(1_811, '.'), "1.811");
    assert_eq!(grouped(-1_234_567, ','), "-1,234,567");
    assert_eq!(grouped(999, ','), "999");
    assert_eq!(grouped(i64::MIN, '.'), "-9.223.372.036.854.775.808");
}

#[test]
fn a_bar_chart_keeps_with_its_heading_and_is_never_split() {
    let fonts = fonts();
    let chart = BarChart {
        series: vec!["Bắt đầu dùng thử".into(), "Chuyển giao".into()],
        groups: (1..=12)
            .map(|m| BarGroup {
                label: format!("T{m}"),
                note: if m == 1 { "2026".into() } else { String::new() },
                values: vec![60 + 4 * m, 30 + 2 * m],
            })
            .collect(),
        digit_group: '.',
    };
    let mut moved = 0;
    for n in 20..=50 {
        let mut parts = vec![Part::Block(Block::Title("Báo cáo".into()))];
        for i in 0..n {
            parts.push(Part::Block(Block::Paragraph(format!("Dòng số {i}."))));
        }
        parts.push(Part::Notice("Số liệu tạm tính".into()));
        parts.push(Part::Block(Block::Heading("Theo tháng".into())));
        parts.push(Part::BarChart(chart.clone()));
        parts.push(Part::Block(Block::Paragraph("Dòng cuối.".into())));
        let layout = ReportLayout {
            lang: "vi",
            parts: &parts,
            footer: "Báo cáo tháng 10/2026",
            date: day(),
            id_seed: "report",
            verify: None,
        };
        let rendered = render_report(&fonts, &layout).unwrap();
        let raw = Pdf::read(&rendered.bytes).text();
        assert_eq!(
            raw.matches("Báo cáo tháng 10/2026").count(),
            rendered.pages,
            "{n}: the footer text on every page"
        );
        let page = raw
            .split('\u{c}')
            .find(|p| p.contains("Theo tháng"))
            .unwrap();
        // The heading, the legend, the axis and every label on one page.
        for text in ["Bắt đầu dùng thử", "Chuyển giao", "T5", "T12", "100"] {
            assert!(
                page.contains(text),
                "{n}: {text} not with the heading: {page}"
            );
        }
        let first = raw.split('\u{c}').next().unwrap_or_default();
        moved += usize::from(!first.contains("Theo tháng"));
    }
    assert!(moved > 0, "no chart was moved to the next page");
}

#[test]
fn lines_break_between_words_and_keep_amounts_and_cjk_punctuation_whole() {
    let fonts = fonts();
    let text = "phí bảo hiểm 500.000.000 ₫，保费 10.000.000 ₫，分担如下：甲方、乙方。";
    let faces = Faces::for_text(&fonts, [text].into_iter()).unwrap();
    for width in [100.0, 120.0, 150.0, 200.0, 400.0] {
        let lines = wrap(&faces, text, Style::Regular, BODY, width);
        for line in &lines {
            assert!(
                !line.starts_with('₫') && !line.starts_with('，') && !line.starts_with('。'),
                "{lines:?}"
            );
            let w = faces.width(line, Style::Regular, BODY);
            assert!(w <= width + 0.01, "{line:?} is {w} wide, more than {width}");
        }
        // Lines break only at a space or between two CJK characters: joined back as the
        // markup joins lines, the text is exactly what it was.
        let mut joined = String::new();
        for line in &lines {
            let cjk_seam = joined.chars().last().is_some_and(is_cjk)
                && line.chars().next().is_some_and(is_cjk);
            if !joined.is_empty() && !cjk_seam {
                joined.push(' ');
            }
            joined.push_str(line);
        }
        assert_eq!(joined, text, "{lines:?}");
    }
}
