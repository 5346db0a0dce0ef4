use attest::db::enrolments;
use attest::db::qualifications::{self, load_version};
use attest::db::{centres, DbError};
use attest::domain::qualification::Qualification;
use attest::testing::test_pool;

use crate::helpers::{big, tiny, world};

async fn count(pool: &sqlx::PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn import_creates_a_version_that_loads_back_equal() {
    let pool = test_pool().await;
    let centre = centres::create(&pool, "c", "Centre").await.unwrap();
    let q = tiny("Q/1");
    let out = qualifications::import(&pool, centre.id, &q, None)
        .await
        .unwrap();
    assert!(out.created);
    assert_eq!(out.version, 1);

    let loaded = load_version(&pool, out.version_id).await.unwrap();
    assert_eq!(loaded.qualification, q);
    assert_eq!(loaded.criterion_ids.len(), 4);
    assert_eq!(loaded.unit_ids.len(), 2);
    assert_eq!(loaded.major_ids.len(), 1);
    assert_eq!(loaded.rule_set_ids, vec![vec![loaded.rule_set_ids[0][0]]]);
    assert_eq!(
        (
            count(&pool, "criteria").await,
            count(&pool, "outcomes").await
        ),
        (4, 2)
    );
    assert_eq!(count(&pool, "rule_group_units").await, 2);

    // Ordinals follow unit → outcome → criterion order.
    let numbers: Vec<(i32, String, String)> = sqlx::query_as(
        "SELECT c.ordinal, u.code, c.number FROM criteria c JOIN units u ON u.id = c.unit_id ORDER BY c.ordinal",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let expected = [
        (0, "201", "1.1"),
        (1, "201", "1.2"),
        (2, "202", "1.1"),
        (3, "202", "1.2"),
    ];
    for (got, want) in numbers.iter().zip(expected) {
        assert_eq!((got.0, got.1.as_str(), got.2.as_str()), want);
    }
}

#[tokio::test]
async fn identical_reimport_changes_nothing() {
    let pool = test_pool().await;
    let centre = centres::create(&pool, "c", "Centre").await.unwrap();
    let first = qualifications::import(&pool, centre.id, &tiny("Q/1"), None)
        .await
        .unwrap();
    let again = qualifications::import(&pool, centre.id, &tiny("Q/1"), None)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!((again.version_id, again.version), (first.version_id, 1));
    assert_eq!(count(&pool, "qualification_versions").await, 1);
    assert_eq!(count(&pool, "units").await, 2);
}

#[tokio::test]
async fn changed_content_makes_version_2_and_enrolments_keep_version_1() {
    let w = world().await;
    let mut changed = tiny("TINY/1");
    changed.units[1].title = "Renamed unit".into();
    let v2 = qualifications::import(&w.pool, w.centre.id, &changed, None)
        .await
        .unwrap();
    assert!(v2.created);
    assert_eq!(v2.version, 2);
    assert_ne!(v2.version_id, w.version.version_id);
    assert_eq!(v2.qualification_id, w.version.qualification_id);

    let e = enrolments::get(&w.pool, w.enrolment.id).await.unwrap();
    assert_eq!(e.version_id, w.version.version_id);
    let latest = qualifications::latest_version(&w.pool, w.centre.id, "TINY/1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.version, 2);
    assert_eq!(
        load_version(&w.pool, v2.version_id)
            .await
            .unwrap()
            .qualification,
        changed
    );

    // Re-importing version 1's content is a change from version 2, so it is version 3.
    let v3 = qualifications::import(&w.pool, w.centre.id, &tiny("TINY/1"), None)
        .await
        .unwrap();
    assert_eq!((v3.created, v3.version), (true, 3));
}

#[tokio::test]
async fn the_same_code_in_two_centres_is_two_qualifications() {
    let pool = test_pool().await;
    let a = centres::create(&pool, "a", "Centre A").await.unwrap();
    let b = centres::create(&pool, "b", "Centre B").await.unwrap();
    let qa = qualifications::import(&pool, a.id, &tiny("Q/1"), None)
        .await
        .unwrap();
    let qb = qualifications::import(&pool, b.id, &tiny("Q/1"), None)
        .await
        .unwrap();
    assert!(qa.created && qb.created);
    assert_eq!((qa.version, qb.version), (1, 1));
    assert_ne!(qa.qualification_id, qb.qualification_id);
}

#[tokio::test]
async fn implicit_core_major_round_trips() {
    let pool = test_pool().await;
    let centre = centres::create(&pool, "c", "Centre").await.unwrap();
    let mut q = tiny("CORE/1");
    q.majors = vec![Qualification::core_major(q.units.len())];
    let out = qualifications::import(&pool, centre.id, &q, None)
        .await
        .unwrap();
    let loaded = load_version(&pool, out.version_id).await.unwrap();
    assert!(loaded.qualification.majors[0].implicit);
    assert_eq!(loaded.qualification, q);
}

#[tokio::test]
async fn a_unit_in_two_groups_of_a_rule_set_is_refused_and_nothing_is_stored() {
    let pool = test_pool().await;
    let centre = centres::create(&pool, "c", "Centre").await.unwrap();
    let mut q = tiny("BAD/1");
    // Bypasses the import validator, which reports this first; the schema is the backstop.
    q.majors[0].rule_sets[0]
        .groups
        .push(crate::helpers::group("Again", vec![1]));
    let err = qualifications::import(&pool, centre.id, &q, None)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::UnitInTwoGroups), "{err:?}");
    assert_eq!(count(&pool, "qualification_versions").await, 0);
    assert_eq!(count(&pool, "qualifications").await, 0);
    assert_eq!(count(&pool, "units").await, 0);
}

#[tokio::test]
async fn a_big_qualification_imports_whole_and_again_adds_nothing() {
    // How fast is measured in benches/import.rs, never here.
    let pool = test_pool().await;
    let centre = centres::create(&pool, "c", "Centre").await.unwrap();
    let q = big("BIG/1");
    let out = qualifications::import(&pool, centre.id, &q, None)
        .await
        .unwrap();
    assert!(out.created);
    // The version's totals, kept by the database as its criteria are inserted.
    let totals: (i32, i32) = sqlx::query_as(
        "SELECT criteria_count, unit_count FROM qualification_versions WHERE id = $1",
    )
    .bind(out.version_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(totals, (1500, 60));
    assert_eq!(count(&pool, "criteria").await, 1500);
    assert_eq!(count(&pool, "rule_sets").await, 12);
    let loaded = load_version(&pool, out.version_id).await.unwrap();
    assert_eq!(loaded.qualification, q);
    assert_eq!(
        loaded.rule_set_ids.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2; 6]
    );

    let again = qualifications::import(&pool, centre.id, &q, None)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(count(&pool, "criteria").await, 1500, "nothing added twice");
}
