//! Adding people: an admin creates the account with its roles; the person sets their
//! own password from a one-time link.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::RawForm;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::admin;
use crate::db::users::{Role, User};
use crate::db::{employers, invitations, logins, password_tokens, DbError};
use crate::domain::form::FieldError;
use crate::domain::people::{validate_new_person, NewPerson};
use crate::web::auth::CurrentUser;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// Where an unlock came from: `?back=person` when from the person's own page.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct UnlockFrom {
    back: Option<String>,
}

/// Clears the failed sign-ins counted against a person of the admin's centre, so
/// that they can sign in again at once (an attacker's guesses had made them wait).
pub async fn unlock(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
    axum::extract::Query(from): axum::extract::Query<UnlockFrom>,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    logins::unlock(&state.pool, &user, person).await?;
    if from.back.as_deref() == Some("person") {
        return Ok(Redirect::to(&format!(
            "/admin/people/{person}?done=unlocked"
        )));
    }
    Ok(Redirect::to("/admin/people"))
}

/// The staff roles offered on the form, in this order.
const STAFF_ROLES: [Role; 4] = [
    Role::Assessor,
    Role::TraineeAssessor,
    Role::Iqa,
    Role::Admin,
];

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/person_new.html")]
pub(crate) struct NewPersonPage {
    user: User,
    form: NewPerson,
    errors: Vec<FieldError>,
    staff_roles: [Role; 4],
    /// (id, name) of the centre's employers, for an employer's person.
    employers: Vec<(String, String)>,
}

impl NewPersonPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }
    fn role_checked(&self, role: &Role) -> bool {
        self.form.roles.iter().any(|r| r == role.key())
    }
}

/// `?employer=` comes from an employer's page: the form opens on that employer.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct NewPersonQuery {
    #[serde(default)]
    employer: Option<String>,
}

pub async fn new(
    State(state): State<AppState>,
    current: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<NewPersonQuery>,
) -> Result<NewPersonPage, AppError> {
    let user = admin(current)?;
    let employers = employer_choices(&state, &user).await?;
    let form = match q.employer {
        Some(e) if employers.iter().any(|(id, _)| *id == e) => NewPerson {
            kind: "employer".into(),
            employer: e,
            ..NewPerson::default()
        },
        _ => NewPerson::default(),
    };
    Ok(NewPersonPage {
        user,
        form,
        errors: Vec::new(),
        staff_roles: STAFF_ROLES,
        employers,
    })
}

async fn employer_choices(
    state: &AppState,
    user: &User,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(employers::choices(&state.pool, user.centre_id)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect())
}

/// The form as posted; `role` repeats, once per ticked box, which serde's urlencoded
/// reader cannot gather, so the pairs are read directly.
fn read_new_person(body: &[u8]) -> NewPerson {
    let mut p = NewPerson::default();
    for (key, value) in form_urlencoded::parse(body) {
        match &*key {
            "display_name" => p.display_name = value.into_owned(),
            "email" => p.email = value.into_owned(),
            "kind" => p.kind = value.into_owned(),
            "employer" => p.employer = value.into_owned(),
            "role" => p.roles.push(value.into_owned()),
            _ => {}
        }
    }
    p
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/person_created.html")]
pub(crate) struct PersonCreatedPage {
    user: User,
    person: User,
    link: String,
    valid_days: i32,
    /// A new link for someone added before, rather than a new person.
    resent: bool,
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let typed = read_new_person(&body);
    let employers = employer_choices(&state, &user).await?;
    let checked = validate_new_person(&typed);
    let foreign_employer = checked.as_ref().is_ok_and(|p| {
        p.employer
            .is_some_and(|e| !employers.iter().any(|(id, _)| *id == e.to_string()))
    });
    let again = |user: User, typed: NewPerson, errors: Vec<FieldError>| {
        let page = NewPersonPage {
            user,
            form: typed,
            errors,
            staff_roles: STAFF_ROLES,
            employers,
        };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let person = match checked {
        Ok(_) if foreign_employer => {
            let errors = vec![FieldError::new(
                "employer",
                "Select an employer of your centre",
            )];
            return again(user, typed, errors);
        }
        Ok(p) => p,
        Err(errors) => return again(user, typed, errors),
    };
    // The email is queued with the person; it never holds up this answer.
    let invited =
        match invitations::add_person(&state.pool, &user, &person, &state.public_url).await {
            Ok(i) => i,
            Err(DbError::DuplicateEmail) => {
                let errors = vec![FieldError::new(
                    "email",
                    "Someone at this centre already has this email address",
                )];
                return again(user, typed, errors);
            }
            Err(e) => return Err(e.into()),
        };
    Ok((
        StatusCode::CREATED,
        PersonCreatedPage {
            user,
            person: invited.person,
            link: invited.link,
            valid_days: password_tokens::VALID_DAYS,
            resent: false,
        },
    )
        .into_response())
}

/// Sends a person who has not set a password yet a new set-password link (their
/// earlier links stop working), and shows it to the admin as adding them did: 201, a
/// new link was made.
pub(crate) async fn send_link(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let invited = invitations::send_new_link(&state.pool, &user, person, &state.public_url).await?;
    let page = PersonCreatedPage {
        user,
        person: invited.person,
        link: invited.link,
        valid_days: password_tokens::VALID_DAYS,
        resent: true,
    };
    Ok((StatusCode::CREATED, page).into_response())
}
