//! A centre's employers (issue 13, point 1): the list, adding one, changing one.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::admin;
use crate::db::employer_people::{self, EmployerPerson};
use crate::db::employers::{self, Employer};
use crate::db::users::User;
use crate::db::DbError;
use crate::domain::employers::{validate, EmployerForm};
use crate::domain::form::{message_for, FieldError};
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

const PER_PAGE: i64 = 50;
const DUPLICATE: &str = "Your centre has an employer of this name already";

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/employers.html")]
pub(crate) struct EmployersPage {
    user: User,
    employers: Vec<Employer>,
    page: i64,
    more: bool,
    done: Option<&'static str>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// GET /admin/employers
pub(crate) async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<EmployersPage, AppError> {
    let user = admin(current)?;
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 100_000);
    let mut employers = employers::page(&state.pool, user.centre_id, page - 1, PER_PAGE).await?;
    let more = employers.len() as i64 > PER_PAGE;
    employers.truncate(PER_PAGE as usize);
    let done = match q.done.as_deref() {
        Some("added") => Some("Employer added."),
        Some("changed") => Some("Employer changed."),
        _ => None,
    };
    Ok(EmployersPage {
        user,
        employers,
        page,
        more,
        done,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/employer.html")]
pub(crate) struct EmployerPage {
    user: User,
    /// None for a new employer.
    id: Option<Uuid>,
    form: EmployerForm,
    errors: Vec<FieldError>,
    /// The employer's people with accounts (an existing employer's page only).
    people: Vec<EmployerPerson>,
}

impl EmployerPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

fn again(user: User, id: Option<Uuid>, form: EmployerForm, errors: Vec<FieldError>) -> Response {
    let page = EmployerPage {
        user,
        id,
        form,
        errors,
        people: Vec::new(),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// GET /admin/employers/new
pub(crate) async fn new(current: CurrentUser) -> Result<EmployerPage, AppError> {
    Ok(EmployerPage {
        user: admin(current)?,
        id: None,
        form: EmployerForm::default(),
        errors: Vec::new(),
        people: Vec::new(),
    })
}

/// POST /admin/employers
pub(crate) async fn add(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<EmployerForm>,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return Ok(again(user, None, form, errors)),
    };
    match employers::add(&state.pool, &user, &valid).await {
        Ok(_) => Ok(Redirect::to("/admin/employers?done=added").into_response()),
        Err(DbError::DuplicateEmployer) => Ok(again(
            user,
            None,
            form,
            vec![FieldError::new("name", DUPLICATE)],
        )),
        Err(e) => Err(e.into()),
    }
}

/// GET /admin/employers/{id}
pub(crate) async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<EmployerPage, AppError> {
    let user = admin(current)?;
    let e = employers::get(&state.pool, user.centre_id, id).await?;
    let people = employer_people::of_employer(&state.pool, user.centre_id, id).await?;
    Ok(EmployerPage {
        people,
        user,
        id: Some(id),
        form: EmployerForm {
            name: e.name,
            contact_name: e.contact_name,
            contact_email: e.contact_email,
            contact_phone: e.contact_phone,
        },
        errors: Vec::new(),
    })
}

/// POST /admin/employers/{id}
pub(crate) async fn change(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
    Form(form): Form<EmployerForm>,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    // Another centre's employer does not exist here, whatever was typed.
    employers::get(&state.pool, user.centre_id, id).await?;
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return Ok(again(user, Some(id), form, errors)),
    };
    match employers::change(&state.pool, &user, id, &valid).await {
        Ok(_) => Ok(Redirect::to("/admin/employers?done=changed").into_response()),
        Err(DbError::DuplicateEmployer) => Ok(again(
            user,
            Some(id),
            form,
            vec![FieldError::new("name", DUPLICATE)],
        )),
        Err(e) => Err(e.into()),
    }
}
