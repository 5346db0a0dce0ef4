//! Resumable uploads (migration 0034): one person's file for one enrolment, sent in
//! pieces. The bytes are the file store's (`web::resumable`); this is who may send them,
//! how long they are, and what they turned out to be.
use sqlx::PgExecutor;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::DbResult;

/// An upload as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: Uuid,
    pub enrolment_id: Uuid,
    pub file_name: String,
    pub length: i64,
    /// Set once every byte is in and it was judged: what it is, and its digest.
    pub content_type: Option<String>,
    pub sha256: Option<String>,
    /// The evidence item that took it, if one did.
    pub evidence_id: Option<Uuid>,
}

pub struct NewUpload<'a> {
    pub id: Uuid,
    pub enrolment_id: Uuid,
    pub owner_id: Uuid,
    pub file_name: &'a str,
    pub length: i64,
    /// How long it may wait to be finished and used.
    pub lasts: Duration,
}

pub async fn create(db: impl PgExecutor<'_>, new: &NewUpload<'_>) -> DbResult<()> {
    let expires_at = OffsetDateTime::now_utc() + new.lasts;
    sqlx::query!(
        "INSERT INTO uploads (id, enrolment_id, owner_id, file_name, length, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        new.id,
        new.enrolment_id,
        new.owner_id,
        new.file_name,
        new.length,
        expires_at,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// How many uploads `owner` has that no evidence item took yet.
pub async fn open_count(db: impl PgExecutor<'_>, owner: Uuid) -> DbResult<i64> {
    Ok(sqlx::query_scalar!(
        "SELECT count(*) AS \"n!\" FROM uploads WHERE owner_id = $1 AND evidence_id IS NULL",
        owner,
    )
    .fetch_one(db)
    .await?)
}

/// Upload `id` if it is `owner`'s, for `enrolment`; nobody else's is found.
pub async fn get(
    db: impl PgExecutor<'_>,
    id: Uuid,
    owner: Uuid,
    enrolment: Uuid,
) -> DbResult<Option<Upload>> {
    Ok(sqlx::query_as!(
        Upload,
        "SELECT id, enrolment_id, file_name, length, content_type, sha256, evidence_id \
         FROM uploads WHERE id = $1 AND owner_id = $2 AND enrolment_id = $3",
        id,
        owner,
        enrolment,
    )
    .fetch_optional(db)
    .await?)
}

/// The uploads of `ids` that `owner` began for `enrolment`, in one statement; an id
/// not theirs is left out.
pub async fn get_many(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
    owner: Uuid,
    enrolment: Uuid,
) -> DbResult<Vec<Upload>> {
    Ok(sqlx::query_as!(
        Upload,
        "SELECT id, enrolment_id, file_name, length, content_type, sha256, evidence_id \
         FROM uploads WHERE id = ANY($1) AND owner_id = $2 AND enrolment_id = $3",
        ids,
        owner,
        enrolment,
    )
    .fetch_all(db)
    .await?)
}

/// Records that every byte of `id` is in, and what it is.
pub async fn complete(
    db: impl PgExecutor<'_>,
    id: Uuid,
    content_type: &str,
    sha256: &str,
) -> DbResult<()> {
    sqlx::query!(
        "UPDATE uploads SET content_type = $2, sha256 = $3, completed_at = now() \
         WHERE id = $1 AND completed_at IS NULL",
        id,
        content_type,
        sha256,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets upload `id` unless an evidence item took it; true when it was forgotten.
pub async fn remove(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<bool> {
    let gone = sqlx::query!(
        "DELETE FROM uploads WHERE id = $1 AND evidence_id IS NULL",
        id
    )
    .execute(db)
    .await?;
    Ok(gone.rows_affected() == 1)
}

/// Forgets at most `most` uploads past their time that nothing took; their ids, for
/// their bytes to be removed.
pub async fn remove_expired(db: impl PgExecutor<'_>, most: i64) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "DELETE FROM uploads WHERE id IN (SELECT id FROM uploads \
             WHERE evidence_id IS NULL AND expires_at < now() ORDER BY expires_at LIMIT $1) \
         RETURNING id",
        most,
    )
    .fetch_all(db)
    .await?)
}

/// Gives the complete uploads `ids` (`owner`'s, for `enrolment`, none taken yet) to
/// evidence item `evidence_id`; answers with those it took, which are fewer than asked
/// when one is missing, unfinished or taken already.
pub async fn take(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
    owner: Uuid,
    enrolment: Uuid,
    evidence_id: Uuid,
) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "UPDATE uploads SET evidence_id = $4 \
         WHERE id = ANY($1) AND owner_id = $2 AND enrolment_id = $3 \
           AND completed_at IS NOT NULL AND evidence_id IS NULL \
         RETURNING id",
        ids,
        owner,
        enrolment,
        evidence_id,
    )
    .fetch_all(db)
    .await?)
}
