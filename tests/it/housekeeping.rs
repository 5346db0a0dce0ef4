//! The records that only grow are pruned: finished jobs past their days and sign-in
//! attempts past theirs, by every worker as it starts and hourly; nothing queued,
//! running or younger goes.
use attest::db::housekeeping::{self, Pruned};
use attest::db::outbox::{self, MessageKind, NewMessage};
use attest::testing::test_pool;
use sqlx::PgPool;
use uuid::Uuid;

use crate::mail_queue::wait_until;

/// A job of `state` that finished (or was made) `days` ago; its id.
async fn job(pool: &PgPool, state: &str, days: i32) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO jobs (kind, state, idempotency_key, created_at, finished_at) \
         VALUES ('housekeeping test', $1, gen_random_uuid()::text, now() - make_interval(days => $2), \
                 CASE WHEN $1 IN ('succeeded', 'failed') THEN now() - make_interval(days => $2) END) \
         RETURNING id",
    )
    .bind(state)
    .bind(days)
    .fetch_one(pool)
    .await
    .expect("a job")
}

async fn attempt(pool: &PgPool, email: &str, days: i32) {
    sqlx::query(
        "INSERT INTO login_attempts (at, email, address, succeeded) \
         VALUES (now() - make_interval(days => $2), $1, '127.0.0.1', true)",
    )
    .bind(email)
    .bind(days)
    .execute(pool)
    .await
    .expect("an attempt");
}

async fn left(pool: &PgPool, ids: &[Uuid]) -> Vec<Uuid> {
    let mut left: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM jobs WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(pool)
        .await
        .expect("jobs");
    left.sort();
    left
}

async fn emails(pool: &PgPool, prefix: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT email FROM login_attempts WHERE email LIKE $1 || '%' ORDER BY email")
        .bind(prefix)
        .fetch_all(pool)
        .await
        .expect("attempts")
}

#[tokio::test]
async fn finished_jobs_and_sign_in_attempts_past_their_days_are_pruned_and_nothing_else() {
    let pool = test_pool().await;
    let old_success = job(&pool, "succeeded", housekeeping::SUCCEEDED_JOBS_DAYS + 1).await;
    let recent_success = job(&pool, "succeeded", housekeeping::SUCCEEDED_JOBS_DAYS - 1).await;
    let failed = job(&pool, "failed", housekeeping::SUCCEEDED_JOBS_DAYS + 1).await;
    let old_failed = job(&pool, "failed", housekeeping::FAILED_JOBS_DAYS + 1).await;
    let old_queued = job(&pool, "queued", housekeeping::FAILED_JOBS_DAYS + 1).await;
    let tag = Uuid::new_v4().simple().to_string();
    attempt(
        &pool,
        &format!("{tag}-old@x.test"),
        housekeeping::LOGIN_ATTEMPTS_DAYS + 1,
    )
    .await;
    attempt(
        &pool,
        &format!("{tag}-kept@x.test"),
        housekeeping::LOGIN_ATTEMPTS_DAYS - 1,
    )
    .await;

    let pruned = housekeeping::prune_round(&pool).await.expect("a round");
    assert!(pruned.jobs >= 2 && pruned.login_attempts >= 1, "{pruned:?}");
    let mut kept = vec![recent_success, failed, old_queued];
    kept.sort();
    let all = [old_success, recent_success, failed, old_failed, old_queued];
    assert_eq!(left(&pool, &all).await, kept);
    assert_eq!(
        emails(&pool, &tag).await,
        vec![format!("{tag}-kept@x.test")]
    );
    assert_eq!(
        housekeeping::prune_round(&pool).await.expect("again"),
        Pruned::default(),
        "nothing is left to prune"
    );

    // A worker prunes as it starts.
    let old = job(&pool, "succeeded", housekeeping::SUCCEEDED_JOBS_DAYS + 1).await;
    let worker = attest::jobs::spawn(
        pool.clone(),
        attest::jobs::renderer("http://localhost"),
        attest::jobs::WorkerConfig::default(),
    );
    wait_until("the worker pruned the old job", || async {
        left(&pool, &[old]).await.is_empty().then_some(())
    })
    .await;
    assert_eq!(left(&pool, &kept).await, kept);
    worker.shutdown().await;
}

#[tokio::test]
async fn a_message_keeps_its_mail_job_however_old() {
    // A mail job is its message's delivery record (the message names it, admins see its
    // state): pruning never takes it, and a round with one past its days still works.
    let d = crate::portfolio::demo().await;
    let mut conn = d.pool.acquire().await.expect("a connection");
    let message = outbox::queue(
        &mut conn,
        &NewMessage {
            centre_id: d.ben.centre_id,
            kind: MessageKind::PasswordLink,
            user_id: d.ben.learner_id,
            to_address: "ben@example.test",
            credential: None,
            requested_by: None,
            link: "http://localhost/password",
        },
    )
    .await
    .expect("queued");
    let mail_job: Uuid = sqlx::query_scalar(
        "UPDATE jobs SET state = 'succeeded', finished_at = now() - make_interval(days => $2) \
          WHERE id = (SELECT job_id FROM mail_outbox WHERE id = $1) RETURNING id",
    )
    .bind(message)
    .bind(housekeeping::FAILED_JOBS_DAYS + 1)
    .fetch_one(&d.pool)
    .await
    .expect("the message's job, long finished");
    let other = job(&d.pool, "succeeded", housekeeping::SUCCEEDED_JOBS_DAYS + 1).await;
    housekeeping::prune_round(&d.pool).await.expect("a round");
    assert_eq!(left(&d.pool, &[mail_job, other]).await, vec![mail_job]);
}
