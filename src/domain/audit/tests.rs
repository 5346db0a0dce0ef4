use super::*;
use crate::domain::qualification::{LevelCredits, Qualification};
use crate::domain::testkit::*;

/// Confirms every criterion of the listed units.
fn confirm_units(q: &Qualification, codes: &[&str]) -> ConfirmedCriteria {
    let ranges = q.unit_criterion_ranges();
    let mut c = ConfirmedCriteria::new(q.criterion_count());
    for code in codes {
        let u = q.unit_index(code).expect("unit code in test");
        for o in ranges[u].clone() {
            c.insert(o).expect("in range");
        }
    }
    c
}

fn audit_units_by_code(q: &Qualification, assigned: &str, codes: &[&str]) -> AuditReport {
    let m = q.major_index(assigned).expect("major code in test");
    audit(q, m, &confirm_units(q, codes)).expect("audit")
}

fn codes(q: &Qualification, units: &[usize]) -> Vec<String> {
    units.iter().map(|&u| q.units[u].code.clone()).collect()
}

/// SPEC §1: "a UK Level 2 Diploma (45 credits: 19 mandatory, at least 3 from group A,
/// at least 16 from group B, at most 7 counted from group C)".
fn uk_diploma() -> Qualification {
    let units = vec![
        unit("M1", 2, 5, 3),
        unit("M2", 2, 5, 3),
        unit("M3", 2, 5, 3),
        unit("M4", 2, 4, 3),
        unit("A1", 2, 3, 2),
        unit("A2", 2, 3, 2),
        unit("B1", 2, 4, 2),
        unit("B2", 2, 4, 2),
        unit("B3", 2, 4, 2),
        unit("B4", 2, 4, 2),
        unit("B5", 2, 4, 8),
        unit("C1", 3, 4, 2),
        unit("C2", 2, 4, 2),
        unit("C3", 1, 3, 2),
    ];
    let mut mandatory = group("Mandatory", &[0, 1, 2, 3]);
    mandatory.all = true;
    let mut a = group("Group A", &[4, 5]);
    a.min_credits = Some(3);
    let mut b = group("Group B", &[6, 7, 8, 9, 10]);
    b.min_credits = Some(16);
    let mut c = group("Group C", &[11, 12, 13]);
    c.max_credits = Some(7);
    let mut rs = rule_set("Diploma", vec![mandatory, a, b, c]);
    rs.min_credits = Some(45);
    qualification(units, vec![major("DIP", vec![rs])])
}

#[test]
fn uk_diploma_achieved_with_group_c_capped_at_seven() {
    let q = uk_diploma();
    let r = audit_units_by_code(
        &q,
        "DIP",
        &[
            "M1", "M2", "M3", "M4", "A1", "B1", "B2", "B3", "B4", "C1", "C2",
        ],
    );
    // 19 + 3 + 16 + min(8, 7) = 45
    assert_eq!(r.majors[0].counted_credits, 45);
    assert!(r.majors[0].achieved);
    assert_eq!(r.outcome, Outcome::AssignedMajorAchieved);
}

#[test]
fn uk_diploma_cap_stops_group_c_from_making_up_the_total() {
    let q = uk_diploma();
    // 19 + 3 + 16 + min(11, 7) = 45: fine. But with only 12 from B: 19 + 3 + 12 + 7 = 41.
    let r = audit_units_by_code(
        &q,
        "DIP",
        &[
            "M1", "M2", "M3", "M4", "A1", "B1", "B2", "B3", "C1", "C2", "C3",
        ],
    );
    let m = &r.majors[0];
    assert!(!m.achieved);
    assert_eq!(m.counted_credits, 41);
    let rs = &q.majors[0].rule_sets[0];
    let text: Vec<String> = m.unmet.iter().map(|u| explain_rule(&q, rs, u)).collect();
    assert_eq!(
        text,
        vec![
            "Group B: 12 of 16 credits — unit B4 has 2 of 2 criteria left".to_string(),
            "Total: 41 of 45 credits — unit B4 has 2 of 2 criteria left".to_string(),
        ]
    );
    assert_eq!(r.outcome, Outcome::NoMajorsAchieved);
}

#[test]
fn uk_diploma_missing_mandatory_unit_is_named() {
    let q = uk_diploma();
    let r = audit_units_by_code(
        &q,
        "DIP",
        &["M1", "M2", "M3", "A1", "B1", "B2", "B3", "B4", "C1", "C2"],
    );
    let m = &r.majors[0];
    assert_eq!(m.unmet[0].rule, Rule::GroupAll { group: 0 });
    assert_eq!(
        codes(
            &q,
            &m.unmet[0]
                .nearest
                .iter()
                .map(|g| g.unit)
                .collect::<Vec<_>>()
        ),
        ["M4"]
    );
}

