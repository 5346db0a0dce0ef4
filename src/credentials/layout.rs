//! What a credential's pages are laid out from and with: the certificate's fields, the
//! page size, and the shaping context whose errors name the field. Shared by the
//! certificate's front and its transcript, which `pdf` puts together.
use std::path::PathBuf;

use time::macros::format_description;

use super::fonts::Style;
use super::text::{Line, Shaper, Uncovered};

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

impl<'f> Ctx<'f> {
    pub(crate) fn new(shaper: Shaper<'f>) -> Self {
        Ctx { shaper }
    }
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
