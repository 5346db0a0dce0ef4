use attest::db::{enrolments, ticks, DbError};
use attest::domain::status::Status;
use attest::domain::ticks::Layer;
use uuid::Uuid;

use crate::helpers::{add_evidence, criteria, world};

#[tokio::test]
async fn only_assessor_ticks_confirm_criteria() {
    let w = world().await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let e1 = add_evidence(&w, "Workbook").await;
    let e2 = add_evidence(&w, "Observation").await;

    assert!(
        crate::ticking::tick(&w.pool, e1, c[0], Layer::Learner, w.learner.id)
            .await
            .unwrap()
    );
    assert!(
        crate::ticking::tick(&w.pool, e1, c[1], Layer::TraineeAssessor, w.trainee.id)
            .await
            .unwrap()
    );
    assert_eq!(
        ticks::confirmed_ordinals(&w.pool, w.enrolment.id)
            .await
            .unwrap(),
        Vec::<usize>::new()
    );

    assert!(
        crate::ticking::tick(&w.pool, e1, c[3], Layer::Assessor, w.assessor.id)
            .await
            .unwrap()
    );
    // The same criterion confirmed on two items counts once.
    assert!(
        crate::ticking::tick(&w.pool, e2, c[3], Layer::Assessor, w.assessor.id)
            .await
            .unwrap()
    );
    assert!(
        crate::ticking::tick(&w.pool, e2, c[2], Layer::Assessor, w.assessor.id)
            .await
            .unwrap()
    );
    // Idempotent.
    assert!(
        !crate::ticking::tick(&w.pool, e2, c[2], Layer::Assessor, w.assessor.id)
            .await
            .unwrap()
    );
    assert_eq!(
        ticks::confirmed_ordinals(&w.pool, w.enrolment.id)
            .await
            .unwrap(),
        vec![2, 3]
    );

    let on_e1 = ticks::list_for_evidence(&w.pool, e1).await.unwrap();
    let layers: Vec<(Uuid, Layer)> = on_e1.iter().map(|t| (t.criterion, t.layer)).collect();
    assert_eq!(
        layers,
        vec![
            (c[0], Layer::Learner),
            (c[1], Layer::TraineeAssessor),
            (c[3], Layer::Assessor)
        ]
    );
    assert_eq!(
        ticks::placed_on_enrolment(&w.pool, w.enrolment.id)
            .await
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn untick_removes_only_the_given_layer() {
    let w = world().await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let e = add_evidence(&w, "Workbook").await;
    crate::ticking::tick(&w.pool, e, c[0], Layer::Learner, w.learner.id)
        .await
        .unwrap();
    crate::ticking::tick(&w.pool, e, c[0], Layer::Assessor, w.assessor.id)
        .await
        .unwrap();
    assert!(crate::ticking::untick(&w.pool, e, c[0], Layer::Learner)
        .await
        .unwrap());
    assert!(!crate::ticking::untick(&w.pool, e, c[0], Layer::Learner)
        .await
        .unwrap());
    assert_eq!(
        ticks::confirmed_ordinals(&w.pool, w.enrolment.id)
            .await
            .unwrap(),
        vec![0]
    );
}

#[tokio::test]
async fn accept_all_is_one_statement_and_idempotent() {
    let w = world().await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let e = add_evidence(&w, "Workbook").await;
    ticks::tick_many(&w.pool, e, &c[0..3], Layer::Learner, w.learner.id)
        .await
        .unwrap();
    crate::ticking::tick(&w.pool, e, c[1], Layer::Assessor, w.assessor.id)
        .await
        .unwrap();

    assert_eq!(
        crate::ticking::count_acceptable(&w.pool, e, Layer::Learner, Layer::Assessor)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        crate::ticking::accept_layer(&w.pool, e, Layer::Learner, Layer::Assessor, w.assessor.id)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        crate::ticking::accept_layer(&w.pool, e, Layer::Learner, Layer::Assessor, w.assessor.id)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        crate::ticking::count_acceptable(&w.pool, e, Layer::Learner, Layer::Assessor)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        ticks::tick_many(&w.pool, e, &c, Layer::Assessor, w.assessor.id)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        ticks::confirmed_ordinals(&w.pool, w.enrolment.id)
            .await
            .unwrap(),
        vec![0, 1, 2, 3]
    );
}

#[tokio::test]
async fn assessor_ticks_are_locked_once_a_credential_is_requested() {
    let w = world().await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let e = add_evidence(&w, "Workbook").await;
    crate::ticking::tick(&w.pool, e, c[0], Layer::Assessor, w.assessor.id)
        .await
        .unwrap();
    crate::ticking::tick(&w.pool, e, c[0], Layer::Learner, w.learner.id)
        .await
        .unwrap();
    let id = w.enrolment.id;
    enrolments::transition(
        &w.pool,
        id,
        Status::NotYetAchieved,
        Status::ReadyToBeRequested,
        None,
        None,
    )
    .await
    .unwrap();
    enrolments::transition(
        &w.pool,
        id,
        Status::ReadyToBeRequested,
        Status::GeneratingCredential,
        None,
        None,
    )
    .await
    .unwrap();

    let err = crate::ticking::untick(&w.pool, e, c[0], Layer::Assessor)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::AssessorTicksLocked), "{err:?}");
    assert_eq!(
        ticks::confirmed_ordinals(&w.pool, id).await.unwrap(),
        vec![0]
    );
    // Other layers are not locked.
    assert!(crate::ticking::untick(&w.pool, e, c[0], Layer::Learner)
        .await
        .unwrap());
}

#[tokio::test]
async fn ticking_unknown_evidence_is_not_found() {
    let w = world().await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let err = crate::ticking::tick(
        &w.pool,
        Uuid::new_v4(),
        c[0],
        Layer::Assessor,
        w.assessor.id,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DbError::NotFound), "{err:?}");
}
