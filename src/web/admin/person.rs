//! One person's page, for the admins of their centre (issue 12): who they are, how
//! their account stands, and what an admin can do about it: edit the name, email and
//! roles; deactivate or reactivate; end every session; clear a sign-in lock; send a
//! new set-password link. Anyone else, and any admin of another centre, gets 404.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::admin;
use crate::db::account_view::{self, PersonView};
use crate::db::accounts::{self, Edited};
use crate::db::users::{Role, User, UserKind};
use crate::db::DbError;
use crate::domain::accounts::{PersonEdit, SignInLock};
use crate::domain::form::{message_for, FieldError};
use crate::domain::mail::may_send_password_link;
use crate::web::auth::CurrentUser;
use crate::web::home::moment;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// The staff roles offered on the form, in the order the add-a-person form has them.
const STAFF_ROLES: [Role; 4] = [
    Role::Assessor,
    Role::TraineeAssessor,
    Role::Iqa,
    Role::Admin,
];

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/person.html")]
pub(crate) struct PersonPage {
    user: User,
    view: PersonView,
    /// The edit form as shown: the account's values, or what the admin typed.
    form: PersonEdit,
    errors: Vec<FieldError>,
    /// What was just done, from the closed set `done_message` knows.
    done: Option<&'static str>,
    staff_roles: [Role; 4],
}

impl PersonPage {
    fn person(&self) -> &User {
        &self.view.person
    }
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn role_checked(&self, role: &Role) -> bool {
        self.form.roles.iter().any(|r| r == role.key())
    }
    fn is_learner(&self) -> bool {
        self.person().kind == UserKind::Learner
    }
    fn is_employer_person(&self) -> bool {
        self.person().kind == UserKind::Employer
    }
    fn is_self(&self) -> bool {
        self.user.id == self.person().id
    }
    fn roles_text(&self) -> String {
        let labels: Vec<&str> = self.person().roles.iter().map(|r| r.label()).collect();
        labels.join(", ")
    }
    fn status_text(&self) -> String {
        let p = self.person();
        if p.active {
            return if p.password_hash.is_some() {
                "Active".to_string()
            } else {
                "Active; waiting for the person to set a password".to_string()
            };
        }
        match (&self.view.deactivated_at, &self.view.deactivated_by) {
            (Some(at), Some(by)) => format!("Deactivated on {} by {by}", moment(at)),
            (Some(at), None) => format!("Deactivated on {}", moment(at)),
            _ => "Deactivated (when and by whom was not recorded)".to_string(),
        }
    }
    /// "Personal data erased on …" once the learner's data has been erased.
    fn erased_text(&self) -> Option<String> {
        self.view
            .erased_at
            .as_ref()
            .map(|at| format!("Personal data erased on {}", moment(at)))
    }
    fn last_sign_in_text(&self) -> String {
        match (&self.view.last_signed_in_at, &self.person().password_hash) {
            (Some(at), _) => moment(at),
            (None, None) => "Never: no password set yet".to_string(),
            (None, Some(_)) => "Not known".to_string(),
        }
    }
    fn sign_in_text(&self) -> String {
        match self.view.sign_in {
            SignInLock::Clear => "No failed sign-ins".to_string(),
            SignInLock::Failed { last: Some(at) } => {
                format!(
                    "Failed sign-ins counted, the last at {}; not held back",
                    moment(&at)
                )
            }
            SignInLock::Failed { last: None } => {
                "Failed sign-ins counted; not held back".to_string()
            }
            SignInLock::HeldBack { wait } => {
                let minutes = (wait.whole_seconds() + 59).div_euclid(60).max(1);
                format!(
                    "Held back after failed sign-ins: the next attempt waits up to {minutes} minute{}",
                    if minutes == 1 { "" } else { "s" }
                )
            }
        }
    }
    fn may_unlock(&self) -> bool {
        self.view.sign_in != SignInLock::Clear
    }
    fn link_email_text(&self) -> Option<String> {
        self.view.link_email.as_ref().map(|e| {
            format!(
                "To {}, queued {}: {}",
                e.to_address,
                moment(&e.queued_at),
                e.delivery.describe()
            )
        })
    }
    fn may_send_link(&self) -> bool {
        let p = self.person();
        may_send_password_link(p.active, p.password_hash.is_some()).is_ok()
    }
    fn assigned_text(&self) -> String {
        let labels: Vec<&str> = self.view.assigned_as.iter().map(|r| r.label()).collect();
        labels.join(", ")
    }
}

