use uuid::Uuid;

use super::*;
use crate::domain::people::{Role, UserKind};

pub(super) fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub(super) fn person(n: u128, email: &str, kind: UserKind, roles: &[Role]) -> KnownPerson {
    KnownPerson {
        id: uuid(n),
        email: email.into(),
        name: format!("Person {n}"),
        kind,
        roles: roles.to_vec(),
        active: true,
    }
}

/// A centre: an admin (the actor), an assessor, a trainee, an IQA, a learner enrolled on
/// CSC2 version 1; CSC2 has versions 1 and 2, each with majors GEN and RET.
pub(super) fn centre() -> Directory {
    let major = |n: u128, code: &str| KnownMajor {
        id: uuid(n),
        code: code.into(),
    };
    Directory {
        actor: uuid(1),
        people: vec![
            person(1, "admin@c.ac.uk", UserKind::Staff, &[Role::Admin]),
            person(
                2,
                "ann.assessor@c.ac.uk",
                UserKind::Staff,
                &[Role::Assessor],
            ),
            person(
                3,
                "tim.trainee@c.ac.uk",
                UserKind::Staff,
                &[Role::TraineeAssessor],
            ),
            person(4, "iris.iqa@c.ac.uk", UserKind::Staff, &[Role::Iqa]),
            person(
                5,
                "lee.learner@c.ac.uk",
                UserKind::Learner,
                &[Role::Learner],
            ),
            person(
                6,
                "ava.assessor@c.ac.uk",
                UserKind::Staff,
                &[Role::Assessor, Role::Iqa],
            ),
        ],
        versions: vec![
            KnownVersion {
                id: uuid(100),
                code: "CSC2".into(),
                version: 1,
                majors: vec![major(110, "GEN"), major(111, "RET")],
            },
            KnownVersion {
                id: uuid(200),
                code: "CSC2".into(),
                version: 2,
                majors: vec![major(210, "GEN"), major(211, "RET")],
            },
        ],
        enrolments: vec![KnownEnrolment {
            id: uuid(1000),
            learner: uuid(5),
            version: uuid(100),
            major: uuid(110),
            assessor: uuid(2),
            trainee: None,
            iqa: Some(uuid(4)),
            withdrawn: false,
            start: None,
            planned_end: None,
            employer: None,
        }],
        employers: vec![KnownEmployer {
            id: uuid(300),
            name: "Northwind Care".into(),
        }],
    }
}

pub(super) fn plan_of(csv: &str, dir: &Directory) -> Plan {
    plan(&read(csv.as_bytes()).expect("a readable file"), dir)
}

fn problems(p: &Plan) -> Vec<(usize, String, String)> {
    p.rows
        .iter()
        .flat_map(|r| {
            r.problems
                .iter()
                .map(move |pr| (r.line, pr.column.clone(), pr.message.clone()))
        })
        .collect()
}

const COMBINED: &str = "Name,Email,Roles,Learner Email,Qualification Code,Major Code,Assessor Email,IQA Email,Start Date,Planned End Date\r\n\
Nia New,nia@c.ac.uk,learner,,CSC2,GEN,ann.assessor@c.ac.uk,iris.iqa@c.ac.uk,01/09/2026,2027-07-31\r\n\
Sol Staff,sol@c.ac.uk,Assessor,,,,,,,\r\n\
Ned New,ned@c.ac.uk,,,CSC2,RET,sol@c.ac.uk,,,\r\n";

#[test]
fn a_combined_file_adds_people_and_their_enrolments_naming_people_it_adds() {
    let p = plan_of(COMBINED, &centre());
    assert_eq!(problems(&p), vec![]);
    let c = p.counts();
    assert_eq!(
        (c.rows, c.new_people, c.new_enrolments, c.changing_rows()),
        (3, 3, 2, 3)
    );
    let Some(EnrolmentStep::New {
        learner,
        version,
        major,
        assignment,
    }) = &p.rows[2].enrolment
    else {
        panic!("a new enrolment: {:?}", p.rows[2]);
    };
    // The latest version when none is given; the assessor is the one added on line 3.
    assert_eq!(*learner, Who::New("ned@c.ac.uk".into()));
    assert_eq!((*version, *major), (uuid(200), uuid(211)));
    assert_eq!(assignment.assessor, Who::New("sol@c.ac.uk".into()));
    let Some(PersonStep::New { kind, roles, .. }) = &p.rows[2].person else {
        panic!("a new person");
    };
    // A blank roles cell on a row with an enrolment makes a learner.
    assert_eq!(
        (*kind, roles.as_slice()),
        (UserKind::Learner, &[Role::Learner][..])
    );
    let Some(EnrolmentStep::New { assignment, .. }) = &p.rows[0].enrolment else {
        panic!("a new enrolment");
    };
    assert_eq!(
        (
            assignment.start.map(|d| d.to_string()),
            assignment.planned_end.map(|d| d.to_string())
        ),
        (Some("2026-09-01".into()), Some("2027-07-31".into()))
    );
}

