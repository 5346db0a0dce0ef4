//! The home page: one section per role the signed-in person holds. Each is short and
//! costs the same however large the centre: a learner's own qualifications; for staff,
//! a summary of the enrolments they work with (kept figures, one row per enrolment) and
//! the way into the full report; never a list of every enrolment.
use std::hash::{Hash, Hasher};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::auth::signed_in_with;
use super::page_cache;
use super::{AppError, AppState};
use crate::db::caseload::{self, CaseloadRow};
use crate::db::centres;
use crate::db::iqa::{self, CoverageRow};
use crate::db::report::{self, ReportRow, Scope};
use crate::db::report_tallies::{self as tallies, Summary};
use crate::db::sessions;
use crate::db::users::{Role, User};
use crate::domain::report::{Column, Direction, ReportQuery, Sort};

/// What the staff sections' short lists show.
pub(crate) const ATTENTION_COLUMNS: [Column; 8] = [
    Column::Learner,
    Column::Qualification,
    Column::Major,
    Column::Progress,
    Column::Claims,
    Column::Countersign,
    Column::Actions,
    Column::Activity,
];

/// How many enrolments a staff section lists.
const ATTENTION_ROWS: u32 = 10;

/// The enrolments a member of staff works with, at a glance: their summary, and the
/// few that most need them (an assessor: most claims to review; an IQA: most open
/// actions), most first.
pub(crate) struct StaffSection {
    pub summary: Summary,
    pub attention: Vec<ReportRow>,
}

impl StaffSection {
    async fn load(
        db: &sqlx::PgPool,
        centre_id: uuid::Uuid,
        scope: Scope,
        most: Column,
    ) -> Result<StaffSection, AppError> {
        let first = ReportQuery {
            sort: Sort {
                column: most,
                direction: Direction::Descending,
            },
            size: ATTENTION_ROWS,
            ..ReportQuery::default()
        };
        Ok(StaffSection {
            summary: tallies::summary(db, centre_id, scope).await?,
            attention: report::rows(db, centre_id, scope, &first).await?,
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/home.html")]
pub(crate) struct HomePage {
    user: User,
    /// The learner's own enrolments.
    mine: Vec<CaseloadRow>,
    /// Where the person assesses (qualified or trainee).
    caseload: Option<StaffSection>,
    /// Where the person is the IQA, and their sampling coverage per assessor.
    sample: Option<StaffSection>,
    coverage: Vec<CoverageRow>,
    /// Admins: the centre at a glance, and its name.
    centre: Option<Summary>,
    centre_name: String,
    /// An employer's person: their learners and what awaits their signature.
    employer: Option<super::employer::EmployerSection>,
}

/// The signed-in person and a fingerprint of everything their home page shows, read
/// with the session's check in one round trip (`sessions::signed_in_with_home`).
pub(crate) struct HomeViewer {
    user: User,
    fingerprint: i64,
    centre_revision: i64,
}

impl FromRequestParts<AppState> for HomeViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let (user, (fingerprint, centre_revision)) =
            signed_in_with(parts, state, |db, user, session| {
                Box::pin(async move { sessions::signed_in_with_home(db, user, &session).await })
            })
            .await?;
        Ok(HomeViewer {
            user,
            fingerprint,
            centre_revision,
        })
    }
}

/// A home page is kept, like a portfolio page, for as long as nothing it shows has
/// changed: the person's enrolments (the fingerprint), their name and their roles.
/// Not an admin's or an IQA's: each reads kept figures of many enrolments (the centre's
/// or the sample's tallies, the sample's kept order and learner counts), and knowing
/// whether a kept page still held would read every one of those enrolments (an IQA's
/// fingerprint hashed 20,000 at 100,000 enrolments: most of the home's 20 ms).
fn kept_as(viewer: &HomeViewer) -> Option<(page_cache::Key, page_cache::Revision)> {
    let user = &viewer.user;
    // An employer's person's home lists requests that expire with time, not with a
    // change to their enrolments: it is rendered each time (it reads a few rows).
    if user.has_role(Role::Admin) || user.has_role(Role::Employer) || user.has_role(Role::Iqa) {
        return None;
    }
    let mut hasher = std::hash::DefaultHasher::new();
    // The day too: an apprenticeship's flags (behind on OTJ, a review overdue or left
    // unsigned) are kept as the day they start, and turn on as the days pass with no
    // change to the enrolment; each turns at the start of a day, never within one.
    let today = time::OffsetDateTime::now_utc().date();
    (&user.display_name, &user.roles, today).hash(&mut hasher);
    let key = page_cache::Key {
        page: page_cache::Page::Home,
        enrolment: None,
        item: None,
        viewer: user.id,
        capacity: None,
    };
    let revision = page_cache::Revision {
        own: viewer.fingerprint ^ hasher.finish() as i64,
        centre: viewer.centre_revision,
    };
    Some((key, revision))
}

pub async fn home(
    State(state): State<AppState>,
    viewer: HomeViewer,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let kept = kept_as(&viewer);
    if let Some((key, revision)) = &kept {
        if let Some(page) = state.pages.get(key, *revision) {
            return Ok(page.respond(&headers));
        }
    }
    let page = home_page(&state, viewer.user).await?;
    match kept {
        Some((key, revision)) => {
            page_cache::render_and_keep(&state, key, revision, &page, 24 * 1024, &headers)
        }
        None => Ok(page.into_response()),
    }
}

async fn home_page(state: &AppState, user: User) -> Result<HomePage, AppError> {
    let db = &state.pool;
    let centre_id = user.centre_id;
    let mine = if user.has_role(Role::Learner) {
        caseload::mine(db, user.id).await?
    } else {
        Vec::new()
    };
    let caseload = if user.has_role(Role::Assessor) || user.has_role(Role::TraineeAssessor) {
        Some(StaffSection::load(db, centre_id, Scope::Caseload(user.id), Column::Claims).await?)
    } else {
        None
    };
    let (sample, coverage) = if user.has_role(Role::Iqa) {
        (
            Some(StaffSection::load(db, centre_id, Scope::Sample(user.id), Column::Actions).await?),
            iqa::coverage(db, centre_id, user.id).await?,
        )
    } else {
        (None, Vec::new())
    };
    let (centre, centre_name) = if user.has_role(Role::Admin) {
        (
            Some(tallies::summary(db, centre_id, Scope::Centre).await?),
            centres::get(db, centre_id).await?.name,
        )
    } else {
        (None, String::new())
    };
    let employer = if user.has_role(Role::Employer) {
        Some(super::employer::section(state, &user).await?)
    } else {
        None
    };
    Ok(HomePage {
        employer,
        user,
        mine,
        caseload,
        sample,
        coverage,
        centre,
        centre_name,
    })
}

/// Dates as people write them: "24 Nov 2026".
pub fn day(at: &OffsetDateTime) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    at.format(&format).unwrap_or_default()
}

/// A calendar day as people write them: "24 Nov 2026".
pub fn date_text(d: time::Date) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    d.format(&format).unwrap_or_default()
}

/// A day as ISO 8601, for file names: "2026-11-24".
pub(crate) fn iso_day(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
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
