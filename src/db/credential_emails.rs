//! Every sending of a credential by email, whether the server took it or not (SPEC §6),
//! and the use case that queues one.
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::credentials::Credential;
use super::outbox::{self, MessageKind, NewMessage};
use super::users::User;
use super::{activity, DbResult};

/// Queues the email of `credential` to its learner at `to`, with its activity entry,
/// in one transaction; the worker sends it (with the PDF, rendered again from the
/// register) and records how each attempt went. Returns the message's id.
pub async fn queue(
    pool: &PgPool,
    admin: &User,
    credential: &Credential,
    learner_id: Uuid,
    to: &str,
    verify_url: &str,
) -> DbResult<Uuid> {
    let mut tx = pool.begin().await?;
    let message = outbox::queue(
        &mut tx,
        &NewMessage {
            centre_id: credential.centre_id,
            kind: MessageKind::Credential,
            user_id: learner_id,
            to_address: to,
            credential: Some((credential.id, credential.enrolment_id)),
            requested_by: Some(admin.id),
            link: verify_url,
        },
    )
    .await?;
    activity::record(
        &mut *tx,
        credential.centre_id,
        Some(credential.enrolment_id),
        Some(admin.id),
        "credential email queued",
        serde_json::json!({ "credential": credential.id, "to": to, "message": message }),
    )
    .await?;
    tx.commit().await?;
    Ok(message)
}

#[derive(Debug, Clone, PartialEq)]
pub struct CredentialEmail {
    pub id: Uuid,
    pub credential_id: Uuid,
    pub to_address: String,
    /// None when the system sent it on its own.
    pub requested_by: Option<Uuid>,
    pub requested_at: OffsetDateTime,
    /// Set when the mail server accepted the message.
    pub sent_at: Option<OffsetDateTime>,
    /// Why it was not sent.
    pub error: Option<String>,
}

impl CredentialEmail {
    pub fn was_sent(&self) -> bool {
        self.sent_at.is_some()
    }
}

/// Records one attempt: `outcome` is `Ok(())` when the server accepted the message,
/// otherwise the reason it did not, in words a person can act on.
pub async fn record(
    db: impl PgExecutor<'_>,
    credential_id: Uuid,
    to: &str,
    sent_by: Option<Uuid>,
    outcome: Result<(), &str>,
) -> DbResult<CredentialEmail> {
    let error = outcome.err();
    Ok(sqlx::query_as!(
        CredentialEmail,
        // Wall-clock times, so attempts made in one transaction still list in order.
        "INSERT INTO credential_emails (credential_id, to_address, requested_by, requested_at, sent_at, error) \
         VALUES ($1, $2, $3, clock_timestamp(), CASE WHEN $4::text IS NULL THEN clock_timestamp() END, $4) \
         RETURNING id, credential_id, to_address, requested_by, requested_at, sent_at, error",
        credential_id,
        to,
        sent_by,
        error
    )
    .fetch_one(db)
    .await?)
}

/// A credential's sendings, oldest first.
pub async fn list_for_credential(
    db: impl PgExecutor<'_>,
    credential_id: Uuid,
) -> DbResult<Vec<CredentialEmail>> {
    Ok(sqlx::query_as!(
        CredentialEmail,
        "SELECT id, credential_id, to_address, requested_by, requested_at, sent_at, error \
         FROM credential_emails WHERE credential_id = $1 ORDER BY requested_at, id",
        credential_id
    )
    .fetch_all(db)
    .await?)
}
