//! SPEC §4's automatic audit: a change to an enrolment's confirmed criteria marks it,
//! in the same statement; the auditor audits each marked enrolment once, when its
//! portfolio has rested (or a few seconds later at most), and every server's auditor
//! can run at once.
use std::time::Duration;

use attest::db::auto_audit::audit_due;
use attest::db::ticks::{self, TickChange};
use attest::db::{centres, enrolments, version_cache};
use attest::demo::bench::{self, BenchFixture, BENCH_PASSWORD};
use attest::domain::qualification::Qualification;
use attest::domain::ticks::Layer;
use attest::domain::Status;
use attest::jobs::{self, WorkerConfig};
use attest::testing::test_pool_with;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{group, major, units};
use crate::http::{form_post_as, send, signed_in};

async fn fixture() -> (PgPool, BenchFixture, Qualification) {
    let pool = test_pool_with(8).await;
    let q = Qualification {
        code: "Q/2".into(),
        title: "Two-unit certificate".into(),
        level: 2,
        awarding_body: "Test Body".into(),
        units: units(2, 8),
        majors: vec![major("ALL", vec![group("Core", vec![0, 1])])],
    };
    let f = bench::load(&pool, &q, 1).await.expect("fixture");
    (pool, f, q)
}

async fn due(pool: &PgPool, enrolment: Uuid) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM audit_marks WHERE enrolment_id = $1)")
        .bind(enrolment)
        .fetch_one(pool)
        .await
        .expect("query")
}

async fn tick(state: &AppState, who: &str, f: &BenchFixture, criterion: Uuid) {
    change(state, who, f, f.evidence_id, criterion, "tick").await;
}

