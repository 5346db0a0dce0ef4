//! Changing one's own password: the current one, checked as sign-in checks it (Argon2
//! under the hashing budget, wrong ones counted by sign-in's throttle), then the new
//! one. Every other session of the account ends; this browser stays signed in.
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::password::HashingError;
use super::CurrentUser;
use crate::db::users::User;
use crate::db::{logins, passwords};
use crate::domain::form::{message_for, FieldError};
use crate::domain::passwords::{too_many_wrong, validate_change, WRONG_CURRENT};
use crate::domain::signin::Verdict;
use crate::web::form::Form;
use crate::web::{AppError, AppState};

const PAGE: &str = "/account/password";

#[derive(Template, WebTemplate)]
#[template(path = "pages/change_password.html")]
pub(crate) struct ChangePasswordPage {
    user: User,
    errors: Vec<FieldError>,
    /// A problem with the whole form (too many wrong passwords, the server is busy).
    problem: Option<String>,
    /// The password was just changed.
    changed: bool,
}

impl ChangePasswordPage {
    fn new(user: User) -> ChangePasswordPage {
        ChangePasswordPage {
            user,
            errors: Vec::new(),
            problem: None,
            changed: false,
        }
    }

    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChangedQuery {
    changed: Option<String>,
}

pub async fn page(
    CurrentUser(user): CurrentUser,
    Query(q): Query<ChangedQuery>,
) -> ChangePasswordPage {
    ChangePasswordPage {
        changed: q.changed.is_some(),
        ..ChangePasswordPage::new(user)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChangePasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, AppError> {
    let again = |status: StatusCode, errors: Vec<FieldError>, problem: Option<String>| {
        let page = ChangePasswordPage {
            errors,
            problem,
            ..ChangePasswordPage::new(user.clone())
        };
        Ok((status, page).into_response())
    };
    // Everything that needs no hashing first.
    let errors = validate_change(&form.current, &form.password, &form.confirm);
    if !errors.is_empty() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, errors, None);
    }
    let address = connect.map(|c| c.0 .0.ip().to_string());
    let attempt = logins::Attempt::new(&user.email, address.as_deref());
    if let Err(throttled) = logins::reserve(&state.pool, &attempt).await? {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            Vec::new(),
            Some(too_many_wrong(&throttled)),
        );
    }
    let hashes = user.password_hash.clone().into_iter().collect();
    let right = match state.hashing.verify_any(form.current.clone(), hashes).await {
        Ok(matched) => matched.is_some(),
        Err(HashingError::Busy) => {
            logins::settle(&state.pool, &attempt, Verdict::NotChecked).await?;
            let busy = Some(HashingError::Busy.to_string());
            return again(StatusCode::SERVICE_UNAVAILABLE, Vec::new(), busy);
        }
        Err(e) => return Err(AppError::Internal(e.into())),
    };
    let verdict = if right {
        Verdict::Right
    } else {
        Verdict::Wrong
    };
    logins::settle(&state.pool, &attempt, verdict).await?;
    if !right {
        return again(StatusCode::UNPROCESSABLE_ENTITY, vec![WRONG_CURRENT], None);
    }
    let hash = match state.hashing.hash(form.password).await {
        Ok(hash) => hash,
        Err(HashingError::Busy) => {
            let busy = Some(HashingError::Busy.to_string());
            return again(StatusCode::SERVICE_UNAVAILABLE, Vec::new(), busy);
        }
        Err(e) => return Err(AppError::Internal(e.into())),
    };
    let generation = passwords::change(&state.pool, &user, &hash).await?;
    // Every session ended with the change; this browser signs in again at once.
    super::session::begin(&session, user.id, generation).await?;
    Ok(Redirect::to(&format!("{PAGE}?changed=1")).into_response())
}
