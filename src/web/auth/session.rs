//! Who is signed in: the user id lives in a PostgreSQL-backed session (it survives a
//! restart); `CurrentUser` loads the account or sends the browser to sign in.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use crate::db::users::{self, User};
use crate::db::DbError;
use crate::web::{AppError, AppState};

pub const USER_ID_KEY: &str = "user_id";

/// The signed-in user. Pages that take it are for signed-in users only.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(status, msg)| (status, msg).into_response())?;
        // An htmx request comes back to the page it was made from, not to its own address,
        // and must make the browser leave the page rather than swap a sign-in form into a row.
        let from_htmx = parts.headers.contains_key("hx-request");
        let current_page = parts
            .headers
            .get("hx-current-url")
            .and_then(|v| v.to_str().ok())
            .and_then(|url| url.parse::<axum::http::Uri>().ok())
            .and_then(|uri| uri.path_and_query().map(|p| p.as_str().to_string()));
        let to_sign_in = || {
            let next = match (&current_page, from_htmx) {
                (Some(page), true) => page.as_str(),
                _ => parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/"),
            };
            let query = if next == "/" {
                String::new()
            } else {
                format!("?next={}", urlencode(next))
            };
            let login = format!("/login{query}");
            if from_htmx {
                ([("hx-redirect", login)], ()).into_response()
            } else {
                Redirect::to(&login).into_response()
            }
        };
        let id: Option<Uuid> = session.get(USER_ID_KEY).await.map_err(|e| {
            AppError::Internal(anyhow::anyhow!("reading the session: {e}")).into_response()
        })?;
        let Some(id) = id else {
            return Err(to_sign_in());
        };
        match users::get(&state.pool, id).await {
            Ok(user) if user.active => Ok(CurrentUser(user)),
            // The account is gone or deactivated: the session means nothing any more
            // (a deactivated person cannot sign in, so neither may their old session).
            Ok(_) | Err(DbError::NotFound) => {
                let _ = session.flush().await;
                Err(to_sign_in())
            }
            Err(e) => Err(AppError::from(e).into_response()),
        }
    }
}

/// Percent-encodes a path for a query value (the characters a path may hold).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
