//! Witness testimony (issue 13, point 3): each use case one transaction with its
//! activity entry and, where one is sent, its email. Links are one-time: only a
//! SHA-256 of the token is kept, and a new link replaces the old.
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::evidence::{self as db_evidence, EvidenceKind};
use super::outbox::{self, WitnessLetterTo};
use super::signatures::{self, SignedItem};
use super::users::User;
use super::{activity, DbError, DbResult};
use crate::domain::signature::{self, Capacity, Signable, SignedKind, Signer, Signing};
use crate::domain::witness::{self, LinkState, ValidRequest, ValidTestimony, Witness};

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// 244 random bits from two v4 UUIDs, as set-password links.
fn new_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// `{public_url}/witness/{token}`, or for an employer's person the request's page.
pub(crate) fn link(public_url: &str, request: Uuid, token: Option<&str>) -> String {
    let base = public_url.trim_end_matches('/');
    match token {
        Some(t) => format!("{base}/witness/{t}"),
        None => format!("{base}/witness-requests/{request}"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub enrolment_id: Uuid,
    pub asked_by: Uuid,
    pub asked_by_name: String,
    pub asked_at: OffsetDateTime,
    pub witness_name: String,
    pub witness_email: String,
    pub witness_user_id: Option<Uuid>,
    pub criteria: Vec<Uuid>,
    pub occasion: String,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub used_at: Option<OffsetDateTime>,
    pub item_id: Option<Uuid>,
    pub learner_name: String,
}

impl Request {
    pub fn state(&self, now: OffsetDateTime) -> LinkState {
        witness::link_state(
            now,
            self.expires_at,
            self.used_at.is_some(),
            self.revoked_at.is_some(),
        )
    }
}

/// The requests of `ids`, newest first: the one query that reads a request whole.
async fn get_many(db: impl PgExecutor<'_>, ids: &[Uuid]) -> DbResult<Vec<Request>> {
    Ok(sqlx::query_as!(
        Request,
        "SELECT r.id, r.centre_id, r.enrolment_id, r.asked_by, a.display_name AS asked_by_name, \
                r.asked_at, r.witness_name, r.witness_email, r.witness_user_id, r.criteria, \
                r.occasion, r.expires_at, r.revoked_at, r.used_at, r.item_id, \
                l.display_name AS learner_name \
           FROM witness_requests r \
           JOIN users a ON a.id = r.asked_by \
           JOIN enrolments e ON e.id = r.enrolment_id \
           JOIN users l ON l.id = e.learner_id \
          WHERE r.id = ANY($1) ORDER BY r.asked_at DESC, r.id",
        ids
    )
    .fetch_all(db)
    .await?)
}

pub(crate) async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Request> {
    get_many(db, &[id]).await?.pop().ok_or(DbError::NotFound)
}

/// The request a link's token opens; `NotFound` for a token never made (or replaced).
pub(crate) async fn by_token(pool: &PgPool, token: &str) -> DbResult<Request> {
    let id = sqlx::query_scalar!(
        "SELECT id FROM witness_requests WHERE token_hash = $1",
        digest(token)
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DbError::NotFound)?;
    get(pool, id).await
}

/// An enrolment's requests, newest first (a learner asks a handful).
pub(crate) async fn of_enrolment(pool: &PgPool, enrolment: Uuid) -> DbResult<Vec<Request>> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM witness_requests WHERE enrolment_id = $1 ORDER BY asked_at DESC LIMIT 200",
        enrolment
    )
    .fetch_all(pool)
    .await?;
    get_many(pool, &ids).await
}

/// What awaits an employer's person: requests to them not yet answered, withdrawn or
/// expired.
pub(crate) async fn awaiting(pool: &PgPool, person: Uuid) -> DbResult<Vec<Request>> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM witness_requests WHERE witness_user_id = $1 AND used_at IS NULL \
            AND revoked_at IS NULL AND expires_at > now() ORDER BY asked_at LIMIT 100",
        person
    )
    .fetch_all(pool)
    .await?;
    get_many(pool, &ids).await
}

/// The person asking for a testimony, and their enrolment.
pub(crate) struct Asker<'a> {
    pub user: &'a User,
    pub centre_id: Uuid,
    pub enrolment_id: Uuid,
}

