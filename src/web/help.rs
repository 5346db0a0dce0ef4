//! The help page: the journey from evidence to confirmed progress, in plain words.
//! Open to everyone; a signed-in visitor also sees who they are signed in as.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use tower_sessions::Session;
use uuid::Uuid;

use super::auth::USER_ID_KEY;
use super::{AppError, AppState};
use crate::db::users::{self, User};
use crate::db::DbError;

#[derive(Template, WebTemplate)]
#[template(path = "pages/help.html")]
pub struct HelpPage {
    user: Option<User>,
}

pub async fn page(State(state): State<AppState>, session: Session) -> Result<HelpPage, AppError> {
    let id: Option<Uuid> = session
        .get(USER_ID_KEY)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading the session: {e}")))?;
    let user = match id {
        Some(id) => match users::get(&state.pool, id).await {
            Ok(user) => Some(user),
            // The account is gone: help reads the same as for anyone signed out.
            Err(DbError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    Ok(HelpPage { user })
}
