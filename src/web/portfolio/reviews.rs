//! Progress reviews on the portfolio (issue 14, point 4): the schedule and the reviews
//! held, recording one (the assessor or trainee), each party writing their part, the
//! learner and the assessor signing, and the signed review's printout.
use askama::Template;
use askama_web::WebTemplate;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use uuid::Uuid;

use super::otj::today;
use super::review_view::{self, ReviewView};
use super::{Header, Portfolio};
use crate::db::apprenticeships::{self, Apprenticeship};
use crate::db::reviews::{self as db_reviews, ReviewRefusal};
use crate::db::users::User;
use crate::domain::access::Capacity;
use crate::domain::form::{message_for, FieldError};
use crate::domain::reviews::{Part, ReviewForm};
use crate::domain::signature::{Signer, Signing};
use crate::web::home::date_text;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// The part of a review the viewer writes, if any.
pub(crate) fn part_of(c: Capacity) -> Option<Part> {
    match c {
        Capacity::Learner => Some(Part::Learner),
        Capacity::Assessor | Capacity::TraineeAssessor => Some(Part::Assessor),
        Capacity::Iqa | Capacity::Admin => None,
    }
}

/// Only the learner and the qualified assessor sign on the portfolio (the employer
/// signs on their own pages).
fn signs_as(c: Capacity) -> Option<Part> {
    match c {
        Capacity::Learner => Some(Part::Learner),
        Capacity::Assessor => Some(Part::Assessor),
        _ => None,
    }
}

pub(crate) struct Schedule {
    pub next_due: String,
    pub overdue: bool,
    pub unsigned: bool,
}

pub(crate) fn schedule(a: &Apprenticeship) -> Schedule {
    let today = today();
    Schedule {
        next_due: date_text(a.next_review_due),
        overdue: a.review_overdue(today),
        unsigned: a.review_unsigned(today),
    }
}

pub(crate) struct ReviewLine {
    pub id: Uuid,
    pub held_on: String,
    pub recorded: String,
    pub signed: bool,
}

