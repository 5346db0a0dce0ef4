//! The centre's tallies (migrations 0053, 0054): equal to a recount through every way an
//! enrolment is added or moves (in one statement or many, rolled back or not, and after
//! housekeeping folds the changes), and the homes' summaries and the dashboards' figures
//! read from them (and from the quiet copy) equal the same figures counted from the
//! enrolments, for a centre, an IQA's sample and a caseload.
use attest::db::enrolments;
use attest::db::housekeeping;
use attest::db::quiet;
use attest::db::report::{self, Scope};
use attest::db::report_tallies::{self as tallies, Summary};
use attest::db::users::Role;
use attest::domain::report::{Band, Filters, ReportQuery};
use attest::domain::status::Status;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{learner, new_enrolment, staff, world, World};

/// The tallies (folded as a reader sums them) and the same counted from the enrolments.
const KEPT: &str = "SELECT centre_id, iqa_id, assessor_id, status, band, with_claims, awaiting, \
            with_actions, sum(enrolments)::int8 AS enrolments, sum(open_actions)::int8 AS open_actions, \
            sum(units_assessed)::int8 AS units_assessed, sum(units_sampled)::int8 AS units_sampled \
       FROM centre_tallies WHERE centre_id = $1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 \
     HAVING sum(enrolments) <> 0 OR sum(open_actions) <> 0 OR sum(units_assessed) <> 0 \
         OR sum(units_sampled) <> 0";
const COUNTED: &str =
    "SELECT centre_id, iqa_id, assessor_id, status, LEAST(progress / 10, 10)::smallint, \
            claims_to_review > 0, awaiting_countersignature > 0, open_iqa_actions > 0, \
            count(*), sum(open_iqa_actions)::int8, sum(units_assessed)::int8, sum(units_sampled)::int8 \
       FROM enrolments WHERE centre_id = $1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8";

/// How many tallies of the centre differ from a recount, either way (for the bench
/// fixture's check too).
fn unkept_tallies() -> String {
    format!(
        "SELECT count(*) FROM (({KEPT} EXCEPT {COUNTED}) UNION ALL ({COUNTED} EXCEPT {KEPT})) x"
    )
}

/// Each assessor's learners in each IQA's sample, kept (migration 0058, folded as the
/// coverage sums them) and counted from the enrolments.
const LEARNERS_KEPT: &str =
    "SELECT iqa_id, assessor_id, sum(learners)::int8 FROM sample_learner_counts \
       WHERE centre_id = $1 GROUP BY 1, 2 HAVING sum(learners) <> 0";
const LEARNERS_COUNTED: &str =
    "SELECT iqa_id, assessor_id, count(DISTINCT learner_id) FROM enrolments \
       WHERE centre_id = $1 AND iqa_id IS NOT NULL GROUP BY 1, 2";
const PAIRS_KEPT: &str =
    "SELECT iqa_id, assessor_id, learner_id, enrolments::int8 FROM sample_learners WHERE centre_id = $1";
const PAIRS_COUNTED: &str = "SELECT iqa_id, assessor_id, learner_id, count(*) FROM enrolments \
       WHERE centre_id = $1 AND iqa_id IS NOT NULL GROUP BY 1, 2, 3";

pub async fn assert_tallies_are_recount(pool: &PgPool, centre: Uuid, when: &str) {
    let unkept: i64 = sqlx::query_scalar(&unkept_tallies())
        .bind(centre)
        .fetch_one(pool)
        .await
        .expect("tallies");
    assert_eq!(unkept, 0, "the centre's tallies after {when}");
    for (kept, counted, what) in [
        (LEARNERS_KEPT, LEARNERS_COUNTED, "learners"),
        (PAIRS_KEPT, PAIRS_COUNTED, "enrolments a learner"),
    ] {
        let unkept: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM (({kept} EXCEPT {counted}) UNION ALL ({counted} EXCEPT {kept})) x"
        ))
        .bind(centre)
        .fetch_one(pool)
        .await
        .expect("sample learners");
        assert_eq!(unkept, 0, "the samples' {what} after {when}");
    }
}

