//! Reassigning a caseload (issue 12): when an assessor, a trainee assessor or an IQA
//! leaves, an admin moves all or some of the enrolments where that person holds one
//! place to someone else, in one step. The rules that decide which enrolments may move,
//! and to whom; `db::reassign` reads the facts and applies the decision.
//!
//! What the product does with the work in hand (SPEC §2, §7), which needs no change of
//! its own because it follows the enrolment's people:
//! - Trainee ticks awaiting countersignature stay as they are and await the enrolment's
//!   assessor, whoever that is now: a new assessor countersigns them.
//! - When the trainee assessor changes, the ticks the previous trainee made stay on the
//!   portfolio as theirs, still awaiting the assessor's countersignature; the new
//!   trainee works in the same trainee layer.
//! - Open IQA actions are the enrolment's: its assessor marks them addressed and its
//!   IQA closes them, so after a move they are the new person's. Decisions already made
//!   stay recorded as made by the IQA who made them.
use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::form::FieldError;
use super::people::Role;

/// The place on an enrolment a move hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Assessor,
    TraineeAssessor,
    Iqa,
}

impl Place {
    pub(crate) const ALL: [Place; 3] = [Place::Assessor, Place::TraineeAssessor, Place::Iqa];

    /// As the address and the form carry it.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Place::Assessor => "assessor",
            Place::TraineeAssessor => "trainee",
            Place::Iqa => "iqa",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Place> {
        Place::ALL.into_iter().find(|p| p.key() == key.trim())
    }

    /// The role someone must hold to take the place.
    pub(crate) fn role(self) -> Role {
        match self {
            Place::Assessor => Role::Assessor,
            Place::TraineeAssessor => Role::TraineeAssessor,
            Place::Iqa => Role::Iqa,
        }
    }

    /// In a sentence: "as assessor".
    pub(crate) fn label(self) -> &'static str {
        match self {
            Place::Assessor => "assessor",
            Place::TraineeAssessor => "trainee assessor",
            Place::Iqa => "IQA",
        }
    }
}

/// The people assigned to one enrolment, as a move finds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub enrolment: Uuid,
    pub assessor: Uuid,
    pub trainee: Option<Uuid>,
    pub iqa: Option<Uuid>,
}

impl Assignment {
    /// Who holds `place`.
    pub(crate) fn holder(&self, place: Place) -> Option<Uuid> {
        match place {
            Place::Assessor => Some(self.assessor),
            Place::TraineeAssessor => self.trainee,
            Place::Iqa => self.iqa,
        }
    }
}

/// The person the enrolments would go to, as the database holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Taker {
    pub id: Uuid,
    /// Of the admin's centre.
    pub same_centre: bool,
    pub staff: bool,
    pub active: bool,
    pub roles: Vec<Role>,
}

/// Why nobody's enrolments can go to this person: said beside the "to" field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TakerRefusal {
    #[error("the enrolments would move to the person they move from")]
    SamePerson,
    #[error("the person is not a member of staff of this centre")]
    NotOfCentre,
    #[error("the person's account is deactivated")]
    Deactivated,
    #[error("the person does not hold the role the enrolments move in")]
    WrongRole,
}

impl TakerRefusal {
    /// What the form says beside the field.
    pub(crate) fn field_error(self, place: Place) -> FieldError {
        let message = match (self, place) {
            (TakerRefusal::SamePerson, _) => "Choose someone other than the person who is leaving",
            (TakerRefusal::NotOfCentre, _) => "Choose a member of staff from the list",
            (TakerRefusal::Deactivated, _) => {
                "This person's account is deactivated: choose an active member of staff"
            }
            (TakerRefusal::WrongRole, Place::Assessor) => {
                "This person is not an assessor: choose someone who is"
            }
            (TakerRefusal::WrongRole, Place::TraineeAssessor) => {
                "This person is not a trainee assessor: choose someone who is"
            }
            (TakerRefusal::WrongRole, Place::Iqa) => {
                "This person is not an IQA: choose someone who is"
            }
        };
        FieldError::new("to", message)
    }
}

