//! An evidence file, served to the enrolment's people only: from this server's disk in
//! the byte ranges a player asks for, or (with a bucket) by a redirect to a short-lived
//! presigned address, always after the access check.
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::enrolment_for;
use crate::db::evidence as db_evidence;
use crate::domain::text::clean_file_name;
use crate::storage::StorageError;
use crate::web::auth::CurrentUser;
use crate::web::files::Kept;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// Files are for the enrolment's people only. A photo, video or audio recording (as its
/// content shows, judged again as it is served) is sent to be shown in the page, in the
/// byte ranges a player asks for so that it can seek; anything else is only ever an
/// attachment, so a file can never run as a page of this site.
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, evidence_id, file_id)): Ids<(Uuid, Uuid, Uuid)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    enrolment_for(&state, &user, id).await?;
    let evidence = db_evidence::get(&state.pool, evidence_id).await?;
    if evidence.enrolment_id != id {
        return Err(AppError::NotFound);
    }
    let files = db_evidence::list_files(&state.pool, evidence_id).await?;
    let file = files
        .into_iter()
        .find(|f| f.id == file_id)
        .ok_or(AppError::NotFound)?;
    if file.removed_at.is_some() {
        return Ok((
            StatusCode::GONE,
            "This file was removed from storage: the portfolio is past its retention period, or its learner's data was erased.",
        )
            .into_response());
    }
    let kept = state
        .files
        .locate(&file.storage_key)
        .ok_or(AppError::NotFound)?;
    // Cleaned again for names kept before names were cleaned as they arrived.
    let name = clean_file_name(&file.file_name);
    match kept {
        Kept::Disk(path) => {
            let head = crate::web::files::head_of(&path)
                .await
                .map_err(|_| AppError::NotFound)?;
            let (mime, disposition) = served_as(&head, &name)?;
            from_disk(&path, &mime, &disposition, &headers).await
        }
        Kept::Object(bucket, key) => {
            let head = bucket
                .get_start(&key, crate::web::files::HEAD_BYTES)
                .await
                .map_err(|e| match e {
                    StorageError::NotFound(_) => AppError::NotFound,
                    e => {
                        tracing::error!(error = %e, "an evidence file could not be read");
                        AppError::Unavailable
                    }
                })?;
            let (mime, disposition) = served_as(&head, &name)?;
            // The access check above has passed: the bucket serves the bytes (ranges
            // included) for a few minutes, from an address of another origin.
            let url = bucket.presigned_get(&key, mime.as_ref(), &disposition, LINK_LIFETIME);
            Ok((
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, url.to_string()),
                    (header::CACHE_CONTROL, "private, no-store".to_string()),
                ],
            )
                .into_response())
        }
    }
}

/// How long a download's presigned address lasts: long enough to start a video and
/// seek in it, short enough that a copied address soon stops working.
const LINK_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The type and disposition a file is sent with, from its start: a photo, video or
/// audio recording is shown in the page; anything else is only ever an attachment.
fn served_as(head: &[u8], name: &str) -> Result<(mime::Mime, String), AppError> {
    let shown = crate::web::files::judge(head)
        .ok()
        .filter(|t| t.family.plays_in_page());
    let mime: mime::Mime = shown
        .map_or("application/octet-stream", |t| t.mime)
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a listed type: {e}")))?;
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let utf8: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let how = if shown.is_some() {
        "inline"
    } else {
        "attachment"
    };
    Ok((
        mime,
        format!("{how}; filename=\"{ascii}\"; filename*=UTF-8''{utf8}"),
    ))
}

/// A file from this server's disk, in the byte ranges a player asks for.
async fn from_disk(
    path: &std::path::Path,
    mime: &mime::Mime,
    disposition: &str,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    // Ranges, If-Range and Last-Modified as tower-http serves any file.
    let mut request = axum::http::Request::new(axum::body::Body::empty());
    for name in [header::RANGE, header::IF_RANGE, header::IF_MODIFIED_SINCE] {
        if let Some(v) = headers.get(&name) {
            request.headers_mut().insert(name, v.clone());
        }
    }
    let served = tower::ServiceExt::oneshot(
        tower_http::services::ServeFile::new_with_mime(path, mime),
        request,
    )
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let mut response = served.map(axum::body::Body::new);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition
            .parse()
            .map_err(|e: header::InvalidHeaderValue| AppError::Internal(e.into()))?,
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    // Personal data: kept by no shared cache, and never framed or scripted elsewhere.
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}
