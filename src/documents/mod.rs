//! Agreements as documents: contract templates (`contract-templates/`), the markup they
//! render to, how values are written per language, the context built from an agreement, the
//! PDF layout, and the stored documents with their hashes.

pub mod context;
pub mod format;
pub mod markup;
pub mod pdf;
pub mod service;
pub mod templates;

pub use templates::ContractTemplates;

/// The contract templates `cfg` names (`documents.templates_dir`), checked.
pub fn load_templates(cfg: &crate::config::Config) -> anyhow::Result<ContractTemplates> {
    let dir = Some(cfg.documents.templates_dir.as_str())
        .filter(|d| !d.is_empty())
        .map(std::path::Path::new);
    let templates = ContractTemplates::load(dir)?;
    tracing::info!(origin = templates.origin(), "contract templates checked");
    Ok(templates)
}

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
