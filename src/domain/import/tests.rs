//! The SPEC §1 example and the shapes that must import cleanly.
use super::*;
use crate::domain::qualification::{LevelCredits, CORE_MAJOR_CODE};

pub(super) fn unit(code: &str, level: u8, credits: u32) -> String {
    format!(
        r#"
[[unit]]
code = "{code}"
title = "Unit {code}"
level = {level}
credits = {credits}
  [[unit.outcome]]
  number = "1"
  title = "Understand {code}"
    [[unit.outcome.criterion]]
    number = "1.1"
    text = "Explain {code}"
    [[unit.outcome.criterion]]
    number = "1.2"
    text = "Describe {code}"
  [[unit.outcome]]
  number = "2"
  title = "Practise {code}"
    [[unit.outcome.criterion]]
    number = "2.1"
    text = "Demonstrate {code}"
"#
    )
}

pub(super) const SPEC_HEAD: &str = r#"[qualification]
code = "601/3562/1"
title = "Diploma in Customer Service"
level = 2
awarding_body = "City & Guilds"
"#;

/// The majors of the SPEC §1 example, verbatim.
const SPEC_MAJORS: &str = r#"
[[major]]
code = "GEN"
title = "Customer Service (general)"
min_credits = 37
min_credits_at_level = [{ level = 2, credits = 30 }]
barred = [["214", "215"]]
  [[major.group]]
  title = "Mandatory"
  units = ["201", "202", "203"]
  all = true
  [[major.group]]
  title = "Optional group B"
  units = ["210", "211", "214", "215"]
  min_credits = 12

[[major]]
code = "SPEC"
title = "Customer Service (specialist)"
  [[major.rule_set]]          # alternatives: the major is achieved when any rule set holds
  title = "Elective set A"
  min_credits = 20
    [[major.rule_set.group]]
    title = "Mandatory"
    units = ["201", "202"]
    all = true
    [[major.rule_set.group]]
    title = "Set A electives"
    units = ["220", "221", "222"]
    min_units = 2
  [[major.rule_set]]
  title = "Elective set B"
    [[major.rule_set.group]]
    title = "Mandatory"
    units = ["201", "202"]
    all = true
    [[major.rule_set.group]]
    title = "Set B electives"
    units = ["230", "231"]
    all = true
"#;

const SPEC_UNITS: &[(&str, u8, u32)] = &[
    ("201", 2, 5),
    ("202", 2, 4),
    ("203", 2, 6),
    ("210", 2, 4),
    ("211", 2, 3),
    ("214", 3, 5),
    ("215", 3, 5),
    ("220", 2, 3),
    ("221", 2, 3),
    ("222", 3, 4),
    ("230", 2, 6),
    ("231", 3, 6),
];

pub(super) fn spec_example() -> String {
    let units: String = SPEC_UNITS
        .iter()
        .map(|&(c, l, cr)| unit(c, l, cr))
        .collect();
    format!("{SPEC_HEAD}{units}{SPEC_MAJORS}")
}

fn ix(q: &Qualification, codes: &[&str]) -> Vec<usize> {
    codes.iter().filter_map(|c| q.unit_index(c)).collect()
}

#[test]
fn spec_example_parses() {
    let q = parse(&spec_example(), Format::Toml).expect("the SPEC example imports");
    assert_eq!(q.code, "601/3562/1");
    assert_eq!(q.title, "Diploma in Customer Service");
    assert_eq!(q.level, 2);
    assert_eq!(q.awarding_body, "City & Guilds");
    let codes: Vec<&str> = q.units.iter().map(|u| u.code.as_str()).collect();
    let expected: Vec<&str> = SPEC_UNITS.iter().map(|u| u.0).collect();
    assert_eq!(codes, expected, "file order is kept");
    assert_eq!(q.criterion_count(), 36);
    let u = &q.units[5];
    assert_eq!((u.level, u.credits), (3, 5));
    assert_eq!(u.outcomes[1].number, "2");
    assert_eq!(u.outcomes[0].criteria[1].number, "1.2");
    assert_eq!(u.outcomes[0].criteria[1].text, "Describe 214");

    assert_eq!(q.majors.len(), 2);
    let gen = &q.majors[0];
    assert_eq!((gen.code.as_str(), gen.implicit), ("GEN", false));
    assert_eq!(gen.rule_sets.len(), 1);
    let rs = &gen.rule_sets[0];
    assert_eq!(rs.title, "Customer Service (general)");
    assert_eq!(rs.min_credits, Some(37));
    let at_level = vec![LevelCredits {
        level: 2,
        credits: 30,
    }];
    assert_eq!(rs.min_credits_at_level, at_level);
    assert_eq!(rs.barred, vec![ix(&q, &["214", "215"])]);
    assert_eq!(rs.groups[0].title, "Mandatory");
    assert_eq!(rs.groups[0].units, ix(&q, &["201", "202", "203"]));
    assert!(rs.groups[0].all);
    assert_eq!(rs.groups[1].units, ix(&q, &["210", "211", "214", "215"]));
    assert!(!rs.groups[1].all);
    assert_eq!(rs.groups[1].min_credits, Some(12));
    assert_eq!(rs.groups[1].min_units, None);

    let spec = &q.majors[1];
    assert_eq!(spec.rule_sets.len(), 2);
    let (a, b) = (&spec.rule_sets[0], &spec.rule_sets[1]);
    assert_eq!(
        (a.title.as_str(), a.min_credits),
        ("Elective set A", Some(20))
    );
    assert_eq!(a.groups[1].units, ix(&q, &["220", "221", "222"]));
    assert_eq!(a.groups[1].min_units, Some(2));
    assert_eq!((b.title.as_str(), b.min_credits), ("Elective set B", None));
    assert_eq!(b.groups[1].units, ix(&q, &["230", "231"]));
    assert!(b.barred.is_empty() && b.min_credits_at_level.is_empty());
}

