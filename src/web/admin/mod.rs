//! Pages for a centre's admins. Everyone else gets 404, as for any page they may not see.
use axum::routing::{get, post};
use axum::Router;

use super::auth::CurrentUser;
use super::{AppError, AppState};
use crate::db::users::{Role, User};

mod apprenticeship_settings;
mod audits;
mod employers;
mod enrol;
mod funding_risk;
mod log;
mod onboarding;
mod people;
mod people_list;
mod person;
mod qualifications;
mod reassign;
mod retention;
mod settings;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/people", get(people_list::page).post(people::create))
        .route("/admin/people.csv", get(people_list::csv))
        .route("/admin/people/new", get(people::new))
        .route("/admin/people/{id}/unlock", post(people::unlock))
        .route("/admin/people/{id}/password-link", post(people::send_link))
        .route("/admin/people/{id}", get(person::show).post(person::edit))
        .route("/admin/people/{id}/deactivate", post(person::deactivate))
        .route("/admin/people/{id}/reactivate", post(person::reactivate))
        .route(
            "/admin/people/{id}/end-sessions",
            post(person::end_sessions),
        )
        .route(
            "/admin/people/{id}/reassign",
            get(reassign::page).post(reassign::check),
        )
        .route(
            "/admin/people/{id}/reassign/confirm",
            post(reassign::confirm),
        )
        .route(
            "/admin/enrolments",
            get(super::reports::centre).post(enrol::create),
        )
        .route("/admin/enrolments/new", get(enrol::new))
        .route(
            "/admin/enrolments/{id}/assignments",
            get(enrol::assignments).post(enrol::change_assignments),
        )
        .route(
            "/admin/qualifications",
            get(qualifications::list)
                .post(qualifications::import)
                .layer(axum::extract::DefaultBodyLimit::max(
                    qualifications::MAX_BODY_BYTES,
                )),
        )
        .route("/admin/qualifications/{id}", get(qualifications::show))
        .route(
            "/admin/import",
            get(onboarding::page).post(onboarding::upload).layer(
                axum::extract::DefaultBodyLimit::max(onboarding::MAX_BODY_BYTES),
            ),
        )
        .route("/admin/import/template.csv", get(onboarding::template))
        .route(
            "/admin/import/{id}",
            get(onboarding::show).post(onboarding::confirm),
        )
        .route("/admin/import/{id}/emails", get(onboarding::email_progress))
        .route("/admin/import/{id}/resend", post(onboarding::resend))
        .route(
            "/admin/employers",
            get(employers::list).post(employers::add),
        )
        .route("/admin/employers/new", get(employers::new))
        .route(
            "/admin/employers/{id}",
            get(employers::show).post(employers::change),
        )
        .route("/admin/log", get(log::page))
        .route("/admin/log.csv", get(log::csv))
        .route("/admin/settings", get(settings::page).post(settings::save))
        .route("/admin/settings/rotate-key", post(settings::rotate_key))
        .route(
            "/admin/retention",
            get(retention::show).post(retention::save),
        )
        .route("/admin/retention/{id}/archive", post(retention::archive))
        .route(
            "/admin/people/{id}/erase",
            get(retention::confirm_erase).post(retention::erase),
        )
        .route("/admin/funding-risk", get(funding_risk::page))
        .route("/admin/funding-risk.csv", get(funding_risk::csv))
        .route(
            "/admin/settings/apprenticeships",
            get(apprenticeship_settings::page).post(apprenticeship_settings::save),
        )
        .route("/admin/audits", get(audits::page).post(audits::start))
        .route("/admin/audits/{id}", get(audits::show))
        .route("/admin/audits/{id}/progress", get(audits::progress))
}

/// The signed-in user, if they are an admin; otherwise the page does not exist for them.
pub(crate) fn admin(CurrentUser(user): CurrentUser) -> Result<User, AppError> {
    if user.has_role(Role::Admin) {
        Ok(user)
    } else {
        Err(AppError::NotFound)
    }
}
