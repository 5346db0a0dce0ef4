//! The figures kept on each enrolment (migration 0014) always equal a count from
//! scratch: after every kind of change, over random sequences of changes, and with
//! ticks written concurrently and in batches.
use attest::db::figures::{self, KeptFigures};
use attest::db::tick_writer::TickWriter;
use attest::db::ticks::{self, ChangeOutcome, TickChange};
use attest::db::{audits, enrolments, iqa, qualifications};
use attest::domain::figures::Figures;
use attest::domain::iqa::{Sampled, Verdict};
use attest::domain::progress::Layers;
use attest::domain::ticks::Layer;
use proptest::prelude::*;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{add_evidence, group, major, units, world_with, World};

/// Three units of three criteria; major "ALL" needs every unit, "FIRST" the first.
fn nine_criteria() -> attest::domain::Qualification {
    attest::domain::Qualification {
        code: "KEPT/1".into(),
        title: "Kept figures certificate".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(3, 3),
        majors: vec![
            major("ALL", vec![group("Mandatory", vec![0, 1, 2])]),
            major("FIRST", vec![group("Unit one", vec![0])]),
        ],
    }
}

/// What a count from scratch gives for everything the database keeps: ticks through the
/// domain's one definition (`Figures::of`), the rest straight from their tables.
async fn recounted(pool: &PgPool, enrolment_id: Uuid) -> KeptFigures {
    let enrolment = enrolments::get(pool, enrolment_id).await.unwrap();
    let version = qualifications::load_version(pool, enrolment.version_id)
        .await
        .unwrap();
    let mut layers = vec![Layers::default(); version.criterion_ids.len()];
    for (_, criterion, layer) in ticks::placed_on_enrolment(pool, enrolment_id)
        .await
        .unwrap()
    {
        layers[version.criterion_ordinal(criterion).unwrap()].add(layer);
    }
    let f = Figures::of(&version.qualification, &layers);
    let (open, sampled): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE decision = 'action_required' AND closed_at IS NULL), \
                count(DISTINCT unit_id) FROM iqa_decisions WHERE enrolment_id = $1",
    )
    .bind(enrolment_id)
    .fetch_one(pool)
    .await
    .unwrap();
    let latest = audits::latest_audit(pool, enrolment_id).await.unwrap();
    let int = |n: u32| i32::try_from(n).unwrap();
    KeptFigures {
        confirmed_criteria: int(f.confirmed),
        awaiting_countersignature: int(f.awaiting_countersignature),
        claims_to_review: int(f.claims_to_review),
        units_achieved: int(f.units_achieved),
        units_assessed: int(f.units_assessed),
        open_iqa_actions: i32::try_from(open).unwrap(),
        units_sampled: i32::try_from(sampled).unwrap(),
        latest_audit_id: latest.as_ref().map(|a| a.id),
        latest_outcome: latest.map(|a| a.outcome.key().to_string()),
        // Not a count: compared apart where a change moves it.
        last_activity_at: enrolment.last_activity_at,
    }
}

/// The kept figures equal the domain's count, and the database's own recount (run in a
/// transaction that is rolled back) agrees with both.
async fn assert_true(pool: &PgPool, enrolment_id: Uuid, after: &str) {
    let kept = figures::kept(pool, enrolment_id).await.unwrap();
    let expected = recounted(pool, enrolment_id).await;
    assert_eq!(kept, expected, "kept figures after {after}");
    let mut tx = pool.begin().await.unwrap();
    figures::recount(&mut *tx, &[enrolment_id]).await.unwrap();
    let again = figures::kept(&mut *tx, enrolment_id).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(again, expected, "the database's recount after {after}");
    // The report's queue (migration 0039) holds the same figures.
    let queued: (i32, i32) = sqlx::query_as(
        "SELECT claims_to_review, awaiting_countersignature FROM enrolment_queues \
          WHERE enrolment_id = $1",
    )
    .bind(enrolment_id)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        queued,
        (kept.claims_to_review, kept.awaiting_countersignature),
        "the report's queue after {after}"
    );
    // And the centre's tallies (migration 0053) follow them.
    let centre: Uuid = sqlx::query_scalar("SELECT centre_id FROM enrolments WHERE id = $1")
        .bind(enrolment_id)
        .fetch_one(pool)
        .await
        .unwrap();
    crate::tallies::assert_tallies_are_recount(pool, centre, after).await;
}

