//! A qualification's rules in plain words, for admins checking an import
//! (`attest qualification check`) and for pages that show what a major asks for.
use crate::domain::qualification::{Group, Major, Qualification, RuleSet, UnitIx};

/// One line per rule. With several rule sets, each gets a heading line and its rules
/// are indented beneath it.
pub(crate) fn describe_major(q: &Qualification, major: &Major) -> Vec<String> {
    if let [only] = major.rule_sets.as_slice() {
        return describe_rule_set(q, only);
    }
    let mut lines = Vec::new();
    for rs in &major.rule_sets {
        lines.push(format!(
            "Rule set '{}' (achieved when ANY rule set holds):",
            rs.title
        ));
        lines.extend(
            describe_rule_set(q, rs)
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    }
    lines
}

fn describe_rule_set(q: &Qualification, rs: &RuleSet) -> Vec<String> {
    let mut lines: Vec<String> = rs.groups.iter().map(|g| describe_group(q, g)).collect();
    if let Some(c) = rs.min_credits {
        lines.push(format!("At least {} in total", plural(c, "credit")));
    }
    for lc in &rs.min_credits_at_level {
        lines.push(format!(
            "At least {} at level {} or above",
            plural(lc.credits, "credit"),
            lc.level
        ));
    }
    for set in &rs.barred {
        lines.push(format!("At most one of {} may count", codes(q, set)));
    }
    lines
}

fn describe_group(q: &Qualification, g: &Group) -> String {
    let list = codes(q, &g.units);
    let mut minimums = Vec::new();
    if let Some(n) = g.min_units.filter(|_| !g.all) {
        minimums.push(format!("at least {}", plural(n, "unit")));
    }
    if let Some(c) = g.min_credits {
        minimums.push(format!("at least {}", plural(c, "credit")));
    }
    let mut rule = if g.all {
        let mut s = format!("all of {list}");
        if !minimums.is_empty() {
            s.push_str(&format!(" ({})", minimums.join(" and ")));
        }
        s
    } else if !minimums.is_empty() {
        format!("{} from {list}", minimums.join(" and "))
    } else {
        String::new()
    };
    if let Some(m) = g.max_credits {
        let cap = format!("at most {} count", plural(m, "credit"));
        rule = if rule.is_empty() {
            format!("{cap} from {list}")
        } else {
            format!("{rule}; {cap}")
        };
    }
    format!("{}: {rule}", g.title)
}

fn codes(q: &Qualification, units: &[UnitIx]) -> String {
    units
        .iter()
        .map(|&ix| q.units.get(ix).map_or("?", |u| u.code.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The report of `attest qualification check`: what was understood from the file.
pub(crate) fn describe_qualification(q: &Qualification) -> String {
    let credits: u32 = q.units.iter().map(|u| u.credits).sum();
    let mut out = format!(
        "Qualification {} \"{}\", level {}, awarding body {}: {}, {}, {}\n",
        q.code,
        q.title,
        q.level,
        q.awarding_body,
        plural_usize(q.units.len(), "unit"),
        plural_usize(q.criterion_count(), "criterion"),
        plural(credits, "credit"),
    );
    for m in &q.majors {
        let note = if m.implicit {
            " (implicit: the file declares no majors)"
        } else {
            ""
        };
        out.push_str(&format!("Major {} \"{}\"{note}:\n", m.code, m.title));
        for line in describe_major(q, m) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

fn plural_usize(n: usize, noun: &str) -> String {
    match (n, noun) {
        (1, _) => format!("1 {noun}"),
        (_, "criterion") => format!("{n} criteria"),
        _ => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::qualification::{Criterion, LevelCredits, Outcome, Unit};

    fn unit(code: &str, level: u8, credits: u32) -> Unit {
        Unit {
            code: code.to_string(),
            title: format!("Unit {code}"),
            level,
            credits,
            outcomes: vec![Outcome {
                number: "1".to_string(),
                title: "Outcome".to_string(),
                criteria: vec![
                    Criterion {
                        number: "1.1".to_string(),
                        text: "Do it".to_string(),
                    },
                    Criterion {
                        number: "1.2".to_string(),
                        text: "Explain it".to_string(),
                    },
                ],
            }],
        }
    }

    fn group(title: &str, units: Vec<UnitIx>) -> Group {
        Group {
            title: title.to_string(),
            units,
            all: false,
            min_units: None,
            min_credits: None,
            max_credits: None,
        }
    }

    fn rule_set(title: &str, groups: Vec<Group>) -> RuleSet {
        RuleSet {
            title: title.to_string(),
            min_credits: None,
            min_credits_at_level: Vec::new(),
            barred: Vec::new(),
            groups,
        }
    }

    fn qualification(majors: Vec<Major>) -> Qualification {
        Qualification {
            code: "601/3562/1".to_string(),
            title: "Diploma in Customer Service".to_string(),
            level: 2,
            awarding_body: "City & Guilds".to_string(),
            units: vec![
                unit("201", 2, 5),
                unit("202", 2, 4),
                unit("210", 2, 6),
                unit("214", 3, 7),
                unit("215", 3, 1),
            ],
            majors,
        }
    }

    fn major(rule_sets: Vec<RuleSet>) -> Major {
        Major {
            code: "GEN".to_string(),
            title: "General".to_string(),
            implicit: false,
            rule_sets,
        }
    }

    #[test]
    fn describes_each_kind_of_rule() {
        let mut mandatory = group("Mandatory", vec![0, 1]);
        mandatory.all = true;
        let mut optional = group("Optional group B", vec![2, 3, 4]);
        optional.min_credits = Some(12);
        let mut units = group("Group A", vec![2, 3]);
        units.min_units = Some(1);
        let mut capped = group("Group C", vec![3, 4]);
        capped.max_credits = Some(7);
        let mut both = group("Group D", vec![2, 4]);
        both.min_credits = Some(3);
        both.max_credits = Some(7);
        let mut rs = rule_set("General", vec![mandatory, optional, units, capped, both]);
        rs.min_credits = Some(37);
        rs.min_credits_at_level = vec![LevelCredits {
            level: 2,
            credits: 30,
        }];
        rs.barred = vec![vec![3, 4]];
        let q = qualification(vec![major(vec![rs])]);
        assert_eq!(
            describe_major(&q, &q.majors[0]),
            vec![
                "Mandatory: all of 201, 202",
                "Optional group B: at least 12 credits from 210, 214, 215",
                "Group A: at least 1 unit from 210, 214",
                "Group C: at most 7 credits count from 214, 215",
                "Group D: at least 3 credits from 210, 215; at most 7 credits count",
                "At least 37 credits in total",
                "At least 30 credits at level 2 or above",
                "At most one of 214, 215 may count",
            ]
        );
    }

    #[test]
    fn several_rule_sets_get_headings() {
        let mut a = group("Set A electives", vec![2, 3]);
        a.min_units = Some(2);
        let mut b = group("Set B electives", vec![4]);
        b.all = true;
        let q = qualification(vec![major(vec![
            rule_set("Elective set A", vec![a]),
            rule_set("Elective set B", vec![b]),
        ])]);
        assert_eq!(
            describe_major(&q, &q.majors[0]),
            vec![
                "Rule set 'Elective set A' (achieved when ANY rule set holds):",
                "  Set A electives: at least 2 units from 210, 214",
                "Rule set 'Elective set B' (achieved when ANY rule set holds):",
                "  Set B electives: all of 215",
            ]
        );
    }

    #[test]
    fn describes_the_whole_qualification() {
        let q = qualification(vec![Qualification::core_major(5)]);
        assert_eq!(
            describe_qualification(&q),
            "Qualification 601/3562/1 \"Diploma in Customer Service\", level 2, \
             awarding body City & Guilds: 5 units, 10 criteria, 23 credits\n\
             Major CORE \"Core\" (implicit: the file declares no majors):\n  \
             All units: all of 201, 202, 210, 214, 215\n"
        );
    }
}
