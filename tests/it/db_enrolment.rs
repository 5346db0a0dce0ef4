use attest::db::enrolments::{self, HistoryEntry};
use attest::db::{qualifications, DbError};
use attest::domain::outcome::Outcome;
use attest::domain::status::{Action, Decision, Refusal, Status};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{new_enrolment, tiny, world, world_with, World};

async fn history(pool: &PgPool, id: Uuid) -> Vec<HistoryEntry> {
    enrolments::history(pool, id).await.unwrap()
}

#[tokio::test]
async fn enrolment_starts_not_yet_achieved_with_a_history_entry() {
    let w = world().await;
    assert_eq!(w.enrolment.status, Status::NotYetAchieved);
    let h = history(&w.pool, w.enrolment.id).await;
    assert_eq!(h.len(), 1);
    assert_eq!(
        (h[0].from, h[0].to, h[0].actor_id),
        (None, Status::NotYetAchieved, Some(w.assessor.id))
    );
}

#[tokio::test]
async fn transition_from_the_right_status_moves_and_records() {
    let w = world().await;
    let id = w.enrolment.id;
    enrolments::transition(
        &w.pool,
        id,
        Status::NotYetAchieved,
        Status::ReadyToBeRequested,
        Some(w.assessor.id),
        Some("test"),
    )
    .await
    .unwrap();
    assert_eq!(
        enrolments::get(&w.pool, id).await.unwrap().status,
        Status::ReadyToBeRequested
    );
    let h = history(&w.pool, id).await;
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[1].from, h[1].to),
        (Some(Status::NotYetAchieved), Status::ReadyToBeRequested)
    );
    assert_eq!(
        (h[1].actor_id, h[1].reason.as_deref()),
        (Some(w.assessor.id), Some("test"))
    );
}

