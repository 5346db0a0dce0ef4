//! Extraction from real files, each made here: a PDF drawn by attest's own PDF writer
//! (embedded, subset fonts, as real PDFs have), and a DOCX and an ODT zipped here.
use std::io::Write;

use super::*;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const ODT: &str = "application/vnd.oasis.opendocument.text";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

fn zipped(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in parts {
        zip.start_file(*name, stored).expect("start");
        zip.write_all(body.as_bytes()).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

pub(crate) fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| {
            // Two runs per paragraph, as Word splits them.
            let p = p.replace('&', "&amp;");
            let (a, b) = p.split_once(' ').unwrap_or((&p, ""));
            let a = format!("{a} ");
            format!(
                r#"<w:p><w:r><w:t xml:space="preserve">{a}</w:t></w:r><w:r><w:t>{b}</w:t></w:r></w:p>"#
            )
        })
        .collect();
    zipped(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#,
        ),
        (
            "word/document.xml",
            &format!(
                r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:sectPr/></w:body></w:document>"#
            ),
        ),
    ])
}

pub(crate) fn odt(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| {
            format!(
                "<text:p>{}</text:p>",
                p.replace("  ", r#" <text:s text:c="1"/>"#)
            )
        })
        .collect();
    zipped(&[
        ("mimetype", ODT),
        (
            "content.xml",
            &format!(
                r#"<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:automatic-styles><style>not text</style></office:automatic-styles><office:body><office:text><text:h>Reflective account</text:h>{body}</office:text></office:body></office:document-content>"#
            ),
        ),
    ])
}

fn text_of(read: FileText) -> String {
    match read {
        FileText::Text { text } => text,
        other => panic!("no text: {other:?}"),
    }
}

#[test]
fn a_docx_gives_its_paragraphs_on_lines_of_their_own() {
    let file = docx(&[
        "I greeted the customer & asked how I could help.",
        "She wanted a refund for a kettle.",
    ]);
    assert_eq!(
        text_of(read_file(DOCX, &file)),
        "I greeted the customer & asked how I could help.\nShe wanted a refund for a kettle."
    );
}

#[test]
fn an_odt_gives_its_heading_and_paragraphs_and_not_its_styles() {
    let file = odt(&[
        "I listened to the caller  and took notes.",
        "Then I rang back.",
    ]);
    assert_eq!(
        text_of(read_file(ODT, &file)),
        "Reflective account\nI listened to the caller  and took notes.\nThen I rang back."
    );
}

#[test]
fn a_presentation_gives_its_slides_in_order() {
    let slide = |t: &str| {
        format!(
            r#"<p:sld xmlns:p="p" xmlns:a="a"><p:txBody><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:txBody></p:sld>"#
        )
    };
    let (one, two, ten) = (slide("First"), slide("Second"), slide("Tenth"));
    let file = zipped(&[
        ("ppt/slides/slide10.xml", &ten),
        ("ppt/slides/slide2.xml", &two),
        ("ppt/slides/slide1.xml", &one),
    ]);
    assert_eq!(text_of(read_file(PPTX, &file)), "First\nSecond\nTenth");
}

#[test]
fn a_pdf_drawn_by_attest_gives_its_text_layer() {
    let fonts = crate::credentials::fonts::Fonts::from_env().expect("fonts (see README)");
    let record = crate::credentials::record::SignedRecord {
        kind: "Witness testimony".into(),
        centre_name: "Riverside College".into(),
        learner_name: "Amira Hassan".into(),
        qualification: "Level 2 Diploma in Customer Service".into(),
        title: "Handling a complaint".into(),
        version: 1,
        standing: "Signed".into(),
        sections: vec![(
            "Account".into(),
            "Amira calmed an upset customer and offered a replacement within the refund policy."
                .into(),
        )],
        signatures: vec![],
        verify_url: "https://attest.example/v/1".into(),
    };
    let pdf = crate::credentials::record::render_record(&record, &fonts).expect("pdf");
    let text = text_of(read_file("application/pdf", &pdf));
    let words: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("calmed an upset customer and offered a replacement"),
        "{words}"
    );
}

#[test]
fn files_without_text_say_why() {
    assert_eq!(
        read_file("image/jpeg", b"\xff\xd8\xff"),
        FileText::NoText { why: NoText::Photo }
    );
    assert_eq!(
        read_file("video/mp4", b"...."),
        FileText::NoText { why: NoText::Video }
    );
    assert_eq!(
        read_file("application/msword", b"\xd0\xcf\x11\xe0"),
        FileText::NoText {
            why: NoText::FormatNotRead
        }
    );
    assert_eq!(
        read_file(crate::domain::file_type::TEXT.mime, b"  \n\n "),
        FileText::NoText { why: NoText::Empty }
    );
}

#[test]
fn damaged_files_are_unreadable_not_a_panic() {
    for (mime, bytes) in [
        ("application/pdf", &b"%PDF-1.7 then nothing of a PDF"[..]),
        (DOCX, &b"PK\x03\x04 not really a zip"[..]),
        (
            ODT,
            &zipped(&[("content.xml", "<office:body><text:p>mismatched</text:h>")])[..],
        ),
    ] {
        assert!(
            matches!(read_file(mime, bytes), FileText::Unreadable { .. }),
            "{mime}"
        );
    }
}

#[test]
fn a_zip_that_inflates_without_end_is_read_only_to_its_bound() {
    // A part far larger than the text kept: the text stops at the bound, and reading stops.
    let long = "word ".repeat(2 * MAX_TEXT_CHARS);
    let text = text_of(read_file(DOCX, &docx(&[&long])));
    assert_eq!(text.chars().count(), MAX_TEXT_CHARS);
}

#[test]
fn plain_text_is_tidied_and_an_item_reads_title_description_then_files() {
    let file = read_file(
        crate::domain::file_type::TEXT.mime,
        "\u{feff}  First line  \n\n\n\nSecond line\n".as_bytes(),
    );
    assert_eq!(
        file,
        FileText::Text {
            text: "First line\n\nSecond line".into()
        }
    );
    let photo = FileText::NoText { why: NoText::Photo };
    assert_eq!(
        item_text("  Refund  ", "At the till.", [&file, &photo]),
        "Refund\n\nAt the till.\n\nFirst line\n\nSecond line"
    );
}

#[test]
fn the_page_says_what_the_reading_found_for_each_file() {
    let note = |v: serde_json::Value| file_note(&v);
    assert_eq!(
        note(serde_json::json!({"outcome": "text", "words": 412})).as_deref(),
        Some("text read: 412 words")
    );
    assert_eq!(
        note(serde_json::to_value(FileText::NoText { why: NoText::Video }).unwrap()).as_deref(),
        Some("a video: no text to read")
    );
    assert_eq!(
        note(serde_json::json!({"outcome": "unreadable", "why": "the file is damaged"})).as_deref(),
        Some("its text could not be read: the file is damaged")
    );
    assert_eq!(note(serde_json::json!({"outcome": "later"})), None);
}
