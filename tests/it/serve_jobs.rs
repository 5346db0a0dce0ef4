//! Generation with real servers: a server killed with SIGKILL mid-generation leaves a
//! job that two other servers on the same database pick up again, and exactly one of
//! them completes it; the enrolment never stays in Generating Credential. The servers
//! share one bucket (issue 16 point 3), each with its own data folder: the PDF the
//! register names is in the bucket, byte for byte.
use std::process::Child;
use std::time::{Duration, Instant};

use attest::db::credentials::{self, GENERATE_JOB};
use attest::db::{enrolments, jobs};
use attest::domain::Status;
use attest::testing::{s3, test_dir};

use crate::credentials::{demo_centre, number, status};
use crate::helpers::database_url;
use crate::serve::{free_port, interrupt_and_wait, start_with};

fn server(url: &str, storage: &str) -> Child {
    let data = test_dir().join(format!("serve-jobs-{}", uuid::Uuid::new_v4().simple()));
    let addr = format!("127.0.0.1:{}", free_port());
    let (child, _) = start_with(
        &[
            "--data-dir",
            data.to_str().expect("utf-8"),
            "serve",
            "--addr",
            &addr,
            "--storage",
            storage,
        ],
        Some(url),
        &[
            ("ATTEST_JOB_STALE_SECS", "2"),
            ("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", s3::SECRET_KEY),
        ],
    );
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_generation_leaves_a_job_another_server_completes_once() {
    let c = demo_centre().await;
    let url = database_url(&c.pool);
    let (bucket, address) = s3::bucket().await;
    let storage = s3::setting(&address);
    let credential = credentials::request(&c.pool, c.zoe.id, c.admin, &number())
        .await
        .expect("requested");

    // Server A takes the job and is held mid-way by a real lock: this test holds Zoë's
    // enrolment row, which finishing a generation locks. No fault setting is involved.
    let mut holder = c.pool.begin().await.expect("a transaction");
    sqlx::query("SELECT 1 FROM enrolments WHERE id = $1 FOR UPDATE")
        .bind(c.zoe.id)
        .execute(&mut *holder)
        .await
        .expect("the enrolment locked");
    let (a_url, a_storage) = (url.clone(), storage.clone());
    let mut a = tokio::task::spawn_blocking(move || server(&a_url, &a_storage))
        .await
        .expect("join");
    let a_pid = a.id().to_string();
    let key = credential.id.to_string();
    let start = Instant::now();
    loop {
        let job = jobs::for_payload(&c.pool, GENERATE_JOB, "credential", &key)
            .await
            .expect("jobs");
        let taken_by_a = job.first().is_some_and(|j| {
            j.state == "running" && j.locked_by.as_deref().is_some_and(|w| w.contains(&a_pid))
        });
        let waiting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%')",
        )
        .fetch_one(&c.pool)
        .await
        .expect("waiting?");
        if taken_by_a && waiting {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "A never reached the lock with the job: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SIGKILL: no clean-up, no goodbye. Then the lock goes, for whoever comes next.
    a.kill().expect("kill -9");
    a.wait().expect("reaped");
    holder.commit().await.expect("released");
    assert_eq!(
        status(&c.pool, c.zoe.id).await,
        Status::GeneratingCredential
    );

    // Two more servers on the same database: the orphan is picked up and done once.
    let (b_url, c_url) = (url.clone(), url.clone());
    let (b_storage, c_storage) = (storage.clone(), storage.clone());
    let mut b = tokio::task::spawn_blocking(move || server(&b_url, &b_storage))
        .await
        .expect("join");
    let mut other = tokio::task::spawn_blocking(move || server(&c_url, &c_storage))
        .await
        .expect("join");
    let start = Instant::now();
    while status(&c.pool, c.zoe.id).await == Status::GeneratingCredential {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still generating"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = start.elapsed();
    // Every chance for either server to (wrongly) run it again, read from the database.
    let job = crate::credentials::generation_job(&c.pool, c.zoe.id).await;
    crate::credentials::queue_moved_on(&c, job.id, Duration::from_secs(2)).await;
    tokio::task::spawn_blocking(move || {
        interrupt_and_wait(&mut b);
        interrupt_and_wait(&mut other);
    })
    .await
    .expect("join");

    assert_eq!(
        status(&c.pool, c.zoe.id).await,
        Status::AwaitingIssue,
        "after {took:?}"
    );
    let ran = jobs::for_payload(&c.pool, GENERATE_JOB, "credential", &key)
        .await
        .expect("jobs");
    assert_eq!(ran.len(), 1);
    assert_eq!((ran[0].state.as_str(), ran[0].attempts), ("succeeded", 2));
    let moves: Vec<_> = enrolments::history(&c.pool, c.zoe.id)
        .await
        .expect("history")
        .into_iter()
        .filter(|h| h.from == Some(Status::GeneratingCredential))
        .collect();
    assert_eq!(
        moves.len(),
        1,
        "exactly one move out of Generating: {moves:?}"
    );
    // The PDF the register names is the one in the shared bucket, byte for byte.
    let kept = credentials::get(&c.pool, credential.id)
        .await
        .expect("the credential")
        .draft_pdf
        .expect("a kept draft");
    let store = attest::credentials::store::DocumentStore::new(test_dir().join("unused"))
        .with_bucket(Some(bucket.clone()));
    let pdf = store
        .read(
            credential.id,
            attest::credentials::store::Document::DraftPdf,
            &kept,
        )
        .await
        .expect("the register's PDF, from the bucket");
    assert!(pdf.starts_with(b"%PDF-"));
}
