//! The plain-text markup contract templates render to, read into blocks the PDF layout sets.
//!
//! ```text
//! ^ A banner line           centred above the title (the national motto of Vietnamese contracts)
//! # Title of the document
//! ## 1. A clause heading
//! A paragraph: lines up to the next blank line or block are joined with one space.
//! | Header | Header |        a table: consecutive rows, the first is its header
//! | cell   | cell   |
//! [signatures]              the parties' signature blocks
//! ```
//!
//! A value inserted by a template can hold neither a line break nor an unescaped `|`: the
//! templates write `\|` and `\\` for them ([`escape`]), so a party's name cannot split a table
//! cell or start a heading. Lines of a paragraph are joined with a space, except between two
//! CJK characters (Chinese is written without spaces).
//!
//! Every piece of text is NFC-normalised: decomposed Vietnamese marks (a base letter followed
//! by combining accents) would otherwise be placed as separate glyphs.

use unicode_normalization::UnicodeNormalization;

/// One block of a document, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Banner(String),
    Title(String),
    Heading(String),
    Paragraph(String),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    Signatures,
}

/// What is wrong with rendered markup, and on which line of the rendered text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkupError {
    pub line: usize,
    pub message: String,
}

/// Writes `value` so that markup reads it back as it is: line breaks become spaces, `|` and
/// `\` are escaped.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Undoes [`escape`] and NFC-normalises.
fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
                continue;
            }
        }
        out.push(c);
    }
    out.nfc().collect()
}

/// The cells of a table row, split at unescaped `|`.
fn cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cell.push(c);
                if let Some(next) = chars.next() {
                    cell.push(next);
                }
            }
            '|' => cells.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    cells.push(cell);
    // The row's leading and trailing `|` leave an empty first and last piece.
    let inner = &cells[1..cells.len().saturating_sub(1).max(1)];
    inner.iter().map(|c| text(c.trim())).collect()
}

/// Is `c` written without spaces around it (CJK ideographs, kana, Hangul, CJK punctuation,
/// full-width forms)? Lines join, and break, without a space between two such characters.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FFF | 0x3000..=0x303F | 0x3040..=0x30FF | 0x3100..=0x31FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF
        | 0x20000..=0x2FFFF)
}

/// The lines of one paragraph as one text.
fn join(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines {
        let cjk_seam =
            out.chars().next_back().is_some_and(is_cjk) && line.chars().next().is_some_and(is_cjk);
        if !out.is_empty() && !cjk_seam {
            out.push(' ');
        }
        out.push_str(line);
    }
    text(&out)
}

/// Reads rendered markup into blocks.
pub fn parse(source: &str) -> Result<Vec<Block>, MarkupError> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut table: Vec<Vec<String>> = Vec::new();

    fn end_paragraph(paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>) {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(join(paragraph)));
            paragraph.clear();
        }
    }
    fn end_table(table: &mut Vec<Vec<String>>, blocks: &mut Vec<Block>) {
        if !table.is_empty() {
            let mut rows = std::mem::take(table);
            let header = rows.remove(0);
            blocks.push(Block::Table { header, rows });
        }
    }

    for (i, raw) in source.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.starts_with('|') {
            end_paragraph(&mut paragraph, &mut blocks);
            let row = cells(line);
            if let Some(first) = table.first() {
                if row.len() != first.len() {
                    return Err(MarkupError {
                        line: line_no,
                        message: format!(
                            "table row has {} cells, the table's first row has {}",
                            row.len(),
                            first.len()
                        ),
                    });
                }
            }
            table.push(row);
            continue;
        }
        end_table(&mut table, &mut blocks);
        if line.is_empty() {
            end_paragraph(&mut paragraph, &mut blocks);
        } else if let Some(banner) = line.strip_prefix("^ ") {
            end_paragraph(&mut paragraph, &mut blocks);
            if blocks.iter().any(|b| matches!(b, Block::Title(_))) {
                return Err(MarkupError {
                    line: line_no,
                    message: "banner lines (\"^ …\") come before the title".into(),
                });
            }
            blocks.push(Block::Banner(text(banner.trim())));
        } else if let Some(title) = line.strip_prefix("# ") {
            end_paragraph(&mut paragraph, &mut blocks);
            blocks.push(Block::Title(text(title.trim())));
        } else if let Some(heading) = line.strip_prefix("## ") {
            end_paragraph(&mut paragraph, &mut blocks);
            blocks.push(Block::Heading(text(heading.trim())));
        } else if line == "[signatures]" {
            end_paragraph(&mut paragraph, &mut blocks);
            blocks.push(Block::Signatures);
        } else if line.starts_with('#') || (line.starts_with('[') && line.ends_with(']')) {
            return Err(MarkupError {
                line: line_no,
                message: format!("unknown markup {line:?} (use \"# \", \"## \" or [signatures])"),
            });
        } else {
            paragraph.push(line);
        }
    }
    end_table(&mut table, &mut blocks);
    end_paragraph(&mut paragraph, &mut blocks);
    let first = blocks.iter().find(|b| !matches!(b, Block::Banner(_)));
    if !matches!(first, Some(Block::Title(_))) {
        return Err(MarkupError {
            line: 1,
            message: "a document starts with its title (\"# …\"), after any banner lines (\"^ …\")"
                .into(),
        });
    }

    Ok(blocks)
}

