//! Auditing an enrolment (SPEC §4): which majors are achieved from confirmed criteria,
//! and for unmet majors what is missing and the nearest way to meet it.
use serde::{Deserialize, Serialize};

use super::outcome::{ConfirmedCriteria, Outcome};
use super::qualification::{Qualification, UnitIx};

mod explain;
mod nearest;
mod plan;
mod rules;
mod summary;

pub use explain::explain_rule;
pub use summary::{AuditSummary, MajorSummary, UnmetSummary};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    #[error("the assigned major (index {0}) is not a major of this qualification")]
    UnknownMajor(usize),
    #[error("the confirmed criteria name {got} criteria but the qualification has {expected}")]
    CriteriaMismatch { expected: usize, got: usize },
}

/// Confirmed criteria of one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitProgress {
    pub confirmed: u32,
    pub total: u32,
}

impl UnitProgress {
    pub fn achieved(self) -> bool {
        self.confirmed == self.total
    }
    pub fn left(self) -> u32 {
        self.total - self.confirmed
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub outcome: Outcome,
    pub assigned_major: usize,
    pub units: Vec<UnitProgress>,
    pub majors: Vec<MajorResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorResult {
    /// Index into `Qualification::majors`.
    pub major: usize,
    pub achieved: bool,
    /// The rule set that holds, or for an unmet major the nearest one.
    pub rule_set: usize,
    /// Units counted under that rule set (after barred sets), in unit order.
    pub counted_units: Vec<UnitIx>,
    /// Achieved units left out because a barred set allows only one of them.
    pub barred_out: Vec<UnitIx>,
    /// Credits counted toward the rule set's totals, after caps.
    pub counted_credits: u32,
    /// Empty when achieved.
    pub unmet: Vec<UnmetRule>,
}

/// Which rule failed, how far it is, and the units nearest to closing the gap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmetRule {
    pub rule: Rule,
    pub have: u32,
    pub need: u32,
    /// Unachieved units that would close the gap, fewest criteria left first.
    pub nearest: Vec<UnitGap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    /// Every unit of group `group` must count.
    GroupAll {
        group: usize,
    },
    GroupMinUnits {
        group: usize,
    },
    GroupMinCredits {
        group: usize,
    },
    RuleSetMinCredits,
    RuleSetMinCreditsAtLevel {
        level: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitGap {
    pub unit: UnitIx,
    pub criteria_left: u32,
    pub criteria_total: u32,
}

/// Audit an enrolment whose assigned major is `assigned_major` (an index into `q.majors`).
/// To audit many enrolments of one version, build an `AuditPlan` once instead.
pub fn audit(
    q: &Qualification,
    assigned_major: usize,
    confirmed: &ConfirmedCriteria,
) -> Result<AuditReport, AuditError> {
    AuditPlan::new(q).audit(assigned_major, confirmed)
}

/// Audit from unit progress directly (the what-if planner treats chosen units as achieved).
pub(crate) fn audit_units(
    q: &Qualification,
    assigned_major: usize,
    units: Vec<UnitProgress>,
) -> AuditReport {
    AuditPlan::new(q).audit_units(assigned_major, units)
}

/// What auditing needs of one qualification version, worked out once: bulk audits
/// reuse it for every enrolment of the version.
pub struct AuditPlan<'q> {
    q: &'q Qualification,
    rules: plan::Plan<'q>,
    criteria: usize,
}

impl<'q> AuditPlan<'q> {
    pub fn new(q: &'q Qualification) -> Self {
        AuditPlan {
            q,
            rules: plan::Plan::new(q),
            criteria: q.criterion_count(),
        }
    }

    pub fn audit(
        &self,
        assigned_major: usize,
        confirmed: &ConfirmedCriteria,
    ) -> Result<AuditReport, AuditError> {
        if assigned_major >= self.q.majors.len() {
            return Err(AuditError::UnknownMajor(assigned_major));
        }
        if confirmed.len() != self.criteria {
            return Err(AuditError::CriteriaMismatch {
                expected: self.criteria,
                got: confirmed.len(),
            });
        }
        Ok(self.audit_units(assigned_major, self.unit_progress(confirmed)))
    }

    /// Confirmed criteria per unit, in unit order.
    pub(crate) fn unit_progress(&self, confirmed: &ConfirmedCriteria) -> Vec<UnitProgress> {
        self.rules
            .ranges
            .iter()
            .map(|r| UnitProgress {
                confirmed: confirmed.count_in(r.clone()) as u32,
                total: r.len() as u32,
            })
            .collect()
    }

    pub(crate) fn audit_units(
        &self,
        assigned_major: usize,
        units: Vec<UnitProgress>,
    ) -> AuditReport {
        let q = self.q;
        let nearness = nearest::nearness_order(&self.rules, &units);
        let majors: Vec<MajorResult> = rules::with_workspace(q.units.len(), |workspace| {
            (0..q.majors.len())
                .map(|m| rules::evaluate_major(&self.rules, m, &units, &nearness, workspace))
                .collect()
        });
        let achieved = majors.iter().filter(|m| m.achieved).count();
        let assigned = majors.get(assigned_major).is_some_and(|m| m.achieved);
        AuditReport {
            outcome: Outcome::from_results(assigned, achieved, q.majors.len()),
            assigned_major,
            units,
            majors,
        }
    }
}

/// Progress as if exactly the listed units were achieved (the what-if planner).
pub(crate) fn progress_with_units_achieved(
    q: &Qualification,
    achieved: &[UnitIx],
) -> Vec<UnitProgress> {
    q.units
        .iter()
        .enumerate()
        .map(|(u, unit)| {
            let total = unit.criterion_count() as u32;
            let confirmed = if achieved.contains(&u) { total } else { 0 };
            UnitProgress { confirmed, total }
        })
        .collect()
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
