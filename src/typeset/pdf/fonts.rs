//! The font faces documents are set in: the built-in Noto Sans and Noto Sans SC subset, or a
//! CJK face read from a configured file on first use, each caching the glyphs it has been
//! asked for. It owns loading and measuring faces, never where text goes on a page.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

use printpdf::ParsedFont;

use super::PdfError;

const NOTO_SANS_REGULAR: &[u8] = include_bytes!("../fonts/NotoSans-Regular.ttf");
const NOTO_SANS_BOLD: &[u8] = include_bytes!("../fonts/NotoSans-Bold.ttf");
/// Noto Sans SC cut to GB 2312 and the built-in texts (`scripts/subset-cjk-font.sh`).
pub(super) const NOTO_SANS_SC_SUBSET: &[u8] = include_bytes!("../fonts/NotoSansSC-Subset.otf");

/// One font face registered in every document under a fixed id (also its subset tag).
pub(super) struct Face {
    pub(super) id: &'static str,
    pub(super) font: ParsedFont,
    pub(super) units_per_em: f32,
    /// Glyph id and advance (font units) of each character met so far, or none when the face
    /// lacks it. A cmap lookup in a CJK face costs microseconds; documents look up the same
    /// few hundred characters again and again.
    glyphs: RwLock<HashMap<char, Option<(u16, u16)>>>,
}

impl Face {
    fn parse(id: &'static str, bytes: &[u8], index: usize) -> Result<Face, String> {
        let mut warnings = Vec::new();
        let font = ParsedFont::from_bytes(bytes, index, &mut warnings)
            .ok_or_else(|| format!("not a font face (index {index})"))?;
        let units_per_em = f32::from(font.pdf_font_metrics.units_per_em.max(1));
        Ok(Face {
            id,
            font,
            units_per_em,
            glyphs: RwLock::new(HashMap::new()),
        })
    }

    /// The glyph id and advance (font units) of `c`, if the face has it.
    pub(super) fn metrics(&self, c: char) -> Option<(u16, u16)> {
        if let Some(known) = self.glyphs.read().ok().and_then(|g| g.get(&c).copied()) {
            return known;
        }
        let found = self
            .font
            .lookup_glyph_index(c as u32)
            .filter(|g| *g != 0)
            .map(|g| (g, self.font.get_horizontal_advance(g)));
        if let Ok(mut glyphs) = self.glyphs.write() {
            glyphs.insert(c, found);
        }
        found
    }

    pub(super) fn glyph(&self, c: char) -> Option<u16> {
        self.metrics(c).map(|(g, _)| g)
    }

    /// The advance of `c` in points at `size`, if the face has it.
    pub(super) fn advance(&self, c: char, size: f32) -> Option<f32> {
        self.metrics(c)
            .map(|(_, a)| f32::from(a) * size / self.units_per_em)
    }
}

/// A file the CJK face is read from instead of the built-in subset (`documents.cjk_font`).
#[derive(Debug, Clone)]
pub struct CjkSource {
    pub path: PathBuf,
    /// The face in a collection (`.ttc`): 2 is Simplified Chinese in Noto Sans CJK.
    pub index: usize,
}

/// The faces documents are set in. Noto Sans and a subset of Noto Sans SC (GB 2312 and every
/// character of the built-in texts, made by `scripts/subset-cjk-font.sh`) are built in, so
/// Chinese documents need nothing installed. A configured CJK file replaces the subset: it is
/// read from disk the first time a document needs it (a full face is about 20 MB) and kept
/// for the life of the process; while it is missing, each Chinese document looks for it
/// again, so installing the font needs no restart.
pub struct Fonts {
    sans: OnceLock<(Face, Face)>,
    /// `None`: the built-in subset.
    cjk_source: Option<CjkSource>,
    cjk: OnceLock<Face>,
    /// Held while the CJK face is read, so simultaneous first documents read it once.
    cjk_loading: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("cjk_source", &self.cjk_source)
            .finish()
    }
}

/// What [`Fonts::cjk_status`] says of the built-in face.
pub const BUILT_IN_CJK: &str = "built-in Noto Sans SC subset";

impl Fonts {
    /// `cjk_source`: a CJK font file to use instead of the built-in subset.
    pub fn new(cjk_source: Option<CjkSource>) -> Arc<Fonts> {
        Arc::new(Fonts {
            sans: OnceLock::new(),
            cjk_source,
            cjk: OnceLock::new(),
            cjk_loading: std::sync::Mutex::new(()),
        })
    }

    /// Where the CJK face comes from, or why it cannot be had (checked at start, without
    /// parsing it).
    pub fn cjk_status(&self) -> Result<String, String> {
        match &self.cjk_source {
            None => Ok(BUILT_IN_CJK.into()),
            Some(src) if src.path.is_file() => Ok(src.path.display().to_string()),
            Some(src) => Err(format!(
                "the CJK font {} is missing (install it, or leave documents.cjk_font empty \
                 for the built-in face)",
                src.path.display()
            )),
        }
    }

    pub(super) fn sans(&self) -> &(Face, Face) {
        self.sans.get_or_init(|| {
            (
                Face::parse("NOTOSR", NOTO_SANS_REGULAR, 0).expect("the built-in Noto Sans parses"),
                Face::parse("NOTOSB", NOTO_SANS_BOLD, 0).expect("the built-in Noto Sans parses"),
            )
        })
    }

    /// The CJK face, read on first use.
    pub(super) fn cjk(&self) -> Result<&Face, PdfError> {
        if let Some(face) = self.cjk.get() {
            return Ok(face);
        }
        let _loading = self
            .cjk_loading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(face) = self.cjk.get() {
            return Ok(face);
        }
        let face = match &self.cjk_source {
            None => Face::parse("NOTOCJ", NOTO_SANS_SC_SUBSET, 0)
                .expect("the built-in Noto Sans SC subset parses"),
            Some(src) => {
                self.cjk_status().map_err(PdfError::FontMissing)?;
                let bytes = std::fs::read(&src.path).map_err(|e| {
                    PdfError::FontMissing(format!(
                        "the CJK font {} is unreadable: {e}",
                        src.path.display()
                    ))
                })?;
                Face::parse("NOTOCJ", &bytes, src.index).map_err(|e| {
                    PdfError::FontMissing(format!("the CJK font {}: {e}", src.path.display()))
                })?
            }
        };
        Ok(self.cjk.get_or_init(|| face))
    }
}
