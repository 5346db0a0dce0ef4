//! SPEC §4's automatic audit: a change to an enrolment's confirmed criteria marks it,
//! in the same statement; the auditor audits each marked enrolment once, after its
//! changes settle, and every server's auditor can run at once.
use std::time::Duration;

use attest::db::auto_audit::audit_due;
use attest::db::{centres, enrolments, version_cache};
use attest::demo::bench::{self, BenchFixture, BENCH_PASSWORD};
use attest::domain::qualification::Qualification;
use attest::domain::Status;
use attest::jobs::{self, WorkerConfig};
use attest::testing::test_pool_with;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{group, major, units};
use crate::http::{form_post_as, send, signed_in};

async fn fixture() -> (PgPool, BenchFixture, Qualification) {
    let pool = test_pool_with(8).await;
    let q = Qualification {
        code: "Q/2".into(),
        title: "Two-unit certificate".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(2, 8),
        majors: vec![major("ALL", vec![group("Core", vec![0, 1])])],
    };
    let f = bench::load(&pool, &q, 1).await.expect("fixture");
    (pool, f, q)
}

async fn due(pool: &PgPool, enrolment: Uuid) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM audit_marks WHERE enrolment_id = $1)")
        .bind(enrolment)
        .fetch_one(pool)
        .await
        .expect("query")
}

