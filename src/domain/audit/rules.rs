//! Rules of combination (SPEC §1) for one major: rule sets, groups, caps, levels and
//! the search over barred-set choices.
use super::nearest::{criteria_to_close, walk_nearest, Buffers};
use super::plan::Plan;
use super::{MajorResult, Rule, UnitGap, UnitProgress, UnmetRule};
use crate::domain::qualification::{RuleSet, UnitIx};

/// What one choice of counted units gives under one rule set.
pub(super) struct Eval {
    pub(super) unmet: Vec<UnmetRule>,
    pub(super) counted_credits: u32,
}

/// One rule set's best result: the counted units used, and whether every rule holds.
struct RuleSetResult {
    /// Achieved units of the rule set's groups, before barred sets choose among them.
    /// Only where barred sets forced a choice; otherwise every eligible unit counts.
    eligible: Option<Vec<bool>>,
    counted: Vec<bool>,
    eval: Eval,
}

/// Buffers reused across the rule sets of one audit: auditing stays allocation-light.
pub(super) struct Workspace {
    bufs: Buffers,
    seen: Vec<bool>,
    /// Per rule set of the major being evaluated: (unmet rule, suggested unit) pairs.
    found: Vec<Vec<(usize, UnitIx)>>,
}

thread_local! {
    /// Audits on one thread (a bulk audit runs thousands) reuse one workspace.
    static WORKSPACE: std::cell::RefCell<Option<Workspace>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's workspace, sized for `unit_count` units.
pub(super) fn with_workspace<T>(unit_count: usize, f: impl FnOnce(&mut Workspace) -> T) -> T {
    WORKSPACE.with(|cell| {
        // A re-entrant call (never made today) gets a fresh workspace rather than a panic.
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return f(&mut Workspace::new(unit_count));
        };
        let ws = match slot.take() {
            Some(ws) if ws.seen.len() == unit_count => ws,
            _ => Workspace::new(unit_count),
        };
        let mut ws = ws;
        let out = f(&mut ws);
        *slot = Some(ws);
        out
    })
}

impl Workspace {
    pub(super) fn new(unit_count: usize) -> Self {
        Workspace {
            bufs: Buffers {
                open: Vec::with_capacity(unit_count),
                taken: Vec::with_capacity(unit_count),
                headroom: Vec::new(),
            },
            seen: vec![false; unit_count],
            found: Vec::new(),
        }
    }
}

