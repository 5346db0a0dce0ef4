//! Who may see an enrolment, and in what capacity they act on it (SPEC §7, §8).
//! Anyone without a capacity gets 404: the enrolment does not exist for them.
use uuid::Uuid;

use super::people::Role;
use super::ticks::Layer;

/// The people assigned to one enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assigned {
    pub centre: Uuid,
    pub learner: Uuid,
    pub assessor: Uuid,
    pub trainee_assessor: Option<Uuid>,
    pub iqa: Option<Uuid>,
}

/// The person looking.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub id: Uuid,
    pub centre: Uuid,
    pub roles: &'a [Role],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capacity {
    Learner,
    TraineeAssessor,
    Assessor,
    /// Read-only: evidence, every layer, progress, audits, history.
    Iqa,
    /// Read-only on the portfolio; admins manage enrolments, not ticks.
    Admin,
}

impl Capacity {
    /// The tick layer this capacity writes to, if any.
    pub fn layer(self) -> Option<Layer> {
        match self {
            Capacity::Learner => Some(Layer::Learner),
            Capacity::TraineeAssessor => Some(Layer::TraineeAssessor),
            Capacity::Assessor => Some(Layer::Assessor),
            Capacity::Iqa | Capacity::Admin => None,
        }
    }

    /// Learners add their own evidence; assessors and trainees add records too.
    pub(crate) fn may_add_evidence(self) -> bool {
        self.layer().is_some()
    }

    /// The learner asks a witness for their own evidence; the assessor and trainee for
    /// the learner's (issue 13, point 3).
    pub(crate) fn may_ask_witness(self) -> bool {
        matches!(
            self,
            Capacity::Learner | Capacity::Assessor | Capacity::TraineeAssessor
        )
    }

    /// The learner logs their off-the-job hours; their assessor (or trainee) may log
    /// them for the learner (issue 14, point 2).
    pub(crate) fn may_log_otj(self) -> bool {
        self.may_ask_witness()
    }

    /// May change this entry of the OTJ log: a learner their own entries, the assessor
    /// and trainee any.
    pub(crate) fn may_edit_otj(self, logged_by_self: bool) -> bool {
        match self {
            Capacity::Learner => logged_by_self,
            Capacity::Assessor | Capacity::TraineeAssessor => true,
            Capacity::Iqa | Capacity::Admin => false,
        }
    }

    /// Only the qualified assessor approves or rejects OTJ hours: they decide funding.
    pub(crate) fn may_decide_otj(self) -> bool {
        self == Capacity::Assessor
    }

    /// The apprenticeship's plan and breaks are the centre's records, kept by admins.
    pub(crate) fn may_plan_apprenticeship(self) -> bool {
        self == Capacity::Admin
    }

    /// Observation and professional-discussion records are the assessor's (SPEC §2).
    pub(crate) fn may_add_assessor_records(self) -> bool {
        matches!(self, Capacity::Assessor | Capacity::TraineeAssessor)
    }

    /// IQA material (decisions, their feedback to the assessor, actions) is between the
    /// IQA and the assessors (SPEC §7): the learner's portfolio leaves it out.
    pub(crate) fn may_read_iqa_material(self) -> bool {
        self != Capacity::Learner
    }

    /// A credential's number is the learner's once the credential is issued to them;
    /// staff see it from the request on.
    pub(crate) fn may_read_credential_number(self, issued: bool) -> bool {
        issued || self != Capacity::Learner
    }

    /// The keys of an activity entry's detail this capacity may not read: an IQA
    /// decision's verdict and feedback (the learner's log says a decision was made, by
    /// whom and when, not what it said), and credential numbers (a learner's log shows
    /// none, issued or not: their number is on the credential itself).
    pub(crate) fn withheld_log_details(self) -> &'static [&'static str] {
        match self {
            Capacity::Learner => &["feedback", "verdict", "number"],
            Capacity::TraineeAssessor | Capacity::Assessor | Capacity::Iqa | Capacity::Admin => &[],
        }
    }
}

/// The capacity in which `viewer` sees the enrolment, or `None` (404). A person assigned
/// to the enrolment acts in that assignment, provided they hold its role; an admin of the
/// centre sees every enrolment of it.
pub(crate) fn capacity(viewer: Viewer<'_>, e: &Assigned) -> Option<Capacity> {
    if viewer.centre != e.centre {
        return None;
    }
    let holds = |r: Role| viewer.roles.contains(&r);
    if viewer.id == e.learner && holds(Role::Learner) {
        Some(Capacity::Learner)
    } else if viewer.id == e.assessor && holds(Role::Assessor) {
        Some(Capacity::Assessor)
    } else if Some(viewer.id) == e.trainee_assessor && holds(Role::TraineeAssessor) {
        Some(Capacity::TraineeAssessor)
    } else if Some(viewer.id) == e.iqa && holds(Role::Iqa) {
        Some(Capacity::Iqa)
    } else if holds(Role::Admin) {
        Some(Capacity::Admin)
    } else {
        None
    }
}

