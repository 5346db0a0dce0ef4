//! The text of each evidence item (issue 17, point 1; migration 0041): what the job that
//! reads it needs, and where it writes what it read. Triggers ask for a reading; the job
//! writes it only while the number it read for is still the one wanted.
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DbError, DbResult};

/// The job kind that reads one item's text; its payload is `{"evidence", "wanted"}`.
pub const READ_JOB: &str = "evidence text";
/// The job kind that reads, in chunks, the items that were there before texts were read.
pub const BACKFILL_JOB: &str = "evidence texts backfill";

/// An item as the reading job sees it.
#[derive(Debug, Clone)]
pub struct ItemToRead {
    pub evidence_id: Uuid,
    pub wanted: i32,
    pub title: String,
    pub description: String,
    pub files: Vec<FileToRead>,
}

/// A file of the item whose bytes are still kept.
#[derive(Debug, Clone)]
pub struct FileToRead {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: String,
}

/// The item and its kept files, or None when the item is gone.
pub async fn to_read(
    db: &mut sqlx::PgConnection,
    evidence_id: Uuid,
) -> DbResult<Option<ItemToRead>> {
    let item = sqlx::query!(
        "SELECT t.wanted, ev.title, ev.description \
           FROM evidence_texts t JOIN evidence ev ON ev.id = t.evidence_id \
          WHERE t.evidence_id = $1",
        evidence_id
    )
    .fetch_optional(&mut *db)
    .await?;
    let Some(item) = item else {
        return Ok(None);
    };
    let files = sqlx::query_as!(
        FileToRead,
        "SELECT id, file_name, content_type, size_bytes, storage_key \
           FROM evidence_files WHERE evidence_id = $1 AND removed_at IS NULL \
          ORDER BY uploaded_at, id",
        evidence_id
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(Some(ItemToRead {
        evidence_id,
        wanted: item.wanted,
        title: item.title,
        description: item.description,
        files,
    }))
}

/// Writes the text read for `wanted`, unless a later change wants another reading; the
/// item's portfolio pages are kept per revision, so its revision moves with it. True
/// when written.
pub async fn write(
    db: impl PgExecutor<'_>,
    evidence_id: Uuid,
    wanted: i32,
    text: &str,
    files: &serde_json::Value,
) -> DbResult<bool> {
    let written = sqlx::query_scalar!(
        "WITH t AS (UPDATE evidence_texts SET done = wanted, text = $3, files = $4, read_at = now() \
                     WHERE evidence_id = $1 AND wanted = $2 RETURNING evidence_id), \
              e AS (UPDATE enrolments SET revision = revision \
                     WHERE id = (SELECT enrolment_id FROM evidence WHERE id IN (SELECT evidence_id FROM t)) \
                     RETURNING id) \
         SELECT count(*) AS \"n!\" FROM t",
        evidence_id,
        wanted,
        text,
        files,
    )
    .fetch_one(db)
    .await?;
    Ok(written == 1)
}

/// Items whose text was never read, after `after` in id order (the backfill's walk).
pub async fn unread_after(
    db: impl PgExecutor<'_>,
    after: Option<Uuid>,
    limit: i64,
) -> DbResult<Vec<(Uuid, i32)>> {
    let rows = sqlx::query!(
        "SELECT evidence_id, wanted FROM evidence_texts \
          WHERE done IS NULL AND evidence_id > COALESCE($1, '00000000-0000-0000-0000-000000000000'::uuid) \
          ORDER BY evidence_id LIMIT $2",
        after,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.evidence_id, r.wanted))
        .collect())
}

/// An item's text as read, for its page.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceText {
    /// False while a reading is wanted that has not been written.
    pub current: bool,
    pub text: String,
    pub files: serde_json::Value,
    pub read_at: Option<OffsetDateTime>,
}

pub async fn get(db: impl PgExecutor<'_>, evidence_id: Uuid) -> DbResult<EvidenceText> {
    let row = sqlx::query!(
        "SELECT done IS NOT DISTINCT FROM wanted AS \"current!\", text, files, read_at \
           FROM evidence_texts WHERE evidence_id = $1",
        evidence_id
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)?;
    Ok(EvidenceText {
        current: row.current,
        text: row.text,
        files: row.files,
        read_at: row.read_at,
    })
}

/// What the reading found of each file (`files`), and whether it is the reading of the
/// item as it is now; None for an item without a text row.
pub async fn files_read(
    db: impl PgExecutor<'_>,
    evidence_id: Uuid,
) -> DbResult<Option<(bool, serde_json::Value)>> {
    let row = sqlx::query!(
        "SELECT done IS NOT DISTINCT FROM wanted AS \"current!\", files \
           FROM evidence_texts WHERE evidence_id = $1",
        evidence_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.current, r.files)))
}

/// The items of `centre_id` whose text is not read as they are now.
pub async fn unread_of_centre(db: impl PgExecutor<'_>, centre_id: Uuid) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT t.evidence_id FROM evidence_texts t \
           JOIN evidence ev ON ev.id = t.evidence_id \
           JOIN enrolments e ON e.id = ev.enrolment_id \
          WHERE e.centre_id = $1 AND t.done IS DISTINCT FROM t.wanted \
          ORDER BY t.evidence_id",
        centre_id
    )
    .fetch_all(db)
    .await?)
}

/// Drops the readings still queued for `ids` (a loader read them itself).
pub async fn drop_queued_readings(db: impl PgExecutor<'_>, ids: &[Uuid]) -> DbResult<u64> {
    Ok(sqlx::query!(
        "DELETE FROM jobs WHERE kind = $1 AND state = 'queued' \
            AND (payload ->> 'evidence')::uuid = ANY($2)",
        READ_JOB,
        ids
    )
    .execute(db)
    .await?
    .rows_affected())
}
