//! Enrolments and their status machine (SPEC §5). Every status change goes through a
//! guarded UPDATE (`WHERE status = from`) or a row lock, so two people acting at once
//! can never both move an enrolment out of the same status.
use sqlx::{Acquire, PgConnection, PgExecutor, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{status_from_key, DbError, DbResult};
use crate::domain::status::{decide, Action, Decision, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub learner_id: Uuid,
    pub version_id: Uuid,
    pub major_id: Uuid,
    pub assessor_id: Uuid,
    pub trainee_assessor_id: Option<Uuid>,
    pub iqa_id: Option<Uuid>,
    pub status: Status,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub last_activity_at: OffsetDateTime,
    /// Moves with every change a portfolio page shows (kept by the database: migration
    /// 0010); rendered pages are kept under it.
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrolment {
    pub centre_id: Uuid,
    pub learner_id: Uuid,
    pub version_id: Uuid,
    pub major_id: Uuid,
    pub assessor_id: Uuid,
    pub trainee_assessor_id: Option<Uuid>,
    pub iqa_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub id: i64,
    /// None for the status given on enrolment.
    pub from: Option<Status>,
    pub to: Status,
    /// None when the system acted.
    pub actor_id: Option<Uuid>,
    pub at: OffsetDateTime,
    pub reason: Option<String>,
}

/// An enrolment as its queries read it (`sessions` reads it beside the session too).
pub(crate) struct Row {
    pub(crate) id: Uuid,
    pub(crate) centre_id: Uuid,
    pub(crate) learner_id: Uuid,
    pub(crate) version_id: Uuid,
    pub(crate) major_id: Uuid,
    pub(crate) assessor_id: Uuid,
    pub(crate) trainee_assessor_id: Option<Uuid>,
    pub(crate) iqa_id: Option<Uuid>,
    pub(crate) status: String,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
    pub(crate) last_activity_at: OffsetDateTime,
    pub(crate) revision: i64,
}

impl TryFrom<Row> for Enrolment {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<Enrolment> {
        Ok(Enrolment {
            status: status_from_key(&r.status)?,
            id: r.id,
            centre_id: r.centre_id,
            learner_id: r.learner_id,
            version_id: r.version_id,
            major_id: r.major_id,
            assessor_id: r.assessor_id,
            trainee_assessor_id: r.trainee_assessor_id,
            iqa_id: r.iqa_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_activity_at: r.last_activity_at,
            revision: r.revision,
        })
    }
}

/// Enrol a learner: status Not Yet Achieved, recorded as the first history entry.
pub async fn create<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    new: &NewEnrolment,
    actor: Option<Uuid>,
) -> DbResult<Enrolment> {
    let mut tx = db.begin().await?;
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO enrolments (id, centre_id, learner_id, version_id, major_id, assessor_id, \
         trainee_assessor_id, iqa_id, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id,
        new.centre_id,
        new.learner_id,
        new.version_id,
        new.major_id,
        new.assessor_id,
        new.trainee_assessor_id,
        new.iqa_id,
        Status::NotYetAchieved.key(),
    )
    .execute(&mut *tx)
    .await?;
    insert_history(
        &mut *tx,
        id,
        None,
        Status::NotYetAchieved,
        actor,
        Some("enrolled"),
    )
    .await?;
    let e = get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(e)
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Enrolment> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, centre_id, learner_id, version_id, major_id, assessor_id, \
         trainee_assessor_id, iqa_id, status, created_at, updated_at, last_activity_at, revision \
         FROM enrolments WHERE id = $1",
        id,
    )
    .fetch_one(db)
    .await?;
    row.try_into()
}

/// Read and lock the row until the caller's transaction ends.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> DbResult<Enrolment> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, centre_id, learner_id, version_id, major_id, assessor_id, \
         trainee_assessor_id, iqa_id, status, created_at, updated_at, last_activity_at, revision \
         FROM enrolments WHERE id = $1 FOR UPDATE",
        id,
    )
    .fetch_one(conn)
    .await?;
    row.try_into()
}

/// Read and lock many rows at once, in id order (the order every multi-row lock takes,
/// so two such transactions cannot deadlock). Ids that do not exist are left out.
pub(crate) async fn lock_many(conn: &mut PgConnection, ids: &[Uuid]) -> DbResult<Vec<Enrolment>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, centre_id, learner_id, version_id, major_id, assessor_id, \
         trainee_assessor_id, iqa_id, status, created_at, updated_at, last_activity_at, revision \
         FROM enrolments WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
        ids,
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Enrolment::try_from).collect()
}