#[tokio::test]
async fn transition_from_the_wrong_status_changes_nothing() {
    let w = world().await;
    let id = w.enrolment.id;
    let err = enrolments::transition(
        &w.pool,
        id,
        Status::AwaitingIssue,
        Status::CredentialIssued,
        None,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::StatusChanged {
                current: Status::NotYetAchieved
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        enrolments::get(&w.pool, id).await.unwrap().status,
        Status::NotYetAchieved
    );
    assert_eq!(history(&w.pool, id).await.len(), 1);

    let missing = enrolments::transition(
        &w.pool,
        Uuid::new_v4(),
        Status::NotYetAchieved,
        Status::Withdrawn,
        None,
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(missing, DbError::NotFound), "{missing:?}");
}

#[tokio::test]
async fn of_two_concurrent_transitions_from_one_status_exactly_one_wins() {
    let w = world().await;
    let id = w.enrolment.id;
    for round in 0..20 {
        let current = enrolments::get(&w.pool, id).await.unwrap().status;
        if current != Status::NotYetAchieved {
            enrolments::transition(&w.pool, id, current, Status::NotYetAchieved, None, None)
                .await
                .unwrap();
        }
        let before = history(&w.pool, id).await.len();
        // Two pool connections, so both UPDATEs really run at once in the server.
        let a = enrolments::transition(
            &w.pool,
            id,
            Status::NotYetAchieved,
            Status::ReadyToBeRequested,
            Some(w.assessor.id),
            Some("a"),
        );
        let b = enrolments::transition(
            &w.pool,
            id,
            Status::NotYetAchieved,
            Status::Withdrawn,
            Some(w.trainee.id),
            Some("b"),
        );
        let (ra, rb) = tokio::join!(a, b);
        assert_eq!(
            [&ra, &rb].iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {ra:?} {rb:?}"
        );
        let (winner, loser) = if ra.is_ok() {
            (Status::ReadyToBeRequested, rb)
        } else {
            (Status::Withdrawn, ra)
        };
        assert!(
            matches!(loser, Err(DbError::StatusChanged { current }) if current == winner),
            "round {round}: {loser:?}"
        );
        assert_eq!(enrolments::get(&w.pool, id).await.unwrap().status, winner);
        let h = history(&w.pool, id).await;
        assert_eq!(h.len(), before + 1, "round {round}");
        assert_eq!(h.last().unwrap().to, winner);
    }
}

#[tokio::test]
async fn of_two_concurrent_actions_exactly_one_wins() {
    let w = world().await;
    let id = w.enrolment.id;
    for _ in 0..10 {
        let reset = enrolments::get(&w.pool, id).await.unwrap().status;
        if reset != Status::NotYetAchieved {
            enrolments::transition(&w.pool, id, reset, Status::NotYetAchieved, None, None)
                .await
                .unwrap();
        }
        let act = Action::Audit(Outcome::AssignedMajorAchieved);
        let (ra, rb) = tokio::join!(
            enrolments::apply_action(&w.pool, id, &act, None, None),
            enrolments::apply_action(&w.pool, id, &act, None, None)
        );
        // Both are allowed, but the row lock makes the second see the first's result.
        let moves = [ra.unwrap(), rb.unwrap()];
        assert_eq!(
            moves
                .iter()
                .filter(|d| matches!(d, Decision::Move { .. }))
                .count(),
            1,
            "{moves:?}"
        );
        assert!(moves.contains(&Decision::Stay));
    }
}

#[tokio::test]
async fn apply_action_refuses_what_the_status_machine_refuses() {
    let w = world().await;
    let id = w.enrolment.id;
    let err = enrolments::apply_action(&w.pool, id, &Action::Issue, Some(w.assessor.id), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::Refused(Refusal::NotAllowed {
                status: Status::NotYetAchieved,
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(history(&w.pool, id).await.len(), 1);

    for (from, to) in [
        (Status::NotYetAchieved, Status::ReadyToBeRequested),
        (Status::ReadyToBeRequested, Status::GeneratingCredential),
        (Status::GeneratingCredential, Status::AwaitingIssue),
    ] {
        enrolments::transition(&w.pool, id, from, to, None, None)
            .await
            .unwrap();
    }
    let blank = Action::CancelCredential {
        reason: "  ".into(),
    };
    let err = enrolments::apply_action(&w.pool, id, &blank, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::Refused(Refusal::ReasonRequired)),
        "{err:?}"
    );

    let cancel = Action::CancelCredential {
        reason: "issued in error".into(),
    };
    let d = enrolments::apply_action(&w.pool, id, &cancel, Some(w.assessor.id), None)
        .await
        .unwrap();
    assert_eq!(
        d,
        Decision::Move {
            from: Status::AwaitingIssue,
            to: Status::Withdrawn
        }
    );
    let h = history(&w.pool, id).await;
    assert_eq!(h.last().unwrap().reason.as_deref(), Some("issued in error"));
    assert_eq!(
        enrolments::get(&w.pool, id).await.unwrap().status,
        Status::Withdrawn
    );
}

#[tokio::test]
async fn enrolments_refuse_wrong_people_and_foreign_majors() {
    let w = world_with(&tiny("A/1")).await;
    let other = qualifications::import(&w.pool, w.centre.id, &tiny("B/1"), None)
        .await
        .unwrap();
    let foreign_major = qualifications::major_id(&w.pool, other.version_id, "ALL")
        .await
        .unwrap();
    let own_major = w.enrolment.major_id;
    let version = w.version.version_id;

    let e = new_enrolment(&w.centre, &w.learner, &w.assessor, version, foreign_major);
    let err = enrolments::create(&w.pool, &e, None).await.unwrap_err();
    assert!(matches!(err, DbError::MajorNotInVersion), "{err:?}");

    // A learner cannot assess, and a member of staff cannot be the learner.
    let e = new_enrolment(&w.centre, &w.learner, &w.learner, version, own_major);
    assert!(matches!(
        enrolments::create(&w.pool, &e, None).await,
        Err(DbError::WrongPerson { .. })
    ));
    let e = new_enrolment(&w.centre, &w.assessor, &w.assessor, version, own_major);
    assert!(matches!(
        enrolments::create(&w.pool, &e, None).await,
        Err(DbError::WrongPerson {
            expected: "learner"
        })
    ));

    let mut e = new_enrolment(&w.centre, &w.learner, &w.assessor, version, own_major);
    e.iqa_id = Some(w.assessor.id);
    assert!(matches!(
        enrolments::create(&w.pool, &e, None).await,
        Err(DbError::SameAssessorAndIqa)
    ));
}

#[tokio::test]
async fn staff_of_another_centre_cannot_be_assigned() {
    let w: World = world().await;
    let other = attest::db::centres::create(&w.pool, "other", "Other Centre")
        .await
        .unwrap();
    let outsider = crate::helpers::staff(&w.pool, other.id, "out@other.test", &[]).await;
    let e = new_enrolment(
        &w.centre,
        &w.learner,
        &outsider,
        w.version.version_id,
        w.enrolment.major_id,
    );
    let err = enrolments::create(&w.pool, &e, None).await.unwrap_err();
    assert!(matches!(err, DbError::WrongPerson { .. }), "{err:?}");
}