fn person(w: &World, layer: Layer) -> Uuid {
    match layer {
        Layer::Learner => w.learner.id,
        Layer::TraineeAssessor => w.trainee.id,
        Layer::Assessor => w.assessor.id,
    }
}

async fn change(w: &World, item: Uuid, criterion: Uuid, layer: Layer, adding: bool) {
    let status = enrolments::get(&w.pool, w.enrolment.id)
        .await
        .unwrap()
        .status;
    let done = ticks::change_logged(
        &w.pool,
        &TickChange {
            enrolment_id: w.enrolment.id,
            evidence_id: item,
            criterion_id: criterion,
            layer,
            by: person(w, layer),
            adding,
            judged_in: status,
            detail: serde_json::json!({}),
            answer: false,
            vouch: None,
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(done.outcome, ChangeOutcome::Done { .. }),
        "{done:?}"
    );
}

async fn kept_world() -> (World, Vec<Uuid>) {
    let w = world_with(&nine_criteria()).await;
    sqlx::query("UPDATE enrolments SET trainee_assessor_id = $2, iqa_id = $3 WHERE id = $1")
        .bind(w.enrolment.id)
        .bind(w.trainee.id)
        .bind(w.iqa.id)
        .execute(&w.pool)
        .await
        .unwrap();
    let c = crate::helpers::criteria(&w.pool, w.version.version_id).await;
    (w, c)
}

/// The tick statement keeps its own figures and asks the ticks' triggers to leave them
/// for that statement only (migration 0059): later writes to ticks in the same
/// transaction, another tick statement's or any other writer's, are kept as before.
#[tokio::test]
async fn a_tick_statement_leaves_later_writes_in_its_transaction_to_the_triggers() {
    let (w, c) = kept_world().await;
    let item = add_evidence(&w, "One").await;
    let status = enrolments::get(&w.pool, w.enrolment.id)
        .await
        .unwrap()
        .status;
    let tick = |criterion: Uuid, adding: bool| TickChange {
        enrolment_id: w.enrolment.id,
        evidence_id: item,
        criterion_id: criterion,
        layer: Layer::Assessor,
        by: w.assessor.id,
        adding,
        judged_in: status,
        detail: serde_json::json!({}),
        answer: false,
        vouch: None,
    };
    let mut tx = w.pool.begin().await.unwrap();
    ticks::change_logged_many(&mut *tx, &[tick(c[0], true), tick(c[1], true)])
        .await
        .unwrap();
    ticks::change_logged_many(&mut *tx, &[tick(c[1], false), tick(c[2], true)])
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO ticks (evidence_id, criterion_id, layer, enrolment_id, version_id, ticked_by) \
         SELECT id, $2, 'learner', enrolment_id, version_id, $3 FROM evidence WHERE id = $1",
    )
    .bind(item)
    .bind(c[3])
    .bind(w.learner.id)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "DELETE FROM ticks WHERE evidence_id = $1 AND criterion_id = $2 AND layer = 'assessor'",
    )
    .bind(item)
    .bind(c[0])
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let kept = figures::kept(&w.pool, w.enrolment.id).await.unwrap();
    assert_eq!(
        (kept.confirmed_criteria, kept.claims_to_review),
        (1, 1),
        "c[2] confirmed, c[3] claimed"
    );
    assert_true(
        &w.pool,
        w.enrolment.id,
        "two tick statements and two plain writes in one transaction",
    )
    .await;
}

