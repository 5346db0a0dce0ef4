use proptest::prelude::*;

use super::*;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const ANN: u128 = 1;
const ABE: u128 = 2;
const IVY: u128 = 3;
const TOM: u128 = 4;

/// The assignment with `to` in `place`.
fn with(mut a: Assignment, place: Place, to: Uuid) -> Assignment {
    match place {
        Place::Assessor => a.assessor = to,
        Place::TraineeAssessor => a.trainee = Some(to),
        Place::Iqa => a.iqa = Some(to),
    }
    a
}

/// The rules every enrolment keeps, said apart from `conflict` (SPEC §2, §7, as
/// `people::validate_assignments` and the schema's checks say them): the trainee is not
/// the assessor, and the IQA is neither.
fn holds(a: &Assignment) -> bool {
    let trainee_apart = a.trainee != Some(a.assessor);
    let iqa_apart = match a.iqa {
        Some(iqa) => iqa != a.assessor && Some(iqa) != a.trainee,
        None => true,
    };
    trainee_apart && iqa_apart
}

fn taker(roles: &[Role]) -> Taker {
    Taker {
        id: id(ABE),
        same_centre: true,
        staff: true,
        active: true,
        roles: roles.to_vec(),
    }
}

fn assignment(n: u128, assessor: u128, trainee: Option<u128>, iqa: Option<u128>) -> Assignment {
    Assignment {
        enrolment: id(100 + n),
        assessor: id(assessor),
        trainee: trainee.map(id),
        iqa: iqa.map(id),
    }
}

#[test]
fn the_taker_is_active_staff_of_the_centre_holding_the_role_and_someone_else() {
    let abe = taker(&[Role::Assessor]);
    assert_eq!(may_take(Place::Assessor, id(ANN), &abe), Ok(()));
    assert_eq!(
        may_take(Place::Assessor, id(ABE), &abe),
        Err(TakerRefusal::SamePerson)
    );
    assert_eq!(
        may_take(Place::Iqa, id(ANN), &abe),
        Err(TakerRefusal::WrongRole)
    );
    assert_eq!(
        may_take(Place::TraineeAssessor, id(ANN), &abe),
        Err(TakerRefusal::WrongRole)
    );
    let gone = Taker {
        active: false,
        ..abe.clone()
    };
    assert_eq!(
        may_take(Place::Assessor, id(ANN), &gone),
        Err(TakerRefusal::Deactivated)
    );
    let elsewhere = Taker {
        same_centre: false,
        ..abe.clone()
    };
    assert_eq!(
        may_take(Place::Assessor, id(ANN), &elsewhere),
        Err(TakerRefusal::NotOfCentre)
    );
    let learner = Taker {
        staff: false,
        roles: vec![Role::Learner],
        ..abe
    };
    assert_eq!(
        may_take(Place::Assessor, id(ANN), &learner),
        Err(TakerRefusal::NotOfCentre)
    );
    for place in Place::ALL {
        for refusal in [
            TakerRefusal::SamePerson,
            TakerRefusal::NotOfCentre,
            TakerRefusal::Deactivated,
            TakerRefusal::WrongRole,
        ] {
            assert_eq!(refusal.field_error(place).field, "to");
        }
    }
}

#[test]
fn an_iqa_never_takes_an_enrolment_they_assessed() {
    let ticked: BTreeSet<Uuid> = [id(101)].into();
    let chosen = [
        assignment(1, ANN, None, Some(IVY)),
        assignment(2, ANN, None, Some(IVY)),
        // Abe assesses the third: as its IQA he would sample his own decisions.
        assignment(3, ABE, None, Some(IVY)),
        assignment(4, ANN, Some(ABE), Some(IVY)),
    ];
    let p = plan(Place::Iqa, id(IVY), id(ABE), &chosen, &ticked);
    assert_eq!(p.moving, [id(102)]);
    assert_eq!(
        p.refused,
        [
            (id(101), Conflict::TickedOnIt),
            (id(103), Conflict::IsItsAssessor),
            (id(104), Conflict::IsItsTrainee),
        ]
    );
}

#[test]
fn an_assessor_or_trainee_is_never_the_enrolments_iqa_nor_both() {
    let none = BTreeSet::new();
    let chosen = [
        assignment(1, ANN, None, Some(ABE)),
        assignment(2, ANN, Some(ABE), None),
        assignment(3, ANN, Some(TOM), None),
    ];
    let p = plan(Place::Assessor, id(ANN), id(ABE), &chosen, &none);
    assert_eq!(p.moving, [id(103)]);
    assert_eq!(
        p.refused,
        [
            (id(101), Conflict::IsItsIqa),
            (id(102), Conflict::IsItsTrainee)
        ]
    );
    let chosen = [
        assignment(1, ANN, Some(TOM), Some(ABE)),
        assignment(2, ABE, Some(TOM), None),
        assignment(3, ANN, Some(TOM), None),
    ];
    let p = plan(Place::TraineeAssessor, id(TOM), id(ABE), &chosen, &none);
    assert_eq!(p.moving, [id(103)]);
    assert_eq!(
        p.refused,
        [
            (id(101), Conflict::IsItsIqa),
            (id(102), Conflict::IsItsAssessor)
        ]
    );
}

#[test]
fn ticks_matter_only_to_an_iqa() {
    let ticked: BTreeSet<Uuid> = [id(101)].into();
    let chosen = [assignment(1, ANN, None, None)];
    let p = plan(Place::Assessor, id(ANN), id(ABE), &chosen, &ticked);
    assert_eq!(p.moving, [id(101)]);
}

