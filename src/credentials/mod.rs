//! The credential's outputs (SPEC §6): the PDF certificate with its transcript, the
//! print page's QR code, and the signed Open Badges credential.
use crate::domain::credential_number::CredentialNumber;

mod draw;
pub mod fonts;
mod front;
mod layout;
pub mod multibase;
pub mod pdf;
mod qr;
mod qr_svg;
pub mod record;
pub mod sealing;
pub mod store;
mod text;
mod transcript;
pub mod vc;

pub use fonts::{Fallback, FontFiles, Fonts, FONT_DIR_ENV};
pub use layout::{Certificate, CertificateUnit, PdfError};
pub use pdf::render;
pub use qr_svg::qr_svg;

/// A new credential number from the operating system's randomness. A clash with an
/// existing number (one in 2^60 per pair) fails the register's unique constraint;
/// the caller draws again.
pub fn fresh_number() -> Result<CredentialNumber, getrandom::Error> {
    let mut bytes = [0u8; CredentialNumber::RANDOM_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(CredentialNumber::from_random(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fresh_numbers_differ() {
        let drawn: std::collections::HashSet<_> =
            (0..100).map(|_| super::fresh_number().unwrap()).collect();
        assert_eq!(drawn.len(), 100);
    }
}
