//! The progress page and the matrix (SPEC §3): confirmed criteria only, claims apart.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use uuid::Uuid;

use super::enrolment_for;
use crate::db::evidence::{self as db_evidence, Evidence};
use crate::db::users::{self, User};
use crate::db::{qualifications, ticks as db_ticks};
use crate::domain::audit::{AuditPlan, AuditSummary};
use crate::domain::progress::{progress, Layers, Progress};
use crate::domain::{ConfirmedCriteria, Qualification, Status};
use crate::web::auth::CurrentUser;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// What both pages read: the version, each criterion's layers, the ticks by item.
struct Loaded {
    q: Qualification,
    learner: String,
    status: Status,
    major: usize,
    layers: Vec<Layers>,
    ticks: Vec<db_ticks::PlacedTick>,
}

async fn load(state: &AppState, user: &User, id: Uuid) -> Result<Loaded, AppError> {
    let (enrolment, _) = enrolment_for(state, user, id).await?;
    let db = &state.pool;
    let version = qualifications::load_version(db, enrolment.version_id).await?;
    let ticks = db_ticks::list_for_enrolment(db, id).await?;
    let names = users::names(db, &[enrolment.learner_id]).await?;
    let major = version.major_index(enrolment.major_id).unwrap_or(0);
    let q = version.qualification;
    let mut layers = vec![Layers::default(); q.criterion_count()];
    for t in &ticks {
        if let Some(l) = layers.get_mut(t.ordinal) {
            l.add(t.tick.layer);
        }
    }
    Ok(Loaded {
        major,
        learner: names
            .get(&enrolment.learner_id)
            .cloned()
            .unwrap_or_default(),
        status: enrolment.status,
        q,
        layers,
        ticks,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/progress.html")]
pub struct ProgressPage {
    user: User,
    enrolment_id: Uuid,
    learner: String,
    status: Status,
    q: Qualification,
    progress: Progress,
    audit: AuditSummary,
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<ProgressPage, AppError> {
    let loaded = load(&state, &user, id).await?;
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
    let report = AuditPlan::new(&loaded.q)
        .audit(loaded.major, &confirmed)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(ProgressPage {
        user,
        enrolment_id: id,
        audit: AuditSummary::new(&loaded.q, &report),
        progress: progress(&loaded.q, &loaded.layers),
        learner: loaded.learner,
        status: loaded.status,
        q: loaded.q,
    })
}

/// One row of the matrix, in the order the qualification lists them.
pub enum Row {
    Unit(String),
    Outcome(String),
    Criterion {
        ordinal: usize,
        label: String,
        text: String,
        confirmed: bool,
    },
}

fn rows(q: &Qualification, layers: &[Layers]) -> Vec<Row> {
    let mut rows = Vec::with_capacity(q.criterion_count() + q.units.len() * 4);
    let mut ordinal = 0;
    for u in &q.units {
        rows.push(Row::Unit(format!("{} {}", u.code, u.title)));
        for o in &u.outcomes {
            rows.push(Row::Outcome(format!("{} {}", o.number, o.title)));
            for c in &o.criteria {
                rows.push(Row::Criterion {
                    ordinal,
                    label: format!("{} {}", u.code, c.number),
                    text: c.text.clone(),
                    confirmed: layers.get(ordinal).is_some_and(|l| l.assessor),
                });
                ordinal += 1;
            }
        }
    }
    rows
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/matrix.html")]
pub struct MatrixPage {
    user: User,
    enrolment_id: Uuid,
    learner: String,
    code: String,
    title: String,
    rows: Vec<Row>,
    evidence: Vec<Evidence>,
    /// Criterion ordinal × evidence column → bit 1 learner, 2 trainee, 4 assessor.
    cells: Vec<u8>,
}

impl MatrixPage {
    // Askama passes template values by reference.
    fn cell(&self, ordinal: &usize, column: &usize) -> u8 {
        self.cells
            .get(ordinal * self.evidence.len() + column)
            .copied()
            .unwrap_or(0)
    }
}

pub async fn matrix(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<MatrixPage, AppError> {
    let loaded = load(&state, &user, id).await?;
    let evidence = db_evidence::list_for_enrolment(&state.pool, id).await?;
    let width = evidence.len();
    let mut cells = vec![0u8; loaded.layers.len() * width];
    let column_of: std::collections::HashMap<Uuid, usize> = evidence
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id, i))
        .collect();
    for t in &loaded.ticks {
        if let Some(&column) = column_of.get(&t.evidence_id) {
            let bit = 1u8 << (t.tick.layer as u8);
            if let Some(c) = cells.get_mut(t.ordinal * width + column) {
                *c |= bit;
            }
        }
    }
    Ok(MatrixPage {
        user,
        enrolment_id: id,
        learner: loaded.learner,
        rows: rows(&loaded.q, &loaded.layers),
        code: loaded.q.code,
        title: loaded.q.title,
        evidence,
        cells,
    })
}
