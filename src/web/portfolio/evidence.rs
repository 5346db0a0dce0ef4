//! Adding evidence, and one item's page: the criterion tree with the three layers.
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::enrolment_for;
use crate::db::evidence::{self as db_evidence, EvidenceKind};
use crate::db::users::{self, User};
use crate::db::{activity, qualifications, ticks as db_ticks};
use crate::domain::evidence::{validate_new_evidence, NewEvidence};
use crate::domain::form::{message_for, FieldError};
use crate::domain::ticks::{accept_all_learner_ticks, accept_all_trainee_ticks, Layer, Tick};
use crate::web::auth::CurrentUser;
use crate::web::home::day;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/evidence_new.html")]
pub struct NewEvidencePage {
    user: User,
    enrolment_id: Uuid,
    form: NewEvidence,
    kinds: Vec<EvidenceKind>,
    errors: Vec<FieldError>,
}

impl NewEvidencePage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

pub async fn new(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<NewEvidencePage, AppError> {
    let (_, capacity) = enrolment_for(&state, &user, id).await?;
    if !capacity.may_add_evidence() {
        return Err(AppError::NotFound);
    }
    Ok(NewEvidencePage {
        user,
        enrolment_id: id,
        form: NewEvidence::default(),
        kinds: EvidenceKind::offered(capacity.may_add_assessor_records()),
        errors: Vec::new(),
    })
}

#[derive(Debug, Deserialize)]
pub struct EvidenceForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kind: String,
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    Form(form): Form<EvidenceForm>,
) -> Result<Response, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    if !capacity.may_add_evidence() {
        return Err(AppError::NotFound);
    }
    let typed = NewEvidence {
        title: form.title,
        description: form.description,
        kind: form.kind,
    };
    let assessor = capacity.may_add_assessor_records();
    let (title, description, kind) = match validate_new_evidence(&typed, assessor) {
        Ok(valid) => valid,
        Err(errors) => {
            let page = NewEvidencePage {
                user,
                enrolment_id: id,
                form: typed,
                kinds: EvidenceKind::offered(assessor),
                errors,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let mut tx = state.pool.begin().await.map_err(crate::db::DbError::from)?;
    let new = db_evidence::NewEvidence {
        enrolment_id: id,
        title: &title,
        description: &description,
        kind,
        added_by: user.id,
    };
    let added = db_evidence::add(&mut *tx, &new).await?;
    activity::record(
        &mut *tx,
        enrolment.centre_id,
        Some(id),
        Some(user.id),
        "evidence added",
        serde_json::json!({ "evidence": added.id, "title": title, "kind": kind.key() }),
    )
    .await?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    Ok(Redirect::to(&format!("/enrolments/{id}/evidence/{}", added.id)).into_response())
}

/// One tick as shown: who and when.
pub struct TickView {
    pub by: String,
    pub at: String,
}

pub struct CriterionRow {
    pub id: Uuid,
    pub number: String,
    pub text: String,
    /// Learner, trainee assessor, assessor.
    pub layers: [Option<TickView>; 3],
}

impl CriterionRow {
    /// Claimed by the learner, not yet confirmed: where the assessor's eye should go.
    pub fn awaiting(&self) -> bool {
        self.layers[0].is_some() && self.layers[2].is_none()
    }
}

pub struct OutcomeView {
    pub number: String,
    pub title: String,
    pub criteria: Vec<CriterionRow>,
}

pub struct UnitView {
    pub code: String,
    pub title: String,
    pub outcomes: Vec<OutcomeView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/evidence.html")]
pub struct EvidencePage {
    user: User,
    enrolment_id: Uuid,
    evidence: db_evidence::Evidence,
    added_by: String,
    added_on: String,
    units: Vec<UnitView>,
    /// The layer the viewer ticks in, if any.
    layer: Option<Layer>,
    learner_acceptable: usize,
    trainee_acceptable: usize,
}

impl EvidencePage {
    fn layer_index(&self) -> usize {
        self.layer.map_or(usize::MAX, |l| l as usize)
    }
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, evidence_id)): Ids<(Uuid, Uuid)>,
) -> Result<EvidencePage, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    let db = &state.pool;
    let evidence = db_evidence::get(db, evidence_id).await?;
    if evidence.enrolment_id != id {
        return Err(AppError::NotFound);
    }
    let version = qualifications::load_version(db, enrolment.version_id).await?;
    let ticks = db_ticks::list_for_evidence(db, evidence_id).await?;
    let mut people: Vec<Uuid> = ticks.iter().map(|t| t.by).collect();
    people.push(evidence.added_by);
    let names = users::names(db, &people).await?;
    let layer = capacity.layer();
    let acceptable = |f: fn(&[Tick], Layer) -> Result<Vec<Uuid>, _>| {
        layer.and_then(|l| f(&ticks, l).ok()).map_or(0, |v| v.len())
    };
    Ok(EvidencePage {
        enrolment_id: id,
        added_by: names.get(&evidence.added_by).cloned().unwrap_or_default(),
        added_on: day(&evidence.added_at),
        units: tree(&version, &ticks, &names),
        learner_acceptable: acceptable(accept_all_learner_ticks),
        trainee_acceptable: acceptable(accept_all_trainee_ticks),
        layer,
        evidence,
        user,
    })
}

/// The qualification's units, outcomes and criteria with this item's ticks placed.
fn tree(
    version: &qualifications::LoadedVersion,
    ticks: &[Tick],
    names: &HashMap<Uuid, String>,
) -> Vec<UnitView> {
    let mut by_criterion: HashMap<Uuid, [Option<TickView>; 3]> = HashMap::new();
    for t in ticks {
        by_criterion.entry(t.criterion).or_default()[t.layer as usize] = Some(TickView {
            by: names.get(&t.by).cloned().unwrap_or_default(),
            at: day(&t.at),
        });
    }
    let mut ordinal = 0;
    version
        .qualification
        .units
        .iter()
        .map(|u| UnitView {
            code: u.code.clone(),
            title: u.title.clone(),
            outcomes: u
                .outcomes
                .iter()
                .map(|o| OutcomeView {
                    number: o.number.clone(),
                    title: o.title.clone(),
                    criteria: o
                        .criteria
                        .iter()
                        .map(|c| {
                            let id = version.criterion_ids[ordinal];
                            ordinal += 1;
                            CriterionRow {
                                id,
                                number: c.number.clone(),
                                text: c.text.clone(),
                                layers: by_criterion.remove(&id).unwrap_or_default(),
                            }
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}
