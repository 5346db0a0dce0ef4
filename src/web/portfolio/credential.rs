//! The credential of an enrolment (SPEC §6): its page, the PDF, the print page, the
//! signed Open Badges JSON, and emailing it to the learner.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::enrolment_for;
use crate::credentials::store::Document;
use crate::db::credential_emails;
use crate::db::credentials::{self, Credential};
use crate::db::enrolments::Enrolment;
use crate::db::outbox::{self, Sending};
use crate::db::users::{self, User};
use crate::domain::access::Capacity;
use crate::domain::credential_number::CredentialNumber;
use crate::domain::status::{self as machine, Offer};
use crate::domain::Status;
use crate::web::auth::CurrentUser;
use crate::web::home::{day, moment};
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// The credential, if the viewer may see it: staff on the enrolment once it has been
/// generated; the learner once it is issued (and after, to see it was withdrawn).
async fn visible(
    state: &AppState,
    user: &User,
    id: Uuid,
) -> Result<(Enrolment, Capacity, Credential), AppError> {
    let (enrolment, capacity) = enrolment_for(state, user, id).await?;
    let credential = credentials::latest_for_enrolment(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let shown = match capacity {
        Capacity::Learner => credential.issued_at.is_some(),
        _ => credential.generated_at.is_some(),
    };
    if !shown {
        return Err(AppError::NotFound);
    }
    Ok((enrolment, capacity, credential))
}

pub fn verify_url(state: &AppState, number: &str) -> String {
    match CredentialNumber::parse(number) {
        Ok(n) => format!("{}/verify/{}", state.public_url, n.url_segment()),
        Err(_) => format!("{}/verify/{number}", state.public_url),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/credential.html")]
pub(crate) struct CredentialPage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    status: Status,
    credential: Credential,
    verify_url: String,
    admin: bool,
    /// Every emailing of the credential, with where it has got to.
    emails: Vec<Sending>,
    /// "queued" after an Email action.
    emailed: Option<String>,
}

impl CredentialPage {
    fn when(&self, at: &time::OffsetDateTime) -> String {
        moment(at)
    }
    fn date(&self, at: &time::OffsetDateTime) -> String {
        day(at)
    }
    fn may_email(&self) -> bool {
        self.admin && machine::may(self.status, Offer::Email).is_ok()
    }
    fn may_print(&self) -> bool {
        machine::may(self.status, Offer::Print).is_ok()
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Emailed {
    emailed: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    Query(emailed): Query<Emailed>,
) -> Result<CredentialPage, AppError> {
    let (enrolment, capacity, credential) = visible(&state, &user, id).await?;
    let admin = capacity == Capacity::Admin;
    let emails = if admin {
        outbox::for_credential(&state.pool, credential.id).await?
    } else {
        Vec::new()
    };
    Ok(CredentialPage {
        header: super::header(&state, &enrolment).await?,
        enrolment_id: id,
        status: enrolment.status,
        verify_url: verify_url(&state, &credential.number),
        credential,
        admin,
        emails,
        emailed: emailed.emailed,
        user,
    })
}

/// The certificate as a PDF: before issue the one the worker generated, from issue on
/// the issued one, each exactly as kept in the register.
pub async fn pdf(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    let (_, _, credential) = visible(&state, &user, id).await?;
    if let Some(gone) = removed(&state, credential.id).await? {
        return Ok(gone);
    }
    let documents = state.documents();
    let bytes = if credential.issued_at.is_some() {
        documents.issued(&credential, Document::IssuedPdf).await
    } else {
        documents.draft_pdf(&credential).await
    }
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"credential-{}.pdf\"",
                    credential.number.replace(['*', '~', '$', '='], "")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The signed Open Badges 3.0 credential, exactly as kept at its issue; only issued
/// credentials have one.
pub(crate) async fn open_badge(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    let (_, _, credential) = visible(&state, &user, id).await?;
    if credential.issued_at.is_none() {
        return Err(AppError::NotFound);
    }
    if let Some(gone) = removed(&state, credential.id).await? {
        return Ok(gone);
    }
    let body = state
        .documents()
        .issued(&credential, Document::SignedJson)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vc+ld+json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"credential-{}.json\"",
                    credential.number.replace(['*', '~', '$', '='], "")
                ),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/credential_print.html")]
pub(crate) struct PrintPage {
    credential: Credential,
    issued_on: String,
    verify_url: String,
    qr_svg: String,
}

/// The certificate and transcript as a page made for printing (Print, SPEC §5).
pub async fn print(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<PrintPage, AppError> {
    let (enrolment, _, credential) = visible(&state, &user, id).await?;
    machine::may(enrolment.status, Offer::Print).map_err(|e| AppError::Conflict(e.to_string()))?;
    let verify_url = verify_url(&state, &credential.number);
    Ok(PrintPage {
        issued_on: credential.issued_at.as_ref().map(day).unwrap_or_default(),
        qr_svg: crate::credentials::qr_svg(&verify_url)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e}")))?,
        verify_url,
        credential,
    })
}

/// Email the credential, PDF attached, to the learner: queued with its activity entry,
/// so the answer comes at once; the worker sends it and records every attempt.
pub async fn email(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    if capacity != Capacity::Admin {
        return Err(AppError::NotFound);
    }
    machine::may(enrolment.status, Offer::Email).map_err(|e| AppError::Conflict(e.to_string()))?;
    let credential = credentials::latest_for_enrolment(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let learner = users::get(&state.pool, enrolment.learner_id).await?;
    let url = verify_url(&state, &credential.number);
    credential_emails::queue(
        &state.pool,
        &user,
        &credential,
        learner.id,
        &learner.email,
        &url,
    )
    .await?;
    Ok(Redirect::to(&format!("/enrolments/{id}/credential?emailed=queued")).into_response())
}

/// The register's documents of an erased learner are gone (their SHA-256 stays in the
/// register): said plainly, never a server error.
async fn removed(state: &AppState, credential: Uuid) -> Result<Option<Response>, AppError> {
    let at = crate::db::retention::documents_removed_at(&state.pool, credential).await?;
    Ok(at.map(|at| {
        (
            axum::http::StatusCode::GONE,
            format!(
                "This credential's documents were removed from storage on {}, when its learner's personal data was erased. The register keeps its number, dates and the SHA-256 of each document.",
                crate::web::home::day(&at)
            ),
        )
            .into_response()
    }))
}
