//! Bulk audit runs as the admin sees them: what to choose from, the run's progress
//! while it goes on in the background, and what it did once it has finished.
use sqlx::{Acquire, PgExecutor, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use super::bulk_audit::BulkAudited;
use super::{status_from_key, DbError, DbResult};
use crate::domain::outcome::Outcome;
use crate::domain::status::Status;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkAuditRun {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub actor_id: Option<Uuid>,
    /// None when a chosen set of enrolments was audited.
    pub qualification_id: Option<Uuid>,
    pub qualification_code: Option<String>,
    pub total: i32,
    pub done: i32,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub error: Option<String>,
    /// Unfinished and without progress for a minute: its server stopped mid-run.
    pub stalled: bool,
}

impl BulkAuditRun {
    pub fn running(&self) -> bool {
        self.finished_at.is_none() && !self.stalled
    }
}

/// Record a run about to start with `total` enrolments, and its entry in the centre's
/// log, together.
pub async fn create<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    centre_id: Uuid,
    actor_id: Option<Uuid>,
    qualification_id: Option<Uuid>,
    total: usize,
) -> DbResult<Uuid> {
    let mut tx = db.begin().await?;
    let id = Uuid::now_v7();
    let code = sqlx::query_scalar!(
        "INSERT INTO bulk_audits (id, centre_id, actor_id, qualification_id, total) VALUES ($1, $2, $3, $4, $5) \
         RETURNING (SELECT q.code FROM qualifications q WHERE q.id = qualification_id)",
        id,
        centre_id,
        actor_id,
        qualification_id,
        count(total)?,
    )
    .fetch_one(&mut *tx)
    .await?;
    super::activity::record(
        &mut *tx,
        centre_id,
        None,
        actor_id,
        "bulk audit started",
        serde_json::json!({ "bulk_audit": id, "total": total, "qualification": code }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Record how many enrolments have been audited so far.
pub(crate) async fn set_done(db: impl PgExecutor<'_>, id: Uuid, done: usize) -> DbResult<()> {
    sqlx::query!(
        "UPDATE bulk_audits SET done = $2, progressed_at = now() WHERE id = $1",
        id,
        count(done)?,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Record the finished run and what it did to each enrolment, together.
pub async fn finish<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    id: Uuid,
    audited: &[BulkAudited],
) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let enrolments: Vec<Uuid> = audited.iter().map(|a| a.enrolment_id).collect();
    let audits: Vec<Uuid> = audited.iter().map(|a| a.audit_id).collect();
    let before: Vec<&str> = audited.iter().map(|a| a.before.key()).collect();
    let after: Vec<&str> = audited.iter().map(|a| a.after.key()).collect();
    sqlx::query!(
        "INSERT INTO bulk_audit_items (bulk_audit_id, enrolment_id, audit_id, status_before, status_after) \
         SELECT $1, i.enrolment_id, i.audit_id, i.before, i.after \
         FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[]) AS i(enrolment_id, audit_id, before, after)",
        id,
        &enrolments[..],
        &audits[..],
        &before as &[&str],
        &after as &[&str],
    )
    .execute(&mut *tx)
    .await?;
    let centre_id = sqlx::query_scalar!(
        "UPDATE bulk_audits SET done = $2, progressed_at = now(), finished_at = now() WHERE id = $1 \
         RETURNING centre_id",
        id,
        count(audited.len())?,
    )
    .fetch_one(&mut *tx)
    .await?;
    super::activity::record(
        &mut *tx,
        centre_id,
        None,
        None,
        "bulk audit finished",
        serde_json::json!({ "bulk_audit": id, "audited": audited.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Record that the run stopped on an error (audits of chunks before it stay), and its
/// entry in the centre's log, together.
pub async fn fail<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    id: Uuid,
    error: &str,
) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let run = sqlx::query!(
        "UPDATE bulk_audits SET finished_at = now(), error = $2 WHERE id = $1 \
         RETURNING centre_id, done, total",
        id,
        error,
    )
    .fetch_one(&mut *tx)
    .await?;
    super::activity::record(
        &mut *tx,
        run.centre_id,
        None,
        None,
        "bulk audit stopped",
        serde_json::json!({ "bulk_audit": id, "done": run.done, "total": run.total, "error": error }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<BulkAuditRun> {
    Ok(sqlx::query_as!(
        BulkAuditRun,
        "SELECT b.id, b.centre_id, b.actor_id, b.qualification_id, q.code AS \"qualification_code?\", \
                b.total, b.done, b.started_at, b.finished_at, b.error, \
                (b.finished_at IS NULL AND b.progressed_at < now() - interval '1 minute') AS \"stalled!\" \
         FROM bulk_audits b LEFT JOIN qualifications q ON q.id = b.qualification_id \
         WHERE b.id = $1",
        id,
    )
    .fetch_one(db)
    .await?)
}

/// A centre's latest runs, newest first.
pub async fn recent(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    limit: i64,
) -> DbResult<Vec<BulkAuditRun>> {
    Ok(sqlx::query_as!(
        BulkAuditRun,
        "SELECT b.id, b.centre_id, b.actor_id, b.qualification_id, q.code AS \"qualification_code?\", \
                b.total, b.done, b.started_at, b.finished_at, b.error, \
                (b.finished_at IS NULL AND b.progressed_at < now() - interval '1 minute') AS \"stalled!\" \
         FROM bulk_audits b LEFT JOIN qualifications q ON q.id = b.qualification_id \
         WHERE b.centre_id = $1 ORDER BY b.started_at DESC, b.id DESC LIMIT $2",
        centre_id,
        limit,
    )
    .fetch_all(db)
    .await?)
}

/// One audited enrolment in a finished run's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub enrolment_id: Uuid,
    pub learner: String,
    pub qualification: String,
    pub major: String,
    pub outcome: Outcome,
    pub before: Status,
    pub after: Status,
}

/// What a finished run did: status changes first, then by learner.
pub async fn items(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Vec<Item>> {
    /// An audited enrolment as stored, its outcome and statuses still keys.
    struct ItemRow {
        enrolment_id: Uuid,
        learner: String,
        qualification: String,
        major: String,
        outcome: String,
        status_before: String,
        status_after: String,
    }
    let rows = sqlx::query_as!(
        ItemRow,
        "SELECT i.enrolment_id, u.display_name AS learner, q.code AS qualification, m.code AS major, \
                a.outcome, i.status_before, i.status_after \
         FROM bulk_audit_items i \
         JOIN audits a ON a.id = i.audit_id \
         JOIN enrolments e ON e.id = i.enrolment_id \
         JOIN users u ON u.id = e.learner_id \
         JOIN majors m ON m.id = a.major_id \
         JOIN qualification_versions v ON v.id = a.version_id \
         JOIN qualifications q ON q.id = v.qualification_id \
         WHERE i.bulk_audit_id = $1 \
         ORDER BY i.status_before = i.status_after, u.display_name, i.enrolment_id",
        id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Item {
                enrolment_id: r.enrolment_id,
                learner: r.learner,
                qualification: r.qualification,
                major: r.major,
                outcome: Outcome::from_key(&r.outcome)
                    .ok_or_else(|| DbError::Corrupt(format!("audit outcome {:?}", r.outcome)))?,
                before: status_from_key(&r.status_before)?,
                after: status_from_key(&r.status_after)?,
            })
        })
        .collect()
}

/// A qualification of the centre, with how many enrolments (of any version) it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QualificationChoice {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub enrolments: i64,
}

pub(crate) async fn qualification_choices(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
) -> DbResult<Vec<QualificationChoice>> {
    // A qualification is stored together with its first version (`qualifications::import`),
    // so it always has a title.
    Ok(sqlx::query_as!(
        QualificationChoice,
        "SELECT q.id, q.code, \
                (SELECT v.title FROM qualification_versions v WHERE v.qualification_id = q.id \
                  ORDER BY v.version DESC LIMIT 1) AS \"title!\", \
                (SELECT count(*) FROM enrolments e JOIN qualification_versions v ON v.id = e.version_id \
                  WHERE v.qualification_id = q.id AND e.centre_id = q.centre_id) AS \"enrolments!\" \
         FROM qualifications q WHERE q.centre_id = $1 ORDER BY q.code",
        centre_id,
    )
    .fetch_all(db)
    .await?)
}

/// An enrolment of the centre as offered for choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnrolmentChoice {
    pub id: Uuid,
    pub learner: String,
    pub qualification: String,
    pub major: String,
    pub status: Status,
}

/// The centre's enrolments, by learner then qualification.
pub(crate) async fn enrolment_choices(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
) -> DbResult<Vec<EnrolmentChoice>> {
    /// An enrolment as offered, its status still a key.
    struct EnrolmentChoiceRow {
        id: Uuid,
        learner: String,
        qualification: String,
        major: String,
        status: String,
    }
    let rows = sqlx::query_as!(
        EnrolmentChoiceRow,
        "SELECT e.id, u.display_name AS learner, q.code AS qualification, m.code AS major, e.status \
         FROM enrolments e \
         JOIN users u ON u.id = e.learner_id \
         JOIN majors m ON m.id = e.major_id \
         JOIN qualification_versions v ON v.id = e.version_id \
         JOIN qualifications q ON q.id = v.qualification_id \
         WHERE e.centre_id = $1 ORDER BY u.display_name, q.code, e.id",
        centre_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(EnrolmentChoice {
                id: r.id,
                learner: r.learner,
                qualification: r.qualification,
                major: r.major,
                status: status_from_key(&r.status)?,
            })
        })
        .collect()
}

/// Every enrolment of the centre on any version of the qualification.
pub(crate) async fn enrolments_of_qualification(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    qualification_id: Uuid,
) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT e.id FROM enrolments e JOIN qualification_versions v ON v.id = e.version_id \
         WHERE e.centre_id = $1 AND v.qualification_id = $2 ORDER BY e.id",
        centre_id,
        qualification_id,
    )
    .fetch_all(db)
    .await?)
}

/// Those of `ids` that are enrolments of the centre (any other id is dropped).
pub(crate) async fn own_enrolments(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    ids: &[Uuid],
) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM enrolments WHERE centre_id = $1 AND id = ANY($2) ORDER BY id",
        centre_id,
        ids,
    )
    .fetch_all(db)
    .await?)
}

/// Whether the qualification is one of the centre's.
pub(crate) async fn qualification_of_centre(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    qualification_id: Uuid,
) -> DbResult<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM qualifications WHERE id = $2 AND centre_id = $1) AS \"exists!\"",
        centre_id,
        qualification_id,
    )
    .fetch_one(db)
    .await?)
}

fn count(n: usize) -> DbResult<i32> {
    i32::try_from(n).map_err(|_| DbError::Corrupt(format!("{n} enrolments in one run")))
}
