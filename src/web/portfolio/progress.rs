//! The progress page (SPEC §3): confirmed criteria only, claims apart; what it reads is
//! shared with the matrix.
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use uuid::Uuid;

use super::{Asked, Portfolio};
use crate::db::enrolments::Enrolment;
use crate::db::qualifications::LoadedVersion;
use crate::db::ticks as db_ticks;
use crate::db::users::{self, User};
use crate::domain::access::Capacity;
use crate::domain::audit::{AuditPlan, AuditSummary};
use crate::domain::learner_plan::{plan, LearnerPlan, Next};
use crate::domain::progress::{progress, Layers, Progress};
use crate::domain::ticks::Layer;
use crate::domain::{ConfirmedCriteria, Qualification, Status};
use crate::web::page_cache;
use crate::web::{AppError, AppState};

/// What both pages read: the version, each criterion's layers, where each tick is.
pub(super) struct Loaded {
    pub version: Arc<LoadedVersion>,
    pub learner: String,
    pub status: Status,
    pub major: usize,
    pub layers: Vec<Layers>,
    /// (evidence item, criterion ordinal, layer).
    pub ticks: Vec<(Uuid, usize, Layer)>,
}

impl Loaded {
    pub fn header(&self, enrolment_id: Uuid) -> super::Header {
        super::Header {
            enrolment_id,
            learner: self.learner.clone(),
            status: self.status,
        }
    }
}

pub(super) async fn load(state: &AppState, enrolment: &Enrolment) -> Result<Loaded, AppError> {
    let id = enrolment.id;
    let db = &state.pool;
    let version = state.versions.load(db, enrolment.version_id).await?;
    let placed = db_ticks::placed_on_enrolment(db, id).await?;
    let names = users::names(db, &[enrolment.learner_id]).await?;
    let major = version.major_index(enrolment.major_id).unwrap_or(0);
    let mut layers = vec![Layers::default(); version.qualification.criterion_count()];
    let mut ticks = Vec::with_capacity(placed.len());
    for (evidence, criterion, layer) in placed {
        // The schema ties every tick to a criterion of the enrolment's version.
        let Some(ordinal) = version.criterion_ordinal(criterion) else {
            continue;
        };
        layers[ordinal].add(layer);
        ticks.push((evidence, ordinal, layer));
    }
    Ok(Loaded {
        major,
        learner: names
            .get(&enrolment.learner_id)
            .cloned()
            .unwrap_or_default(),
        status: enrolment.status,
        version,
        layers,
        ticks,
    })
}

#[derive(Template)]
#[template(path = "pages/portfolio/progress.html", whitespace = "minimize")]
pub(crate) struct ProgressPage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    learner: String,
    status: Status,
    version: Arc<LoadedVersion>,
    progress: Progress,
    audit: AuditSummary,
    /// The learner's own page: their major's to-do in plain words first, the rest
    /// behind a disclosure (issue 15, point 6). Staff see the full detail.
    plan: Option<LearnerPlan>,
    major: usize,
}

impl ProgressPage {
    fn q(&self) -> &Qualification {
        &self.version.qualification
    }

    fn major_title(&self) -> &str {
        self.q()
            .majors
            .get(self.major)
            .map_or("", |m| m.title.as_str())
    }

    fn unit_name(&self, unit: &usize) -> String {
        self.q()
            .units
            .get(*unit)
            .map_or_else(String::new, |u| format!("Unit {} {}", u.code, u.title))
    }

    fn units_in_plan(&self) -> usize {
        self.plan.as_ref().map_or(0, |p| p.todo.len() + p.done)
    }

    fn next_step(&self) -> String {
        match self.plan.as_ref().map(|p| p.next) {
            Some(Next::AddEvidence(u)) => format!("Add evidence for {}.", self.unit_name(&u)),
            Some(Next::WaitForAssessor) => {
                "Your assessor will check what you sent. You do not need to do anything yet."
                    .to_string()
            }
            Some(Next::Finished) | None => "You have done every unit. Well done!".to_string(),
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    portfolio: Portfolio,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (key, revision) = match portfolio.asked(&state, page_cache::Page::Progress, None, &headers)
    {
        Asked::Kept(page) => return Ok(page),
        Asked::ToRender(key, revision) => (key, revision),
    };
    let Portfolio {
        user,
        enrolment,
        capacity,
        ..
    } = portfolio;
    let id = enrolment.id;
    let loaded = load(&state, &enrolment).await?;
    let confirmed = ConfirmedCriteria::from_ordinals(
        loaded.layers.len(),
        loaded
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| l.assessor)
            .map(|(o, _)| o),
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    let q = &loaded.version.qualification;
    let report = AuditPlan::new(q)
        .audit(loaded.major, &confirmed)
        .map_err(|e| AppError::Internal(e.into()))?;
    let progress = progress(q, &loaded.layers);
    let plan = (capacity == Capacity::Learner).then(|| plan(q, loaded.major, &progress));
    let page = ProgressPage {
        header: loaded.header(id),
        user,
        enrolment_id: id,
        audit: AuditSummary::new(q, &report),
        plan,
        major: loaded.major,
        progress,
        learner: loaded.learner,
        status: loaded.status,
        version: loaded.version,
    };
    let size = 16 * 1024 + page.q().criterion_count() * 64;
    page_cache::render_and_keep(&state, key, revision, &page, size, &headers)
}
