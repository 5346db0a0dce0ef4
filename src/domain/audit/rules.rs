//! Rules of combination (SPEC §1) for one major: rule sets, groups, caps, levels and
//! the search over barred-set choices.
use super::{MajorResult, Rule, UnitGap, UnitProgress, UnmetRule};
use crate::domain::qualification::{Qualification, RuleSet, UnitIx};

/// What one choice of counted units gives under one rule set.
pub(super) struct Eval {
    pub(super) unmet: Vec<UnmetRule>,
    pub(super) counted_credits: u32,
}

/// One rule set's best result: the counted units used, and whether every rule holds.
struct RuleSetResult {
    counted: Vec<bool>,
    eval: Eval,
}

pub(super) fn evaluate_major(q: &Qualification, m: usize, units: &[UnitProgress]) -> MajorResult {
    let major = &q.majors[m];
    let mut best: Option<(usize, RuleSetResult, u32)> = None;
    for (i, rs) in major.rule_sets.iter().enumerate() {
        let mut result = evaluate_rule_set(q, rs, units);
        if result.eval.unmet.is_empty() {
            return major_result(q, m, i, rs, units, result);
        }
        attach_nearest(q, rs, units, &result.counted, &mut result.eval.unmet);
        let distance = criteria_to_close(&result.eval.unmet);
        if best.as_ref().is_none_or(|(_, _, d)| distance < *d) {
            best = Some((i, result, distance));
        }
    }
    match best {
        Some((i, result, _)) => major_result(q, m, i, &major.rule_sets[i], units, result),
        // A major always has a rule set (import guarantees it); report it as unmet.
        None => MajorResult {
            major: m,
            achieved: false,
            rule_set: 0,
            counted_units: Vec::new(),
            barred_out: Vec::new(),
            counted_credits: 0,
            unmet: Vec::new(),
        },
    }
}

fn major_result(
    q: &Qualification,
    m: usize,
    rule_set: usize,
    rs: &RuleSet,
    units: &[UnitProgress],
    result: RuleSetResult,
) -> MajorResult {
    let counted_units: Vec<UnitIx> = (0..q.units.len()).filter(|&u| result.counted[u]).collect();
    let mut barred_out: Vec<UnitIx> = rs
        .groups
        .iter()
        .flat_map(|g| g.units.iter().copied())
        .filter(|&u| units[u].achieved() && !result.counted[u])
        .collect();
    barred_out.sort_unstable();
    barred_out.dedup();
    MajorResult {
        major: m,
        achieved: result.eval.unmet.is_empty(),
        rule_set,
        counted_units,
        barred_out,
        counted_credits: result.eval.counted_credits,
        unmet: result.eval.unmet,
    }
}

/// Criteria still to confirm along the suggested units (each unit once).
fn criteria_to_close(unmet: &[UnmetRule]) -> u32 {
    let mut seen: Vec<UnitIx> = Vec::new();
    let mut total = 0;
    for gap in unmet.iter().flat_map(|r| r.nearest.iter()) {
        if !seen.contains(&gap.unit) {
            seen.push(gap.unit);
            total += gap.criteria_left;
        }
    }
    // An unmet rule with no way to close it is farther than any that has one.
    let hopeless = unmet.iter().filter(|r| r.nearest.is_empty()).count() as u32;
    total.saturating_add(hopeless.saturating_mul(1_000_000))
}

/// The best choice of counted units for a rule set. Counting more units never breaks a
/// rule (caps keep the top credits), so only maximal choices under the barred sets matter.
fn evaluate_rule_set(q: &Qualification, rs: &RuleSet, units: &[UnitProgress]) -> RuleSetResult {
    let mut counted = vec![false; q.units.len()];
    for g in &rs.groups {
        for &u in &g.units {
            counted[u] = units[u].achieved();
        }
    }
    let conflicts = conflicting_barred_sets(rs, &counted);
    if conflicts.is_empty() {
        let eval = evaluate_counted(q, rs, &counted);
        return RuleSetResult { counted, eval };
    }
    let mut contested: Vec<UnitIx> = conflicts.iter().flatten().copied().collect();
    contested.sort_unstable();
    contested.dedup();
    for &u in &contested {
        counted[u] = false;
    }
    let mut search = Search {
        q,
        rs,
        conflicts: &conflicts,
        contested: &contested,
        best: None,
    };
    search.choose(0, &mut counted);
    match search.best {
        Some(best) => best,
        None => {
            let eval = evaluate_counted(q, rs, &counted);
            RuleSetResult { counted, eval }
        }
    }
}