/// `who` ticks or unticks (`action`) `criterion` on `item`, in their own layer.
async fn change(
    state: &AppState,
    who: &str,
    f: &BenchFixture,
    item: Uuid,
    criterion: Uuid,
    action: &str,
) {
    let cookie = signed_in(
        state.clone(),
        &format!("{who}@bench.attest.test"),
        BENCH_PASSWORD,
    )
    .await;
    let reply = send(
        state.clone(),
        form_post_as(
            &cookie,
            &format!("/enrolments/{}/evidence/{item}/ticks", f.enrolment_id),
            &format!("criterion={criterion}&action={action}"),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{who}: {action}");
}

#[tokio::test]
async fn only_assessor_ticks_mark_an_enrolment_and_only_where_the_centre_audits_automatically() {
    let (pool, f, _) = fixture().await;
    let state = AppState::new(pool.clone());
    let free = f.free_criteria.clone();
    assert!(!due(&pool, f.enrolment_id).await);
    tick(&state, "learner", &f, free[0]).await;
    tick(&state, "trainee", &f, free[0]).await;
    assert!(
        !due(&pool, f.enrolment_id).await,
        "claims and trainee ticks confirm nothing"
    );
    tick(&state, "assessor", &f, free[0]).await;
    assert!(
        due(&pool, f.enrolment_id).await,
        "an assessor tick marks it"
    );
    audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("audited");
    assert!(
        !due(&pool, f.enrolment_id).await,
        "the audit clears the mark"
    );

    centres::set_auto_audit(&pool, f.centre_id, false)
        .await
        .expect("setting");
    tick(&state, "assessor", &f, free[1]).await;
    assert!(
        !due(&pool, f.enrolment_id).await,
        "the centre audits by hand"
    );
}

/// SPEC §4 audits when the confirmed criteria change: a second piece of evidence for a
/// criterion already confirmed (or the removal of one of two) confirms nothing new, so it
/// asks for no audit; the last confirmation taken away does.
#[tokio::test]
async fn a_second_confirmation_of_a_criterion_or_its_removal_marks_nothing() {
    let (pool, f, _) = fixture().await;
    let state = AppState::new(pool.clone());
    let learner: Uuid = sqlx::query_scalar("SELECT learner_id FROM enrolments WHERE id = $1")
        .bind(f.enrolment_id)
        .fetch_one(&pool)
        .await
        .expect("the learner");
    let second = attest::db::evidence::add(
        &pool,
        &attest::db::evidence::NewEvidence {
            enrolment_id: f.enrolment_id,
            title: "Witness statement",
            description: "The same task, seen by the supervisor",
            kind: attest::db::evidence::EvidenceKind::Document,
            added_by: learner,
        },
    )
    .await
    .expect("a second item")
    .id;
    let criterion = f.free_criteria[0];

    change(&state, "assessor", &f, f.evidence_id, criterion, "tick").await;
    assert!(due(&pool, f.enrolment_id).await, "the first confirmation");
    audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("audited");
    assert!(!due(&pool, f.enrolment_id).await);

    change(&state, "assessor", &f, second, criterion, "tick").await;
    assert!(
        !due(&pool, f.enrolment_id).await,
        "a second item for a confirmed criterion confirms nothing new"
    );
    change(&state, "assessor", &f, f.evidence_id, criterion, "untick").await;
    assert!(
        !due(&pool, f.enrolment_id).await,
        "the criterion is still confirmed by the second item"
    );
    change(&state, "assessor", &f, second, criterion, "untick").await;
    assert!(
        due(&pool, f.enrolment_id).await,
        "its last confirmation taken away"
    );

    // The same through one statement of several ticks (the tick writer's batch path).
    audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("audited");
    let assessor: Uuid = sqlx::query_scalar("SELECT assessor_id FROM enrolments WHERE id = $1")
        .bind(f.enrolment_id)
        .fetch_one(&pool)
        .await
        .expect("the assessor");
    let batch = |items: &[(Uuid, Uuid, Layer, bool)]| {
        items
            .iter()
            .map(|&(item, criterion, layer, adding)| TickChange {
                enrolment_id: f.enrolment_id,
                evidence_id: item,
                criterion_id: criterion,
                layer,
                by: if layer == Layer::Learner {
                    learner
                } else {
                    assessor
                },
                adding,
                judged_in: Status::NotYetAchieved,
                detail: serde_json::json!({}),
                answer: false,
                vouch: None,
            })
            .collect::<Vec<_>>()
    };
    let (one, other) = (f.free_criteria[1], f.free_criteria[2]);
    ticks::change_logged_many(
        &pool,
        &batch(&[
            (f.evidence_id, one, Layer::Assessor, true),
            (f.evidence_id, other, Layer::Learner, true),
        ]),
    )
    .await
    .expect("written");
    assert!(
        due(&pool, f.enrolment_id).await,
        "confirmed in one statement"
    );
    audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("audited");
    ticks::change_logged_many(
        &pool,
        &batch(&[
            (second, one, Layer::Assessor, true),
            (second, other, Layer::Learner, true),
        ]),
    )
    .await
    .expect("written");
    assert!(
        !due(&pool, f.enrolment_id).await,
        "a second confirmation and a claim in one statement: no confirmation moved"
    );
}

/// Moves a mark and the portfolio's last activity back in time, as if made that long ago.
async fn backdate(pool: &PgPool, enrolment: Uuid, marked: i32, active: i32) {
    sqlx::query(
        "UPDATE audit_marks SET due_at = now() - make_interval(secs => $2) \
         WHERE enrolment_id = $1",
    )
    .bind(enrolment)
    .bind(marked)
    .execute(pool)
    .await
    .expect("mark moved");
    sqlx::query(
        "UPDATE enrolments SET last_activity_at = now() - make_interval(secs => $2) \
         WHERE id = $1",
    )
    .bind(enrolment)
    .bind(active)
    .execute(pool)
    .await
    .expect("activity moved");
}

/// A marked enrolment is audited once its portfolio has rested for the settle, so a
/// burst of confirmations is audited once; one that never rests is audited anyway, eight
/// settles after its mark.
#[tokio::test]
async fn a_mark_waits_for_its_portfolio_to_rest_or_at_most_eight_settles() {
    let (pool, f, _) = fixture().await;
    let state = AppState::new(pool.clone());
    let settle = Duration::from_secs(5);
    let round = || audit_due(&pool, version_cache::shared(), settle);

    tick(&state, "assessor", &f, f.free_criteria[0]).await;
    backdate(&pool, f.enrolment_id, 10, 1).await;
    assert!(
        round().await.expect("ran").is_empty(),
        "marked 10 s ago, but the portfolio moved a second ago"
    );
    assert!(due(&pool, f.enrolment_id).await);
    backdate(&pool, f.enrolment_id, 10, 6).await;
    let audited = round().await.expect("ran");
    assert_eq!(
        audited.iter().map(|a| a.enrolment_id).collect::<Vec<_>>(),
        [f.enrolment_id],
        "rested for longer than the settle"
    );
    assert!(!due(&pool, f.enrolment_id).await);

    tick(&state, "assessor", &f, f.free_criteria[1]).await;
    backdate(&pool, f.enrolment_id, 39, 0).await;
    assert!(
        round().await.expect("ran").is_empty(),
        "still at work, and marked under eight settles ago"
    );
    backdate(&pool, f.enrolment_id, 41, 0).await;
    let audited = round().await.expect("ran");
    assert_eq!(
        audited.iter().map(|a| a.enrolment_id).collect::<Vec<_>>(),
        [f.enrolment_id],
        "never at rest, audited eight settles after its mark"
    );
}

/// Every audit is the automatic one a mark asks for: an admin's, a bulk one and the
/// automatic round each remove it, and the round's audit is written as the others are.
#[tokio::test]
async fn any_audit_removes_the_mark_and_the_automatic_one_is_logged_as_automatic() {
    let (pool, f, _) = fixture().await;
    let state = AppState::new(pool.clone());
    let free = f.free_criteria.clone();

    tick(&state, "assessor", &f, free[0]).await;
    assert!(due(&pool, f.enrolment_id).await);
    attest::db::audits::audit_enrolment(&pool, f.enrolment_id, None)
        .await
        .expect("an admin's audit");
    assert!(!due(&pool, f.enrolment_id).await, "an admin's audit");

    tick(&state, "assessor", &f, free[1]).await;
    assert!(due(&pool, f.enrolment_id).await);
    attest::db::bulk_audit::audit_many(&pool, &[f.enrolment_id], None, |_, _| {})
        .await
        .expect("a bulk audit");
    assert!(!due(&pool, f.enrolment_id).await, "a bulk audit");

    tick(&state, "assessor", &f, free[2]).await;
    let audited = audit_due(&pool, version_cache::shared(), Duration::ZERO)
        .await
        .expect("the automatic audit");
    assert_eq!(
        audited.iter().map(|a| a.enrolment_id).collect::<Vec<_>>(),
        [f.enrolment_id]
    );
    assert!(!due(&pool, f.enrolment_id).await, "the automatic audit");
    let (confirmed, latest): (i32, Uuid) = sqlx::query_as(
        "SELECT a.confirmed_criteria, e.latest_audit_id FROM audits a \
         JOIN enrolments e ON e.id = a.enrolment_id WHERE a.id = $1",
    )
    .bind(audited[0].audit_id)
    .fetch_one(&pool)
    .await
    .expect("the audit");
    let kept: i32 = sqlx::query_scalar("SELECT confirmed_criteria FROM enrolments WHERE id = $1")
        .bind(f.enrolment_id)
        .fetch_one(&pool)
        .await
        .expect("kept figure");
    assert_eq!(confirmed, kept, "it counts every confirmed criterion");
    assert_eq!(latest, audited[0].audit_id, "it is the latest audit");
    let logged: (bool, String) = sqlx::query_as(
        "SELECT (detail->>'automatic')::bool, detail->>'audit' FROM activity_log \
         WHERE enrolment_id = $1 AND action = 'audit' ORDER BY id DESC LIMIT 1",
    )
    .bind(f.enrolment_id)
    .fetch_one(&pool)
    .await
    .expect("the audit's entry");
    assert_eq!(logged, (true, audited[0].audit_id.to_string()));
}

#[tokio::test]
async fn a_mark_waits_for_its_changes_to_settle_and_is_audited_once_by_one_of_many_auditors() {
    let (pool, f, _) = fixture().await;
    let caseload = bench::load_caseload(&pool, &f, 5).await.expect("caseload");
    let state = AppState::new(pool.clone());
    let cookie = signed_in(state.clone(), "assessor@bench.attest.test", BENCH_PASSWORD).await;
    for (enrolment, item) in &caseload {
        let reply = send(
            state.clone(),
            form_post_as(
                &cookie,
                &format!("/enrolments/{enrolment}/evidence/{item}/ticks"),
                &format!("criterion={}&action=tick", f.free_criteria[0]),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
    let audits = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audits")
            .fetch_one(&pool)
            .await
            .expect("count");
        n
    };
    let before = audits().await;
    assert!(
        audit_due(&pool, version_cache::shared(), Duration::from_secs(3600))
            .await
            .expect("ran")
            .is_empty(),
        "nothing has settled for an hour"
    );
    // Four auditors at once, as four servers would run them.
    let runs = (0..4).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut audited = Vec::new();
            loop {
                let round = audit_due(&pool, version_cache::shared(), Duration::ZERO)
                    .await
                    .expect("ran");
                if round.is_empty() {
                    return audited;
                }
                audited.extend(round.into_iter().map(|a| a.enrolment_id));
            }
        })
    });
    let mut audited = Vec::new();
    for run in runs {
        audited.extend(run.await.expect("auditor"));
    }
    audited.sort();
    let mut expected: Vec<Uuid> = caseload.iter().map(|(e, _)| *e).collect();
    expected.sort();
    assert_eq!(
        audited, expected,
        "each marked enrolment audited exactly once"
    );
    assert_eq!(audits().await - before, caseload.len() as i64);
}

#[tokio::test]
async fn the_worker_audits_a_confirmed_portfolio_into_ready_to_be_requested_within_seconds() {
    let (pool, f, q) = fixture().await;
    let state = AppState::new(pool.clone());
    let worker = jobs::spawn(
        pool.clone(),
        state.render.clone(),
        WorkerConfig {
            poll: Duration::from_millis(50),
            audit_settle: Duration::from_millis(100),
            ..WorkerConfig::default()
        },
    );
    let version = attest::db::qualifications::load_version(&pool, {
        enrolments::get(&pool, f.enrolment_id)
            .await
            .expect("enrolment")
            .version_id
    })
    .await
    .expect("version");
    assert_eq!(version.criterion_ids.len(), q.criterion_count());
    for c in &version.criterion_ids {
        tick(&state, "assessor", &f, *c).await;
    }
    let mut status = Status::NotYetAchieved;
    for _ in 0..100 {
        status = enrolments::get(&pool, f.enrolment_id)
            .await
            .expect("enrolment")
            .status;
        if status == Status::ReadyToBeRequested {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
    assert_eq!(status, Status::ReadyToBeRequested);
    assert!(!due(&pool, f.enrolment_id).await);
}
