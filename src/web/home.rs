//! The home page: one section per role the signed-in person holds.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use time::OffsetDateTime;

use super::auth::CurrentUser;
use super::{AppError, AppState};
use crate::db::caseload::{self, CaseloadRow, Scope};
use crate::db::iqa::{self, CoverageRow};
use crate::db::overview::{self, Overview};
use crate::db::users::{Role, User};

#[derive(Template, WebTemplate)]
#[template(path = "pages/home.html")]
pub struct HomePage {
    user: User,
    /// The learner's own enrolments.
    mine: Vec<CaseloadRow>,
    /// Where the person assesses (qualified or trainee).
    caseload: Option<Vec<CaseloadRow>>,
    /// Where the person is the IQA, and their sampling coverage per assessor.
    sample: Option<Vec<CaseloadRow>>,
    coverage: Vec<CoverageRow>,
    /// Admins: the centre at a glance, and every enrolment of it.
    overview: Option<Overview>,
    enrolments: Option<Vec<CaseloadRow>>,
}

pub async fn home(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<HomePage, AppError> {
    let db = &state.pool;
    let centre = user.centre_id;
    let mine = if user.has_role(Role::Learner) {
        caseload::list(db, centre, Scope::Learner(user.id)).await?
    } else {
        Vec::new()
    };
    let caseload = if user.has_role(Role::Assessor) || user.has_role(Role::TraineeAssessor) {
        Some(caseload::list(db, centre, Scope::Assessor(user.id)).await?)
    } else {
        None
    };
    let (sample, coverage) = if user.has_role(Role::Iqa) {
        (
            Some(caseload::list(db, centre, Scope::Iqa(user.id)).await?),
            iqa::coverage(db, centre, user.id).await?,
        )
    } else {
        (None, Vec::new())
    };
    let (overview, enrolments) = if user.has_role(Role::Admin) {
        (
            Some(overview::load(db, centre).await?),
            Some(caseload::list(db, centre, Scope::Centre).await?),
        )
    } else {
        (None, None)
    };
    Ok(HomePage {
        user,
        mine,
        caseload,
        sample,
        coverage,
        overview,
        enrolments,
    })
}

/// Dates as people write them: "24 Nov 2026".
pub fn day(at: &OffsetDateTime) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    at.format(&format).unwrap_or_default()
}

/// A moment in a record: "24 Nov 2026, 14:05 UTC".
pub fn moment(at: &OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}
