//! Audit findings in plain words for admins and assessors.
use super::{Rule, UnmetRule};
use crate::domain::qualification::{Qualification, RuleSet};

/// "Optional group B: 7 of 12 credits — unit 211 has 3 of 8 criteria left"
pub fn explain_rule(q: &Qualification, rs: &RuleSet, rule: &UnmetRule) -> String {
    let (what, unit_word) = match rule.rule {
        Rule::GroupAll { group } | Rule::GroupMinUnits { group } => {
            (rs.groups[group].title.clone(), "units")
        }
        Rule::GroupMinCredits { group } => (rs.groups[group].title.clone(), "credits"),
        Rule::RuleSetMinCredits => ("Total".to_string(), "credits"),
        Rule::RuleSetMinCreditsAtLevel { level } => {
            (format!("At level {level} or above"), "credits")
        }
    };
    let ways = if rule.nearest.is_empty() {
        "no unit left in this rule set can close the gap".to_string()
    } else {
        rule.nearest
            .iter()
            .map(|g| {
                format!(
                    "unit {} has {} of {} criteria left",
                    q.units[g.unit].code, g.criteria_left, g.criteria_total
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    format!(
        "{what}: {} of {} {unit_word} — {ways}",
        rule.have, rule.need
    )
}
