//! Writing a document: the faces its text needs, its pages set and footed, the fonts embedded
//! as subsets, fixed metadata dates and a trailer `/ID` from the caller's seed, and every
//! stream deflated. It owns the entry points [`render`] and [`render_report`].

use printpdf::{FontId, PdfDocument, PdfFont, PdfPage, PdfSaveOptions};
use sha2::{Digest, Sha256};

use super::fonts::Fonts;
use super::pages::set;
use super::signatures::footers;
use super::text::Faces;
use super::*;

/// Every piece of text the document will draw (to find the faces it needs).
fn all_text<'a>(content: &'a Content<'_>, footer: &'a [String]) -> Vec<&'a str> {
    let l = labels(content.lang);
    let mut out: Vec<&str> = footer.iter().map(String::as_str).collect();
    if !content.signatures.is_empty()
        || content
            .items
            .iter()
            .any(|it| matches!(it, Item::Block(Block::Signatures)))
    {
        out.extend([l.signed, l.signed_at, l.unsigned]);
    }
    for item in &content.items {
        match *item {
            Item::Block(
                Block::Banner(t) | Block::Title(t) | Block::Heading(t) | Block::Paragraph(t),
            ) => out.push(t),
            Item::Block(Block::Table { header, rows }) => {
                out.extend(header.iter().map(String::as_str));
                out.extend(rows.iter().flatten().map(String::as_str));
            }
            Item::Block(Block::Signatures) => {}
            Item::Notice(t) => out.push(t),
            Item::Grid(g) => {
                out.extend(g.header.iter().map(String::as_str));
                out.extend(g.rows.iter().flatten().map(String::as_str));
            }
            Item::Chart(c) => {
                out.extend(c.series.iter().map(String::as_str));
                for g in &c.groups {
                    out.extend([g.label.as_str(), g.note.as_str()]);
                }
                // The axis' figures are digits and the separator: the sans face has them.
            }
        }
    }
    for s in content.signatures {
        out.extend([
            s.party.as_str(),
            s.organisation.as_str(),
            s.signed_by.as_str(),
            s.signed_at.as_str(),
        ]);
    }
    out
}

fn pdf_date(d: NaiveDate) -> printpdf::OffsetDateTime {
    let midnight = d
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0);
    printpdf::OffsetDateTime::from_unix_timestamp(midnight)
        .unwrap_or_else(|_| printpdf::OffsetDateTime::epoch())
}

/// Deflates every stream not compressed yet (page contents, font programs, ToUnicode maps)
/// at zlib's fastest level. lopdf's own `compress` uses the best level, which took a third of
/// a document's time; the fast level halves a Vietnamese document's time for about 13% more
/// bytes (`benches/pdf.rs`), well inside the size targets.
fn compress(pdf: &mut lopdf::Document) -> Result<(), PdfError> {
    use std::io::Write;
    for object in pdf.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&stream.content)
            .and_then(|_| z.finish())
            .map_err(|e| PdfError::Write(e.to_string()))
            .map(|deflated| {
                if deflated.len() < stream.content.len() {
                    stream.dict.set("Filter", "FlateDecode");
                    stream.set_content(deflated);
                }
            })?;
    }
    Ok(())
}

/// A set document: its bytes and page count.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub pages: usize,
}

/// Sets `layout` with `fonts` and writes the PDF.
pub fn render(fonts: &Fonts, layout: &Layout<'_>) -> Result<Rendered, PdfError> {
    let l = labels(layout.lang);
    let content = Content {
        lang: layout.lang,
        items: layout.blocks.iter().map(Item::Block).collect(),
        signatures: layout.signatures,
        footer: (l.footer)(layout.number, layout.terms_version),
        subject: layout.number,
        date: layout.date,
        id_seed: layout.id_seed,
        verify: layout.verify,
    };
    write(fonts, &content)
}

/// Sets a document composed of parts (a report) with `fonts` and writes the PDF: the same
/// pages, fonts and determinism as an agreement's, with `layout.footer` in the footer.
pub fn render_report(fonts: &Fonts, layout: &ReportLayout<'_>) -> Result<Rendered, PdfError> {
    let content = Content {
        lang: layout.lang,
        items: layout.parts.iter().map(Part::item).collect(),
        signatures: &[],
        footer: layout.footer.to_string(),
        subject: layout.footer,
        date: layout.date,
        id_seed: layout.id_seed,
        verify: layout.verify,
    };
    write(fonts, &content)
}

fn write(fonts: &Fonts, content: &Content<'_>) -> Result<Rendered, PdfError> {
    let l = labels(content.lang);
    let verify_line = content.verify.map(|v| (l.verify)(v.url, v.code));
    // The footer texts of the longest page label (for the glyph check).
    let mut footer = vec![content.footer.clone(), (l.page)(1, 1)];
    footer.extend(verify_line.clone());
    let faces = Faces::for_text(fonts, all_text(content, &footer).into_iter())?;
    let mut page_ops = set(&faces, content);
    footers(
        &mut page_ops,
        &faces,
        content.lang,
        &content.footer,
        verify_line.as_deref(),
    );
    if let (Some(v), Some(first)) = (content.verify, page_ops.first_mut()) {
        super::qr::draw(first, v.url)?;
    }
    let count = page_ops.len();

    let title = content
        .items
        .iter()
        .find_map(|it| match it {
            Item::Block(Block::Title(t)) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut doc = PdfDocument::new(&title);
    let date = pdf_date(content.date);
    doc.metadata.info.creation_date = date;
    doc.metadata.info.modification_date = date;
    doc.metadata.info.metadata_date = date;
    doc.metadata.info.subject = content.subject.to_string();
    doc.metadata.info.producer = "usefirst".into();
    doc.metadata.info.creator = "usefirst".into();
    for face in &faces.faces {
        doc.resources
            .fonts
            .map
            .insert(FontId(face.id.into()), PdfFont::new(face.font.clone()));
    }
    doc.pages = page_ops
        .into_iter()
        .map(|ops| PdfPage::new(printpdf::Mm(210.0), printpdf::Mm(297.0), ops))
        .collect();

    let opts = PdfSaveOptions {
        optimize: true,
        subset_fonts: true,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut pdf = doc.to_lopdf_document(&opts, &mut warnings);
    drop(doc);
    let id = Sha256::digest(content.id_seed.as_bytes());
    let id = lopdf::Object::String(id[..16].to_vec(), lopdf::StringFormat::Hexadecimal);
    pdf.trailer
        .set("ID", lopdf::Object::Array(vec![id.clone(), id]));
    if let Ok(info) = pdf
        .trailer
        .get(b"Info")
        .and_then(lopdf::Object::as_reference)
    {
        if let Ok(dict) = pdf
            .get_object_mut(info)
            .and_then(lopdf::Object::as_dict_mut)
        {
            dict.remove(b"GTS_PDFXVersion");
        }
    }
    compress(&mut pdf)?;
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes)
        .map_err(|e| PdfError::Write(e.to_string()))?;
    Ok(Rendered {
        bytes,
        pages: count,
    })
}
