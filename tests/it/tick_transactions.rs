//! Ticks change in one statement with their activity entry and their enrolment's mark
//! for its automatic audit; changes to one enrolment take turns, changes to several go
//! together (`db::tick_writer`): many at once all succeed, each logged once.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use attest::db::auto_audit::audit_due;
use attest::db::tick_writer::{BatchHook, TickWriter};
use attest::db::ticks::{self, ChangeOutcome, Elsewhere, TickAnswer, TickChange};
use attest::db::version_cache;
use attest::demo::bench::{self, BENCH_PASSWORD};
use attest::domain::ticks::Layer;
use attest::domain::Status;
use attest::testing::test_pool_with;
use attest::web::{router, AppState};
use axum::http::StatusCode;

use crate::helpers::{group, major, units};
use tower::ServiceExt;
use uuid::Uuid;

use crate::http::{form_post_as, signed_in};

/// Four units of ten criteria, one major of all four.
fn four_units() -> attest::domain::qualification::Qualification {
    attest::domain::qualification::Qualification {
        code: "Q/4".into(),
        title: "Four-unit certificate".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(4, 10),
        majors: vec![major("ALL", vec![group("Core", vec![0, 1, 2, 3])])],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_assessor_ticks_and_unticks_at_once_on_one_enrolment_all_succeed_and_are_logged() {
    let pool = test_pool_with(40).await;
    let q = four_units();
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
        "SELECT count(*) FROM audit_marks WHERE enrolment_id = $1",
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

/// A bench enrolment, its assessor and a writer's change to one of its criteria.
struct Ticking {
    pool: sqlx::PgPool,
    f: bench::BenchFixture,
    assessor: Uuid,
}

impl Ticking {
    async fn new() -> Ticking {
        let pool = test_pool_with(10).await;
        let q = four_units();
        let f = bench::load(&pool, &q, 2).await.expect("fixture");
        assert!(f.free_criteria.len() >= 2, "two criteria free to tick");
        let assessor: Uuid =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'assessor@bench.attest.test'")
                .fetch_one(&pool)
                .await
                .expect("assessor");
        Ticking { pool, f, assessor }
    }

    fn tick(&self, criterion: Uuid) -> TickChange {
        TickChange {
            enrolment_id: self.f.enrolment_id,
            evidence_id: self.f.evidence_id,
            criterion_id: criterion,
            layer: Layer::Assessor,
            by: self.assessor,
            adding: true,
            judged_in: Status::NotYetAchieved,
            detail: serde_json::Value::Null,
            answer: false,
            vouch: None,
        }
    }

    async fn ticked(&self, criterion: Uuid) -> bool {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM ticks WHERE evidence_id = $1 AND criterion_id = $2 AND layer = 'assessor')",
        )
        .bind(self.f.evidence_id)
        .bind(criterion)
        .fetch_one(&self.pool)
        .await
        .expect("ticked?")
    }
}

/// A guard against a hang, not a measure: the answer comes or the test fails.
async fn answered<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer"))
}

/// Issue 11, point 11: a batch that panics answers its own requests with an error and
/// leaves nothing hanging: the same tick goes through on the next try, and others meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_panics_fails_its_own_ticks_and_ticking_goes_on() {
    let t = Ticking::new().await;
    let (doomed, other) = (t.f.free_criteria[0], t.f.free_criteria[1]);
    let armed = Arc::new(AtomicBool::new(true));
    let hook: BatchHook = {
        let armed = armed.clone();
        Arc::new(move |batch: &[TickChange]| {
            if armed.load(Ordering::SeqCst) && batch.iter().any(|c| c.criterion_id == doomed) {
                panic!("injected fault in a batch of ticks");
            }
        })
    };
    let writer = TickWriter::with_batch_hook(t.pool.clone(), hook);
    let failed = answered("the doomed tick", writer.write(t.tick(doomed))).await;
    assert!(failed.is_err(), "{failed:?}");
    assert!(!t.ticked(doomed).await, "nothing written");
    let fine = answered("another tick", writer.write(t.tick(other))).await;
    assert_eq!(
        fine.expect("written").outcome,
        ChangeOutcome::Done { changed: true }
    );

    armed.store(false, Ordering::SeqCst);
    let again = answered("the same tick again", writer.write(t.tick(doomed))).await;
    assert_eq!(
        again.expect("written").outcome,
        ChangeOutcome::Done { changed: true }
    );
    assert!(t.ticked(doomed).await);
}

