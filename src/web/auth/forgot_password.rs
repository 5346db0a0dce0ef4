//! "Forgot your password?": anyone asks for a link to choose a new password, by email.
//! The answer is the same page whatever the email and however often it is asked: the
//! request is counted and, within the limits, queued (`db::password_reset`), and the
//! email leaves from the job queue, never from this request.
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::db::password_reset;
use crate::domain::form::{message_for, FieldError};
use crate::domain::password_reset::{duration_words, validate, LINK_VALID_MINUTES};
use crate::web::form::Form;
use crate::web::{AppError, AppState};

/// Where every accepted request goes, asked within the limits or not.
const SENT: &str = "/forgot-password/sent";

#[derive(Template, WebTemplate, Default)]
#[template(path = "pages/forgot_password.html")]
pub(crate) struct ForgotPasswordPage {
    email: String,
    errors: Vec<FieldError>,
}

impl ForgotPasswordPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

pub async fn page() -> ForgotPasswordPage {
    ForgotPasswordPage::default()
}

#[derive(Debug, Deserialize)]
pub(crate) struct ForgotPasswordForm {
    #[serde(default)]
    email: String,
}

pub async fn submit(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<ForgotPasswordForm>,
) -> Result<Response, AppError> {
    if let Some(error) = validate(&form.email) {
        let page = ForgotPasswordPage {
            email: form.email,
            errors: vec![error],
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let address = connect.map(|c| c.0 .0.ip().to_string());
    // The link is built on the configured address, never on this request's Host.
    let admitted = password_reset::request(
        &state.pool,
        &form.email,
        address.as_deref(),
        &state.public_url,
    )
    .await?;
    if !admitted {
        tracing::info!("a password reset request was over its limit; nothing queued");
    }
    Ok(Redirect::to(SENT).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/forgot_password_sent.html")]
pub(crate) struct SentPage {
    valid_for: String,
}

pub async fn sent() -> SentPage {
    SentPage {
        valid_for: duration_words(LINK_VALID_MINUTES),
    }
}