async fn tick(state: &AppState, who: &str, f: &BenchFixture, criterion: Uuid) {
    let cookie = signed_in(
        state.clone(),
        &format!("{who}@bench.attest.test"),
        BENCH_PASSWORD,
    )
    .await;
    let reply = send(
        state.clone(),
        form_post_as(
            &cookie,
            &format!(
                "/enrolments/{}/evidence/{}/ticks",
                f.enrolment_id, f.evidence_id
            ),
            &format!("criterion={criterion}&action=tick"),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{who} ticked");
}

#[tokio::test]
async fn only_assessor_ticks_mark_an_enrolment_and_only_where_the_centre_audits_automatically() {
    let (pool, f, _) = fixture().await;
    let state = AppState::new(pool.clone());
    let free = f.free_criteria.clone();
    assert!(!due(&pool, f.enrolment_id).await);
    tick(&state, "learner", &f, free[0]).await;
    tick(&state, "trainee", &f, free[0]).await;
    assert!(
        !due(&pool, f.enrolment_id).await,
        "claims and trainee ticks confirm nothing"
    );
    tick(&state, "assessor", &f, free[0]).await;
    assert!(
        due(&pool, f.enrolment_id).await,
        "an assessor tick marks it"
    );
    audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("audited");
    assert!(
        !due(&pool, f.enrolment_id).await,
        "the audit clears the mark"
    );

    centres::set_auto_audit(&pool, f.centre_id, false)
        .await
        .expect("setting");
    tick(&state, "assessor", &f, free[1]).await;
    assert!(
        !due(&pool, f.enrolment_id).await,
        "the centre audits by hand"
    );
}

/// Every audit is the automatic one a mark asks for: an admin's, a bulk one and the
/// automatic round each remove it, and the round's audit is written as the others are.
#[tokio::test]
async fn any_audit_removes_the_mark_and_the_automatic_one_is_logged_as_automatic() {
    let (pool, f, _) = fixture().await;
    let state = AppState::new(pool.clone());
    let free = f.free_criteria.clone();

    tick(&state, "assessor", &f, free[0]).await;
    assert!(due(&pool, f.enrolment_id).await);
    attest::db::audits::audit_enrolment(&pool, f.enrolment_id, None)
        .await
        .expect("an admin's audit");
    assert!(!due(&pool, f.enrolment_id).await, "an admin's audit");

    tick(&state, "assessor", &f, free[1]).await;
    assert!(due(&pool, f.enrolment_id).await);
    attest::db::bulk_audit::audit_many(&pool, &[f.enrolment_id], None, |_, _| {})
        .await
        .expect("a bulk audit");
    assert!(!due(&pool, f.enrolment_id).await, "a bulk audit");

    tick(&state, "assessor", &f, free[2]).await;
    let audited = audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("the automatic audit");
    assert_eq!(
        audited.iter().map(|a| a.enrolment_id).collect::<Vec<_>>(),
        [f.enrolment_id]
    );
    assert!(!due(&pool, f.enrolment_id).await, "the automatic audit");
    let (confirmed, latest): (i32, Uuid) = sqlx::query_as(
        "SELECT a.confirmed_criteria, e.latest_audit_id FROM audits a \
         JOIN enrolments e ON e.id = a.enrolment_id WHERE a.id = $1",
    )
    .bind(audited[0].audit_id)
    .fetch_one(&pool)
    .await
    .expect("the audit");
    let kept: i32 = sqlx::query_scalar("SELECT confirmed_criteria FROM enrolments WHERE id = $1")
        .bind(f.enrolment_id)
        .fetch_one(&pool)
        .await
        .expect("kept figure");
    assert_eq!(confirmed, kept, "it counts every confirmed criterion");
    assert_eq!(latest, audited[0].audit_id, "it is the latest audit");
    let logged: (bool, String) = sqlx::query_as(
        "SELECT (detail->>'automatic')::bool, detail->>'audit' FROM activity_log \
         WHERE enrolment_id = $1 AND action = 'audit' ORDER BY id DESC LIMIT 1",
    )
    .bind(f.enrolment_id)
    .fetch_one(&pool)
    .await
    .expect("the audit's entry");
    assert_eq!(logged, (true, audited[0].audit_id.to_string()));
}

#[tokio::test]
async fn a_mark_waits_for_its_changes_to_settle_and_is_audited_once_by_one_of_many_auditors() {
    let (pool, f, _) = fixture().await;
    let caseload = bench::load_caseload(&pool, &f, 5).await.expect("caseload");
    let state = AppState::new(pool.clone());
    let cookie = signed_in(state.clone(), "assessor@bench.attest.test", BENCH_PASSWORD).await;
    for (enrolment, item) in &caseload {
        let reply = send(
            state.clone(),
            form_post_as(
                &cookie,
                &format!("/enrolments/{enrolment}/evidence/{item}/ticks"),
                &format!("criterion={}&action=tick", f.free_criteria[0]),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
    let audits = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audits")
            .fetch_one(&pool)
            .await
            .expect("count");
        n
    };
    let before = audits().await;
    assert!(
        audit_due(&pool, version_cache::shared(), Duration::from_secs(3600))
            .await
            .expect("ran")
            .is_empty(),
        "nothing has settled for an hour"
    );
    // Four auditors at once, as four servers would run them.
    let runs = (0..4).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut audited = Vec::new();
            loop {
                let round = audit_due(&pool, version_cache::shared(), Duration::ZERO)
                    .await
                    .expect("ran");
                if round.is_empty() {
                    return audited;
                }
                audited.extend(round.into_iter().map(|a| a.enrolment_id));
            }
        })
    });
    let mut audited = Vec::new();
    for run in runs {
        audited.extend(run.await.expect("auditor"));
    }
    audited.sort();
    let mut expected: Vec<Uuid> = caseload.iter().map(|(e, _)| *e).collect();
    expected.sort();
    assert_eq!(
        audited, expected,
        "each marked enrolment audited exactly once"
    );
    assert_eq!(audits().await - before, caseload.len() as i64);
}

#[tokio::test]
async fn the_worker_audits_a_confirmed_portfolio_into_ready_to_be_requested_within_seconds() {
    let (pool, f, q) = fixture().await;
    let state = AppState::new(pool.clone());
    let worker = jobs::spawn(
        pool.clone(),
        state.render.clone(),
        WorkerConfig {
            poll: Duration::from_millis(50),
            audit_settle: Duration::from_millis(100),
            ..WorkerConfig::default()
        },
    );
    let version = attest::db::qualifications::load_version(&pool, {
        enrolments::get(&pool, f.enrolment_id)
            .await
            .expect("enrolment")
            .version_id
    })
    .await
    .expect("version");
    assert_eq!(version.criterion_ids.len(), q.criterion_count());
    for c in &version.criterion_ids {
        tick(&state, "assessor", &f, *c).await;
    }
    let mut status = Status::NotYetAchieved;
    for _ in 0..100 {
        status = enrolments::get(&pool, f.enrolment_id)
            .await
            .expect("enrolment")
            .status;
        if status == Status::ReadyToBeRequested {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
    assert_eq!(status, Status::ReadyToBeRequested);
    assert!(!due(&pool, f.enrolment_id).await);
}
