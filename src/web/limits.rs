//! How long one request may take. Connections are bounded where they are served
//! (`listen`: the time to send a request's headers, and to sit idle between requests);
//! this bounds the work behind each request, so that nothing a client or a stuck
//! statement does holds a request open for good.
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppError;

/// Any page or action: far beyond what any of them takes.
pub(crate) const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// A form with files: the body is read inside the handler, so the deadline covers the
/// upload too; ten minutes moves a form at the body limit over a slow link.
pub(crate) const UPLOAD_DEADLINE: Duration = Duration::from_secs(600);

/// The deadline covers the time to the response's headers; a response that streams
/// its body (a CSV export, a file) is not cut off once it has started.
pub async fn deadline(request: Request, next: Next) -> Response {
    let limit = if is_upload(&request) {
        UPLOAD_DEADLINE
    } else {
        REQUEST_DEADLINE
    };
    let path = request.uri().path().to_string();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%path, ?limit, "request took too long");
            AppError::Unavailable.into_response()
        }
    }
}

/// A form with files, or a piece of a resumable upload.
fn is_upload(request: &Request) -> bool {
    let kind = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim_start().to_ascii_lowercase())
        .unwrap_or_default();
    (request.method() == Method::POST && kind.starts_with("multipart/form-data"))
        || (request.method() == Method::PATCH
            && kind.starts_with("application/offset+octet-stream"))
}