#[tokio::test]
async fn every_kind_of_change_keeps_the_figures_equal_to_a_recount() {
    let (w, c) = kept_world().await;
    let id = w.enrolment.id;
    assert_true(&w.pool, id, "enrolment").await;

    let before = figures::kept(&w.pool, id).await.unwrap().last_activity_at;
    let item = add_evidence(&w, "Workbook").await;
    let other = add_evidence(&w, "Observation").await;
    let moved = figures::kept(&w.pool, id).await.unwrap().last_activity_at;
    assert!(moved > before, "evidence added moves last activity");
    assert_true(&w.pool, id, "evidence added").await;

    for &k in &c[0..4] {
        change(&w, item, k, Layer::Learner, true).await;
    }
    change(&w, other, c[0], Layer::Learner, true).await;
    assert_true(&w.pool, id, "learner claims").await;
    assert_eq!(
        figures::kept(&w.pool, id).await.unwrap().claims_to_review,
        4
    );

    change(&w, item, c[1], Layer::TraineeAssessor, true).await;
    change(&w, item, c[5], Layer::TraineeAssessor, true).await;
    assert_true(&w.pool, id, "trainee ticks").await;

    // Countersigning: the assessor ticks what the trainee ticked, on the same item.
    change(&w, item, c[1], Layer::Assessor, true).await;
    assert_true(&w.pool, id, "countersignature").await;

    // Accept all learner ticks on the item, in the assessor's layer.
    let added = crate::ticking::accept_layer(
        &w.pool,
        item,
        Layer::Learner,
        Layer::Assessor,
        w.assessor.id,
    )
    .await
    .unwrap();
    assert_eq!(added, 3, "1.2 was already confirmed");
    assert_true(&w.pool, id, "accept all learner ticks").await;
    let kept = figures::kept(&w.pool, id).await.unwrap();
    assert_eq!((kept.units_achieved, kept.units_assessed), (1, 2));

    // Accept all trainee ticks, then untick one of them and one learner claim.
    crate::ticking::accept_layer(
        &w.pool,
        item,
        Layer::TraineeAssessor,
        Layer::Assessor,
        w.assessor.id,
    )
    .await
    .unwrap();
    assert_true(&w.pool, id, "accept all trainee ticks").await;
    change(&w, item, c[5], Layer::Assessor, false).await;
    change(&w, other, c[0], Layer::Learner, false).await;
    assert_true(&w.pool, id, "unticks").await;
    // The same criterion confirmed on a second item, then unticked from the first:
    // still confirmed.
    change(&w, other, c[3], Layer::Assessor, true).await;
    change(&w, item, c[3], Layer::Assessor, false).await;
    assert_true(&w.pool, id, "a confirmation moved between items").await;

    // IQA decisions: an agreement, an action, the action addressed and closed.
    let unit = qualifications::load_version(&w.pool, w.version.version_id)
        .await
        .unwrap()
        .unit_ids;
    iqa::record(
        &w.pool,
        id,
        w.version.version_id,
        w.iqa.id,
        Sampled::Unit(unit[0]),
        Verdict::Agreed,
        "",
    )
    .await
    .unwrap();
    let action = iqa::record(
        &w.pool,
        id,
        w.version.version_id,
        w.iqa.id,
        Sampled::Unit(unit[0]),
        Verdict::ActionRequired,
        "Check 1.3 against the workbook",
    )
    .await
    .unwrap();
    iqa::record(
        &w.pool,
        id,
        w.version.version_id,
        w.iqa.id,
        Sampled::Evidence(item),
        Verdict::ActionRequired,
        "Sign it",
    )
    .await
    .unwrap();
    assert_true(&w.pool, id, "IQA decisions").await;
    let kept = figures::kept(&w.pool, id).await.unwrap();
    assert_eq!((kept.open_iqa_actions, kept.units_sampled), (2, 1));
    assert!(iqa::address(&w.pool, action, w.assessor.id).await.unwrap());
    assert_true(&w.pool, id, "an action addressed").await;
    assert!(iqa::close(&w.pool, action, w.iqa.id).await.unwrap());
    assert_true(&w.pool, id, "an action closed").await;
    assert_eq!(
        figures::kept(&w.pool, id).await.unwrap().open_iqa_actions,
        1
    );

    // Audits, manual and through a switch of major.
    let audited = audits::audit_enrolment(&w.pool, id, Some(w.assessor.id))
        .await
        .unwrap();
    assert_true(&w.pool, id, "an audit").await;
    let kept = figures::kept(&w.pool, id).await.unwrap();
    assert_eq!(kept.latest_audit_id, Some(audited.audit_id));
    assert_eq!(
        kept.latest_outcome.as_deref(),
        Some("other_majors_achieved")
    );
    let first = qualifications::major_id(&w.pool, w.version.version_id, "FIRST")
        .await
        .unwrap();
    let switched = audits::switch_major(&w.pool, id, first, Some(w.assessor.id))
        .await
        .unwrap();
    assert_true(&w.pool, id, "a switch of major").await;
    let kept = figures::kept(&w.pool, id).await.unwrap();
    assert_eq!(kept.latest_audit_id, Some(switched.audit_id));
    assert_eq!(
        kept.latest_outcome.as_deref(),
        Some("assigned_major_achieved")
    );
}