#[test]
fn an_enrolment_someone_else_holds_now_is_refused() {
    let chosen = [assignment(1, TOM, None, None)];
    let p = plan(Place::Assessor, id(ANN), id(ABE), &chosen, &BTreeSet::new());
    assert_eq!(p.refused, [(id(101), Conflict::NoLongerTheirs)]);
    let p = plan(Place::Iqa, id(IVY), id(ABE), &chosen, &BTreeSet::new());
    assert_eq!(p.refused, [(id(101), Conflict::NoLongerTheirs)]);
}

#[test]
fn a_digest_is_of_the_set_not_its_order() {
    let a = digest(&[id(1), id(2), id(3)]);
    assert_eq!(a, digest(&[id(3), id(1), id(2), id(1)]));
    assert_ne!(a, digest(&[id(1), id(2)]));
    assert_ne!(a, digest(&[id(1), id(2), id(4)]));
    assert_eq!(a.len(), 32);
}

#[test]
fn the_form_needs_a_taker_and_some_enrolments() {
    let fields = |f: &MoveForm| {
        validate(Place::Assessor, f)
            .expect_err("invalid")
            .iter()
            .map(|e| e.field)
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(&MoveForm::default()), ["to", "enrolments"]);
    let to = id(ABE).to_string();
    let chosen = |enrolments: Vec<String>| MoveForm {
        which: "chosen".into(),
        to: to.clone(),
        enrolments,
        ..MoveForm::default()
    };
    assert_eq!(fields(&chosen(vec!["not an id".into()])), ["enrolments"]);
    let too_many = (0..=MOST_CHOSEN as u128)
        .map(|n| id(n).to_string())
        .collect();
    assert_eq!(fields(&chosen(too_many)), ["enrolments"]);
    let twice = vec![id(7).to_string(), format!(" {} ", id(7))];
    assert_eq!(
        validate(Place::Assessor, &chosen(twice)),
        Ok(Move {
            place: Place::Assessor,
            to: id(ABE),
            chosen: Some(Chosen::These(vec![id(7)])),
        })
    );
    let all = MoveForm {
        which: "all".into(),
        to: to.clone(),
        ..MoveForm::default()
    };
    assert_eq!(validate(Place::Iqa, &all).map(|m| m.chosen), Ok(None));
    let confirming = MoveForm {
        digest: "abc".into(),
        ..all
    };
    assert_eq!(
        validate(Place::Iqa, &confirming).map(|m| m.chosen),
        Ok(Some(Chosen::All {
            digest: "abc".into()
        }))
    );
}

#[test]
fn places_read_back_from_their_keys() {
    for place in Place::ALL {
        assert_eq!(Place::from_key(place.key()), Some(place));
    }
    assert_eq!(Place::from_key("admin"), None);
}

/// People are drawn from a few, so that coincidences (the taker is the assessor, the
/// IQA ticked…) come up often.
fn person() -> impl Strategy<Value = Uuid> {
    (1u128..6).prop_map(id)
}

fn an_assignment() -> impl Strategy<Value = Assignment> {
    (
        person(),
        proptest::option::of(person()),
        proptest::option::of(person()),
    )
        .prop_map(|(assessor, trainee, iqa)| Assignment {
            enrolment: Uuid::nil(),
            assessor,
            trainee,
            iqa,
        })
        // Only enrolments as they can exist.
        .prop_filter("a valid enrolment", holds)
}

fn a_place() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::Assessor),
        Just(Place::TraineeAssessor),
        Just(Place::Iqa)
    ]
}

proptest! {
    /// Every chosen enrolment is decided once; one that moves still keeps every rule of
    /// an enrolment after the move (and an IQA who takes it never ticked on it); one that
    /// is refused would have broken a rule, or was not the person's to give.
    #[test]
    fn a_plan_moves_exactly_the_enrolments_that_stay_valid(
        place in a_place(),
        from in person(),
        to in person(),
        found in proptest::collection::vec((an_assignment(), any::<bool>()), 0..12),
    ) {
        prop_assume!(from != to);
        let chosen: Vec<Assignment> = found
            .iter()
            .enumerate()
            .map(|(n, (a, _))| Assignment { enrolment: id(1000 + n as u128), ..*a })
            .collect();
        let ticked: BTreeSet<Uuid> = chosen
            .iter()
            .zip(&found)
            .filter(|(_, (_, t))| *t)
            .map(|(a, _)| a.enrolment)
            .collect();
        let p = plan(place, from, to, &chosen, &ticked);
        prop_assert_eq!(p.moving.len() + p.refused.len(), chosen.len());
        for a in &chosen {
            let moved = with(*a, place, to);
            let theirs = a.holder(place) == Some(from);
            let sampled_own = place == Place::Iqa && ticked.contains(&a.enrolment);
            let may_move = theirs && holds(&moved) && !sampled_own;
            prop_assert_eq!(p.moving.contains(&a.enrolment), may_move, "{:?}", a);
            if let Some((_, c)) = p.refused.iter().find(|(e, _)| *e == a.enrolment) {
                prop_assert_eq!(*c == Conflict::NoLongerTheirs, !theirs);
            }
        }
    }

    /// A digest does not depend on the order the ids come in.
    #[test]
    fn a_digest_ignores_order(mut ids in proptest::collection::vec(any::<u128>(), 0..20)) {
        let ids_now: Vec<Uuid> = ids.iter().copied().map(id).collect();
        let before = digest(&ids_now);
        ids.reverse();
        let reversed: Vec<Uuid> = ids.iter().copied().map(id).collect();
        prop_assert_eq!(before, digest(&reversed));
    }
}