/// After a fold, `table` (appended counts by centre, IQA and assessor) holds one row a
/// combination.
async fn assert_one_row_a_combination(pool: &PgPool, table: &str) {
    let (rows, combinations): (i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), count(DISTINCT (centre_id, iqa_id, assessor_id)) FROM {table}"
    ))
    .fetch_one(pool)
    .await
    .expect(table);
    assert_eq!(rows, combinations, "one row a combination in {table}");
}

const LEARNERS: usize = 30;

/// The world's centre with 30 more learners over two assessors and the IQA, their
/// figures spread and their last activity spread over the last 47 days.
async fn centre() -> (World, Vec<Uuid>, Uuid) {
    let w = world().await;
    let abe = staff(&w.pool, w.centre.id, "abe@acme.test", &[Role::Assessor]).await;
    let major = w.enrolment.major_id;
    let mut ids = vec![w.enrolment.id];
    for i in 0..LEARNERS {
        let l = learner(&w.pool, w.centre.id, &format!("t{i:02}@acme.test")).await;
        let assessor = if i % 3 == 0 { &abe } else { &w.assessor };
        let e = enrolments::create(
            &w.pool,
            &new_enrolment(&w.centre, &l, assessor, w.version.version_id, major),
            None,
        )
        .await
        .expect("enrolment");
        let small = |n: usize| i32::try_from(n).expect("small");
        sqlx::query(
            "UPDATE enrolments SET confirmed_criteria = $2, claims_to_review = $3, \
                    awaiting_countersignature = $4, open_iqa_actions = $5, iqa_id = $6, \
                    trainee_assessor_id = $7, \
                    last_activity_at = now() - make_interval(days => $8, mins => $9) \
              WHERE id = $1",
        )
        .bind(e.id)
        .bind(small(i % 4))
        .bind(small(i % 3))
        .bind(small(i % 5 / 3))
        .bind(small(i % 7 / 4))
        .bind((i % 2 == 0).then_some(w.iqa.id))
        .bind((i % 4 == 1).then_some(w.trainee.id))
        .bind(small(i * 47 / LEARNERS))
        .bind(small(i))
        .execute(&w.pool)
        .await
        .expect("figures");
        ids.push(e.id);
    }
    (w, ids, abe.id)
}

async fn tally_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM centre_tallies")
        .fetch_one(pool)
        .await
        .expect("rows")
}

