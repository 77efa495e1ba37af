//! Typesetting, shared by the agreement documents and the monthly reports: the plain-text
//! markup templates render to ([`markup`]), how values are written per language ([`format`]),
//! and the PDF engine that sets blocks, tables and charts on A4 pages with the built-in fonts
//! ([`pdf`], the faces in `fonts/`). It knows nothing of agreements or reports: the parts
//! hand it blocks and parts, and it answers bytes.

pub mod format;
pub mod markup;
pub mod pdf;

/// The fonts documents are set in: the built-in faces, or a configured CJK font file. A
/// configured file that is missing does not stop the service: it is logged here, and
/// Chinese documents answer 503 naming it.
pub fn load_fonts(cfg: &crate::config::Config) -> std::sync::Arc<pdf::Fonts> {
    let d = &cfg.documents;
    let source = Some(d.cjk_font.as_str())
        .filter(|p| !p.is_empty())
        .map(|p| pdf::CjkSource {
            path: p.into(),
            index: d.cjk_font_index,
        });
    let fonts = pdf::Fonts::new(source);
    match fonts.cjk_status() {
        Ok(source) => tracing::info!(cjk_font = %source, "document fonts found"),
        Err(why) => tracing::warn!("Chinese documents unavailable: {why}"),
    }
    fonts
}
