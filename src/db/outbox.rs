//! Email waiting to leave, and every attempt at sending it (issue 11, point 5). A use
//! case that sends mail queues a message here, with its job, in its own transaction;
//! the worker (`jobs::mail`) sends it and records each attempt. Admins read where each
//! message has got to (`Delivery`).
use std::collections::HashMap;

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{jobs, DbResult};
use crate::domain::mail::{Delivery, DeliveryFacts, REPLACED};

/// The job kind that sends one message; its payload is `{"message": <id>}`.
pub(crate) const MAIL_JOB: &str = "send mail";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    PasswordLink,
    /// A link to choose a new password, asked for on "Forgot your password?".
    PasswordReset,
    Credential,
    /// A request for a witness testimony, with its one-time link (or, to an employer's
    /// person, the address of the request to sign in to).
    WitnessRequest,
    /// A request to sign a progress review, with its one-time link (issue 14).
    ReviewSignature,
}

impl MessageKind {
    fn key(self) -> &'static str {
        match self {
            MessageKind::PasswordLink => "password_link",
            MessageKind::PasswordReset => "password_reset",
            MessageKind::Credential => "credential",
            MessageKind::WitnessRequest => "witness_request",
            MessageKind::ReviewSignature => "review_signature",
        }
    }
}

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub centre_id: Uuid,
    pub kind: MessageKind,
    pub user_id: Uuid,
    pub to_address: &'a str,
    /// With its enrolment, for a credential.
    pub credential: Option<(Uuid, Uuid)>,
    pub requested_by: Option<Uuid>,
    /// Built on `--public-url`.
    pub link: &'a str,
}