/// Issue 11, point 11: a writer task that is gone (killed here, as a panic in it would
/// end it) is replaced by the next tick instead of failing every tick until a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_is_gone_is_replaced_by_the_next_tick() {
    let t = Ticking::new().await;
    let writer = TickWriter::new(t.pool.clone());
    let (first, second) = (t.f.free_criteria[0], t.f.free_criteria[1]);
    let done = answered("a first tick", writer.write(t.tick(first))).await;
    assert_eq!(
        done.expect("written").outcome,
        ChangeOutcome::Done { changed: true }
    );

    answered("killing the writer", writer.kill_writer()).await;
    let done = answered("a tick after", writer.write(t.tick(second))).await;
    assert_eq!(
        done.expect("written").outcome,
        ChangeOutcome::Done { changed: true }
    );
    assert!(t.ticked(first).await && t.ticked(second).await);
}

/// Where each tick on an item is, (criterion, layer), read afresh.
async fn placed_on(pool: &sqlx::PgPool, item: Uuid) -> Vec<(Uuid, Layer)> {
    let placed: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT criterion_id, layer FROM ticks WHERE evidence_id = $1")
            .bind(item)
            .fetch_all(pool)
            .await
            .expect("placed");
    placed
        .into_iter()
        .map(|(c, l)| (c, Layer::from_key(&l).expect("layer")))
        .collect()
}

/// The accept-all counts over the item's criteria but `criterion`, for a changer in
/// `actor`'s layer, as SPEC §2 defines them: a learner's claim without the changer's
/// tick; a trainee's tick without an assessor's.
fn elsewhere_of(placed: &[(Uuid, Layer)], criterion: Uuid, actor: Layer) -> Elsewhere {
    let has = |c: Uuid, l: Layer| placed.contains(&(c, l));
    let others: std::collections::BTreeSet<Uuid> = placed
        .iter()
        .map(|&(c, _)| c)
        .filter(|&c| c != criterion)
        .collect();
    Elsewhere {
        learner: others
            .iter()
            .filter(|&&c| has(c, Layer::Learner) && !has(c, actor))
            .count(),
        trainee: others
            .iter()
            .filter(|&&c| has(c, Layer::TraineeAssessor) && !has(c, Layer::Assessor))
            .count(),
    }
}

/// The item as an in-place answer of a change to `criterion` by someone in `actor`'s
/// layer must show it, read afresh: the accept-all counts over the other criteria, and
/// the criterion's ticks.
async fn item_now(pool: &sqlx::PgPool, item: Uuid, criterion: Uuid, actor: Layer) -> TickAnswer {
    let row: Vec<(String, Uuid, time::OffsetDateTime)> = sqlx::query_as(
        "SELECT t.layer, t.ticked_by, t.ticked_at FROM ticks t \
          WHERE t.evidence_id = $1 AND t.criterion_id = $2",
    )
    .bind(item)
    .bind(criterion)
    .fetch_all(pool)
    .await
    .expect("row");
    TickAnswer {
        elsewhere: elsewhere_of(&placed_on(pool, item).await, criterion, actor),
        row: row
            .into_iter()
            .map(|(l, by, at)| attest::domain::ticks::Tick {
                criterion,
                layer: Layer::from_key(&l).expect("layer"),
                by,
                at,
            })
            .collect(),
    }
}

/// An answer in a comparable order: the row by layer.
fn sorted(mut a: TickAnswer) -> TickAnswer {
    a.row.sort_by_key(|t| t.layer.key());
    a
}

fn answer_of(w: attest::db::ticks::Written) -> TickAnswer {
    assert!(
        matches!(w.outcome, ChangeOutcome::Done { .. }),
        "{:?}",
        w.outcome
    );
    sorted(w.answer.expect("an answer was asked for"))
}

