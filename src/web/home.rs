use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::{AppError, AppState};
use crate::db::overview::{self, Overview};

#[derive(Template, WebTemplate)]
#[template(path = "pages/home.html")]
pub struct HomePage {
    overview: Overview,
}

pub async fn home(State(state): State<AppState>) -> Result<HomePage, AppError> {
    let overview = overview::load(&state.pool).await?;
    Ok(HomePage { overview })
}
