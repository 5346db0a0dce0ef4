//! Bulk onboarding in the browser (issue 12, point 3): upload a CSV, read a preview of
//! every row, confirm "Import N rows", then follow the new people's set-password emails.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::admin;
use super::qualifications::{read_file, FileProblem};
use crate::db::onboarding::{self, Confirmed, Upload, UploadLine};
use crate::db::users::User;
use crate::db::{outbox, DbError};
use crate::domain::mail::Delivery;
use crate::domain::onboarding::{self as plan, Counts, Plan, RowPlan};
use crate::domain::text::{clean_file_name, thousands};
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// 100,000 rows of a centre's records fit well inside this.
pub(crate) const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
pub(crate) const MAX_BODY_BYTES: usize = MAX_FILE_BYTES + 64 * 1024;
const UPLOADS_PER_PAGE: i64 = 20;
const ROWS_PER_PAGE: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/import.html")]
pub(crate) struct ImportPage {
    user: User,
    file_problem: Option<String>,
    uploads: Vec<UploadLine>,
    page: i64,
    more: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Paging {
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    show: Option<String>,
}

fn page_number(p: &Paging) -> usize {
    p.page
        .as_deref()
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000)
}

async fn import_page(
    state: &AppState,
    user: User,
    page: i64,
    file_problem: Option<String>,
) -> Result<ImportPage, AppError> {
    let mut uploads = onboarding::uploads(&state.pool, &user, page - 1, UPLOADS_PER_PAGE).await?;
    let more = uploads.len() as i64 > UPLOADS_PER_PAGE;
    uploads.truncate(UPLOADS_PER_PAGE as usize);
    Ok(ImportPage {
        user,
        file_problem,
        uploads,
        page,
        more,
    })
}

/// GET /admin/import: the upload form, the template, and earlier uploads.
pub(crate) async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(paging): Query<Paging>,
) -> Result<ImportPage, AppError> {
    let user = admin(current)?;
    import_page(&state, user, page_number(&paging) as i64, None).await
}

/// GET /admin/import/template.csv: the example enrolment is on the centre's first
/// qualification and major, when it has one.
pub(crate) async fn template(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let first = crate::db::qualifications::majors_to_enrol(&state.pool, user.centre_id)
        .await?
        .into_iter()
        .next();
    let (code, major) = first.map_or(("QUAL/1".to_string(), "MAJOR".to_string()), |m| {
        (m.code, m.major_code)
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"attest-import-template.csv\"",
            ),
        ],
        plan::template(&code, &major),
    )
        .into_response())
}

/// POST /admin/import: a file read whole, refused with its reason if it is not one the
/// importer can read; otherwise kept, and its preview shown.
pub(crate) async fn upload(
    State(state): State<AppState>,
    current: CurrentUser,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let refuse = |user: User, status: StatusCode, message: String| {
        let state = state.clone();
        async move {
            let page = import_page(&state, user, 1, Some(message)).await?;
            Ok::<Response, AppError>((status, page).into_response())
        }
    };
    let file = match read_file(&mut multipart, MAX_FILE_BYTES).await {
        Ok(file) => file,
        Err(FileProblem::TooBig) => {
            let message = format!(
                "The file is over the {} MB limit. Split it into smaller files; nothing was imported",
                MAX_FILE_BYTES / 1024 / 1024
            );
            return refuse(user, StatusCode::PAYLOAD_TOO_LARGE, message).await;
        }
        Err(FileProblem::Interrupted) => {
            let message = "The upload was interrupted; nothing was imported. Try again".into();
            return refuse(user, StatusCode::BAD_REQUEST, message).await;
        }
    };
    let Some((name, bytes)) = file.filter(|(name, bytes)| !name.is_empty() || !bytes.is_empty())
    else {
        let message = "Select a CSV file of people or enrolments".into();
        return refuse(user, StatusCode::UNPROCESSABLE_ENTITY, message).await;
    };
    let sheet = match plan::read(&bytes) {
        Ok(sheet) => sheet,
        Err(problem) => {
            let message = format!(
                "{}: {}. Nothing was imported",
                clean_file_name(&name),
                problem.message()
            );
            return refuse(user, StatusCode::UNPROCESSABLE_ENTITY, message).await;
        }
    };
    let id = onboarding::store(&state.pool, &user, &name, &bytes, sheet.rows.len()).await?;
    Ok(Redirect::to(&format!("/admin/import/{id}")).into_response())
}

