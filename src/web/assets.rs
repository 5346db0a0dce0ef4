//! Static files are compiled in, so the binary serves them wherever it runs.
use std::io::Write;
use std::sync::OnceLock;

use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::ids::Ids;
use super::AppError;

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "attest.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/attest.css"),
    ),
    (
        "print.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/print.css"),
    ),
    // htmx 2.0.11 (BSD Zero Clause; static/htmx.LICENSE), unmodified from npm's htmx.org.
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/htmx.min.js"),
    ),
    (
        "offline.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/offline.js"),
    ),
    (
        "sw.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/sw.js"),
    ),
    (
        "manifest.webmanifest",
        "application/manifest+json",
        include_bytes!("../../static/manifest.webmanifest"),
    ),
    (
        "icon-192.png",
        "image/png",
        include_bytes!("../../static/icon-192.png"),
    ),
    (
        "icon-512.png",
        "image/png",
        include_bytes!("../../static/icon-512.png"),
    ),
];

/// Each file's gzip, made once at the best level on first use.
static GZIPPED: OnceLock<Vec<Vec<u8>>> = OnceLock::new();

fn gzipped() -> &'static [Vec<u8>] {
    GZIPPED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(_, _, body)| {
                let mut out = GzEncoder::new(Vec::new(), Compression::best());
                // Writing to memory cannot fail; an empty gzip would only be larger.
                let _ = out.write_all(body);
                out.finish().unwrap_or_default()
            })
            .collect()
    })
}

pub(crate) async fn asset(
    Ids(file): Ids<String>,
    headers: HeaderMap,
) -> Result<axum::response::Response, AppError> {
    served(&file, &headers, "public, max-age=3600")
}

/// The service worker, from the root so that it may serve every page (a worker's reach
/// is its own folder), and always checked for a newer one.
pub(crate) async fn service_worker(
    headers: HeaderMap,
) -> Result<axum::response::Response, AppError> {
    served("sw.js", &headers, "no-cache")
}

fn served(
    file: &str,
    headers: &HeaderMap,
    cache_control: &'static str,
) -> Result<axum::response::Response, AppError> {
    let at = ASSETS
        .iter()
        .position(|(name, _, _)| *name == file)
        .ok_or(AppError::NotFound)?;
    let (_, content_type, body) = ASSETS[at];
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let common = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, cache_control),
        (header::VARY, "accept-encoding"),
    ];
    Ok(if gzip {
        (
            common,
            [(header::CONTENT_ENCODING, "gzip")],
            gzipped()[at].clone(),
        )
            .into_response()
    } else {
        (common, body).into_response()
    })
}
