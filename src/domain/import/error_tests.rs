//! One test per kind of bad input, asserting path, line and message.
use super::tests::{unit, SPEC_HEAD};
use super::*;

/// The qualification head, units 201, 202 and 203, then `rest`.
pub(super) fn file(rest: &str) -> String {
    let units: String = ["201", "202", "203"]
        .iter()
        .map(|c| unit(c, 2, 5))
        .collect();
    format!("{SPEC_HEAD}{units}{rest}")
}

pub(super) fn errors(text: &str) -> Vec<String> {
    match parse(text, Format::Toml) {
        Ok(q) => panic!("expected errors, got {q:?}"),
        Err(e) => {
            assert!(!e.0.is_empty());
            e.0.iter().map(ToString::to_string).collect()
        }
    }
}

/// 1-based line of the `nth` (0-based) occurrence of `needle`.
pub(super) fn line_of(text: &str, needle: &str, nth: usize) -> usize {
    let (at, _) = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} not in file"));
    text[..at].matches('\n').count() + 1
}

pub(super) fn major(code: &str, groups: &str) -> String {
    format!("\n[[major]]\ncode = \"{code}\"\ntitle = \"Major {code}\"\n{groups}")
}

pub(super) fn group(title: &str, units: &str, rule: &str) -> String {
    format!("  [[major.group]]\n  title = \"{title}\"\n  units = [{units}]\n  {rule}\n")
}

#[test]
fn missing_required_fields() {
    let text = file("").replace("title = \"Unit 202\"\n", "");
    let text = text.replace("awarding_body = \"City & Guilds\"\n", "");
    let unit2 = line_of(&text, "[[unit]]", 1);
    assert_eq!(
        errors(&text),
        vec![
            "line 1: qualification.awarding_body: missing".to_string(),
            format!("line {unit2}: unit[2].title: missing"),
        ]
    );
}

#[test]
fn wrong_types() {
    let text = file(&major("M", &group("G", "\"201\"", "all = \"yes\"")))
        .replace("level = 2\nawarding", "level = \"2\"\nawarding")
        .replace(
            "credits = 5\n  [[unit.outcome]]\n  number = \"1\"\n  title = \"Understand 203\"",
            "credits = 5.5\n  [[unit.outcome]]\n  number = 1\n  title = \"Understand 203\"",
        );
    assert_eq!(
        errors(&text),
        vec![
            "line 4: qualification.level: expected a whole number, found a string".to_string(),
            format!(
                "line {}: unit[3].credits: expected a whole number, found a decimal number",
                line_of(&text, "5.5", 0)
            ),
            format!(
                "line {}: unit[3].outcome[1].number: expected a string, found an integer",
                line_of(&text, "number = 1\n", 0)
            ),
            format!(
                "line {}: major[1].group[1].all: expected true or false, found a string",
                line_of(&text, "\"yes\"", 0)
            ),
        ]
    );
    let text = file(&major(
        "M",
        "  [[major.group]]\n  title = \"G\"\n  units = \"201\"\n  all = true\n",
    ));
    assert_eq!(
        errors(&text),
        vec![format!(
            "line {}: major[1].group[1].units: expected an array, found a string",
            line_of(&text, "units =", 0)
        )]
    );
    let text = format!("unit = \"201\"\n{SPEC_HEAD}");
    assert_eq!(
        errors(&text),
        vec!["line 1: unit: expected an array, found a string"]
    );
}