#[test]
fn headers_match_whatever_their_case_spacing_and_separator_and_a_bom_is_skipped() {
    let file = "\u{feff}NAME;e-mail address;ROLE\nSol Staff;sol@c.ac.uk;IQA\n";
    let p = plan_of(file, &centre());
    assert_eq!(problems(&p), vec![]);
    assert!(matches!(
        &p.rows[0].person,
        Some(PersonStep::New { roles, .. }) if roles == &[Role::Iqa]
    ));
}

#[test]
fn bad_files_are_refused_with_the_reason() {
    assert_eq!(
        read(b"name,email\nZo\xEB,zoe@c.ac.uk\n").err(),
        Some(FileProblem::NotUtf8 { line: 2 })
    );
    assert_eq!(read(b"\xFF\xFEn\0").err(), Some(FileProblem::Utf16));
    assert_eq!(read(b"name,email\n").err(), Some(FileProblem::Empty));
    assert!(matches!(
        read(b"email,qualification_code,assessor_email\na@c.ac.uk,CSC2,b@c.ac.uk\n"),
        Err(FileProblem::MissingColumn {
            column: "major_code",
            ..
        })
    ));
    assert_eq!(
        read(b"colour,size\nred,big\n").err(),
        Some(FileProblem::NeitherPeopleNorEnrolments)
    );
    assert!(matches!(
        read(b"name,email,Email Address\nA,a@c.ac.uk,a@c.ac.uk\n"),
        Err(FileProblem::SameColumnTwice { .. })
    ));
    assert!(matches!(
        read(b"name,email\n\"A,a@c.ac.uk\n"),
        Err(FileProblem::Malformed { .. })
    ));
}

#[test]
fn a_file_over_the_row_limit_is_refused_and_one_at_it_is_read() {
    let mut file = String::from("name,email,roles\n");
    for i in 0..MAX_ROWS {
        file.push_str(&format!("P{i},p{i}@c.ac.uk,learner\n"));
    }
    assert_eq!(
        read(file.as_bytes()).map(|s| s.rows.len()).ok(),
        Some(MAX_ROWS)
    );
    file.push_str("One More,one.more@c.ac.uk,learner\n");
    assert_eq!(read(file.as_bytes()).err(), Some(FileProblem::TooManyRows));
}

#[test]
fn unknown_qualifications_versions_and_majors_are_named_by_row_and_column() {
    let file = "learner_email,qualification_code,qualification_version,major_code,assessor_email\n\
lee.learner@c.ac.uk,XYZ9,,GEN,ann.assessor@c.ac.uk\n\
lee.learner@c.ac.uk,CSC2,7,GEN,ann.assessor@c.ac.uk\n\
lee.learner@c.ac.uk,CSC2,2,BAD,ann.assessor@c.ac.uk\n";
    let p = plan_of(file, &centre());
    assert_eq!(
        problems(&p),
        vec![
            (
                2,
                "qualification_code".into(),
                "No qualification at your centre has the code XYZ9".into()
            ),
            (
                3,
                "qualification_version".into(),
                "CSC2 has no version 7; its versions are 1, 2".into()
            ),
            (
                4,
                "major_code".into(),
                "CSC2 version 2 has no major BAD; its majors are GEN, RET".into()
            ),
        ]
    );
    assert!(!p.is_clean());
}

#[test]
fn an_email_used_by_someone_in_another_role_is_refused() {
    let file =
        "name,email,roles\nLee,lee.learner@c.ac.uk,assessor\nAnn,ann.assessor@c.ac.uk,learner\n";
    let p = plan_of(file, &centre());
    let found = problems(&p);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0]
        .2
        .starts_with("This email is a learner's account at your centre"));
    assert!(found[1]
        .2
        .starts_with("This email is a member of staff's account at your centre"));
    // And as an assessor of an enrolment: a learner is not one.
    let file = "learner_email,qualification_code,major_code,assessor_email\nlee.learner@c.ac.uk,CSC2,GEN,lee.learner@c.ac.uk\n";
    let found = problems(&plan_of(file, &centre()));
    assert_eq!(found[0].1, "assessor_email");
    assert!(found[0].2.contains("is not an assessor"), "{found:?}");
}