/// Which rows the preview lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    All,
    Problems,
    Changes,
}

impl Show {
    fn read(p: &Paging, plan: &Plan) -> Show {
        match p.show.as_deref() {
            Some("all") => Show::All,
            Some("changes") => Show::Changes,
            Some("problems") => Show::Problems,
            // Problems first: they are what stands between the admin and the import.
            _ if !plan.is_clean() => Show::Problems,
            _ => Show::All,
        }
    }
    fn key(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Problems => "problems",
            Show::Changes => "changes",
        }
    }
    fn keeps(self, row: &RowPlan) -> bool {
        match self {
            Show::All => true,
            Show::Problems => !row.problems.is_empty(),
            Show::Changes => row.problems.is_empty() && row.changes(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/import_preview.html")]
pub(crate) struct PreviewPage {
    user: User,
    upload: Upload,
    counts: Counts,
    rows: Vec<RowPlan>,
    show: &'static str,
    listed: usize,
    page: usize,
    pages: usize,
    /// Why the import was not made, when confirming found the centre changed.
    notice: Option<&'static str>,
}

impl PreviewPage {
    fn n(&self, n: impl std::borrow::Borrow<usize>) -> String {
        thousands(*n.borrow() as i64)
    }
    fn rows_word(&self, n: impl std::borrow::Borrow<usize>) -> &'static str {
        if *n.borrow() == 1 {
            "row"
        } else {
            "rows"
        }
    }
}

fn preview(
    user: User,
    upload: Upload,
    plan: Plan,
    paging: &Paging,
    notice: Option<&'static str>,
) -> PreviewPage {
    let show = Show::read(paging, &plan);
    let counts = plan.counts();
    let kept: Vec<RowPlan> = plan.rows.into_iter().filter(|r| show.keeps(r)).collect();
    let listed = kept.len();
    let pages = listed.div_ceil(ROWS_PER_PAGE).max(1);
    let page = page_number(paging).min(pages);
    let rows = kept
        .into_iter()
        .skip((page - 1) * ROWS_PER_PAGE)
        .take(ROWS_PER_PAGE)
        .collect();
    PreviewPage {
        user,
        upload,
        counts,
        rows,
        show: show.key(),
        listed,
        page,
        pages,
        notice,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/import_done.html")]
pub(crate) struct DonePage {
    user: User,
    upload: Upload,
    counts: Counts,
    emails: Emails,
}

/// Where the new people's set-password emails have got to.
#[derive(Template, WebTemplate)]
#[template(path = "partials/import_emails.html")]
pub(crate) struct Emails {
    import: Uuid,
    total: usize,
    sent: usize,
    waiting: usize,
    /// Name, email, person id and what went wrong, for each that will not arrive.
    failed: Vec<(String, String, Uuid, String)>,
}

impl Emails {
    fn n(&self, n: impl std::borrow::Borrow<usize>) -> String {
        thousands(*n.borrow() as i64)
    }
}

async fn emails(state: &AppState, user: &User, import: Uuid) -> Result<Emails, AppError> {
    let people = onboarding::invited(&state.pool, user, import).await?;
    let ids: Vec<Uuid> = people.iter().map(|p| p.0).collect();
    let latest = outbox::latest_password_links(&state.pool, user.centre_id, &ids).await?;
    let mut e = Emails {
        import,
        total: people.len(),
        sent: 0,
        waiting: 0,
        failed: Vec::new(),
    };
    for (id, name, email) in people {
        match latest.get(&id).map(|s| &s.delivery) {
            Some(Delivery::Sent { .. }) => e.sent += 1,
            Some(Delivery::Queued | Delivery::Retrying { .. }) => e.waiting += 1,
            Some(d) => e.failed.push((name, email, id, d.describe())),
            None => e
                .failed
                .push((name, email, id, "No email was queued".into())),
        }
    }
    Ok(e)
}

/// GET /admin/import/{id}: the preview of an upload, or what its import did.
pub(crate) async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
    Query(paging): Query<Paging>,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let upload = onboarding::upload(&state.pool, &user, id).await?;
    if let Some(counts) = upload.counts.as_ref().map(|c| c.0) {
        let emails = emails(&state, &user, id).await?;
        return Ok(DonePage {
            user,
            upload,
            counts,
            emails,
        }
        .into_response());
    }
    let plan = plan_upload(&state, &user, &upload).await?;
    Ok(preview(user, upload, plan, &paging, None).into_response())
}

async fn plan_upload(state: &AppState, user: &User, upload: &Upload) -> Result<Plan, AppError> {
    let sheet = plan::read(&upload.content).map_err(|p| {
        AppError::from(DbError::Corrupt(format!(
            "a stored upload: {}",
            p.message()
        )))
    })?;
    let mut conn = state.pool.acquire().await.map_err(DbError::from)?;
    Ok(onboarding::plan(&mut conn, user, &sheet).await?)
}

/// GET /admin/import/{id}/emails: the emails' progress, for htmx to swap in.
pub(crate) async fn email_progress(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Emails, AppError> {
    let user = admin(current)?;
    onboarding::upload(&state.pool, &user, id).await?;
    emails(&state, &user, id).await
}

/// The figures the admin saw on the preview, sent back with "Import N rows".
#[derive(Debug, Deserialize)]
pub(crate) struct Expected {
    new_people: usize,
    updated_people: usize,
    new_enrolments: usize,
    updated_enrolments: usize,
    unchanged_rows: usize,
    rows: usize,
}

/// POST /admin/import/{id}: imports the upload, all or nothing.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
    Form(expected): Form<Expected>,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let expected = Counts {
        rows: expected.rows,
        new_people: expected.new_people,
        updated_people: expected.updated_people,
        new_enrolments: expected.new_enrolments,
        updated_enrolments: expected.updated_enrolments,
        unchanged_rows: expected.unchanged_rows,
        rows_with_problems: 0,
    };
    let outcome = onboarding::confirm(&state.pool, &user, id, expected, &state.public_url).await?;
    let again = |plan: Plan, notice: &'static str| async {
        let upload = onboarding::upload(&state.pool, &user, id).await?;
        let page = preview(user.clone(), upload, plan, &Paging::default(), Some(notice));
        Ok::<Response, AppError>((StatusCode::CONFLICT, page).into_response())
    };
    match outcome {
        Confirmed::Imported | Confirmed::AlreadyImported => {
            Ok(Redirect::to(&format!("/admin/import/{id}")).into_response())
        }
        Confirmed::Refused(plan) => {
            again(plan, "Nothing was imported: since the preview, rows of the file have come to have problems. Correct them and upload the file again").await
        }
        Confirmed::Nothing => {
            let upload = onboarding::upload(&state.pool, &user, id).await?;
            let plan = plan_upload(&state, &user, &upload).await?;
            let page = preview(user, upload, plan, &Paging::default(), Some("Nothing was imported: every row matches your centre already"));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Confirmed::Changed(plan) => {
            again(plan, "Nothing was imported: your centre changed since the preview, so the file would now do something else. Check the preview again and confirm it").await
        }
    }
}

/// POST /admin/import/{id}/resend: a new set-password link for each of the import's
/// new people whose email will not arrive and who have not set a password.
pub(crate) async fn resend(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    onboarding::upload(&state.pool, &user, id).await?;
    let e = emails(&state, &user, id).await?;
    for (_, _, person, _) in e.failed {
        match crate::db::invitations::send_new_link(&state.pool, &user, person, &state.public_url)
            .await
        {
            // Someone who has since set their password, or was deactivated, needs none.
            Ok(_) | Err(DbError::LinkRefused(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Redirect::to(&format!("/admin/import/{id}")))
}