/// Asks a witness: the request, its email and its activity entry, together. For an
/// employer's person `witness_person` gives their name and address.
pub(crate) async fn ask(
    pool: &PgPool,
    asker: &Asker<'_>,
    request: &ValidRequest,
    witness_person: Option<&User>,
    item: Option<Uuid>,
    public_url: &str,
) -> DbResult<Uuid> {
    let (name, email, user_id) = match (&request.witness, witness_person) {
        (Witness::ByEmail { name, email }, _) => (name.clone(), email.clone(), None),
        (Witness::EmployerPerson(id), Some(p)) if p.id == *id => {
            (p.display_name.clone(), p.email.clone(), Some(p.id))
        }
        (Witness::EmployerPerson(_), _) => return Err(DbError::NotFound),
    };
    let token = user_id.is_none().then(new_token);
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO witness_requests (id, centre_id, enrolment_id, asked_by, witness_name, \
                witness_email, witness_user_id, criteria, occasion, token_hash, expires_at, item_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(days => $11), $12)",
        id,
        asker.centre_id,
        asker.enrolment_id,
        asker.user.id,
        name,
        email,
        user_id,
        &request.criteria,
        request.occasion,
        token.as_deref().map(digest),
        witness::VALID_DAYS as i32,
        item
    )
    .execute(&mut *tx)
    .await?;
    let link = link(public_url, id, token.as_deref());
    let message = queue_letter(&mut tx, asker, id, user_id, &name, &email, &link).await?;
    activity::record(
        &mut *tx,
        asker.centre_id,
        Some(asker.enrolment_id),
        Some(asker.user.id),
        "witness testimony asked",
        serde_json::json!({
            "request": id, "witness": name, "email": email, "criteria": request.criteria.len(),
            "item": item, "message": message,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn queue_letter(
    conn: &mut PgConnection,
    asker: &Asker<'_>,
    request: Uuid,
    user_id: Option<Uuid>,
    name: &str,
    email: &str,
    link: &str,
) -> DbResult<Uuid> {
    outbox::queue_witness_request(
        conn,
        &WitnessLetterTo {
            centre_id: asker.centre_id,
            enrolment_id: asker.enrolment_id,
            request_id: request,
            user_id,
            name,
            address: email,
            requested_by: asker.user.id,
            link,
        },
    )
    .await
}

async fn lock(conn: &mut PgConnection, id: Uuid) -> DbResult<Request> {
    sqlx::query_scalar!(
        "SELECT id FROM witness_requests WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DbError::NotFound)?;
    get(&mut *conn, id).await
}

/// Why a request cannot be revoked or sent again: it was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    #[error("The witness has signed this testimony already, so the request is closed")]
    Answered,
    #[error("This request was withdrawn already")]
    Withdrawn,
}

/// Withdraws a request: its link stops working at once.
pub(crate) async fn revoke(
    pool: &PgPool,
    actor: &User,
    request: Uuid,
) -> DbResult<Result<(), RequestRefusal>> {
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, request).await?;
    if r.used_at.is_some() {
        return Ok(Err(RequestRefusal::Answered));
    }
    if r.revoked_at.is_some() {
        return Ok(Err(RequestRefusal::Withdrawn));
    }
    sqlx::query!(
        "UPDATE witness_requests SET revoked_at = now() WHERE id = $1",
        request
    )
    .execute(&mut *tx)
    .await?;
    outbox::replace_witness_links(&mut tx, request).await?;
    activity::record(
        &mut *tx,
        r.centre_id,
        Some(r.enrolment_id),
        Some(actor.id),
        "witness request withdrawn",
        serde_json::json!({ "request": request, "witness": r.witness_name }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Sends a request again with a new link valid for 14 more days; the old link stops
/// working. A withdrawn request is opened again by this.
pub(crate) async fn resend(
    pool: &PgPool,
    actor: &User,
    request: Uuid,
    public_url: &str,
) -> DbResult<Result<(), RequestRefusal>> {
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, request).await?;
    if r.used_at.is_some() {
        return Ok(Err(RequestRefusal::Answered));
    }
    let token = r.witness_user_id.is_none().then(new_token);
    sqlx::query!(
        "UPDATE witness_requests SET token_hash = $2, revoked_at = NULL, \
                expires_at = now() + make_interval(days => $3) WHERE id = $1",
        request,
        token.as_deref().map(digest),
        witness::VALID_DAYS as i32
    )
    .execute(&mut *tx)
    .await?;
    outbox::replace_witness_links(&mut tx, request).await?;
    let link = link(public_url, request, token.as_deref());
    let asker = Asker {
        user: actor,
        centre_id: r.centre_id,
        enrolment_id: r.enrolment_id,
    };
    let message = queue_letter(
        &mut tx,
        &asker,
        request,
        r.witness_user_id,
        &r.witness_name,
        &r.witness_email,
        &link,
    )
    .await?;
    activity::record(
        &mut *tx,
        r.centre_id,
        Some(r.enrolment_id),
        Some(actor.id),
        "witness request sent again",
        serde_json::json!({ "request": request, "witness": r.witness_name, "message": message }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// How the witness signs: from the page, and who they are.
pub(crate) struct WitnessSigning<'a> {
    /// An employer's person signed in, or None for the holder of a link.
    pub account: Option<&'a User>,
    pub at: OffsetDateTime,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A file the witness attached, already in the file store under `storage_key`.
pub(crate) struct WitnessFile<'a> {
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub storage_key: &'a str,
    pub sha256: &'a str,
}

/// What came of signing.
#[derive(Debug)]
pub(crate) enum Testified {
    /// Signed: the testimony is an evidence item of the learner's.
    Signed,
    /// The link no longer works (said plainly to the witness).
    Closed(LinkState),
    /// The typed name was not the witness's, or similar: against the field.
    Refused(signature::SignError),
}

/// The witness writes and signs: on the first answer a new evidence item of kind
/// witness testimony with its signed first version; on a request to sign a corrected
/// testimony, its current version (or, if they changed the text, a new version). The
/// request is used, and all of it with its activity entry commits together.
pub(crate) async fn testify(
    pool: &PgPool,
    request: Uuid,
    testimony: &ValidTestimony,
    criteria: &[witness::ShownCriterion],
    files: &[WitnessFile<'_>],
    who: WitnessSigning<'_>,
) -> DbResult<Testified> {
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, request).await?;
    let state = r.state(who.at);
    if state != LinkState::Open {
        return Ok(Testified::Closed(state));
    }
    let attached: Vec<witness::AttachedFile> = files
        .iter()
        .map(|f| witness::AttachedFile {
            name: f.file_name.to_string(),
            sha256: f.sha256.to_string(),
            size: f.size,
        })
        .collect();
    let mut content = witness::testimony_content(
        &r.witness_name,
        &r.witness_email,
        testimony,
        &r.occasion,
        criteria,
        &attached,
    );
    let (item, version, evidence) = match r.item_id {
        None => {
            let evidence = db_evidence::add(
                &mut *tx,
                &db_evidence::NewEvidence {
                    enrolment_id: r.enrolment_id,
                    title: &format!("Witness testimony: {}", r.witness_name),
                    description: &testimony.account,
                    kind: EvidenceKind::WitnessTestimony,
                    added_by: r.asked_by,
                },
            )
            .await?;
            let item = SignedItem {
                id: Uuid::now_v7(),
                centre_id: r.centre_id,
                enrolment_id: r.enrolment_id,
                evidence_id: Some(evidence.id),
                kind: SignedKind::WitnessTestimony,
                current_version: 1,
            };
            signatures::create(&mut tx, &item, &content, who.account.map(|u| u.id)).await?;
            (item, 1, evidence.id)
        }
        Some(item_id) => {
            let item = signatures::lock(&mut tx, item_id).await?;
            let evidence = item
                .evidence_id
                .ok_or_else(|| DbError::Corrupt("a testimony without its evidence".into()))?;
            let current = signatures::versions(&mut *tx, item_id)
                .await?
                .pop()
                .ok_or_else(|| DbError::Corrupt("a testimony without a version".into()))?;
            // The files of the first answer stay with the item: a later version keeps them.
            if files.is_empty() {
                content["files"] = current.content["files"].clone();
            }
            let version = if current.content == content {
                current.version
            } else {
                signatures::add_version(&mut tx, item_id, &content, who.account.map(|u| u.id))
                    .await?
            };
            sqlx::query!(
                "UPDATE evidence SET description = $2 WHERE id = $1",
                item.evidence_id,
                testimony.account
            )
            .execute(&mut *tx)
            .await?;
            (item, version, evidence)
        }
    };
    for f in files {
        db_evidence::add_file(
            &mut *tx,
            &db_evidence::NewFile {
                evidence_id: evidence,
                file_name: f.file_name,
                content_type: f.content_type,
                size_bytes: f.size as i64,
                storage_key: f.storage_key,
                sha256: Some(f.sha256),
                uploaded_by: r.asked_by,
            },
        )
        .await?;
    }
    let signable = Signable {
        kind: SignedKind::WitnessTestimony,
        item: item.id,
        version: version as u32,
        content,
    };
    let existing: Vec<signature::Signature> = signatures::signatures(&mut *tx, item.id)
        .await?
        .into_iter()
        .map(|s| s.signature)
        .collect();
    let signer = match who.account {
        Some(u) => Signer::Account(u.id),
        None => Signer::EmailLink {
            email: r.witness_email.clone(),
        },
    };
    let signed = signature::sign(
        &signable,
        &existing,
        Signing {
            signer,
            capacity: Capacity::Witness,
            known_as: &r.witness_name,
            typed_name: &testimony.signed_name,
            at: who.at,
            address: who.address,
            user_agent: who.user_agent,
        },
    );
    let signed = match signed {
        Ok(s) => s,
        Err(e) => return Ok(Testified::Refused(e)),
    };
    let signature = signatures::store(&mut tx, item.id, version, &signed).await?;
    sqlx::query!(
        "UPDATE witness_requests SET used_at = now(), item_id = $2 WHERE id = $1",
        request,
        item.id
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        r.centre_id,
        Some(r.enrolment_id),
        who.account.map(|u| u.id),
        "witness testimony signed",
        serde_json::json!({
            "request": request, "evidence": evidence, "item": item.id, "version": version,
            "signature": signature, "witness": r.witness_name, "email": r.witness_email,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Testified::Signed)
}

/// Why a correction was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionRefusal {
    #[error("The testimony changed while you were correcting it: look at the new version and correct that")]
    Stale,
}

/// An assessor corrects a testimony's account: always a new version (a version is never
/// changed), which stands unsigned until the witness signs it.
pub(crate) async fn correct(
    pool: &PgPool,
    actor: &User,
    item: Uuid,
    from_version: i32,
    account: &str,
) -> DbResult<Result<i32, CorrectionRefusal>> {
    let mut tx = pool.begin().await?;
    let locked = signatures::lock(&mut tx, item).await?;
    if locked.current_version != from_version {
        return Ok(Err(CorrectionRefusal::Stale));
    }
    let current = signatures::versions(&mut *tx, item)
        .await?
        .pop()
        .ok_or_else(|| DbError::Corrupt("a testimony without a version".into()))?;
    let content = witness::corrected(&current.content, account);
    let version = signatures::add_version(&mut tx, item, &content, Some(actor.id)).await?;
    sqlx::query!(
        "UPDATE evidence SET description = $2 WHERE id = $1",
        locked.evidence_id,
        account
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        locked.centre_id,
        Some(locked.enrolment_id),
        Some(actor.id),
        "witness testimony corrected",
        serde_json::json!({ "item": item, "evidence": locked.evidence_id, "version": version }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(version))
}

/// The first request that made a testimony: whom to ask to sign a correction.
pub(crate) async fn original_request(pool: &PgPool, item: Uuid) -> DbResult<Request> {
    let id = sqlx::query_scalar!(
        "SELECT id FROM witness_requests WHERE item_id = $1 ORDER BY asked_at, id LIMIT 1",
        item
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DbError::NotFound)?;
    get(pool, id).await
}

/// What a witness request's letter needs beyond the outbox's row.
pub(crate) async fn letter_names(
    db: impl PgExecutor<'_>,
    request: Uuid,
) -> DbResult<(String, String)> {
    let r = get(db, request).await?;
    Ok((r.learner_name, r.asked_by_name))
}
