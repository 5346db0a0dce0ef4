//! The append-only activity log (SPEC §8): the record an external quality assurer asks
//! for. The database refuses UPDATE, DELETE and TRUNCATE on it.
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbResult;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ActivityEntry {
    pub id: i64,
    pub centre_id: Uuid,
    pub enrolment_id: Option<Uuid>,
    /// None when the system acted.
    pub actor_id: Option<Uuid>,
    pub at: OffsetDateTime,
    pub action: String,
    pub detail: serde_json::Value,
}

/// The entry's INSERT, which both kinds of entry share.
macro_rules! insert_entry {
    () => {
        "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id"
    };
}

/// Append an entry; when it concerns an enrolment, that enrolment's last activity time
/// moves too (one statement, so they cannot disagree). Pass a transaction to make the
/// entry part of the change it describes.
pub async fn record(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    enrolment_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    action: &str,
    detail: serde_json::Value,
) -> DbResult<i64> {
    const SQL: &str = concat!(
        "WITH touched AS (UPDATE enrolments SET last_activity_at = clock_timestamp() WHERE id = $2) ",
        insert_entry!()
    );
    insert(db, SQL, centre_id, enrolment_id, actor_id, action, detail).await
}

/// Append an entry that is not activity on the portfolio: an audit reads the portfolio
/// and changes nothing a learner or assessor did, so it leaves last activity (and the
/// caseload's "30 days without activity") where it was.
pub async fn append(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    enrolment_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    action: &str,
    detail: serde_json::Value,
) -> DbResult<i64> {
    insert(
        db,
        insert_entry!(),
        centre_id,
        enrolment_id,
        actor_id,
        action,
        detail,
    )
    .await
}

async fn insert(
    db: impl PgExecutor<'_>,
    sql: &'static str,
    centre_id: Uuid,
    enrolment_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    action: &str,
    detail: serde_json::Value,
) -> DbResult<i64> {
    Ok(sqlx::query_scalar(sql)
        .bind(centre_id)
        .bind(enrolment_id)
        .bind(actor_id)
        .bind(action)
        .bind(detail)
        .fetch_one(db)
        .await?)
}

const SELECT: &str =
    "SELECT id, centre_id, enrolment_id, actor_id, at, action, detail FROM activity_log";

/// An enrolment's log, oldest first.
pub async fn for_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<ActivityEntry>> {
    Ok(
        sqlx::query_as(&format!("{SELECT} WHERE enrolment_id = $1 ORDER BY id"))
            .bind(enrolment_id)
            .fetch_all(db)
            .await?,
    )
}

/// A centre's log, newest first, `limit` entries before `before` (an entry id) if given.
pub async fn for_centre(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> DbResult<Vec<ActivityEntry>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE centre_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    ))
    .bind(centre_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await?)
}
