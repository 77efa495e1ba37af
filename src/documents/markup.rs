//! The plain-text markup contract templates render to, read into blocks the PDF layout sets.
//!
//! ```text
//! # Title of the document
//! ## 1. A clause heading
//! A paragraph: lines up to the next blank line or block are joined with one space.
//! | Header | Header |        a table: consecutive rows, the first is its header
//! | cell   | cell   |
//! [signatures]              the parties' signature blocks
//! ```
//!
//! Every piece of text is NFC-normalised: decomposed Vietnamese marks (a base letter followed
//! by combining accents) would otherwise be placed as separate glyphs.

use unicode_normalization::UnicodeNormalization;

/// One block of a document, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
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

fn nfc(text: &str) -> String {
    text.nfc().collect()
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(|c| nfc(c.trim())).collect()
}

/// Reads rendered markup into blocks.
pub fn parse(text: &str) -> Result<Vec<Block>, MarkupError> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut table: Option<(usize, Vec<Vec<String>>)> = None;

    fn end_paragraph(paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>) {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(nfc(&paragraph.join(" "))));
            paragraph.clear();
        }
    }
    fn end_table(table: &mut Option<(usize, Vec<Vec<String>>)>, blocks: &mut Vec<Block>) {
        if let Some((_, mut rows)) = table.take() {
            let header = rows.remove(0);
            blocks.push(Block::Table { header, rows });
        }
    }

    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.starts_with('|') {
            end_paragraph(&mut paragraph, &mut blocks);
            let row = cells(line);
            match &mut table {
                Some((width, rows)) => {
                    if row.len() != *width {
                        return Err(MarkupError {
                            line: line_no,
                            message: format!(
                                "table row has {} cells, the table's first row has {width}",
                                row.len()
                            ),
                        });
                    }
                    rows.push(row);
                }
                None => table = Some((row.len(), vec![row])),
            }
            continue;
        }
        end_table(&mut table, &mut blocks);
        if line.is_empty() {
            end_paragraph(&mut paragraph, &mut blocks);
        } else if let Some(title) = line.strip_prefix("# ") {
            end_paragraph(&mut paragraph, &mut blocks);
            blocks.push(Block::Title(nfc(title.trim())));
        } else if let Some(heading) = line.strip_prefix("## ") {
            end_paragraph(&mut paragraph, &mut blocks);
            blocks.push(Block::Heading(nfc(heading.trim())));
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
    if !matches!(blocks.first(), Some(Block::Title(_))) {
        return Err(MarkupError {
            line: 1,
            message: "a document starts with its title (\"# …\")".into(),
        });
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_block() {
        let text = "# HỢP ĐỒNG\n\n## 1. Các bên\nDòng một\ndòng hai.\n\nĐoạn khác.\n| A | B |\n|1|2|\n| 3 | |\n[signatures]\n";
        assert_eq!(
            parse(text).unwrap(),
            vec![
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
    fn refuses_ragged_tables_unknown_markers_and_a_missing_title() {
        let err = parse("# T\n| a | b |\n| c |\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("1 cells"), "{}", err.message);
        assert_eq!(parse("# T\n[stamp]\n").unwrap_err().line, 2);
        assert_eq!(parse("### T\n").unwrap_err().line, 1);
        assert!(parse("Just text\n").unwrap_err().message.contains("title"));
    }
}
