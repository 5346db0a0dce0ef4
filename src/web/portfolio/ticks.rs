//! Ticking and unticking in one's own layer, and "Accept all" with its confirmation.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::evidence::{self, CriterionRow};
use super::{enrolment_for, Portfolio};
use crate::db::enrolments::{self, Enrolment};
use crate::db::evidence::{self as db_evidence, Evidence};
use crate::db::users::User;
use crate::db::{ticks as db_ticks, DbError};
use crate::domain::access::Capacity;
use crate::domain::ticks::{self, Layer};
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

#[derive(Debug, Deserialize)]
pub(crate) struct TickForm {
    criterion: Uuid,
    /// "tick" or "untick".
    action: String,
    /// The layer of the tick to change; the viewer's own when left out (the page's
    /// forms leave it out). Another layer is refused by `ticks::may_change`.
    #[serde(default)]
    layer: Option<String>,
    /// "yes" when the tick was offered as a suggestion (issue 17): the activity entry
    /// says so. The tick itself is the usual one.
    #[serde(default)]
    suggested: Option<String>,
}

/// The enrolment, the item (which must be the enrolment's) and the viewer's layer.
async fn item_for(
    state: &AppState,
    user: &User,
    id: Uuid,
    evidence_id: Uuid,
) -> Result<(Enrolment, Evidence, Capacity, Layer), AppError> {
    let (enrolment, capacity) = enrolment_for(state, user, id).await?;
    let evidence = db_evidence::get(&state.pool, evidence_id).await?;
    if evidence.enrolment_id != id {
        return Err(AppError::NotFound);
    }
    // IQAs and admins read portfolios; they tick nothing.
    let layer = capacity.layer().ok_or(AppError::NotFound)?;
    Ok((enrolment, evidence, capacity, layer))
}

fn refused(e: ticks::TickRefusal) -> AppError {
    AppError::Conflict(e.to_string())
}

fn from_db(e: DbError) -> AppError {
    match e {
        DbError::AssessorTicksLocked | DbError::TickRefused(_) => AppError::Conflict(e.to_string()),
        DbError::CriterionNotInVersion => AppError::NotFound,
        other => other.into(),
    }
}