#[tokio::test]
async fn the_tallies_follow_every_change_and_survive_folding() {
    let (w, ids, abe) = centre().await;
    let pool = &w.pool;
    let centre = w.centre.id;
    assert_tallies_are_recount(pool, centre, "added one by one").await;

    // Each tallied column, for one enrolment and for several in one statement.
    let moves: [(&str, &[Uuid]); 14] = [
        ("UPDATE enrolments SET status = 'ready_to_be_requested' WHERE id = ANY($1)", &ids[..1]),
        ("UPDATE enrolments SET status = 'withdrawn' WHERE id = ANY($1)", &ids[2..7]),
        ("UPDATE enrolments SET status = 'not_yet_achieved' WHERE id = ANY($1)", &ids[2..4]),
        ("UPDATE enrolments SET iqa_id = NULL WHERE id = ANY($1)", &ids[4..10]),
        ("UPDATE enrolments SET iqa_id = (SELECT id FROM users WHERE email = 'ivy@acme.test') WHERE id = ANY($1)", &ids[9..14]),
        ("UPDATE enrolments SET assessor_id = (SELECT id FROM users WHERE email = 'abe@acme.test') WHERE id = ANY($1)", &ids[12..16]),
        ("UPDATE enrolments SET confirmed_criteria = confirmed_criteria + 1 WHERE id = ANY($1)", &ids[..12]),
        ("UPDATE enrolments SET claims_to_review = 0, awaiting_countersignature = 1 WHERE id = ANY($1)", &ids[5..20]),
        ("UPDATE enrolments SET open_iqa_actions = open_iqa_actions + 1 WHERE id = ANY($1)", &ids[..8]),
        ("UPDATE enrolments SET open_iqa_actions = 0, claims_to_review = 2 WHERE id = ANY($1)", &ids[3..6]),
        ("UPDATE enrolments SET units_assessed = units_assessed + 1 WHERE id = ANY($1)", &ids[1..9]),
        ("UPDATE enrolments SET units_sampled = units_sampled + 1 WHERE id = ANY($1)", &ids[4..12]),
        // Several of one learner's enrolments with one assessor in one sample: one
        // learner, however many of them move.
        ("UPDATE enrolments SET learner_id = (SELECT learner_id FROM enrolments WHERE id = ($1::uuid[])[1]), \
                iqa_id = (SELECT id FROM users WHERE email = 'ivy@acme.test'), \
                assessor_id = (SELECT assessor_id FROM enrolments WHERE id = ($1::uuid[])[1]) \
          WHERE id = ANY($1)", &ids[16..22]),
        ("UPDATE enrolments SET iqa_id = NULL WHERE id = ANY($1)", &ids[16..19]),
    ];
    for (sql, which) in moves {
        sqlx::query(sql).bind(which).execute(pool).await.expect(sql);
        assert_tallies_are_recount(pool, centre, sql).await;
    }
    // A write that moves nothing tallied (a count within its flag, activity, a status to
    // itself) appends nothing.
    let rows = tally_rows(pool).await;
    sqlx::query(
        "UPDATE enrolments SET claims_to_review = claims_to_review * 2, status = status, \
                last_activity_at = now() WHERE id = ANY($1)",
    )
    .bind(&ids)
    .execute(pool)
    .await
    .expect("nothing tallied");
    assert_eq!(tally_rows(pool).await, rows, "nothing appended");
    assert_tallies_are_recount(pool, centre, "nothing tallied").await;

    let mut tx = pool.begin().await.expect("begin");
    sqlx::query(
        "UPDATE enrolments SET status = 'awaiting_issue', assessor_id = $2 WHERE id = ANY($1)",
    )
    .bind(&ids[7..])
    .bind(abe)
    .execute(&mut *tx)
    .await
    .expect("moved");
    tx.rollback().await.expect("rolled back");
    assert_tallies_are_recount(pool, centre, "rolled back").await;

    let rows_before = tally_rows(pool).await;
    let all_folded = housekeeping::fold_tallies(pool).await.expect("fold");
    let folded = all_folded.tallies;
    assert!(all_folded.learners > 0, "the learners' changes were folded");
    assert_one_row_a_combination(pool, "sample_learner_counts").await;
    let combinations: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ({KEPT}) k"))
        .bind(centre)
        .fetch_one(pool)
        .await
        .expect("combinations");
    assert_eq!(
        tally_rows(pool).await,
        combinations,
        "one row a combination the centre has: {rows_before} folded"
    );
    assert_eq!(folded, rows_before - combinations);
    assert_tallies_are_recount(pool, centre, "folded").await;
    assert_eq!(
        housekeeping::fold_tallies(pool).await.expect("fold"),
        housekeeping::Folded {
            tallies: 0,
            quiet: 0,
            learners: 0
        },
        "folded already"
    );

    // The report filtered by what the tallies count by (the dashboards' links): its
    // total is the tallies', and the same as the rows it lists, over the centre and the
    // IQA's sample.
    let bands = (0..10)
        .map(|d| Band {
            from: d * 10,
            to: d * 10 + 9,
        })
        .chain([Band { from: 100, to: 100 }]);
    let mut views: Vec<Filters> = vec![Filters::default()];
    views.extend(Status::ALL.into_iter().map(|s| Filters {
        status: Some(s),
        ..Filters::default()
    }));
    views.extend(bands.map(|b| Filters {
        progress: Some(b),
        ..Filters::default()
    }));
    for assessor in [abe, w.assessor.id] {
        views.push(Filters {
            assessor: Some(assessor),
            has_open_actions: true,
            ..Filters::default()
        });
        views.push(Filters {
            assessor: Some(assessor),
            status: Some(Status::NotYetAchieved),
            has_claims: true,
            awaiting_countersignature: true,
            iqa: Some(w.iqa.id),
            ..Filters::default()
        });
    }
    let mut seen = 0;
    for filters in views {
        for scope in [Scope::Centre, Scope::Sample(w.iqa.id)] {
            let q = ReportQuery {
                filters: filters.clone(),
                size: 200,
                ..ReportQuery::default()
            };
            let page = report::page(pool, centre, scope, &q).await.expect("page");
            assert_eq!(page.total, page.rows.len() as i64, "{scope:?} {filters:?}");
            let all = report::all_rows_query(centre, scope, &q)
                .build()
                .fetch_all(pool)
                .await
                .expect("all");
            assert_eq!(page.total, all.len() as i64, "{scope:?} {filters:?}");
            seen += page.total;
        }
    }
    assert!(seen > 100, "the views hold rows: {seen}");
}

