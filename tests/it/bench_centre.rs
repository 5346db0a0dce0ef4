//! The benchmark centre grown to a real centre's size is what the app itself would have
//! made: the triggers are off while it copies, so what they keep is checked here.
use attest::db::figures;
use attest::demo::bench;
use attest::demo::bench_centre;
use attest::testing::test_pool;

use crate::helpers::{group, major, units};

#[tokio::test]
async fn a_grown_centre_holds_what_the_triggers_would_have_kept() {
    let pool = test_pool().await;
    let q = attest::domain::Qualification {
        code: "GROW/1".into(),
        title: "Grown".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(4, 5),
        majors: vec![major("ALL", vec![group("All", vec![0, 1, 2, 3])])],
    };
    let f = bench::load(&pool, &q, 6).await.expect("fixture");
    bench::load_caseload(&pool, &f, 3).await.expect("caseload");
    let grown = bench_centre::grow(&pool, &f, 80).await.expect("grown");
    assert_eq!(grown.enrolments, 80);
    let (count, names_kept, totals_kept): (i64, bool, bool) = sqlx::query_as(
        "SELECT count(*), \
                bool_and(e.learner_sort = lower(u.display_name) \
                         AND e.learner_search = lower(u.display_name) || ' ' || lower(u.email)), \
                bool_and(e.criteria_total = v.criteria_count AND e.unit_total = v.unit_count) \
           FROM enrolments e JOIN users u ON u.id = e.learner_id \
           JOIN qualification_versions v ON v.id = e.version_id WHERE e.centre_id = $1",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("checked");
    assert_eq!(count, 80);
    assert!(names_kept, "every learner's name is on their enrolment");
    assert!(totals_kept, "every enrolment has its version's totals");
    // The kept figures are what the database's recount makes of the copied ticks.
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM enrolments WHERE centre_id = $1")
        .bind(f.centre_id)
        .fetch_all(&pool)
        .await
        .expect("ids");
    let mut before = Vec::new();
    for id in &ids {
        before.push(figures::kept(&pool, *id).await.expect("kept"));
    }
    figures::recount(&pool, &ids).await.expect("recount");
    for (id, was) in ids.iter().zip(before) {
        assert_eq!(figures::kept(&pool, *id).await.expect("kept"), was, "{id}");
    }
    // Some learners are quiet, some have IQA actions open, some are certificated.
    let (quiet, actions, issued): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE last_activity_at < now() - interval '30 days'), \
                count(*) FILTER (WHERE open_iqa_actions > 0), \
                count(*) FILTER (WHERE status = 'credential_issued') \
           FROM enrolments WHERE centre_id = $1",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("spread");
    assert!(
        quiet > 0 && actions > 0,
        "quiet {quiet}, actions {actions}, issued {issued}"
    );
}
