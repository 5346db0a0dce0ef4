//! Credentials as documents: the PDF certificate with its transcript (SPEC §6).
mod draw;
pub mod fonts;
mod front;
pub mod pdf;
mod qr;
mod text;
mod transcript;

pub use fonts::{Fallback, FontFiles, Fonts, FONT_DIR_ENV};
pub use pdf::{render, Certificate, CertificateUnit, PdfError};