/// Queues `message` and its job on `conn` (the caller's transaction); returns its id.
pub async fn queue(conn: &mut PgConnection, message: &NewMessage<'_>) -> DbResult<Uuid> {
    let id = Uuid::new_v4();
    let key = format!("mail:{id}");
    jobs::enqueue(
        &mut *conn,
        MAIL_JOB,
        serde_json::json!({ "message": id }),
        &key,
    )
    .await?;
    sqlx::query!(
        "INSERT INTO mail_outbox (id, job_id, centre_id, kind, user_id, to_address, \
                credential_id, enrolment_id, requested_by, link) \
         SELECT $1, j.id, $3, $4, $5, $6, $7, $8, $9, $10 FROM jobs j WHERE j.idempotency_key = $2",
        id,
        &key,
        message.centre_id,
        message.kind.key(),
        message.user_id,
        message.to_address,
        message.credential.map(|(c, _)| c),
        message.credential.map(|(_, e)| e),
        message.requested_by,
        message.link
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Who a witness request's email goes to.
pub(crate) struct WitnessLetterTo<'a> {
    pub centre_id: Uuid,
    pub enrolment_id: Uuid,
    pub request_id: Uuid,
    /// The employer's person asked, if the witness has an account.
    pub user_id: Option<Uuid>,
    pub name: &'a str,
    pub address: &'a str,
    pub requested_by: Uuid,
    pub link: &'a str,
}

/// Queues a witness request's email and its job, in the request's transaction.
pub(crate) async fn queue_witness_request(
    conn: &mut PgConnection,
    to: &WitnessLetterTo<'_>,
) -> DbResult<Uuid> {
    let id = Uuid::new_v4();
    let key = format!("mail:{id}");
    jobs::enqueue(
        &mut *conn,
        MAIL_JOB,
        serde_json::json!({ "message": id }),
        &key,
    )
    .await?;
    sqlx::query!(
        "INSERT INTO mail_outbox (id, job_id, centre_id, kind, user_id, to_name, to_address, \
                enrolment_id, requested_by, link, witness_request_id) \
         SELECT $1, j.id, $3, 'witness_request', $4, $5, $6, $7, $8, $9, $10 \
           FROM jobs j WHERE j.idempotency_key = $2",
        id,
        &key,
        to.centre_id,
        to.user_id,
        to.name,
        to.address,
        to.enrolment_id,
        to.requested_by,
        to.link,
        to.request_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Who a review signature request's email goes to.
pub(crate) struct ReviewLetterTo<'a> {
    pub centre_id: Uuid,
    pub enrolment_id: Uuid,
    pub link_id: Uuid,
    pub name: &'a str,
    pub address: &'a str,
    pub requested_by: Uuid,
    pub link: &'a str,
}

/// Queues a review signature request's email and its job, in the request's transaction.
pub(crate) async fn queue_review_signature(
    conn: &mut PgConnection,
    to: &ReviewLetterTo<'_>,
) -> DbResult<Uuid> {
    let id = Uuid::new_v4();
    let key = format!("mail:{id}");
    jobs::enqueue(
        &mut *conn,
        MAIL_JOB,
        serde_json::json!({ "message": id }),
        &key,
    )
    .await?;
    sqlx::query!(
        "INSERT INTO mail_outbox (id, job_id, centre_id, kind, to_name, to_address, \
                enrolment_id, requested_by, link, review_link_id) \
         SELECT $1, j.id, $3, 'review_signature', $4, $5, $6, $7, $8, $9 \
           FROM jobs j WHERE j.idempotency_key = $2",
        id,
        &key,
        to.centre_id,
        to.name,
        to.address,
        to.enrolment_id,
        to.requested_by,
        to.link,
        to.link_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Forgets the links of a witness request's earlier emails not yet sent: a new link
/// replaces them (and a revoked request sends none).
pub(crate) async fn replace_witness_links(conn: &mut PgConnection, request: Uuid) -> DbResult<()> {
    sqlx::query!(
        "UPDATE mail_outbox SET link = NULL WHERE witness_request_id = $1 AND link IS NOT NULL",
        request
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues a set-password message, with its job, to each of `to` (person, address, link)
/// at once, as `queue` would one by one; returns the messages' ids, in order.
pub(crate) async fn queue_password_links(
    conn: &mut PgConnection,
    centre_id: Uuid,
    requested_by: Uuid,
    to: &[(Uuid, String, String)],
) -> DbResult<Vec<Uuid>> {
    let ids: Vec<Uuid> = to.iter().map(|_| Uuid::new_v4()).collect();
    let users: Vec<Uuid> = to.iter().map(|t| t.0).collect();
    let addresses: Vec<&str> = to.iter().map(|t| t.1.as_str()).collect();
    let links: Vec<&str> = to.iter().map(|t| t.2.as_str()).collect();
    // The payload and key are those `queue` gives one message.
    sqlx::query!(
        "INSERT INTO jobs (kind, payload, idempotency_key) \
         SELECT $1, jsonb_build_object('message', m), 'mail:' || m FROM UNNEST($2::uuid[]) AS m",
        MAIL_JOB,
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO mail_outbox (id, job_id, centre_id, kind, user_id, to_address, requested_by, link) \
         SELECT m.id, j.id, $1, 'password_link', m.user_id, m.address, $2, m.link \
           FROM UNNEST($3::uuid[], $4::uuid[], $5::text[], $6::text[]) AS m(id, user_id, address, link) \
           JOIN jobs j ON j.idempotency_key = 'mail:' || m.id",
        centre_id,
        requested_by,
        &ids,
        &users,
        &addresses as &[&str],
        &links as &[&str]
    )
    .execute(&mut *conn)
    .await?;
    Ok(ids)
}

/// What the worker needs to send a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Uuid,
    pub job_id: Uuid,
    pub centre_id: Uuid,
    pub centre_name: String,
    kind: String,
    /// None for a witness without an account.
    pub user_id: Option<Uuid>,
    pub to_name: String,
    pub to_address: String,
    pub credential_id: Option<Uuid>,
    pub enrolment_id: Option<Uuid>,
    pub requested_by: Option<Uuid>,
    pub link: Option<String>,
    pub witness_request_id: Option<Uuid>,
    pub review_link_id: Option<Uuid>,
}

impl Message {
    pub fn kind(&self) -> MessageKind {
        match self.kind.as_str() {
            "credential" => MessageKind::Credential,
            "password_reset" => MessageKind::PasswordReset,
            "witness_request" => MessageKind::WitnessRequest,
            "review_signature" => MessageKind::ReviewSignature,
            _ => MessageKind::PasswordLink,
        }
    }
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Message> {
    Ok(sqlx::query_as!(
        Message,
        "SELECT m.id, m.job_id, m.centre_id, c.name AS centre_name, m.kind, m.user_id, \
                COALESCE(u.display_name, m.to_name) AS \"to_name!\", m.to_address, m.credential_id, \
                m.enrolment_id, m.requested_by, m.link, m.witness_request_id, m.review_link_id \
         FROM mail_outbox m LEFT JOIN users u ON u.id = m.user_id JOIN centres c ON c.id = m.centre_id \
         WHERE m.id = $1",
        id
    )
    .fetch_one(db)
    .await?)
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempted<'a> {
    Sent,
    Retrying {
        error: &'a str,
        after: std::time::Duration,
    },
    Failed {
        error: &'a str,
    },
}

/// Records attempt number `attempt` of `message`, in the transaction that moves its job.
pub(crate) async fn record_attempt(
    conn: &mut PgConnection,
    message: Uuid,
    attempt: i32,
    outcome: &Attempted<'_>,
) -> DbResult<()> {
    let (key, error, after) = match outcome {
        Attempted::Sent => ("sent", None, None),
        Attempted::Retrying { error, after } => ("retrying", Some(*error), Some(after)),
        Attempted::Failed { error } => ("failed", Some(*error), None),
    };
    sqlx::query!(
        "INSERT INTO mail_attempts (message_id, attempt, outcome, error, retry_at) \
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
        message,
        attempt,
        key,
        error,
        after.map(std::time::Duration::as_secs_f64)
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets the link a message carried (a set-password link is a secret).
pub(crate) async fn erase_link(db: impl PgExecutor<'_>, message: Uuid) -> DbResult<()> {
    sqlx::query!("UPDATE mail_outbox SET link = NULL WHERE id = $1", message)
        .execute(db)
        .await?;
    Ok(())
}

/// Stops every set-password or reset message to `user` still waiting in the queue, and
/// forgets their links: a newer link replaces them. One being sent right now goes out,
/// with a link that no longer works.
pub(crate) async fn replace_password_links(conn: &mut PgConnection, user: Uuid) -> DbResult<()> {
    sqlx::query!(
        "UPDATE jobs SET state = 'failed', finished_at = now(), last_error = $2 \
         WHERE state = 'queued' AND id IN \
               (SELECT job_id FROM mail_outbox \
                 WHERE user_id = $1 AND kind IN ('password_link', 'password_reset'))",
        user,
        REPLACED
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE mail_outbox m SET link = NULL FROM jobs j \
         WHERE j.id = m.job_id AND m.user_id = $1 \
           AND m.kind IN ('password_link', 'password_reset') \
           AND j.state IN ('failed', 'succeeded') AND m.link IS NOT NULL",
        user
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

struct DeliveryRow {
    id: Uuid,
    user_id: Uuid,
    to_address: String,
    created_at: OffsetDateTime,
    job_state: String,
    job_run_at: OffsetDateTime,
    job_error: Option<String>,
    attempts: i64,
    last_at: Option<OffsetDateTime>,
    last_error: Option<String>,
}

impl DeliveryRow {
    fn delivery(&self) -> Delivery {
        Delivery::from_facts(&DeliveryFacts {
            job_state: &self.job_state,
            job_run_at: self.job_run_at,
            job_error: self.job_error.as_deref(),
            attempts: self.attempts,
            last_at: self.last_at,
            last_error: self.last_error.as_deref(),
        })
    }
}

/// One message as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sending {
    pub id: Uuid,
    pub to_address: String,
    pub queued_at: OffsetDateTime,
    pub delivery: Delivery,
}

impl From<DeliveryRow> for Sending {
    fn from(r: DeliveryRow) -> Self {
        Sending {
            delivery: r.delivery(),
            id: r.id,
            to_address: r.to_address,
            queued_at: r.created_at,
        }
    }
}

/// The latest set-password message of each of `people` (of `centre`) who has one: a
/// page of the people list asks for its own people only.
pub(crate) async fn latest_password_links(
    db: impl PgExecutor<'_>,
    centre: Uuid,
    people: &[Uuid],
) -> DbResult<HashMap<Uuid, Sending>> {
    let rows = sqlx::query_as!(
        DeliveryRow,
        "SELECT DISTINCT ON (d.\"user_id!\") * FROM (\
             SELECT m.id, m.user_id AS \"user_id!\", m.to_address, m.created_at, \
                    j.state AS job_state, j.run_at AS job_run_at, j.last_error AS job_error, \
                    (SELECT count(*) FROM mail_attempts a WHERE a.message_id = m.id) \
                      AS \"attempts!\", \
                    l.at AS \"last_at?\", l.error AS \"last_error?\" \
               FROM mail_outbox m JOIN jobs j ON j.id = m.job_id \
               LEFT JOIN LATERAL (SELECT at, error FROM mail_attempts a WHERE a.message_id = m.id \
                                  ORDER BY attempt DESC LIMIT 1) l ON true \
              WHERE m.user_id = ANY($2::uuid[]) AND m.centre_id = $1 \
                AND m.kind = 'password_link') d \
         ORDER BY d.\"user_id!\", d.created_at DESC, d.id",
        centre,
        people
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.into())).collect())
}

/// Every emailing of a credential, oldest first.
pub(crate) async fn for_credential(
    db: impl PgExecutor<'_>,
    credential: Uuid,
) -> DbResult<Vec<Sending>> {
    let rows = sqlx::query_as!(
        DeliveryRow,
        "SELECT m.id, m.user_id AS \"user_id!\", m.to_address, m.created_at, \
                j.state AS job_state, j.run_at AS job_run_at, j.last_error AS job_error, \
                (SELECT count(*) FROM mail_attempts a WHERE a.message_id = m.id) \
                  AS \"attempts!\", \
                l.at AS \"last_at?\", l.error AS \"last_error?\" \
           FROM mail_outbox m JOIN jobs j ON j.id = m.job_id \
           LEFT JOIN LATERAL (SELECT at, error FROM mail_attempts a WHERE a.message_id = m.id \
                              ORDER BY attempt DESC LIMIT 1) l ON true \
          WHERE m.credential_id = $1 ORDER BY m.created_at, m.id",
        credential
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Sending::from).collect())
}
