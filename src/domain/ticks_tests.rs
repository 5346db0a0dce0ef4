use super::*;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn tick(criterion: u128, layer: Layer) -> Tick {
    Tick {
        criterion: id(criterion),
        layer,
        by: id(1000 + layer as u128),
        at: OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn only_assessor_ticks_confirm() {
    let ticks = [
        tick(1, Layer::Learner),
        tick(2, Layer::TraineeAssessor),
        tick(3, Layer::Assessor),
    ];
    assert_eq!(confirmed(&ticks).into_iter().collect::<Vec<_>>(), [id(3)]);
}

#[test]
fn accept_all_learner_ticks_adds_the_claims_missing_from_the_actors_layer_once() {
    let mut ticks = vec![
        tick(1, Layer::Learner),
        tick(3, Layer::Learner),
        tick(5, Layer::Learner),
        tick(3, Layer::Assessor),
        tick(7, Layer::Assessor),
    ];
    let add = accept_all_learner_ticks(&ticks, Layer::Assessor).expect("allowed");
    assert_eq!(add, [id(1), id(5)]);
    ticks.extend(add.iter().map(|c| Tick {
        criterion: *c,
        ..tick(0, Layer::Assessor)
    }));
    assert!(accept_all_learner_ticks(&ticks, Layer::Assessor)
        .expect("allowed")
        .is_empty());
}

#[test]
fn a_trainee_accepting_learner_ticks_adds_trainee_ticks() {
    let ticks = [tick(1, Layer::Learner), tick(1, Layer::Assessor)];
    // The assessor's tick does not stop the trainee's own layer from lacking it.
    assert_eq!(
        accept_all_learner_ticks(&ticks, Layer::TraineeAssessor),
        Ok(vec![id(1)])
    );
}

#[test]
fn learners_cannot_accept() {
    assert_eq!(
        accept_all_learner_ticks(&[tick(1, Layer::Learner)], Layer::Learner),
        Err(TickRefusal::LearnersCannotAccept)
    );
}

#[test]
fn accept_all_trainee_ticks_countersigns_and_is_for_qualified_assessors_only() {
    let mut ticks = vec![
        tick(2, Layer::TraineeAssessor),
        tick(4, Layer::TraineeAssessor),
        tick(9, Layer::Learner),
    ];
    assert_eq!(
        accept_all_trainee_ticks(&ticks, Layer::TraineeAssessor),
        Err(TickRefusal::OnlyAssessorsAcceptTrainees)
    );
    let add = accept_all_trainee_ticks(&ticks, Layer::Assessor).expect("allowed");
    assert_eq!(add, [id(2), id(4)]);
    ticks.push(tick(2, Layer::Assessor));
    assert_eq!(
        accept_all_trainee_ticks(&ticks, Layer::Assessor),
        Ok(vec![id(4)])
    );
}

/// The gate the in-place answer reads (`may_accept_all`) is the one the accept-all
/// functions refuse by: for every layer, each is refused exactly when the gate says no.
#[test]
fn may_accept_all_is_what_accept_all_refuses_by() {
    let ticks = [tick(1, Layer::Learner), tick(2, Layer::TraineeAssessor)];
    let gates: Vec<_> = Layer::ALL.into_iter().map(may_accept_all).collect();
    assert_eq!(gates, [(false, false), (true, false), (true, true)]);
    for layer in Layer::ALL {
        let (learner, trainee) = may_accept_all(layer);
        assert_eq!(
            accept_all_learner_ticks(&ticks, layer).is_ok(),
            learner,
            "{layer:?}"
        );
        assert_eq!(
            accept_all_trainee_ticks(&ticks, layer).is_ok(),
            trainee,
            "{layer:?}"
        );
    }
}

#[test]
fn untick_only_from_own_layer() {
    let e = may_untick(
        Layer::TraineeAssessor,
        Layer::Assessor,
        Status::NotYetAchieved,
    )
    .expect_err("refused");
    assert!(e.to_string().contains("your own layer (Trainee assessor)"));
    assert!(may_untick(Layer::Learner, Layer::Learner, Status::ReadyToBeRequested).is_ok());
}

#[test]
fn assessor_ticks_lock_from_generating_credential_on() {
    for status in Status::ALL {
        let r = may_untick(Layer::Assessor, Layer::Assessor, status);
        match status {
            Status::NotYetAchieved | Status::ReadyToBeRequested => assert!(r.is_ok()),
            Status::Withdrawn => assert_eq!(r, Err(TickRefusal::Withdrawn)),
            _ => {
                let e = r.expect_err("locked");
                assert!(e.to_string().contains("cancel the credential first"), "{e}");
            }
        }
    }
    // Learner and trainee ticks are claims, never locked by a credential.
    assert!(may_untick(Layer::Learner, Layer::Learner, Status::AwaitingIssue).is_ok());
}

#[test]
fn criterion_state_never_shows_a_claim_as_confirmed() {
    let c = 1;
    let state = |layers: &[Layer]| {
        let ticks: Vec<Tick> = layers.iter().map(|l| tick(c, *l)).collect();
        CriterionState::of(id(c), &ticks)
    };
    assert_eq!(state(&[]), CriterionState::NotStarted);
    assert_eq!(state(&[Layer::Learner]), CriterionState::Claimed);
    assert_eq!(
        state(&[Layer::Learner, Layer::TraineeAssessor]),
        CriterionState::AwaitingCountersignature
    );
    assert_eq!(
        state(&[Layer::TraineeAssessor, Layer::Assessor]),
        CriterionState::Confirmed
    );
    assert_eq!(
        CriterionState::Claimed.label(),
        "claimed — awaiting assessor"
    );
}

#[test]
fn accept_all_counts_the_same_from_where_ticks_are_as_from_the_ticks() {
    let ticks = vec![
        tick(1, Layer::Learner),
        tick(2, Layer::Learner),
        tick(2, Layer::Assessor),
        tick(3, Layer::TraineeAssessor),
        tick(4, Layer::Learner),
        tick(4, Layer::TraineeAssessor),
    ];
    let placed: Vec<(Uuid, Layer)> = ticks.iter().map(|t| (t.criterion, t.layer)).collect();
    for actor in Layer::ALL {
        assert_eq!(
            accept_all_learner_ticks(&placed, actor),
            accept_all_learner_ticks(&ticks, actor),
            "{actor:?}"
        );
        assert_eq!(
            accept_all_trainee_ticks(&placed, actor),
            accept_all_trainee_ticks(&ticks, actor),
            "{actor:?}"
        );
    }
    assert_eq!(
        accept_all_learner_ticks(&placed, Layer::Assessor),
        Ok(vec![id(1), id(4)])
    );
}

proptest::proptest! {
    /// Whatever is asked, a change is allowed only in the asker's own layer, never on a
    /// withdrawn enrolment, and an assessor tick is never removed once it is locked.
    #[test]
    fn a_change_is_allowed_only_in_ones_own_layer(
        actor in 0usize..3,
        target in 0usize..3,
        adding: bool,
        status in 0usize..Status::ALL.len(),
    ) {
        let (actor, target, status) = (Layer::ALL[actor], Layer::ALL[target], Status::ALL[status]);
        let judged = may_change(actor, target, adding, status);
        let expected_ok = actor == target
            && status != Status::Withdrawn
            && (adding || target != Layer::Assessor || !status.locks_assessor_ticks());
        proptest::prop_assert_eq!(judged.is_ok(), expected_ok, "{:?}", judged);
        if actor != target && status != Status::Withdrawn {
            let refused_for_layer = matches!(judged, Err(TickRefusal::NotYourLayer { .. }));
            proptest::prop_assert!(refused_for_layer);
        }
    }
}
