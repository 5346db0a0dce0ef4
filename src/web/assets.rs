//! Static files are compiled in, so the binary serves them wherever it runs.
use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;

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

pub async fn asset(Path(file): Path<String>) -> Result<impl IntoResponse, AppError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        *body,
    ))
}
