//! Resumable uploads over HTTP: a subset of tus 1.0 (core and creation, with
//! termination), so a phone on a poor network sends a big video in pieces and a dropped
//! connection resumes where it stopped. The offline queue (static/offline.js) creates an
//! upload per file, sends its pieces, and then sends the evidence form naming the
//! uploads instead of carrying the files; the form without JavaScript is unchanged.
//!
//! POST   …/uploads          Upload-Length, Upload-Metadata (filename) → 201, Location
//! HEAD   …/uploads/{upload} → Upload-Offset, Upload-Length
//! PATCH  …/uploads/{upload} Upload-Offset, application/offset+octet-stream → 204
//! DELETE …/uploads/{upload} → 204 (an upload no item took)
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use uuid::Uuid;

use super::enrolment_for;
use crate::db::uploads::{self, NewUpload, Upload};
use crate::domain::text::clean_file_name;
use crate::web::auth::CurrentUser;
use crate::web::files::UploadError;
use crate::web::ids::Ids;
use crate::web::resumable::AppendError;
use crate::web::{AppError, AppState};

const TUS_VERSION: &str = "1.0.0";
const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const PIECE_TYPE: &str = "application/offset+octet-stream";

/// Unfinished or unused uploads one person may have at once: a queue of a day's
/// evidence fits many times over, and a runaway client cannot fill the disk with them.
const MOST_OPEN: i64 = 100;

/// How long an upload may wait to be finished and used: a phone may be out of signal
/// for a long weekend with a video half sent.
const LASTS: time::Duration = time::Duration::days(7);

/// Expired uploads removed by each new one, so the removal stays a small, bounded part
/// of a request.
const SWEEP: i64 = 20;

/// An answer in tus's terms: a status, a plain reason, and the headers that say where
/// the upload stands.
fn answer(status: StatusCode, headers: &[(HeaderName, String)], reason: &str) -> Response {
    let mut response = (status, reason.to_string()).into_response();
    let h = response.headers_mut();
    h.insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name.clone(), v);
        }
    }
    response
}

fn refused(status: StatusCode, reason: &str) -> Response {
    answer(status, &[], reason)
}

/// A client of another tus version is told so before anything else.
fn other_version(headers: &HeaderMap) -> Option<Response> {
    match headers.get(&TUS_RESUMABLE).map(|v| v.to_str()) {
        None | Some(Ok(TUS_VERSION)) => None,
        Some(_) => Some(answer(
            StatusCode::PRECONDITION_FAILED,
            &[(HeaderName::from_static("tus-version"), TUS_VERSION.into())],
            "Only tus 1.0.0 is spoken here",
        )),
    }
}

fn number(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The file name from Upload-Metadata (`filename <base64>`, among others).
fn file_name(headers: &HeaderMap) -> String {
    let name = headers
        .get(&UPLOAD_METADATA)
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|v| v.split(','))
        .filter_map(|pair| {
            let mut parts = pair.trim().splitn(2, ' ');
            match (parts.next(), parts.next()) {
                (Some("filename"), Some(value)) => base64::engine::general_purpose::STANDARD
                    .decode(value.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok()),
                _ => None,
            }
        })
        .next()
        .unwrap_or_default();
    clean_file_name(if name.trim().is_empty() {
        "file"
    } else {
        &name
    })
}

/// The enrolment, if the viewer may add evidence to it; unknown otherwise.
async fn may_upload(
    state: &AppState,
    user: &crate::db::users::User,
    id: Uuid,
) -> Result<(), AppError> {
    let (_, capacity) = enrolment_for(state, user, id).await?;
    if !capacity.may_add_evidence() {
        return Err(AppError::NotFound);
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(r) = other_version(&headers) {
        return Ok(r);
    }
    may_upload(&state, &user, id).await?;
    let Some(length) = number(&headers, &UPLOAD_LENGTH) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            "Say the file's length in bytes (Upload-Length)",
        ));
    };
    let most = state.files.largest_bytes();
    if length > most {
        return Ok(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "The file is larger than the {} MB limit",
                most.div_ceil(1024 * 1024)
            ),
        ));
    }
    for gone in uploads::remove_expired(&state.pool, SWEEP).await? {
        remove_bytes(&state, gone).await;
    }
    if uploads::open_count(&state.pool, user.id).await? >= MOST_OPEN {
        return Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            "You have too many unfinished uploads: finish or discard some first",
        ));
    }
    let upload = Uuid::new_v4();
    let name = file_name(&headers);
    // The row first: bytes without a row would never be swept.
    uploads::create(
        &state.pool,
        &NewUpload {
            id: upload,
            enrolment_id: id,
            owner_id: user.id,
            file_name: &name,
            length: i64::try_from(length).map_err(|e| AppError::Internal(e.into()))?,
            lasts: LASTS,
        },
    )
    .await?;
    if let Err(e) = state.files.start_resumable(upload).await {
        uploads::remove(&state.pool, upload).await?;
        return Ok(upload_refused(e));
    }
    Ok(answer(
        StatusCode::CREATED,
        &[
            (
                header::LOCATION,
                format!("/enrolments/{id}/uploads/{upload}"),
            ),
            (UPLOAD_OFFSET, "0".into()),
        ],
        "",
    ))
}

