//! The figures kept on each enrolment (migration 0014; defined in `domain::figures`).
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbResult;

/// Everything the database keeps about an enrolment for its lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFigures {
    pub confirmed_criteria: i32,
    pub awaiting_countersignature: i32,
    pub claims_to_review: i32,
    pub units_achieved: i32,
    pub units_assessed: i32,
    pub open_iqa_actions: i32,
    pub units_sampled: i32,
    pub latest_audit_id: Option<Uuid>,
    pub latest_outcome: Option<String>,
    pub last_activity_at: OffsetDateTime,
}

pub async fn kept(db: impl PgExecutor<'_>, enrolment_id: Uuid) -> DbResult<KeptFigures> {
    Ok(sqlx::query_as!(
        KeptFigures,
        "SELECT confirmed_criteria, awaiting_countersignature, claims_to_review, units_achieved, \
                units_assessed, open_iqa_actions, units_sampled, latest_audit_id, latest_outcome, \
                last_activity_at \
           FROM enrolments WHERE id = $1",
        enrolment_id,
    )
    .fetch_one(db)
    .await?)
}

/// Counts every figure of these enrolments again from their ticks, decisions and audits,
/// and their centres' enrolments, and stores them: for a bulk load that bypassed the
/// triggers (the benchmark centre), and for tests that compare the kept figures with a
/// count from scratch.
pub async fn recount(db: impl PgExecutor<'_>, enrolment_ids: &[Uuid]) -> DbResult<()> {
    sqlx::query!("SELECT enrolments_recount($1::uuid[])", enrolment_ids,)
        .execute(db)
        .await?;
    Ok(())
}

/// Confirmed criteria per unit of an enrolment, as kept (units with none are absent).
pub(crate) async fn confirmed_per_unit(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<std::collections::HashMap<Uuid, i32>> {
    Ok(sqlx::query!(
        "SELECT unit_id, confirmed FROM enrolment_units WHERE enrolment_id = $1",
        enrolment_id
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.unit_id, r.confirmed))
    .collect())
}
