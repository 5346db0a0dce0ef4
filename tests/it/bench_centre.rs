//! The benchmark centre grown to a real centre's size is what the app itself would have
//! made: the triggers are off while it copies, so what they keep is checked here.
use attest::db::figures;
use attest::demo::bench;
use attest::demo::bench_centre::{self, Mix};
use attest::testing::test_pool;

use crate::helpers::{group, major, units};

#[tokio::test]
async fn a_grown_centre_holds_what_the_triggers_would_have_kept() {
    grown_centre_holds_what_the_triggers_would_have_kept(Mix::Established).await;
}

/// The 100,000-enrolment mix (issue 16) is grown by the same statements.
#[tokio::test]
async fn a_growing_centre_holds_what_the_triggers_would_have_kept() {
    grown_centre_holds_what_the_triggers_would_have_kept(Mix::Growing).await;
}

async fn grown_centre_holds_what_the_triggers_would_have_kept(mix: Mix) {
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
    let grown = bench_centre::grow(&pool, &f, 80, mix).await.expect("grown");
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
    // Every item's text as the reading job would leave it, ranked with the model (so that
    // a bench server with the model starts no walk to rank them again), nothing queued.
    let files = attest::web::files::FileStore::new(
        attest::testing::test_dir().join("bench-files"),
        attest::web::files::DEFAULT_MAX_BYTES,
    );
    let model = std::sync::Arc::new(crate::embedding::model());
    bench::texts_read(&pool, &files, Some(&model), &f)
        .await
        .expect("texts");
    let (items, read_as_original, ranked, queued): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), \
                count(*) FILTER (WHERE t.done = t.wanted AND t.text = ev.title || E'\\n\\n' || ev.description), \
                count(*) FILTER (WHERE t.suggested_by = 'hybrid'), \
                (SELECT count(*) FROM jobs WHERE kind = 'evidence text' AND state = 'queued') \
           FROM evidence ev JOIN enrolments e ON e.id = ev.enrolment_id \
           LEFT JOIN evidence_texts t ON t.evidence_id = ev.id WHERE e.centre_id = $1",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("texts checked");
    assert!(items > 80, "{items}");
    assert_eq!(read_as_original, items, "every item's text is read");
    assert_eq!(ranked, items, "every item is ranked with the model");
    assert_eq!(queued, 0);
    let (kept, recounted): (i64, i64) = sqlx::query_as(
        "SELECT c.enrolments, (SELECT count(*) FROM enrolments e WHERE e.centre_id = c.centre_id) \
           FROM centre_enrolment_counts c WHERE c.centre_id = $1",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("the centre's kept count");
    assert_eq!(kept, recounted, "the centre's enrolments are counted");
    assert!(names_kept, "every learner's name is on their enrolment");
    // Each account's kept roles (migration 0026), which the people list filters on.
    let roles_unkept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users u WHERE u.centre_id = $1 AND u.role_ranks <> \
             ARRAY(SELECT role_rank(r.role) FROM user_roles r WHERE r.user_id = u.id ORDER BY 1)",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("roles");
    assert_eq!(roles_unkept, 0, "every account's roles are kept");
    let people_unkept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ( \
           (SELECT role, active, people FROM centre_people_counts WHERE centre_id = $1 AND people > 0 \
            EXCEPT SELECT '', active, count(*) FROM users WHERE centre_id = $1 GROUP BY active) \
           EXCEPT SELECT r.role, u.active, count(*) FROM user_roles r JOIN users u ON u.id = r.user_id \
                   WHERE u.centre_id = $1 GROUP BY r.role, u.active) x",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("people counts");
    assert_eq!(people_unkept, 0, "the people list's counts are kept");
    let queues_unkept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM enrolments e LEFT JOIN enrolment_queues q ON q.enrolment_id = e.id \
          WHERE e.centre_id = $1 AND (q.enrolment_id IS NULL \
             OR (q.centre_id, q.claims_to_review, q.awaiting_countersignature, q.learner_sort) \
                IS DISTINCT FROM (e.centre_id, e.claims_to_review, e.awaiting_countersignature, e.learner_sort))",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("queues");
    assert_eq!(queues_unkept, 0, "the report's queues are kept");
    // The quiet ones' copy (migration 0050): each quiet before the line, as it is.
    let (quiet, quiet_unkept): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE e.last_activity_at < (SELECT through FROM quiet_through)), \
                count(*) FILTER (WHERE (e.last_activity_at < (SELECT through FROM quiet_through)) \
                    IS DISTINCT FROM (q.id IS NOT NULL) \
                    OR (q.id IS NOT NULL AND row(q.*)::text <> row(e.id, e.centre_id, e.learner_sort, \
                        e.learner_search, e.version_id, e.major_id, e.assessor_id, e.trainee_assessor_id, \
                        e.iqa_id, e.status, e.latest_outcome, e.outcome_rank, e.progress, e.units_achieved, \
                        e.claims_to_review, e.awaiting_countersignature, e.open_iqa_actions, \
                        e.last_activity_at, e.last_activity_on)::text)) \
           FROM enrolments e LEFT JOIN quiet_enrolments q ON q.id = e.id WHERE e.centre_id = $1",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("quiet copy");
    assert!(quiet > 0, "some learners are quiet");
    assert_eq!(quiet_unkept, 0, "the quiet ones' copy is kept");
    // The centre's tallies (migration 0053).
    crate::tallies::assert_tallies_are_recount(&pool, f.centre_id, "the fixture's load").await;
    crate::quiet::assert_quiet_tallies_are_recount(&pool, "the fixture's load").await;
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
    // Some learners are quiet, some have IQA actions open, the complete ones have
    // achieved (and some are certificated).
    let (quiet, actions, achieved, issued): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE last_activity_at < now() - interval '30 days'), \
                count(*) FILTER (WHERE open_iqa_actions > 0), \
                count(*) FILTER (WHERE status IN ('ready_to_be_requested', 'credential_issued')), \
                count(*) FILTER (WHERE status = 'credential_issued') \
           FROM enrolments WHERE centre_id = $1",
    )
    .bind(f.centre_id)
    .fetch_one(&pool)
    .await
    .expect("spread");
    assert!(
        quiet > 0 && actions > 0 && achieved > 0,
        "quiet {quiet}, actions {actions}, achieved {achieved}, issued {issued}"
    );
}