#[test]
fn cap_keeps_highest_level_credits_first() {
    let units = vec![unit("L1", 1, 4, 1), unit("L3", 3, 4, 1)];
    let mut g = group("Capped", &[0, 1]);
    g.max_credits = Some(4);
    let mut rs = rule_set("RS", vec![g]);
    rs.min_credits_at_level = vec![LevelCredits {
        level: 3,
        credits: 4,
    }];
    let q = qualification(units, vec![major("M", vec![rs])]);
    let r = audit_units_by_code(&q, "M", &["L1", "L3"]);
    assert!(
        r.majors[0].achieved,
        "the level-3 unit's credits are kept under the cap"
    );
    assert_eq!(r.majors[0].counted_credits, 4);
}

/// SPEC §1: NCEA Level 3 — 80 credits, 60 at level 3 or above and 80 at level 2 or above.
fn ncea() -> Qualification {
    let mut units = Vec::new();
    for i in 0..8 {
        units.push(unit(&format!("3-{i}"), 3, 10, 1));
    }
    for i in 0..4 {
        units.push(unit(&format!("2-{i}"), 2, 10, 1));
    }
    units.push(unit("1-0", 1, 10, 1));
    let mut any = group(
        "Achievement standards",
        &(0..units.len()).collect::<Vec<_>>(),
    );
    any.min_units = Some(1);
    let mut rs = rule_set("NCEA Level 3", vec![any]);
    rs.min_credits = Some(80);
    rs.min_credits_at_level = vec![
        LevelCredits {
            level: 3,
            credits: 60,
        },
        LevelCredits {
            level: 2,
            credits: 80,
        },
    ];
    qualification(units, vec![major("NCEA3", vec![rs])])
}

#[test]
fn ncea_level_3_achieved_with_60_at_level_3_and_20_at_level_2() {
    let q = ncea();
    let r = audit_units_by_code(
        &q,
        "NCEA3",
        &["3-0", "3-1", "3-2", "3-3", "3-4", "3-5", "2-0", "2-1"],
    );
    assert!(r.majors[0].achieved);
    assert_eq!(r.majors[0].counted_credits, 80);
}

#[test]
fn ncea_level_1_credits_do_not_count_at_level_2() {
    let q = ncea();
    let r = audit_units_by_code(
        &q,
        "NCEA3",
        &["3-0", "3-1", "3-2", "3-3", "3-4", "3-5", "2-0", "1-0"],
    );
    let m = &r.majors[0];
    assert!(!m.achieved);
    assert_eq!(m.counted_credits, 80);
    assert_eq!(m.unmet.len(), 1);
    assert_eq!(m.unmet[0].rule, Rule::RuleSetMinCreditsAtLevel { level: 2 });
    assert_eq!((m.unmet[0].have, m.unmet[0].need), (70, 80));
}

#[test]
fn ncea_short_of_level_3_credits() {
    let q = ncea();
    let r = audit_units_by_code(
        &q,
        "NCEA3",
        &["3-0", "3-1", "3-2", "3-3", "3-4", "2-0", "2-1", "2-2"],
    );
    let m = &r.majors[0];
    assert!(!m.achieved);
    assert_eq!(m.unmet[0].rule, Rule::RuleSetMinCreditsAtLevel { level: 3 });
    assert_eq!((m.unmet[0].have, m.unmet[0].need), (50, 60));
    // Only level-3 units are suggested for a level-3 gap.
    assert!(m.unmet[0]
        .nearest
        .iter()
        .all(|g| q.units[g.unit].level == 3));
}

/// SPEC §1: a certificate whose learners choose elective set A or set B but may not mix.
fn either_or() -> Qualification {
    let units = vec![
        unit("201", 2, 5, 2),
        unit("202", 2, 5, 2),
        unit("220", 2, 3, 2),
        unit("221", 2, 3, 2),
        unit("222", 2, 3, 2),
        unit("230", 2, 4, 2),
        unit("231", 2, 4, 2),
    ];
    let mandatory = || {
        let mut g = group("Mandatory", &[0, 1]);
        g.all = true;
        g
    };
    let mut set_a = group("Set A electives", &[2, 3, 4]);
    set_a.min_units = Some(2);
    let mut set_b = group("Set B electives", &[5, 6]);
    set_b.all = true;
    let rs_a = rule_set("Elective set A", vec![mandatory(), set_a]);
    let rs_b = rule_set("Elective set B", vec![mandatory(), set_b]);
    qualification(units, vec![major("CERT", vec![rs_a, rs_b])])
}

