//! Ticks set up and changed in tests through the app's own write path
//! (`db::ticks::change_logged`, each with its activity entry, and the accept-all use
//! case), so no test leans on a second way of writing ticks that the app never uses.
use attest::db::ticks::{self, AcceptAll, ChangeOutcome, TickChange};
use attest::db::{DbError, DbResult};
use attest::domain::ticks::Layer;
use attest::domain::Status;
use sqlx::PgPool;
use uuid::Uuid;

/// The enrolment an item is of, and its status now.
async fn item_of(pool: &PgPool, evidence_id: Uuid) -> DbResult<(Uuid, Status)> {
    let found: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT e.id, e.status FROM evidence ev JOIN enrolments e ON e.id = ev.enrolment_id \
         WHERE ev.id = $1",
    )
    .bind(evidence_id)
    .fetch_optional(pool)
    .await?;
    let (enrolment, status) = found.ok_or(DbError::NotFound)?;
    let status = Status::from_key(&status).ok_or(DbError::NotFound)?;
    Ok((enrolment, status))
}

async fn change(
    pool: &PgPool,
    evidence_id: Uuid,
    criterion_id: Uuid,
    layer: Layer,
    by: Uuid,
    adding: bool,
) -> DbResult<bool> {
    let (enrolment_id, status) = item_of(pool, evidence_id).await?;
    let change = TickChange {
        enrolment_id,
        evidence_id,
        criterion_id,
        layer,
        by,
        adding,
        judged_in: status,
        detail: serde_json::json!({ "evidence": evidence_id, "criterion": criterion_id, "layer": layer.key() }),
        answer: false,
        vouch: None,
    };
    match ticks::change_logged(pool, &change).await?.outcome {
        ChangeOutcome::Done { changed } => Ok(changed),
        ChangeOutcome::NoSuchItem => Err(DbError::NotFound),
        ChangeOutcome::StatusMoved => Err(DbError::StatusChanged { current: status }),
        ChangeOutcome::Unvouched => Err(DbError::Corrupt("unvouched without a vouch".into())),
    }
}

/// Ticks `criterion_id` on the item in `layer`; whether a tick was added.
pub async fn tick(
    pool: &PgPool,
    evidence_id: Uuid,
    criterion_id: Uuid,
    layer: Layer,
    by: Uuid,
) -> DbResult<bool> {
    change(pool, evidence_id, criterion_id, layer, by, true).await
}

/// Removes the item's tick of `criterion_id` in `layer` (as the person who made it);
/// whether there was one.
pub async fn untick(
    pool: &PgPool,
    evidence_id: Uuid,
    criterion_id: Uuid,
    layer: Layer,
) -> DbResult<bool> {
    let by: Option<Uuid> = sqlx::query_scalar(
        "SELECT ticked_by FROM ticks WHERE evidence_id = $1 AND criterion_id = $2 AND layer = $3",
    )
    .bind(evidence_id)
    .bind(criterion_id)
    .bind(layer.key())
    .fetch_optional(pool)
    .await?;
    match by {
        Some(by) => change(pool, evidence_id, criterion_id, layer, by, false).await,
        None => Ok(false),
    }
}

/// "Accept all" of `from`'s ticks on the item into `to`, by `by`: how many were added.
pub async fn accept_layer(
    pool: &PgPool,
    evidence_id: Uuid,
    from: Layer,
    to: Layer,
    by: Uuid,
) -> DbResult<u64> {
    let (enrolment_id, _) = item_of(pool, evidence_id).await?;
    let accepting = AcceptAll {
        enrolment_id,
        evidence_id,
        from,
        into: to,
        by,
    };
    ticks::accept_all(pool, &accepting).await
}

/// How many criteria accept-all would add now.
pub async fn count_acceptable(
    pool: &PgPool,
    evidence_id: Uuid,
    from: Layer,
    to: Layer,
) -> DbResult<i64> {
    Ok(ticks::acceptable(pool, evidence_id, from, to).await?.len() as i64)
}
