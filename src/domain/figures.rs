//! The figures every list of enrolments shows (SPEC §3): how far a portfolio is
//! confirmed and what waits for an assessor. Defined here once, from where each
//! criterion stands (`progress::Layers::state`); the database keeps the same figures
//! on each enrolment as ticks change (migration 0014), and tests hold the two equal.
use super::progress::{progress, Layers};
use super::qualification::Qualification;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Criteria with an assessor tick: the only progress there is (SPEC §2).
    pub confirmed: u32,
    /// Criteria a trainee ticked that no qualified assessor has confirmed.
    pub awaiting_countersignature: u32,
    /// Criteria the learner claimed that no assessor or trainee has ticked: "claims to
    /// review" on an assessor's caseload, "claimed" on the learner's own pages.
    pub claims_to_review: u32,
    /// Units with every criterion confirmed.
    pub units_achieved: u32,
    /// Units with at least one criterion confirmed.
    pub units_assessed: u32,
}

impl Figures {
    /// The figures of a portfolio whose criteria stand as `layers` (by criterion
    /// ordinal, as `progress` takes them).
    pub fn of(q: &Qualification, layers: &[Layers]) -> Figures {
        let p = progress(q, layers);
        let count = |f: &dyn Fn(&super::progress::Counts) -> bool| {
            u32::try_from(p.units.iter().filter(|u| f(&u.counts)).count()).unwrap_or(u32::MAX)
        };
        Figures {
            confirmed: p.overall.confirmed,
            awaiting_countersignature: p.overall.awaiting_countersignature,
            claims_to_review: p.overall.claimed,
            units_achieved: count(&|c| c.achieved()),
            units_assessed: count(&|c| c.confirmed > 0),
        }
    }
}

/// Whole percent of `confirmed` out of `total`, rounded down so that 100 means done.
pub fn percent(confirmed: u32, total: u32) -> u32 {
    (u64::from(confirmed) * 100)
        .checked_div(u64::from(total))
        .map_or(0, |p| u32::try_from(p).unwrap_or(100))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testkit::{qualification, unit};
    use crate::domain::ticks::Layer;
    use crate::domain::Qualification as Q;
    use proptest::prelude::*;

    fn two_units() -> Q {
        qualification(
            vec![unit("A", 2, 5, 3), unit("B", 2, 5, 2)],
            vec![Q::core_major(2)],
        )
    }

    fn layers(ticks: &[(usize, Layer)]) -> Vec<Layers> {
        let mut l = vec![Layers::default(); 5];
        for &(c, layer) in ticks {
            l[c].add(layer);
        }
        l
    }

    #[test]
    fn each_criterion_counts_once_in_the_first_state_that_holds() {
        let f = Figures::of(
            &two_units(),
            &layers(&[
                (0, Layer::Learner),
                (0, Layer::Assessor),
                (1, Layer::Learner),
                (1, Layer::TraineeAssessor),
                (2, Layer::Learner),
                (3, Layer::TraineeAssessor),
            ]),
        );
        assert_eq!(
            f,
            Figures {
                confirmed: 1,
                awaiting_countersignature: 2,
                claims_to_review: 1,
                units_achieved: 0,
                units_assessed: 1,
            }
        );
    }

    #[test]
    fn a_unit_is_achieved_when_all_its_criteria_are_confirmed() {
        let f = Figures::of(
            &two_units(),
            &layers(&[
                (3, Layer::Assessor),
                (4, Layer::Assessor),
                (0, Layer::Assessor),
            ]),
        );
        assert_eq!((f.units_achieved, f.units_assessed, f.confirmed), (1, 2, 3));
    }

    #[test]
    fn percent_rounds_down_and_survives_an_empty_qualification() {
        assert_eq!(percent(2, 3), 66);
        assert_eq!(percent(3, 3), 100);
        assert_eq!(percent(0, 0), 0);
    }

    fn layer() -> impl Strategy<Value = Layer> {
        prop_oneof![
            Just(Layer::Learner),
            Just(Layer::TraineeAssessor),
            Just(Layer::Assessor)
        ]
    }

    proptest! {
        /// The states partition the criteria, and units achieved never exceed units
        /// assessed, whatever was ticked.
        #[test]
        fn the_states_never_overlap(ticks in proptest::collection::vec((0usize..5, layer()), 0..20)) {
            let f = Figures::of(&two_units(), &layers(&ticks));
            prop_assert!(f.confirmed + f.awaiting_countersignature + f.claims_to_review <= 5);
            prop_assert!(f.units_achieved <= f.units_assessed);
            let assessor = ticks.iter().filter(|(_, l)| *l == Layer::Assessor)
                .map(|(c, _)| *c).collect::<std::collections::BTreeSet<_>>();
            prop_assert_eq!(f.confirmed as usize, assessor.len());
        }
    }
}