#[test]
fn json_of_the_same_shape_gives_the_same_qualification() {
    let toml_text = spec_example();
    let value: serde_json::Value = toml::from_str(&toml_text).expect("fixture is TOML");
    let json = serde_json::to_string_pretty(&value).expect("serialises");
    let from_toml = parse(&toml_text, Format::Toml).expect("TOML imports");
    let from_json = parse(&json, Format::Json).expect("JSON imports");
    assert_eq!(from_json, from_toml);
}

#[test]
fn json_null_means_absent_for_optional_fields() {
    let json = r#"{
      "qualification": {"code": "Q", "title": "T", "level": 1, "awarding_body": "B"},
      "unit": [{"code": "1", "title": "U", "level": 1, "credits": 2,
                "outcome": [{"number": "1", "title": "O",
                             "criterion": [{"number": "1.1", "text": "C"}]}]}],
      "major": [{"code": "M", "title": "Main", "min_credits": null,
                 "group": [{"title": "G", "units": ["1"], "all": true, "max_credits": null}]}]
    }"#;
    let q = parse(json, Format::Json).expect("imports");
    assert_eq!(q.majors[0].rule_sets[0].min_credits, None);
    assert_eq!(q.majors[0].rule_sets[0].groups[0].max_credits, None);
}

#[test]
fn format_follows_the_file_name() {
    assert_eq!(Format::from_path("quals/diploma.json"), Format::Json);
    assert_eq!(Format::from_path("DIPLOMA.JSON"), Format::Json);
    assert_eq!(Format::from_path("diploma.toml"), Format::Toml);
    assert_eq!(Format::from_path("diploma"), Format::Toml);
}

#[test]
fn a_file_without_majors_gets_the_implicit_core_major() {
    let text = format!("{SPEC_HEAD}{}{}", unit("201", 2, 5), unit("202", 2, 4));
    let q = parse(&text, Format::Toml).expect("imports");
    assert_eq!(q.majors, vec![Qualification::core_major(2)]);
    assert_eq!(q.majors[0].code, CORE_MAJOR_CODE);
    assert!(q.majors[0].implicit);
    assert_eq!(q.majors[0].rule_sets[0].groups[0].units, vec![0, 1]);
}

#[test]
fn strings_are_trimmed() {
    let text = format!(
        "{}{}",
        SPEC_HEAD.replace("\"601/3562/1\"", "\"  601/3562/1 \""),
        unit("201", 2, 5).replace("\"201\"", "\" 201\t\"")
    );
    let text = format!("{text}\n[[major]]\ncode = \" M \"\ntitle = \"Main\"\n  [[major.group]]\n  title = \"All\"\n  units = [\"201 \"]\n  all = true\n");
    let q = parse(&text, Format::Toml).expect("imports");
    assert_eq!(q.code, "601/3562/1");
    assert_eq!(q.units[0].code, "201");
    assert_eq!(q.majors[0].code, "M");
    assert_eq!(q.majors[0].rule_sets[0].groups[0].units, vec![0]);
}

#[test]
fn rule_set_titles_default_to_their_position() {
    let text = format!(
        "{SPEC_HEAD}{}{}{}",
        unit("201", 2, 5),
        unit("202", 2, 4),
        r#"
[[major]]
code = "M"
title = "Main"
  [[major.rule_set]]
    [[major.rule_set.group]]
    title = "A"
    units = ["201"]
    all = true
  [[major.rule_set]]
    [[major.rule_set.group]]
    title = "B"
    units = ["202"]
    all = true
"#
    );
    let q = parse(&text, Format::Toml).expect("imports");
    let titles: Vec<&str> = q.majors[0]
        .rule_sets
        .iter()
        .map(|r| r.title.as_str())
        .collect();
    assert_eq!(titles, vec!["Rule set 1", "Rule set 2"]);
}

#[test]
fn a_unit_may_be_in_several_rule_sets_and_majors() {
    // The SPEC example already has 201 in both majors and both rule sets of SPEC.
    let q = parse(&spec_example(), Format::Toml).expect("imports");
    let in_groups = q
        .majors
        .iter()
        .flat_map(|m| &m.rule_sets)
        .filter(|rs| rs.groups.iter().any(|g| g.units.contains(&0)))
        .count();
    assert_eq!(in_groups, 3);
}

#[test]
fn errors_display_one_per_line() {
    let errors = ImportErrors(vec![
        ImportError {
            path: "unit[3].outcome[1].criterion[2].number".to_string(),
            line: Some(12),
            message: "duplicate \"1.2\"".to_string(),
        },
        ImportError {
            path: "unit[1].title".to_string(),
            line: None,
            message: "missing".to_string(),
        },
    ]);
    assert_eq!(
        errors.to_string(),
        "line 12: unit[3].outcome[1].criterion[2].number: duplicate \"1.2\"\nunit[1].title: missing"
    );
}
