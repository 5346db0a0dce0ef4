use time::macros::date;
use uuid::Uuid;

use super::*;
use crate::domain::apprenticeship::Plan;

fn types() -> Vec<String> {
    DEFAULT_ACTIVITY_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect()
}

fn fields(errors: &[FieldError]) -> Vec<&'static str> {
    errors.iter().map(|e| e.field).collect()
}

#[test]
fn hours_are_read_as_people_write_them() {
    assert_eq!(parse_hours("7"), Some(420));
    assert_eq!(parse_hours("7.5"), Some(450));
    assert_eq!(parse_hours(" 348.75 "), Some(348 * 60 + 45));
    assert_eq!(parse_hours("7:30"), Some(450));
    assert_eq!(parse_hours("0.33"), Some(20));
    for bad in ["", "7.", ".5", "7.555", "-1", "7:5", "7:60", "seven", "1e3"] {
        assert_eq!(parse_hours(bad), None, "{bad:?}");
    }
    for m in [0, 1, 20, 45, 450, 20_925] {
        assert_eq!(parse_hours(&hours_text(m)), Some(m), "{m} round-trips");
    }
}

#[test]
fn settings_refuse_a_review_gap_over_12_weeks_and_an_empty_type_list() {
    let form = SettingsForm {
        rule: "percent".into(),
        percent: "20".into(),
        weekly_hours: String::new(),
        margin: "10".into(),
        review_weeks: "13".into(),
        activity_types: " \n".into(),
    };
    let errors = validate_settings(&form).unwrap_err();
    assert_eq!(fields(&errors), ["review_weeks", "activity_types"]);
    let ok = validate_settings(&SettingsForm {
        review_weeks: "12".into(),
        activity_types: "Shadowing\nshadowing\n Mentoring \n".into(),
        ..form
    })
    .unwrap();
    assert_eq!(ok.rule, OtjRule::PercentOfContracted(20));
    assert_eq!(
        ok.activity_types,
        ["Shadowing", "Mentoring"],
        "trimmed, once each"
    );
    assert_eq!(validate_settings(&SettingsForm::of(&ok)), Ok(ok));
}

fn plan_form() -> PlanForm {
    PlanForm {
        start: "2026-09-01".into(),
        planned_end: "2027-09-01".into(),
        weekly_hours: "37.5".into(),
        planned_hours: String::new(),
        reason: String::new(),
    }
}

#[test]
fn the_plan_defaults_to_the_rule_and_an_override_needs_a_reason() {
    let rule = OtjRule::PercentOfContracted(20);
    let p = validate_plan(&plan_form(), rule).unwrap();
    assert_eq!(p.planned_minutes, p.default_minutes);
    assert_eq!(p.override_reason, None);
    let other = PlanForm {
        planned_hours: "300".into(),
        ..plan_form()
    };
    assert_eq!(
        fields(&validate_plan(&other, rule).unwrap_err()),
        ["reason"]
    );
    let why = PlanForm {
        reason: "Prior learning recognised".into(),
        ..other
    };
    let p = validate_plan(&why, rule).unwrap();
    assert_eq!(p.planned_minutes, 300 * 60);
    assert_eq!(
        p.override_reason.as_deref(),
        Some("Prior learning recognised")
    );
    let backwards = PlanForm {
        planned_end: "2026-08-01".into(),
        weekly_hours: "x".into(),
        ..plan_form()
    };
    assert_eq!(
        fields(&validate_plan(&backwards, rule).unwrap_err()),
        ["planned_end", "weekly_hours"]
    );
}

#[test]
fn an_entry_names_every_problem_against_its_field() {
    let none = |_: Uuid| false;
    let c11 = Uuid::from_u128(11);
    let criterion = |u: &str, n: &str| (u == "201" && n == "1.1").then_some(c11);
    let refs = |c: Uuid| (c == c11).then(|| "201 1.1".to_string());
    let form = EntryForm {
        day: "24/11/2026".into(),
        hours: "2".into(),
        minutes: "30".into(),
        activity: "Shadowing".into(),
        what: "Shadowed the team leader on a complaint call".into(),
        evidence: vec![],
        criteria: "201 1.1; 201/1.1".into(),
    };
    let e = validate_entry(&form, &types(), &none, &criterion).unwrap();
    assert_eq!((e.day, e.minutes), (date!(2026 - 11 - 24), 150));
    assert_eq!(e.criteria, [c11], "once");
    assert_eq!(
        validate_entry(&EntryForm::of(&e, &refs), &types(), &none, &criterion),
        Ok(e)
    );
    let bad = EntryForm {
        day: "yesterday".into(),
        hours: "0".into(),
        minutes: "0".into(),
        activity: "Sleeping".into(),
        what: " ".into(),
        evidence: vec![Uuid::nil().to_string()],
        criteria: "201 1.1, 999 9.9".into(),
    };
    assert_eq!(
        fields(&validate_entry(&bad, &types(), &none, &criterion).unwrap_err()),
        ["day", "hours", "activity", "what", "evidence", "criteria"]
    );
    let too_long = EntryForm {
        hours: "24".into(),
        minutes: "1".into(),
        ..form
    };
    assert_eq!(
        fields(&validate_entry(&too_long, &types(), &none, &criterion).unwrap_err()),
        ["hours"]
    );
}

#[test]
fn a_break_is_checked_against_the_plan() {
    let plan = Plan {
        start: date!(2026 - 09 - 01),
        planned_end: date!(2027 - 09 - 01),
        planned: 6000,
        breaks: vec![],
    };
    let form = BreakForm {
        from: "2027-01-04".into(),
        to: "2027-01-01".into(),
        reason: String::new(),
    };
    assert_eq!(
        fields(&validate_break(&form, &plan).unwrap_err()),
        ["reason", "to"]
    );
    let ok = BreakForm {
        to: "2027-02-26".into(),
        reason: "Maternity leave".into(),
        ..form
    };
    assert_eq!(
        validate_break(&ok, &plan).unwrap().dates.to,
        date!(2027 - 02 - 26)
    );
}

#[test]
fn a_rejection_needs_a_reason() {
    assert_eq!(validate_decision("approve", ""), Ok(Decision::Approve));
    assert_eq!(
        fields(&validate_decision("reject", "  ").unwrap_err()),
        ["reason"]
    );
    assert_eq!(
        validate_decision("reject", "Not off the job: normal duties"),
        Ok(Decision::Reject("Not off the job: normal duties".into()))
    );
    assert_eq!(
        fields(&validate_decision("", "").unwrap_err()),
        ["decision"]
    );
}
