//! Bad rules: groups, rule sets, barred sets and the units they name.
use super::error_tests::{errors, file, group, line_of, major};

#[test]
fn unknown_units_in_groups_and_barred_sets() {
    let groups = format!(
        "barred = [[\"201\", \"998\"]]\n{}{}",
        group("Mandatory", "\"201\"", "all = true"),
        group("Options", "\"202\", \"203\", \"999\"", "min_units = 1")
    );
    let text = file(&major("M", &groups));
    assert_eq!(
        errors(&text),
        vec![
            format!(
                "line {}: major[1].barred[1][2]: unknown unit \"998\"",
                line_of(&text, "barred", 0)
            ),
            format!(
                "line {}: major[1].group[2].units[3]: unknown unit \"999\"",
                line_of(&text, "\"999\"", 0)
            ),
        ]
    );
}

#[test]
fn a_unit_in_two_groups_of_one_rule_set() {
    let groups = format!(
        "{}{}",
        group("Mandatory", "\"201\", \"202\"", "all = true"),
        group("Options", "\"202\", \"203\", \"203\"", "min_units = 1")
    );
    let text = file(&major("M", &groups));
    let line = line_of(&text, "\"202\", \"203\"", 0);
    assert_eq!(
        errors(&text),
        vec![
            format!("line {line}: major[1].group[2].units[1]: unit \"202\" is already in major[1].group[1] (\"Mandatory\")"),
            format!("line {line}: major[1].group[2].units[3]: duplicate \"203\""),
        ]
    );
    let rule_sets = "  [[major.rule_set]]\n    [[major.rule_set.group]]\n    title = \"A\"\n    units = [\"201\"]\n    all = true\n    [[major.rule_set.group]]\n    title = \"B\"\n    units = [\"202\", \"201\"]\n    min_units = 1\n";
    let text = file(&major("M", rule_sets));
    assert_eq!(
        errors(&text),
        vec![format!(
            "line {}: major[1].rule_set[1].group[2].units[2]: unit \"201\" is already in major[1].rule_set[1].group[1] (\"A\")",
            line_of(&text, "\"202\", \"201\"", 0)
        )]
    );
}

#[test]
fn a_group_needs_a_rule_and_all_false_is_not_one() {
    let groups = format!(
        "{}{}",
        group("Nothing", "\"201\"", ""),
        group("False", "\"202\"", "all = false")
    );
    let text = file(&major("M", &groups));
    let message = "needs a rule: all = true, min_units, min_credits or max_credits";
    assert_eq!(
        errors(&text),
        vec![
            format!(
                "line {}: major[1].group[1]: {message}",
                line_of(&text, "[[major.group]]", 0)
            ),
            format!(
                "line {}: major[1].group[2]: {message}",
                line_of(&text, "[[major.group]]", 1)
            ),
        ]
    );
}

#[test]
fn min_units_must_fit_the_group() {
    let groups = format!(
        "{}{}",
        group("Too many", "\"201\", \"202\"", "min_units = 3"),
        group("Zero", "\"203\"", "min_units = 0")
    );
    let text = file(&major("M", &groups));
    assert_eq!(
        errors(&text),
        vec![
            format!(
                "line {}: major[1].group[1].min_units: 3 is more than the 2 units in this group",
                line_of(&text, "min_units = 3", 0)
            ),
            format!(
                "line {}: major[1].group[2].min_units: must be between 1 and 9999, found 0",
                line_of(&text, "min_units = 0", 0)
            ),
        ]
    );
}

#[test]
fn max_credits_below_min_credits() {
    let text = file(&major(
        "M",
        &group(
            "G",
            "\"201\", \"202\", \"203\"",
            "min_credits = 12\n  max_credits = 7",
        ),
    ));
    assert_eq!(
        errors(&text),
        vec![format!(
            "line {}: major[1].group[1].max_credits: 7 is less than min_credits 12",
            line_of(&text, "max_credits", 0)
        )]
    );
}

#[test]
fn group_min_credits_beyond_its_units() {
    let text = file(&major(
        "M",
        &group("G", "\"201\", \"202\"", "min_credits = 11"),
    ));
    assert_eq!(
        errors(&text),
        vec![format!("line {}: major[1].group[1].min_credits: 11 is more than the 10 credits of this group's units", line_of(&text, "min_credits", 0))]
    );
}

#[test]
fn a_major_with_both_direct_rules_and_rule_sets() {
    let body = format!(
        "min_credits = 10\n{}  [[major.rule_set]]\n    [[major.rule_set.group]]\n    title = \"A\"\n    units = [\"201\"]\n    all = true\n",
        group("G", "\"201\"", "all = true")
    );
    let text = file(&major("M", &body));
    assert_eq!(
        errors(&text),
        vec![format!(
            "line {}: major[1]: has both direct rules (min_credits, group) and rule_set blocks; write one or the other",
            line_of(&text, "[[major]]", 0)
        )]
    );
}

#[test]
fn a_major_without_groups_or_rule_sets() {
    let text = file(&format!(
        "{}{}",
        major("A", ""),
        major("B", "min_credits = 5\n")
    ));
    assert_eq!(
        errors(&text),
        vec![
            format!(
                "line {}: major[1]: needs at least one group or rule_set",
                line_of(&text, "[[major]]", 0)
            ),
            format!(
                "line {}: major[2]: needs at least one group or rule_set",
                line_of(&text, "[[major]]", 1)
            ),
        ]
    );
}

#[test]
fn a_rule_set_without_groups() {
    let body = "  [[major.rule_set]]\n  title = \"Empty\"\n  min_credits = 5\n  [[major.rule_set]]\n    [[major.rule_set.group]]\n    title = \"A\"\n    units = [\"201\"]\n    all = true\n";
    let text = file(&major("M", body));
    assert_eq!(
        errors(&text),
        vec![format!(
            "line {}: major[1].rule_set[1]: needs at least one group",
            line_of(&text, "[[major.rule_set]]", 0)
        )]
    );
}

#[test]
fn barred_sets_need_two_units_of_the_groups() {
    let body = format!(
        "barred = [[\"201\"], [\"202\", \"203\", \"202\"]]\n{}",
        group("G", "\"201\", \"202\"", "min_units = 1")
    );
    let text = file(&major("M", &body));
    let line = line_of(&text, "barred", 0);
    assert_eq!(
        errors(&text),
        vec![
            format!("line {line}: major[1].barred[1]: needs at least 2 units: at most one of them may count"),
            format!("line {line}: major[1].barred[2][2]: unit \"203\" is not in any group of this rule set"),
            format!("line {line}: major[1].barred[2][3]: duplicate \"202\""),
        ]
    );
}

#[test]
fn a_flat_barred_list_gets_a_hint() {
    let body = format!(
        "barred = [\"201\", \"202\"]\n{}",
        group("G", "\"201\", \"202\"", "min_units = 1")
    );
    let text = file(&major("M", &body));
    let line = line_of(&text, "barred", 0);
    let hint = "expected an array, found a string: barred is a list of sets, \
                e.g. barred = [[\"214\", \"215\"]]";
    assert_eq!(
        errors(&text),
        vec![
            format!("line {line}: major[1].barred[1]: {hint}"),
            format!("line {line}: major[1].barred[2]: {hint}"),
        ]
    );
}