impl Block {
    /// The block's text, cells joined by tabs and rows by line breaks (empty for signatures).
    pub fn text(&self) -> String {
        match self {
            Block::Banner(t) | Block::Title(t) | Block::Heading(t) | Block::Paragraph(t) => {
                t.clone()
            }
            Block::Table { header, rows } => std::iter::once(header)
                .chain(rows)
                .map(|row| row.join("\t"))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Signatures => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_block() {
        let text = "^ CỘNG HÒA\n^ Độc lập\n# HỢP ĐỒNG\n\n## 1. Các bên\nDòng một\ndòng hai.\n\nĐoạn khác.\n| A | B |\n|1|2|\n| 3 | |\n[signatures]\n";
        assert_eq!(
            parse(text).unwrap(),
            vec![
                Block::Banner("CỘNG HÒA".into()),
                Block::Banner("Độc lập".into()),
                Block::Title("HỢP ĐỒNG".into()),
                Block::Heading("1. Các bên".into()),
                Block::Paragraph("Dòng một dòng hai.".into()),
                Block::Paragraph("Đoạn khác.".into()),
                Block::Table {
                    header: vec!["A".into(), "B".into()],
                    rows: vec![vec!["1".into(), "2".into()], vec!["3".into(), "".into()]],
                },
                Block::Signatures,
            ]
        );
    }

    #[test]
    fn text_is_nfc_normalised() {
        // "Hợp" with the o, the horn and the dot below as separate code points.
        let decomposed = "# Ho\u{31b}\u{323}p";
        let Block::Title(title) = &parse(decomposed).unwrap()[0] else {
            panic!("not a title")
        };
        assert_eq!(title, "Hợp");
        assert_eq!(title.chars().count(), 3);
    }

    #[test]
    fn escaped_values_keep_their_pipes_and_stay_on_their_line() {
        let name = escape("A | B \\ C\n# not a title");
        let text = format!("# T\n| Party | Name |\n| A | {name} |\n{name}\n");
        let blocks = parse(&text).unwrap();
        assert_eq!(
            blocks[1],
            Block::Table {
                header: vec!["Party".into(), "Name".into()],
                rows: vec![vec!["A".into(), "A | B \\ C # not a title".into()]],
            }
        );
        assert_eq!(
            blocks[2],
            Block::Paragraph("A | B \\ C # not a title".into())
        );
    }

    #[test]
    fn chinese_lines_join_without_a_space() {
        let blocks = parse("# 协议\n甲方应当\n按时付款\nUS$1,500.00\n即可。\n").unwrap();
        // Between CJK characters no space; where Latin text meets CJK, one space as usual.
        assert_eq!(
            blocks[1],
            Block::Paragraph("甲方应当按时付款 US$1,500.00 即可。".into())
        );
    }

    #[test]
    fn refuses_ragged_tables_unknown_markers_and_a_missing_title() {
        let err = parse("# T\n| a | b |\n| c |\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("1 cells"), "{}", err.message);
        assert_eq!(parse("# T\n[stamp]\n").unwrap_err().line, 2);
        assert_eq!(parse("### T\n").unwrap_err().line, 1);
        assert!(parse("Just text\n").unwrap_err().message.contains("title"));
        assert!(parse("^ Banner only\n")
            .unwrap_err()
            .message
            .contains("title"));
        let err = parse("# T\n^ late banner\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("before the title"), "{}", err.message);
    }
}