#[test]
fn unknown_keys_at_any_level() {
    let text = format!(
        "version = 3\n{}",
        file(&major(
            "M",
            &group("G", "\"201\"", "all = true\n  colour = \"red\"")
        ))
    )
    .replacen("credits = 5\n", "credits = 5\ncolour = \"blue\"\n", 2)
    .replacen(
        "text = \"Explain 201\"",
        "text = \"Explain 201\"\n    note = \"x\"",
        1,
    )
    .replacen("[[unit.outcome]]", "[[unit.outcomes]]", 1)
    .replace(
        "[[unit.outcomes]]\n  number = \"1\"\n  title = \"Understand 201\"",
        "[[unit.outcome]]\n  number = \"1\"\n  title = \"Understand 201\"\n  [[unit.outcomes]]",
    );
    assert_eq!(
        errors(&text),
        vec![
            "line 1: version: unknown key".to_string(),
            format!(
                "line {}: unit[1].colour: unknown key",
                line_of(&text, "colour", 0)
            ),
            format!(
                "line {}: unit[1].outcomes: unknown key (did you mean \"outcome\"?)",
                line_of(&text, "outcomes", 0)
            ),
            format!(
                "line {}: unit[1].outcome[1].criterion[1].note: unknown key",
                line_of(&text, "note", 0)
            ),
            format!(
                "line {}: unit[2].colour: unknown key",
                line_of(&text, "colour", 1)
            ),
            format!(
                "line {}: major[1].group[1].colour: unknown key",
                line_of(&text, "colour", 2)
            ),
        ]
    );
}

#[test]
fn duplicate_unit_codes() {
    let text = format!("{}{}", file(""), unit("201", 2, 5));
    let line = line_of(&text, "code = \"201\"", 1);
    assert_eq!(
        errors(&text),
        vec![format!("line {line}: unit[4].code: duplicate \"201\"")]
    );
}

#[test]
fn duplicate_outcome_numbers_within_a_unit() {
    let text = file("").replacen("number = \"2\"", "number = \"1\"", 2);
    let line = line_of(&text, "number = \"1\"\n  title = \"Practise 202\"", 0);
    assert_eq!(
        errors(&text),
        vec![
            format!(
                "line {}: unit[1].outcome[2].number: duplicate \"1\"",
                line_of(&text, "number = \"1\"\n  title = \"Practise 201\"", 0)
            ),
            format!("line {line}: unit[2].outcome[2].number: duplicate \"1\""),
        ]
    );
}

#[test]
fn duplicate_criterion_numbers_within_a_unit() {
    // Unit 3, outcome 1: criteria "1.2" and "1.2" — the SPEC's own example message.
    let text = file("").replace(
        "number = \"1.1\"\n    text = \"Explain 203\"",
        "number = \"1.2\"\n    text = \"Explain 203\"",
    );
    let second = line_of(&text, "number = \"1.2\"\n    text = \"Describe 203\"", 0);
    assert_eq!(
        errors(&text),
        vec![format!(
            "line {second}: unit[3].outcome[1].criterion[2].number: duplicate \"1.2\""
        )]
    );
    // Across outcomes of one unit too; other units may reuse the numbers.
    let text = file("").replace(
        "number = \"2.1\"\n    text = \"Demonstrate 202\"",
        "number = \"1.1\"\n    text = \"Demonstrate 202\"",
    );
    let line = line_of(&text, "number = \"1.1\"\n    text = \"Demonstrate 202\"", 0);
    assert_eq!(
        errors(&text),
        vec![format!(
            "line {line}: unit[2].outcome[2].criterion[1].number: duplicate \"1.1\""
        )]
    );
}

#[test]
fn duplicate_major_codes() {
    let g = group("G", "\"201\"", "all = true");
    let text = file(&format!("{}{}", major("M", &g), major("M", &g)));
    let line = line_of(&text, "code = \"M\"", 1);
    assert_eq!(
        errors(&text),
        vec![format!("line {line}: major[2].code: duplicate \"M\"")]
    );
}

#[test]
fn units_and_outcomes_without_criteria() {
    let bare_unit = "\n[[unit]]\ncode = \"204\"\ntitle = \"Bare\"\nlevel = 2\ncredits = 3\n";
    let bare_outcome = "\n[[unit]]\ncode = \"205\"\ntitle = \"Half\"\nlevel = 2\ncredits = 3\n  [[unit.outcome]]\n  number = \"1\"\n  title = \"Empty\"\n";
    let text = format!("{}{bare_unit}{bare_outcome}", file(""));
    assert_eq!(
        errors(&text),
        vec![
            format!(
                "line {}: unit[4]: has no assessment criteria",
                line_of(&text, "[[unit]]", 3)
            ),
            format!(
                "line {}: unit[5].outcome[1]: has no assessment criteria",
                line_of(&text, "[[unit.outcome]]", 6)
            ),
        ]
    );
}

