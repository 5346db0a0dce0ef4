//! The credential as a PDF: page 1 the certificate, then the transcript of units.
//!
//! Every page is laid out (shaped, wrapped, fitted, QR-encoded) before anything is drawn:
//! all that can fail fails first, and drawing itself cannot fail, so an error never leaves
//! a half-drawn page (krilla asserts on a surface left mid-way).
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::Document;

use super::fonts::Fonts;
use super::layout::{Certificate, CertificateUnit, Ctx, PdfError, PAGE_HEIGHT, PAGE_WIDTH};
use super::text::{clean, Shaper};
use super::{front, transcript};

/// Renders the certificate and its transcript as one PDF.
pub fn render(cert: &Certificate, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let cert = cleaned(cert);
    let ctx = Ctx::new(Shaper::new(fonts));
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
