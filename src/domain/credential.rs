//! What a credential records about the learner's achievement (SPEC §6).
use super::outcome::ConfirmedCriteria;
use super::qualification::{Qualification, UnitIx};

/// Units achieved: every one of their criteria confirmed (SPEC §1), in the
/// qualification's order.
pub fn achieved_units(q: &Qualification, confirmed: &ConfirmedCriteria) -> Vec<UnitIx> {
    q.unit_criterion_ranges()
        .into_iter()
        .enumerate()
        .filter(|(_, range)| !range.is_empty() && confirmed.count_in(range.clone()) == range.len())
        .map(|(ix, _)| ix)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testkit;

    #[test]
    fn a_unit_is_achieved_only_when_every_criterion_is_confirmed() {
        let units = vec![
            testkit::unit("201", 2, 3, 2),
            testkit::unit("202", 2, 2, 2),
            testkit::unit("203", 3, 2, 3),
        ];
        let q = testkit::qualification(units, Vec::new());
        let mut confirmed = ConfirmedCriteria::new(q.criterion_count());
        // Unit 0 has criteria 0..2, unit 1 has 2..4, unit 2 has 4..7.
        for ordinal in [0, 1, 2, 4, 5, 6] {
            confirmed.insert(ordinal).expect("in range");
        }
        assert_eq!(achieved_units(&q, &confirmed), vec![0, 2]);
        confirmed.insert(3).expect("in range");
        assert_eq!(achieved_units(&q, &confirmed), vec![0, 1, 2]);
    }
}