/// The apprenticeships loaded for issue 14's benchmark hold what the app's write paths
/// would have kept: the minutes equal a recount of the log, the schedule the reviews.
#[tokio::test]
async fn loaded_apprenticeships_hold_what_the_write_paths_would_have_kept() {
    use attest::demo::bench_apprenticeships::{grow, ENTRIES, REVIEWS};
    let pool = test_pool().await;
    attest::demo::load::load_if_empty(&pool)
        .await
        .expect("demo");
    let enrolments: i64 = sqlx::query_scalar("SELECT count(*) FROM enrolments")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(grow(&pool, &pool).await.expect("loaded"), enrolments);
    // A benchmark run logs (and here also approves) entries of its own; run again, the
    // loader takes them away and the figures follow.
    sqlx::query(
        "INSERT INTO otj_entries (id, enrolment_id, day, minutes, activity, what, state, \
                decided_by, decided_at, logged_by) \
         SELECT gen_random_uuid(), a.enrolment_id, a.start_on + 1, 90, 'Shadowing', \
                'Shadowed a colleague', 'approved', e.learner_id, now(), e.learner_id \
           FROM apprenticeships a JOIN enrolments e ON e.id = a.enrolment_id",
    )
    .execute(&pool)
    .await
    .expect("a benchmark's entries");
    assert_eq!(
        grow(&pool, &pool).await.expect("again"),
        enrolments,
        "once only"
    );
    let (entries, reviews, kept_minutes, kept_schedule, behind): (i64, i64, bool, bool, i64) =
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM otj_entries), (SELECT count(*) FROM progress_reviews), \
                    bool_and(a.approved_minutes = (SELECT coalesce(sum(minutes), 0) FROM otj_entries o \
                                                    WHERE o.enrolment_id = a.enrolment_id AND state = 'approved') \
                         AND a.pending_entries = (SELECT count(*) FROM otj_entries o \
                                                   WHERE o.enrolment_id = a.enrolment_id AND state = 'pending')), \
                    bool_and(a.last_review_on = (SELECT max(held_on) FROM progress_reviews p \
                                                  WHERE p.enrolment_id = a.enrolment_id) \
                         AND a.next_review_due = a.last_review_on + 84 \
                         AND a.oldest_unsigned_review_on IS NOT NULL), \
                    count(*) FILTER (WHERE a.behind_from NOT BETWEEN a.start_on AND a.adjusted_end_on + 1) \
               FROM apprenticeships a",
        )
        .fetch_one(&pool)
        .await
        .expect("figures");
    assert_eq!(entries, enrolments * i64::from(ENTRIES));
    assert_eq!(reviews, enrolments * i64::from(REVIEWS));
    assert!(kept_minutes, "the minutes are the log's");
    assert!(kept_schedule, "the schedule is the reviews'");
    assert_eq!(behind, 0, "behind, if ever, from a day of the programme");
    // The trigger is back on: a new entry moves the figures.
    let trigger_on: bool = sqlx::query_scalar(
        "SELECT tgenabled <> 'D' FROM pg_trigger WHERE tgname = 'otj_entries_keep_minutes'",
    )
    .fetch_one(&pool)
    .await
    .expect("trigger");
    assert!(trigger_on);
}