pub(super) fn evaluate_major(
    q: &Plan<'_>,
    m: usize,
    units: &[UnitProgress],
    nearness: &[UnitIx],
    ws: &mut Workspace,
) -> MajorResult {
    let major = &q.majors[m];
    if ws.found.len() < major.rule_sets.len() {
        ws.found.resize_with(major.rule_sets.len(), Vec::new);
    }
    let mut best: Option<(usize, RuleSetResult, u32)> = None;
    for (i, rs) in major.rule_sets.iter().enumerate() {
        let result = evaluate_rule_set(q, rs, units);
        if result.eval.unmet.is_empty() {
            return major_result(q, m, i, result);
        }
        let mut found = std::mem::take(&mut ws.found[i]);
        found.clear();
        walk_nearest(
            q,
            rs,
            &q.group_of[m][i],
            nearness,
            &result.counted,
            &result.eval.unmet,
            &mut ws.bufs,
            |r, u| found.push((r, u)),
        );
        let distance = criteria_to_close(&found, result.eval.unmet.len(), units, &mut ws.seen);
        ws.found[i] = found;
        if best.as_ref().is_none_or(|(_, _, d)| distance < *d) {
            best = Some((i, result, distance));
        }
    }
    match best {
        Some((i, mut result, _)) => {
            let found = &ws.found[i];
            for (r, rule) in result.eval.unmet.iter_mut().enumerate() {
                rule.nearest = Vec::with_capacity(found.iter().filter(|(fr, _)| *fr == r).count());
            }
            for &(r, u) in found {
                result.eval.unmet[r].nearest.push(UnitGap {
                    unit: u,
                    criteria_left: units[u].left(),
                    criteria_total: units[u].total,
                });
            }
            major_result(q, m, i, result)
        }
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

fn major_result(q: &Plan<'_>, m: usize, rule_set: usize, result: RuleSetResult) -> MajorResult {
    let n = result.counted.iter().filter(|&&c| c).count();
    let mut counted_units: Vec<UnitIx> = Vec::with_capacity(n);
    counted_units.extend((0..q.units.len()).filter(|&u| result.counted[u]));
    let barred_out: Vec<UnitIx> = match &result.eligible {
        Some(eligible) => (0..q.units.len())
            .filter(|&u| eligible[u] && !result.counted[u])
            .collect(),
        None => Vec::new(),
    };
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

/// The best choice of counted units for a rule set. Counting more units never breaks a
/// rule (caps keep the top credits), so only maximal choices under the barred sets matter.
fn evaluate_rule_set(q: &Plan<'_>, rs: &RuleSet, units: &[UnitProgress]) -> RuleSetResult {
    let mut counted = vec![false; q.units.len()];
    for g in &rs.groups {
        for &u in &g.units {
            counted[u] = units[u].achieved();
        }
    }
    let mut eligible = None;
    if !rs.barred.is_empty() {
        let conflicts = conflicting_barred_sets(rs, &counted);
        if !conflicts.is_empty() {
            eligible = Some(counted.clone());
            choose_counted(q, rs, &conflicts, &mut counted);
        }
    }
    let eval = evaluate_counted(q, rs, &counted);
    RuleSetResult {
        eligible,
        counted,
        eval,
    }
}

/// Narrows `counted` (every eligible unit) to a choice that respects the barred sets:
/// one that holds if any does, else the first maximal one.
fn choose_counted(q: &Plan<'_>, rs: &RuleSet, conflicts: &[Vec<UnitIx>], counted: &mut Vec<bool>) {
    let mut contested: Vec<UnitIx> = conflicts.iter().flatten().copied().collect();
    contested.sort_unstable();
    contested.dedup();
    // Monotone rules: if counting every eligible unit fails, no allowed choice holds,
    // so there is nothing to search for.
    let may_hold = holds(q, rs, counted);
    for &u in &contested {
        counted[u] = false;
    }
    if may_hold {
        let mut search = Search {
            q,
            rs,
            conflicts,
            contested: &contested,
        };
        if search.find(0, counted) {
            return;
        }
    }
    for &u in &contested {
        if !clashes(conflicts, u, counted) {
            counted[u] = true;
        }
    }
}

/// Barred sets restricted to units that would count, where they force a choice.
fn conflicting_barred_sets(rs: &RuleSet, counted: &[bool]) -> Vec<Vec<UnitIx>> {
    rs.barred
        .iter()
        .filter(|set| set.iter().filter(|&&u| counted[u]).count() >= 2)
        .map(|set| {
            set.iter()
                .copied()
                .filter(|&u| counted[u])
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Whether counting `u` would break a barred set, given the units already counted.
fn clashes(conflicts: &[Vec<UnitIx>], u: UnitIx, counted: &[bool]) -> bool {
    conflicts
        .iter()
        .any(|set| set.contains(&u) && set.iter().any(|&v| v != u && counted[v]))
}

struct Search<'a> {
    q: &'a Plan<'a>,
    rs: &'a RuleSet,
    conflicts: &'a [Vec<UnitIx>],
    contested: &'a [UnitIx],
}

impl Search<'_> {
    /// Tries maximal choices of contested units; leaves `counted` at the first that holds.
    fn find(&mut self, i: usize, counted: &mut Vec<bool>) -> bool {
        if i == self.contested.len() {
            let maximal = self
                .contested
                .iter()
                .all(|&u| counted[u] || clashes(self.conflicts, u, counted));
            return maximal && holds(self.q, self.rs, counted);
        }
        let u = self.contested[i];
        if !clashes(self.conflicts, u, counted) {
            counted[u] = true;
            if self.find(i + 1, counted) {
                return true;
            }
            counted[u] = false;
        }
        self.find(i + 1, counted)
    }
}

/// Credits by level. Import keeps levels in 1..=8; higher levels share the top bucket.
const LEVELS: usize = 16;
type ByLevel = [u32; LEVELS];

fn level_bucket(level: u8) -> usize {
    usize::from(level).min(LEVELS - 1)
}

/// Whether every rule of `rs` holds for the counted units: the search's question,
/// answered without building a report.
fn holds(q: &Plan<'_>, rs: &RuleSet, counted: &[bool]) -> bool {
    let mut failed = false;
    let totals = tally(q, rs, counted, |_, _, _| failed = true);
    !failed && rule_set_shortfalls(rs, &totals, |_, _, _| ()) == 0
}

/// Checks every rule of `rs` against the counted units; `nearest` is filled in later.
pub(super) fn evaluate_counted(q: &Plan<'_>, rs: &RuleSet, counted: &[bool]) -> Eval {
    let mut unmet = Vec::with_capacity(rs.groups.len() + 2);
    let totals = tally(q, rs, counted, |rule, have, need| {
        unmet.push(unmet_rule(rule, have, need))
    });
    rule_set_shortfalls(rs, &totals, |rule, have, need| {
        unmet.push(unmet_rule(rule, have, need))
    });
    Eval {
        unmet,
        counted_credits: totals.iter().sum(),
    }
}

/// Checks each group's own rules, reporting shortfalls to `unmet`, and returns the
/// credits that count toward the rule set's totals (after caps) by level.
fn tally(
    q: &Plan<'_>,
    rs: &RuleSet,
    counted: &[bool],
    mut unmet: impl FnMut(Rule, u32, u32),
) -> ByLevel {
    let mut totals: ByLevel = [0; LEVELS];
    for (gi, g) in rs.groups.iter().enumerate() {
        let mut n = 0u32;
        let mut credits = 0u32;
        // This group's credits by level, kept only when a cap may have to trim them.
        let mut by_level: ByLevel = [0; LEVELS];
        let capped = g.max_credits.is_some();
        for &u in &g.units {
            if counted[u] {
                let (level, c) = (level_bucket(q.units[u].level), q.units[u].credits);
                n += 1;
                credits += c;
                totals[level] += c;
                if capped {
                    by_level[level] += c;
                }
            }
        }
        if g.all && n < g.units.len() as u32 {
            unmet(Rule::GroupAll { group: gi }, n, g.units.len() as u32);
        }
        if let Some(k) = g.min_units.filter(|&k| n < k) {
            unmet(Rule::GroupMinUnits { group: gi }, n, k);
        }
        if let Some(c) = g.min_credits.filter(|&c| credits < c) {
            unmet(Rule::GroupMinCredits { group: gi }, credits, c);
        }
        if let Some(cap) = g.max_credits.filter(|&cap| credits > cap) {
            // A cap keeps the credits of the highest-level units first (SPEC §1).
            let mut room = cap;
            for level in (0..LEVELS).rev() {
                let kept = by_level[level].min(room);
                room -= kept;
                totals[level] -= by_level[level] - kept;
            }
        }
    }
    totals
}

/// Checks the rule set's total and per-level credits; returns how many fall short.
fn rule_set_shortfalls(
    rs: &RuleSet,
    totals: &ByLevel,
    mut unmet: impl FnMut(Rule, u32, u32),
) -> usize {
    let mut short = 0;
    let total: u32 = totals.iter().sum();
    if let Some(c) = rs.min_credits.filter(|&c| total < c) {
        short += 1;
        unmet(Rule::RuleSetMinCredits, total, c);
    }
    for lc in &rs.min_credits_at_level {
        let have: u32 = totals[level_bucket(lc.level)..].iter().sum();
        if have < lc.credits {
            short += 1;
            unmet(
                Rule::RuleSetMinCreditsAtLevel { level: lc.level },
                have,
                lc.credits,
            );
        }
    }
    short
}

fn unmet_rule(rule: Rule, have: u32, need: u32) -> UnmetRule {
    UnmetRule {
        rule,
        have,
        need,
        nearest: Vec::new(),
    }
}