pub async fn change(
    State(state): State<AppState>,
    portfolio: Portfolio,
    Ids((id, evidence_id)): Ids<(Uuid, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<TickForm>,
) -> Result<Response, AppError> {
    let Portfolio {
        user,
        enrolment,
        capacity,
        centre_revision,
    } = portfolio;
    // IQAs and admins read portfolios; they tick nothing.
    let layer = capacity.layer().ok_or(AppError::NotFound)?;
    let adding = match form.action.as_str() {
        "tick" => true,
        "untick" => false,
        _ => {
            return Err(AppError::BadRequest(
                "The action must be “tick” or “untick”.".into(),
            ))
        }
    };
    // A criterion of another qualification (or none) is unknown here, whatever the
    // action; the version is in memory, so this asks the database nothing.
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    if version.criterion_ordinal(form.criterion).is_none() {
        return Err(AppError::NotFound);
    }
    let target = match form.layer.as_deref() {
        None | Some("") => layer,
        Some(key) => Layer::from_key(key).ok_or_else(|| {
            AppError::BadRequest(
                "The layer must be “learner”, “trainee_assessor” or “assessor”.".into(),
            )
        })?,
    };
    let in_place = headers.contains_key("hx-request");
    let asked = Asked {
        form: &form,
        layers: (layer, target),
        adding,
        in_place,
    };
    match apply_change(&state, &user, enrolment.clone(), evidence_id, asked).await {
        Ok(Some(answer)) if in_place => {
            let asked = Answered {
                evidence_id,
                criterion: form.criterion,
                layer,
                adding,
                centre_revision,
            };
            fragment(&state, &enrolment, asked, answer)
                .await
                .map(IntoResponse::into_response)
        }
        Ok(_) => Ok(Redirect::to(&format!(
            "/enrolments/{id}/evidence/{evidence_id}#c-{}",
            form.criterion
        ))
        .into_response()),
        // htmx shows the reason beside the list instead of replacing the page.
        Err(AppError::Conflict(reason)) if in_place => {
            Ok((StatusCode::CONFLICT, TickProblem { reason }).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The change a tick request asks for.
struct Asked<'a> {
    form: &'a TickForm,
    /// The viewer's layer, and the layer of the tick to change.
    layers: (Layer, Layer),
    adding: bool,
    /// True when the request answers in place (htmx), with the item as it is after.
    in_place: bool,
}

/// Judges the change in the enrolment's status and applies it in one statement; if the
/// status moved in between, judges again in the new one. The in-place answer comes from
/// the same statement, when asked for.
async fn apply_change(
    state: &AppState,
    user: &User,
    mut enrolment: Enrolment,
    evidence_id: Uuid,
    asked: Asked<'_>,
) -> Result<Option<db_ticks::TickAnswer>, AppError> {
    let Asked {
        form,
        layers: (layer, target),
        adding,
        in_place,
    } = asked;
    let mut detail = serde_json::json!({ "evidence": evidence_id, "criterion": form.criterion, "layer": layer.key() });
    if adding && form.suggested.as_deref() == Some("yes") {
        detail["suggested"] = serde_json::Value::Bool(true);
    }
    for _ in 0..3 {
        if let Err(refusal) = ticks::may_change(layer, target, adding, enrolment.status) {
            // An item of another enrolment is unknown here, whatever the status.
            let item = db_evidence::get(&state.pool, evidence_id).await?;
            if item.enrolment_id != enrolment.id {
                return Err(AppError::NotFound);
            }
            return Err(refused(refusal));
        }
        let change = db_ticks::TickChange {
            enrolment_id: enrolment.id,
            evidence_id,
            criterion_id: form.criterion,
            layer,
            by: user.id,
            adding,
            judged_in: enrolment.status,
            detail: detail.clone(),
            answer: in_place,
        };
        let written = state.ticks.write(change).await.map_err(from_db)?;
        match written.outcome {
            db_ticks::ChangeOutcome::Done { .. } => return Ok(written.answer),
            db_ticks::ChangeOutcome::NoSuchItem => return Err(AppError::NotFound),
            db_ticks::ChangeOutcome::StatusMoved => {
                enrolment = enrolments::get(&state.pool, enrolment.id).await?;
            }
        }
    }
    Err(AppError::Conflict(
        "The enrolment's status kept changing while this tick was saved; please try again".into(),
    ))
}

/// What htmx swaps in after a tick: the criterion's row, the accept-all counts and a
/// status line for screen readers.
#[derive(Template, WebTemplate)]
#[template(path = "partials/tick_fragment.html")]
pub(crate) struct TickFragment {
    c: CriterionRow,
    enrolment_id: Uuid,
    evidence_id: Uuid,
    layer: Layer,
    learner_acceptable: usize,
    trainee_acceptable: usize,
    oob: bool,
    announcement: String,
}

impl TickFragment {
    fn layer_index(&self) -> usize {
        self.layer as usize
    }
}

#[derive(Template, WebTemplate)]
#[template(
    source = r#"<p id="tick-problem" class="error-message" role="alert">{{ reason }}</p>"#,
    ext = "html"
)]
pub(crate) struct TickProblem {
    reason: String,
}

/// The tick an in-place answer is for.
struct Answered {
    evidence_id: Uuid,
    criterion: Uuid,
    layer: Layer,
    adding: bool,
    /// The centre's page revision the request saw: names are as of it or later.
    centre_revision: i64,
}

async fn fragment(
    state: &AppState,
    enrolment: &Enrolment,
    asked: Answered,
    answer: db_ticks::TickAnswer,
) -> Result<TickFragment, AppError> {
    let Answered {
        evidence_id,
        criterion,
        layer,
        adding,
        centre_revision,
    } = asked;
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    let db_ticks::TickAnswer { elsewhere, row } = answer;
    let who: Vec<Uuid> = row.iter().map(|t| t.by).collect();
    let names = state
        .names
        .names(&state.pool, enrolment.centre_id, centre_revision, &who)
        .await?;
    let c = evidence::row(&version, &row, &names, criterion).ok_or(AppError::NotFound)?;
    // The changed criterion's share, as the full page counts it, with the statement's
    // count of the item's other criteria where the viewer may accept them.
    let (learner_here, trainee_here) = evidence::acceptable(&row, Some(layer));
    let (learner_ok, trainee_ok) = ticks::may_accept_all(layer);
    let learner_acceptable = learner_here + if learner_ok { elsewhere.learner } else { 0 };
    let trainee_acceptable = trainee_here + if trainee_ok { elsewhere.trainee } else { 0 };
    let announcement = if adding {
        format!("Ticked {}", c.reference())
    } else {
        format!("Removed your tick from {}", c.reference())
    };
    Ok(TickFragment {
        c,
        enrolment_id: enrolment.id,
        evidence_id,
        layer,
        learner_acceptable,
        trainee_acceptable,
        oob: true,
        announcement,
    })
}

/// Which layer "Accept all" copies from, as it appears in the address.
fn source(from: &str) -> Result<Layer, AppError> {
    match from {
        "learner" => Ok(Layer::Learner),
        "trainee" => Ok(Layer::TraineeAssessor),
        _ => Err(AppError::NotFound),
    }
}

/// The criteria accept-all would tick, as the domain decides.
async fn to_accept(
    db: impl PgExecutor<'_>,
    evidence_id: Uuid,
    from: Layer,
    layer: Layer,
) -> Result<Vec<Uuid>, AppError> {
    db_ticks::acceptable(db, evidence_id, from, layer)
        .await
        .map_err(from_db)
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/accept.html")]
pub(crate) struct AcceptPage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    evidence: Evidence,
    from: String,
    whose: &'static str,
    count: usize,
}

pub(crate) async fn confirm_accept(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, evidence_id, from)): Ids<(Uuid, Uuid, String)>,
) -> Result<AcceptPage, AppError> {
    let (enrolment, evidence, _, layer) = item_for(&state, &user, id, evidence_id).await?;
    let source_layer = source(&from)?;
    let count = to_accept(&state.pool, evidence_id, source_layer, layer)
        .await?
        .len();
    Ok(AcceptPage {
        header: super::header(&state, &enrolment).await?,
        user,
        enrolment_id: id,
        evidence,
        whose: if source_layer == Layer::Learner {
            "learner"
        } else {
            "trainee assessor"
        },
        from,
        count,
    })
}

pub async fn accept(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, evidence_id, from)): Ids<(Uuid, Uuid, String)>,
) -> Result<Redirect, AppError> {
    let (_, _, _, layer) = item_for(&state, &user, id, evidence_id).await?;
    let accepting = db_ticks::AcceptAll {
        enrolment_id: id,
        evidence_id,
        from: source(&from)?,
        into: layer,
        by: user.id,
    };
    db_ticks::accept_all(&state.pool, &accepting)
        .await
        .map_err(from_db)?;
    Ok(Redirect::to(&format!(
        "/enrolments/{id}/evidence/{evidence_id}"
    )))
}
