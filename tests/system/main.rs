//! Checks that need tools installed on the machine (`scripts/install-deps.sh`): poppler to
//! rasterise every page and to read the documents a second, independent way, and a full
//! system CJK font. Plain `cargo test` does not build this target (`test = false` in
//! Cargo.toml); `.ci/run` runs it as `cargo test --test system` after install-deps.
//!
//! Every check here fails, never skips, when its tool is missing: a machine that runs this
//! target has said it has them.

#[path = "../support/pdf_reader.rs"]
mod pdf_reader;
mod poppler;
#[path = "../support/qr_reader.rs"]
mod qr_reader;
mod rendering;
mod verify_code;