/// Whether `taker` may take enrolments in `place` from `from`: active staff of the
/// same centre holding the place's role, and someone else.
pub(crate) fn may_take(place: Place, from: Uuid, taker: &Taker) -> Result<(), TakerRefusal> {
    if taker.id == from {
        Err(TakerRefusal::SamePerson)
    } else if !taker.same_centre || !taker.staff {
        Err(TakerRefusal::NotOfCentre)
    } else if !taker.active {
        Err(TakerRefusal::Deactivated)
    } else if !taker.roles.contains(&place.role()) {
        Err(TakerRefusal::WrongRole)
    } else {
        Ok(())
    }
}

/// Why one enrolment cannot move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// Someone else holds the place now (it changed since the list was read).
    NoLongerTheirs,
    /// Assessor or trainee: the new person is the enrolment's IQA.
    IsItsIqa,
    /// Trainee or IQA: the new person is the enrolment's assessor.
    IsItsAssessor,
    /// Assessor or IQA: the new person is the enrolment's trainee assessor.
    IsItsTrainee,
    /// IQA: the new person made assessor or trainee ticks on the enrolment.
    TickedOnIt,
}

impl Conflict {
    /// In plain words, after the enrolment's name.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Conflict::NoLongerTheirs => {
                "no longer assigned to the person leaving in this role: someone changed it meanwhile"
            }
            Conflict::IsItsIqa => {
                "the new person is this learner's IQA, and an IQA never samples their own assessment"
            }
            Conflict::IsItsAssessor => {
                "the new person is this learner's assessor (an IQA never samples their own assessment; a trainee is never also the assessor)"
            }
            Conflict::IsItsTrainee => {
                "the new person is this learner's trainee assessor (an IQA never samples their own assessment; a trainee is never also the assessor)"
            }
            Conflict::TickedOnIt => {
                "the new person ticked as assessor or trainee on this portfolio, and an IQA never samples their own assessment decisions"
            }
        }
    }
}

/// Why `a` cannot move from `from` to `to` in `place`, if it cannot. `to_ticked`: `to`
/// made assessor or trainee ticks on it (what an IQA may not sample, SPEC §7).
pub(crate) fn conflict(
    place: Place,
    from: Uuid,
    to: Uuid,
    a: &Assignment,
    to_ticked: bool,
) -> Option<Conflict> {
    if a.holder(place) != Some(from) {
        return Some(Conflict::NoLongerTheirs);
    }
    let is_assessor = a.assessor == to && place != Place::Assessor;
    let is_trainee = a.trainee == Some(to) && place != Place::TraineeAssessor;
    let is_iqa = a.iqa == Some(to) && place != Place::Iqa;
    if is_iqa {
        Some(Conflict::IsItsIqa)
    } else if is_assessor {
        Some(Conflict::IsItsAssessor)
    } else if is_trainee {
        Some(Conflict::IsItsTrainee)
    } else if place == Place::Iqa && to_ticked {
        Some(Conflict::TickedOnIt)
    } else {
        None
    }
}

/// What a move would do with the enrolments chosen: those that move, and those that
/// cannot, each with why. A move goes ahead only when nothing is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub moving: Vec<Uuid>,
    pub refused: Vec<(Uuid, Conflict)>,
}

/// Decides every chosen enrolment; `ticked_by_taker` holds those on which `to` made
/// assessor or trainee ticks.
pub(crate) fn plan(
    place: Place,
    from: Uuid,
    to: Uuid,
    chosen: &[Assignment],
    ticked_by_taker: &BTreeSet<Uuid>,
) -> Plan {
    let mut p = Plan::default();
    for a in chosen {
        match conflict(place, from, to, a, ticked_by_taker.contains(&a.enrolment)) {
            None => p.moving.push(a.enrolment),
            Some(c) => p.refused.push((a.enrolment, c)),
        }
    }
    p
}

