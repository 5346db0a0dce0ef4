//! Adding people: an admin creates the account with its roles; the person sets their
//! own password from a one-time link.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::RawForm;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::admin;
use crate::db::users::{self, NewUser, Role, User};
use crate::db::{activity, centres, logins, password_tokens, DbError};
use crate::domain::form::FieldError;
use crate::domain::people::{validate_new_person, NewPerson};
use crate::mail::password_link_message;
use crate::web::auth::CurrentUser;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/people.html")]
pub struct PeoplePage {
    user: User,
    people: Vec<User>,
    /// Those with failed sign-ins counted against them, whom the admin may unlock.
    failing: Vec<Uuid>,
}

impl PeoplePage {
    fn is_failing(&self, id: &Uuid) -> bool {
        self.failing.contains(id)
    }
}

pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<PeoplePage, AppError> {
    let user = admin(current)?;
    let people = users::list_for_centre(&state.pool, user.centre_id).await?;
    let failing = logins::with_failures(&state.pool, user.centre_id).await?;
    Ok(PeoplePage {
        user,
        people,
        failing,
    })
}

/// Clears the failed sign-ins counted against a person of the admin's centre, so
/// that they can sign in again at once (an attacker's guesses had made them wait).
pub async fn unlock(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(person): Ids<Uuid>,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    logins::unlock(&state.pool, &user, person).await?;
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
pub struct NewPersonPage {
    user: User,
    form: NewPerson,
    errors: Vec<FieldError>,
    staff_roles: [Role; 4],
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

pub async fn new(current: CurrentUser) -> Result<NewPersonPage, AppError> {
    Ok(NewPersonPage {
        user: admin(current)?,
        form: NewPerson::default(),
        errors: Vec::new(),
        staff_roles: STAFF_ROLES,
    })
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
            "role" => p.roles.push(value.into_owned()),
            _ => {}
        }
    }
    p
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/person_created.html")]
pub struct PersonCreatedPage {
    user: User,
    person: User,
    link: String,
    valid_days: i32,
    /// None when the link was emailed, else why it could not be.
    email_failed: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let typed = read_new_person(&body);
    let again = |user: User, typed: NewPerson, errors: Vec<FieldError>| {
        let page = NewPersonPage {
            user,
            form: typed,
            errors,
            staff_roles: STAFF_ROLES,
        };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let person = match validate_new_person(&typed) {
        Ok(p) => p,
        Err(errors) => return again(user, typed, errors),
    };
    let mut tx = state.pool.begin().await.map_err(DbError::from)?;
    let new = NewUser {
        centre_id: user.centre_id,
        email: &person.email,
        display_name: &person.display_name,
        password_hash: None,
        kind: person.kind,
        roles: &person.roles,
    };
    let created = match users::create(&mut *tx, &new).await {
        Ok(u) => u,
        Err(DbError::DuplicateEmail) => {
            let errors = vec![FieldError::new(
                "email",
                "Someone at this centre already has this email address",
            )];
            return again(user, typed, errors);
        }
        Err(e) => return Err(e.into()),
    };
    let token = password_tokens::create(&mut *tx, created.id).await?;
    let centre = centres::get(&mut *tx, user.centre_id).await?;
    let roles: Vec<&str> = created.roles.iter().map(|r| r.key()).collect();
    activity::record(
        &mut *tx,
        user.centre_id,
        None,
        Some(user.id),
        "person added",
        serde_json::json!({ "user": created.id, "email": created.email, "roles": roles }),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    let link = format!(
        "{}/set-password/{token}",
        site_origin(&headers, state.secure_cookies)
    );
    // The person and the link are saved: a failed email is reported, never fatal.
    let email_failed = email_link(&state, &user, &created, &centre.name, &link).await;
    Ok((
        StatusCode::CREATED,
        PersonCreatedPage {
            user,
            person: created,
            link,
            valid_days: password_tokens::VALID_DAYS,
            email_failed,
        },
    )
        .into_response())
}

/// Emails the set-password link to the new person and logs the attempt either way;
/// returns why it failed, if it did.
async fn email_link(
    state: &AppState,
    admin: &User,
    person: &User,
    centre_name: &str,
    link: &str,
) -> Option<String> {
    let message = password_link_message(
        &person.display_name,
        &person.email,
        centre_name,
        link,
        password_tokens::VALID_DAYS,
    );
    let failed = state
        .mailer
        .send(message)
        .await
        .err()
        .map(|e| e.to_string());
    let (action, detail) = match &failed {
        None => (
            "password link emailed",
            serde_json::json!({ "user": person.id, "to": person.email }),
        ),
        Some(error) => (
            "password link email failed",
            serde_json::json!({ "user": person.id, "to": person.email, "error": error }),
        ),
    };
    // The admin still needs to see the link, so a log failure is reported, not returned.
    if let Err(e) = activity::record(
        &state.pool,
        admin.centre_id,
        None,
        Some(admin.id),
        action,
        detail,
    )
    .await
    {
        tracing::error!("recording {action:?} for {}: {e}", person.id);
    }
    failed
}

/// This site's origin as the browser reached it, for links people are sent.
fn site_origin(headers: &HeaderMap, https: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{}://{host}", if https { "https" } else { "http" })
}
