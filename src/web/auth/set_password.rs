//! The one-time link from an email, where a person chooses a password and is signed
//! in: a new person's first visit (the link from their admin), or a new password after
//! "Forgot your password?".
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::password::HashingError;
use crate::db::{password_tokens, users};
use crate::domain::form::FieldError;
use crate::domain::passwords::validate_new_password;
use crate::web::form::Form;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/set_password.html")]
pub(crate) struct SetPasswordPage {
    /// A reset: the person had a password and forgot it.
    reset: bool,
    name: String,
    email: String,
    errors: Vec<FieldError>,
    /// A problem with the whole form (the server is busy).
    problem: Option<String>,
}

impl SetPasswordPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }
}

/// A used, expired or unknown link is simply not there (404).
async fn page_for(state: &AppState, token: &str) -> Result<SetPasswordPage, AppError> {
    let holder = password_tokens::user_for(&state.pool, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = users::get(&state.pool, holder.user_id).await?;
    Ok(SetPasswordPage {
        reset: holder.reset,
        name: user.display_name,
        email: user.email,
        errors: Vec::new(),
        problem: None,
    })
}

pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<SetPasswordPage, AppError> {
    page_for(&state, &token).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct SetPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: Session,
    Form(form): Form<SetPasswordForm>,
) -> Result<Response, AppError> {
    // The link is looked up before anything is hashed: a made-up, used or expired one
    // costs a lookup, not an Argon2 run.
    let page = page_for(&state, &token).await?;
    let errors = validate_new_password(&form.password, &form.confirm);
    if !errors.is_empty() {
        let page = SetPasswordPage { errors, ..page };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let hash = match state.hashing.hash(form.password).await {
        Ok(hash) => hash,
        Err(HashingError::Busy) => {
            let page = SetPasswordPage {
                problem: Some(HashingError::Busy.to_string()),
                ..page
            };
            return Ok((StatusCode::SERVICE_UNAVAILABLE, page).into_response());
        }
        Err(e) => return Err(AppError::Internal(e.into())),
    };
    // Used by another tab meanwhile: one of them wins. Setting a password by link ends
    // the account's other sessions (a reset is how a taken-over account is recovered).
    let (user_id, generation) = password_tokens::consume(&state.pool, &token, &hash)
        .await?
        .ok_or(AppError::NotFound)?;
    super::session::begin(&session, user_id, generation).await?;
    Ok(Redirect::to("/").into_response())
}
