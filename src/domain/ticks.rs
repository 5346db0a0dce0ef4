//! The three tick layers of SPEC §2: learner claims, trainee-assessor ticks awaiting
//! countersignature, and assessor ticks, the only ones that confirm a criterion.
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::status::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Layer {
    Learner,
    TraineeAssessor,
    Assessor,
}

impl Layer {
    pub const ALL: [Layer; 3] = [Layer::Learner, Layer::TraineeAssessor, Layer::Assessor];

    pub fn key(self) -> &'static str {
        match self {
            Layer::Learner => "learner",
            Layer::TraineeAssessor => "trainee_assessor",
            Layer::Assessor => "assessor",
        }
    }

    pub fn from_key(key: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Layer::Learner => "Learner",
            Layer::TraineeAssessor => "Trainee assessor",
            Layer::Assessor => "Assessor",
        }
    }
}

/// One tick on one evidence item. `criterion` is the criterion's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    pub criterion: Uuid,
    pub layer: Layer,
    pub by: Uuid,
    pub at: OffsetDateTime,
}

/// Where a tick is on its item: all "Accept all" needs to know of it, so callers that
/// only count may read no more than that.
pub(crate) trait Placed {
    fn criterion(&self) -> Uuid;
    fn layer(&self) -> Layer;
}

impl Placed for Tick {
    fn criterion(&self) -> Uuid {
        self.criterion
    }
    fn layer(&self) -> Layer {
        self.layer
    }
}

/// (criterion, layer).
impl Placed for (Uuid, Layer) {
    fn criterion(&self) -> Uuid {
        self.0
    }
    fn layer(&self) -> Layer {
        self.1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TickRefusal {
    #[error(
        "you can only change ticks in your own layer ({own}); this tick is in the {other} layer"
    )]
    NotYourLayer {
        own: &'static str,
        other: &'static str,
    },
    #[error("assessor ticks cannot be removed once a credential has been requested (the enrolment is {0}); cancel the credential first")]
    LockedByCredential(Status),
    #[error("nothing can be ticked on a withdrawn enrolment")]
    Withdrawn,
    #[error("only a qualified assessor can accept trainee assessor ticks")]
    OnlyAssessorsAcceptTrainees,
    #[error("learners cannot accept ticks; they tick their own claims")]
    LearnersCannotAccept,
}

/// Criteria confirmed by ticks (assessor layer), in any order across evidence items.
pub fn confirmed<'a>(ticks: impl IntoIterator<Item = &'a Tick>) -> BTreeSet<Uuid> {
    ticks
        .into_iter()
        .filter(|t| t.layer == Layer::Assessor)
        .map(|t| t.criterion)
        .collect()
}

/// Whether the actor, ticking in `actor`'s layer, may add a tick.
pub(crate) fn may_tick(status: Status) -> Result<(), TickRefusal> {
    if status == Status::Withdrawn {
        Err(TickRefusal::Withdrawn)
    } else {
        Ok(())
    }
}

/// The one rule for a tick or an untick asked for by someone who writes in `actor`'s
/// layer, on a tick in `target`'s: nobody changes another layer (a trainee never removes
/// the assessor's tick, a learner never confirms), nothing changes on a withdrawn
/// enrolment, and assessor ticks are not removed once a credential was requested.
pub(crate) fn may_change(
    actor: Layer,
    target: Layer,
    adding: bool,
    status: Status,
) -> Result<(), TickRefusal> {
    if adding {
        may_tick(status)?;
        if actor != target {
            return Err(TickRefusal::NotYourLayer {
                own: actor.label(),
                other: target.label(),
            });
        }
        Ok(())
    } else {
        may_untick(actor, target, status)
    }
}

/// Anyone may remove a tick only from their own layer, and assessor ticks are locked
/// from Generating Credential on.
pub(crate) fn may_untick(actor: Layer, tick: Layer, status: Status) -> Result<(), TickRefusal> {
    may_tick(status)?;
    if actor != tick {
        return Err(TickRefusal::NotYourLayer {
            own: actor.label(),
            other: tick.label(),
        });
    }
    if tick == Layer::Assessor && status.locks_assessor_ticks() {
        return Err(TickRefusal::LockedByCredential(status));
    }
    Ok(())
}

/// Which "Accept all" an actor may use: the learner's claims (anyone but the learner)
/// and the trainee assessor's ticks (a qualified assessor only).
pub(crate) fn may_accept_all(actor: Layer) -> (bool, bool) {
    (actor != Layer::Learner, actor == Layer::Assessor)
}

/// Criteria that "Accept all learner ticks" would tick in the actor's layer on one
/// evidence item: those the learner claimed that the actor's layer lacks. Idempotent:
/// once applied, it returns nothing.
pub(crate) fn accept_all_learner_ticks<P: Placed>(
    ticks_on_item: &[P],
    actor: Layer,
) -> Result<Vec<Uuid>, TickRefusal> {
    if !may_accept_all(actor).0 {
        return Err(TickRefusal::LearnersCannotAccept);
    }
    Ok(missing_in_layer(ticks_on_item, Layer::Learner, actor))
}

/// Criteria that "Accept all trainee assessor ticks" would countersign on one item.
pub(crate) fn accept_all_trainee_ticks<P: Placed>(
    ticks_on_item: &[P],
    actor: Layer,
) -> Result<Vec<Uuid>, TickRefusal> {
    if !may_accept_all(actor).1 {
        return Err(TickRefusal::OnlyAssessorsAcceptTrainees);
    }
    Ok(missing_in_layer(
        ticks_on_item,
        Layer::TraineeAssessor,
        Layer::Assessor,
    ))
}

fn missing_in_layer<P: Placed>(ticks: &[P], from: Layer, to: Layer) -> Vec<Uuid> {
    let in_layer = |layer: Layer| -> BTreeSet<Uuid> {
        ticks
            .iter()
            .filter(|t| t.layer() == layer)
            .map(|t| t.criterion())
            .collect()
    };
    let (have, wanted) = (in_layer(to), in_layer(from));
    wanted.difference(&have).copied().collect()
}

/// Where a criterion stands for an enrolment, for pages that must never show a claim
/// as progress (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CriterionState {
    Confirmed,
    /// A trainee ticked it; waiting for a qualified assessor to countersign.
    AwaitingCountersignature,
    /// The learner claimed it; waiting for an assessor.
    Claimed,
    NotStarted,
}

impl CriterionState {
    pub fn of<'a>(criterion: Uuid, ticks: impl IntoIterator<Item = &'a Tick>) -> CriterionState {
        let mut layers = super::progress::Layers::default();
        for t in ticks.into_iter().filter(|t| t.criterion == criterion) {
            layers.add(t.layer);
        }
        layers.state()
    }

    pub fn label(self) -> &'static str {
        match self {
            CriterionState::Confirmed => "confirmed",
            CriterionState::AwaitingCountersignature => {
                "ticked by trainee — awaiting countersignature"
            }
            CriterionState::Claimed => "claimed — awaiting assessor",
            CriterionState::NotStarted => "not started",
        }
    }
}

#[cfg(test)]
#[path = "ticks_tests.rs"]
mod tests;
