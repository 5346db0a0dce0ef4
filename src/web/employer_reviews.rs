//! An employer's person and a progress review of a learner they follow (issue 14,
//! point 4): they read it, write their comments and sign as the employer. No one else
//! has these pages (404).
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::CurrentUser;
use super::ids::Ids;
use super::portfolio::review_view::{self, ReviewView};
use super::portfolio::reviews::{client, read_form, refused, signed_name};
use super::{AppError, AppState};
use crate::db::reviews as db_reviews;
use crate::db::users::User;
use crate::domain::form::{message_for, FieldError};
use crate::domain::reviews::{Part, ReviewForm};
use crate::domain::signature::{Capacity, Signer, Signing};

#[derive(Template, WebTemplate)]
#[template(path = "pages/employer/review.html")]
pub(crate) struct EmployerReviewPage {
    user: User,
    enrolment_id: Uuid,
    learner: String,
    review: ReviewView,
    form: ReviewForm,
    signed_name: String,
    errors: Vec<FieldError>,
}

impl EmployerReviewPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn may_sign(&self) -> bool {
        self.review.awaits(&Capacity::Employer)
    }
}

async fn page(
    state: &AppState,
    user: User,
    enrolment: Uuid,
    review: Uuid,
    form: Option<ReviewForm>,
    signed_name: String,
    errors: Vec<FieldError>,
) -> Result<EmployerReviewPage, AppError> {
    let e = super::employer::followed_enrolment(state, &user, enrolment).await?;
    let row = db_reviews::get(&state.pool, enrolment, review).await?;
    let view = review_view::load(state, &row).await?;
    let learner = crate::db::users::names(&state.pool, &[e.learner_id])
        .await?
        .remove(&e.learner_id)
        .unwrap_or_default();
    Ok(EmployerReviewPage {
        user,
        enrolment_id: enrolment,
        learner,
        form: form.unwrap_or_else(|| view.content.clone()),
        review: view,
        signed_name,
        errors,
    })
}

/// GET /employer/learners/{id}/reviews/{review}
pub(crate) async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, review)): Ids<(Uuid, Uuid)>,
) -> Result<EmployerReviewPage, AppError> {
    page(&state, user, id, review, None, String::new(), Vec::new()).await
}

/// POST /employer/learners/{id}/reviews/{review}/part: the employer's comments.
pub(crate) async fn write(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, review)): Ids<(Uuid, Uuid)>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    super::employer::followed_enrolment(&state, &user, id).await?;
    db_reviews::get(&state.pool, id, review).await?;
    let form = read_form(&body);
    let today = OffsetDateTime::now_utc().date();
    match db_reviews::write(
        &state.pool,
        id,
        review,
        Some(user.id),
        Part::Employer,
        &form,
        today,
    )
    .await?
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/employer/learners/{id}/reviews/{review}")).into_response())
        }
        Err(r) => {
            let errors = refused(r)?;
            let p = page(&state, user, id, review, Some(form), String::new(), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
    }
}

/// POST /employer/learners/{id}/reviews/{review}/sign
pub(crate) async fn sign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, review)): Ids<(Uuid, Uuid)>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    super::employer::followed_enrolment(&state, &user, id).await?;
    db_reviews::get(&state.pool, id, review).await?;
    let typed = signed_name(&body);
    let (address, user_agent) = client(connect, &headers);
    let who = Signing {
        signer: Signer::Account(user.id),
        capacity: Capacity::Employer,
        known_as: &user.display_name,
        typed_name: &typed,
        at: OffsetDateTime::now_utc(),
        address,
        user_agent,
    };
    match db_reviews::sign(&state.pool, id, review, Part::Employer, who, None).await? {
        Ok(()) => {
            Ok(Redirect::to(&format!("/employer/learners/{id}/reviews/{review}")).into_response())
        }
        Err(r) => {
            let errors = refused(r)?;
            let p = page(&state, user, id, review, None, typed, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
    }
}
