//! The kept copy of a centre's quiet enrolments (migration 0050): it holds exactly the
//! enrolments quiet before its line through every kind of write, housekeeping moves the
//! line on in bounded rounds, and the report's "no activity for 30 days" read from it
//! (with those gone quiet since), over the centre or an IQA's sample, lists and counts
//! exactly what the enrolments say.
use attest::db::enrolments;
use attest::db::quiet;
use attest::db::report::{self, Scope};
use attest::domain::report::{Column, Direction, Filters, ReportQuery, Sort};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{learner, new_enrolment, staff, world, World};
use attest::db::users::Role;

const LEARNERS: usize = 30;

/// The world's centre with 30 more learners over two assessors, half of them in the
/// IQA's sample, figures spread, their last activity spread over the last 47 days (so
/// some quiet for long, some just).
async fn centre() -> (World, Vec<Uuid>) {
    let w = world().await;
    let abe = staff(&w.pool, w.centre.id, "abe@acme.test", &[Role::Assessor]).await;
    let major = w.enrolment.major_id;
    let mut ids = vec![w.enrolment.id];
    for i in 0..LEARNERS {
        let l = learner(&w.pool, w.centre.id, &format!("l{i:02}@acme.test")).await;
        let assessor = if i % 3 == 0 { &abe } else { &w.assessor };
        let e = enrolments::create(
            &w.pool,
            &new_enrolment(&w.centre, &l, assessor, w.version.version_id, major),
            None,
        )
        .await
        .expect("enrolment");
        sqlx::query(
            "UPDATE enrolments SET confirmed_criteria = $2, claims_to_review = $3, \
                    open_iqa_actions = $4, latest_outcome = $5, \
                    last_activity_at = now() - make_interval(days => $6, mins => $7), iqa_id = $8 \
              WHERE id = $1",
        )
        .bind(e.id)
        .bind(i32::try_from(i % 4).expect("small"))
        .bind(i32::try_from(i % 3).expect("small"))
        .bind(i32::try_from(i % 5 / 4).expect("small"))
        .bind(["no_majors_achieved", "all_majors_achieved"].get(i % 3))
        .bind(i32::try_from(i * 47 / LEARNERS).expect("small"))
        .bind(i32::try_from(i).expect("small"))
        .bind((i % 2 == 0).then_some(w.iqa.id))
        .execute(&w.pool)
        .await
        .expect("figures");
        ids.push(e.id);
    }
    (w, ids)
}

/// The copy's rows against the enrolments quiet before the line, column by column.
async fn assert_copy_is_recount(pool: &PgPool, when: &str) {
    const COLUMNS: &str = "id, centre_id, learner_sort, learner_search, version_id, major_id, \
         assessor_id, trainee_assessor_id, iqa_id, status, latest_outcome, outcome_rank, \
         progress, units_achieved, claims_to_review, awaiting_countersignature, \
         open_iqa_actions, last_activity_at, last_activity_on";
    let kept: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT row({COLUMNS})::text FROM quiet_enrolments ORDER BY id"
    ))
    .fetch_all(pool)
    .await
    .expect("copy");
    let recount: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT row({COLUMNS})::text FROM enrolments \
          WHERE last_activity_at < (SELECT through FROM quiet_through) ORDER BY id"
    ))
    .fetch_all(pool)
    .await
    .expect("recount");
    assert_eq!(kept, recount, "{when}");
    assert_quiet_tallies_are_recount(pool, when).await;
}

/// The quiet tallies (migration 0056, folded as a reader sums them) against the copy's
/// rows counted by centre, IQA and assessor.
pub(crate) async fn assert_quiet_tallies_are_recount(pool: &PgPool, when: &str) {
    const KEPT: &str =
        "SELECT centre_id, iqa_id, assessor_id, sum(quiet)::int8 FROM quiet_tallies \
         GROUP BY 1, 2, 3 HAVING sum(quiet) <> 0";
    const COUNTED: &str =
        "SELECT centre_id, iqa_id, assessor_id, count(*) FROM quiet_enrolments GROUP BY 1, 2, 3";
    let unkept: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM (({KEPT} EXCEPT {COUNTED}) UNION ALL ({COUNTED} EXCEPT {KEPT})) x"
    ))
    .fetch_one(pool)
    .await
    .expect("quiet tallies");
    assert_eq!(unkept, 0, "the quiet tallies after {when}");
}