#[test]
fn repeated_rows_and_one_email_with_two_names_are_refused() {
    let file =
        "name,email,roles\nA,a@c.ac.uk,iqa\nA,a@c.ac.uk,iqa\nB,b@c.ac.uk,iqa\nBee,B@c.ac.uk,iqa\n";
    let found = problems(&plan_of(file, &centre()));
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        (found[0].0, found[0].2.as_str()),
        (3, "This row repeats line 2: delete one of them")
    );
    assert_eq!((found[1].0, found[1].1.as_str()), (5, "email"));
    // Two rows naming one enrolment.
    let file = "learner_email,qualification_code,major_code,assessor_email\n\
lee.learner@c.ac.uk,CSC2,GEN,ann.assessor@c.ac.uk\nlee.learner@c.ac.uk,CSC2,GEN,ava.assessor@c.ac.uk\n";
    let found = problems(&plan_of(file, &centre()));
    assert_eq!(
        found,
        vec![(
            3,
            String::new(),
            "This enrolment is also on line 2: keep one of them".into()
        )]
    );
}

#[test]
fn the_enrolments_report_comes_back_to_change_assignments_by_id_or_email() {
    let header = "enrolment_id,learner_email,qualification_code,qualification_version,major_code,assessor_id,trainee_assessor_id,iqa_id";
    let same = format!(
        "{header}\n{},lee.learner@c.ac.uk,CSC2,1,GEN,{},,{}\n",
        uuid(1000),
        uuid(2),
        uuid(4)
    );
    let p = plan_of(&same, &centre());
    assert_eq!(problems(&p), vec![]);
    assert_eq!(
        p.rows[0].enrolment,
        Some(EnrolmentStep::Unchanged { id: uuid(1000) })
    );
    let moved = format!(
        "{header}\n{},lee.learner@c.ac.uk,CSC2,1,GEN,{},{},{}\n",
        uuid(1000),
        uuid(6),
        uuid(3),
        uuid(4)
    );
    let p = plan_of(&moved, &centre());
    assert_eq!(problems(&p), vec![]);
    let Some(EnrolmentStep::Updated { assignment, .. }) = &p.rows[0].enrolment else {
        panic!("updated: {:?}", p.rows[0]);
    };
    assert_eq!(
        (&assignment.assessor, &assignment.trainee),
        (&Who::Known(uuid(6)), &Some(Who::Known(uuid(3))))
    );
    // Without enrolment_id the learner and qualification find it; the email wins.
    let by_email = "learner_email,qualification_code,major_code,assessor_email,assessor_id\nlee.learner@c.ac.uk,csc2,GEN,ava.assessor@c.ac.uk,whatever\n";
    let p = plan_of(by_email, &centre());
    assert!(
        matches!(&p.rows[0].enrolment, Some(EnrolmentStep::Updated { id, .. }) if *id == uuid(1000)),
        "{p:?}"
    );
    // A major is not switched by a file.
    let switched = format!(
        "{header}\n{},lee.learner@c.ac.uk,CSC2,1,RET,{},,{}\n",
        uuid(1000),
        uuid(2),
        uuid(4)
    );
    let found = problems(&plan_of(&switched, &centre()));
    assert_eq!(found[0].1, "major_code");
}

#[test]
fn a_role_still_in_use_is_kept_unless_the_same_file_moves_the_enrolments() {
    let file = "name,email,roles\nPerson 2,ann.assessor@c.ac.uk,iqa\n";
    let found = problems(&plan_of(file, &centre()));
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .2
            .contains("reassign them before removing the assessor role"),
        "{found:?}"
    );
    let file = "name,email,roles,learner_email,qualification_code,major_code,assessor_email\n\
Person 2,ann.assessor@c.ac.uk,iqa,,,,\n,,,lee.learner@c.ac.uk,CSC2,GEN,ava.assessor@c.ac.uk\n";
    let p = plan_of(file, &centre());
    // Ann becomes an IQA; the enrolment's IQA was Iris, so Ann is not its IQA.
    assert_eq!(problems(&p), vec![]);
    assert_eq!(p.counts().updated_people, 1);
    assert_eq!(p.counts().updated_enrolments, 1);
}

#[test]
fn an_admin_does_not_remove_their_own_admin_role_by_file() {
    let found = problems(&plan_of(
        "name,email,roles\nMe,admin@c.ac.uk,assessor\n",
        &centre(),
    ));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].2, crate::domain::accounts::OWN_ADMIN_ROLE);
}

