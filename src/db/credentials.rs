//! The credential register (SPEC §6) and the status moves that go with it (SPEC §5).
//! Each action locks the enrolment, asks the status machine, and writes the credential
//! and the transition in one transaction: a double submit or two admins at once make
//! exactly one change, and the other is refused with the status it found. Each action's
//! activity entry (SPEC §8) is written in the same transaction: the move, its history
//! row and its entry commit together or not at all.
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{Acquire, PgConnection, PgExecutor, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{activity, audits, enrolments, jobs, qualifications, ticks, users, DbError, DbResult};
use crate::domain::credential::{achieved_units, KeptFile};
use crate::domain::outcome::ConfirmedCriteria;
use crate::domain::status::{Action, Decision};

/// The job that renders a requested credential.
pub const GENERATE_JOB: &str = "generate credential";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialUnit {
    pub code: String,
    pub title: String,
    pub level: u8,
    pub credits: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: Uuid,
    pub number: String,
    pub enrolment_id: Uuid,
    pub centre_id: Uuid,
    pub learner_name: String,
    pub qualification_code: String,
    pub qualification_title: String,
    pub qualification_level: u8,
    pub major_code: String,
    pub major_title: String,
    pub units: Vec<CredentialUnit>,
    pub centre_name: String,
    pub requested_at: OffsetDateTime,
    pub generated_at: Option<OffsetDateTime>,
    pub generation_error: Option<String>,
    pub issued_at: Option<OffsetDateTime>,
    pub cancelled_at: Option<OffsetDateTime>,
    pub cancel_reason: Option<String>,
    /// The PDF the worker generated, as kept (none for credentials generated before
    /// documents were kept).
    pub draft_pdf: Option<KeptFile>,
    /// The issued PDF and the signed credential, as kept from their issue on.
    pub pdf: Option<KeptFile>,
    pub vc: Option<KeptFile>,
    /// Its bit in the centre's Bitstring Status List, given when it was requested.
    pub status_list_index: u64,
}

impl Credential {
    pub fn total_credits(&self) -> u32 {
        self.units.iter().map(|u| u.credits).sum()
    }
}

struct Row {
    id: Uuid,
    number: String,
    enrolment_id: Uuid,
    centre_id: Uuid,
    learner_name: String,
    qualification_code: String,
    qualification_title: String,
    qualification_level: i16,
    major_code: String,
    major_title: String,
    units: Json<Vec<CredentialUnit>>,
    centre_name: String,
    requested_at: OffsetDateTime,
    generated_at: Option<OffsetDateTime>,
    generation_error: Option<String>,
    issued_at: Option<OffsetDateTime>,
    cancelled_at: Option<OffsetDateTime>,
    cancel_reason: Option<String>,
    draft_pdf_sha256: Option<String>,
    draft_pdf_size: Option<i64>,
    pdf_sha256: Option<String>,
    pdf_size: Option<i64>,
    vc_sha256: Option<String>,
    vc_size: Option<i64>,
    status_list_index: i32,
}

fn kept(sha256: Option<String>, size: Option<i64>) -> DbResult<Option<KeptFile>> {
    match (sha256, size) {
        (Some(sha256), Some(size)) => Ok(Some(KeptFile {
            sha256,
            size: u64::try_from(size).map_err(|e| DbError::Corrupt(e.to_string()))?,
        })),
        (None, None) => Ok(None),
        _ => Err(DbError::Corrupt(
            "a kept document without its hash or size".into(),
        )),
    }
}

fn size_of(file: &KeptFile) -> DbResult<i64> {
    i64::try_from(file.size).map_err(|e| DbError::Corrupt(e.to_string()))
}

impl TryFrom<Row> for Credential {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<Self> {
        Ok(Credential {
            id: r.id,
            number: r.number,
            enrolment_id: r.enrolment_id,
            centre_id: r.centre_id,
            learner_name: r.learner_name,
            qualification_code: r.qualification_code,
            qualification_title: r.qualification_title,
            qualification_level: u8::try_from(r.qualification_level)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
            major_code: r.major_code,
            major_title: r.major_title,
            units: r.units.0,
            centre_name: r.centre_name,
            requested_at: r.requested_at,
            generated_at: r.generated_at,
            generation_error: r.generation_error,
            issued_at: r.issued_at,
            cancelled_at: r.cancelled_at,
            cancel_reason: r.cancel_reason,
            draft_pdf: kept(r.draft_pdf_sha256, r.draft_pdf_size)?,
            pdf: kept(r.pdf_sha256, r.pdf_size)?,
            vc: kept(r.vc_sha256, r.vc_size)?,
            status_list_index: u64::try_from(r.status_list_index)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
        })
    }
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Credential> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, number, enrolment_id, centre_id, learner_name, qualification_code, \
         qualification_title, qualification_level, major_code, major_title, \
         units AS \"units: Json<Vec<CredentialUnit>>\", centre_name, requested_at, generated_at, \
         generation_error, issued_at, cancelled_at, cancel_reason, draft_pdf_sha256, \
         draft_pdf_size, pdf_sha256, pdf_size, vc_sha256, vc_size, status_list_index \
         FROM credentials WHERE id = $1",
        id
    )
    .fetch_one(db)
    .await?;
    row.try_into()
}

