//! The centre's settings: automatic audit (SPEC §4), on by default; and the centre's
//! signing keys, which an admin may rotate (issue 11 point 7).
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::admin;
use crate::db::users::User;
use crate::db::{centre_keys, centres};
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/settings.html")]
pub(crate) struct SettingsPage {
    user: User,
    centre: centres::Centre,
    saved: bool,
    /// The centre's signing keys, first first; the last not retired signs.
    keys: Vec<centre_keys::PublishedKey>,
    rotated: bool,
}

impl SettingsPage {
    fn day(&self, at: &time::OffsetDateTime) -> String {
        crate::web::home::day(at)
    }
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct SettingsForm {
    /// Checkboxes: present when ticked.
    auto_audit: Option<String>,
    suggestions: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Saved {
    saved: Option<String>,
    rotated: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    query: axum::extract::Query<Saved>,
) -> Result<SettingsPage, AppError> {
    let user = admin(user)?;
    Ok(SettingsPage {
        centre: centres::get(&state.pool, user.centre_id).await?,
        saved: query.saved.is_some(),
        keys: centre_keys::published(&state.pool, user.centre_id).await?,
        rotated: query.rotated.is_some(),
        user,
    })
}

pub(crate) async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let user = admin(user)?;
    let settings = centres::Settings {
        auto_audit: form.auto_audit.is_some(),
        suggestions: form.suggestions.is_some(),
    };
    centres::change_settings(&state.pool, user.centre_id, user.id, settings).await?;
    Ok(Redirect::to("/admin/settings?saved=1").into_response())
}

/// A new signing key for the centre: it signs from now on, and the old one stays
/// published so that what it signed still verifies. Recorded in the activity log in
/// the same transaction.
pub(crate) async fn rotate_key(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let user = admin(user)?;
    centre_keys::rotate(
        &state.pool,
        &state.signing_kek,
        user.centre_id,
        Some(user.id),
    )
    .await?;
    Ok(Redirect::to("/admin/settings?rotated=1").into_response())
}