#[test]
fn either_or_certificate_accepts_set_a_or_set_b() {
    let q = either_or();
    let a = audit_units_by_code(&q, "CERT", &["201", "202", "220", "222"]);
    assert!(a.majors[0].achieved);
    assert_eq!(a.majors[0].rule_set, 0);
    let b = audit_units_by_code(&q, "CERT", &["201", "202", "230", "231"]);
    assert!(b.majors[0].achieved);
    assert_eq!(b.majors[0].rule_set, 1);
    assert_eq!(
        codes(&q, &b.majors[0].counted_units),
        ["201", "202", "230", "231"]
    );
}

#[test]
fn either_or_certificate_refuses_a_mix() {
    let q = either_or();
    let r = audit_units_by_code(&q, "CERT", &["201", "202", "220", "230"]);
    assert!(!r.majors[0].achieved);
    assert_eq!(r.outcome, Outcome::NoMajorsAchieved);
}

/// Barred 214/215: the group needs a level-3 credit, which only 215 gives.
fn barred() -> Qualification {
    let units = vec![
        unit("214", 2, 6, 1),
        unit("215", 3, 4, 1),
        unit("216", 2, 2, 1),
    ];
    let mut g = group("Optional", &[0, 1, 2]);
    g.min_credits = Some(4);
    let mut rs = rule_set("RS", vec![g]);
    rs.barred = vec![vec![0, 1]];
    rs.min_credits_at_level = vec![LevelCredits {
        level: 3,
        credits: 4,
    }];
    qualification(units, vec![major("B", vec![rs])])
}

#[test]
fn barred_set_search_finds_the_choice_that_holds_and_reports_it() {
    let q = barred();
    let r = audit_units_by_code(&q, "B", &["214", "215", "216"]);
    let m = &r.majors[0];
    assert!(m.achieved);
    assert_eq!(codes(&q, &m.counted_units), ["215", "216"]);
    assert_eq!(codes(&q, &m.barred_out), ["214"]);
    assert_eq!(m.counted_credits, 6);
}

#[test]
fn barred_set_never_counts_both_units() {
    let units = vec![unit("214", 2, 6, 1), unit("215", 2, 6, 1)];
    let mut g = group("Optional", &[0, 1]);
    g.min_credits = Some(12);
    let mut rs = rule_set("RS", vec![g]);
    rs.barred = vec![vec![0, 1]];
    let q = qualification(units, vec![major("B", vec![rs])]);
    let r = audit_units_by_code(&q, "B", &["214", "215"]);
    assert!(!r.majors[0].achieved);
    assert_eq!(r.majors[0].counted_units.len(), 1);
    assert_eq!(r.majors[0].barred_out.len(), 1);
}

#[test]
fn explanation_names_the_nearest_unit_as_the_spec_does() {
    let units = vec![
        unit("210", 2, 7, 2),
        unit("211", 2, 5, 8),
        unit("212", 2, 5, 9),
    ];
    let mut g = group("Optional group B", &[0, 1, 2]);
    g.min_credits = Some(12);
    let q = qualification(units, vec![major("GEN", vec![rule_set("GEN", vec![g])])]);
    let mut c = confirm_units(&q, &["210"]);
    for o in q.unit_criterion_ranges()[1].clone().take(5) {
        c.insert(o).expect("in range");
    }
    let r = audit(&q, 0, &c).expect("audit");
    let rs = &q.majors[0].rule_sets[0];
    assert_eq!(
        explain_rule(&q, rs, &r.majors[0].unmet[0]),
        "Optional group B: 7 of 12 credits — unit 211 has 3 of 8 criteria left"
    );
}

/// SPEC §4's outcome table, each row from a real audit of a two-major qualification.
fn two_majors() -> Qualification {
    let units = vec![unit("X", 2, 5, 2), unit("Y", 2, 5, 2)];
    let only = |u: usize, code: &str| {
        let mut g = group("G", &[u]);
        g.all = true;
        major(code, vec![rule_set(code, vec![g])])
    };
    qualification(units, vec![only(0, "MX"), only(1, "MY")])
}

#[test]
fn outcome_no_majors_achieved() {
    let q = two_majors();
    assert_eq!(
        audit_units_by_code(&q, "MX", &[]).outcome,
        Outcome::NoMajorsAchieved
    );
}

#[test]
fn outcome_assigned_major_achieved() {
    let q = two_majors();
    assert_eq!(
        audit_units_by_code(&q, "MX", &["X"]).outcome,
        Outcome::AssignedMajorAchieved
    );
}

#[test]
fn outcome_other_majors_achieved() {
    let q = two_majors();
    assert_eq!(
        audit_units_by_code(&q, "MX", &["Y"]).outcome,
        Outcome::OtherMajorsAchieved
    );
}