/// Move from `from` to `to` if the enrolment is still in `from`. Otherwise nothing
/// changes and the answer is `StatusChanged` with the status it is in now. This does
/// not consult the status machine (see `apply_action`); `from == to` only checks.
pub async fn transition<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    enrolment_id: Uuid,
    from: Status,
    to: Status,
    actor: Option<Uuid>,
    reason: Option<&str>,
) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let moved = sqlx::query!(
        "UPDATE enrolments SET status = $3, updated_at = now() WHERE id = $1 AND status = $2",
        enrolment_id,
        from.key(),
        to.key(),
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !moved {
        let current =
            sqlx::query_scalar!("SELECT status FROM enrolments WHERE id = $1", enrolment_id)
                .fetch_optional(&mut *tx)
                .await?;
        return match current {
            None => Err(DbError::NotFound),
            Some(key) => Err(DbError::StatusChanged {
                current: status_from_key(&key)?,
            }),
        };
    }
    if from != to {
        insert_history(&mut *tx, enrolment_id, Some(from), to, actor, reason).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Lock the enrolment, ask the status machine, and apply its decision with a history
/// entry. A refusal changes nothing and comes back as `DbError::Refused`.
pub async fn apply_action<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    enrolment_id: Uuid,
    action: &Action,
    actor: Option<Uuid>,
    reason: Option<&str>,
) -> DbResult<Decision> {
    let mut tx = db.begin().await?;
    let enrolment = lock(&mut tx, enrolment_id).await?;
    let decision = apply_locked(&mut tx, &enrolment, action, actor, reason).await?;
    tx.commit().await?;
    Ok(decision)
}

/// `apply_action` for a caller that already holds the row lock (see `lock`) inside its
/// own transaction, e.g. to write a credential in the same transaction.
pub(crate) async fn apply_locked(
    conn: &mut PgConnection,
    enrolment: &Enrolment,
    action: &Action,
    actor: Option<Uuid>,
    reason: Option<&str>,
) -> DbResult<Decision> {
    let decision = decide(enrolment.status, action)?;
    if let Decision::Move { from, to } = decision {
        let default_reason = default_reason(action);
        let reason = reason.or(default_reason.as_deref());
        sqlx::query!(
            "UPDATE enrolments SET status = $3, updated_at = now() WHERE id = $1 AND status = $2",
            enrolment.id,
            from.key(),
            to.key(),
        )
        .execute(&mut *conn)
        .await?;
        insert_history(&mut *conn, enrolment.id, Some(from), to, actor, reason).await?;
    }
    Ok(decision)
}

pub(crate) fn default_reason(action: &Action) -> Option<String> {
    Some(match action {
        Action::Audit(o) => format!("audit: {}", o.label()),
        Action::SwitchMajor(o) => format!("major switched; audit: {}", o.label()),
        Action::CancelCredential { reason } => reason.clone(),
        other => other.name().to_string(),
    })
}

async fn insert_history(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    from: Option<Status>,
    to: Status,
    actor: Option<Uuid>,
    reason: Option<&str>,
) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO enrolment_status_history (enrolment_id, from_status, to_status, actor_id, reason, at) \
         VALUES ($1, $2, $3, $4, $5, clock_timestamp())",
        enrolment_id,
        from.map(Status::key),
        to.key(),
        actor,
        reason,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The enrolment's status changes, oldest first.
pub async fn history(db: impl PgExecutor<'_>, enrolment_id: Uuid) -> DbResult<Vec<HistoryEntry>> {
    let rows = sqlx::query_as!(
        HistoryRow,
        "SELECT id, from_status, to_status, actor_id, at, reason FROM enrolment_status_history \
         WHERE enrolment_id = $1 ORDER BY id",
        enrolment_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(HistoryEntry {
                id: r.id,
                from: r.from_status.as_deref().map(status_from_key).transpose()?,
                to: status_from_key(&r.to_status)?,
                actor_id: r.actor_id,
                at: r.at,
                reason: r.reason,
            })
        })
        .collect()
}

struct HistoryRow {
    id: i64,
    from_status: Option<String>,
    to_status: String,
    actor_id: Option<Uuid>,
    at: OffsetDateTime,
    reason: Option<String>,
}