/// Issue 10 (the in-place tick's speed): the answer comes from the write's own statement.
/// Alone, a change answers exactly what a read afterwards finds, whether it added,
/// removed or changed nothing; in a batch, each answers the item as it was before the
/// batch with its own change made, and a change that asked for nothing gets nothing.
#[tokio::test]
async fn a_tick_answers_with_its_item_as_the_change_left_it() {
    let t = Ticking::new().await;
    let (a, b) = (t.f.free_criteria[0], t.f.free_criteria[1]);
    let learner: Uuid = sqlx::query_scalar("SELECT learner_id FROM enrolments WHERE id = $1")
        .bind(t.f.enrolment_id)
        .fetch_one(&t.pool)
        .await
        .expect("learner");
    let item = t.f.evidence_id;
    let asking = |criterion: Uuid, layer: Layer, adding: bool| TickChange {
        layer,
        by: if layer == Layer::Learner {
            learner
        } else {
            t.assessor
        },
        adding,
        answer: true,
        vouch: None,
        ..t.tick(criterion)
    };
    // Claims on two other criteria, one of them confirmed: one left to accept elsewhere.
    let (c, d) = (t.f.free_criteria[2], t.f.free_criteria[3]);
    for change in [
        asking(c, Layer::Learner, true),
        asking(d, Layer::Learner, true),
        asking(d, Layer::Assessor, true),
    ] {
        ticks::change_logged(&t.pool, &change).await.expect("tick");
    }

    // Alone: added, then nothing changed (ticked already), then the same read finds.
    for change in [
        asking(a, Layer::Learner, true),
        asking(a, Layer::Learner, true),
    ] {
        let w = ticks::change_logged(&t.pool, &change).await.expect("tick");
        assert_eq!(
            answer_of(w),
            sorted(item_now(&t.pool, item, a, Layer::Learner).await)
        );
    }
    let claim = item_now(&t.pool, item, a, Layer::Assessor).await;
    assert_eq!(claim.row.len(), 1, "the learner's claim is on the row");
    assert!(
        claim.elsewhere.learner >= 1,
        "a claim to accept elsewhere: {:?}",
        claim.elsewhere
    );

    // Together: the assessor confirms a, ticks b, and the learner withdraws the claim on a.
    let before = placed_on(&t.pool, item).await;
    let batch = [
        asking(a, Layer::Assessor, true),
        asking(b, Layer::Assessor, true),
        asking(a, Layer::Learner, false),
        TickChange {
            answer: false,
            vouch: None,
            ..asking(b, Layer::Learner, true)
        },
    ];
    let written = ticks::change_logged_many(&t.pool, &batch)
        .await
        .expect("batch");
    let after = item_now(&t.pool, item, a, Layer::Assessor).await;
    let mut w = written.into_iter();
    let confirm_a = answer_of(w.next().expect("first"));
    let assessor_tick = after
        .row
        .iter()
        .find(|t| t.layer == Layer::Assessor)
        .cloned()
        .expect("the assessor's tick on a");
    let expected = TickAnswer {
        elsewhere: elsewhere_of(&before, a, Layer::Assessor),
        row: vec![claim.row[0].clone(), assessor_tick],
    };
    assert_eq!(
        confirm_a,
        sorted(expected),
        "a confirmed, the claim still there"
    );

    let tick_b = answer_of(w.next().expect("second"));
    assert_eq!(
        tick_b.elsewhere,
        elsewhere_of(&before, b, Layer::Assessor),
        "b ticked alone"
    );
    let b_now = item_now(&t.pool, item, b, Layer::Assessor).await;
    let assessor_on_b: Vec<_> = b_now
        .row
        .into_iter()
        .filter(|t| t.layer == Layer::Assessor)
        .collect();
    assert_eq!(
        tick_b.row, assessor_on_b,
        "b's row: the assessor's tick only"
    );

    let withdraw_a = answer_of(w.next().expect("third"));
    let expected = TickAnswer {
        elsewhere: elsewhere_of(&before, a, Layer::Learner),
        row: Vec::new(),
    };
    assert_eq!(withdraw_a, expected, "the claim withdrawn, nothing else");

    let silent = w.next().expect("fourth");
    assert_eq!(silent.outcome, ChangeOutcome::Done { changed: true });
    assert_eq!(silent.answer, None, "no answer asked for");

    // Alone again, a removal answers what a read finds.
    let w = ticks::change_logged(&t.pool, &asking(a, Layer::Assessor, false))
        .await
        .expect("untick");
    assert_eq!(
        answer_of(w),
        sorted(item_now(&t.pool, item, a, Layer::Assessor).await)
    );
}
