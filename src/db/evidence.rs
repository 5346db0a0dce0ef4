//! Evidence items and their uploaded files (SPEC §2).
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DbError, DbResult};

pub use crate::domain::evidence::EvidenceKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub id: Uuid,
    pub enrolment_id: Uuid,
    pub title: String,
    pub description: String,
    pub kind: EvidenceKind,
    pub added_by: Uuid,
    pub added_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewEvidence<'a> {
    pub enrolment_id: Uuid,
    pub title: &'a str,
    pub description: &'a str,
    pub kind: EvidenceKind,
    pub added_by: Uuid,
}

struct Row {
    id: Uuid,
    enrolment_id: Uuid,
    title: String,
    description: String,
    kind: String,
    added_by: Uuid,
    added_at: OffsetDateTime,
}

impl TryFrom<Row> for Evidence {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<Evidence> {
        Ok(Evidence {
            kind: EvidenceKind::from_key(&r.kind)
                .ok_or_else(|| DbError::Corrupt(format!("evidence kind {:?}", r.kind)))?,
            id: r.id,
            enrolment_id: r.enrolment_id,
            title: r.title,
            description: r.description,
            added_by: r.added_by,
            added_at: r.added_at,
        })
    }
}

/// Add an evidence item to an enrolment (`NotFound` if the enrolment does not exist).
pub async fn add(db: impl PgExecutor<'_>, new: &NewEvidence<'_>) -> DbResult<Evidence> {
    // Without a key nothing conflicts: no item means no such enrolment.
    add_once(db, new, None).await?.ok_or(DbError::NotFound)
}

/// `add` for an item a device made and may send twice (its offline queue): made with
/// the device's `key`, once per person and key. None when `added_by` already made an item
/// with this key (that item stands; `made_with_key` finds it).
pub async fn add_once(
    db: impl PgExecutor<'_>,
    new: &NewEvidence<'_>,
    key: Option<Uuid>,
) -> DbResult<Option<Evidence>> {
    let row = sqlx::query_as!(
        Row,
        "INSERT INTO evidence (id, enrolment_id, version_id, title, description, kind, added_by, client_key) \
         SELECT $1, e.id, e.version_id, $3, $4, $5, $6, $7 FROM enrolments e WHERE e.id = $2 \
         ON CONFLICT (added_by, client_key) WHERE client_key IS NOT NULL DO NOTHING \
         RETURNING id, enrolment_id, title, description, kind, added_by, added_at",
        Uuid::now_v7(),
        new.enrolment_id,
        new.title.trim(),
        new.description,
        new.kind.key(),
        new.added_by,
        key,
    )
    .fetch_optional(db)
    .await?;
    row.map(Evidence::try_from).transpose()
}

/// The item `added_by` made with the device's `key` on enrolment `enrolment_id`, if any.
pub async fn made_with_key(
    db: impl PgExecutor<'_>,
    added_by: Uuid,
    key: Uuid,
    enrolment_id: Uuid,
) -> DbResult<Option<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM evidence WHERE added_by = $1 AND client_key = $2 AND enrolment_id = $3",
        added_by,
        key,
        enrolment_id,
    )
    .fetch_optional(db)
    .await?)
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Evidence> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, enrolment_id, title, description, kind, added_by, added_at \
         FROM evidence WHERE id = $1",
        id,
    )
    .fetch_one(db)
    .await?;
    row.try_into()
}

/// Oldest first: the order of the matrix's columns.
pub async fn list_for_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<Evidence>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, enrolment_id, title, description, kind, added_by, added_at \
         FROM evidence WHERE enrolment_id = $1 ORDER BY added_at, id",
        enrolment_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Evidence::try_from).collect()
}

/// A page of an enrolment's evidence, newest first: `per_page + 1` read, so the
/// caller knows whether there is a next page.
pub(crate) async fn page_for_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    page: i64,
    per_page: i64,
) -> DbResult<Vec<Evidence>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, enrolment_id, title, description, kind, added_by, added_at \
         FROM evidence WHERE enrolment_id = $1 ORDER BY added_at DESC, id LIMIT $2 OFFSET $3",
        enrolment_id,
        per_page + 1,
        page.saturating_mul(per_page)
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Evidence::try_from).collect()
}

/// Delete an item nobody has ticked (`EvidenceHasTicks` otherwise). Its file records go
/// with it; removing the stored bytes is the caller's job.
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<()> {
    let r = sqlx::query!("DELETE FROM evidence WHERE id = $1", id)
        .execute(db)
        .await?;
    if r.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    pub id: Uuid,
    pub evidence_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: String,
    pub sha256: Option<String>,
    pub uploaded_by: Uuid,
    pub uploaded_at: OffsetDateTime,
    /// The bytes left storage then (the portfolio was archived, or its learner erased).
    pub removed_at: Option<OffsetDateTime>,
}

impl EvidenceFile {
    /// How a page shows the file, from the type kept with it: "photo", "video", "audio",
    /// or "" for a link alone. (Served, the file's content is judged again.)
    pub fn shown_as(&self) -> &'static str {
        use crate::domain::file_type::{family_of, Family};
        match family_of(&self.content_type) {
            Some(Family::Photo) => "photo",
            Some(Family::Video) => "video",
            Some(Family::Audio) => "audio",
            Some(Family::Document) | None => "",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub evidence_id: Uuid,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub storage_key: &'a str,
    pub sha256: Option<&'a str>,
    pub uploaded_by: Uuid,
}

pub async fn add_file(db: impl PgExecutor<'_>, f: &NewFile<'_>) -> DbResult<EvidenceFile> {
    Ok(sqlx::query_as!(
        EvidenceFile,
        "INSERT INTO evidence_files (id, evidence_id, file_name, content_type, size_bytes, storage_key, sha256, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING id, evidence_id, file_name, content_type, size_bytes, storage_key, sha256, \
         uploaded_by, uploaded_at, removed_at",
        Uuid::now_v7(),
        f.evidence_id,
        f.file_name,
        f.content_type,
        f.size_bytes,
        f.storage_key,
        f.sha256,
        f.uploaded_by,
    )
    .fetch_one(db)
    .await?)
}

pub async fn list_files(db: impl PgExecutor<'_>, evidence_id: Uuid) -> DbResult<Vec<EvidenceFile>> {
    Ok(sqlx::query_as!(
        EvidenceFile,
        "SELECT id, evidence_id, file_name, content_type, size_bytes, storage_key, sha256, \
         uploaded_by, uploaded_at, removed_at \
         FROM evidence_files WHERE evidence_id = $1 ORDER BY uploaded_at, id",
        evidence_id,
    )
    .fetch_all(db)
    .await?)
}
