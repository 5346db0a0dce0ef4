use attest::db::evidence::{self, EvidenceKind, NewEvidence};
use attest::db::{audits, enrolments, qualifications, ticks, DbError};
use attest::domain::outcome::Outcome;
use attest::domain::status::{Decision, Refusal, Status};
use attest::domain::ticks::Layer;
use uuid::Uuid;

use crate::helpers::{criteria, two_majors, world, world_with, World};

async fn evidence_item(w: &World) -> Uuid {
    evidence::add(
        &w.pool,
        &NewEvidence {
            enrolment_id: w.enrolment.id,
            title: "Portfolio",
            description: "",
            kind: EvidenceKind::Product,
            added_by: w.learner.id,
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn confirming_the_assigned_major_makes_the_enrolment_ready() {
    let w = world().await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let e = evidence_item(&w).await;

    ticks::tick_many(&w.pool, e, &c[0..3], Layer::Assessor, w.assessor.id)
        .await
        .unwrap();
    crate::ticking::tick(&w.pool, e, c[3], Layer::Learner, w.learner.id)
        .await
        .unwrap();
    let first = audits::audit_enrolment(&w.pool, w.enrolment.id, Some(w.assessor.id))
        .await
        .unwrap();
    assert_eq!(first.report.outcome, Outcome::NoMajorsAchieved);
    assert_eq!(
        (first.decision, first.status),
        (Decision::Stay, Status::NotYetAchieved)
    );

    crate::ticking::tick(&w.pool, e, c[3], Layer::Assessor, w.assessor.id)
        .await
        .unwrap();
    let second = audits::audit_enrolment(&w.pool, w.enrolment.id, None)
        .await
        .unwrap();
    assert_eq!(second.report.outcome, Outcome::AssignedMajorAchieved);
    assert_eq!(
        second.decision,
        Decision::Move {
            from: Status::NotYetAchieved,
            to: Status::ReadyToBeRequested
        }
    );
    assert_eq!(
        enrolments::get(&w.pool, w.enrolment.id)
            .await
            .unwrap()
            .status,
        Status::ReadyToBeRequested
    );

    let h = enrolments::history(&w.pool, w.enrolment.id).await.unwrap();
    let last = h.last().unwrap();
    assert_eq!((last.to, last.actor_id), (Status::ReadyToBeRequested, None));
    assert_eq!(
        last.reason.as_deref(),
        Some("audit: Assigned Major Achieved")
    );

    let latest = audits::latest_audit(&w.pool, w.enrolment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (latest.id, latest.outcome, latest.actor_id),
        (second.audit_id, Outcome::AssignedMajorAchieved, None)
    );
    assert_eq!(latest.confirmed_criteria, 4);
    assert_eq!(latest.report, second.report);
    let all = audits::audit_history(&w.pool, w.enrolment.id)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![second.audit_id, first.audit_id]
    );

    // The stored report says which major holds and with which units.
    let stored = &latest.report.majors[0];
    let loaded = qualifications::load_version(&w.pool, w.version.version_id)
        .await
        .unwrap();
    assert!(stored.achieved);
    assert_eq!(stored.counted_units.len(), loaded.unit_ids.len());
}

#[tokio::test]
async fn losing_a_confirmation_moves_ready_back_to_not_yet_achieved() {
    let w = world().await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let e = evidence_item(&w).await;
    ticks::tick_many(&w.pool, e, &c, Layer::Assessor, w.assessor.id)
        .await
        .unwrap();
    audits::audit_enrolment(&w.pool, w.enrolment.id, None)
        .await
        .unwrap();
    crate::ticking::untick(&w.pool, e, c[0], Layer::Assessor)
        .await
        .unwrap();
    let r = audits::audit_enrolment(&w.pool, w.enrolment.id, None)
        .await
        .unwrap();
    assert_eq!(r.report.outcome, Outcome::NoMajorsAchieved);
    assert_eq!(r.status, Status::NotYetAchieved);
}

#[tokio::test]
async fn an_audit_in_a_later_status_is_recorded_but_moves_nothing() {
    let w = world().await;
    let id = w.enrolment.id;
    for (from, to) in [
        (Status::NotYetAchieved, Status::ReadyToBeRequested),
        (Status::ReadyToBeRequested, Status::GeneratingCredential),
        (Status::GeneratingCredential, Status::AwaitingIssue),
    ] {
        enrolments::transition(&w.pool, id, from, to, None, None)
            .await
            .unwrap();
    }
    let r = audits::audit_enrolment(&w.pool, id, None).await.unwrap();
    assert_eq!(
        (r.decision, r.status),
        (Decision::Stay, Status::AwaitingIssue)
    );
    assert_eq!(audits::audit_history(&w.pool, id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn switching_major_re_audits_and_is_refused_late_with_nothing_changed() {
    let w = world_with(&two_majors("TWO/1")).await;
    let c = criteria(&w.pool, w.version.version_id).await;
    let e = evidence_item(&w).await;
    ticks::tick_many(&w.pool, e, &c[0..2], Layer::Assessor, w.assessor.id)
        .await
        .unwrap();
    let first = qualifications::major_id(&w.pool, w.version.version_id, "FIRST")
        .await
        .unwrap();

    let r = audits::switch_major(&w.pool, w.enrolment.id, first, Some(w.assessor.id))
        .await
        .unwrap();
    assert_eq!(r.report.outcome, Outcome::AssignedMajorAchieved);
    assert_eq!(r.status, Status::ReadyToBeRequested);

    let id = w.enrolment.id;
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
    let err = audits::switch_major(&w.pool, id, w.enrolment.major_id, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::Refused(Refusal::NotAllowed { .. })),
        "{err:?}"
    );
    let now = enrolments::get(&w.pool, id).await.unwrap();
    assert_eq!(
        (now.major_id, now.status),
        (first, Status::GeneratingCredential)
    );
    assert_eq!(audits::audit_history(&w.pool, id).await.unwrap().len(), 1);
}
