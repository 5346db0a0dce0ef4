use proptest::prelude::*;
use uuid::Uuid;

use super::plan::Plan;
use super::rules::evaluate_counted;
use super::*;
use crate::domain::qualification::{Qualification, RuleSet};
use crate::domain::testkit::{random_qualification, Rng};
use crate::domain::ticks::{confirmed, Layer, Tick};

fn random_confirmed(q: &Qualification, seed: u64, percent: u64) -> ConfirmedCriteria {
    let mut r = Rng::new(seed);
    let n = q.criterion_count();
    ConfirmedCriteria::from_ordinals(n, (0..n).filter(|_| r.chance(percent))).expect("in range")
}

/// Brute force: does any subset of the achieved group units that respects every
/// barred set satisfy the rule set?
fn brute_force_holds(q: &Qualification, rs: &RuleSet, units: &[UnitProgress]) -> bool {
    let mut candidates: Vec<usize> = rs
        .groups
        .iter()
        .flat_map(|g| g.units.iter().copied())
        .filter(|&u| units[u].achieved())
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    (0u32..(1 << candidates.len())).any(|mask| {
        let mut counted = vec![false; q.units.len()];
        for (i, &u) in candidates.iter().enumerate() {
            counted[u] = mask & (1 << i) != 0;
        }
        let respects_barred = rs
            .barred
            .iter()
            .all(|set| set.iter().filter(|&&u| counted[u]).count() <= 1);
        respects_barred
            && evaluate_counted(&Plan::new(q), rs, &counted)
                .unmet
                .is_empty()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn confirming_one_more_criterion_never_unachieves_a_major(
        seed in any::<u64>(), conf in any::<u64>(), pct in 0u64..=100, extra in any::<usize>()
    ) {
        let q = random_qualification(seed);
        let before = random_confirmed(&q, conf, pct);
        let mut after = before.clone();
        after.insert(extra % q.criterion_count()).expect("in range");
        for m in 0..q.majors.len() {
            let a = audit(&q, m, &before).expect("audit");
            let b = audit(&q, m, &after).expect("audit");
            for (x, y) in a.majors.iter().zip(&b.majors) {
                prop_assert!(!x.achieved || y.achieved, "major {} lost achievement", x.major);
            }
        }
    }

    #[test]
    fn barred_set_search_agrees_with_brute_force(seed in any::<u64>(), conf in any::<u64>(), pct in 30u64..=100) {
        let q = random_qualification(seed);
        let c = random_confirmed(&q, conf, pct);
        let report = audit(&q, 0, &c).expect("audit");
        for (m, result) in report.majors.iter().enumerate() {
            let brute = q.majors[m].rule_sets.iter().any(|rs| brute_force_holds(&q, rs, &report.units));
            prop_assert_eq!(result.achieved, brute, "major {}", m);
            if result.achieved {
                // The reported choice respects every barred set of the rule set it used.
                let rs = &q.majors[m].rule_sets[result.rule_set];
                for set in &rs.barred {
                    prop_assert!(set.iter().filter(|u| result.counted_units.contains(u)).count() <= 1);
                }
            }
        }
    }

    #[test]
    fn order_of_ticks_never_changes_an_audit(seed in any::<u64>(), tick_seed in any::<u64>(), shuffle in any::<u64>()) {
        let q = random_qualification(seed);
        let ids: Vec<Uuid> = (0..q.criterion_count()).map(|i| Uuid::from_u128(i as u128 + 1)).collect();
        let mut r = Rng::new(tick_seed);
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let mut ticks: Vec<Tick> = (0..r.range(0, 40))
            .map(|_| Tick {
                criterion: ids[r.range(0, ids.len() as u64 - 1) as usize],
                layer: Layer::ALL[r.range(0, 2) as usize],
                by: Uuid::nil(),
                at,
            })
            .collect();
        let audit_of = |ticks: &[Tick]| {
            let set = confirmed(ticks);
            let ordinals = set.iter().map(|id| ids.iter().position(|x| x == id).expect("known id"));
            let c = ConfirmedCriteria::from_ordinals(ids.len(), ordinals).expect("in range");
            audit(&q, 0, &c).expect("audit")
        };
        let first = audit_of(&ticks);
        let mut s = Rng::new(shuffle);
        for i in (1..ticks.len()).rev() {
            ticks.swap(i, s.range(0, i as u64) as usize);
        }
        prop_assert_eq!(first, audit_of(&ticks));
    }
}
