//! What an employer's person sees (issue 13, point 1; SPEC §10): the learners they are
//! linked to, each one's confirmed progress, status and evidence list, read-only, and
//! what awaits their signature. Never IQA material, claims beyond their count, or any
//! learner they are not linked to (404, as everywhere).
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use uuid::Uuid;

use super::auth::CurrentUser;
use super::home::day;
use super::ids::Ids;
use super::{AppError, AppState};
use crate::db::caseload::{self, CaseloadRow};
use crate::db::enrolments::{self, Enrolment};
use crate::db::evidence as db_evidence;
use crate::db::users::{self, Role, User};
use crate::db::witness::{self, Request};
use crate::db::{apprenticeships, employer_people, figures};
use crate::domain::access::{self, Viewer};
use crate::domain::Status;

const PER_PAGE: i64 = 50;

/// An employer's person, or 404 for anyone else: no one else has these pages.
fn employer_person(user: User) -> Result<User, AppError> {
    if user.has_role(Role::Employer) {
        Ok(user)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page: Option<String>,
}

fn page_number(q: &PageQuery) -> i64 {
    q.page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 100_000)
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/employer/learners.html")]
pub(crate) struct LearnersPage {
    user: User,
    employer: String,
    learners: Vec<CaseloadRow>,
    page: i64,
    more: bool,
}

/// GET /employer/learners
pub(crate) async fn learners(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<PageQuery>,
) -> Result<LearnersPage, AppError> {
    let user = employer_person(user)?;
    let page = page_number(&q);
    let mut learners = caseload::followed(&state.pool, user.id, page - 1, PER_PAGE).await?;
    let more = learners.len() as i64 > PER_PAGE;
    learners.truncate(PER_PAGE as usize);
    let employer = employer_people::employer_of(&state.pool, user.id)
        .await?
        .map(|(_, name)| name)
        .unwrap_or_default();
    Ok(LearnersPage {
        user,
        employer,
        learners,
        page,
        more,
    })
}

pub(crate) struct UnitRow {
    pub code: String,
    pub title: String,
    pub confirmed: i32,
    pub criteria: usize,
}

pub(crate) struct EvidenceRow {
    pub title: String,
    pub kind: &'static str,
    pub added: String,
    /// "Witness testimony: signed", … for its signed records.
    pub signed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/employer/learner.html")]
pub(crate) struct LearnerPage {
    user: User,
    enrolment_id: Uuid,
    learner: String,
    qualification: String,
    status: Status,
    confirmed: i32,
    criteria: i32,
    percent: i32,
    units_achieved: i32,
    unit_total: i32,
    claims: i32,
    units: Vec<UnitRow>,
    evidence: Vec<EvidenceRow>,
    page: i64,
    more: bool,
    awaiting: Vec<Request>,
    /// An apprenticeship's off-the-job hours (issue 14, point 3).
    otj: Option<crate::web::portfolio::otj_view::OtjProgress>,
    /// Its progress reviews, newest first (issue 14, point 4).
    reviews: Vec<crate::web::portfolio::reviews::ReviewLine>,
    schedule: Option<crate::web::portfolio::reviews::Schedule>,
}

/// The enrolment, if this signed-in employer's person follows it; 404 otherwise.
pub(crate) async fn followed_enrolment(
    state: &AppState,
    user: &User,
    id: Uuid,
) -> Result<Enrolment, AppError> {
    if !user.has_role(Role::Employer) {
        return Err(AppError::NotFound);
    }
    followed(state, user, id).await
}

/// The enrolment, if this employer's person follows it; 404 otherwise.
async fn followed(state: &AppState, user: &User, id: Uuid) -> Result<Enrolment, AppError> {
    let enrolment = enrolments::get(&state.pool, id).await?;
    let follows = employer_people::follows(&state.pool, user.id, id).await?;
    let viewer = Viewer {
        id: user.id,
        centre: user.centre_id,
        roles: &user.roles,
    };
    if access::employer_follows(viewer, enrolment.centre_id, follows) {
        Ok(enrolment)
    } else {
        Err(AppError::NotFound)
    }
}

/// GET /employer/learners/{id}
pub(crate) async fn learner(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<LearnerPage, AppError> {
    let user = employer_person(user)?;
    let enrolment = followed(&state, &user, id).await?;
    let db = &state.pool;
    let version = state.versions.load(db, enrolment.version_id).await?;
    let kept = figures::kept(db, id).await?;
    let per_unit = figures::confirmed_per_unit(db, id).await?;
    let units = version
        .qualification
        .units
        .iter()
        .zip(&version.unit_ids)
        .map(|(u, uid)| UnitRow {
            code: u.code.clone(),
            title: u.title.clone(),
            confirmed: per_unit.get(uid).copied().unwrap_or(0),
            criteria: u.criterion_count(),
        })
        .collect();
    let page = page_number(&q);
    let mut items = db_evidence::page_for_enrolment(db, id, page - 1, PER_PAGE).await?;
    let more = items.len() as i64 > PER_PAGE;
    items.truncate(PER_PAGE as usize);
    let ids: Vec<Uuid> = items.iter().map(|e| e.id).collect();
    let mut standings = super::signed::standings_in_words(&state, &ids).await?;
    let evidence = items
        .iter()
        .map(|e| EvidenceRow {
            title: e.title.clone(),
            kind: e.kind.label(),
            added: day(&e.added_at),
            signed: standings.remove(&e.id).unwrap_or_default(),
        })
        .collect();
    let awaiting = witness::awaiting(db, user.id)
        .await?
        .into_iter()
        .filter(|r| r.enrolment_id == id)
        .collect();
    let learner = users::names(db, &[enrolment.learner_id])
        .await?
        .remove(&enrolment.learner_id)
        .unwrap_or_default();
    let criteria = version.qualification.criterion_count() as i32;
    let apprenticeship = apprenticeships::get(db, id).await?;
    let (otj, reviews, schedule) = match &apprenticeship {
        Some(a) => {
            let breaks = apprenticeships::breaks(db, id).await?;
            let today = time::OffsetDateTime::now_utc().date();
            (
                Some(crate::web::portfolio::otj_view::progress(&state, a, &breaks, today).await?),
                crate::web::portfolio::reviews::lines(&state, id).await?,
                Some(crate::web::portfolio::reviews::schedule(a)),
            )
        }
        None => (None, Vec::new(), None),
    };
    Ok(LearnerPage {
        otj,
        reviews,
        schedule,
        user,
        enrolment_id: id,
        learner,
        qualification: format!(
            "{} {}",
            version.qualification.code, version.qualification.title
        ),
        status: enrolment.status,
        confirmed: kept.confirmed_criteria,
        percent: (kept.confirmed_criteria * 100)
            .checked_div(criteria)
            .unwrap_or(0),
        criteria,
        units_achieved: kept.units_achieved,
        unit_total: version.qualification.units.len() as i32,
        claims: kept.claims_to_review,
        units,
        evidence,
        page,
        more,
        awaiting,
    })
}

/// The employer's person's part of the home page.
pub(crate) struct EmployerSection {
    pub employer: String,
    pub learners: Vec<CaseloadRow>,
    pub more: bool,
    pub awaiting: Vec<Request>,
}

const HOME_ROWS: i64 = 10;

pub(crate) async fn section(state: &AppState, user: &User) -> Result<EmployerSection, AppError> {
    let mut learners = caseload::followed(&state.pool, user.id, 0, HOME_ROWS).await?;
    let more = learners.len() as i64 > HOME_ROWS;
    learners.truncate(HOME_ROWS as usize);
    Ok(EmployerSection {
        employer: employer_people::employer_of(&state.pool, user.id)
            .await?
            .map(|(_, name)| name)
            .unwrap_or_default(),
        learners,
        more,
        awaiting: witness::awaiting(&state.pool, user.id).await?,
    })
}
