//! Qualifications in the browser: import a file (every error listed, nothing imported
//! on error) and browse a version's units, criteria and majors with their rules.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::admin;
use crate::db::qualifications::{self, VersionSummary};
use crate::db::users::User;
use crate::db::{activity, DbError};
use crate::domain::describe::describe_major;
use crate::domain::import::{self, Format, ImportError};
use crate::domain::text::clean_file_name;
use crate::domain::Qualification;
use crate::web::auth::CurrentUser;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// Qualification files are small; anything bigger is not one.
pub(crate) const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

/// The import form's body: the file at its limit, and room for the form around it.
pub(crate) const MAX_BODY_BYTES: usize = MAX_FILE_BYTES + 64 * 1024;

const TOO_BIG: &str =
    "The file is over the 2 MB limit for a qualification file. Nothing was imported";

pub(super) enum FileProblem {
    /// The file, or the form, went over its limit.
    TooBig,
    /// The body ended before the form did, or was not a form.
    Interrupted,
}

/// The form's `file` field, whole: its name and bytes (none if the form had no file).
pub(super) async fn read_file(
    multipart: &mut Multipart,
    max_bytes: usize,
) -> Result<Option<(String, Vec<u8>)>, FileProblem> {
    let problem = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            FileProblem::TooBig
        } else {
            FileProblem::Interrupted
        }
    };
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(problem)? {
        if field.name() != Some("file") {
            continue;
        }
        // Shown back on the page: cleaned like an evidence file's name, blank kept blank.
        let name = field
            .file_name()
            .filter(|n| !n.is_empty())
            .map(clean_file_name)
            .unwrap_or_default();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(problem)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > max_bytes {
                return Err(FileProblem::TooBig);
            }
        }
        file = Some((name, bytes));
    }
    Ok(file)
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/qualifications.html")]
pub(crate) struct QualificationsPage {
    user: User,
    versions: Vec<VersionSummary>,
    /// The file's name and every error in it, after a failed import.
    file_name: String,
    file_problem: Option<String>,
    import_errors: Vec<ImportError>,
}

pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<QualificationsPage, AppError> {
    let user = admin(current)?;
    let versions = qualifications::list_versions(&state.pool, user.centre_id).await?;
    Ok(QualificationsPage {
        user,
        versions,
        file_name: String::new(),
        file_problem: None,
        import_errors: Vec::new(),
    })
}

pub async fn import(
    State(state): State<AppState>,
    current: CurrentUser,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    // Read whole or not at all: a body cut short at a limit must never be taken for
    // the file (a 3 MB file once imported 17 of its 30 units).
    let (file, problem) = match read_file(&mut multipart, MAX_FILE_BYTES).await {
        Ok(file) => (file, None),
        Err(problem) => (None, Some(problem)),
    };
    let pool = state.pool.clone();
    let again = |user: User,
                 file_name: String,
                 problem: Option<String>,
                 errors: Vec<ImportError>| async move {
        let versions = qualifications::list_versions(&pool, user.centre_id).await?;
        let page = QualificationsPage {
            user,
            versions,
            file_name,
            file_problem: problem,
            import_errors: errors,
        };
        Ok::<Response, AppError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    if let Some(problem) = problem {
        let (status, message) = match problem {
            FileProblem::TooBig => (StatusCode::PAYLOAD_TOO_LARGE, TOO_BIG),
            FileProblem::Interrupted => (
                StatusCode::BAD_REQUEST,
                "The upload was interrupted; nothing was imported. Try again",
            ),
        };
        let mut page = again(user, String::new(), Some(message.into()), Vec::new()).await?;
        *page.status_mut() = status;
        return Ok(page);
    }
    let Some((name, bytes)) = file.filter(|(name, bytes)| !name.is_empty() || !bytes.is_empty())
    else {
        return again(
            user,
            String::new(),
            Some("Select a qualification file (TOML or JSON)".into()),
            Vec::new(),
        )
        .await;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return again(
            user,
            name,
            Some("The file must be text (UTF-8), in TOML or JSON".into()),
            Vec::new(),
        )
        .await;
    };
    let q = match import::parse(&text, Format::from_path(&name)) {
        Ok(q) => q,
        Err(errors) => return again(user, name, None, errors.0).await,
    };
    let outcome = qualifications::import(&state.pool, user.centre_id, &q, Some(user.id)).await?;
    if outcome.created {
        let detail = serde_json::json!({ "code": q.code, "version": outcome.version });
        activity::record(
            &state.pool,
            user.centre_id,
            None,
            Some(user.id),
            "qualification imported",
            detail,
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/admin/qualifications/{}", outcome.version_id)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/qualification.html")]
pub(crate) struct QualificationPage {
    user: User,
    summary: VersionSummary,
    q: Qualification,
    /// Each major's rules in plain words, in major order.
    rules: Vec<Vec<String>>,
}

pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(version_id): Ids<Uuid>,
) -> Result<QualificationPage, AppError> {
    let user = admin(current)?;
    let summary = match qualifications::get_version(&state.pool, version_id).await {
        Ok(s) => s,
        Err(DbError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let loaded = qualifications::load_version(&state.pool, version_id).await?;
    if loaded.qualification_id != summary.qualification_id
        || !belongs(&state, &user, version_id).await?
    {
        return Err(AppError::NotFound);
    }
    let q = loaded.qualification;
    let rules = q.majors.iter().map(|m| describe_major(&q, m)).collect();
    Ok(QualificationPage {
        user,
        summary,
        q,
        rules,
    })
}

/// Versions of other centres do not exist for this admin.
async fn belongs(state: &AppState, user: &User, version_id: Uuid) -> Result<bool, AppError> {
    let versions = qualifications::list_versions(&state.pool, user.centre_id).await?;
    Ok(versions.iter().any(|v| v.version_id == version_id))
}