/// A move refused as a whole, with the reason: nothing was changed (answered 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReassignRefusal {
    #[error("nothing was moved: {0}")]
    Taker(TakerRefusal),
    #[error(
        "nothing was moved: {} cannot take {} as {}: {}",
        to,
        enrolments(refused.len()),
        place.label(),
        named(refused)
    )]
    Conflicts {
        to: String,
        place: Place,
        /// Each enrolment refused, named ("Lena Quillfeather, TINY/A"), and why.
        refused: Vec<(String, Conflict)>,
    },
    #[error(
        "nothing was moved: the enrolments changed since the confirmation; check the move again"
    )]
    Changed,
}

/// "1 enrolment", "37 enrolments".
pub(crate) fn enrolments(n: usize) -> String {
    if n == 1 {
        "1 enrolment".to_string()
    } else {
        format!("{n} enrolments")
    }
}

fn named(refused: &[(String, Conflict)]) -> String {
    refused
        .iter()
        .map(|(name, c)| format!("{name} ({})", c.reason()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Which enrolments a move takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chosen {
    /// Every enrolment where the person holds the place. The confirmation names the
    /// count; `digest` is of the set it counted, so that a set changed since (someone
    /// enrolled or moved one) is refused rather than moved unseen.
    All { digest: String },
    /// These, ticked on one page of the list.
    These(Vec<Uuid>),
}

/// The most enrolments ticked at once: one page of the list at its largest.
pub(crate) const MOST_CHOSEN: usize = 200;

/// A set of enrolments, in a few characters: the same ids in any order give the same.
pub fn digest(ids: &[Uuid]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut h = Sha256::new();
    for id in &sorted {
        h.update(id.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// The choosing form, as posted: `enrolment` repeats, once per ticked box.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MoveForm {
    pub role: String,
    /// "all" or "chosen".
    pub which: String,
    pub enrolments: Vec<String>,
    pub to: String,
    /// With "all", on the confirming form: the digest of the set confirmed.
    pub digest: String,
}

/// A move, checked as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Move {
    pub place: Place,
    pub to: Uuid,
    /// None for "all" before the confirmation has counted them.
    pub chosen: Option<Chosen>,
}

/// Every problem with the form, each against its field; the role is read apart (it is
/// the page's, not typed). For "all", `chosen` is filled from the digest when the form
/// carries one (the confirming form), else left for the confirmation to count.
pub(crate) fn validate(place: Place, form: &MoveForm) -> Result<Move, Vec<FieldError>> {
    let mut errors = Vec::new();
    let to = Uuid::parse_str(form.to.trim()).ok();
    if to.is_none() {
        errors.push(FieldError::new(
            "to",
            "Select who takes these enrolments over",
        ));
    }
    let chosen = match form.which.as_str() {
        "all" if form.digest.trim().is_empty() => None,
        "all" => Some(Chosen::All {
            digest: form.digest.trim().to_string(),
        }),
        _ if form.enrolments.is_empty() => {
            errors.push(FieldError::new(
                "enrolments",
                "Select at least one enrolment, or choose all of them",
            ));
            None
        }
        _ if form.enrolments.len() > MOST_CHOSEN => {
            errors.push(FieldError::new(
                "enrolments",
                "Select at most 200 enrolments, or choose all of them",
            ));
            None
        }
        _ => {
            let ids: Option<BTreeSet<Uuid>> = form
                .enrolments
                .iter()
                .map(|e| Uuid::parse_str(e.trim()).ok())
                .collect();
            match ids {
                Some(ids) => Some(Chosen::These(ids.into_iter().collect())),
                None => {
                    errors.push(FieldError::new(
                        "enrolments",
                        "Select enrolments from the list",
                    ));
                    None
                }
            }
        }
    };
    match (to, errors.is_empty()) {
        (Some(to), true) => Ok(Move { place, to, chosen }),
        _ => Err(errors),
    }
}

#[cfg(test)]
#[path = "reassign_tests.rs"]
mod tests;
