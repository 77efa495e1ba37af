//! The check link a document carries, read as a person would: page 1 rasterised by poppler and
//! its QR code decoded from the pixels (as a phone camera decodes it), and the printed code
//! read back by `pdftotext`, in every language.

use std::process::Command;

use chrono::NaiveDate;
use usefirst::documents::templates::{sample_context, ContractTemplates};
use usefirst::typeset::format::LANGS;
use usefirst::typeset::pdf::{self, Fonts, Layout, Signature, Verify};

use crate::poppler;
use crate::qr_reader;

/// Page 1 of `pdf` as a greyscale picture at `dpi`: its width, height and pixels.
fn first_page_pixels(pdf: &[u8], dpi: u32) -> (usize, usize, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args([
            "-gray",
            "-r",
            &dpi.to_string(),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
        ])
        .arg(&path)
        .arg(&out)
        .status()
        .expect("pdftoppm (poppler-utils, scripts/install-deps.sh)");
    assert!(status.success());
    let pgm = std::fs::read(dir.path().join("page.pgm")).unwrap();
    // P5 header: magic, width, height, maximum, each followed by whitespace.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = pgm[at + 1..].to_vec();
    assert_eq!(pixels.len(), w * h);
    (w, h, pixels)
}

#[test]
fn the_qr_code_scans_from_the_printed_page_and_the_code_reads_as_text() {
    let fonts = Fonts::new(None);
    let templates =
        ContractTemplates::load(Some(std::path::Path::new("contract-templates"))).unwrap();
    let url = "https://usefirst.example.vn/verify/2D6CSE2VSECQ8FDEWASR";
    let code = "2D6C-SE2V-SECQ-8FDE-WASR";
    for lang in LANGS {
        let ctx = sample_context("trial-agreement", lang, true);
        let blocks = templates.render("trial-agreement", lang, &ctx).unwrap();
        let signatures: Vec<Signature> = serde_json::from_value(ctx["signatures"].clone()).unwrap();
        let doc = pdf::render(
            &fonts,
            &Layout {
                lang,
                blocks: &blocks,
                signatures: &signatures,
                number: "UF-2026-000123",
                terms_version: 2,
                date: NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
                id_seed: "system-test",
                verify: Some(Verify { url, code }),
            },
        )
        .unwrap();
        // A print scanned at 300 dpi: about 5 pixels a module.
        let (w, h, pixels) = first_page_pixels(&doc.bytes, 300);
        assert_eq!(
            qr_reader::decode_grey(w, h, &pixels).as_deref(),
            Some(url),
            "{lang}: the QR code of the rasterised page"
        );
        let text = poppler::text(&doc.bytes);
        assert_eq!(
            text.matches(code).count(),
            doc.pages,
            "{lang}: the code on every page of\n{text}"
        );
    }
}