/// The transaction that wrote the copy's row of `id` last.
async fn row_version(pool: &PgPool, id: Uuid) -> String {
    sqlx::query_scalar("SELECT xmin::text FROM quiet_enrolments WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("copy's row")
}

async fn quiet_ids(pool: &PgPool) -> Vec<Uuid> {
    sqlx::query_scalar("SELECT id FROM quiet_enrolments ORDER BY id")
        .fetch_all(pool)
        .await
        .expect("copy")
}

/// Moves the line back by `days` and the copy with it, as if housekeeping had not run
/// for that long.
pub(crate) async fn line_back(pool: &PgPool, days: i32) {
    sqlx::query("UPDATE quiet_through SET through = now() - make_interval(days => 30 + $1)")
        .bind(days)
        .execute(pool)
        .await
        .expect("line");
    sqlx::query("SELECT quiet_enrolments_fill(ARRAY(SELECT id FROM enrolments))")
        .execute(pool)
        .await
        .expect("fill");
}

#[tokio::test]
async fn the_quiet_copy_holds_exactly_the_enrolments_quiet_before_its_line_through_every_write() {
    let (w, ids) = centre().await;
    let pool = &w.pool;
    let quiet = quiet_ids(pool).await;
    assert!(
        quiet.len() >= 8 && quiet.len() < ids.len() - 10,
        "the fixture makes some quiet and most not: {}",
        quiet.len()
    );
    assert_copy_is_recount(pool, "made").await;

    // Written to without activity: an audit, a reassignment, a new name, a status.
    let (a, b, c) = (quiet[0], quiet[1], quiet[2]);
    for (sql, id) in [
        (
            "UPDATE enrolments SET latest_outcome = 'other_majors_achieved' WHERE id = $1",
            a,
        ),
        (
            "UPDATE enrolments SET assessor_id = (SELECT id FROM users WHERE email = 'abe@acme.test'), \
                    iqa_id = (SELECT id FROM users WHERE email = 'ivy@acme.test') WHERE id = $1",
            b,
        ),
        (
            "UPDATE enrolments SET learner_sort = 'zz renamed', learner_search = 'zz renamed' WHERE id = $1",
            c,
        ),
        (
            "UPDATE enrolments SET status = 'withdrawn' WHERE id = $1",
            a,
        ),
    ] {
        sqlx::query(sql).bind(id).execute(pool).await.expect(sql);
        assert_copy_is_recount(pool, sql).await;
        assert!(quiet_ids(pool).await.contains(&id), "{sql}: still quiet");
    }

    // A write that moves no copied column (an audit's time) leaves the copy's row as it
    // was, not even a new version of it (migration 0052).
    let before = row_version(pool, b).await;
    sqlx::query("UPDATE enrolments SET latest_audit_at = now() WHERE id = $1")
        .bind(b)
        .execute(pool)
        .await
        .expect("audit time");
    assert_eq!(row_version(pool, b).await, before, "nothing copied moved");
    sqlx::query("UPDATE enrolments SET open_iqa_actions = open_iqa_actions + 1 WHERE id = $1")
        .bind(b)
        .execute(pool)
        .await
        .expect("an IQA action");
    assert_ne!(row_version(pool, b).await, before, "a copied column moved");
    assert_copy_is_recount(pool, "an IQA action").await;

    // Activity takes it out; backdated (as loaders do), it comes back.
    sqlx::query("UPDATE enrolments SET last_activity_at = now() WHERE id = $1")
        .bind(a)
        .execute(pool)
        .await
        .expect("activity");
    assert!(
        !quiet_ids(pool).await.contains(&a),
        "given activity, it left"
    );
    assert_copy_is_recount(pool, "activity").await;
    sqlx::query(
        "UPDATE enrolments SET last_activity_at = now() - interval '60 days' WHERE id = ANY($1)",
    )
    .bind(&ids[1..3])
    .execute(pool)
    .await
    .expect("backdated");
    assert_copy_is_recount(pool, "backdated").await;

    // Housekeeping not run for three days: the rounds take a day each and catch up.
    line_back(pool, 3).await;
    let before = quiet_ids(pool).await.len();
    let mut rounds = 0;
    while !quiet::advance_round(pool).await.expect("round") {
        rounds += 1;
        assert_copy_is_recount(pool, &format!("round {rounds}")).await;
        assert!(rounds < 10, "the rounds end");
    }
    assert_copy_is_recount(pool, "caught up").await;
    assert_eq!(
        rounds, 4,
        "one day a round, from 33 to 29 days ago, then the last part"
    );
    let (through, target): (time::OffsetDateTime, time::OffsetDateTime) =
        sqlx::query_as("SELECT through, now() - interval '29 days' FROM quiet_through")
            .fetch_one(pool)
            .await
            .expect("line");
    assert!(
        target - through < time::Duration::minutes(1),
        "the line is 29 days ago: {through} against {target}"
    );
    let after = quiet_ids(pool).await.len();
    assert!(
        after > before,
        "the learners gone quiet in those days were added: {before} then {after}"
    );
    assert!(
        quiet::advance_round(pool).await.expect("round"),
        "caught up, a round has nothing to do"
    );
}

/// The report's ids of a view, and its total, against the CSV's statement, which reads
/// the enrolments themselves in the same order.
async fn assert_view_is_the_enrolments(pool: &PgPool, centre: Uuid, scope: Scope, q: &ReportQuery) {
    let page = report::page(pool, centre, scope, q).await.expect("page");
    let all: Vec<Uuid> = report::all_rows_query(centre, scope, q)
        .build()
        .fetch_all(pool)
        .await
        .expect("all")
        .iter()
        .map(|r| report::read_row(r).expect("row").enrolment_id)
        .collect();
    let shown: Vec<Uuid> = page.rows.iter().map(|r| r.enrolment_id).collect();
    let from = ((q.page - 1) * q.size) as usize;
    let from = from.min(all.len());
    let to = (from + q.size as usize).min(all.len());
    assert_eq!(shown, all[from..to], "{q:?}");
    assert_eq!(page.total, all.len() as i64, "{q:?}");
    let rows = report::rows(pool, centre, scope, q).await.expect("rows");
    let listed: Vec<Uuid> = rows.iter().map(|r| r.enrolment_id).collect();
    assert_eq!(listed, shown, "{q:?}: rows and page agree");
}

#[tokio::test]
async fn the_quiet_view_lists_and_counts_exactly_the_quiet_enrolments_in_every_order() {
    let (w, _) = centre().await;
    let pool = &w.pool;
    // Some quiet in the copy, some gone quiet since its line (read from the enrolments).
    line_back(pool, 5).await;
    let (copied, since): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM quiet_enrolments), \
                (SELECT count(*) FROM enrolments WHERE last_activity_at >= (SELECT through FROM quiet_through) \
                    AND last_activity_at < now() - interval '30 days')",
    )
    .fetch_one(pool)
    .await
    .expect("split");
    assert!(copied > 0 && since > 0, "both kinds: {copied}, {since}");
    let abe: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'abe@acme.test'")
        .fetch_one(pool)
        .await
        .expect("abe");
    let quiet = |f: Filters| Filters { stale: true, ..f };
    let filters = [
        quiet(Filters::default()),
        quiet(Filters {
            assessor: Some(abe),
            ..Filters::default()
        }),
        quiet(Filters {
            iqa: Some(w.iqa.id),
            ..Filters::default()
        }),
        quiet(Filters {
            has_claims: true,
            ..Filters::default()
        }),
        quiet(Filters {
            search: Some("l1".into()),
            ..Filters::default()
        }),
    ];
    // Housekeeping behind the report's line, then caught up (the line a day ahead of
    // the report's: the copy alone).
    for (n, f) in filters.iter().chain(filters.iter()).enumerate() {
        if n == filters.len() {
            while !quiet::advance_round(pool).await.expect("round") {}
        }
        for column in Column::ALL {
            for direction in [Direction::Ascending, Direction::Descending] {
                for (page, size) in [(1, 25), (2, 4)] {
                    let q = ReportQuery {
                        filters: f.clone(),
                        sort: Sort { column, direction },
                        page,
                        size,
                    };
                    // The centre's and the IQA's sample's, both read from the copy.
                    for scope in [Scope::Centre, Scope::Sample(w.iqa.id)] {
                        assert_view_is_the_enrolments(pool, w.centre.id, scope, &q).await;
                    }
                }
            }
        }
    }
}
