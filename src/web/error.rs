use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::db::DbError;

/// Every handler error, rendered once as a page with the right status.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Unknown ids and ids the user may not see alike (SPEC §8).
    #[error("not found")]
    NotFound,
    /// An invalid transition, with the reason.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::NotFound,
            // Invalid transitions and races answer 409 with the reason (SPEC §9).
            DbError::Refused(_) | DbError::StatusChanged { .. } | DbError::LiveCredentialExists => {
                AppError::Conflict(e.to_string())
            }
            other => AppError::Db(other),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address, or you do not have access to it.".to_string(),
            ),
            // Reasons come from several layers; a sentence starts with a capital.
            AppError::Conflict(reason) => (
                StatusCode::CONFLICT,
                "That cannot be done now",
                capitalised(reason),
            ),
            AppError::Db(_) | AppError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error has been logged. Please try again.".to_string(),
                )
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
        };
        (status, page).into_response()
    }
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}
