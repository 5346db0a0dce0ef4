//! The credential as a PDF: page 1 the certificate, then the transcript of units.
//!
//! Every page is laid out (shaped, wrapped, fitted, QR-encoded) before anything is drawn:
//! all that can fail fails first, and drawing itself cannot fail, so an error never leaves
//! a half-drawn page (krilla asserts on a surface left mid-way).
use std::path::PathBuf;

use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::Document;
use time::macros::format_description;

use super::fonts::{Fonts, Style};
use super::text::{clean, Line, Shaper, Uncovered};
use super::{front, transcript};

/// Everything printed on a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub learner_name: String,
    pub qualification_code: String,
    pub qualification_title: String,
    pub qualification_level: u8,
    pub major_code: String,
    pub major_title: String,
    pub units: Vec<CertificateUnit>,
    /// The credential number, printed and encoded in the verification address.
    pub number: String,
    /// `None` while generated but not yet issued: the PDF then says "Not yet issued".
    pub issued_on: Option<time::Date>,
    pub centre_name: String,
    pub verify_url: String,
}

/// A unit achieved, as the transcript lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateUnit {
    pub code: String,
    pub title: String,
    pub level: u8,
    pub credits: u32,
}

/// Why a credential could not be rendered, in words an administrator can act on.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("The font file {} could not be read ({reason}). Install the credential fonts (see the README) or set ATTEST_FONT_DIR.", path.display())]
    FontUnreadable { path: PathBuf, reason: String },
    #[error("The font file {file} was not found under {}. Install the credential fonts (see the README) or point ATTEST_FONT_DIR at a folder holding it.", dir.display())]
    FontNotFound { file: String, dir: PathBuf },
    #[error("The {field} contains the character \"{ch}\" (U+{:04X}), which none of the installed fonts can print.", u32::from(*ch))]
    NoFontFor { field: String, ch: char },
    #[error("The {field} is too long to fit on the credential.")]
    TooLong { field: String },
    #[error("The verification address cannot be made into a QR code: {0}.")]
    Qr(String),
    #[error("The PDF could not be written: {0}.")]
    Write(String),
}

/// A4 portrait, in points.
pub(crate) const PAGE_WIDTH: f32 = 595.28;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;

/// No field printed on a credential is longer than this; longer is refused before layout
/// so a hostile value cannot make rendering slow.
const MAX_FIELD_CHARS: usize = 600;

/// Renders the certificate and its transcript as one PDF.
pub fn render(cert: &Certificate, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let cert = cleaned(cert);
    let ctx = Ctx {
        shaper: Shaper::new(fonts),
    };
    let front = front::Front::layout(&ctx, &cert)?;
    let transcript = transcript::Transcript::layout(&ctx, &cert)?;

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{} — {} {}",
                cert.learner_name, cert.qualification_code, cert.qualification_title
            ))
            .creator("attest".to_string()),
    );
    let settings = || {
        PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or(PdfError::Write("page size".into()))
    };
    {
        let mut page = document.start_page_with(settings()?);
        let mut surface = page.surface();
        front.draw(&mut surface, fonts);
        surface.finish();
        page.finish();
    }
    for index in 0..transcript.page_count() {
        let mut page = document.start_page_with(settings()?);
        let mut surface = page.surface();
        transcript.draw_page(&mut surface, fonts, index);
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(e.to_string()))
}

fn cleaned(cert: &Certificate) -> Certificate {
    Certificate {
        learner_name: clean(&cert.learner_name),
        qualification_code: clean(&cert.qualification_code),
        qualification_title: clean(&cert.qualification_title),
        qualification_level: cert.qualification_level,
        major_code: clean(&cert.major_code),
        major_title: clean(&cert.major_title),
        units: cert
            .units
            .iter()
            .map(|u| CertificateUnit {
                code: clean(&u.code),
                title: clean(&u.title),
                level: u.level,
                credits: u.credits,
            })
            .collect(),
        number: clean(&cert.number),
        issued_on: cert.issued_on,
        centre_name: clean(&cert.centre_name),
        // The address is encoded byte for byte; only its printed form is cleaned.
        verify_url: cert.verify_url.clone(),
    }
}

/// "24 Nov 2026".
pub(crate) fn format_date(date: time::Date) -> String {
    date.format(format_description!(
        "[day padding:none] [month repr:short] [year]"
    ))
    .unwrap_or_else(|_| date.to_string())
}

/// Shaping with errors that name the field.
pub(crate) struct Ctx<'f> {
    shaper: Shaper<'f>,
}

fn no_font(field: &str) -> impl Fn(Uncovered) -> PdfError + '_ {
    move |Uncovered(ch)| PdfError::NoFontFor {
        field: field.to_string(),
        ch,
    }
}

fn check_length(field: &str, text: &str) -> Result<(), PdfError> {
    if text.chars().count() > MAX_FIELD_CHARS {
        return Err(PdfError::TooLong {
            field: field.to_string(),
        });
    }
    Ok(())
}

impl Ctx<'_> {
    /// One line, however wide.
    pub(crate) fn line(&self, field: &str, text: &str, style: Style) -> Result<Line, PdfError> {
        check_length(field, text)?;
        self.shaper.line(text, style).map_err(no_font(field))
    }

    /// Lines at `size` no wider than `width` points, at most `max_lines` of them.
    pub(crate) fn wrap(
        &self,
        field: &str,
        text: &str,
        style: Style,
        size: f32,
        width: f32,
        max_lines: usize,
    ) -> Result<Vec<Line>, PdfError> {
        check_length(field, text)?;
        let lines = self
            .shaper
            .wrap(text, style, width / size)
            .map_err(no_font(field))?;
        if lines.len() > max_lines {
            return Err(PdfError::TooLong {
                field: field.to_string(),
            });
        }
        Ok(lines)
    }

    /// One line at the largest size from `max` down to `min` that fits `width`; failing
    /// that, wrapped into at most `max_lines` at the largest size from `min` down to a
    /// little smaller (a long name gets more lines before smaller type).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fit(
        &self,
        field: &str,
        text: &str,
        style: Style,
        max: f32,
        min: f32,
        width: f32,
        max_lines: usize,
    ) -> Result<(f32, Vec<Line>), PdfError> {
        let line = self.line(field, text, style)?;
        let size = if line.width > 0.0 {
            (width / line.width).min(max)
        } else {
            max
        };
        if size >= min {
            return Ok((size, vec![line]));
        }
        let smallest = (min * WRAP_SHRINK).floor();
        let mut size = min;
        loop {
            match self.wrap(field, text, style, size, width, max_lines) {
                Err(PdfError::TooLong { .. }) if size > smallest => size -= 1.0,
                result => return result.map(|lines| (size, lines)),
            }
        }
    }
}

/// How much smaller than its one-line minimum a wrapped field may be set.
const WRAP_SHRINK: f32 = 0.75;
