//! The kept count of each centre's enrolments in each status (migration 0051): equal to a
//! recount through every way an enrolment is added or moves status, in one statement or
//! many, rolled back or not, and after housekeeping folds the changes; the admin report
//! filtered by a status alone reads its total from it.
use attest::db::enrolments;
use attest::db::housekeeping;
use attest::db::report::{self, Scope};
use attest::domain::report::{Filters, ReportQuery};
use attest::domain::status::Status;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{learner, new_enrolment, world};

/// (centre, status, enrolments) kept, against the same counted, nonzero ones only.
async fn assert_kept_is_recount(pool: &PgPool, when: &str) {
    let kept: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT centre_id, status, sum(enrolments)::int8 FROM centre_status_counts \
          GROUP BY centre_id, status HAVING sum(enrolments) <> 0 ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .expect("kept");
    let counted: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT centre_id, status, count(*) FROM enrolments GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .expect("counted");
    assert_eq!(kept, counted, "{when}");
}

#[tokio::test]
async fn the_status_counts_follow_every_change_and_survive_folding() {
    let w = world().await;
    let pool = &w.pool;
    let major = w.enrolment.major_id;
    let mut ids = vec![w.enrolment.id];
    for i in 0..12 {
        let l = learner(pool, w.centre.id, &format!("s{i:02}@acme.test")).await;
        let e = enrolments::create(
            pool,
            &new_enrolment(&w.centre, &l, &w.assessor, w.version.version_id, major),
            None,
        )
        .await
        .expect("enrolment");
        ids.push(e.id);
    }
    assert_kept_is_recount(pool, "added one by one").await;

    // One enrolment, then several in one statement, then one moved twice in a transaction.
    let moves: [(&str, &[Uuid]); 3] = [
        (
            "UPDATE enrolments SET status = 'ready_to_be_requested' WHERE id = ANY($1)",
            &ids[..1],
        ),
        (
            "UPDATE enrolments SET status = 'withdrawn' WHERE id = ANY($1)",
            &ids[2..7],
        ),
        (
            "UPDATE enrolments SET status = 'not_yet_achieved' WHERE id = ANY($1)",
            &ids[2..4],
        ),
    ];
    for (sql, which) in moves {
        sqlx::query(sql).bind(which).execute(pool).await.expect(sql);
        assert_kept_is_recount(pool, sql).await;
    }
    // A change to the same status, and any other write, counts nothing.
    sqlx::query(
        "UPDATE enrolments SET status = status, last_activity_at = now() WHERE id = ANY($1)",
    )
    .bind(&ids)
    .execute(pool)
    .await
    .expect("same status");
    assert_kept_is_recount(pool, "same status").await;
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("UPDATE enrolments SET status = 'awaiting_issue' WHERE id = ANY($1)")
        .bind(&ids[7..])
        .execute(&mut *tx)
        .await
        .expect("moved");
    sqlx::query("UPDATE enrolments SET status = 'credential_issued' WHERE id = ANY($1)")
        .bind(&ids[7..9])
        .execute(&mut *tx)
        .await
        .expect("moved again");
    tx.rollback().await.expect("rolled back");
    assert_kept_is_recount(pool, "rolled back").await;

    let rows_before: i64 = sqlx::query_scalar("SELECT count(*) FROM centre_status_counts")
        .fetch_one(pool)
        .await
        .expect("rows");
    let folded = housekeeping::fold_status_counts(pool).await.expect("fold");
    let rows_after: i64 = sqlx::query_scalar("SELECT count(*) FROM centre_status_counts")
        .fetch_one(pool)
        .await
        .expect("rows");
    assert_eq!(
        rows_after, 3,
        "one row a status the centre has: {rows_before} folded"
    );
    assert_eq!(folded, rows_before - rows_after);
    assert_kept_is_recount(pool, "folded").await;
    assert_eq!(
        housekeeping::fold_status_counts(pool).await.expect("fold"),
        0,
        "folded already"
    );

    // The report filtered by a status alone: its total is the kept count, and the same
    // as the rows it lists.
    for status in Status::ALL {
        let q = ReportQuery {
            filters: Filters {
                status: Some(status),
                ..Filters::default()
            },
            size: 200,
            ..ReportQuery::default()
        };
        let page = report::page(pool, w.centre.id, Scope::Centre, &q)
            .await
            .expect("page");
        assert_eq!(page.total, page.rows.len() as i64, "{status:?}");
        assert!(page.rows.iter().all(|r| r.status == status), "{status:?}");
    }
    let withdrawn: i64 = sqlx::query_scalar(
        "SELECT sum(enrolments)::int8 FROM centre_status_counts WHERE status = 'withdrawn'",
    )
    .fetch_one(pool)
    .await
    .expect("withdrawn");
    assert_eq!(withdrawn, 3, "five withdrawn, two back");
}
