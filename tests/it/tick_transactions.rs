//! Ticks change in one transaction with their activity entry and the audit they cause,
//! and changes to one enrolment take turns: many at once all succeed, each logged.
use attest::demo::bench::{self, BENCH_PASSWORD};
use attest::testing::test_pool_with;
use attest::web::{router, AppState};
use axum::http::StatusCode;

use crate::helpers::{group, major, units};
use tower::ServiceExt;

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
    // Every change to confirmed criteria re-audited (the centre audits automatically).
    let audits_after = count(
        &pool,
        "SELECT count(*) FROM audits WHERE enrolment_id = $1",
        f.enrolment_id,
    )
    .await;
    assert_eq!(audits_after - audits_before, 24);
}

async fn count(pool: &sqlx::PgPool, sql: &str, id: uuid::Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("count")
}