/// The enrolment's reviews as lists show them.
pub(crate) async fn lines(state: &AppState, enrolment: Uuid) -> Result<Vec<ReviewLine>, AppError> {
    Ok(db_reviews::of_enrolment(&state.pool, enrolment)
        .await?
        .iter()
        .map(|r| ReviewLine {
            id: r.id,
            held_on: date_text(r.held_on),
            recorded: format!(
                "{} by {}",
                crate::web::home::day(&r.recorded_at),
                r.recorded_by_name
            ),
            signed: r.fully_signed_at.is_some(),
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/reviews.html")]
pub(crate) struct ReviewsPage {
    header: Header,
    user: User,
    enrolment_id: Uuid,
    schedule: Option<Schedule>,
    reviews: Vec<ReviewLine>,
    may_record: bool,
    form: ReviewForm,
    errors: Vec<FieldError>,
}

impl ReviewsPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

async fn list_page(
    state: &AppState,
    p: Portfolio,
    form: ReviewForm,
    errors: Vec<FieldError>,
) -> Result<ReviewsPage, AppError> {
    let id = p.enrolment.id;
    let a = apprenticeships::get(&state.pool, id).await?;
    let reviews = if a.is_some() {
        lines(state, id).await?
    } else {
        Vec::new()
    };
    Ok(ReviewsPage {
        header: super::header(state, &p.enrolment).await?,
        enrolment_id: id,
        may_record: a.is_some() && part_of(p.capacity) == Some(Part::Assessor),
        schedule: a.as_ref().map(schedule),
        reviews,
        user: p.user,
        form,
        errors,
    })
}

/// GET /enrolments/{id}/reviews
pub(crate) async fn list(
    State(state): State<AppState>,
    p: Portfolio,
) -> Result<ReviewsPage, AppError> {
    list_page(&state, p, ReviewForm::default(), Vec::new()).await
}

pub(crate) fn read_form(body: &[u8]) -> ReviewForm {
    let mut f = ReviewForm::default();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match &*k {
            "held_on" => f.held_on = v,
            "attended" => f.attended = v,
            "learner_reflection" => f.learner_reflection = v,
            "employer_comments" => f.employer_comments = v,
            "assessor_summary" => f.assessor_summary = v,
            "targets" => f.targets = v,
            "next_review_on" => f.next_review_on = v,
            _ => {}
        }
    }
    f
}

/// POST /enrolments/{id}/reviews
pub(crate) async fn record(
    State(state): State<AppState>,
    p: Portfolio,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    if part_of(p.capacity) != Some(Part::Assessor) {
        return Err(AppError::NotFound);
    }
    let form = read_form(&body);
    let id = p.enrolment.id;
    apprenticeships::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    match db_reviews::record(&state.pool, id, p.user.id, &form, today()).await? {
        Ok(review) => {
            Ok(Redirect::to(&format!("/enrolments/{id}/reviews/{review}")).into_response())
        }
        Err(errors) => {
            let page = list_page(&state, p, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/review.html")]
pub(crate) struct ReviewPage {
    header: Header,
    user: User,
    enrolment_id: Uuid,
    review: ReviewView,
    /// The part the viewer writes, and the capacity they sign in.
    writes: Option<Part>,
    signs: Option<Part>,
    form: ReviewForm,
    signed_name: String,
    errors: Vec<FieldError>,
    /// The signing link's form (name, email) and who an open link waits on.
    signer: (String, String),
    link_waiting: Option<(String, String)>,
    link_sent: bool,
}

impl ReviewPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn writes_assessor(&self) -> bool {
        self.writes == Some(Part::Assessor)
    }
    fn writes_learner(&self) -> bool {
        self.writes == Some(Part::Learner)
    }
    fn may_sign(&self) -> bool {
        self.signs
            .is_some_and(|p| self.review.awaits(&review_view::capacity_of(p)))
    }
    /// The assessor (or trainee) may email the employer a link while their signature
    /// is wanted.
    fn may_ask_employer(&self) -> bool {
        self.writes_assessor()
            && self
                .review
                .awaits(&crate::domain::signature::Capacity::Employer)
    }
}

/// What a review page shows beside the review: the signing link's form and state.
struct Extras {
    form: Option<ReviewForm>,
    signed_name: String,
    errors: Vec<FieldError>,
    signer: (String, String),
    link_sent: bool,
}

impl Extras {
    fn none() -> Extras {
        Extras {
            form: None,
            signed_name: String::new(),
            errors: Vec::new(),
            signer: (String::new(), String::new()),
            link_sent: false,
        }
    }
}

async fn review_page(
    state: &AppState,
    p: Portfolio,
    review: Uuid,
    extras: Extras,
) -> Result<ReviewPage, AppError> {
    let row = db_reviews::get(&state.pool, p.enrolment.id, review).await?;
    let view = review_view::load(state, &row).await?;
    let (link_waiting, signer) = if part_of(p.capacity) == Some(Part::Assessor) && !view.locked {
        let waiting = crate::db::review_links::waiting(&state.pool, review).await?;
        // The form starts with the employer's contact, or whoever the last link went to.
        let signer = if extras.signer.0.is_empty() && extras.signer.1.is_empty() {
            match &waiting {
                Some(w) => Some(w.clone()),
                None => {
                    crate::db::review_links::employer_contact(&state.pool, p.enrolment.id).await?
                }
            }
            .unwrap_or_default()
        } else {
            extras.signer
        };
        (waiting, signer)
    } else {
        (None, extras.signer)
    };
    Ok(ReviewPage {
        header: super::header(state, &p.enrolment).await?,
        enrolment_id: p.enrolment.id,
        writes: part_of(p.capacity),
        signs: signs_as(p.capacity),
        form: extras.form.unwrap_or_else(|| view.content.clone()),
        review: view,
        user: p.user,
        signed_name: extras.signed_name,
        errors: extras.errors,
        signer,
        link_waiting,
        link_sent: extras.link_sent,
    })
}

/// GET /enrolments/{id}/reviews/{review}
pub(crate) async fn show(
    State(state): State<AppState>,
    p: Portfolio,
    Ids((_, review)): Ids<(Uuid, Uuid)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<ReviewPage, AppError> {
    let mut extras = Extras::none();
    extras.link_sent = query.as_deref() == Some("sent=1");
    review_page(&state, p, review, extras).await
}

pub(crate) fn refused(r: ReviewRefusal) -> Result<Vec<FieldError>, AppError> {
    match r {
        ReviewRefusal::Fields(errors) => Ok(errors),
        ReviewRefusal::Locked => Err(AppError::Conflict(
            "This review is signed by the learner, the employer and the assessor, so it is locked"
                .into(),
        )),
    }
}

/// POST /enrolments/{id}/reviews/{review}/part
pub(crate) async fn write(
    State(state): State<AppState>,
    p: Portfolio,
    Ids((_, review)): Ids<(Uuid, Uuid)>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let part = part_of(p.capacity).ok_or(AppError::NotFound)?;
    let id = p.enrolment.id;
    db_reviews::get(&state.pool, id, review).await?;
    let form = read_form(&body);
    match db_reviews::write(
        &state.pool,
        id,
        review,
        Some(p.user.id),
        part,
        &form,
        today(),
    )
    .await?
    {
        Ok(()) => Ok(Redirect::to(&format!("/enrolments/{id}/reviews/{review}")).into_response()),
        Err(r) => {
            let errors = refused(r)?;
            let extras = Extras {
                form: Some(form),
                errors,
                ..Extras::none()
            };
            let page = review_page(&state, p, review, extras).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// The signing request's address (as the connection gives it) and browser, kept with
/// the signature.
pub(crate) fn client(
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> (Option<String>, Option<String>) {
    (
        connect.map(|c| c.0 .0.ip().to_string()),
        crate::web::witness::user_agent(headers),
    )
}

pub(crate) fn signed_name(body: &[u8]) -> String {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "signed_name")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// POST /enrolments/{id}/reviews/{review}/sign
pub(crate) async fn sign(
    State(state): State<AppState>,
    p: Portfolio,
    Ids((_, review)): Ids<(Uuid, Uuid)>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let part = signs_as(p.capacity).ok_or(AppError::NotFound)?;
    let id = p.enrolment.id;
    db_reviews::get(&state.pool, id, review).await?;
    let typed = signed_name(&body);
    let (address, user_agent) = client(connect, &headers);
    let who = Signing {
        signer: Signer::Account(p.user.id),
        capacity: review_view::capacity_of(part),
        known_as: &p.user.display_name,
        typed_name: &typed,
        at: OffsetDateTime::now_utc(),
        address,
        user_agent,
    };
    match db_reviews::sign(&state.pool, id, review, part, who, None).await? {
        Ok(()) => Ok(Redirect::to(&format!("/enrolments/{id}/reviews/{review}")).into_response()),
        Err(r) => {
            let errors = refused(r)?;
            let extras = Extras {
                signed_name: typed,
                errors,
                ..Extras::none()
            };
            let page = review_page(&state, p, review, extras).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// GET /enrolments/{id}/reviews/{review}/review.pdf: the signed review, printed with its
/// signatures and where to check it; only once all three have signed.
pub(crate) async fn pdf(
    State(state): State<AppState>,
    p: Portfolio,
    Ids((_, review)): Ids<(Uuid, Uuid)>,
) -> Result<Response, AppError> {
    let row = db_reviews::get(&state.pool, p.enrolment.id, review).await?;
    let view = review_view::load(&state, &row).await?;
    if !view.locked {
        return Err(AppError::Conflict(
            "The review is printed once the learner, the employer and the assessor have all signed it".into(),
        ));
    }
    let bytes = review_view::printout(&state, &p.enrolment, &view).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"progress-review-{}.pdf\"",
                    row.held_on
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// POST /enrolments/{id}/reviews/{review}/employer-link: emails the employer a one-time
/// link to comment and sign, withdrawing any earlier one.
pub(crate) async fn ask_employer(
    State(state): State<AppState>,
    p: Portfolio,
    Ids((_, review)): Ids<(Uuid, Uuid)>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    if part_of(p.capacity) != Some(Part::Assessor) {
        return Err(AppError::NotFound);
    }
    let id = p.enrolment.id;
    let row = db_reviews::get(&state.pool, id, review).await?;
    let view = review_view::load(&state, &row).await?;
    if !view.awaits(&crate::domain::signature::Capacity::Employer) {
        return Err(AppError::Conflict(
            "The employer has signed this version of the review already".into(),
        ));
    }
    let field = |name: &str| {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (name, email) = (field("signer_name"), field("signer_email"));
    match crate::domain::reviews::validate_signer(&name, &email) {
        Ok((name, email)) => {
            crate::db::review_links::ask(
                &state.pool,
                p.enrolment.centre_id,
                id,
                review,
                p.user.id,
                &name,
                &email,
                &state.public_url,
            )
            .await?;
            Ok(Redirect::to(&format!("/enrolments/{id}/reviews/{review}?sent=1")).into_response())
        }
        Err(errors) => {
            let extras = Extras {
                errors,
                signer: (name, email),
                ..Extras::none()
            };
            let page = review_page(&state, p, review, extras).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
