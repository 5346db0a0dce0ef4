//! The text of an evidence item (issue 17): its title, its description (a witness
//! statement or an observation record as written) and the text of its files. Read once,
//! by a job after the upload (`jobs::evidence_text`), never in a request: a file is
//! untrusted input, so each reading is bounded in bytes read, text kept and time.
use serde::{Deserialize, Serialize};

use crate::domain::file_type::{family_of, Family};

mod office;

/// Files larger than this are not read for text (a reflective account is kilobytes;
/// a larger document is mostly pictures).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// The text kept of one file, and of one item, in characters: enough for any account or
/// report; beyond it a document is mostly appendices.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// What reading one file gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FileText {
    /// The file's text (a PDF's text layer, a document's paragraphs).
    Text { text: String },
    /// The file holds no text to read.
    NoText { why: NoText },
    /// The file could not be read: damaged, protected, or too large.
    Unreadable { why: String },
}

/// Why a file holds no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoText {
    Photo,
    Video,
    Audio,
    /// A PDF without a text layer: a scan or a photo of a page.
    NoTextLayer,
    /// A document of a format whose text attest does not read (an old Word .doc, RTF).
    FormatNotRead,
    /// A document with no words in it.
    Empty,
}

impl NoText {
    /// Said beside the file on the evidence page.
    pub fn says(self) -> &'static str {
        match self {
            NoText::Photo => "a photo: no text to read",
            NoText::Video => "a video: no text to read",
            NoText::Audio => "a recording: no text to read",
            NoText::NoTextLayer => "no text layer (a scan?): no text to read",
            NoText::FormatNotRead => "its text is not read in this format",
            NoText::Empty => "no text in it",
        }
    }
}

impl FileText {
    fn from_text(text: String, empty: NoText) -> FileText {
        let text = tidy(&text);
        if text.is_empty() {
            FileText::NoText { why: empty }
        } else {
            FileText::Text { text }
        }
    }
}

/// Reads the text of a file of `content_type` (the type its content showed at upload).
/// Never panics on bad input: a reader that panics gives `Unreadable`.
pub fn read_file(content_type: &str, bytes: &[u8]) -> FileText {
    match family_of(content_type) {
        Some(Family::Photo) => return FileText::NoText { why: NoText::Photo },
        Some(Family::Video) => return FileText::NoText { why: NoText::Video },
        Some(Family::Audio) => return FileText::NoText { why: NoText::Audio },
        Some(Family::Document) | None => {}
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return too_large();
    }
    let read = std::panic::catch_unwind(|| read_document(content_type, bytes));
    read.unwrap_or_else(|_| FileText::Unreadable {
        why: "the file is damaged".into(),
    })
}

/// A file over `MAX_FILE_BYTES`, which is not read.
pub fn too_large() -> FileText {
    FileText::Unreadable {
        why: format!("larger than {} MB", MAX_FILE_BYTES / (1024 * 1024)),
    }
}

fn read_document(content_type: &str, bytes: &[u8]) -> FileText {
    if content_type == crate::domain::file_type::TEXT.mime {
        let text = String::from_utf8_lossy(bytes);
        return FileText::from_text(text.trim_start_matches('\u{feff}').into(), NoText::Empty);
    }
    if content_type == "application/pdf" {
        return match pdf_extract::extract_text_from_mem(bytes) {
            Ok(text) => FileText::from_text(text, NoText::NoTextLayer),
            Err(e) => FileText::Unreadable {
                why: format!("the PDF could not be read ({e})"),
            },
        };
    }
    match office::Format::of(content_type) {
        Some(format) => match office::read(format, bytes) {
            Ok(text) => FileText::from_text(text, NoText::Empty),
            Err(why) => FileText::Unreadable { why },
        },
        None => FileText::NoText {
            why: NoText::FormatNotRead,
        },
    }
}

/// Lines trimmed, runs of blank lines made one, at most `MAX_TEXT_CHARS`.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT_CHARS));
    let (mut blank, mut chars) = (false, 0);
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
            chars += if blank { 2 } else { 1 };
        }
        blank = false;
        out.push_str(line);
        chars += line.chars().count();
        if chars >= MAX_TEXT_CHARS {
            return out.chars().take(MAX_TEXT_CHARS).collect();
        }
    }
    out
}

/// What the evidence page says of a file's text, from the outcome the reading job kept
/// for it (`jobs::evidence_text`): None for an outcome it does not know.
pub fn file_note(outcome: &serde_json::Value) -> Option<String> {
    let why = outcome.get("why").and_then(|w| w.as_str());
    match outcome.get("outcome").and_then(|o| o.as_str())? {
        "text" => {
            let words = outcome.get("words").and_then(|w| w.as_u64()).unwrap_or(0);
            Some(format!(
                "text read: {words} word{}",
                if words == 1 { "" } else { "s" }
            ))
        }
        "no_text" => {
            let why: NoText =
                serde_json::from_value(serde_json::Value::String(why?.into())).ok()?;
            Some(why.says().to_string())
        }
        "unreadable" => Some(format!("its text could not be read: {}", why?)),
        _ => None,
    }
}

/// An item's text: its title, its description, then each file's text, as ranking reads it.
pub fn item_text<'a>(
    title: &str,
    description: &str,
    files: impl IntoIterator<Item = &'a FileText>,
) -> String {
    let mut parts = vec![title.trim().to_string(), tidy(description)];
    parts.extend(files.into_iter().filter_map(|f| match f {
        FileText::Text { text } => Some(text.clone()),
        _ => None,
    }));
    let joined = parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    joined.chars().take(MAX_TEXT_CHARS).collect()
}

#[cfg(test)]
mod tests;