/// The account's values, as the edit form starts.
fn form_of(person: &User) -> PersonEdit {
    PersonEdit {
        display_name: person.display_name.clone(),
        email: person.email.clone(),
        roles: person.roles.iter().map(|r| r.key().to_string()).collect(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
}

/// The notice after an action, for the few the handlers below redirect with.
fn done_message(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "Changes saved.",
        "unchanged" => "Nothing was changed.",
        "deactivated" => "Account deactivated: they are signed out everywhere and cannot sign in.",
        "reactivated" => "Account reactivated: they can sign in again.",
        "sessions-ended" => "Every session of this account has ended.",
        "own-sessions-ended" => "Your other sessions have ended; this one stays signed in.",
        "unlocked" => "Failed sign-ins cleared: they can sign in again at once.",
        "erased" => "Personal data erased: the account now carries a pseudonym, and the files of its evidence are being removed.",
        _ => return None,
    })
}

async fn page(
    state: &AppState,
    user: User,
    person_id: Uuid,
    form: Option<PersonEdit>,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
) -> Result<PersonPage, AppError> {
    let mut conn = state.pool.acquire().await.map_err(DbError::from)?;
    let view = account_view::person(&mut conn, user.centre_id, person_id).await?;
    Ok(PersonPage {
        form: form.unwrap_or_else(|| form_of(&view.person)),
        user,
        view,
        errors,
        done,
        staff_roles: STAFF_ROLES,
    })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
    Query(done): Query<Done>,
) -> Result<PersonPage, AppError> {
    let user = admin(current)?;
    let done = done.done.as_deref().and_then(done_message);
    page(&state, user, person, None, Vec::new(), done).await
}

/// The form as posted; `role` repeats, once per ticked box (serde's urlencoded reader
/// cannot gather repeats), so the pairs are read directly.
fn read_edit(body: &[u8]) -> PersonEdit {
    let mut p = PersonEdit::default();
    for (key, value) in form_urlencoded::parse(body) {
        match &*key {
            "display_name" => p.display_name = value.into_owned(),
            "email" => p.email = value.into_owned(),
            "role" => p.roles.push(value.into_owned()),
            _ => {}
        }
    }
    p
}

fn back(person: Uuid, done: &str) -> Redirect {
    Redirect::to(&format!("/admin/people/{person}?done={done}"))
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let typed = read_edit(&body);
    match accounts::edit(&state.pool, &user, person, &typed).await? {
        Edited::Saved { changed: true } => Ok(back(person, "saved").into_response()),
        Edited::Saved { changed: false } => Ok(back(person, "unchanged").into_response()),
        Edited::Refused(errors) => {
            let page = page(&state, user, person, Some(typed), errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub(crate) async fn deactivate(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    accounts::deactivate(&state.pool, &user, person).await?;
    Ok(back(person, "deactivated"))
}

pub(crate) async fn reactivate(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    accounts::reactivate(&state.pool, &user, person).await?;
    Ok(back(person, "reactivated"))
}

/// Ends every session of the person. An admin ending their own keeps this browser
/// signed in (a new session at the new generation): the others are what they meant.
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    current: CurrentUser,
    session: Session,
    Ids(person): Ids<Uuid>,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    let generation = accounts::end_sessions(&state.pool, &user, person).await?;
    if person == user.id {
        crate::web::auth::begin_session(&session, user.id, generation).await?;
        return Ok(back(person, "own-sessions-ended"));
    }
    Ok(back(person, "sessions-ended"))
}
