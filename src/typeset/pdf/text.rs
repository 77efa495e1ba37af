//! Measuring and breaking text: the faces one document needs and which of them draws each
//! character, runs of glyphs in one face, the unbreakable pieces of a text (words, CJK
//! characters with the punctuation that clings to them, amounts with their currency sign) and
//! the lines they wrap to. Nothing here draws.

use printpdf::Codepoint;

use super::fonts::{Face, Fonts};
use super::PdfError;
use crate::typeset::markup::is_cjk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Regular,
    Bold,
}

/// A run of text drawn in one face, as glyphs (each with the text it stands for, for the
/// PDF's ToUnicode map, so the text can be searched and copied).
pub(super) struct Run {
    pub(super) face: usize,
    pub(super) glyphs: Vec<Codepoint>,
    pub(super) width: f32,
}

/// The faces of one document, in fallback order, per style.
pub(super) struct Faces<'f> {
    /// 0: Noto Sans Regular, 1: Noto Sans Bold, 2: CJK (if the text needs it).
    pub(super) faces: Vec<&'f Face>,
}

impl<'f> Faces<'f> {
    /// The faces `text` needs; the CJK face only when some character is not in Noto Sans.
    pub(super) fn for_text<'a>(
        fonts: &'f Fonts,
        text: impl Iterator<Item = &'a str>,
    ) -> Result<Faces<'f>, PdfError> {
        let (regular, bold) = fonts.sans();
        let mut faces = vec![regular, bold];
        for s in text {
            for c in s.chars() {
                if c.is_control() || regular.glyph(c).is_some() && bold.glyph(c).is_some() {
                    continue;
                }
                if faces.len() == 2 {
                    faces.push(fonts.cjk()?);
                }
                if faces[2].glyph(c).is_none() {
                    return Err(PdfError::NoGlyph { ch: c });
                }
            }
        }
        Ok(Faces { faces })
    }

    /// The face index that draws `c` in `style`.
    fn face_of(&self, c: char, style: Style) -> usize {
        let first = match style {
            Style::Regular => 0,
            Style::Bold => 1,
        };
        if self.faces[first].glyph(c).is_some() || self.faces.len() < 3 {
            first
        } else {
            2
        }
    }

    fn advance(&self, c: char, style: Style, size: f32) -> f32 {
        let face = self.face_of(c, style);
        self.faces[face].advance(c, size).unwrap_or(0.0)
    }

    pub(super) fn width(&self, text: &str, style: Style, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, style, size)).sum()
    }

    /// `text` split into runs of one face each.
    pub(super) fn runs(&self, text: &str, style: Style, size: f32) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        for c in text.chars() {
            let face = self.face_of(c, style);
            let Some((gid, advance)) = self.faces[face].metrics(c) else {
                continue;
            };
            let w = f32::from(advance) * size / self.faces[face].units_per_em;
            let glyph = Codepoint::with_cid(gid, 0.0, c.to_string());
            match runs.last_mut() {
                Some(run) if run.face == face => {
                    run.glyphs.push(glyph);
                    run.width += w;
                }
                _ => runs.push(Run {
                    face,
                    glyphs: vec![glyph],
                    width: w,
                }),
            }
        }
        runs
    }
}

/// Punctuation a line must not start with.
fn no_break_before(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '）'
            | '」'
            | '』'
            | '》'
            | '〉'
            | '】'
            | '”'
            | '’'
            | '%'
            | '％'
            | ','
            | '.'
            | ';'
            | ':'
            | ')'
            | '!'
            | '?'
    )
}

/// A currency sign written after its amount.
fn is_currency_sign(c: char) -> bool {
    matches!(c, '₫' | '€' | '¥' | '$' | '₩' | '฿' | '₭' | '៛')
}

/// Punctuation a line must not end with.
fn no_break_after(c: char) -> bool {
    matches!(c, '（' | '「' | '『' | '《' | '〈' | '【' | '“' | '‘' | '(')
}

/// The unbreakable pieces of `text`: words, single CJK characters with the punctuation that
/// clings to them, each with whether a space precedes it.
pub(super) fn pieces(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut space = false;
    let mut word = String::new();
    let push = |out: &mut Vec<(bool, String)>, space: &mut bool, word: &mut String| {
        if !word.is_empty() {
            out.push((*space, std::mem::take(word)));
            *space = false;
        }
    };
    for c in text.chars() {
        if c == ' ' {
            push(&mut out, &mut space, &mut word);
            space = true;
            continue;
        }
        // An amount stays on one line with its currency sign: `1.500.000 ₫`.
        if space && word.is_empty() && is_currency_sign(c) {
            if let Some((spaced, last)) = out.pop() {
                word = last;
                word.push(' ');
                space = spaced;
            }
        }
        // Without a space, a line breaks only between two CJK characters (never inside a
        // number or a Latin word next to them: `2027年4月14日` stays whole).
        let last = word.chars().last();
        let glue_to_previous = no_break_before(c)
            || last.is_some_and(no_break_after)
            || !(is_cjk(c) && last.is_some_and(is_cjk));
        if !glue_to_previous {
            push(&mut out, &mut space, &mut word);
        }
        word.push(c);
    }
    push(&mut out, &mut space, &mut word);
    out
}

/// `text` broken into lines no wider than `width`.
pub(super) fn wrap(
    faces: &Faces<'_>,
    text: &str,
    style: Style,
    size: f32,
    width: f32,
) -> Vec<String> {
    let space = faces.advance(' ', style, size);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_w = 0.0;
    for (spaced, piece) in pieces(text) {
        let w = faces.width(&piece, style, size);
        let gap = if spaced && !line.is_empty() {
            space
        } else {
            0.0
        };
        if !line.is_empty() && line_w + gap + w > width {
            lines.push(std::mem::take(&mut line));
            line_w = 0.0;
        } else if gap > 0.0 {
            line.push(' ');
            line_w += gap;
        }
        if w <= width {
            line.push_str(&piece);
            line_w += w;
            continue;
        }
        // A piece wider than the line (a long address): broken between characters.
        for c in piece.chars() {
            let cw = faces.advance(c, style, size);
            if !line.is_empty() && line_w + cw > width {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                line_w = 0.0;
            }
            if line.is_empty() && c == ' ' {
                continue;
            }
            line.push(c);
            line_w += cw;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}
