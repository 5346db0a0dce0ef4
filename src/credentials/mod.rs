//! The credential's outputs (SPEC §6).
use crate::domain::credential_number::CredentialNumber;

pub mod jcs;
pub mod multibase;
mod qr_svg;
pub mod vc;

pub use qr_svg::qr_svg;

/// A new credential number from the operating system's randomness. A clash with an
/// existing number (one in 2^60 per pair) fails the register's unique constraint;
/// the caller draws again.
pub fn fresh_number() -> Result<CredentialNumber, getrandom::Error> {
    let mut bytes = [0u8; CredentialNumber::RANDOM_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(CredentialNumber::from_random(bytes))
}

/// The PDF renderer for the worker and the pages. (Wired to the PDF module on merge.)
pub fn renderer(_public_url: &str) -> crate::jobs::Renderer {
    std::sync::Arc::new(|_| {
        Err(crate::jobs::RenderError::Permanent(
            "PDF rendering is not available yet".into(),
        ))
    })
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
