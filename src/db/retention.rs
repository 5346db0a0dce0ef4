//! Retention and erasure (issue 16 point 5), each one use case in one transaction: the
//! change, its activity entry and the job that removes the files from storage commit
//! together; the files go after the commit (`jobs`), so a crash between leaves a job to
//! finish, never a record that names files already gone.
use serde_json::json;
use sqlx::PgPool;
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

use super::{activity, jobs, DbError, DbResult};
use crate::credentials::store::Document;
use crate::domain::retention::{self, RetentionRefusal, RetentionYears};

/// The job kind that removes files from storage; its payload is a `Removal`.
pub(crate) const REMOVE_FILES_JOB: &str = "remove files";

/// What a `remove files` job removes: written by the use case, read by the worker.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Removal {
    /// Evidence files' storage keys.
    pub keys: Vec<String>,
    pub documents: Vec<RemovedDocument>,
}

/// One of the register's documents, named as its store names it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct RemovedDocument {
    pub credential: Uuid,
    /// `Document::stem`.
    pub document: String,
    pub sha256: String,
}

/// How many portfolios past retention a page lists.
pub const PAGE: i64 = 50;

pub async fn years(pool: &PgPool, centre_id: Uuid) -> DbResult<RetentionYears> {
    let n = sqlx::query_scalar!(
        "SELECT retention_years FROM centres WHERE id = $1",
        centre_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DbError::NotFound)?;
    Ok(RetentionYears::from_stored(n))
}

