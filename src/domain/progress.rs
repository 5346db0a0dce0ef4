//! Progress (SPEC §3): confirmed criteria only, per learning outcome, unit and overall,
//! with learner claims and trainee ticks counted apart and never as progress.
use super::qualification::Qualification;
use super::ticks::{CriterionState, Layer};

/// Which layers have ticked one criterion, on any evidence item of the enrolment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layers {
    pub learner: bool,
    pub trainee: bool,
    pub assessor: bool,
}

impl Layers {
    pub fn add(&mut self, layer: Layer) {
        match layer {
            Layer::Learner => self.learner = true,
            Layer::TraineeAssessor => self.trainee = true,
            Layer::Assessor => self.assessor = true,
        }
    }

    /// Where the criterion stands: the one definition of confirmed, awaiting
    /// countersignature and claimed, which every page and list counts by.
    pub fn state(self) -> CriterionState {
        match (self.learner, self.trainee, self.assessor) {
            (_, _, true) => CriterionState::Confirmed,
            (_, true, false) => CriterionState::AwaitingCountersignature,
            (true, false, false) => CriterionState::Claimed,
            (false, false, false) => CriterionState::NotStarted,
        }
    }
}

/// Counts for a set of criteria (an outcome, a unit, or the whole qualification).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u32,
    pub confirmed: u32,
    /// Claimed by the learner, with no assessor or trainee tick yet: the claims an
    /// assessor has to review.
    pub claimed: u32,
    /// Ticked by a trainee, with no assessor tick yet.
    pub awaiting_countersignature: u32,
}

impl Counts {
    fn add(&mut self, l: Layers) {
        self.total += 1;
        match l.state() {
            CriterionState::Confirmed => self.confirmed += 1,
            CriterionState::AwaitingCountersignature => self.awaiting_countersignature += 1,
            CriterionState::Claimed => self.claimed += 1,
            CriterionState::NotStarted => {}
        }
    }

    pub fn percent(&self) -> u32 {
        (self.confirmed * 100).checked_div(self.total).unwrap_or(0)
    }

    pub fn achieved(&self) -> bool {
        self.total > 0 && self.confirmed == self.total
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitProgress {
    pub unit: usize,
    pub counts: Counts,
    /// One per learning outcome, in order.
    pub outcomes: Vec<Counts>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub overall: Counts,
    pub units: Vec<UnitProgress>,
}

/// Progress from `layers`, indexed by criterion ordinal (see `Qualification`).
pub fn progress(q: &Qualification, layers: &[Layers]) -> Progress {
    let mut ordinal = 0;
    let mut overall = Counts::default();
    let units = q
        .units
        .iter()
        .enumerate()
        .map(|(u, unit)| {
            let mut counts = Counts::default();
            let outcomes = unit
                .outcomes
                .iter()
                .map(|o| {
                    let mut oc = Counts::default();
                    for _ in &o.criteria {
                        let l = layers.get(ordinal).copied().unwrap_or_default();
                        oc.add(l);
                        counts.add(l);
                        overall.add(l);
                        ordinal += 1;
                    }
                    oc
                })
                .collect();
            UnitProgress {
                unit: u,
                counts,
                outcomes,
            }
        })
        .collect();
    Progress { overall, units }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testkit::{qualification, unit};

    #[test]
    fn claims_and_trainee_ticks_never_count_as_progress() {
        let q = qualification(
            vec![unit("A", 2, 5, 4), unit("B", 2, 5, 1)],
            vec![Qualification::core_major(2)],
        );
        let mut layers = vec![Layers::default(); 5];
        layers[0].add(Layer::Learner);
        layers[1].add(Layer::Learner);
        layers[1].add(Layer::TraineeAssessor);
        layers[2].add(Layer::Learner);
        layers[2].add(Layer::Assessor);
        layers[4].add(Layer::Assessor);
        let p = progress(&q, &layers);
        assert_eq!(
            p.overall,
            Counts {
                total: 5,
                confirmed: 2,
                claimed: 1,
                awaiting_countersignature: 1
            }
        );
        assert_eq!(p.units[0].counts.percent(), 25);
        assert!(!p.units[0].counts.achieved());
        assert!(
            p.units[1].counts.achieved(),
            "unit B's only criterion is confirmed"
        );
        assert_eq!(p.units[0].outcomes.len(), 1);
    }
}
