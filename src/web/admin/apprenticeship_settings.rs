//! The centre's rules for apprenticeships (issue 14): how the default OTJ plan is worked
//! out, the margin past which a learner behind on hours is flagged, the weeks between
//! progress reviews, and the kinds of OTJ activity learners log.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::admin;
use crate::db::apprenticeships;
use crate::db::users::User;
use crate::domain::form::{message_for, FieldError};
use crate::domain::otj::{validate_settings, SettingsForm};
use crate::web::auth::CurrentUser;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/apprenticeship_settings.html")]
pub(crate) struct ApprenticeshipSettingsPage {
    user: User,
    form: SettingsForm,
    errors: Vec<FieldError>,
    saved: bool,
}

impl ApprenticeshipSettingsPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Saved {
    saved: Option<String>,
}

/// GET /admin/settings/apprenticeships
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<Saved>,
) -> Result<ApprenticeshipSettingsPage, AppError> {
    let user = admin(user)?;
    let settings = apprenticeships::settings(&state.pool, user.centre_id).await?;
    Ok(ApprenticeshipSettingsPage {
        user,
        form: SettingsForm::of(&settings),
        errors: Vec::new(),
        saved: q.saved.is_some(),
    })
}

/// POST /admin/settings/apprenticeships
pub(crate) async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let user = admin(user)?;
    let mut form = SettingsForm::default();
    for (k, v) in form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match &*k {
            "rule" => form.rule = v,
            "percent" => form.percent = v,
            "weekly_hours" => form.weekly_hours = v,
            "margin" => form.margin = v,
            "review_weeks" => form.review_weeks = v,
            "activity_types" => form.activity_types = v,
            _ => {}
        }
    }
    match validate_settings(&form) {
        Ok(settings) => {
            apprenticeships::change_settings(&state.pool, user.centre_id, user.id, &settings)
                .await?;
            Ok(Redirect::to("/admin/settings/apprenticeships?saved=1").into_response())
        }
        Err(errors) => {
            let page = ApprenticeshipSettingsPage {
                user,
                form,
                errors,
                saved: false,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