pub async fn set_years(
    pool: &PgPool,
    centre_id: Uuid,
    admin_id: Uuid,
    years: RetentionYears,
) -> DbResult<()> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query_scalar!(
        "SELECT retention_years FROM centres WHERE id = $1 FOR UPDATE",
        centre_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if before != i16::from(years.get()) {
        sqlx::query!(
            "UPDATE centres SET retention_years = $2 WHERE id = $1",
            centre_id,
            i16::from(years.get())
        )
        .execute(&mut *tx)
        .await?;
        activity::record(
            &mut *tx,
            centre_id,
            None,
            Some(admin_id),
            "retention period changed",
            json!({ "from_years": before, "to_years": years.get() }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A portfolio past retention, as listed.
#[derive(Debug, Clone)]
pub struct PastRow {
    pub enrolment_id: Uuid,
    pub learner_name: String,
    pub qualification: String,
    pub credential_number: String,
    pub issued_at: OffsetDateTime,
}

/// The first midnight (UTC) after `day`: what was issued before it was issued on or
/// before `day`.
fn end_of(day: Date) -> OffsetDateTime {
    day.next_day()
        .unwrap_or(day)
        .with_time(Time::MIDNIGHT)
        .assume_utc()
}

/// The portfolios of the centre past retention on `today` and not archived, oldest
/// certification first, a page at a time after `after` (an enrolment of the last page);
/// and whether more follow.
pub async fn past(
    pool: &PgPool,
    centre_id: Uuid,
    today: Date,
    after: Option<Uuid>,
) -> DbResult<(Vec<PastRow>, bool)> {
    let years = years(pool, centre_id).await?;
    let before = end_of(retention::latest_archivable(today, years));
    let mut rows = sqlx::query_as!(
        PastRow,
        r#"SELECT e.id AS "enrolment_id!", u.display_name AS "learner_name!",
                  c.qualification_code || ' ' || c.qualification_title AS "qualification!",
                  c.number AS "credential_number!", c.issued_at AS "issued_at!"
             FROM credentials c
             JOIN enrolments e ON e.id = c.enrolment_id
             JOIN users u ON u.id = e.learner_id
            WHERE c.centre_id = $1 AND c.cancelled_at IS NULL
              AND c.issued_at IS NOT NULL AND c.issued_at < $2
              AND NOT c.portfolio_archived
              AND ($3::uuid IS NULL OR (c.issued_at, c.enrolment_id) >
                   (SELECT k.issued_at, k.enrolment_id FROM credentials k
                     WHERE k.enrolment_id = $3 AND k.cancelled_at IS NULL AND k.centre_id = $1))
            ORDER BY c.issued_at, c.enrolment_id
            LIMIT $4"#,
        centre_id,
        before,
        after,
        PAGE + 1
    )
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    Ok((rows, more))
}

/// Archives a portfolio past retention: its evidence files leave storage (by the job
/// this queues); the record, audits, signatures and the credential register stay.
/// Returns how many files go.
pub async fn archive(
    pool: &PgPool,
    centre_id: Uuid,
    enrolment_id: Uuid,
    admin_id: Uuid,
    today: Date,
) -> DbResult<usize> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query!(
        r#"SELECT e.archived_at IS NOT NULL AS "archived!", c.issued_at, k.retention_years
             FROM enrolments e
             JOIN centres k ON k.id = e.centre_id
             LEFT JOIN credentials c ON c.enrolment_id = e.id
                  AND c.cancelled_at IS NULL AND c.issued_at IS NOT NULL
            WHERE e.id = $1 AND e.centre_id = $2
              FOR UPDATE OF e"#,
        enrolment_id,
        centre_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DbError::NotFound)?;
    retention::may_archive(
        found
            .issued_at
            .map(|at| at.to_offset(time::UtcOffset::UTC).date()),
        found.archived,
        RetentionYears::from_stored(found.retention_years),
        today,
    )?;
    sqlx::query!(
        "UPDATE enrolments SET archived_at = now(), archived_by = $2 WHERE id = $1",
        enrolment_id,
        admin_id
    )
    .execute(&mut *tx)
    .await?;
    // What the retention list's index leaves out.
    sqlx::query!(
        "UPDATE credentials SET portfolio_archived = true WHERE enrolment_id = $1",
        enrolment_id
    )
    .execute(&mut *tx)
    .await?;
    let keys = remove_files(&mut tx, &[enrolment_id]).await?;
    activity::record(
        &mut *tx,
        centre_id,
        Some(enrolment_id),
        Some(admin_id),
        "portfolio archived",
        json!({ "files_removed": keys.len() }),
    )
    .await?;
    let files = keys.len();
    let removal = Removal {
        keys,
        documents: Vec::new(),
    };
    queue_removal(&mut tx, &removal, &format!("archive {enrolment_id}")).await?;
    tx.commit().await?;
    Ok(files)
}

/// Erases a learner's personal data on request: the account is pseudonymised in place
/// (name, email, password, sessions), the credential register names the pseudonym, and
/// the evidence files of every enrolment leave storage; the assessment record (ticks,
/// audits, signatures, the register's numbers and dates) stays whole.
pub async fn erase_learner(
    pool: &PgPool,
    centre_id: Uuid,
    learner_id: Uuid,
    admin_id: Uuid,
) -> DbResult<usize> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query!(
        r#"SELECT kind, erased_at IS NOT NULL AS "erased!" FROM users
            WHERE id = $1 AND centre_id = $2 FOR UPDATE"#,
        learner_id,
        centre_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DbError::NotFound)?;
    if found.kind != "learner" {
        return Err(RetentionRefusal::NotALearner.into());
    }
    if found.erased {
        return Err(RetentionRefusal::AlreadyErased.into());
    }
    let pseudonym = retention::pseudonym(learner_id);
    sqlx::query!(
        "UPDATE users SET display_name = $2, email = $3, password_hash = NULL, active = false, \
                erased_at = now(), session_generation = session_generation + 1, updated_at = now() \
          WHERE id = $1",
        learner_id,
        pseudonym.display_name,
        pseudonym.email
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM password_tokens WHERE user_id = $1", learner_id)
        .execute(&mut *tx)
        .await?;
    let enrolments = sqlx::query_scalar!(
        "SELECT id FROM enrolments WHERE learner_id = $1",
        learner_id
    )
    .fetch_all(&mut *tx)
    .await?;
    // The register names the pseudonym; its documents, which bear the name, leave
    // storage, their SHA-256 kept (the register never changes what it kept).
    let registered = sqlx::query!(
        "UPDATE credentials SET learner_name = $2, \
                documents_removed_at = CASE WHEN draft_pdf_sha256 IS NOT NULL OR pdf_sha256 IS NOT NULL \
                                            THEN now() END \
          WHERE enrolment_id = ANY($1) \
          RETURNING id, draft_pdf_sha256, pdf_sha256, vc_sha256",
        &enrolments,
        pseudonym.display_name
    )
    .fetch_all(&mut *tx)
    .await?;
    let documents: Vec<RemovedDocument> = registered
        .iter()
        .flat_map(|c| {
            [
                (Document::DraftPdf, &c.draft_pdf_sha256),
                (Document::IssuedPdf, &c.pdf_sha256),
                (Document::SignedJson, &c.vc_sha256),
            ]
            .into_iter()
            .filter_map(move |(document, sha256)| {
                sha256.as_ref().map(|sha256| RemovedDocument {
                    credential: c.id,
                    document: document.stem().to_string(),
                    sha256: sha256.clone(),
                })
            })
        })
        .collect();
    // Their pages, kept per revision, show the name: a new revision drops them.
    sqlx::query!(
        "UPDATE enrolments SET revision = revision WHERE id = ANY($1)",
        &enrolments
    )
    .execute(&mut *tx)
    .await?;
    let keys = remove_files(&mut tx, &enrolments).await?;
    // Named by id only: the entry must not keep what was erased.
    activity::record(
        &mut *tx,
        centre_id,
        None,
        Some(admin_id),
        "learner erased",
        json!({ "user_id": learner_id, "files_removed": keys.len() }),
    )
    .await?;
    let removal = Removal { keys, documents };
    let files = removal.keys.len();
    queue_removal(&mut tx, &removal, &format!("erase {learner_id}")).await?;
    tx.commit().await?;
    Ok(files)
}

/// Marks the evidence files of `enrolments` removed; returns their storage keys.
async fn remove_files(conn: &mut sqlx::PgConnection, enrolments: &[Uuid]) -> DbResult<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "UPDATE evidence_files f SET removed_at = now() FROM evidence ev \
          WHERE ev.id = f.evidence_id AND ev.enrolment_id = ANY($1) AND f.removed_at IS NULL \
          RETURNING f.storage_key",
        enrolments
    )
    .fetch_all(&mut *conn)
    .await?)
}

async fn queue_removal(
    conn: &mut sqlx::PgConnection,
    removal: &Removal,
    why: &str,
) -> DbResult<()> {
    if removal.keys.is_empty() && removal.documents.is_empty() {
        return Ok(());
    }
    let payload = serde_json::to_value(removal)
        .map_err(|e| DbError::Corrupt(format!("a removal job's payload: {e}")))?;
    jobs::enqueue(
        conn,
        REMOVE_FILES_JOB,
        payload,
        &format!("remove files: {why}"),
    )
    .await
}

/// When the register's documents of a credential left storage (its learner's data was
/// erased), if they did.
pub async fn documents_removed_at(
    pool: &PgPool,
    credential_id: Uuid,
) -> DbResult<Option<OffsetDateTime>> {
    Ok(sqlx::query_scalar!(
        "SELECT documents_removed_at FROM credentials WHERE id = $1",
        credential_id
    )
    .fetch_optional(pool)
    .await?
    .flatten())
}
