//! One-time links for an employer without an account to sign a progress review (issue
//! 14, point 4), as witness links are (issue 13): only a SHA-256 of the token is kept, a
//! new link withdraws the earlier ones, and the link is used up by the signature.
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::outbox::{self, ReviewLetterTo};
use super::{activity, DbError, DbResult};

/// How long a link works.
pub const VALID_DAYS: i64 = 14;

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReviewLink {
    pub id: Uuid,
    pub review_id: Uuid,
    pub enrolment_id: Uuid,
    pub signer_name: String,
    pub signer_email: String,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub learner_name: String,
    pub asked_by_name: String,
}

impl ReviewLink {
    /// Still opens: not used, withdrawn or expired.
    pub fn open(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

async fn by(
    db: impl PgExecutor<'_>,
    id: Option<Uuid>,
    token: Option<Vec<u8>>,
) -> DbResult<ReviewLink> {
    sqlx::query_as!(
        ReviewLink,
        "SELECT k.id, k.review_id, k.enrolment_id, k.signer_name, k.signer_email, k.expires_at, \
                k.used_at, k.revoked_at, l.display_name AS learner_name, a.display_name AS asked_by_name \
           FROM review_sign_links k \
           JOIN enrolments e ON e.id = k.enrolment_id \
           JOIN users l ON l.id = e.learner_id \
           JOIN users a ON a.id = k.asked_by \
          WHERE k.id = $1 OR k.token_hash = $2",
        id,
        token
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)
}

/// The link a token opens; `NotFound` for a token never made.
pub(crate) async fn by_token(pool: &PgPool, token: &str) -> DbResult<ReviewLink> {
    by(pool, None, Some(digest(token))).await
}

pub(crate) async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<ReviewLink> {
    by(db, Some(id), None).await
}

/// The open link of a review, if one is waiting.
pub(crate) async fn waiting(
    db: impl PgExecutor<'_>,
    review: Uuid,
) -> DbResult<Option<(String, String)>> {
    Ok(sqlx::query!(
        "SELECT signer_name, signer_email FROM review_sign_links WHERE review_id = $1 \
            AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now() \
          ORDER BY asked_at DESC LIMIT 1",
        review
    )
    .fetch_optional(db)
    .await?
    .map(|r| (r.signer_name, r.signer_email)))
}

/// The learner's employer's contact (name, email), if it has one with an address: who
/// the signing link goes to unless the assessor says otherwise.
pub(crate) async fn employer_contact(
    db: impl PgExecutor<'_>,
    enrolment: Uuid,
) -> DbResult<Option<(String, String)>> {
    Ok(sqlx::query!(
        "SELECT w.contact_name, w.contact_email FROM enrolments e \
           JOIN employers w ON w.id = e.employer_id \
          WHERE e.id = $1 AND w.contact_email <> ''",
        enrolment
    )
    .fetch_optional(db)
    .await?
    .map(|r| (r.contact_name, r.contact_email)))
}

/// Emails the employer a new link to sign `review`, withdrawing earlier ones; the link,
/// its email and the activity entry together.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn ask(
    pool: &PgPool,
    centre: Uuid,
    enrolment: Uuid,
    review: Uuid,
    asker: Uuid,
    name: &str,
    email: &str,
    public_url: &str,
) -> DbResult<Uuid> {
    let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    let earlier = sqlx::query_scalar!(
        "UPDATE review_sign_links SET revoked_at = now() WHERE review_id = $1 \
            AND used_at IS NULL AND revoked_at IS NULL RETURNING id",
        review
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE mail_outbox SET link = NULL WHERE review_link_id = ANY($1) AND link IS NOT NULL",
        &earlier
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO review_sign_links (id, review_id, centre_id, enrolment_id, asked_by, \
                signer_name, signer_email, token_hash, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(days => $9))",
        id,
        review,
        centre,
        enrolment,
        asker,
        name,
        email,
        digest(&token),
        VALID_DAYS as i32
    )
    .execute(&mut *tx)
    .await?;
    let link = format!("{}/review-sign/{token}", public_url.trim_end_matches('/'));
    let message = outbox::queue_review_signature(
        &mut tx,
        &ReviewLetterTo {
            centre_id: centre,
            enrolment_id: enrolment,
            link_id: id,
            name,
            address: email,
            requested_by: asker,
            link: &link,
        },
    )
    .await?;
    activity::record(
        &mut *tx,
        centre,
        Some(enrolment),
        Some(asker),
        "progress review signature asked",
        serde_json::json!({ "review": review, "to": name, "email": email, "message": message }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