pub(crate) async fn find_by_number(
    db: impl PgExecutor<'_>,
    number: &str,
) -> DbResult<Option<Credential>> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, number, enrolment_id, centre_id, learner_name, qualification_code, \
         qualification_title, qualification_level, major_code, major_title, \
         units AS \"units: Json<Vec<CredentialUnit>>\", centre_name, requested_at, generated_at, \
         generation_error, issued_at, cancelled_at, cancel_reason, draft_pdf_sha256, \
         draft_pdf_size, pdf_sha256, pdf_size, vc_sha256, vc_size, status_list_index \
         FROM credentials WHERE number = $1",
        number
    )
    .fetch_optional(db)
    .await?;
    row.map(Credential::try_from).transpose()
}

/// The enrolment's most recent credential, cancelled or not (a Withdrawn enrolment
/// still shows the one it had).
pub async fn latest_for_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Option<Credential>> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, number, enrolment_id, centre_id, learner_name, qualification_code, \
         qualification_title, qualification_level, major_code, major_title, \
         units AS \"units: Json<Vec<CredentialUnit>>\", centre_name, requested_at, generated_at, \
         generation_error, issued_at, cancelled_at, cancel_reason, draft_pdf_sha256, \
         draft_pdf_size, pdf_sha256, pdf_size, vc_sha256, vc_size, status_list_index \
         FROM credentials WHERE enrolment_id = $1 ORDER BY requested_at DESC LIMIT 1",
        enrolment_id
    )
    .fetch_optional(db)
    .await?;
    row.map(Credential::try_from).transpose()
}

/// Every credential of the enrolment, newest first: the register never forgets one.
pub async fn list_for_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<Credential>> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, number, enrolment_id, centre_id, learner_name, qualification_code, \
         qualification_title, qualification_level, major_code, major_title, \
         units AS \"units: Json<Vec<CredentialUnit>>\", centre_name, requested_at, generated_at, \
         generation_error, issued_at, cancelled_at, cancel_reason, draft_pdf_sha256, \
         draft_pdf_size, pdf_sha256, pdf_size, vc_sha256, vc_size, status_list_index \
         FROM credentials WHERE enrolment_id = $1 ORDER BY requested_at DESC",
        enrolment_id
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Credential::try_from).collect()
}

