//! The text of office documents, which are zipped XML: Word, PowerPoint and Excel
//! (Office Open XML) and their OpenDocument kin. Each part read is bounded, so a zip
//! that inflates to gigabytes stops at the bound.
use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;

/// Decompressed bytes read of one part at most.
const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// Parts read of one file at most (slides of a presentation).
const MAX_PARTS: usize = 500;

/// The formats read, by the MIME type their content showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Docx,
    Pptx,
    Xlsx,
    /// Text, presentation and spreadsheet: the same body in `content.xml`.
    OpenDocument,
}

impl Format {
    pub(super) fn of(content_type: &str) -> Option<Format> {
        Some(match content_type {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                Format::Docx
            }
            "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
                Format::Pptx
            }
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Format::Xlsx,
            "application/vnd.oasis.opendocument.text"
            | "application/vnd.oasis.opendocument.presentation"
            | "application/vnd.oasis.opendocument.spreadsheet" => Format::OpenDocument,
            _ => return None,
        })
    }

    /// Office Open XML keeps text only in `t` elements (whitespace between elements is
    /// layout); OpenDocument keeps it directly in its paragraphs.
    fn text_only_in_t(self) -> bool {
        !matches!(self, Format::OpenDocument)
    }
}

/// The document's text, paragraphs on lines of their own; or why it could not be read.
pub(super) fn read(format: Format, bytes: &[u8]) -> Result<String, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("the document could not be opened ({e})"))?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    let parts = parts(format, &names);
    if parts.is_empty() {
        return Err("the document has none of its parts".into());
    }
    let mut text = String::new();
    for name in parts.iter().take(MAX_PARTS) {
        let mut xml = Vec::new();
        zip.by_name(name)
            .map_err(|e| format!("the document's {name} could not be read ({e})"))?
            .take(MAX_PART_BYTES)
            .read_to_end(&mut xml)
            .map_err(|e| format!("the document's {name} could not be read ({e})"))?;
        read_xml(format, &xml, &mut text)
            .map_err(|e| format!("the document's {name} is damaged ({e})"))?;
        if text.len() > 4 * super::MAX_TEXT_CHARS {
            break;
        }
    }
    Ok(text)
}

/// The parts that hold the text, in reading order.
fn parts(format: Format, names: &[String]) -> Vec<String> {
    let has = |n: &str| names.iter().any(|m| m == n);
    match format {
        Format::Docx if has("word/document.xml") => vec!["word/document.xml".into()],
        Format::Xlsx if has("xl/sharedStrings.xml") => vec!["xl/sharedStrings.xml".into()],
        Format::OpenDocument if has("content.xml") => vec!["content.xml".into()],
        Format::Pptx => {
            // ppt/slides/slide12.xml: in the slides' order, not the names'.
            let mut slides: Vec<(u32, String)> = names
                .iter()
                .filter_map(|n| {
                    let number = n.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?;
                    Some((number.parse().ok()?, n.clone()))
                })
                .collect();
            slides.sort();
            slides.into_iter().map(|(_, n)| n).collect()
        }
        _ => Vec::new(),
    }
}

fn read_xml(format: Format, xml: &[u8], out: &mut String) -> Result<(), quick_xml::Error> {
    let mut reader = Reader::from_reader(xml);
    let only_in_t = format.text_only_in_t();
    let mut in_t = 0usize;
    let mut in_body = !matches!(format, Format::OpenDocument);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"t" => in_t += 1,
                b"body" => in_body = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_t = in_t.saturating_sub(1),
                // Paragraphs, headings, shared strings, table cells.
                b"p" | b"h" | b"si" | b"tc" => out.push('\n'),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"tab" => out.push('\t'),
                b"br" | b"cr" | b"line-break" => out.push('\n'),
                // OpenDocument's run of spaces, `c` of them.
                b"s" => {
                    let count = e
                        .try_get_attribute("text:c")
                        .ok()
                        .flatten()
                        .and_then(|a| std::str::from_utf8(&a.value).ok()?.parse::<usize>().ok())
                        .unwrap_or(1);
                    out.extend(std::iter::repeat_n(' ', count.min(64)));
                }
                _ => {}
            },
            Event::Text(t) if in_body && (!only_in_t || in_t > 0) => {
                out.push_str(&t.unescape()?);
            }
            Event::CData(t) if in_body && (!only_in_t || in_t > 0) => {
                out.push_str(&String::from_utf8_lossy(&t.into_inner()));
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}
