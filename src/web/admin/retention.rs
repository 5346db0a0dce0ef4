//! Retention and erasure for the centre's admins (issue 16 point 5): the retention
//! period, the portfolios past it (paged), archiving one, and erasing a learner's
//! personal data on request. Each change is one use case in `db::retention`.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::admin;
use crate::db::retention::{self, PastRow};
use crate::db::users::{self, User};
use crate::domain::form::FieldError;
use crate::domain::retention::RetentionYears;
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/retention.html")]
pub(crate) struct RetentionPage {
    user: User,
    /// The period as shown: the centre's, or what the admin typed.
    years: String,
    errors: Vec<FieldError>,
    rows: Vec<PastRow>,
    /// The enrolment the next page starts after, when there is one.
    next: Option<Uuid>,
    done: Option<String>,
}

impl RetentionPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        crate::domain::form::message_for(&self.errors, field)
    }

    fn day(&self, at: &time::OffsetDateTime) -> String {
        crate::web::home::day(at)
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Shown {
    after: Option<String>,
    archived: Option<usize>,
    saved: Option<String>,
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

async fn page(
    state: &AppState,
    user: User,
    typed: Option<(String, FieldError)>,
    shown: Shown,
) -> Result<Response, AppError> {
    // A malformed page address shows the first page rather than an error.
    let after = shown.after.as_deref().and_then(|a| a.parse::<Uuid>().ok());
    let (rows, more) = retention::past(&state.pool, user.centre_id, today(), after).await?;
    let next = more.then(|| rows.last().map(|r| r.enrolment_id)).flatten();
    let (years, errors) = match typed {
        Some((typed, error)) => (typed, vec![error]),
        None => (
            retention::years(&state.pool, user.centre_id)
                .await?
                .get()
                .to_string(),
            Vec::new(),
        ),
    };
    let done = match (shown.archived, shown.saved) {
        (Some(n), _) => Some(format!(
            "Portfolio archived: {n} file{} removed from storage. Its record, audits, signatures and credential stay.",
            if n == 1 { "" } else { "s" }
        )),
        (None, Some(_)) => Some("Retention period saved.".to_string()),
        _ => None,
    };
    let status = if !errors.is_empty() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        RetentionPage {
            user,
            years,
            errors,
            rows,
            next,
            done,
        },
    )
        .into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(shown): Query<Shown>,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    page(&state, user, None, shown).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct YearsForm {
    #[serde(default)]
    retention_years: String,
}

pub(crate) async fn save(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<YearsForm>,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    match RetentionYears::parse(&form.retention_years) {
        Ok(years) => {
            retention::set_years(&state.pool, user.centre_id, user.id, years).await?;
            Ok(Redirect::to("/admin/retention?saved=1").into_response())
        }
        Err(error) => {
            page(
                &state,
                user,
                Some((form.retention_years, error)),
                Shown::default(),
            )
            .await
        }
    }
}

pub(crate) async fn archive(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(enrolment): Ids<Uuid>,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    let files =
        retention::archive(&state.pool, user.centre_id, enrolment, user.id, today()).await?;
    Ok(Redirect::to(&format!("/admin/retention?archived={files}")))
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/erase.html")]
pub(crate) struct ErasePage {
    user: User,
    person: User,
}

/// What erasing does, before it is done: it cannot be undone.
pub(crate) async fn confirm_erase(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
) -> Result<ErasePage, AppError> {
    let user = admin(current)?;
    let person = users::get(&state.pool, person).await?;
    if person.centre_id != user.centre_id {
        return Err(AppError::NotFound);
    }
    Ok(ErasePage { user, person })
}

pub(crate) async fn erase(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    retention::erase_learner(&state.pool, user.centre_id, person, user.id).await?;
    Ok(Redirect::to(&format!("/admin/people/{person}?done=erased")))
}