async fn live_locked(conn: &mut PgConnection, enrolment_id: Uuid) -> DbResult<Credential> {
    let row = sqlx::query_as!(
        Row,
        "SELECT id, number, enrolment_id, centre_id, learner_name, qualification_code, \
         qualification_title, qualification_level, major_code, major_title, \
         units AS \"units: Json<Vec<CredentialUnit>>\", centre_name, requested_at, generated_at, \
         generation_error, issued_at, cancelled_at, cancel_reason, draft_pdf_sha256, \
         draft_pdf_size, pdf_sha256, pdf_size, vc_sha256, vc_size, status_list_index \
         FROM credentials WHERE enrolment_id = $1 AND cancelled_at IS NULL",
        enrolment_id
    )
    .fetch_one(conn)
    .await
    .map_err(|e| match DbError::from(e) {
        DbError::NotFound => DbError::Corrupt("the enrolment has no live credential".into()),
        other => other,
    })?;
    row.try_into()
}

async fn queue_generation(conn: &mut PgConnection, credential_id: Uuid) -> DbResult<()> {
    // One job per request or retry, each under a key of its own. (Counting the
    // credential's earlier jobs for the key read every generation job ever queued, and
    // would repeat a key once old jobs are pruned.)
    jobs::enqueue(
        conn,
        GENERATE_JOB,
        serde_json::json!({ "credential": credential_id }),
        &format!("generate:{credential_id}:{}", Uuid::now_v7()),
    )
    .await
}