/// A status change as the history lists it, with its actor's name read in the same
/// statement (None when the system acted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangeListed {
    pub id: i64,
    pub from: Option<Status>,
    pub to: Status,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub at: OffsetDateTime,
    pub reason: Option<String>,
}

struct ChangeRow {
    id: i64,
    from_status: Option<String>,
    to_status: String,
    actor_id: Option<Uuid>,
    actor_name: Option<String>,
    at: OffsetDateTime,
    reason: Option<String>,
}

/// Up to `size` status changes of an enrolment, newest first, from just before change
/// `before`, and whether there are older ones still. The page starts at its change in
/// the index on (enrolment, id): an old page costs what the newest costs.
pub(crate) async fn history_page(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    before: Option<i64>,
    size: usize,
) -> DbResult<(Vec<ChangeListed>, bool)> {
    let last = before.map_or(i64::MAX, |id| id.saturating_sub(1));
    let limit = i64::try_from(size + 1).unwrap_or(i64::MAX);
    // One range on (enrolment_id, id) rather than `enrolment_id = $1` and an order by
    // id, for the reason `activity::Selection` gives: only the (enrolment_id, id) index
    // serves it, so the page reads its own changes and no other enrolment's.
    let rows = sqlx::query_as!(
        ChangeRow,
        "SELECT h.id, h.from_status, h.to_status, h.actor_id, \
         u.display_name AS \"actor_name?\", h.at, h.reason \
         FROM enrolment_status_history h LEFT JOIN users u ON u.id = h.actor_id \
         WHERE (h.enrolment_id, h.id) >= ($1, $2) AND (h.enrolment_id, h.id) <= ($1, $3) \
         ORDER BY h.enrolment_id DESC, h.id DESC LIMIT $4",
        enrolment_id,
        i64::MIN,
        last,
        limit,
    )
    .fetch_all(db)
    .await?;
    let (rows, more) = super::page_and_more(rows, size);
    let listed = rows
        .into_iter()
        .map(|r| {
            Ok(ChangeListed {
                id: r.id,
                from: r.from_status.as_deref().map(status_from_key).transpose()?,
                to: status_from_key(&r.to_status)?,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                at: r.at,
                reason: r.reason,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    Ok((listed, more))
}

/// Change the assigned major without auditing; `audits::switch_major` also re-audits.
pub(crate) async fn set_major(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    major_id: Uuid,
) -> DbResult<()> {
    let r = sqlx::query!(
        "UPDATE enrolments SET major_id = $2, updated_at = now() WHERE id = $1",
        enrolment_id,
        major_id,
    )
    .execute(db)
    .await?;
    if r.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// A centre's enrolments, most recently active first.
pub async fn list_for_centre(db: impl PgExecutor<'_>, centre_id: Uuid) -> DbResult<Vec<Enrolment>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, centre_id, learner_id, version_id, major_id, assessor_id, \
         trainee_assessor_id, iqa_id, status, created_at, updated_at, last_activity_at, revision \
         FROM enrolments WHERE centre_id = $1 ORDER BY last_activity_at DESC, id",
        centre_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Enrolment::try_from).collect()
}

/// IQA "action required" decisions not yet closed: a credential request is refused
/// while any is open (SPEC §5).
pub async fn open_iqa_actions(db: impl PgExecutor<'_>, enrolment_id: Uuid) -> DbResult<u32> {
    let n = sqlx::query_scalar!(
        "SELECT count(*) AS \"count!\" FROM iqa_decisions \
         WHERE enrolment_id = $1 AND decision = 'action_required' AND closed_at IS NULL",
        enrolment_id,
    )
    .fetch_one(db)
    .await?;
    u32::try_from(n).map_err(|_| DbError::Corrupt(format!("{n} open IQA actions")))
}

/// Changes who assesses and quality-assures an enrolment; the schema refuses people of
/// another centre, learners in staff places, and an IQA who is the assessor.
pub(crate) async fn set_assignments(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    assessor: Uuid,
    trainee: Option<Uuid>,
    iqa: Option<Uuid>,
) -> DbResult<()> {
    let r = sqlx::query!(
        "UPDATE enrolments SET assessor_id = $2, trainee_assessor_id = $3, iqa_id = $4, updated_at = now() \
          WHERE id = $1",
        enrolment_id,
        assessor,
        trainee,
        iqa,
    )
    .execute(db)
    .await?;
    if r.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}