#[test]
fn outcome_all_majors_achieved() {
    let q = two_majors();
    assert_eq!(
        audit_units_by_code(&q, "MY", &["X", "Y"]).outcome,
        Outcome::AllMajorsAchieved
    );
}

#[test]
fn single_achieved_major_is_assigned_major_achieved() {
    let units = vec![unit("X", 2, 5, 2)];
    let q = qualification(units, vec![Qualification::core_major(1)]);
    let r = audit_units_by_code(&q, "CORE", &["X"]);
    assert_eq!(r.outcome, Outcome::AssignedMajorAchieved);
}

#[test]
fn partly_confirmed_unit_is_not_achieved() {
    let q = two_majors();
    let mut c = ConfirmedCriteria::new(q.criterion_count());
    c.insert(0).expect("in range");
    let r = audit(&q, 0, &c).expect("audit");
    assert_eq!(
        r.units[0],
        UnitProgress {
            confirmed: 1,
            total: 2
        }
    );
    assert!(!r.majors[0].achieved);
}

#[test]
fn audit_refuses_unknown_major_and_wrong_criteria_count() {
    let q = two_majors();
    let c = ConfirmedCriteria::new(q.criterion_count());
    assert_eq!(audit(&q, 2, &c), Err(AuditError::UnknownMajor(2)));
    assert_eq!(
        audit(&q, 0, &ConfirmedCriteria::new(3)),
        Err(AuditError::CriteriaMismatch {
            expected: 4,
            got: 3
        })
    );
}

#[test]
fn confirmed_criteria_counts_ranges_across_words() {
    let mut c = ConfirmedCriteria::new(200);
    for o in [0, 63, 64, 65, 127, 128, 199] {
        c.insert(o).expect("in range");
    }
    assert_eq!(c.count(), 7);
    assert_eq!(c.count_in(63..129), 5);
    assert_eq!(c.count_in(1..63), 0);
    assert!(c.insert(200).is_err());
    assert_eq!(
        c.ordinals().collect::<Vec<_>>(),
        [0, 63, 64, 65, 127, 128, 199]
    );
}

#[test]
fn nearest_way_never_suggests_two_units_of_a_barred_set() {
    // Group needs 8 credits; 214 and 215 are barred together, so suggesting both is no way at all.
    let units = vec![
        unit("214", 2, 4, 1),
        unit("215", 2, 4, 1),
        unit("216", 2, 4, 3),
    ];
    let mut g = group("Optional", &[0, 1, 2]);
    g.min_credits = Some(8);
    let mut rs = rule_set("RS", vec![g]);
    rs.barred = vec![vec![0, 1]];
    let q = qualification(units, vec![major("B", vec![rs])]);
    let r = audit_units_by_code(&q, "B", &[]);
    let nearest: Vec<usize> = r.majors[0].unmet[0]
        .nearest
        .iter()
        .map(|g| g.unit)
        .collect();
    assert_eq!(codes(&q, &nearest), ["214", "216"]);
    // And with 215 already counted, 214 is no way either.
    let r = audit_units_by_code(&q, "B", &["215"]);
    let nearest: Vec<usize> = r.majors[0].unmet[0]
        .nearest
        .iter()
        .map(|g| g.unit)
        .collect();
    assert_eq!(codes(&q, &nearest), ["216"]);
}

#[test]
fn nearness_order_packs_keys_without_changing_the_order() {
    // Fewest criteria left first, then most credits, then unit order.
    let units = vec![
        unit("A", 2, 3, 4),
        unit("B", 2, 9, 4),
        unit("C", 2, 5, 1),
        unit("D", 2, 9, 4),
    ];
    let q = qualification(units, vec![Qualification::core_major(4)]);
    let r = audit(&q, 0, &ConfirmedCriteria::new(q.criterion_count())).expect("audit");
    let nearest: Vec<usize> = r.majors[0].unmet[0]
        .nearest
        .iter()
        .map(|g| g.unit)
        .collect();
    assert_eq!(codes(&q, &nearest), ["C", "B", "D", "A"]);
}

#[test]
fn count_in_agrees_with_counting_one_by_one() {
    let mut c = ConfirmedCriteria::new(300);
    for o in (0..300).filter(|o| o % 3 == 0 || o % 7 == 0) {
        c.insert(o).expect("in range");
    }
    for start in [0, 1, 5, 63, 64, 65, 127, 128, 200, 299] {
        for end in [
            start,
            start + 1,
            start + 25,
            start + 64,
            start + 130,
            300,
            400,
        ] {
            let slow = (start..end.min(300)).filter(|&o| c.contains(o)).count();
            assert_eq!(c.count_in(start..end), slow, "{start}..{end}");
        }
    }
}
