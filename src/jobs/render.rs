//! The credential renderer the worker and the pages share: the register entry made into
//! the certificate's fields, printed with fonts loaded on first use.
use std::sync::Arc;

use super::{RenderError, Renderer};
use crate::credentials::{render, Certificate, CertificateUnit, FontFiles, Fonts, PdfError};
use crate::db::credentials::Credential;
use crate::domain::credential_number::CredentialNumber;

/// What the certificate shows, from the register entry.
pub fn certificate(c: &Credential, public_url: &str) -> Certificate {
    let verify_url = match CredentialNumber::parse(&c.number) {
        Ok(n) => format!("{public_url}/verify/{}", n.url_segment()),
        Err(_) => format!("{public_url}/verify/{}", c.number),
    };
    Certificate {
        learner_name: c.learner_name.clone(),
        qualification_code: c.qualification_code.clone(),
        qualification_title: c.qualification_title.clone(),
        qualification_level: c.qualification_level,
        major_code: c.major_code.clone(),
        major_title: c.major_title.clone(),
        units: c
            .units
            .iter()
            .map(|u| CertificateUnit {
                code: u.code.clone(),
                title: u.title.clone(),
                level: u.level,
                credits: u.credits,
            })
            .collect(),
        number: c.number.clone(),
        issued_on: c.issued_at.map(|at| at.date()),
        centre_name: c.centre_name.clone(),
        verify_url,
    }
}

/// The PDF renderer for the worker and the pages, with the fonts the environment names
/// (ATTEST_FONT_DIR, else Debian's font folders). Fonts that cannot be loaded make a
/// rendering fail with the reason, so the credential lands in Credential Failed to
/// Generate showing it; they are looked for again on the next rendering, so Retry works
/// as soon as they are installed, without a restart.
pub fn renderer(public_url: &str) -> Renderer {
    with_fonts(public_url, Fonts::from_env)
}

/// `renderer` with the fonts found under `dir`.
pub fn renderer_with_fonts(public_url: &str, dir: &str) -> Renderer {
    let dir = std::path::PathBuf::from(dir);
    with_fonts(public_url, move || {
        FontFiles::find_in(&dir).and_then(|f| Fonts::load(&f))
    })
}

fn with_fonts(
    public_url: &str,
    load: impl Fn() -> Result<Fonts, PdfError> + Send + Sync + 'static,
) -> Renderer {
    let public_url = public_url.trim_end_matches('/').to_string();
    let loaded: std::sync::Mutex<Option<Arc<Fonts>>> = std::sync::Mutex::new(None);
    Arc::new(move |c| {
        let fonts = {
            let mut slot = loaded.lock().unwrap_or_else(|p| p.into_inner());
            match slot.as_ref() {
                Some(f) => Arc::clone(f),
                None => {
                    let f = Arc::new(load().map_err(|e| RenderError::Permanent(e.to_string()))?);
                    *slot = Some(Arc::clone(&f));
                    f
                }
            }
        };
        render(&certificate(c, &public_url), &fonts)
            .map_err(|e| RenderError::Permanent(e.to_string()))
    })
}

/// The fonts signed records are printed with, loaded on first use and kept; looked for
/// again after a failure (as the credential renderer does), so installing them works
/// without a restart.
pub fn record_fonts() -> Result<Arc<Fonts>, PdfError> {
    static LOADED: std::sync::Mutex<Option<Arc<Fonts>>> = std::sync::Mutex::new(None);
    let mut slot = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(f) = slot.as_ref() {
        return Ok(Arc::clone(f));
    }
    let fonts = Arc::new(Fonts::from_env()?);
    *slot = Some(Arc::clone(&fonts));
    Ok(fonts)
}
