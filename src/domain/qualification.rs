//! A validated qualification version: the structure of SPEC §1 with unit references
//! resolved to indices, so the audit never looks anything up by string.
use serde::{Deserialize, Serialize};

/// Index of a unit in `Qualification::units`.
pub type UnitIx = usize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qualification {
    pub code: String,
    pub title: String,
    pub level: u8,
    pub awarding_body: String,
    pub units: Vec<Unit>,
    /// Never empty: a file without majors gets the implicit "Core" major.
    pub majors: Vec<Major>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub code: String,
    pub title: String,
    pub level: u8,
    pub credits: u32,
    pub outcomes: Vec<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub number: String,
    pub title: String,
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub number: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Major {
    pub code: String,
    pub title: String,
    /// True for the "Core" major made for a file that declares none.
    pub implicit: bool,
    /// The major is achieved when ANY rule set holds. Never empty.
    pub rule_sets: Vec<RuleSet>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    pub title: String,
    pub min_credits: Option<u32>,
    pub min_credits_at_level: Vec<LevelCredits>,
    /// Each set: at most one of these units may count.
    pub barred: Vec<Vec<UnitIx>>,
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelCredits {
    pub level: u8,
    pub credits: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub title: String,
    pub units: Vec<UnitIx>,
    pub all: bool,
    pub min_units: Option<u32>,
    pub min_credits: Option<u32>,
    pub max_credits: Option<u32>,
}

pub(crate) const CORE_MAJOR_CODE: &str = "CORE";
pub(crate) const CORE_MAJOR_TITLE: &str = "Core";

impl Qualification {
    /// Total number of assessment criteria; criteria are numbered 0.. in the order
    /// unit → outcome → criterion (their "ordinal").
    pub fn criterion_count(&self) -> usize {
        self.units.iter().map(Unit::criterion_count).sum()
    }

    /// Each criterion as a witness or a signed record names it, by ordinal:
    /// "Unit 201 · 1.1 Describe the duty of care".
    pub fn criterion_labels(&self) -> Vec<String> {
        self.units
            .iter()
            .flat_map(|u| {
                u.outcomes.iter().flat_map(move |o| {
                    o.criteria
                        .iter()
                        .map(move |c| format!("Unit {} · {} {}", u.code, c.number, c.text))
                })
            })
            .collect()
    }

    /// The ordinal range of each unit's criteria, in unit order.
    pub(crate) fn unit_criterion_ranges(&self) -> Vec<std::ops::Range<usize>> {
        let mut start = 0;
        self.units
            .iter()
            .map(|u| {
                let r = start..start + u.criterion_count();
                start = r.end;
                r
            })
            .collect()
    }

    pub fn unit_index(&self, code: &str) -> Option<UnitIx> {
        self.units.iter().position(|u| u.code == code)
    }

    pub(crate) fn major_index(&self, code: &str) -> Option<usize> {
        self.majors.iter().position(|m| m.code == code)
    }

    /// The implicit major of a file that declares none: one group, all units.
    pub fn core_major(unit_count: usize) -> Major {
        Major {
            code: CORE_MAJOR_CODE.to_string(),
            title: CORE_MAJOR_TITLE.to_string(),
            implicit: true,
            rule_sets: vec![RuleSet {
                title: CORE_MAJOR_TITLE.to_string(),
                min_credits: None,
                min_credits_at_level: Vec::new(),
                barred: Vec::new(),
                groups: vec![Group {
                    title: "All units".to_string(),
                    units: (0..unit_count).collect(),
                    all: true,
                    min_units: None,
                    min_credits: None,
                    max_credits: None,
                }],
            }],
        }
    }
}

impl Unit {
    pub fn criterion_count(&self) -> usize {
        self.outcomes.iter().map(|o| o.criteria.len()).sum()
    }
}
