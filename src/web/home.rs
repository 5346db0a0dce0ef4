use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::auth::CurrentUser;
use super::{AppError, AppState};
use crate::db::overview::{self, Overview};
use crate::db::users::User;

#[derive(Template, WebTemplate)]
#[template(path = "pages/home.html")]
pub struct HomePage {
    user: User,
    overview: Overview,
}

/// The signed-in user's centre at a glance; the role pages come with the e-portfolio.
pub async fn home(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<HomePage, AppError> {
    let overview = overview::load(&state.pool, user.centre_id).await?;
    Ok(HomePage { user, overview })
}