/// An employer's person sees, read-only, the enrolments they are linked to (SPEC §10),
/// of their own centre; they never act on the portfolio (`capacity` gives them none).
pub(crate) fn employer_follows(viewer: Viewer<'_>, centre: Uuid, linked: bool) -> bool {
    viewer.centre == centre && viewer.roles.contains(&Role::Employer) && linked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    const CENTRE: u128 = 100;

    fn enrolment() -> Assigned {
        Assigned {
            centre: id(CENTRE),
            learner: id(1),
            assessor: id(2),
            trainee_assessor: Some(id(3)),
            iqa: Some(id(4)),
        }
    }

    fn as_(person: u128, roles: &[Role]) -> Option<Capacity> {
        capacity(
            Viewer {
                id: id(person),
                centre: id(CENTRE),
                roles,
            },
            &enrolment(),
        )
    }

    #[test]
    fn each_assigned_person_acts_in_their_assignment() {
        assert_eq!(as_(1, &[Role::Learner]), Some(Capacity::Learner));
        assert_eq!(
            as_(2, &[Role::Assessor, Role::Iqa]),
            Some(Capacity::Assessor)
        );
        assert_eq!(
            as_(3, &[Role::TraineeAssessor]),
            Some(Capacity::TraineeAssessor)
        );
        assert_eq!(as_(4, &[Role::Iqa, Role::Assessor]), Some(Capacity::Iqa));
        assert_eq!(as_(9, &[Role::Admin]), Some(Capacity::Admin));
    }

    const ALL: [Capacity; 5] = [
        Capacity::Learner,
        Capacity::TraineeAssessor,
        Capacity::Assessor,
        Capacity::Iqa,
        Capacity::Admin,
    ];

    #[test]
    fn only_the_learner_is_kept_from_iqa_material_and_unissued_numbers() {
        for c in ALL {
            let learner = c == Capacity::Learner;
            assert_eq!(c.may_read_iqa_material(), !learner, "{c:?}");
            assert_eq!(c.may_read_credential_number(false), !learner, "{c:?}");
            assert!(c.may_read_credential_number(true), "{c:?}");
            assert_eq!(
                c.withheld_log_details().contains(&"feedback"),
                learner,
                "{c:?}"
            );
            assert_eq!(
                c.withheld_log_details().contains(&"number"),
                learner,
                "{c:?}"
            );
        }
    }

    #[test]
    fn everyone_else_gets_nothing() {
        assert_eq!(
            as_(9, &[Role::Assessor, Role::Iqa, Role::TraineeAssessor]),
            None,
            "another assessor's learner"
        );
        assert_eq!(as_(8, &[Role::Learner]), None, "another learner");
        assert_eq!(
            as_(2, &[Role::Iqa]),
            None,
            "assigned, but no longer holding the role"
        );
        let other_centre = Viewer {
            id: id(2),
            centre: id(999),
            roles: &[Role::Assessor, Role::Admin],
        };
        assert_eq!(
            capacity(other_centre, &enrolment()),
            None,
            "a user of another centre"
        );
    }

    #[test]
    fn an_employers_person_sees_only_what_they_are_linked_to_and_never_the_portfolio() {
        let mentor = Viewer {
            id: id(50),
            centre: id(CENTRE),
            roles: &[Role::Employer],
        };
        assert!(employer_follows(mentor, id(CENTRE), true));
        assert!(!employer_follows(mentor, id(CENTRE), false), "not linked");
        assert!(!employer_follows(mentor, id(999), true), "another centre");
        let staff = Viewer {
            roles: &[Role::Admin],
            ..mentor
        };
        assert!(
            !employer_follows(staff, id(CENTRE), true),
            "no employer role"
        );
        assert_eq!(
            capacity(mentor, &enrolment()),
            None,
            "no portfolio capacity"
        );
    }

    #[test]
    fn layers_and_evidence_rights_follow_the_capacity() {
        assert_eq!(Capacity::Iqa.layer(), None);
        assert_eq!(Capacity::Admin.layer(), None);
        assert!(
            Capacity::Learner.may_add_evidence() && !Capacity::Learner.may_add_assessor_records()
        );
        assert!(Capacity::TraineeAssessor.may_add_assessor_records());
        assert!(!Capacity::Iqa.may_add_evidence());
        for c in ALL {
            assert_eq!(c.may_ask_witness(), c.layer().is_some(), "{c:?}");
        }
    }
}
