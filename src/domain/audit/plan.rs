//! What auditing reads of one qualification version, worked out once per version.
use crate::domain::qualification::{Major, Qualification};

/// What the rules read of a qualification, packed tight: auditing touches each unit's
/// level and credits many times and nothing else.
pub(super) struct Plan<'a> {
    pub(super) units: Vec<UnitFact>,
    pub(super) majors: &'a [Major],
    /// Each unit's criterion ordinals.
    pub(super) ranges: Vec<std::ops::Range<usize>>,
    /// `[major][rule set][unit]`: the unit's group in that rule set, or `NO_GROUP`.
    pub(super) group_of: Vec<Vec<Vec<usize>>>,
}

pub(super) const NO_GROUP: usize = usize::MAX;

#[derive(Debug, Clone, Copy)]
pub(super) struct UnitFact {
    pub(super) level: u8,
    pub(super) credits: u32,
}

impl<'a> Plan<'a> {
    pub(super) fn new(q: &'a Qualification) -> Self {
        Plan {
            units: q
                .units
                .iter()
                .map(|u| UnitFact {
                    level: u.level,
                    credits: u.credits,
                })
                .collect(),
            majors: &q.majors,
            ranges: q.unit_criterion_ranges(),
            group_of: q
                .majors
                .iter()
                .map(|m| {
                    m.rule_sets
                        .iter()
                        .map(|rs| {
                            let mut group_of = vec![NO_GROUP; q.units.len()];
                            for (gi, g) in rs.groups.iter().enumerate() {
                                for &u in &g.units {
                                    group_of[u] = gi;
                                }
                            }
                            group_of
                        })
                        .collect()
                })
                .collect(),
        }
    }
}