/// Barred sets restricted to units that would count, where they force a choice.
fn conflicting_barred_sets(rs: &RuleSet, counted: &[bool]) -> Vec<Vec<UnitIx>> {
    rs.barred
        .iter()
        .map(|set| set.iter().copied().filter(|&u| counted[u]).collect::<Vec<_>>())
        .filter(|set| set.len() >= 2)
        .collect()
}

struct Search<'a> {
    q: &'a Qualification,
    rs: &'a RuleSet,
    conflicts: &'a [Vec<UnitIx>],
    contested: &'a [UnitIx],
    best: Option<RuleSetResult>,
}

impl Search<'_> {
    fn done(&self) -> bool {
        self.best.as_ref().is_some_and(|b| b.eval.unmet.is_empty())
    }

    fn clashes(&self, u: UnitIx, counted: &[bool]) -> bool {
        self.conflicts
            .iter()
            .any(|set| set.contains(&u) && set.iter().any(|&v| v != u && counted[v]))
    }

    /// Enumerates maximal choices of contested units, stopping at the first that holds.
    fn choose(&mut self, i: usize, counted: &mut Vec<bool>) {
        if self.done() {
            return;
        }
        if i == self.contested.len() {
            let maximal = self
                .contested
                .iter()
                .all(|&u| counted[u] || self.clashes(u, counted));
            if maximal {
                let eval = evaluate_counted(self.q, self.rs, counted);
                let better = match &self.best {
                    None => true,
                    Some(b) => eval.unmet.len() < b.eval.unmet.len(),
                };
                if better {
                    self.best = Some(RuleSetResult {
                        counted: counted.clone(),
                        eval,
                    });
                }
            }
            return;
        }
        let u = self.contested[i];
        if !self.clashes(u, counted) {
            counted[u] = true;
            self.choose(i + 1, counted);
            counted[u] = false;
        }
        self.choose(i + 1, counted);
    }
}

/// Checks every rule of `rs` against the counted units; `nearest` is filled in later.
pub(super) fn evaluate_counted(q: &Qualification, rs: &RuleSet, counted: &[bool]) -> Eval {
    let mut unmet = Vec::new();
    // (level, credits) that count toward the rule set's totals, after caps.
    let mut contributions: Vec<(u8, u32)> = Vec::new();
    for (gi, g) in rs.groups.iter().enumerate() {
        let mut n = 0u32;
        let mut credits = 0u32;
        let first = contributions.len();
        for &u in &g.units {
            if counted[u] {
                n += 1;
                credits += q.units[u].credits;
                contributions.push((q.units[u].level, q.units[u].credits));
            }
        }
        if g.all && n < g.units.len() as u32 {
            unmet.push(unmet_rule(Rule::GroupAll { group: gi }, n, g.units.len() as u32));
        }
        if let Some(k) = g.min_units.filter(|&k| n < k) {
            unmet.push(unmet_rule(Rule::GroupMinUnits { group: gi }, n, k));
        }
        if let Some(c) = g.min_credits.filter(|&c| credits < c) {
            unmet.push(unmet_rule(Rule::GroupMinCredits { group: gi }, credits, c));
        }
        if let Some(cap) = g.max_credits {
            apply_cap(&mut contributions[first..], cap);
        }
    }
    let total: u32 = contributions.iter().map(|&(_, c)| c).sum();
    if let Some(c) = rs.min_credits.filter(|&c| total < c) {
        unmet.push(unmet_rule(Rule::RuleSetMinCredits, total, c));
    }
    for lc in &rs.min_credits_at_level {
        let have: u32 = contributions
            .iter()
            .filter(|&&(level, _)| level >= lc.level)
            .map(|&(_, c)| c)
            .sum();
        if have < lc.credits {
            unmet.push(unmet_rule(
                Rule::RuleSetMinCreditsAtLevel { level: lc.level },
                have,
                lc.credits,
            ));
        }
    }
    Eval {
        unmet,
        counted_credits: total,
    }
}

