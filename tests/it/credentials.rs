//! The credential register and its background generation, against a real database
//! and real workers (in this process; `serve_jobs.rs` kills a real server mid-job).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use attest::db::credentials::{self, GENERATE_JOB};
use attest::db::enrolments::{self, Enrolment};
use attest::db::{centres, jobs, users, DbError};
use attest::demo::load::{load_if_empty, DEMO_CENTRE_SLUG};
use attest::domain::status::Refusal;
use attest::domain::Status;
use attest::jobs::{spawn, RenderError, Renderer, WorkerConfig};
use attest::testing::test_pool;
use sqlx::PgPool;
use uuid::Uuid;

pub(crate) struct Centre {
    pub pool: PgPool,
    pub admin: Uuid,
    /// Ready to be Requested.
    pub zoe: Enrolment,
    /// Not Yet Achieved.
    pub ben: Enrolment,
}

pub(crate) async fn demo_centre() -> Centre {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("demo");
    let centre = centres::find_by_slug(&pool, DEMO_CENTRE_SLUG)
        .await
        .expect("query")
        .expect("centre");
    let person = |email: &'static str| {
        let pool = pool.clone();
        async move {
            users::find_by_email(&pool, centre.id, email)
                .await
                .expect("query")
                .expect("person")
                .id
        }
    };
    let (admin, zoe, ben) = (
        person("admin@demo.attest.test").await,
        person("zoe@demo.attest.test").await,
        person("ben@demo.attest.test").await,
    );
    let all = enrolments::list_for_centre(&pool, centre.id)
        .await
        .expect("enrolments");
    let of = |learner: Uuid| {
        all.iter()
            .find(|e| e.learner_id == learner)
            .cloned()
            .expect("enrolment")
    };
    Centre {
        admin,
        zoe: of(zoe),
        ben: of(ben),
        pool,
    }
}

pub(crate) fn number() -> String {
    attest::credentials::fresh_number()
        .expect("randomness")
        .to_string()
}

pub(crate) fn fast() -> WorkerConfig {
    WorkerConfig {
        poll: Duration::from_millis(20),
        heartbeat: Duration::from_millis(100),
        stale_after: Duration::from_secs(2),
        retry_after: Duration::from_millis(50),
        audit_settle: Duration::from_millis(50),
        ..WorkerConfig::default()
    }
}

/// The real renderer, counting its calls, with a fault injected into the first
/// `failures` of them.
fn renderer(calls: Arc<AtomicUsize>, failures: usize, error: RenderError) -> Renderer {
    let real = attest::jobs::renderer("https://attest.example.org");
    Arc::new(move |c| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        if n < failures {
            Err(error.clone())
        } else {
            real(c)
        }
    })
}

pub(crate) async fn status(pool: &PgPool, id: Uuid) -> Status {
    enrolments::get(pool, id).await.expect("enrolment").status
}

