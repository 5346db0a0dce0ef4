use proptest::prelude::*;
use time::macros::datetime;

use super::*;

const ADMIN: Uuid = Uuid::from_u128(1);
const PERSON: Uuid = Uuid::from_u128(2);

fn staff<'a>(id: Uuid, roles: &'a [Role], assigned_as: &'a [Role]) -> Account<'a> {
    Account {
        id,
        kind: UserKind::Staff,
        active: true,
        roles,
        assigned_as,
    }
}

fn typed(roles: &[&str]) -> PersonEdit {
    PersonEdit {
        display_name: " Tomás Ōtaki ".into(),
        email: " tomas@ngc.ac.uk ".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

fn messages(r: Result<ValidEdit, Vec<FieldError>>) -> Vec<(&'static str, &'static str)> {
    r.expect_err("refused")
        .iter()
        .map(|e| (e.field, e.message))
        .collect()
}

#[test]
fn an_edit_keeps_the_name_as_written_trimmed_and_the_roles_sorted() {
    let account = staff(PERSON, &[Role::Assessor], &[]);
    let edit = validate_edit(ADMIN, &account, &typed(&["iqa", "assessor", "iqa"])).expect("valid");
    assert_eq!(edit.display_name, "Tomás Ōtaki");
    assert_eq!(edit.email, "tomas@ngc.ac.uk");
    assert_eq!(edit.roles, vec![Role::Assessor, Role::Iqa]);
}

#[test]
fn a_learner_account_holds_the_learner_role_only() {
    let learner = Account {
        kind: UserKind::Learner,
        ..staff(PERSON, &[Role::Learner], &[])
    };
    let edit = validate_edit(ADMIN, &learner, &typed(&[])).expect("no roles sent: still a learner");
    assert_eq!(edit.roles, vec![Role::Learner]);
    assert_eq!(
        messages(validate_edit(
            ADMIN,
            &learner,
            &typed(&["learner", "assessor"])
        )),
        [("roles", LEARNER_ONLY)]
    );
}

#[test]
fn a_member_of_staff_never_holds_the_learner_role_and_needs_a_staff_role() {
    let account = staff(PERSON, &[Role::Assessor], &[]);
    assert_eq!(
        messages(validate_edit(
            ADMIN,
            &account,
            &typed(&["assessor", "learner"])
        )),
        [("roles", STAFF_NOT_LEARNER)]
    );
    assert_eq!(
        messages(validate_edit(ADMIN, &account, &typed(&[]))),
        [("roles", NO_STAFF_ROLE)]
    );
    assert_eq!(
        messages(validate_edit(
            ADMIN,
            &account,
            &typed(&["assessor", "trainee_assessor"])
        )),
        [("roles", ASSESSOR_AND_TRAINEE)]
    );
}

#[test]
fn an_admin_keeps_their_own_admin_role_but_may_remove_another_admins() {
    let me = staff(ADMIN, &[Role::Admin, Role::Iqa], &[]);
    assert_eq!(
        messages(validate_edit(ADMIN, &me, &typed(&["iqa"]))),
        [("roles", OWN_ADMIN_ROLE)]
    );
    let other = staff(PERSON, &[Role::Admin], &[]);
    assert!(validate_edit(ADMIN, &other, &typed(&["assessor"])).is_ok());
}

#[test]
fn a_role_the_person_is_assigned_in_stays_until_their_enrolments_are_reassigned() {
    let account = staff(PERSON, &[Role::Assessor, Role::Iqa], &[Role::Iqa]);
    let refused = messages(validate_edit(ADMIN, &account, &typed(&["assessor"])));
    assert_eq!(refused[0].0, "roles");
    assert!(refused[0].1.contains("IQA of enrolments"), "{refused:?}");
    assert!(validate_edit(ADMIN, &account, &typed(&["iqa"])).is_ok());
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let account = staff(PERSON, &[Role::Assessor], &[]);
    let bad = PersonEdit {
        display_name: "  ".into(),
        email: "not-an-email".into(),
        roles: vec![],
    };
    let fields: Vec<_> = validate_edit(ADMIN, &account, &bad)
        .expect_err("refused")
        .iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["display_name", "email", "roles"]);
}

#[test]
fn each_move_is_refused_where_it_makes_no_sense() {
    let active = staff(PERSON, &[Role::Assessor], &[]);
    let gone = Account {
        active: false,
        ..active
    };
    let me = staff(ADMIN, &[Role::Admin], &[]);
    let table = [
        (active, Move::Deactivate, Ok(())),
        (
            gone,
            Move::Deactivate,
            Err(AccountRefusal::AlreadyDeactivated),
        ),
        (me, Move::Deactivate, Err(AccountRefusal::OwnAccount)),
        (
            active,
            Move::Reactivate,
            Err(AccountRefusal::NotDeactivated),
        ),
        (gone, Move::Reactivate, Ok(())),
        (me, Move::Reactivate, Err(AccountRefusal::NotDeactivated)),
        (active, Move::EndSessions, Ok(())),
        (gone, Move::EndSessions, Err(AccountRefusal::NoSessions)),
        (me, Move::EndSessions, Ok(())),
    ];
    for (account, action, expected) in table {
        assert_eq!(
            may(ADMIN, &account, action),
            expected,
            "{action:?} on {account:?}"
        );
    }
}

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

fn failed(failures: u32, minutes_ago: i64) -> Tally {
    Tally {
        failures,
        window_start: Some(NOW - Duration::minutes(minutes_ago)),
        last_failure_at: Some(NOW - Duration::minutes(minutes_ago)),
        succeeded_at: None,
    }
}

#[test]
fn sign_in_is_clear_failing_or_held_back_as_sign_in_would_judge_it() {
    assert_eq!(sign_in_lock(NOW, Tally::default(), &[]), SignInLock::Clear);
    assert_eq!(
        sign_in_lock(NOW, failed(2, 3), &[failed(2, 3)]),
        SignInLock::Failed {
            last: Some(NOW - Duration::minutes(3))
        }
    );
    // Six failures from one address: that address waits 2 minutes after the last.
    assert_eq!(
        sign_in_lock(NOW, failed(6, 0), &[failed(1, 30), failed(6, 0)]),
        SignInLock::HeldBack {
            wait: Duration::minutes(2)
        }
    );
    // Fifty failures spread over many addresses: a new address waits for the window.
    assert_eq!(
        sign_in_lock(NOW, failed(50, 5), &[]),
        SignInLock::HeldBack {
            wait: Duration::minutes(10)
        }
    );
}

/// One person of a centre, as the centre-level property reads them.
#[derive(Debug, Clone, Copy)]
struct Person {
    active: bool,
    admin: bool,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Deactivate,
    Reactivate,
    /// An edit that keeps the person an assessor, with or without the admin role.
    SetAdmin(bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Deactivate),
        Just(Step::Reactivate),
        any::<bool>().prop_map(Step::SetAdmin),
    ]
}

