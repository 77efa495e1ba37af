//! poppler-utils (`pdftotext`, `pdffonts`, `pdfinfo`, `pdftoppm`) run on a PDF in a temporary
//! folder.

use std::path::Path;
use std::process::Command;

/// Runs `tool` with `args` on `pdf` (written to a temporary file) and `after` behind the
/// file; what it printed. Panics naming the package when the tool is missing.
pub fn run(tool: &str, args: &[&str], pdf: &[u8], after: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    run_on(tool, args, &path, after)
}

pub fn run_on(tool: &str, args: &[&str], path: &Path, after: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(path)
        .args(after)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils, scripts/install-deps.sh): {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The text `pdftotext` reads, pages separated by form feeds.
pub fn text(pdf: &[u8]) -> String {
    run("pdftotext", &[], pdf, &["-"])
}

/// The page count `pdfinfo` reads.
pub fn page_count(pdf: &[u8]) -> usize {
    run("pdfinfo", &[], pdf, &[])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo prints the page count")
}

/// `pdffonts`' rows: (name, embedded, subset, has a ToUnicode map).
pub fn fonts(pdf: &[u8]) -> Vec<(String, bool, bool, bool)> {
    run("pdffonts", &[], pdf, &[])
        .lines()
        .skip(2)
        .map(|row| {
            let cols: Vec<&str> = row.split_whitespace().collect();
            // name, type (one or more words), encoding, emb, sub, uni, object, gen
            let n = cols.len();
            (
                cols[0].to_string(),
                cols[n - 5] == "yes",
                cols[n - 4] == "yes",
                cols[n - 3] == "yes",
            )
        })
        .collect()
}

/// Rasterises every page of `pdf` at `dpi` into `dir` as `{stem}-N.png`; the number of
/// pages drawn.
pub fn rasterise(pdf: &[u8], dir: &Path, stem: &str, dpi: u32) -> usize {
    let path = dir.join(format!("{stem}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", &dpi.to_string()])
        .arg(&path)
        .arg(dir.join(stem))
        .status()
        .expect("pdftoppm (poppler-utils, scripts/install-deps.sh)");
    assert!(status.success(), "pdftoppm failed on {stem}");
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let Some(rest) = n.strip_prefix(&format!("{stem}-")) else {
                return false;
            };
            rest.strip_suffix(".png")
                .is_some_and(|k| k.chars().all(|c| c.is_ascii_digit()))
                && e.metadata().map(|m| m.len() > 0).unwrap_or(false)
        })
        .count()
}
