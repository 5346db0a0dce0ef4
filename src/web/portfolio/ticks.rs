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
use super::remembered::Ticking;
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

/// A tick or untick. On a portfolio this session read just before (the item's page,
/// or the last tick), the change goes at once with what that read said, for its
/// statement to confirm (`remembered`); if it no longer holds, or the change is refused
/// on it, the tick reads afresh and is judged again, and only that judgement answers.
pub async fn change(
    State(state): State<AppState>,
    ticking: Ticking,
    Ids((id, evidence_id)): Ids<(Uuid, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<TickForm>,
) -> Result<Response, AppError> {
    let (adding, target) = match parsed(&form) {
        Ok(parsed) => parsed,
        // Answered only once the viewer is known to see the enrolment still.
        Err(bad) => {
            return match ticking.read_now(&state).await {
                Ok(_) => Err(bad),
                Err(response) => Ok(response),
            }
        }
    };
    let asked = Asked {
        form: &form,
        evidence_id,
        target,
        adding,
        in_place: headers.contains_key("hx-request"),
    };
    if ticking.remembered() {
        match apply_change(&state, &ticking, &asked).await {
            Ok(Judged::Done(written)) => {
                ticking.confirmed(&state, written.session_ends);
                return answer(&state, &ticking.portfolio, &asked, Ok(written.answer)).await;
            }
            Ok(Judged::Again) => {}
            // The statement failed (its ticks locked, say): only after the vouch held.
            Err(e) => return answer(&state, &ticking.portfolio, &asked, Err(e)).await,
        }
    }
    // Read now: judged as every tick once was, on the enrolment's current status.
    let ticking = match ticking.read_now(&state).await {
        Ok(read) => read,
        Err(response) => return Ok(response),
    };
    debug_assert_eq!(ticking.portfolio.enrolment.id, id);
    let applied = match apply_change(&state, &ticking, &asked).await {
        Ok(Judged::Done(written)) => Ok(written.answer),
        Ok(Judged::Again) => Err(AppError::Internal(anyhow::anyhow!(
            "a tick on a read made now judged again"
        ))),
        Err(e) => Err(e),
    };
    answer(&state, &ticking.portfolio, &asked, applied).await
}

/// Tick or untick, and the layer asked for (None: the viewer's own).
fn parsed(form: &TickForm) -> Result<(bool, Option<Layer>), AppError> {
    let adding = match form.action.as_str() {
        "tick" => true,
        "untick" => false,
        _ => {
            return Err(AppError::BadRequest(
                "The action must be “tick” or “untick”.".into(),
            ))
        }
    };
    let target = match form.layer.as_deref() {
        None | Some("") => None,
        Some(key) => Some(Layer::from_key(key).ok_or_else(|| {
            AppError::BadRequest(
                "The layer must be “learner”, “trainee_assessor” or “assessor”.".into(),
            )
        })?),
    };
    Ok((adding, target))
}

/// The change a tick request asks for.
struct Asked<'a> {
    form: &'a TickForm,
    evidence_id: Uuid,
    /// The layer of the tick to change; the viewer's own when None.
    target: Option<Layer>,
    adding: bool,
    /// True when the request answers in place (htmx), with the item as it is after.
    in_place: bool,
}

/// The answer to a tick that was applied (with its in-place answer, when asked for)
/// or refused.
async fn answer(
    state: &AppState,
    portfolio: &Portfolio,
    asked: &Asked<'_>,
    applied: Result<Option<db_ticks::TickAnswer>, AppError>,
) -> Result<Response, AppError> {
    let (id, evidence_id, criterion) = (
        portfolio.enrolment.id,
        asked.evidence_id,
        asked.form.criterion,
    );
    match applied {
        Ok(Some(answer)) if asked.in_place => {
            let layer = portfolio.capacity.layer().ok_or(AppError::NotFound)?;
            let answered = Answered {
                evidence_id,
                criterion,
                layer,
                adding: asked.adding,
                centre_revision: portfolio.centre_revision,
            };
            fragment(state, &portfolio.enrolment, answered, answer)
                .await
                .map(IntoResponse::into_response)
        }
        Ok(_) => Ok(Redirect::to(&format!(
            "/enrolments/{id}/evidence/{evidence_id}#c-{criterion}"
        ))
        .into_response()),
        // htmx shows the reason beside the list instead of replacing the page.
        Err(AppError::Conflict(reason)) if asked.in_place => {
            Ok((StatusCode::CONFLICT, TickProblem { reason }).into_response())
        }
        Err(e) => Err(e),
    }
}

/// What `apply_change` made of a tick.
enum Judged {
    Done(db_ticks::Written),
    /// Nothing was changed on a remembered read, and the answer is not yet known: the
    /// vouch failed, or the change was refused or not found on it, or the enrolment's
    /// status moved. Judge again on a read made now.
    Again,
}

/// Judges the change in the enrolment's status and applies it in one statement; if the
/// status moved in between, judges again in the new one. The in-place answer comes from
/// the same statement, when asked for.
///
/// On a remembered read the statement first confirms it (`Ticking::vouch`), and any
/// doubt about the read is `Judged::Again`, never a refusal.
async fn apply_change(
    state: &AppState,
    ticking: &Ticking,
    asked: &Asked<'_>,
) -> Result<Judged, AppError> {
    let portfolio = &ticking.portfolio;
    let remembered = ticking.remembered();
    // On a remembered read a refusal is not yet an answer.
    let refuse = |e: AppError| {
        if remembered {
            Ok(Judged::Again)
        } else {
            Err(e)
        }
    };
    // IQAs and admins read portfolios; they tick nothing.
    let Some(layer) = portfolio.capacity.layer() else {
        return refuse(AppError::NotFound);
    };
    let mut enrolment = portfolio.enrolment.clone();
    // A criterion of another qualification (or none) is unknown here, whatever the
    // action; the version is in memory, so this asks the database nothing.
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    if version.criterion_ordinal(asked.form.criterion).is_none() {
        return refuse(AppError::NotFound);
    }
    let (form, evidence_id, adding) = (asked.form, asked.evidence_id, asked.adding);
    let target = asked.target.unwrap_or(layer);
    let mut detail = serde_json::json!({ "evidence": evidence_id, "criterion": form.criterion, "layer": layer.key() });
    if adding && form.suggested.as_deref() == Some("yes") {
        detail["suggested"] = serde_json::Value::Bool(true);
    }
    for _ in 0..3 {
        if let Err(refusal) = ticks::may_change(layer, target, adding, enrolment.status) {
            if remembered {
                return Ok(Judged::Again);
            }
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
            by: portfolio.user.id,
            adding,
            judged_in: enrolment.status,
            detail: detail.clone(),
            answer: asked.in_place,
            vouch: remembered.then(|| ticking.vouch()),
        };
        let written = state.ticks.write(change).await.map_err(from_db)?;
        match written.outcome {
            db_ticks::ChangeOutcome::Done { .. } => return Ok(Judged::Done(written)),
            db_ticks::ChangeOutcome::Unvouched => return Ok(Judged::Again),
            db_ticks::ChangeOutcome::NoSuchItem => return refuse(AppError::NotFound),
            db_ticks::ChangeOutcome::StatusMoved if remembered => return Ok(Judged::Again),
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