/// Upload `upload` if it is the viewer's, for enrolment `id`, which they may still add
/// evidence to; unknown otherwise.
async fn own_upload(
    state: &AppState,
    user: &crate::db::users::User,
    id: Uuid,
    upload: Uuid,
) -> Result<Upload, AppError> {
    may_upload(state, user, id).await?;
    uploads::get(&state.pool, upload, user.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Where an upload stands (HEAD, and GET alike).
pub async fn offset(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, upload)): Ids<(Uuid, Uuid)>,
) -> Result<Response, AppError> {
    let upload = own_upload(&state, &user, id, upload).await?;
    let at = state
        .files
        .resumable_offset(upload.id)
        .await
        .map_err(held_elsewhere)?;
    Ok(answer(
        StatusCode::OK,
        &[
            (UPLOAD_OFFSET, at.to_string()),
            (UPLOAD_LENGTH, upload.length.to_string()),
        ],
        "",
    ))
}

/// Appends one piece; the last piece also judges the file by its content.
pub async fn append(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, upload)): Ids<(Uuid, Uuid)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    if let Some(r) = other_version(&headers) {
        return Ok(r);
    }
    let upload = own_upload(&state, &user, id, upload).await?;
    let piece = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.eq_ignore_ascii_case(PIECE_TYPE));
    if !piece {
        return Ok(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the piece as application/offset+octet-stream",
        ));
    }
    let Some(offset) = number(&headers, &UPLOAD_OFFSET) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            "Say where the piece starts (Upload-Offset)",
        ));
    };
    if upload.content_type.is_some() {
        return Ok(answer(
            StatusCode::CONFLICT,
            &[(UPLOAD_OFFSET, upload.length.to_string())],
            "This upload is complete",
        ));
    }
    let appended = match state.files.append_resumable(&upload, offset, body).await {
        Ok(appended) => appended,
        Err(AppendError::NotAt(at)) => {
            return Ok(answer(
                StatusCode::CONFLICT,
                &[(UPLOAD_OFFSET, at.to_string())],
                &AppendError::NotAt(at).to_string(),
            ))
        }
        Err(e @ AppendError::Busy) => return Ok(refused(StatusCode::CONFLICT, &e.to_string())),
        Err(AppendError::Upload(UploadError::Io(e))) => return Err(held_elsewhere(e)),
        Err(e @ AppendError::PastLength(_)) => {
            return Ok(refused(StatusCode::BAD_REQUEST, &e.to_string()))
        }
        Err(AppendError::Upload(e)) => return discarded(&state, &upload, e).await,
    };
    if appended.offset == u64::try_from(upload.length).unwrap_or_default() && !appended.cut_short {
        match state
            .files
            .finish_resumable(upload.id, &upload.file_name)
            .await
        {
            Ok((content_type, sha256)) => {
                uploads::complete(&state.pool, upload.id, &content_type, &sha256).await?
            }
            Err(e) => return discarded(&state, &upload, e).await,
        }
    }
    Ok(answer(
        StatusCode::NO_CONTENT,
        &[(UPLOAD_OFFSET, appended.offset.to_string())],
        "",
    ))
}

/// An upload refused for what it is (too big for its kind, not on the list) is gone:
/// sending it again cannot help.
async fn discarded(
    state: &AppState,
    upload: &Upload,
    e: UploadError,
) -> Result<Response, AppError> {
    if matches!(
        e,
        UploadError::TooBig { .. } | UploadError::NotAllowed { .. }
    ) {
        uploads::remove(&state.pool, upload.id).await?;
        remove_bytes(state, upload.id).await;
    }
    Ok(upload_refused(e))
}

/// An upload's pieces are on the disk of the server that began it. Reached through
/// another (no affinity at the proxy, or that server is gone), it is not found here, and
/// the client starts it again, as it does for an expired upload.
fn held_elsewhere(e: std::io::Error) -> AppError {
    if e.kind() == std::io::ErrorKind::NotFound {
        AppError::NotFound
    } else {
        AppError::Internal(e.into())
    }
}

fn upload_refused(e: UploadError) -> Response {
    let status = match e {
        UploadError::TooBig { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        UploadError::NotAllowed { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        UploadError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
        UploadError::Interrupted(_) => StatusCode::BAD_REQUEST,
        UploadError::Io(ref io) => {
            tracing::error!(error = %io, "an upload could not be written");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        // Pieces stay on this server's disk; the bucket is only reached when kept.
        UploadError::Store(ref s) => {
            tracing::error!(error = %s, "an upload could not be stored");
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    refused(status, &format!("The file {e}"))
}

/// Discards an upload no item took (the queue's "discard").
pub async fn discard(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, upload)): Ids<(Uuid, Uuid)>,
) -> Result<Response, AppError> {
    let upload = own_upload(&state, &user, id, upload).await?;
    if !uploads::remove(&state.pool, upload.id).await? {
        return Err(AppError::Conflict(
            "This upload belongs to an evidence item now; it stays with it".into(),
        ));
    }
    remove_bytes(&state, upload.id).await;
    Ok(answer(StatusCode::NO_CONTENT, &[], ""))
}

/// Bytes whose row is gone: a failure leaves a file no row names, logged, harmless.
async fn remove_bytes(state: &AppState, upload: Uuid) {
    if let Err(e) = state.files.remove_resumable(upload).await {
        tracing::warn!(%upload, error = %e, "an upload's bytes could not be removed");
    }
}
