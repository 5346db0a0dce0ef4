//! The enrolment's status and credential (SPEC §5, §6): the panel that shows them with
//! exactly the actions the status allows, and those actions. Every refusal is a 409
//! with the reason; every action locks the enrolment, so a double submit changes once.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::enrolment_for;
use crate::credentials::fresh_number;
use crate::db::audits;
use crate::db::credentials::{self, Credential};
use crate::db::enrolments::Enrolment;
use crate::db::users::{self, User};
use crate::domain::access::Capacity;
use crate::domain::form::{message_for, FieldError};
use crate::domain::status::{self as machine, Offer};
use crate::domain::Status;
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::home::day;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// What the viewer may do in this status: admins run the credential; the assigned
/// assessor may audit; everyone else reads.
pub(crate) fn offers_for(status: Status, capacity: Capacity) -> Vec<Offer> {
    machine::offers(status)
        .iter()
        .copied()
        .filter(|o| match capacity {
            Capacity::Admin => true,
            Capacity::Assessor => *o == Offer::Audit,
            _ => false,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "partials/status_panel.html")]
pub(crate) struct StatusPanel {
    pub enrolment_id: Uuid,
    pub status: Status,
    pub offers: Vec<Offer>,
    pub credential: Option<Credential>,
    pub learner_email: String,
    /// A learner sees their issued credential.
    pub learner_view: bool,
    /// Whether this viewer may read the credential's number yet.
    pub number_shown: bool,
}

impl StatusPanel {
    fn offered(&self, offer: Offer) -> bool {
        self.offers.contains(&offer)
    }

    /// Generation runs in the background: the panel refreshes itself until it ends.
    fn polling(&self) -> bool {
        self.status == Status::GeneratingCredential
    }

    fn when(&self, at: &time::OffsetDateTime) -> String {
        day(at)
    }
}

pub(crate) async fn panel_for(
    state: &AppState,
    enrolment: &Enrolment,
    capacity: Capacity,
) -> Result<StatusPanel, AppError> {
    let credential = credentials::latest_for_enrolment(&state.pool, enrolment.id).await?;
    let learner_email = if capacity == Capacity::Admin {
        users::get(&state.pool, enrolment.learner_id).await?.email
    } else {
        String::new()
    };
    let issued = credential.as_ref().is_some_and(|c| c.issued_at.is_some());
    Ok(StatusPanel {
        number_shown: capacity.may_read_credential_number(issued),
        enrolment_id: enrolment.id,
        status: enrolment.status,
        offers: offers_for(enrolment.status, capacity),
        credential,
        learner_email,
        learner_view: capacity == Capacity::Learner,
    })
}

/// The panel alone, for htmx to refresh while a credential is generated.
pub async fn panel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<StatusPanel, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    panel_for(&state, &enrolment, capacity).await
}

/// The enrolment, if `user` may ask for `offer` on it: 404 for those who may not see
/// or may not act, 409 (with the status) when the status does not allow it.
async fn allowed(
    state: &AppState,
    user: &User,
    id: Uuid,
    offer: Offer,
) -> Result<Enrolment, AppError> {
    let (enrolment, capacity) = enrolment_for(state, user, id).await?;
    let may_act = match capacity {
        Capacity::Admin => true,
        Capacity::Assessor => offer == Offer::Audit,
        _ => false,
    };
    if !may_act {
        return Err(AppError::NotFound);
    }
    machine::may(enrolment.status, offer).map_err(|e| AppError::Conflict(e.to_string()))?;
    Ok(enrolment)
}

fn back(id: Uuid) -> Response {
    Redirect::to(&format!("/enrolments/{id}#status-panel")).into_response()
}

pub async fn audit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    allowed(&state, &user, id, Offer::Audit).await?;
    audits::audit_enrolment(&state.pool, id, Some(user.id)).await?;
    Ok(Redirect::to(&format!("/enrolments/{id}/audit")).into_response())
}

pub async fn request(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    allowed(&state, &user, id, Offer::RequestCredential).await?;
    let number = fresh_number()
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "no randomness for a credential number: {e}"
            ))
        })?
        .to_string();
    credentials::request(&state.pool, id, user.id, &number).await?;
    Ok(back(id))
}

pub async fn retry(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    allowed(&state, &user, id, Offer::Retry).await?;
    credentials::retry(&state.pool, id, user.id).await?;
    Ok(back(id))
}

pub async fn issue(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    let enrolment = allowed(&state, &user, id, Offer::Issue).await?;
    let credential = credentials::issue(&state.pool, id, user.id).await?;
    // The centre's signing key exists (and is published) from its first issue on.
    crate::db::centre_keys::get_or_create(&state.pool, &state.signing_kek, enrolment.centre_id)
        .await?;
    // The issued PDF and the signed credential are made now, once, and kept. Should
    // that fail, the credential is issued all the same and they are made on its
    // first download.
    if let Err(e) = state.documents().make_issued(&credential).await {
        tracing::error!(credential = %credential.id, error = %e, "the issued documents were not made at issue");
    }
    Ok(back(id))
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CancelForm {
    #[serde(default)]
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/cancel.html")]
pub(crate) struct CancelPage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    credential: Option<Credential>,
    reason: String,
    errors: Vec<FieldError>,
}

impl CancelPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

pub(crate) async fn confirm_cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<CancelPage, AppError> {
    let enrolment = allowed(&state, &user, id, Offer::CancelCredential).await?;
    Ok(CancelPage {
        header: super::header(&state, &enrolment).await?,
        credential: credentials::latest_for_enrolment(&state.pool, id).await?,
        user,
        enrolment_id: id,
        reason: String::new(),
        errors: Vec::new(),
    })
}

pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    Form(form): Form<CancelForm>,
) -> Result<Response, AppError> {
    let enrolment = allowed(&state, &user, id, Offer::CancelCredential).await?;
    let reason = match crate::domain::credential::cancel_reason(&form.reason) {
        Ok(reason) => reason,
        Err(error) => {
            let page = CancelPage {
                header: super::header(&state, &enrolment).await?,
                credential: credentials::latest_for_enrolment(&state.pool, id).await?,
                user,
                enrolment_id: id,
                reason: form.reason,
                errors: vec![error],
            };
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    credentials::cancel(&state.pool, id, user.id, reason).await?;
    Ok(back(id))
}