fn id(i: usize) -> Uuid {
    Uuid::from_u128(i as u128 + 1)
}

proptest! {
    /// Whatever admins do to whom, in any order, a centre with an active admin keeps
    /// one: only an active admin acts (the use cases refuse anyone else), and the
    /// rules never let them deactivate or demote themselves.
    #[test]
    fn the_centre_keeps_an_active_admin(
        start in proptest::collection::vec((any::<bool>(), any::<bool>()), 1..6),
        steps in proptest::collection::vec((0usize..6, 0usize..6, step()), 0..40),
    ) {
        let mut people: Vec<Person> = start
            .iter()
            .map(|&(active, admin)| Person { active, admin })
            .collect();
        people[0] = Person { active: true, admin: true };
        let n = people.len();
        for (actor, target, step) in steps {
            let (actor, target) = (actor % n, target % n);
            if !(people[actor].active && people[actor].admin) {
                continue;
            }
            let roles: Vec<Role> = if people[target].admin {
                vec![Role::Assessor, Role::Admin]
            } else {
                vec![Role::Assessor]
            };
            let account = Account {
                id: id(target),
                kind: UserKind::Staff,
                active: people[target].active,
                roles: &roles,
                assigned_as: &[],
            };
            match step {
                Step::Deactivate => {
                    if may(id(actor), &account, Move::Deactivate).is_ok() {
                        people[target].active = false;
                    }
                }
                Step::Reactivate => {
                    if may(id(actor), &account, Move::Reactivate).is_ok() {
                        people[target].active = true;
                    }
                }
                Step::SetAdmin(admin) => {
                    let keys: &[&str] = if admin { &["assessor", "admin"] } else { &["assessor"] };
                    if let Ok(edit) = validate_edit(id(actor), &account, &typed(keys)) {
                        people[target].admin = edit.roles.contains(&Role::Admin);
                    }
                }
            }
            prop_assert!(
                people.iter().any(|p| p.active && p.admin),
                "no active admin left: {people:?}"
            );
        }
    }

    /// Whatever the form sends, an edit that passes gives an account its kind's roles:
    /// a learner the learner role alone; staff one or more staff roles, never the
    /// learner role, never assessor and trainee together; and keeps every role the
    /// person is assigned in.
    #[test]
    fn an_edit_that_passes_keeps_the_learner_and_staff_rule(
        learner in any::<bool>(),
        sent in proptest::collection::vec(
            prop_oneof![
                Just("learner"), Just("trainee_assessor"), Just("assessor"),
                Just("iqa"), Just("admin"), Just("nonsense"),
            ],
            0..6,
        ),
        assigned in proptest::sample::subsequence(vec![Role::TraineeAssessor, Role::Assessor, Role::Iqa], 0..=2),
    ) {
        let (kind, roles, assigned): (UserKind, &[Role], &[Role]) = if learner {
            (UserKind::Learner, &[Role::Learner], &[])
        } else {
            (UserKind::Staff, &[Role::Assessor], &assigned)
        };
        let account = Account { id: PERSON, kind, active: true, roles, assigned_as: assigned };
        if let Ok(edit) = validate_edit(ADMIN, &account, &typed(&sent)) {
            if learner {
                prop_assert_eq!(edit.roles, vec![Role::Learner]);
            } else {
                prop_assert!(!edit.roles.is_empty());
                prop_assert!(!edit.roles.contains(&Role::Learner));
                prop_assert!(!(edit.roles.contains(&Role::Assessor) && edit.roles.contains(&Role::TraineeAssessor)));
                prop_assert!(assigned.iter().all(|r| edit.roles.contains(r)));
            }
        }
    }
}