#[test]
fn a_person_id_whose_email_was_edited_is_refused_rather_than_added_again() {
    let file = format!(
        "person_id,name,email,role_keys,roles\n{},Person 2,ann.typo@c.ac.uk,assessor,Assessor\n",
        uuid(2)
    );
    let found = problems(&plan_of(&file, &centre()));
    assert_eq!(found.len(), 1);
    assert!(found[0]
        .2
        .starts_with("This person's email is ann.assessor@c.ac.uk"));
}

#[test]
fn an_iqa_is_refused_on_enrolments_they_assessed() {
    let file = "learner_email,qualification_code,major_code,assessor_email,iqa_email\nlee.learner@c.ac.uk,CSC2,GEN,ann.assessor@c.ac.uk,ava.assessor@c.ac.uk\n";
    let mut p = plan_of(file, &centre());
    assert_eq!(p.new_iqas(), vec![(uuid(1000), uuid(6))]);
    p.refuse_own_decisions(&[(uuid(1000), uuid(6))], "iqa_email");
    assert!(!p.is_clean());
    assert_eq!(problems(&p)[0].1, "iqa_email");
}

#[test]
fn dates_must_be_dates_and_the_end_after_the_start() {
    let file =
        "learner_email,qualification_code,major_code,assessor_email,start_date,planned_end_date\n\
lee.learner@c.ac.uk,CSC2,GEN,ann.assessor@c.ac.uk,soon,2027-01-01\n";
    let found = problems(&plan_of(file, &centre()));
    assert_eq!(found[0].1, "start_date");
    let file =
        "learner_email,qualification_code,major_code,assessor_email,start_date,planned_end_date\n\
lee.learner@c.ac.uk,CSC2,GEN,ann.assessor@c.ac.uk,2027-01-01,2026-01-01\n";
    let found = problems(&plan_of(file, &centre()));
    assert_eq!(found[0].1, "planned_end_date");
}

#[test]
fn the_template_is_a_file_the_importer_reads_and_plans() {
    let p = plan(
        &read(template("CSC2", "GEN").as_bytes()).expect("the template reads"),
        &centre(),
    );
    assert_eq!(problems(&p), vec![]);
    assert_eq!(p.counts().new_people, 3);
    assert_eq!(p.counts().new_enrolments, 1);
    // A code with a comma is quoted, and reads back as itself.
    let odd = template("A,B", "M\"1");
    let sheet = read(odd.as_bytes()).expect("reads");
    assert_eq!(sheet.cell(&sheet.rows[2], Col::QualificationCode), "A,B");
    assert_eq!(sheet.cell(&sheet.rows[2], Col::MajorCode), "M\"1");
}

#[test]
fn rows_are_numbered_as_a_spreadsheet_numbers_them_whatever_the_line_endings() {
    for ending in ["\n", "\r\n", "\r"] {
        let file = [
            "name,email,roles",
            "A,a@c.ac.uk,iqa",
            "",
            "B,b@c.ac.uk,iqa",
            "C,c@c.ac.uk,iqa",
        ]
        .join(ending);
        let lines: Vec<usize> = read(file.as_bytes())
            .expect("read")
            .rows
            .iter()
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, vec![2, 4, 5], "{ending:?}");
    }
}

#[test]
fn an_employer_is_named_by_name_and_must_be_the_centres() {
    let file = "learner_email,qualification_code,major_code,assessor_email,employer\n\
lee.learner@c.ac.uk,CSC2,GEN,ann.assessor@c.ac.uk,northwind  care\n";
    let p = plan_of(file, &centre());
    assert_eq!(problems(&p), vec![]);
    let Some(EnrolmentStep::Updated { assignment, .. }) = &p.rows[0].enrolment else {
        panic!("updated: {:?}", p.rows[0]);
    };
    assert_eq!(assignment.employer, Some(uuid(300)));
    assert!(
        p.rows[0].said[0].contains("employer none → Northwind Care"),
        "{:?}",
        p.rows[0].said
    );
    let file = "learner_email,qualification_code,major_code,assessor_email,employer\n\
lee.learner@c.ac.uk,CSC2,GEN,ann.assessor@c.ac.uk,Southwind\n";
    let found = problems(&plan_of(file, &centre()));
    assert_eq!(found[0].1, "employer");
    assert!(found[0]
        .2
        .starts_with("No employer at your centre is named Southwind"));
}
