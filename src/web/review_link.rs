//! A progress review opened through the one-time link emailed to the employer (issue 14,
//! point 4): signed out, the holder reads the review, writes the employer's comments and
//! signs as the employer. The token is looked up (by its hash) before anything else, so
//! a request for no link costs one indexed read.
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Path, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;

use super::portfolio::review_view::{self, ReviewView};
use super::portfolio::reviews::{client, read_form, refused, signed_name};
use super::{AppError, AppState};
use crate::db::review_links::{self, ReviewLink};
use crate::db::reviews as db_reviews;
use crate::domain::form::{message_for, FieldError};
use crate::domain::reviews::{Part, ReviewForm};
use crate::domain::signature::{Capacity, Signer, Signing};

#[derive(Template, WebTemplate)]
#[template(path = "pages/review_link.html")]
pub(crate) struct ReviewLinkPage {
    token: String,
    signer: String,
    learner: String,
    review: ReviewView,
    form: ReviewForm,
    signed_name: String,
    errors: Vec<FieldError>,
}

impl ReviewLinkPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn awaits_employer(&self) -> bool {
        self.review.awaits(&Capacity::Employer)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/review_link_closed.html")]
pub(crate) struct ClosedPage {
    signed: bool,
}

/// The link's review while the link is open; the closed page (410) otherwise.
async fn open_link(
    state: &AppState,
    token: &str,
) -> Result<Result<ReviewLink, Response>, AppError> {
    if !super::witness::plausible(token) {
        return Err(AppError::NotFound);
    }
    let link = review_links::by_token(&state.pool, token).await?;
    if link.open(OffsetDateTime::now_utc()) {
        Ok(Ok(link))
    } else {
        let closed = ClosedPage {
            signed: link.used_at.is_some(),
        };
        Ok(Err((StatusCode::GONE, closed).into_response()))
    }
}

async fn page(
    state: &AppState,
    token: String,
    link: ReviewLink,
    form: Option<ReviewForm>,
    signed_name: String,
    errors: Vec<FieldError>,
) -> Result<ReviewLinkPage, AppError> {
    let row = db_reviews::get(&state.pool, link.enrolment_id, link.review_id).await?;
    let review = review_view::load(state, &row).await?;
    Ok(ReviewLinkPage {
        token,
        signer: link.signer_name,
        learner: link.learner_name,
        form: form.unwrap_or_else(|| review.content.clone()),
        review,
        signed_name,
        errors,
    })
}

/// GET /review-sign/{token}
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let link = match open_link(&state, &token).await? {
        Ok(l) => l,
        Err(closed) => return Ok(closed),
    };
    Ok(page(&state, token, link, None, String::new(), Vec::new())
        .await?
        .into_response())
}

/// POST /review-sign/{token}/part: the employer's comments.
pub(crate) async fn write(
    State(state): State<AppState>,
    Path(token): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let link = match open_link(&state, &token).await? {
        Ok(l) => l,
        Err(closed) => return Ok(closed),
    };
    let form = read_form(&body);
    let today = OffsetDateTime::now_utc().date();
    let (enrolment, review) = (link.enrolment_id, link.review_id);
    match db_reviews::write(
        &state.pool,
        enrolment,
        review,
        None,
        Part::Employer,
        &form,
        today,
    )
    .await?
    {
        Ok(()) => Ok(Redirect::to(&format!("/review-sign/{token}")).into_response()),
        Err(r) => {
            let errors = refused(r)?;
            let p = page(&state, token, link, Some(form), String::new(), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
    }
}

/// POST /review-sign/{token}/sign: signs as the employer and uses the link up.
pub(crate) async fn sign(
    State(state): State<AppState>,
    Path(token): Path<String>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let link = match open_link(&state, &token).await? {
        Ok(l) => l,
        Err(closed) => return Ok(closed),
    };
    let typed = signed_name(&body);
    let (address, user_agent) = client(connect, &headers);
    let who = Signing {
        signer: Signer::EmailLink {
            email: link.signer_email.clone(),
        },
        capacity: Capacity::Employer,
        known_as: &link.signer_name,
        typed_name: &typed,
        at: OffsetDateTime::now_utc(),
        address,
        user_agent,
    };
    let (enrolment, review, id) = (link.enrolment_id, link.review_id, link.id);
    match db_reviews::sign(
        &state.pool,
        enrolment,
        review,
        Part::Employer,
        who,
        Some(id),
    )
    .await?
    {
        Ok(()) => Ok(Redirect::to(&format!("/review-sign/{token}")).into_response()),
        Err(r) => {
            let errors = refused(r)?;
            let p = page(&state, token, link, None, typed, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
    }
}