#[tokio::test]
async fn a_statement_that_moves_a_confirmation_between_items_counts_it_once() {
    let (w, c) = kept_world().await;
    let (one, two) = (add_evidence(&w, "One").await, add_evidence(&w, "Two").await);
    change(&w, one, c[0], Layer::Assessor, true).await;
    change(&w, one, c[1], Layer::TraineeAssessor, true).await;
    // One statement removes the confirmation of 1.1 from the first item and adds it on
    // the second, and countersigns 1.2: its insert and its delete fire a trigger each,
    // and each sees the other's change already made.
    sqlx::query(
        "WITH gone AS (DELETE FROM ticks WHERE evidence_id = $1 AND criterion_id = $3 AND layer = 'assessor' RETURNING 1), \
         added AS (INSERT INTO ticks (evidence_id, criterion_id, layer, enrolment_id, version_id, ticked_by) \
                   SELECT ev.id, k, 'assessor', ev.enrolment_id, ev.version_id, $5 \
                   FROM evidence ev, UNNEST(ARRAY[$3, $4]::uuid[]) AS k \
                   WHERE ev.id = $2 RETURNING 1) \
         SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM added)",
    )
    .bind(one)
    .bind(two)
    .bind(c[0])
    .bind(c[1])
    .bind(w.assessor.id)
    .execute(&w.pool)
    .await
    .unwrap();
    assert_true(
        &w.pool,
        w.enrolment.id,
        "a confirmation moved in one statement",
    )
    .await;
    let kept = figures::kept(&w.pool, w.enrolment.id).await.unwrap();
    assert_eq!(
        (kept.confirmed_criteria, kept.awaiting_countersignature),
        (2, 0)
    );
}

#[tokio::test]
async fn ticks_written_at_once_by_many_requests_keep_the_figures_true() {
    let (w, c) = kept_world().await;
    let items = [
        add_evidence(&w, "One").await,
        add_evidence(&w, "Two").await,
        add_evidence(&w, "Three").await,
    ];
    // Every layer ticks every criterion on every item at once, through the batching
    // writer and on separate connections; then half of it is unticked at once.
    let writer = TickWriter::new(w.pool.clone());
    let wave = |adding: bool, keep: fn(usize) -> bool| {
        let mut all = Vec::new();
        for (i, &item) in items.iter().enumerate() {
            for (k, &criterion) in c.iter().enumerate() {
                for layer in [Layer::Learner, Layer::TraineeAssessor, Layer::Assessor] {
                    if !keep(i + k + layer as usize) {
                        continue;
                    }
                    let change = TickChange {
                        enrolment_id: w.enrolment.id,
                        evidence_id: item,
                        criterion_id: criterion,
                        layer,
                        by: person(&w, layer),
                        adding,
                        judged_in: attest::domain::Status::NotYetAchieved,
                        detail: serde_json::json!({}),
                        answer: (i + k) % 3 == 0,
                        vouch: None,
                    };
                    let (writer, pool) = (writer.clone(), w.pool.clone());
                    all.push(tokio::spawn(async move {
                        if (i + k) % 2 == 0 {
                            writer.write(change).await
                        } else {
                            ticks::change_logged(&pool, &change).await
                        }
                    }));
                }
            }
        }
        all
    };
    for done in wave(true, |_| true) {
        done.await.unwrap().unwrap();
    }
    assert_true(&w.pool, w.enrolment.id, "ticks at once").await;
    for done in wave(false, |n| n % 2 == 0) {
        done.await.unwrap().unwrap();
    }
    assert_true(&w.pool, w.enrolment.id, "unticks at once").await;
    // Accept-all on every item at once confirms the same criteria on three items in
    // three transactions that take no lock before they insert: the database must still
    // count each criterion once. Unticks of the assessor layer go alongside.
    for round in 0..4 {
        let mut all = Vec::new();
        for &item in &items {
            let pool = w.pool.clone();
            let by = w.assessor.id;
            all.push(tokio::spawn(async move {
                crate::ticking::accept_layer(&pool, item, Layer::Learner, Layer::Assessor, by)
                    .await
                    .map(|_| ())
            }));
        }
        for (k, &criterion) in c.iter().enumerate().filter(|(k, _)| (k + round) % 3 == 0) {
            let (pool, item) = (w.pool.clone(), items[k % 3]);
            all.push(tokio::spawn(async move {
                crate::ticking::untick(&pool, item, criterion, Layer::Assessor)
                    .await
                    .map(|_| ())
            }));
        }
        for done in all {
            done.await.unwrap().unwrap();
        }
        assert_true(
            &w.pool,
            w.enrolment.id,
            &format!("accept-all round {round}"),
        )
        .await;
    }
}

