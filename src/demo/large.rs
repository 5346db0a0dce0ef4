//! The benchmark qualification: 60 units × 25 criteria, 6 majors of 2 rule sets with
//! every kind of group and levels, and 3 barred sets (in the first rule set of the
//! first three majors). Built in code so benches and tests share it.
use crate::domain::qualification::*;
use crate::domain::ConfirmedCriteria;

pub(crate) const UNITS: usize = 60;
pub(crate) const OUTCOMES_PER_UNIT: usize = 5;
pub(crate) const CRITERIA_PER_OUTCOME: usize = 5;

pub fn large_qualification(code: &str) -> Qualification {
    let units = (0..UNITS)
        .map(|u| Unit {
            code: format!("{}", 100 + u),
            title: format!("Unit {} of the benchmark qualification", 100 + u),
            level: (1 + u % 4) as u8,
            credits: 3 + (u % 8) as u32,
            outcomes: (1..=OUTCOMES_PER_UNIT)
                .map(|o| Outcome {
                    number: o.to_string(),
                    title: format!("Learning outcome {o}"),
                    criteria: (1..=CRITERIA_PER_OUTCOME)
                        .map(|c| Criterion {
                            number: format!("{o}.{c}"),
                            text: format!("Assessment criterion {o}.{c} of unit {}", 100 + u),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let majors = (0..6)
        .map(|m| Major {
            code: format!("M{}", m + 1),
            title: format!("Pathway {}", m + 1),
            implicit: false,
            rule_sets: (0..2)
                .map(|r| rule_set(m * 7 + r * 3, r, m < 3 && r == 0))
                .collect(),
        })
        .collect();
    Qualification {
        code: code.to_string(),
        title: "Benchmark Diploma".to_string(),
        level: 3,
        awarding_body: "Attest Benchmarks".to_string(),
        units,
        majors,
    }
}

/// A rule set over 29 units starting at `offset` (wrapping), so majors overlap.
fn rule_set(offset: usize, r: usize, barred: bool) -> RuleSet {
    let span = |from: usize, n: usize| {
        (from..from + n)
            .map(|i| (offset + i) % UNITS)
            .collect::<Vec<_>>()
    };
    let group = |title: &str, units: Vec<UnitIx>| Group {
        title: title.to_string(),
        units,
        all: false,
        min_units: None,
        min_credits: None,
        max_credits: None,
    };
    let mut mandatory = group("Mandatory", span(0, 5));
    mandatory.all = true;
    let mut a = group("Group A", span(5, 8));
    a.min_units = Some(3);
    let mut b = group("Group B", span(13, 10));
    b.min_credits = Some(20);
    let mut c = group("Group C", span(23, 6));
    c.max_credits = Some(10);
    c.min_units = Some(1);
    RuleSet {
        title: format!("Route {}", r + 1),
        min_credits: Some(60),
        min_credits_at_level: vec![
            LevelCredits {
                level: 2,
                credits: 40,
            },
            LevelCredits {
                level: 3,
                credits: 15,
            },
        ],
        barred: if barred {
            vec![span(13, 3)]
        } else {
            Vec::new()
        },
        groups: vec![mandatory, a, b, c],
    }
}

/// About 40 % of criteria confirmed: whole units for most of the first half, a few
/// criteria elsewhere, so barred sets force choices and unmet rules need explaining.
pub fn typical_confirmed(q: &Qualification, seed: usize) -> ConfirmedCriteria {
    let mut c = ConfirmedCriteria::new(q.criterion_count());
    for (u, range) in q.unit_criterion_ranges().into_iter().enumerate() {
        let whole = !(u + seed).is_multiple_of(4) && u < UNITS / 2;
        for (i, o) in range.enumerate() {
            if whole || (i + u + seed).is_multiple_of(7) {
                // Ranges come from `q`, so every ordinal is in range.
                let _ = c.insert(o);
            }
        }
    }
    c
}