/// Request the credential (SPEC §5): re-audit first, refuse while IQA actions are open
/// or the assigned major is not achieved, then snapshot the register entry under
/// `number` and queue its generation.
pub async fn request<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    enrolment_id: Uuid,
    actor: Uuid,
    number: &str,
) -> DbResult<Credential> {
    let mut tx = db.begin().await?;
    let enrolment = enrolments::lock(&mut tx, enrolment_id).await?;
    let (_, report) = audits::record_locked(&mut tx, &enrolment, Some(actor)).await?;
    let open_iqa_actions = enrolments::open_iqa_actions(&mut *tx, enrolment_id).await?;
    let action = Action::RequestCredential {
        outcome: report.outcome,
        open_iqa_actions,
    };
    enrolments::apply_locked(&mut tx, &enrolment, &action, Some(actor), None).await?;

    let version = qualifications::load_version(&mut *tx, enrolment.version_id).await?;
    let q = &version.qualification;
    let ordinals = ticks::confirmed_ordinals(&mut *tx, enrolment_id).await?;
    let confirmed = ConfirmedCriteria::from_ordinals(q.criterion_count(), ordinals)
        .map_err(|e| DbError::Corrupt(e.to_string()))?;
    let units: Vec<CredentialUnit> = achieved_units(q, &confirmed)
        .into_iter()
        .map(|ix| {
            let u = &q.units[ix];
            CredentialUnit {
                code: u.code.clone(),
                title: u.title.clone(),
                level: u.level,
                credits: u.credits,
            }
        })
        .collect();
    let major = version
        .major_index(enrolment.major_id)
        .map(|m| &q.majors[m])
        .ok_or_else(|| DbError::Corrupt("the assigned major is not in its version".into()))?;
    let learner = users::get(&mut *tx, enrolment.learner_id).await?;
    let centre_name: String = sqlx::query_scalar!(
        "SELECT name FROM centres WHERE id = $1",
        enrolment.centre_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let id: Uuid = sqlx::query_scalar!(
        "INSERT INTO credentials (number, enrolment_id, centre_id, learner_name, qualification_code, \
             qualification_title, qualification_level, major_code, major_title, units, centre_name, requested_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        number,
        enrolment_id,
        enrolment.centre_id,
        &learner.display_name,
        &q.code,
        &q.title,
        i16::from(q.level),
        &major.code,
        &major.title,
        Json(&units) as _,
        &centre_name,
        actor
    )
    .fetch_one(&mut *tx)
    .await?;
    queue_generation(&mut tx, id).await?;
    let credential = get(&mut *tx, id).await?;
    activity::record(
        &mut *tx,
        enrolment.centre_id,
        Some(enrolment_id),
        Some(actor),
        "credential requested",
        serde_json::json!({ "credential": credential.id, "number": credential.number }),
    )
    .await?;
    tx.commit().await?;
    Ok(credential)
}

/// Retry a failed generation: back to Generating Credential with a new job.
pub async fn retry<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    enrolment_id: Uuid,
    actor: Uuid,
) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let enrolment = enrolments::lock(&mut tx, enrolment_id).await?;
    enrolments::apply_locked(&mut tx, &enrolment, &Action::Retry, Some(actor), None).await?;
    let credential = live_locked(&mut tx, enrolment_id).await?;
    sqlx::query!(
        "UPDATE credentials SET generation_error = NULL WHERE id = $1",
        credential.id
    )
    .execute(&mut *tx)
    .await?;
    queue_generation(&mut tx, credential.id).await?;
    activity::record(
        &mut *tx,
        enrolment.centre_id,
        Some(enrolment_id),
        Some(actor),
        "credential retried",
        serde_json::json!({ "credential": credential.id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Issue the generated credential to the learner.
pub async fn issue<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    enrolment_id: Uuid,
    actor: Uuid,
) -> DbResult<Credential> {
    let mut tx = db.begin().await?;
    let enrolment = enrolments::lock(&mut tx, enrolment_id).await?;
    enrolments::apply_locked(&mut tx, &enrolment, &Action::Issue, Some(actor), None).await?;
    let credential = live_locked(&mut tx, enrolment_id).await?;
    sqlx::query!(
        "UPDATE credentials SET issued_at = clock_timestamp(), issued_by = $2 WHERE id = $1",
        credential.id,
        actor
    )
    .execute(&mut *tx)
    .await?;
    let credential = get(&mut *tx, credential.id).await?;
    activity::record(
        &mut *tx,
        enrolment.centre_id,
        Some(enrolment_id),
        Some(actor),
        "credential issued",
        serde_json::json!({ "credential": credential.id, "number": credential.number }),
    )
    .await?;
    tx.commit().await?;
    Ok(credential)
}

/// Cancel the live credential with a reason: the enrolment is Withdrawn, and the
/// register keeps the credential, marked cancelled.
pub async fn cancel<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    enrolment_id: Uuid,
    actor: Uuid,
    reason: &str,
) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let enrolment = enrolments::lock(&mut tx, enrolment_id).await?;
    let action = Action::CancelCredential {
        reason: reason.trim().to_string(),
    };
    enrolments::apply_locked(&mut tx, &enrolment, &action, Some(actor), None).await?;
    let credential = live_locked(&mut tx, enrolment_id).await?;
    sqlx::query!(
        "UPDATE credentials SET cancelled_at = clock_timestamp(), cancelled_by = $2, cancel_reason = $3 \
         WHERE id = $1",
        credential.id,
        actor,
        reason.trim()
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        enrolment.centre_id,
        Some(enrolment_id),
        Some(actor),
        "credential cancelled",
        serde_json::json!({ "credential": credential.id, "reason": reason.trim() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How a generation attempt ended, applied by the worker that holds the job.
pub enum Generated<'e> {
    /// Rendered, and the PDF kept (see `credentials::store`).
    Succeeded {
        pdf: KeptFile,
    },
    Failed {
        error: &'e str,
    },
}

/// Apply a generation's result: the credential, the enrolment's move and the job's end
/// in one transaction. `Ok(false)` when the worker had lost the job (nothing applied).
pub async fn finish_generation<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    job: Uuid,
    worker: &str,
    credential_id: Uuid,
    result: Generated<'_>,
) -> DbResult<bool> {
    let mut tx = db.begin().await?;
    let credential = get(&mut *tx, credential_id).await?;
    let enrolment = enrolments::lock(&mut tx, credential.enrolment_id).await?;
    let (action, error, pdf) = match result {
        Generated::Succeeded { pdf } => (Action::GenerationSucceeded, None, Some(pdf)),
        Generated::Failed { error } => (Action::GenerationFailed, Some(error), None),
    };
    if !jobs::finish(&mut tx, job, worker, error.is_none(), error).await? {
        return Ok(false);
    }
    match enrolments::apply_locked(&mut tx, &enrolment, &action, None, error).await {
        Ok(Decision::Move { .. } | Decision::Stay) => {}
        // The enrolment moved on meanwhile: the job ends, and changes nothing else.
        Err(DbError::Refused(_)) => {
            tx.commit().await?;
            return Ok(true);
        }
        Err(e) => return Err(e),
    }
    sqlx::query!(
        "UPDATE credentials \
            SET generated_at = CASE WHEN $2::text IS NULL THEN clock_timestamp() END, \
                generation_error = $2, draft_pdf_sha256 = $3, draft_pdf_size = $4 WHERE id = $1",
        credential_id,
        error,
        pdf.as_ref().map(|p| p.sha256.as_str()),
        pdf.as_ref().map(size_of).transpose()?
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records the PDF generated for a credential that has none kept yet (one generated
/// before documents were kept). The first to record wins: the credential as it now
/// stands says which file is kept.
pub(crate) async fn keep_draft_pdf(
    db: impl PgExecutor<'_>,
    credential_id: Uuid,
    pdf: &KeptFile,
) -> DbResult<()> {
    sqlx::query!(
        "UPDATE credentials SET draft_pdf_sha256 = $2, draft_pdf_size = $3 \
         WHERE id = $1 AND draft_pdf_sha256 IS NULL AND generated_at IS NOT NULL",
        credential_id,
        &pdf.sha256,
        size_of(pdf)?
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records the issued PDF and signed credential of an issued credential that has none
/// kept yet. Made once: when two processes make them at once, the first to record
/// wins (the row lock orders them) and the other's are never served.
pub(crate) async fn keep_issued_documents(
    db: impl PgExecutor<'_>,
    credential_id: Uuid,
    pdf: &KeptFile,
    vc: &KeptFile,
) -> DbResult<()> {
    sqlx::query!(
        "UPDATE credentials SET pdf_sha256 = $2, pdf_size = $3, vc_sha256 = $4, vc_size = $5 \
         WHERE id = $1 AND pdf_sha256 IS NULL AND issued_at IS NOT NULL",
        credential_id,
        &pdf.sha256,
        size_of(pdf)?,
        &vc.sha256,
        size_of(vc)?
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The revoked bits of a centre's status list `list` (`bits` indexes each), or None
/// when the centre has given out no index in that list.
pub(crate) async fn revoked_in_status_list(
    db: &sqlx::PgPool,
    centre_id: Uuid,
    list: u64,
    bits: u64,
) -> DbResult<Option<Vec<u64>>> {
    let first =
        i64::try_from(list.saturating_mul(bits)).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let end =
        first.saturating_add(i64::try_from(bits).map_err(|e| DbError::Corrupt(e.to_string()))?);
    let given: Option<i32> = sqlx::query_scalar!(
        "SELECT next_status_list_index FROM centres WHERE id = $1",
        centre_id
    )
    .fetch_optional(db)
    .await?;
    match given {
        Some(given) if i64::from(given) > first => {}
        _ => return Ok(None),
    }
    // A credential cancelled before it was issued never reached anyone; its bit is
    // set all the same, as every cancelled credential's is.
    let revoked: Vec<i32> = sqlx::query_scalar!(
        "SELECT status_list_index FROM credentials WHERE centre_id = $1 AND cancelled_at IS NOT NULL \
         AND status_list_index >= $2::bigint AND status_list_index < $3::bigint \
         ORDER BY status_list_index",
        centre_id,
        first,
        end
    )
    .fetch_all(db)
    .await?;
    revoked
        .into_iter()
        .map(|i| u64::try_from(i64::from(i) - first).map_err(|e| DbError::Corrupt(e.to_string())))
        .collect::<DbResult<Vec<u64>>>()
        .map(Some)
}