/// Waits until some other session of the test's database waits for a lock.
async fn until_someone_waits_for_a_lock(pool: &PgPool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nobody came to wait for the lock"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_change_that_waits_for_another_on_the_same_enrolment_counts_after_it() {
    let (w, c) = kept_world().await;
    let (one, two) = (add_evidence(&w, "One").await, add_evidence(&w, "Two").await);
    for &item in &[one, two] {
        for &k in &c[0..3] {
            change(&w, item, k, Layer::Learner, true).await;
        }
    }
    // The first accept-all is written but not committed when the second one starts:
    // both confirm the same three criteria, on different items.
    let mut first = w.pool.begin().await.unwrap();
    // The accept-all's own statement (the set-based path of the trigger), left open.
    ticks::tick_many(&mut *first, one, &c[0..3], Layer::Assessor, w.assessor.id)
        .await
        .unwrap();
    let pool = w.pool.clone();
    let by = w.assessor.id;
    let second = tokio::spawn(async move {
        crate::ticking::accept_layer(&pool, two, Layer::Learner, Layer::Assessor, by).await
    });
    until_someone_waits_for_a_lock(&w.pool).await;
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap().unwrap(), 3);
    assert_true(
        &w.pool,
        w.enrolment.id,
        "two accept-alls, one after the other",
    )
    .await;
    assert_eq!(
        figures::kept(&w.pool, w.enrolment.id)
            .await
            .unwrap()
            .confirmed_criteria,
        3
    );
}

/// One change a property test makes.
#[derive(Debug, Clone)]
enum Op {
    Tick {
        item: usize,
        criterion: usize,
        layer: Layer,
        adding: bool,
    },
    /// Several changes to different ticks in one statement, as the tick writer sends
    /// them when they arrive together.
    Batch(Vec<(usize, usize, Layer, bool)>),
    AcceptAll {
        item: usize,
        from: Layer,
    },
    Decide {
        unit: usize,
        action: bool,
    },
    AddressAndCloseOldest,
    Audit,
    SwitchMajor {
        first: bool,
    },
}

fn layer() -> impl Strategy<Value = Layer> {
    prop_oneof![
        Just(Layer::Learner),
        Just(Layer::TraineeAssessor),
        Just(Layer::Assessor)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..9usize, layer(), proptest::bool::weighted(0.7))
            .prop_map(|(item, criterion, layer, adding)| Op::Tick { item, criterion, layer, adding }),
        2 => proptest::collection::vec((0..3usize, 0..9usize, layer(), any::<bool>()), 2..12)
            .prop_map(Op::Batch),
        1 => (0..3usize, prop_oneof![Just(Layer::Learner), Just(Layer::TraineeAssessor)])
            .prop_map(|(item, from)| Op::AcceptAll { item, from }),
        1 => (0..3usize, any::<bool>()).prop_map(|(unit, action)| Op::Decide { unit, action }),
        1 => Just(Op::AddressAndCloseOldest),
        1 => Just(Op::Audit),
        1 => any::<bool>().prop_map(|first| Op::SwitchMajor { first }),
    ]
}

