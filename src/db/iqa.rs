//! IQA sampling decisions and their actions (SPEC §7).
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbResult;
use crate::domain::iqa::{ActionState, Sampled, Verdict};

#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub id: Uuid,
    /// "Unit 201 …" or the evidence title.
    pub target: String,
    pub verdict: Verdict,
    pub feedback: String,
    pub iqa: String,
    pub decided_at: OffsetDateTime,
    pub state: ActionState,
}

struct Row {
    id: Uuid,
    target: Option<String>,
    decision: String,
    feedback: String,
    iqa: String,
    decided_at: OffsetDateTime,
    addressed: bool,
    closed: bool,
}

/// Every decision on an enrolment with what it sampled and who decided, newest first.
pub async fn for_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<DecisionRow>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT d.id, COALESCE('Unit ' || u.code || ' ' || u.title, 'Evidence: ' || e.title) AS \"target?\", \
                d.decision, d.feedback, p.display_name AS iqa, d.decided_at, \
                d.addressed_at IS NOT NULL AS \"addressed!\", d.closed_at IS NOT NULL AS \"closed!\" \
           FROM iqa_decisions d \
           JOIN users p ON p.id = d.iqa_id \
           LEFT JOIN units u ON u.id = d.unit_id \
           LEFT JOIN evidence e ON e.id = d.evidence_id \
          WHERE d.enrolment_id = $1 ORDER BY d.decided_at DESC, d.id",
        enrolment_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let verdict = Verdict::from_key(&r.decision)
                .ok_or_else(|| super::DbError::Corrupt(format!("verdict {}", r.decision)))?;
            Ok(DecisionRow {
                id: r.id,
                target: r.target.unwrap_or_default(),
                verdict,
                feedback: r.feedback,
                iqa: r.iqa,
                decided_at: r.decided_at,
                state: ActionState::of(verdict, r.addressed, r.closed),
            })
        })
        .collect()
}

/// Who made the assessment decisions being sampled, as assessor or as trainee assessor
/// (to keep an IQA off their own work, SPEC §7).
pub(crate) async fn assessment_authors(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    sampled: Sampled,
) -> DbResult<Vec<Uuid>> {
    let (unit, evidence) = match sampled {
        Sampled::Unit(u) => (Some(u), None),
        Sampled::Evidence(e) => (None, Some(e)),
    };
    Ok(sqlx::query_scalar!(
        "SELECT DISTINCT t.ticked_by FROM ticks t JOIN criteria c ON c.id = t.criterion_id \
          WHERE t.enrolment_id = $1 AND t.layer IN ('assessor', 'trainee_assessor') \
            AND ($2::uuid IS NULL OR c.unit_id = $2) AND ($3::uuid IS NULL OR t.evidence_id = $3)",
        enrolment_id,
        unit,
        evidence,
    )
    .fetch_all(db)
    .await?)
}

/// Records a decision; the foreign keys refuse a unit or item of another enrolment.
pub async fn record(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    version_id: Uuid,
    iqa: Uuid,
    sampled: Sampled,
    verdict: Verdict,
    feedback: &str,
) -> DbResult<Uuid> {
    let (unit, evidence) = match sampled {
        Sampled::Unit(u) => (Some(u), None),
        Sampled::Evidence(e) => (None, Some(e)),
    };
    Ok(sqlx::query_scalar!(
        "INSERT INTO iqa_decisions (enrolment_id, version_id, unit_id, evidence_id, iqa_id, decision, feedback) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        enrolment_id,
        version_id,
        unit,
        evidence,
        iqa,
        verdict.key(),
        feedback,
    )
    .fetch_one(db)
    .await?)
}

/// A decision's verdict and how far its action went.
struct StateRow {
    decision: String,
    addressed: bool,
    closed: bool,
}

/// The state of one decision of an enrolment, if it exists there.
pub async fn state(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    id: Uuid,
) -> DbResult<Option<ActionState>> {
    let row = sqlx::query_as!(
        StateRow,
        "SELECT decision, addressed_at IS NOT NULL AS \"addressed!\", closed_at IS NOT NULL AS \"closed!\" \
           FROM iqa_decisions WHERE id = $1 AND enrolment_id = $2",
        id,
        enrolment_id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|r| {
        Verdict::from_key(&r.decision).map(|v| ActionState::of(v, r.addressed, r.closed))
    }))
}

/// Marks an open action addressed; false when it no longer was open (someone was first).
pub async fn address(db: impl PgExecutor<'_>, id: Uuid, by: Uuid) -> DbResult<bool> {
    let r = sqlx::query!(
        "UPDATE iqa_decisions SET addressed_at = now(), addressed_by = $2 \
          WHERE id = $1 AND decision = 'action_required' AND addressed_at IS NULL",
        id,
        by,
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Closes an addressed action; false when it was not addressed or already closed.
pub async fn close(db: impl PgExecutor<'_>, id: Uuid, by: Uuid) -> DbResult<bool> {
    let r = sqlx::query!(
        "UPDATE iqa_decisions SET closed_at = now(), closed_by = $2 \
          WHERE id = $1 AND addressed_at IS NOT NULL AND closed_at IS NULL",
        id,
        by,
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// One assessor's line in an IQA's sampling report.
#[derive(Debug, Clone)]
pub struct CoverageRow {
    pub assessor: String,
    pub learners: i64,
    /// Units of their learners with at least one criterion confirmed.
    pub units_assessed: i64,
    /// Units sampled by an IQA decision (on the unit itself).
    pub units_sampled: i64,
    pub open_actions: i64,
}

/// Sampling coverage per assessor over the enrolments `iqa_id` quality-assures, in one
/// statement: what an IQA needs for a sampling plan (SPEC §7). The sums are the centre's
/// tallies' (migration 0054), the learners the kept count of them (migration 0058: a
/// learner may be on two of the assessor's enrolments, and counts once).
pub async fn coverage(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    iqa_id: Uuid,
) -> DbResult<Vec<CoverageRow>> {
    Ok(sqlx::query_as!(
        CoverageRow,
        "SELECT a.display_name AS assessor, c.learners AS \"learners!\", \
                c.units_assessed AS \"units_assessed!\", c.units_sampled AS \"units_sampled!\", \
                c.open_actions AS \"open_actions!\" \
           FROM (SELECT t.assessor_id, l.learners, \
                        sum(t.units_assessed)::int8 AS units_assessed, sum(t.units_sampled)::int8 AS units_sampled, \
                        sum(t.open_actions)::int8 AS open_actions \
                   FROM centre_tallies t \
                   JOIN (SELECT assessor_id, sum(learners)::int8 AS learners FROM sample_learner_counts \
                          WHERE centre_id = $1 AND iqa_id = $2 GROUP BY assessor_id \
                         HAVING sum(learners) > 0) l USING (assessor_id) \
                  WHERE t.centre_id = $1 AND t.iqa_id = $2 \
                  GROUP BY t.assessor_id, l.learners) c \
           JOIN users a ON a.id = c.assessor_id \
          ORDER BY lower(a.display_name), a.id",
        centre_id,
        iqa_id,
    )
    .fetch_all(db)
    .await?)
}
