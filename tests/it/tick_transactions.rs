//! Ticks change in one statement with their activity entry and their enrolment's mark
//! for its automatic audit; changes to one enrolment take turns, changes to several go
//! together (`web::tick_writer`): many at once all succeed, each logged once.
use std::time::Duration;

use attest::db::bulk_audit::audit_due;
use attest::db::version_cache;
use attest::demo::bench::{self, BENCH_PASSWORD};
use attest::testing::test_pool_with;
use attest::web::{router, AppState};
use axum::http::StatusCode;

use crate::helpers::{group, major, units};
use tower::ServiceExt;
use uuid::Uuid;

use crate::http::{form_post_as, signed_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_assessor_ticks_and_unticks_at_once_on_one_enrolment_all_succeed_and_are_logged() {
    let pool = test_pool_with(40).await;
    let q = attest::domain::qualification::Qualification {
        code: "Q/4".into(),
        title: "Four-unit certificate".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(4, 10),
        majors: vec![major("ALL", vec![group("Core", vec![0, 1, 2, 3])])],
    };
    let f = bench::load(&pool, &q, 2).await.expect("fixture");
    let state = AppState::new(pool.clone());
    let cookie = signed_in(state.clone(), "assessor@bench.attest.test", BENCH_PASSWORD).await;
    let ticks = format!(
        "/enrolments/{}/evidence/{}/ticks",
        f.enrolment_id, f.evidence_id
    );
    let criteria = &f.free_criteria[..12];
    let audits_before = count(
        &pool,
        "SELECT count(*) FROM audits WHERE enrolment_id = $1",
        f.enrolment_id,
    )
    .await;

    for action in ["tick", "untick"] {
        let requests: Vec<_> = criteria
            .iter()
            .map(|c| {
                let request =
                    form_post_as(&cookie, &ticks, &format!("criterion={c}&action={action}"));
                tokio::spawn(router(state.clone()).oneshot(request))
            })
            .collect();
        for r in requests {
            let reply = r.await.expect("request task").expect("response");
            assert_eq!(reply.status(), StatusCode::SEE_OTHER, "{action}");
        }
        let ticked: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM ticks WHERE evidence_id = $1 AND criterion_id = ANY($2) AND layer = 'assessor'",
        )
        .bind(f.evidence_id)
        .bind(criteria)
        .fetch_one(&pool)
        .await
        .expect("count");
        let expected = if action == "tick" { 12 } else { 0 };
        assert_eq!(ticked, expected, "after {action}");
        let logged: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM activity_log WHERE enrolment_id = $1 AND action = $2",
        )
        .bind(f.enrolment_id)
        .bind(action)
        .fetch_one(&pool)
        .await
        .expect("count");
        assert_eq!(logged, 12, "one {action} entry per change");
    }
    // The changes marked the enrolment for its automatic audit (the centre audits
    // automatically); the 24 changes are audited once, and the mark is gone.
    let due = count(
        &pool,
        "SELECT count(*) FROM enrolments WHERE id = $1 AND audit_due_at IS NOT NULL",
        f.enrolment_id,
    )
    .await;
    assert_eq!(due, 1, "marked for its audit");
    let audited = audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("automatic audits");
    assert_eq!(
        audited.iter().map(|a| a.enrolment_id).collect::<Vec<_>>(),
        [f.enrolment_id]
    );
    let audits_after = count(
        &pool,
        "SELECT count(*) FROM audits WHERE enrolment_id = $1",
        f.enrolment_id,
    )
    .await;
    assert_eq!(audits_after - audits_before, 1);
    assert!(audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("automatic audits")
        .is_empty());
}

/// A caseload ticked at once: changes to different enrolments go through the writer
/// together, and each still answers for itself, a bad one included.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ticks_on_many_enrolments_at_once_each_land_once_and_a_bad_one_fails_alone() {
    let pool = test_pool_with(40).await;
    let q = attest::domain::qualification::Qualification {
        code: "Q/3".into(),
        title: "Three-unit certificate".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(3, 4),
        majors: vec![major("ALL", vec![group("Core", vec![0, 1, 2])])],
    };
    let f = bench::load(&pool, &q, 2).await.expect("fixture");
    let caseload = bench::load_caseload(&pool, &f, 11).await.expect("caseload");
    let state = AppState::new(pool.clone());
    let cookie = signed_in(state.clone(), "assessor@bench.attest.test", BENCH_PASSWORD).await;
    let criterion = f.free_criteria[0];
    for round in 0..3 {
        let requests: Vec<_> = caseload
            .iter()
            .enumerate()
            .map(|(i, (enrolment, item))| {
                // Every fourth request names a criterion that is no criterion at all.
                let c = if i % 4 == 3 {
                    Uuid::new_v4()
                } else {
                    criterion
                };
                let action = if round == 1 { "untick" } else { "tick" };
                let request = form_post_as(
                    &cookie,
                    &format!("/enrolments/{enrolment}/evidence/{item}/ticks"),
                    &format!("criterion={c}&action={action}"),
                );
                tokio::spawn(router(state.clone()).oneshot(request))
            })
            .collect();
        for (i, r) in requests.into_iter().enumerate() {
            let reply = r.await.expect("request task").expect("response");
            let expected = if i % 4 == 3 {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::SEE_OTHER
            };
            assert_eq!(reply.status(), expected, "round {round}, request {i}");
        }
    }
    for (i, (enrolment, item)) in caseload.iter().enumerate() {
        let ticked: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM ticks WHERE evidence_id = $1 AND criterion_id = $2 AND layer = 'assessor'",
        )
        .bind(item)
        .bind(criterion)
        .fetch_one(&pool)
        .await
        .expect("count");
        let logged: Vec<String> = sqlx::query_scalar(
            "SELECT action FROM activity_log WHERE enrolment_id = $1 AND action IN ('tick', 'untick') ORDER BY id",
        )
        .bind(enrolment)
        .fetch_all(&pool)
        .await
        .expect("log");
        if i % 4 == 3 {
            assert_eq!(
                (ticked, logged.len()),
                (0, 0),
                "the bad request changed nothing"
            );
        } else {
            assert_eq!(ticked, 1, "ticked, unticked, ticked again");
            assert_eq!(
                logged,
                ["tick", "untick", "tick"],
                "each change logged once, in order"
            );
        }
    }
}

async fn count(pool: &sqlx::PgPool, sql: &str, id: uuid::Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("count")
}