async fn apply(w: &World, items: &[Uuid], c: &[Uuid], units: &[Uuid], op: &Op) {
    let id = w.enrolment.id;
    match *op {
        Op::Tick {
            item,
            criterion,
            layer,
            adding,
        } => {
            // Refused once a credential is requested; this test never requests one.
            change(w, items[item], c[criterion], layer, adding).await
        }
        Op::Batch(ref changes) => {
            let status = enrolments::get(&w.pool, id).await.unwrap().status;
            let mut seen = std::collections::HashSet::new();
            let batch: Vec<TickChange> = changes
                .iter()
                .filter(|(item, criterion, layer, _)| seen.insert((*item, *criterion, *layer)))
                .map(|&(item, criterion, layer, adding)| TickChange {
                    enrolment_id: id,
                    evidence_id: items[item],
                    criterion_id: c[criterion],
                    layer,
                    by: person(w, layer),
                    adding,
                    judged_in: status,
                    detail: serde_json::json!({}),
                    answer: criterion % 2 == 0,
                    vouch: None,
                })
                .collect();
            ticks::change_logged_many(&w.pool, &batch).await.unwrap();
        }
        Op::AcceptAll { item, from } => {
            crate::ticking::accept_layer(
                &w.pool,
                items[item],
                from,
                Layer::Assessor,
                w.assessor.id,
            )
            .await
            .unwrap();
        }
        Op::Decide { unit, action } => {
            let (verdict, feedback) = if action {
                (Verdict::ActionRequired, "Needs more")
            } else {
                (Verdict::Agreed, "")
            };
            iqa::record(
                &w.pool,
                id,
                w.version.version_id,
                w.iqa.id,
                Sampled::Unit(units[unit]),
                verdict,
                feedback,
            )
            .await
            .unwrap();
        }
        Op::AddressAndCloseOldest => {
            let open: Option<Uuid> = sqlx::query_scalar(
                "SELECT id FROM iqa_decisions WHERE enrolment_id = $1 AND decision = 'action_required' \
                 AND closed_at IS NULL ORDER BY decided_at, id LIMIT 1",
            )
            .bind(id)
            .fetch_optional(&w.pool)
            .await
            .unwrap();
            if let Some(action) = open {
                iqa::address(&w.pool, action, w.assessor.id).await.unwrap();
                iqa::close(&w.pool, action, w.iqa.id).await.unwrap();
            }
        }
        Op::Audit => {
            audits::audit_enrolment(&w.pool, id, None).await.unwrap();
        }
        Op::SwitchMajor { first } => {
            let code = if first { "FIRST" } else { "ALL" };
            let major = qualifications::major_id(&w.pool, w.version.version_id, code)
                .await
                .unwrap();
            audits::switch_major(&w.pool, id, major, None)
                .await
                .unwrap();
        }
    }
}

#[test]
fn random_sequences_of_changes_keep_the_figures_equal_to_a_recount() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 24,
        failure_persistence: None,
        ..Default::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            runtime.block_on(async {
                let (w, c) = kept_world().await;
                let items = [
                    add_evidence(&w, "One").await,
                    add_evidence(&w, "Two").await,
                    add_evidence(&w, "Three").await,
                ];
                let units = qualifications::load_version(&w.pool, w.version.version_id)
                    .await
                    .unwrap()
                    .unit_ids;
                for (n, op) in ops.iter().enumerate() {
                    apply(&w, &items, &c, &units, op).await;
                    assert_true(&w.pool, w.enrolment.id, &format!("change {n}: {op:?}")).await;
                }
            });
            Ok(())
        })
        .unwrap();
}
