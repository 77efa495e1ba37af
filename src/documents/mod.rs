//! Agreements as documents: contract templates (`contract-templates/`), the markup they
//! render to, and how values are written per language. The PDF layout builds on these.

pub mod context;
pub mod format;
pub mod markup;
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
