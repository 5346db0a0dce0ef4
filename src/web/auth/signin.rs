//! The sign-in and sign-out pages.
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::password::HashingError;
use crate::db::{accounts, logins, users};
use crate::domain::signin::{self, FieldError, Verdict};
use crate::web::form::Form;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate, Default)]
#[template(path = "pages/login.html")]
pub(crate) struct SignInPage {
    email: String,
    next: String,
    errors: Vec<FieldError>,
    /// A problem with the whole form (wrong details, too many attempts).
    problem: Option<String>,
}

impl SignInPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

pub async fn page(Query(q): Query<NextQuery>) -> SignInPage {
    SignInPage {
        next: signin::safe_next(q.next.as_deref()).to_string(),
        ..SignInPage::default()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

const WRONG_DETAILS: &str = "The email address or password is not right. Check them and try again.";
/// Only ever shown after the right password, so it tells nothing to someone guessing.
const DEACTIVATED: &str = "This account has been deactivated. Ask your centre's administrator.";

pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let next = signin::safe_next(form.next.as_deref()).to_string();
    let again = |status: StatusCode, errors: Vec<FieldError>, problem: Option<String>| {
        let page = SignInPage {
            email: form.email.clone(),
            next: next.clone(),
            errors,
            problem,
        };
        Ok((status, page).into_response())
    };
    let errors = signin::validate(&form.email, &form.password);
    if !errors.is_empty() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, errors, None);
    }
    let address = connect.map(|c| c.0 .0.ip().to_string());
    let attempt = logins::Attempt::new(&form.email, address.as_deref());
    // The attempt is counted before its password is checked, so attempts arriving
    // together cannot all be checked.
    if let Err(throttled) = logins::reserve(&state.pool, &attempt).await? {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            Vec::new(),
            Some(throttled.to_string()),
        );
    }
    // Deactivated accounts are checked too, so that the right password can be told
    // the account is deactivated (a wrong one learns nothing more than anywhere else);
    // active ones first, so that an active account with the password signs in.
    let mut candidates: Vec<_> = users::find_all_by_email(&state.pool, form.email.trim())
        .await?
        .into_iter()
        .filter_map(|u| u.password_hash.clone().map(|hash| (u, hash)))
        .collect();
    candidates.sort_by_key(|(u, _)| !u.active);
    let hashes = candidates.iter().map(|(_, h)| h.clone()).collect();
    // One Argon2 run per account with this email, and one when there is none, so
    // response times do not tell which emails exist.
    let matched = match state
        .hashing
        .verify_any(form.password.clone(), hashes)
        .await
    {
        Ok(matched) => matched,
        Err(HashingError::Busy) => {
            logins::settle(&state.pool, &attempt, Verdict::NotChecked).await?;
            return again(
                StatusCode::SERVICE_UNAVAILABLE,
                Vec::new(),
                Some(HashingError::Busy.to_string()),
            );
        }
        Err(e) => return Err(AppError::Internal(e.into())),
    };
    let user = matched.and_then(|i| candidates.into_iter().nth(i).map(|(u, _)| u));
    // A deactivated account's right password signs nobody in: it counts as a failure.
    let verdict = match &user {
        Some(u) if u.active => Verdict::Right,
        _ => Verdict::Wrong,
    };
    logins::settle(&state.pool, &attempt, verdict).await?;
    let user = match user {
        None => {
            return again(
                StatusCode::UNAUTHORIZED,
                Vec::new(),
                Some(WRONG_DETAILS.to_string()),
            )
        }
        Some(u) if !u.active => {
            return again(
                StatusCode::FORBIDDEN,
                Vec::new(),
                Some(DEACTIVATED.to_string()),
            )
        }
        Some(u) => u,
    };
    super::session::begin(&session, user.id, user.session_generation).await?;
    accounts::record_sign_in(&state.pool, user.id).await?;
    Ok(Redirect::to(&next).into_response())
}

pub async fn logout(session: Session) -> Result<Redirect, AppError> {
    session.flush().await.map_err(session_error)?;
    Ok(Redirect::to("/login"))
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session: {e}"))
}
