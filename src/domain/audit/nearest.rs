//! The nearest way to meet an unmet rule set (SPEC §4): for each unmet rule, the
//! unachieved units that close its gap with the fewest criteria still to confirm.
use super::plan::{Plan, NO_GROUP};
use super::{Rule, UnitProgress, UnmetRule};
use crate::domain::qualification::{RuleSet, UnitIx};

/// Scratch space for walks, reused across the rule sets of one audit.
pub(super) struct Buffers {
    pub(super) open: Vec<UnitIx>,
    pub(super) taken: Vec<UnitIx>,
    pub(super) headroom: Vec<u32>,
}

/// How far an unmet rule set is: criteria still to confirm along its suggested units
/// (each unit once); a rule nothing can close counts as farther than any that can.
pub(super) fn criteria_to_close(
    found: &[(usize, UnitIx)],
    rules: usize,
    units: &[UnitProgress],
    seen: &mut [bool],
) -> u32 {
    let mut total = 0u32;
    let mut reached = 0u64;
    for &(r, u) in found {
        reached |= 1u64 << r.min(63);
        if !std::mem::replace(&mut seen[u], true) {
            total += units[u].left();
        }
    }
    for &(_, u) in found {
        seen[u] = false;
    }
    let hopeless = (0..rules)
        .filter(|&r| reached & (1u64 << r.min(63)) == 0)
        .count() as u32;
    total.saturating_add(hopeless.saturating_mul(1_000_000))
}

/// For each unmet rule, the unachieved units that close its gap with the fewest
/// criteria still to confirm, in `nearness` order: calls `visit(rule index, unit)`.
#[allow(clippy::too_many_arguments)]
pub(super) fn walk_nearest(
    q: &Plan<'_>,
    rs: &RuleSet,
    group_of: &[usize],
    nearness: &[UnitIx],
    counted: &[bool],
    unmet: &[UnmetRule],
    bufs: &mut Buffers,
    mut visit: impl FnMut(usize, UnitIx),
) {
    group_headroom(q, rs, counted, &mut bufs.headroom);
    let headroom = &bufs.headroom;
    // The rule set's unachieved units, nearest first: every suggestion comes from these.
    let open = &mut bufs.open;
    open.clear();
    open.extend(
        nearness
            .iter()
            .copied()
            .filter(|&u| group_of[u] != NO_GROUP),
    );
    // A suggestion must be able to count: not barred against a counted unit, nor
    // against another unit suggested for the same rule.
    let barred_with = |u: UnitIx, taken: &[UnitIx]| {
        rs.barred.iter().any(|set| {
            set.contains(&u)
                && set
                    .iter()
                    .any(|&v| v != u && (counted[v] || taken.contains(&v)))
        })
    };
    let taken = &mut bufs.taken;
    for (i, rule) in unmet.iter().enumerate() {
        let mut missing = rule.need - rule.have;
        taken.clear();
        let candidates = open.iter().copied().filter(|&u| match rule.rule {
            Rule::GroupAll { group }
            | Rule::GroupMinUnits { group }
            | Rule::GroupMinCredits { group } => group_of[u] == group,
            Rule::RuleSetMinCreditsAtLevel { level } => q.units[u].level >= level,
            Rule::RuleSetMinCredits => true,
        });
        for u in candidates {
            if missing == 0 {
                break;
            }
            // What taking this unit closes: a unit, its credits, or its credits under the cap.
            let closes = match rule.rule {
                Rule::GroupAll { .. } | Rule::GroupMinUnits { .. } => 1,
                Rule::GroupMinCredits { .. } => q.units[u].credits,
                Rule::RuleSetMinCredits | Rule::RuleSetMinCreditsAtLevel { .. } => {
                    q.units[u].credits.min(headroom[group_of[u]])
                }
            };
            if closes > 0 && (rs.barred.is_empty() || !barred_with(u, taken)) {
                missing = missing.saturating_sub(closes);
                taken.push(u);
                visit(i, u);
            }
        }
    }
}

/// Unachieved units (the only ones a suggestion can name), fewest criteria left first,
/// then most credits: the order suggestions take.
pub(super) fn nearness_order(q: &Plan<'_>, units: &[UnitProgress]) -> Vec<UnitIx> {
    let fits = units.len() <= 0xFFFF && units.iter().all(|p| p.left() <= 0xFFFF);
    if !fits {
        let mut order: Vec<UnitIx> = (0..units.len()).filter(|&u| !units[u].achieved()).collect();
        order
            .sort_unstable_by_key(|&u| (units[u].left(), std::cmp::Reverse(q.units[u].credits), u));
        return order;
    }
    // One packed key per unit (criteria left, then credits descending, then index)
    // sorts faster than tuples.
    let mut keys: Vec<u64> = units
        .iter()
        .zip(&q.units)
        .enumerate()
        .filter(|(_, (p, _))| !p.achieved())
        .map(|(u, (p, unit))| {
            (u64::from(p.left()) << 48)
                | (u64::from(u32::MAX - unit.credits) << 16)
                | (u as u64 & 0xFFFF)
        })
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|k| (k & 0xFFFF) as UnitIx).collect()
}

/// Credits each group can still add to the totals before its cap.
fn group_headroom(q: &Plan<'_>, rs: &RuleSet, counted: &[bool], out: &mut Vec<u32>) {
    out.clear();
    out.extend(rs.groups.iter().map(|g| match g.max_credits {
        None => u32::MAX,
        Some(cap) => {
            let have: u32 = g
                .units
                .iter()
                .filter(|&&u| counted[u])
                .map(|&u| q.units[u].credits)
                .sum();
            cap.saturating_sub(have)
        }
    }));
}