pub(crate) async fn wait_for(pool: &PgPool, id: Uuid, wanted: Status) -> Duration {
    let start = Instant::now();
    loop {
        let now = status(pool, id).await;
        if now == wanted {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "still {now:?}, waiting for {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for states, not for time, until the queue has had every chance to take a
/// finished job again: the job finished longer ago than `stale_after` by the database's
/// clock (so a sweep that took finished jobs for orphans would now take it), and since
/// then a worker has swept and claimed another job, a probe of a kind no worker knows
/// (which it finishes as failed).
pub(crate) async fn queue_moved_on(c: &Centre, finished_job: Uuid, stale_after: Duration) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let aged: bool = sqlx::query_scalar(
            "SELECT finished_at < now() - make_interval(secs => $2) FROM jobs WHERE id = $1",
        )
        .bind(finished_job)
        .bind(stale_after.as_secs_f64())
        .fetch_one(&c.pool)
        .await
        .expect("the job");
        if aged {
            break;
        }
        assert!(Instant::now() < deadline, "the job never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let probe = Uuid::new_v4().to_string();
    let mut conn = c.pool.acquire().await.expect("conn");
    jobs::enqueue(
        &mut conn,
        "probe",
        serde_json::json!({ "probe": probe }),
        &probe,
    )
    .await
    .expect("queued");
    drop(conn);
    loop {
        let found = jobs::for_payload(&c.pool, "probe", "probe", &probe)
            .await
            .expect("jobs");
        if found.first().is_some_and(|j| j.state == "failed") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no worker took the probe: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The one generation job of the enrolment's latest credential.
pub(crate) async fn generation_job(pool: &PgPool, enrolment: Uuid) -> jobs::JobState {
    let credential = credentials::latest_for_enrolment(pool, enrolment)
        .await
        .expect("q")
        .expect("credential");
    let mut ran = jobs::for_payload(pool, GENERATE_JOB, "credential", &credential.id.to_string())
        .await
        .expect("jobs");
    assert_eq!(ran.len(), 1, "one job per credential: {ran:?}");
    ran.remove(0)
}

#[tokio::test]
async fn requesting_snapshots_the_register_and_a_worker_generates_it_within_seconds() {
    let c = demo_centre().await;
    let credential = credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");
    assert_eq!(credential.learner_name, "Zoë Ōtaki-Ngata");
    assert_eq!(credential.major_code, "SPEC");
    assert!(
        !credential.units.is_empty(),
        "the units achieved are listed"
    );
    assert!(credential.total_credits() > 0);
    assert_eq!(
        status(&c.pool, c.zoe.id).await,
        Status::GeneratingCredential
    );

    // A double submit: refused with the status it found, and no second credential.
    let again = credentials::request(&c.pool, c.zoe.id, c.admin, &number()).await;
    assert!(
        matches!(
            again,
            Err(DbError::Refused(Refusal::NotAllowed {
                status: Status::GeneratingCredential,
                ..
            }))
        ),
        "{again:?}"
    );
    assert_eq!(
        credentials::list_for_enrolment(&c.pool, c.zoe.id)
            .await
            .expect("list")
            .len(),
        1
    );

    let calls = Arc::new(AtomicUsize::new(0));
    let worker = spawn(
        c.pool.clone(),
        renderer(calls.clone(), 0, RenderError::Permanent(String::new())),
        fast(),
    );
    // Generated by the worker with nobody acting: waited for, within the wait's deadline.
    wait_for(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    worker.shutdown().await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let generated = credentials::get(&c.pool, credential.id).await.expect("get");
    assert!(generated.generated_at.is_some() && generated.generation_error.is_none());
    let history = enrolments::history(&c.pool, c.zoe.id)
        .await
        .expect("history");
    let last = history.last().expect("entry");
    assert_eq!(
        (last.from, last.to),
        (Some(Status::GeneratingCredential), Status::AwaitingIssue)
    );
}

#[tokio::test]
async fn two_workers_run_each_generation_exactly_once() {
    let c = demo_centre().await;
    credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");
    let calls = Arc::new(AtomicUsize::new(0));
    let render = renderer(calls.clone(), 0, RenderError::Permanent(String::new()));
    let a = spawn(c.pool.clone(), render.clone(), fast());
    let b = spawn(c.pool.clone(), render, fast());
    wait_for(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    let zoes = generation_job(&c.pool, c.zoe.id).await;
    queue_moved_on(&c, zoes.id, fast().stale_after).await;
    a.shutdown().await;
    b.shutdown().await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "rendered once");
    let zoes = generation_job(&c.pool, c.zoe.id).await;
    assert_eq!((zoes.state.as_str(), zoes.attempts), ("succeeded", 1));
    let moves = enrolments::history(&c.pool, c.zoe.id)
        .await
        .expect("history")
        .into_iter()
        .filter(|h| h.to == Status::AwaitingIssue)
        .count();
    assert_eq!(moves, 1);
}

#[tokio::test]
async fn transient_errors_are_retried_and_permanent_ones_fail_with_the_error_until_retry() {
    let c = demo_centre().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let worker = spawn(
        c.pool.clone(),
        renderer(calls.clone(), 2, RenderError::Transient("disk busy".into())),
        fast(),
    );
    let credential = credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");
    wait_for(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    worker.shutdown().await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "two transient failures, then success"
    );
    let ran = jobs::for_payload(
        &c.pool,
        GENERATE_JOB,
        "credential",
        &credential.id.to_string(),
    )
    .await
    .expect("jobs");
    assert_eq!((ran.len(), ran[0].attempts), (1, 3));

    // Cancel, request again, and fail for good: the error is kept and shown.
    credentials::cancel(&c.pool, c.zoe.id, c.admin, "  ")
        .await
        .expect_err("a reason is required");
    credentials::cancel(&c.pool, c.zoe.id, c.admin, "issued in error")
        .await
        .expect("cancelled");
    assert_eq!(status(&c.pool, c.zoe.id).await, Status::Withdrawn);
}

#[tokio::test]
async fn a_permanent_failure_leaves_the_error_and_retry_generates_again() {
    let c = demo_centre().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = spawn(
        c.pool.clone(),
        renderer(
            calls.clone(),
            1,
            RenderError::Permanent("the font NotoSans-Regular.ttf is missing".into()),
        ),
        fast(),
    );
    let credential = credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");
    wait_for(&c.pool, c.zoe.id, Status::CredentialFailedToGenerate).await;
    let failed = credentials::get(&c.pool, credential.id).await.expect("get");
    assert_eq!(
        failed.generation_error.as_deref(),
        Some("the font NotoSans-Regular.ttf is missing")
    );
    let history = enrolments::history(&c.pool, c.zoe.id)
        .await
        .expect("history");
    assert_eq!(
        history.last().and_then(|h| h.reason.as_deref()),
        Some("the font NotoSans-Regular.ttf is missing"),
        "the history says why"
    );
    // Issue is refused here; Retry goes back to Generating and, this time, succeeds.
    assert!(credentials::issue(&c.pool, c.zoe.id, c.admin)
        .await
        .is_err());
    credentials::retry(&c.pool, c.zoe.id, c.admin)
        .await
        .expect("retry");
    wait_for(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    failing.shutdown().await;
    let retried = credentials::get(&c.pool, credential.id).await.expect("get");
    assert!(retried.generation_error.is_none() && retried.generated_at.is_some());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // Issue, then the register keeps it through a cancellation.
    let issued = credentials::issue(&c.pool, c.zoe.id, c.admin)
        .await
        .expect("issue");
    assert!(issued.issued_at.is_some());
    assert_eq!(status(&c.pool, c.zoe.id).await, Status::CredentialIssued);
    credentials::cancel(&c.pool, c.zoe.id, c.admin, "name misspelt")
        .await
        .expect("cancel");
    let kept = credentials::get(&c.pool, credential.id)
        .await
        .expect("still there");
    assert_eq!(kept.cancel_reason.as_deref(), Some("name misspelt"));
    let deleted = sqlx::query("DELETE FROM credentials WHERE id = $1")
        .bind(credential.id)
        .execute(&c.pool)
        .await;
    assert!(deleted.is_err(), "credentials are never deleted");
}

#[tokio::test]
async fn a_job_whose_worker_died_is_picked_up_again_and_the_dead_worker_cannot_finish_it() {
    let c = demo_centre().await;
    let credential = credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");
    // A worker claims the job and dies without a word.
    let job = jobs::claim(&c.pool, "dead-worker")
        .await
        .expect("claim")
        .expect("a job");
    sqlx::query("UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1")
        .bind(job.id)
        .execute(&c.pool)
        .await
        .expect("age the heartbeat");
    let calls = Arc::new(AtomicUsize::new(0));
    let worker = spawn(
        c.pool.clone(),
        renderer(calls.clone(), 0, RenderError::Permanent(String::new())),
        fast(),
    );
    wait_for(&c.pool, c.zoe.id, Status::AwaitingIssue).await;
    worker.shutdown().await;
    let ran = jobs::for_payload(
        &c.pool,
        GENERATE_JOB,
        "credential",
        &credential.id.to_string(),
    )
    .await
    .expect("jobs");
    assert_eq!((ran[0].state.as_str(), ran[0].attempts), ("succeeded", 2));
    // Were the dead worker to wake up, its result is dropped.
    let late = credentials::finish_generation(
        &c.pool,
        job.id,
        "dead-worker",
        credential.id,
        credentials::Generated::Succeeded {
            pdf: attest::domain::credential::KeptFile {
                sha256: "0".repeat(64),
                size: 1,
            },
        },
    )
    .await
    .expect("no error");
    assert!(!late, "the job is no longer the dead worker's");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn requesting_is_refused_while_not_achieved_or_while_an_iqa_action_is_open() {
    let c = demo_centre().await;
    let not_ready = credentials::request(&c.pool, c.ben.id, c.admin, &number()).await;
    assert!(
        matches!(not_ready, Err(DbError::Refused(_))),
        "{not_ready:?}"
    );
    let iqa: Uuid = sqlx::query_scalar("SELECT iqa_id FROM enrolments WHERE id = $1")
        .bind(c.zoe.id)
        .fetch_one(&c.pool)
        .await
        .expect("iqa");
    let evidence: Uuid =
        sqlx::query_scalar("SELECT id FROM evidence WHERE enrolment_id = $1 LIMIT 1")
            .bind(c.zoe.id)
            .fetch_one(&c.pool)
            .await
            .expect("evidence");
    sqlx::query(
        "INSERT INTO iqa_decisions (enrolment_id, version_id, evidence_id, iqa_id, decision, feedback) \
         VALUES ($1, $4, $2, $3, 'action_required', 'check 1.2')",
    )
    .bind(c.zoe.id)
    .bind(evidence)
    .bind(iqa)
    .bind(c.zoe.version_id)
    .execute(&c.pool)
    .await
    .expect("open action");
    let blocked = credentials::request(&c.pool, c.zoe.id, c.admin, &number()).await;
    assert!(
        matches!(
            blocked,
            Err(DbError::Refused(Refusal::OpenIqaActions { count: 1 }))
        ),
        "{blocked:?}"
    );
    assert_eq!(status(&c.pool, c.zoe.id).await, Status::ReadyToBeRequested);
    assert!(credentials::list_for_enrolment(&c.pool, c.zoe.id)
        .await
        .expect("l")
        .is_empty());
}

#[tokio::test]
async fn concurrent_claims_never_take_one_job_twice() {
    let c = demo_centre().await;
    let mut conn = c.pool.acquire().await.expect("conn");
    for i in 0..40 {
        jobs::enqueue(
            &mut conn,
            "test",
            serde_json::json!({ "i": i }),
            &format!("claim-race-{i}"),
        )
        .await
        .expect("enqueue");
    }
    // Queueing the same key twice queues nothing.
    jobs::enqueue(&mut conn, "test", serde_json::json!({}), "claim-race-0")
        .await
        .expect("enqueue");
    drop(conn);
    let claimers = (0..8).map(|w| {
        let pool = c.pool.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = jobs::claim(&pool, &format!("w{w}")).await.expect("claim") {
                mine.push(job.id);
            }
            mine
        })
    });
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.expect("claimer"));
    }
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        (claimed, all.len()),
        (40, 40),
        "every job claimed exactly once"
    );
}
