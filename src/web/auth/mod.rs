//! Sign-in, sessions and who may see what.
use axum::routing::{get, post};
use axum::Router;

mod change_password;
mod forgot_password;
pub mod memo;
pub mod password;
mod session;
mod set_password;
mod signin;

pub(crate) use session::begin as begin_session;
pub(crate) use session::{signed_in_with, SessionClaim};
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
        .route(
            "/forgot-password",
            get(forgot_password::page).post(forgot_password::submit),
        )
        .route("/forgot-password/sent", get(forgot_password::sent))
        .route(
            "/account/password",
            get(change_password::page).post(change_password::submit),
        )
}