/// One enrolment as the figures count it.
#[derive(sqlx::FromRow)]
struct Counted {
    status: String,
    assessor_id: Uuid,
    trainee_assessor_id: Option<Uuid>,
    iqa_id: Option<Uuid>,
    progress: i32,
    claims_to_review: i32,
    awaiting_countersignature: i32,
    open_iqa_actions: i32,
    quiet: bool,
    learner_id: Uuid,
    units_assessed: i32,
    units_sampled: i32,
}

impl Counted {
    fn in_scope(&self, scope: Scope) -> bool {
        match scope {
            Scope::Centre => true,
            Scope::Sample(me) => self.iqa_id == Some(me),
            Scope::Caseload(me) => self.assessor_id == me || self.trainee_assessor_id == Some(me),
        }
    }
}

/// The summary, the bands and the figures by assessor of `scope`, against the same
/// counted from each enrolment.
async fn assert_figures_are_counted(pool: &PgPool, centre: Uuid, scope: Scope, when: &str) {
    let all: Vec<Counted> = sqlx::query_as(
        "SELECT status, assessor_id, trainee_assessor_id, iqa_id, progress, claims_to_review, \
                awaiting_countersignature, open_iqa_actions, \
                last_activity_at < now() - interval '30 days' AS quiet, learner_id, \
                units_assessed, units_sampled \
           FROM enrolments WHERE centre_id = $1",
    )
    .bind(centre)
    .fetch_all(pool)
    .await
    .expect("enrolments");
    let mine: Vec<&Counted> = all.iter().filter(|e| e.in_scope(scope)).collect();
    let count = |f: &dyn Fn(&Counted) -> bool| mine.iter().filter(|e| f(e)).count() as i64;
    let expected = Summary {
        total: mine.len() as i64,
        by_status: Status::ALL
            .into_iter()
            .map(|s| (s, count(&|e| e.status == s.key())))
            .collect(),
        with_claims: count(&|e| e.claims_to_review > 0),
        awaiting_countersignature: count(&|e| e.awaiting_countersignature > 0),
        with_open_actions: count(&|e| e.open_iqa_actions > 0),
        stale: count(&|e| e.quiet),
    };
    let summary = tallies::summary(pool, centre, scope)
        .await
        .expect("summary");
    assert_eq!(summary, expected, "{scope:?} summary, {when}");
    assert!(expected.stale > 0, "some are quiet");

    let bands: Vec<i64> = (0..=10)
        .map(|band| count(&|e| (e.progress / 10).min(10) == band))
        .collect();
    assert_eq!(
        tallies::progress_bands(pool, centre, scope)
            .await
            .expect("bands"),
        bands,
        "{scope:?} bands, {when}"
    );

    let mut assessors: Vec<Uuid> = mine.iter().map(|e| e.assessor_id).collect();
    assessors.sort();
    assessors.dedup();
    let mut expected: Vec<(Uuid, i64, i64, i64, i64)> = assessors
        .into_iter()
        .map(|a| {
            let theirs = mine.iter().filter(|e| e.assessor_id == a);
            let n = |f: &dyn Fn(&Counted) -> bool| theirs.clone().filter(|e| f(e)).count() as i64;
            let open: i64 = theirs.clone().map(|e| i64::from(e.open_iqa_actions)).sum();
            (
                a,
                n(&|_| true),
                n(&|e| e.quiet),
                n(&|e| e.open_iqa_actions > 0),
                open,
            )
        })
        .collect();
    expected.sort();
    let listed = tallies::by_assessor(pool, centre, scope)
        .await
        .expect("by assessor");
    let names: Vec<String> = listed.iter().map(|a| a.assessor.to_lowercase()).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "by name: {names:?}");
    let mut got: Vec<(Uuid, i64, i64, i64, i64)> = listed
        .iter()
        .map(|a| {
            (
                a.assessor_id,
                a.enrolments,
                a.stale,
                a.with_open_actions,
                a.open_actions,
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expected, "{scope:?} by assessor, {when}");

    // An IQA's sampling coverage by assessor (SPEC §7), from the tallies and the index.
    if let Scope::Sample(iqa) = scope {
        let mut expected: Vec<(Uuid, i64, i64, i64, i64)> = got
            .iter()
            .map(|&(a, ..)| {
                let theirs: Vec<&&Counted> = mine.iter().filter(|e| e.assessor_id == a).collect();
                let mut learners: Vec<Uuid> = theirs.iter().map(|e| e.learner_id).collect();
                learners.sort();
                learners.dedup();
                let sum = |f: fn(&Counted) -> i32| theirs.iter().map(|e| i64::from(f(e))).sum();
                (
                    a,
                    learners.len() as i64,
                    sum(|e| e.units_assessed),
                    sum(|e| e.units_sampled),
                    sum(|e| e.open_iqa_actions),
                )
            })
            .collect();
        expected.sort();
        let names: std::collections::HashMap<String, Uuid> = listed
            .iter()
            .map(|a| (a.assessor.clone(), a.assessor_id))
            .collect();
        let mut coverage: Vec<(Uuid, i64, i64, i64, i64)> =
            attest::db::iqa::coverage(pool, centre, iqa)
                .await
                .expect("coverage")
                .into_iter()
                .map(|c| {
                    (
                        names[&c.assessor],
                        c.learners,
                        c.units_assessed,
                        c.units_sampled,
                        c.open_actions,
                    )
                })
                .collect();
        coverage.sort();
        assert_eq!(coverage, expected, "coverage, {when}");
    }
}

fn since_2000() -> time::Date {
    time::Date::from_calendar_date(2000, time::Month::January, 1).expect("a date")
}

/// Credentials requested over the last 14 months for the first ten enrolments, each other
/// one issued three days later.
async fn credentials(pool: &PgPool, centre: Uuid, ids: &[Uuid]) {
    for (i, id) in ids.iter().take(10).enumerate() {
        sqlx::query(
            "INSERT INTO credentials (number, enrolment_id, centre_id, learner_name, \
                    qualification_code, qualification_title, qualification_level, major_code, \
                    major_title, centre_name, requested_at, generated_at, issued_at) \
             VALUES ($1, $2, $3, 'L', 'Q', 'Q', 2, 'M', 'M', 'C', \
                     now() - make_interval(days => $4), now() - make_interval(days => $4), \
                     CASE WHEN $5 THEN now() - make_interval(days => $4 - 3) END)",
        )
        .bind(crate::credentials::number())
        .bind(id)
        .bind(centre)
        .bind(i32::try_from(i * 43).expect("small"))
        .bind(i % 2 == 0)
        .execute(pool)
        .await
        .expect("credential");
    }
}

/// The dashboard's credentials by month of `scope`, against the same counted from each
/// credential and its enrolment.
async fn assert_months_are_counted(pool: &PgPool, centre: Uuid, scope: Scope) {
    #[derive(sqlx::FromRow)]
    struct Made {
        requested: time::Date,
        issued: Option<time::Date>,
        assessor_id: Uuid,
        trainee_assessor_id: Option<Uuid>,
        iqa_id: Option<Uuid>,
    }
    let since: time::Date = sqlx::query_scalar(
        "SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '11 months')::date",
    )
    .fetch_one(pool)
    .await
    .expect("since");
    let made: Vec<Made> = sqlx::query_as(
        "SELECT date_trunc('month', c.requested_at AT TIME ZONE 'UTC')::date AS requested, \
                date_trunc('month', c.issued_at AT TIME ZONE 'UTC')::date AS issued, \
                e.assessor_id, e.trainee_assessor_id, e.iqa_id \
           FROM credentials c JOIN enrolments e ON e.id = c.enrolment_id WHERE e.centre_id = $1",
    )
    .bind(centre)
    .fetch_all(pool)
    .await
    .expect("credentials");
    let mut months: std::collections::BTreeMap<time::Date, (i64, i64)> = Default::default();
    for m in &made {
        let theirs = match scope {
            Scope::Centre => true,
            Scope::Sample(me) => m.iqa_id == Some(me),
            Scope::Caseload(me) => m.assessor_id == me || m.trainee_assessor_id == Some(me),
        };
        if !theirs {
            continue;
        }
        if m.requested >= since {
            months.entry(m.requested).or_default().0 += 1;
        }
        if let Some(issued) = m.issued.filter(|&d| d >= since) {
            months.entry(issued).or_default().1 += 1;
        }
    }
    let expected: Vec<(time::Date, i64, i64)> =
        months.into_iter().map(|(m, (r, i))| (m, r, i)).collect();
    let got = tallies::credentials_by_month(pool, centre, scope, since)
        .await
        .expect("months");
    assert_eq!(got, expected, "{scope:?} credentials by month");
}

#[tokio::test]
async fn the_summaries_and_dashboards_read_from_the_tallies_equal_a_count_of_the_enrolments() {
    let (w, ids, abe) = centre().await;
    let pool = &w.pool;
    let centre = w.centre.id;
    let scopes = [
        Scope::Centre,
        Scope::Sample(w.iqa.id),
        Scope::Caseload(w.assessor.id),
        Scope::Caseload(abe),
        Scope::Caseload(w.trainee.id),
    ];
    // Moves appended, then folded; housekeeping behind the report's quiet line (some
    // quiet read from the copy, some from the enrolments), then caught up.
    sqlx::query(
        "UPDATE enrolments SET status = 'withdrawn', confirmed_criteria = confirmed_criteria + 1 \
          WHERE id = ANY($1)",
    )
    .bind(&ids[..6])
    .execute(pool)
    .await
    .expect("moved");
    sqlx::query(
        "UPDATE enrolments SET units_assessed = (progress / 25), units_sampled = (progress / 50) \
          WHERE id = ANY($1)",
    )
    .bind(&ids)
    .execute(pool)
    .await
    .expect("units");
    // A learner on two of the sample's enrolments with one assessor is one learner.
    let second = enrolments::create(
        pool,
        &attest::db::enrolments::NewEnrolment {
            iqa_id: Some(w.iqa.id),
            ..new_enrolment(
                &w.centre,
                &w.learner,
                &w.assessor,
                w.version.version_id,
                w.enrolment.major_id,
            )
        },
        None,
    )
    .await
    .expect("a second enrolment");
    sqlx::query("UPDATE enrolments SET iqa_id = $2 WHERE id = $1")
        .bind(w.enrolment.id)
        .bind(w.iqa.id)
        .execute(pool)
        .await
        .expect("both in the sample");
    assert_ne!(second.id, w.enrolment.id);
    crate::quiet::line_back(pool, 5).await;
    for scope in scopes {
        assert_figures_are_counted(pool, centre, scope, "appended, housekeeping behind").await;
    }
    crate::quiet::assert_quiet_tallies_are_recount(pool, "housekeeping behind").await;
    let folded = housekeeping::fold_tallies(pool).await.expect("fold");
    assert!(folded.quiet > 0, "the quiet tallies' changes were folded");
    assert_one_row_a_combination(pool, "quiet_tallies").await;
    while !quiet::advance_round(pool).await.expect("round") {}
    crate::quiet::assert_quiet_tallies_are_recount(pool, "folded, caught up").await;
    let not_yet: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quiet_enrolments WHERE last_activity_at >= now() - interval '30 days'",
    )
    .fetch_one(pool)
    .await
    .expect("the copy's last day");
    assert!(
        not_yet > 0,
        "the copy, a day past the report's line, holds some not yet quiet by it"
    );
    for scope in scopes {
        assert_figures_are_counted(pool, centre, scope, "folded, caught up").await;
    }
    credentials(pool, centre, &ids).await;
    for scope in scopes {
        assert_months_are_counted(pool, centre, scope).await;
    }
    let months = tallies::credentials_by_month(pool, centre, Scope::Centre, since_2000())
        .await
        .expect("months");
    assert_eq!(
        months
            .iter()
            .map(|m| (m.1, m.2))
            .fold((0, 0), |a, m| (a.0 + m.0, a.1 + m.1)),
        (10, 5),
        "every credential, in its month"
    );
    // Another centre's figures hold none of this one's enrolments.
    for scope in [Scope::Centre, Scope::Sample(w.iqa.id)] {
        let elsewhere = tallies::summary(pool, Uuid::now_v7(), scope)
            .await
            .expect("summary");
        assert_eq!((elsewhere.total, elsewhere.stale), (0, 0), "{scope:?}");
    }
}
