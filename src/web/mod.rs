//! HTTP: one router, thin handlers, one error type mapped once to responses.
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use tower_http::trace::TraceLayer;

mod assets;
pub mod auth;
mod error;
mod health;
mod home;

pub use error::AppError;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home::home))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/{file}", get(assets::asset))
        .fallback(error::not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
