//! An audit report with codes and plain-words explanations instead of indices: what the
//! CLI prints as JSON and what pages show.
use serde::Serialize;

use super::{explain_rule, AuditReport};
use crate::domain::qualification::Qualification;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditSummary {
    pub outcome: &'static str,
    pub assigned_major: String,
    pub majors: Vec<MajorSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MajorSummary {
    pub code: String,
    pub title: String,
    pub achieved: bool,
    pub assigned: bool,
    /// The rule set that holds, or the nearest one for an unmet major.
    pub rule_set: String,
    pub counted_units: Vec<String>,
    pub barred_out: Vec<String>,
    pub counted_credits: u32,
    pub unmet: Vec<UnmetSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmetSummary {
    pub explanation: String,
    pub have: u32,
    pub need: u32,
    pub nearest_units: Vec<String>,
}

impl AuditSummary {
    pub fn new(q: &Qualification, report: &AuditReport) -> AuditSummary {
        let codes = |units: &[usize]| units.iter().map(|&u| q.units[u].code.clone()).collect();
        AuditSummary {
            outcome: report.outcome.label(),
            assigned_major: q.majors[report.assigned_major].code.clone(),
            majors: report
                .majors
                .iter()
                .map(|m| {
                    let major = &q.majors[m.major];
                    let rs = &major.rule_sets[m.rule_set];
                    MajorSummary {
                        code: major.code.clone(),
                        title: major.title.clone(),
                        achieved: m.achieved,
                        assigned: m.major == report.assigned_major,
                        rule_set: rs.title.clone(),
                        counted_units: codes(&m.counted_units),
                        barred_out: codes(&m.barred_out),
                        counted_credits: m.counted_credits,
                        unmet: m
                            .unmet
                            .iter()
                            .map(|u| UnmetSummary {
                                explanation: explain_rule(q, rs, u),
                                have: u.have,
                                need: u.need,
                                nearest_units: u
                                    .nearest
                                    .iter()
                                    .map(|g| q.units[g.unit].code.clone())
                                    .collect(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    /// The audit for people: one line for the outcome, then each major.
    pub(crate) fn to_text(&self) -> String {
        let mut out = format!(
            "Outcome: {} (assigned major {})\n",
            self.outcome, self.assigned_major
        );
        for m in &self.majors {
            let mark = if m.achieved {
                "achieved"
            } else {
                "not achieved"
            };
            let assigned = if m.assigned { " [assigned]" } else { "" };
            out.push_str(&format!("\n{} {}{}: {}\n", m.code, m.title, assigned, mark));
            out.push_str(&format!(
                "  rule set: {}; {} credits counted from {}\n",
                m.rule_set,
                m.counted_credits,
                if m.counted_units.is_empty() {
                    "no units".to_string()
                } else {
                    m.counted_units.join(", ")
                }
            ));
            if !m.barred_out.is_empty() {
                out.push_str(&format!(
                    "  not counted (barred combination): {}\n",
                    m.barred_out.join(", ")
                ));
            }
            for u in &m.unmet {
                out.push_str(&format!("  - {}\n", u.explanation));
            }
        }
        out
    }
}
