//! IQA decisions on an enrolment: the IQA records them, the assessor marks actions
//! addressed, the IQA closes them.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::enrolment::{build, IqaForm};
use super::enrolment_for;
use crate::db::users::User;
use crate::db::{activity, iqa, DbError};
use crate::domain::access::Capacity;
use crate::domain::iqa::{self as rules, IqaRefusal};
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

fn conflict(e: IqaRefusal) -> AppError {
    AppError::Conflict(e.to_string())
}

pub async fn record(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    Form(form): Form<IqaForm>,
) -> Result<Response, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    if capacity != Capacity::Iqa {
        return Err(AppError::NotFound);
    }
    let (sampled, verdict, feedback) =
        match rules::validate(&form.target, &form.verdict, &form.feedback) {
            Ok(valid) => valid,
            Err(errors) => {
                let page = build(&state, user, id, form, errors).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        };
    let authors = iqa::assessment_authors(&state.pool, id, sampled).await?;
    rules::may_sample(user.id, &authors).map_err(conflict)?;
    let decision = match iqa::record(
        &state.pool,
        id,
        enrolment.version_id,
        user.id,
        sampled,
        verdict,
        &feedback,
    )
    .await
    {
        Ok(d) => d,
        // A unit or item of another enrolment or version: it does not exist here.
        Err(DbError::Constraint { .. } | DbError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let detail =
        serde_json::json!({ "decision": decision, "verdict": verdict.key(), "feedback": feedback });
    activity::record(
        &state.pool,
        enrolment.centre_id,
        Some(id),
        Some(user.id),
        "IQA decision",
        detail,
    )
    .await?;
    Ok(Redirect::to(&format!("/enrolments/{id}#quality")).into_response())
}

/// The two steps after an action is raised: the assessor (or trainee) marks it
/// addressed, then the IQA closes it.
#[derive(Clone, Copy)]
enum Step {
    Address,
    Close,
}

pub async fn addressed(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, decision)): Ids<(Uuid, Uuid)>,
) -> Result<Redirect, AppError> {
    step(&state, &user, id, decision, Step::Address).await
}

pub async fn closed(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, decision)): Ids<(Uuid, Uuid)>,
) -> Result<Redirect, AppError> {
    step(&state, &user, id, decision, Step::Close).await
}

async fn step(
    state: &AppState,
    user: &User,
    id: Uuid,
    decision: Uuid,
    step: Step,
) -> Result<Redirect, AppError> {
    let (enrolment, capacity) = enrolment_for(state, user, id).await?;
    let allowed = match step {
        Step::Address => matches!(capacity, Capacity::Assessor | Capacity::TraineeAssessor),
        Step::Close => capacity == Capacity::Iqa,
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
    let now = iqa::state(&state.pool, id, decision)
        .await?
        .ok_or(AppError::NotFound)?;
    let (check, refusal, action) = match step {
        Step::Address => (
            now.may_address(),
            IqaRefusal::NotOpen,
            "IQA action addressed",
        ),
        Step::Close => (
            now.may_close(),
            IqaRefusal::NotAddressed,
            "IQA action closed",
        ),
    };
    check.map_err(conflict)?;
    // The UPDATE re-checks the state, so of two people acting at once only one succeeds.
    let done = match step {
        Step::Address => iqa::address(&state.pool, decision, user.id).await?,
        Step::Close => iqa::close(&state.pool, decision, user.id).await?,
    };
    if !done {
        return Err(conflict(refusal));
    }
    let detail = serde_json::json!({ "decision": decision });
    activity::record(
        &state.pool,
        enrolment.centre_id,
        Some(id),
        Some(user.id),
        action,
        detail,
    )
    .await?;
    Ok(Redirect::to(&format!("/enrolments/{id}#quality")))
}