#[test]
fn levels_out_of_range() {
    let text = file(&major(
        "M",
        &format!("min_credits_at_level = [{{ level = 9, credits = 30 }}, {{ level = 2, credits = 1 }}, {{ level = 2, credits = 5 }}]\n{}", group("G", "\"201\"", "all = true")),
    ))
    .replacen("level = 2\n", "level = 0\n", 1)
    .replacen("level = 2\ncredits = 5\n", "level = 9\ncredits = 5\n", 1)
    .replacen("level = 2\ncredits = 5\n", "level = -1\ncredits = 5\n", 1);
    let at_level = line_of(&text, "min_credits_at_level", 0);
    assert_eq!(
        errors(&text),
        vec![
            "line 4: qualification.level: must be between 1 and 8, found 0".to_string(),
            format!("line {}: unit[1].level: must be between 1 and 8, found 9", line_of(&text, "level = 9", 0)),
            format!("line {}: unit[2].level: must be between 1 and 8, found -1", line_of(&text, "level = -1", 0)),
            format!("line {at_level}: major[1].min_credits_at_level[1].level: must be between 1 and 8, found 9"),
            format!("line {at_level}: major[1].min_credits_at_level[3].level: duplicate 2"),
        ]
    );
}

#[test]
fn credits_out_of_range() {
    let groups = format!(
        "min_credits = 10000\n{}",
        group("G", "\"201\"", "all = true\n  max_credits = 0")
    );
    let text = file(&major("M", &groups))
        .replacen("credits = 5\n", "credits = 0\n", 1)
        .replacen("credits = 5\n", "credits = 1000\n", 1);
    assert_eq!(
        errors(&text),
        vec![
            format!(
                "line {}: unit[1].credits: must be between 1 and 999, found 0",
                line_of(&text, "credits = 0", 0)
            ),
            format!(
                "line {}: unit[2].credits: must be between 1 and 999, found 1000",
                line_of(&text, "credits = 1000", 0)
            ),
            format!(
                "line {}: major[1].min_credits: must be between 1 and 9999, found 10000",
                line_of(&text, "10000", 0)
            ),
            format!(
                "line {}: major[1].group[1].max_credits: must be between 1 and 9999, found 0",
                line_of(&text, "max_credits", 0)
            ),
        ]
    );
}

#[test]
fn blank_strings() {
    let text = file(&major(" ", &group("", "\"201\", \"  \"", "all = true")))
        .replacen("code = \"201\"", "code = \"   \"", 1)
        .replace("text = \"Describe 202\"", "text = \"\\t\"")
        .replace("title = \"Diploma in Customer Service\"", "title = \"\"");
    assert_eq!(
        errors(&text),
        vec![
            "line 3: qualification.title: must not be blank".to_string(),
            format!(
                "line {}: unit[1].code: must not be blank",
                line_of(&text, "\"   \"", 0)
            ),
            format!(
                "line {}: unit[2].outcome[1].criterion[2].text: must not be blank",
                line_of(&text, "\"\\t\"", 0)
            ),
            format!(
                "line {}: major[1].code: must not be blank",
                line_of(&text, "code = \" \"", 0)
            ),
            format!(
                "line {}: major[1].group[1].title: must not be blank",
                line_of(&text, "title = \"\"", 1)
            ),
            // Same line: problems of the value come before problems of references.
            format!(
                "line {}: major[1].group[1].units[2]: must not be blank",
                line_of(&text, "units", 0)
            ),
            format!(
                "line {}: major[1].group[1].units[1]: unknown unit \"201\"",
                line_of(&text, "units", 0)
            ),
        ]
    );
}

#[test]
fn empty_files_and_a_missing_qualification() {
    assert_eq!(errors(""), vec!["the file is empty"]);
    assert_eq!(errors("  \n\t\n"), vec!["the file is empty"]);
    assert_eq!(
        errors("# nothing but a comment\n"),
        vec!["the file has no [qualification] table and no units"]
    );
    let text = unit("201", 2, 5);
    assert_eq!(errors(&text), vec!["qualification: missing"]);
    assert_eq!(
        errors(SPEC_HEAD),
        vec!["unit: missing: a qualification needs at least one [[unit]]"]
    );
}

