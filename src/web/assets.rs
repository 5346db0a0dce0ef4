//! Static files are compiled in, so the binary serves them wherever it runs.
use std::io::Write;
use std::sync::OnceLock;

use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::ids::Ids;
use super::AppError;

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "attest.css",
        "text/css; charset=utf-8",
        include_str!("../../static/attest.css"),
    ),
    (
        "print.css",
        "text/css; charset=utf-8",
        include_str!("../../static/print.css"),
    ),
    // htmx 2.0.11 (BSD Zero Clause; static/htmx.LICENSE), unmodified from npm's htmx.org.
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/htmx.min.js"),
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
                let _ = out.write_all(body.as_bytes());
                out.finish().unwrap_or_default()
            })
            .collect()
    })
}

pub(crate) async fn asset(
    Ids(file): Ids<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
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
        (header::CACHE_CONTROL, "public, max-age=3600"),
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
