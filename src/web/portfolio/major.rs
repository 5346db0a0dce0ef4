//! Switching the assigned major (SPEC §5): to a major the audit says is achieved, or to
//! any major of the version; the enrolment is re-audited under it at once.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::enrolment_for;
use crate::db::audits;
use crate::db::users::User;
use crate::domain::access::Capacity;
use crate::domain::form::{message_for, FieldError};
use crate::domain::status::{self as machine, Offer};
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

pub(crate) struct MajorOption {
    pub id: Uuid,
    pub label: String,
    pub current: bool,
    /// Per the latest audit; None when there is none.
    pub achieved: Option<bool>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/major.html")]
pub(crate) struct MajorPage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    majors: Vec<MajorOption>,
    chosen: String,
    errors: Vec<FieldError>,
}

impl MajorPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct MajorForm {
    #[serde(default)]
    major: String,
}

async fn allowed(
    state: &AppState,
    user: &User,
    id: Uuid,
) -> Result<crate::db::enrolments::Enrolment, AppError> {
    let (enrolment, capacity) = enrolment_for(state, user, id).await?;
    if capacity != Capacity::Admin {
        return Err(AppError::NotFound);
    }
    machine::may(enrolment.status, Offer::SwitchMajor)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    Ok(enrolment)
}

async fn page_for(
    state: &AppState,
    user: User,
    enrolment: &crate::db::enrolments::Enrolment,
    chosen: String,
    errors: Vec<FieldError>,
) -> Result<MajorPage, AppError> {
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    let latest = audits::latest_audit(&state.pool, enrolment.id).await?;
    let majors = version
        .qualification
        .majors
        .iter()
        .zip(&version.major_ids)
        .enumerate()
        .map(|(ix, (m, &id))| MajorOption {
            id,
            label: format!("{} {}", m.code, m.title),
            current: id == enrolment.major_id,
            achieved: latest.as_ref().and_then(|a| {
                a.report
                    .majors
                    .iter()
                    .find(|r| r.major == ix)
                    .map(|r| r.achieved)
            }),
        })
        .collect();
    Ok(MajorPage {
        header: super::header(state, enrolment).await?,
        user,
        enrolment_id: enrolment.id,
        majors,
        chosen,
        errors,
    })
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<MajorPage, AppError> {
    let enrolment = allowed(&state, &user, id).await?;
    page_for(&state, user, &enrolment, String::new(), Vec::new()).await
}

pub async fn switch(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    Form(form): Form<MajorForm>,
) -> Result<Response, AppError> {
    let enrolment = allowed(&state, &user, id).await?;
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    let chosen = form
        .major
        .parse::<Uuid>()
        .ok()
        .filter(|m| version.major_ids.contains(m));
    let error = match chosen {
        None => Some("Select the major to switch to"),
        Some(m) if m == enrolment.major_id => Some("Select a major other than the assigned one"),
        Some(_) => None,
    };
    let (Some(major), None) = (chosen, error) else {
        let errors = error
            .map(|m| FieldError::new("major", m))
            .into_iter()
            .collect();
        let page = page_for(&state, user, &enrolment, form.major, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    // The switch, its re-audit, history and activity entry commit together.
    audits::switch_major(&state.pool, id, major, Some(user.id)).await?;
    Ok(Redirect::to(&format!("/enrolments/{id}/audit")).into_response())
}
