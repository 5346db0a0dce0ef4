//! Checks that span several tables: uniqueness and unit references. Builds the
//! `Qualification`, which the caller discards if any error was recorded.
use std::collections::HashMap;

use super::extract::{RawGroup, RawQualification, RawRuleSet, RawUnit, UnitRef};
use super::fields::{join, Errors, Sp};
use crate::domain::qualification::{
    Criterion, Group, Major, Outcome, Qualification, RuleSet, Unit, UnitIx,
};

pub(super) fn build(raw: RawQualification, errs: &mut Errors) -> Qualification {
    let codes = unique(
        raw.units.iter().map(|u| (u.path.as_str(), u.code.as_ref())),
        "code",
        errs,
    );
    for u in &raw.units {
        unique(
            u.outcomes
                .iter()
                .map(|o| (o.path.as_str(), o.number.as_ref())),
            "number",
            errs,
        );
        // Criterion numbers such as "1.2" identify a criterion within the whole unit.
        let criteria = u.outcomes.iter().flat_map(|o| &o.criteria);
        unique(
            criteria.map(|c| (c.path.as_str(), c.number.as_ref())),
            "number",
            errs,
        );
    }
    unique(
        raw.majors
            .iter()
            .map(|m| (m.path.as_str(), m.code.as_ref())),
        "code",
        errs,
    );
    let majors: Vec<Major> = raw
        .majors
        .iter()
        .map(|m| Major {
            code: value(&m.code),
            title: m.title.clone().unwrap_or_default(),
            implicit: false,
            rule_sets: m
                .rule_sets
                .iter()
                .map(|rs| rule_set(rs, &codes, &raw.units, errs))
                .collect(),
        })
        .collect();
    let units: Vec<Unit> = raw.units.into_iter().map(unit).collect();
    let majors = if majors.is_empty() {
        vec![Qualification::core_major(units.len())]
    } else {
        majors
    };
    Qualification {
        code: raw.code.unwrap_or_default(),
        title: raw.title.unwrap_or_default(),
        level: raw.level.unwrap_or_default(),
        awarding_body: raw.awarding_body.unwrap_or_default(),
        units,
        majors,
    }
}

fn value(s: &Option<Sp<String>>) -> String {
    s.as_ref().map(|s| s.value.clone()).unwrap_or_default()
}

/// Reports every repeat of a value after its first occurrence, and maps each value to
/// the position of that first occurrence.
fn unique<'a>(
    items: impl Iterator<Item = (&'a str, Option<&'a Sp<String>>)>,
    key: &str,
    errs: &mut Errors,
) -> HashMap<&'a str, usize> {
    let mut first = HashMap::new();
    for (i, (path, v)) in items.enumerate() {
        let Some(v) = v else { continue };
        if first.contains_key(v.value.as_str()) {
            errs.add(&join(path, key), v.line, format!("duplicate {:?}", v.value));
        } else {
            first.insert(v.value.as_str(), i);
        }
    }
    first
}

fn unit(u: RawUnit) -> Unit {
    Unit {
        code: value(&u.code),
        title: u.title.unwrap_or_default(),
        level: u.level.unwrap_or_default(),
        credits: u.credits.unwrap_or_default(),
        outcomes: u
            .outcomes
            .into_iter()
            .map(|o| Outcome {
                number: value(&o.number),
                title: o.title.unwrap_or_default(),
                criteria: o
                    .criteria
                    .into_iter()
                    .map(|c| Criterion {
                        number: value(&c.number),
                        text: c.text.unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn resolve(r: &UnitRef, codes: &HashMap<&str, UnitIx>, errs: &mut Errors) -> Option<UnitIx> {
    let ix = codes.get(r.code.as_str()).copied();
    if ix.is_none() {
        errs.add(&r.path, r.line, format!("unknown unit {:?}", r.code));
    }
    ix
}

fn rule_set(
    rs: &RawRuleSet,
    codes: &HashMap<&str, UnitIx>,
    units: &[RawUnit],
    errs: &mut Errors,
) -> RuleSet {
    // Which group each unit already belongs to: a unit may be in only one group of a
    // rule set, or its credits would count twice.
    let mut owner: HashMap<UnitIx, &RawGroup> = HashMap::new();
    let mut groups = Vec::with_capacity(rs.groups.len());
    for g in &rs.groups {
        let mut ixs = Vec::with_capacity(g.units.len());
        for r in &g.units {
            let Some(ix) = resolve(r, codes, errs) else {
                continue;
            };
            match owner.get(&ix) {
                Some(other) if std::ptr::eq(*other, g) => {
                    errs.add(&r.path, r.line, format!("duplicate {:?}", r.code));
                }
                Some(other) => {
                    let title = other.title.as_deref().unwrap_or("");
                    let message =
                        format!("unit {:?} is already in {} ({title:?})", r.code, other.path);
                    errs.add(&r.path, r.line, message);
                }
                None => {
                    owner.insert(ix, g);
                    ixs.push(ix);
                }
            }
        }
        check_reachable(g, &ixs, units, errs);
        groups.push(Group {
            title: g.title.clone().unwrap_or_default(),
            units: ixs,
            all: g.all,
            min_units: g.min_units,
            min_credits: g.min_credits,
            max_credits: g.max_credits,
        });
    }
    let barred = rs
        .barred
        .iter()
        .map(|set| {
            let mut ixs = Vec::with_capacity(set.len());
            for r in set {
                let Some(ix) = resolve(r, codes, errs) else {
                    continue;
                };
                if ixs.contains(&ix) {
                    errs.add(&r.path, r.line, format!("duplicate {:?}", r.code));
                } else if !owner.contains_key(&ix) {
                    // Only units of the groups can count, so barring another is a mistake.
                    let message = format!("unit {:?} is not in any group of this rule set", r.code);
                    errs.add(&r.path, r.line, message);
                } else {
                    ixs.push(ix);
                }
            }
            ixs
        })
        .collect();
    RuleSet {
        title: rs.title.clone(),
        min_credits: rs.min_credits,
        min_credits_at_level: rs.min_credits_at_level.clone(),
        barred,
        groups,
    }
}

/// A group asking for more credits than its units carry could never be achieved.
fn check_reachable(g: &RawGroup, ixs: &[UnitIx], units: &[RawUnit], errs: &mut Errors) {
    let Some(min) = g.min_credits else { return };
    if ixs.len() != g.units.len() {
        return;
    }
    let total: Option<u32> = ixs
        .iter()
        .map(|&i| units.get(i).and_then(|u| u.credits))
        .sum();
    if let Some(total) = total.filter(|t| *t < min) {
        errs.add(
            &join(&g.path, "min_credits"),
            g.min_credits_line,
            format!("{min} is more than the {total} credits of this group's units"),
        );
    }
}
