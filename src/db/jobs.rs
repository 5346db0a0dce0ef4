//! The job queue in PostgreSQL. Workers claim with `FOR UPDATE SKIP LOCKED`, so two
//! servers never take the same job; a running job carries its worker's heartbeat, and
//! one whose heartbeat stopped (the process died) is queued again. A job's effect is
//! committed together with `finish`, which only succeeds while the worker still holds
//! the job: a worker that lost its job to a reclaim cannot apply its effect twice.
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbResult;

/// What a worker knows of a job it claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i32,
    pub max_attempts: i32,
}

impl Job {
    /// The id its payload names under `key`, if it names one.
    pub fn uuid(&self, key: &str) -> Option<Uuid> {
        self.payload.get(key)?.as_str()?.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub id: Uuid,
    pub kind: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// Queue a job. The idempotency key makes queueing the same thing twice a no-op.
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &str,
    payload: serde_json::Value,
    idempotency_key: &str,
) -> DbResult<()> {
    enqueue_after(
        conn,
        kind,
        payload,
        idempotency_key,
        std::time::Duration::ZERO,
    )
    .await
}

/// `enqueue`, the job due only `after` from now.
pub async fn enqueue_after(
    conn: &mut PgConnection,
    kind: &str,
    payload: serde_json::Value,
    idempotency_key: &str,
    after: std::time::Duration,
) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO jobs (kind, payload, idempotency_key, run_at) \
         VALUES ($1, $2, $3, now() + make_interval(secs => $4)) \
         ON CONFLICT (idempotency_key) DO NOTHING",
        kind,
        payload,
        idempotency_key,
        after.as_secs_f64(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Take the oldest job that is due, if any, marking it running for `worker`.
pub async fn claim(db: impl PgExecutor<'_>, worker: &str) -> DbResult<Option<Job>> {
    let job = sqlx::query_as!(
        Job,
        "UPDATE jobs SET state = 'running', locked_by = $1, heartbeat_at = now(), \
                attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= now() \
                     ORDER BY run_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, kind, payload, attempts, max_attempts",
        worker,
    )
    .fetch_optional(db)
    .await?;
    Ok(job)
}

/// Tell the queue `worker` is still on the job. False when the job is no longer its.
pub async fn heartbeat(db: impl PgExecutor<'_>, id: Uuid, worker: &str) -> DbResult<bool> {
    let n = sqlx::query!(
        "UPDATE jobs SET heartbeat_at = now() WHERE id = $1 AND locked_by = $2 AND state = 'running'",
        id,
        worker,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Queue again every running job whose heartbeat is older than `stale_after`: its
/// process died. Returns how many were picked up again.
pub(crate) async fn requeue_stale(
    db: impl PgExecutor<'_>,
    stale_after: std::time::Duration,
) -> DbResult<u64> {
    let n = sqlx::query!(
        "UPDATE jobs SET state = 'queued', locked_by = NULL, heartbeat_at = NULL, run_at = now(), \
                last_error = 'the worker stopped answering; picked up again' \
         WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1)",
        stale_after.as_secs_f64(),
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(n)
}

/// Mark the job done, inside the transaction that applies its effect. False (and the
/// caller must roll back) when `worker` no longer holds it.
pub async fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    worker: &str,
    succeeded: bool,
    error: Option<&str>,
) -> DbResult<bool> {
    let n = sqlx::query!(
        "UPDATE jobs SET state = $3, finished_at = now(), last_error = $4, \
                locked_by = NULL, heartbeat_at = NULL \
         WHERE id = $1 AND locked_by = $2 AND state = 'running'",
        id,
        worker,
        if succeeded { "succeeded" } else { "failed" },
        error,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Put the job back in the queue to try again after `delay` (a transient error).
pub(crate) async fn retry_later(
    db: impl PgExecutor<'_>,
    id: Uuid,
    worker: &str,
    delay: std::time::Duration,
    error: &str,
) -> DbResult<bool> {
    let n = sqlx::query!(
        "UPDATE jobs SET state = 'queued', locked_by = NULL, heartbeat_at = NULL, last_error = $3, \
                run_at = now() + make_interval(secs => $4) \
         WHERE id = $1 AND locked_by = $2 AND state = 'running'",
        id,
        worker,
        error,
        delay.as_secs_f64(),
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Every job of `kind` whose payload has `key` = `value`, oldest first (for pages and tests).
pub async fn for_payload(
    db: impl PgExecutor<'_>,
    kind: &str,
    key: &str,
    value: &str,
) -> DbResult<Vec<JobState>> {
    let rows = sqlx::query_as!(
        JobState,
        "SELECT id, kind, state, attempts, last_error, locked_by, created_at, finished_at \
         FROM jobs WHERE kind = $1 AND payload ->> $2 = $3 ORDER BY created_at",
        kind,
        key,
        value,
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}
