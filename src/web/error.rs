use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
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
    /// A request no page of the app sends (a form field that does not parse, an action
    /// that is not one), with what was wrong.
    #[error("{0}")]
    BadRequest(String),
    /// The database cannot be reached (or a request ran out of time): nothing the
    /// user did wrong, and worth trying again shortly.
    #[error("the service is unavailable")]
    Unavailable,
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
            DbError::Refused(_)
            | DbError::StatusChanged { .. }
            | DbError::LiveCredentialExists
            | DbError::LinkRefused(_)
            | DbError::ReassignRefused(_)
            | DbError::AccountRefused(_)
            | DbError::RetentionRefused(_) => AppError::Conflict(e.to_string()),
            other if other.is_unavailable() => AppError::Unavailable,
            other => AppError::Db(other),
        }
    }
}

/// An error that came through `anyhow` may still be the database being away.
fn database_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<DbError>()
            .is_some_and(DbError::is_unavailable)
            || cause
                .downcast_ref::<sqlx::Error>()
                .is_some_and(crate::db::unavailable)
    })
}

const UNAVAILABLE: &str = "The service is unavailable for a moment; try again shortly.";

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
    /// The page a refused action came from, to go back to: its address and the link's words.
    back: Option<(String, &'static str)>,
}

/// Marks a refusal's page (409) with its reason, so that `refusals_link_back` can draw
/// it again with the way back to where the request came from.
#[derive(Debug, Clone)]
struct Refused(String);

const REFUSED_TITLE: &str = "That cannot be done now";

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address, or you do not have access to it.".to_string(),
            ),
            // Reasons come from several layers; a sentence starts with a capital.
            AppError::Conflict(reason) => {
                (StatusCode::CONFLICT, REFUSED_TITLE, capitalised(reason))
            }
            AppError::BadRequest(reason) => (
                StatusCode::BAD_REQUEST,
                "That request could not be read",
                reason.clone(),
            ),
            AppError::Unavailable => {
                tracing::warn!("answered 503: the database is unavailable or too slow");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service unavailable",
                    UNAVAILABLE.to_string(),
                )
            }
            AppError::Internal(e) if database_unavailable(e) => {
                tracing::warn!(error = %self, "answered 503");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service unavailable",
                    UNAVAILABLE.to_string(),
                )
            }
            AppError::Db(_) | AppError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error has been logged. Please try again.".to_string(),
                )
            }
        };
        let refused = (status == StatusCode::CONFLICT).then(|| Refused(message.clone()));
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
            back: None,
        };
        let mut response = (status, page).into_response();
        if let Some(refused) = refused {
            response.extensions_mut().insert(refused);
        }
        response
    }
}

/// A refused action's page links back to the page the action was on: the portfolio for
/// an address under `/enrolments/{id}`, the person for `/admin/people/{id}/…`, the list
/// for a portfolio archived from retention. The handler that refused knows the reason,
/// the address knows the way back.
pub(crate) async fn refusals_link_back(request: Request, next: Next) -> Response {
    let back = way_back(request.uri().path());
    let response = next.run(request).await;
    match (back, response.extensions().get::<Refused>()) {
        (Some(back), Some(Refused(message))) => {
            let page = ErrorPage {
                status: StatusCode::CONFLICT.as_u16(),
                title: REFUSED_TITLE,
                message: message.clone(),
                back: Some(back),
            };
            (StatusCode::CONFLICT, page).into_response()
        }
        _ => response,
    }
}

/// The page an action's address belongs to, and the words of the link back to it.
fn way_back(path: &str) -> Option<(String, &'static str)> {
    let id_after = |prefix: &str| {
        let id = path.strip_prefix(prefix)?.split('/').next()?;
        uuid::Uuid::parse_str(id).ok()
    };
    if let Some(id) = id_after("/enrolments/") {
        return Some((format!("/enrolments/{id}"), "Back to the portfolio"));
    }
    if let Some(id) = id_after("/admin/people/") {
        return Some((format!("/admin/people/{id}"), "Back to the person"));
    }
    if path.starts_with("/admin/retention/") {
        return Some(("/admin/retention".to_string(), "Back to retention"));
    }
    None
}

pub(crate) async fn not_found() -> AppError {
    AppError::NotFound
}

#[cfg(test)]
mod tests {
    use super::way_back;

    #[test]
    fn the_way_back_is_the_page_the_address_belongs_to() {
        let id = "01a23e0c-0000-7000-8000-000000000001";
        let back = |path: &str| way_back(path).map(|(href, _)| href);
        assert_eq!(
            back(&format!("/enrolments/{id}/credential/request")),
            Some(format!("/enrolments/{id}"))
        );
        assert_eq!(
            back(&format!("/admin/people/{id}/deactivate")),
            Some(format!("/admin/people/{id}"))
        );
        assert_eq!(
            back(&format!("/admin/retention/{id}/archive")),
            Some("/admin/retention".to_string())
        );
        assert_eq!(back("/enrolments/not-an-id/x"), None);
        assert_eq!(back("/admin/people/new"), None);
        assert_eq!(back("/admin/audits"), None);
    }
}