fn unmet_rule(rule: Rule, have: u32, need: u32) -> UnmetRule {
    UnmetRule {
        rule,
        have,
        need,
        nearest: Vec::new(),
    }
}

/// Keeps at most `cap` credits, those of the highest-level units first (SPEC §1).
fn apply_cap(contributions: &mut [(u8, u32)], cap: u32) {
    contributions.sort_by(|a, b| b.0.cmp(&a.0));
    let mut left = cap;
    for c in contributions.iter_mut() {
        let kept = c.1.min(left);
        left -= kept;
        c.1 = kept;
    }
}

/// For each unmet rule, the unachieved units that close its gap with the fewest
/// criteria still to confirm.
fn attach_nearest(
    q: &Qualification,
    rs: &RuleSet,
    units: &[UnitProgress],
    counted: &[bool],
    unmet: &mut [UnmetRule],
) {
    let gap = |u: UnitIx| UnitGap {
        unit: u,
        criteria_left: units[u].left(),
        criteria_total: units[u].total,
    };
    let by_nearness = |list: &mut Vec<UnitIx>| {
        list.sort_by_key(|&u| (units[u].left(), std::cmp::Reverse(q.units[u].credits), u));
    };
    for rule in unmet.iter_mut() {
        let missing = rule.need - rule.have;
        let mut candidates: Vec<UnitIx> = match rule.rule {
            Rule::GroupAll { group } | Rule::GroupMinUnits { group } | Rule::GroupMinCredits { group } => rs.groups[group]
                .units
                .iter()
                .copied()
                .filter(|&u| !units[u].achieved())
                .collect(),
            Rule::RuleSetMinCredits | Rule::RuleSetMinCreditsAtLevel { .. } => rs
                .groups
                .iter()
                .flat_map(|g| g.units.iter().copied())
                .filter(|&u| !units[u].achieved() && !counted[u])
                .filter(|&u| match rule.rule {
                    Rule::RuleSetMinCreditsAtLevel { level } => q.units[u].level >= level,
                    _ => true,
                })
                .collect(),
        };
        by_nearness(&mut candidates);
        rule.nearest = match rule.rule {
            Rule::GroupAll { .. } => candidates.into_iter().map(gap).collect(),
            Rule::GroupMinUnits { .. } => candidates.into_iter().take(missing as usize).map(gap).collect(),
            Rule::GroupMinCredits { .. } => take_credits(q, candidates, missing, |_| u32::MAX).into_iter().map(gap).collect(),
            Rule::RuleSetMinCredits | Rule::RuleSetMinCreditsAtLevel { .. } => {
                let headroom = group_headroom(q, rs, counted);
                take_credits(q, candidates, missing, |u| headroom_of(rs, &headroom, u))
                    .into_iter()
                    .map(gap)
                    .collect()
            }
        };
    }
}

/// Takes candidates in order until their (capped) credits cover `missing`.
fn take_credits(
    q: &Qualification,
    candidates: Vec<UnitIx>,
    missing: u32,
    room: impl Fn(UnitIx) -> u32,
) -> Vec<UnitIx> {
    let mut got = 0u32;
    let mut taken = Vec::new();
    for u in candidates {
        if got >= missing {
            break;
        }
        let adds = q.units[u].credits.min(room(u));
        if adds > 0 {
            got += adds;
            taken.push(u);
        }
    }
    taken
}

/// Credits each group can still add to the totals before its cap.
fn group_headroom(q: &Qualification, rs: &RuleSet, counted: &[bool]) -> Vec<u32> {
    rs.groups
        .iter()
        .map(|g| match g.max_credits {
            None => u32::MAX,
            Some(cap) => {
                let have: u32 = g.units.iter().filter(|&&u| counted[u]).map(|&u| q.units[u].credits).sum();
                cap.saturating_sub(have)
            }
        })
        .collect()
}

fn headroom_of(rs: &RuleSet, headroom: &[u32], u: UnitIx) -> u32 {
    rs.groups
        .iter()
        .position(|g| g.units.contains(&u))
        .map_or(0, |gi| headroom[gi])
}
