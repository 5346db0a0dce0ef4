//! Sign-in, sessions and who may see what.
use axum::routing::{get, post};
use axum::Router;

pub mod memo;
pub mod password;
mod session;
mod set_password;
mod signin;

pub(crate) use session::begin as begin_session;
pub(crate) use session::signed_in_with;
pub use session::{CurrentUser, MaybeUser, IDLE as SESSION_IDLE, USER_ID_KEY};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(signin::page).post(signin::submit))
        .route("/logout", post(signin::logout))
        .route(
            "/set-password/{token}",
            get(set_password::page).post(set_password::submit),
        )
}