#[test]
fn toml_syntax_errors_stop_with_their_line() {
    let text = file("").replacen("credits = 5", "credits = ", 1);
    let line = line_of(&text, "credits = \n", 0);
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(&format!("line {line}: invalid TOML: ")),
        "{e:?}"
    );
    let text = file("").replacen("level = 2\n", "level = 2\nlevel = 3\n", 2);
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    let line = line_of(&text, "level = 3", 0);
    assert!(
        e[0].starts_with(&format!("line {line}: invalid TOML: ")),
        "{e:?}"
    );
}

#[test]
fn every_error_in_a_file_is_reported_in_file_order() {
    let body = format!(
        "{}{}",
        group("Mandatory", "\"201\", \"202\"", "all = true"),
        group("Options", "\"202\", \"999\"", "")
    );
    let text = file(&format!("{}{}", major("M", &body), major("M", "")))
        .replacen("level = 2\n", "level = 12\n", 1)
        .replacen("title = \"Unit 202\"", "colour = \"red\"", 1)
        .replacen("number = \"1.2\"", "number = \"1.1\"", 1);
    let e = errors(&text);
    assert_eq!(
        e,
        vec![
            "line 4: qualification.level: must be between 1 and 8, found 12".to_string(),
            format!("line {}: unit[1].outcome[1].criterion[2].number: duplicate \"1.1\"", line_of(&text, "number = \"1.1\"", 1)),
            format!("line {}: unit[2].title: missing", line_of(&text, "[[unit]]", 1)),
            format!("line {}: unit[2].colour: unknown key", line_of(&text, "colour", 0)),
            format!("line {}: major[1].group[2]: needs a rule: all = true, min_units, min_credits or max_credits", line_of(&text, "[[major.group]]", 1)),
            format!("line {}: major[1].group[2].units[1]: unit \"202\" is already in major[1].group[1] (\"Mandatory\")", line_of(&text, "\"999\"", 0)),
            format!("line {}: major[1].group[2].units[2]: unknown unit \"999\"", line_of(&text, "\"999\"", 0)),
            format!("line {}: major[2]: needs at least one group or rule_set", line_of(&text, "[[major]]", 1)),
            format!("line {}: major[2].code: duplicate \"M\"", line_of(&text, "code = \"M\"", 1)),
        ]
    );
}

#[test]
fn json_errors_have_paths_but_no_lines() {
    let json = r#"{
      "qualification": {"code": "Q", "title": "T", "level": 9, "awarding_body": "B", "x": 1},
      "unit": [{"code": "1", "title": "U", "level": 1, "credits": 2,
                "outcome": [{"number": "1", "title": "O",
                             "criterion": [{"number": "1.1", "text": null}]}]}],
      "major": [{"code": "M", "title": "Main", "group": [{"title": "G", "units": ["2"], "all": true}]}]
    }"#;
    let e = parse(json, Format::Json).expect_err("rejected");
    assert_eq!(
        e.to_string(),
        "qualification.x: unknown key\n\
         qualification.level: must be between 1 and 8, found 9\n\
         unit[1].outcome[1].criterion[1].text: expected a string, found null\n\
         major[1].group[1].units[1]: unknown unit \"2\""
    );
    assert!(e.0.iter().all(|e| e.line.is_none()));
    let e = parse("{\n  \"qualification\": {,\n}", Format::Json).expect_err("rejected");
    assert_eq!(e.0.len(), 1);
    assert_eq!(e.0[0].line, Some(2));
    assert!(e.0[0].message.starts_with("invalid JSON: "), "{e}");
    let e = parse("[1, 2]", Format::Json).expect_err("rejected");
    assert_eq!(e.to_string(), "expected a table, found an array");
}

#[test]
fn control_characters_in_text() {
    let text = file(&major("M", &group("G", "\"201\"", "all = true")))
        .replace("title = \"Unit 202\"", "title = \"Unit\\u0000202\"")
        .replace("title = \"Major M\"", "title = \"Major\\tM\\r\\n\"");
    let at = line_of(&text, "Unit\\u0000202", 0);
    assert_eq!(
        errors(&text),
        vec![format!(
            "line {at}: unit[2].title: must not contain control characters"
        )],
        "tab and line ends are allowed"
    );
}
