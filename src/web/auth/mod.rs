//! Sign-in, sessions and who may see what.
use axum::routing::{get, post};
use axum::Router;

pub mod password;
mod session;
mod signin;

pub use session::{CurrentUser, USER_ID_KEY};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(signin::page).post(signin::submit))
        .route("/logout", post(signin::logout))
}
