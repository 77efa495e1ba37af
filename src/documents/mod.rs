//! Agreements as documents: contract templates (`contract-templates/`), the context a
//! template renders with (composed from an agreement's facts, which `app::documents` loads
//! from the parts), and the stored documents with their hashes. The markup, the way values
//! are written per language and the PDF engine are `typeset`'s.

pub mod context;
pub mod form01;
pub mod model;
pub mod service;
pub mod templates;
#[cfg(test)]
mod tests;
pub mod verify;
mod words;

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
