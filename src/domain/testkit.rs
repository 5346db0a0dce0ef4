//! Builders for qualifications in tests, and a seeded generator for property tests.
use super::qualification::*;

/// A unit with `criteria` criteria in one learning outcome.
pub fn unit(code: &str, level: u8, credits: u32, criteria: usize) -> Unit {
    Unit {
        code: code.to_string(),
        title: format!("Unit {code}"),
        level,
        credits,
        outcomes: vec![Outcome {
            number: "1".into(),
            title: "Outcome 1".into(),
            criteria: (1..=criteria)
                .map(|i| Criterion {
                    number: format!("1.{i}"),
                    text: format!("Criterion 1.{i}"),
                })
                .collect(),
        }],
    }
}

pub fn group(title: &str, units: &[UnitIx]) -> Group {
    Group {
        title: title.to_string(),
        units: units.to_vec(),
        all: false,
        min_units: None,
        min_credits: None,
        max_credits: None,
    }
}

pub fn rule_set(title: &str, groups: Vec<Group>) -> RuleSet {
    RuleSet {
        title: title.to_string(),
        min_credits: None,
        min_credits_at_level: Vec::new(),
        barred: Vec::new(),
        groups,
    }
}

pub fn major(code: &str, rule_sets: Vec<RuleSet>) -> Major {
    Major {
        code: code.to_string(),
        title: format!("Major {code}"),
        implicit: false,
        rule_sets,
    }
}

pub fn qualification(units: Vec<Unit>, majors: Vec<Major>) -> Qualification {
    Qualification {
        code: "TEST/1".into(),
        title: "Test qualification".into(),
        level: 2,
        awarding_body: "Test body".into(),
        units,
        majors,
    }
}

/// A small deterministic PRNG so property tests can build whole qualifications from a seed.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in lo..=hi.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(1, 100) <= percent
    }
}

/// A random, valid, small qualification: every kind of group rule, caps, levels,
/// barred sets and alternative rule sets appear across seeds.
pub(crate) fn random_qualification(seed: u64) -> Qualification {
    let mut r = Rng::new(seed);
    let n_units = r.range(2, 8) as usize;
    let units: Vec<Unit> = (0..n_units)
        .map(|i| {
            unit(
                &format!("U{i}"),
                r.range(1, 4) as u8,
                r.range(1, 10) as u32,
                r.range(1, 4) as usize,
            )
        })
        .collect();
    let majors = (0..r.range(1, 3))
        .map(|m| {
            let sets = (0..r.range(1, 2))
                .map(|s| random_rule_set(&mut r, &units, &format!("RS{s}")))
                .collect();
            major(&format!("M{m}"), sets)
        })
        .collect();
    qualification(units, majors)
}

fn random_rule_set(r: &mut Rng, units: &[Unit], title: &str) -> RuleSet {
    let mut pool: Vec<UnitIx> = (0..units.len()).filter(|_| r.chance(75)).collect();
    if pool.is_empty() {
        pool.push(0);
    }
    let n_groups = r.range(1, pool.len().min(3) as u64) as usize;
    let mut groups: Vec<Group> = (0..n_groups)
        .map(|g| group(&format!("G{g}"), &[]))
        .collect();
    for (i, u) in pool.iter().enumerate() {
        let g = if i < n_groups {
            i
        } else {
            r.range(0, n_groups as u64 - 1) as usize
        };
        groups[g].units.push(*u);
    }
    for g in &mut groups {
        let size = g.units.len() as u64;
        let credits: u32 = g.units.iter().map(|&u| units[u].credits).sum();
        match r.range(0, 4) {
            0 => g.all = true,
            1 => g.min_units = Some(r.range(1, size) as u32),
            2 => g.min_credits = Some(r.range(1, credits as u64) as u32),
            3 => g.max_credits = Some(r.range(1, credits as u64) as u32),
            _ => {
                g.min_units = Some(1);
                g.max_credits = Some(r.range(1, credits as u64) as u32);
            }
        }
    }
    let mut rs = rule_set(title, groups);
    let total: u32 = pool.iter().map(|&u| units[u].credits).sum();
    if r.chance(50) {
        rs.min_credits = Some(r.range(1, total as u64) as u32);
    }
    if r.chance(40) {
        rs.min_credits_at_level.push(LevelCredits {
            level: r.range(1, 4) as u8,
            credits: r.range(1, total as u64) as u32,
        });
    }
    if pool.len() >= 2 {
        for _ in 0..r.range(0, 2) {
            let mut set: Vec<UnitIx> = pool.iter().copied().filter(|_| r.chance(50)).collect();
            if set.len() >= 2 {
                set.truncate(3);
                rs.barred.push(set);
            }
        }
    }
    rs
}
