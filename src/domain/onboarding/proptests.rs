//! Over random files against a small centre: a clean plan, once applied, plans nothing
//! the second time; and a plan always has one row per row of the file.
use proptest::prelude::*;
use uuid::Uuid;

use super::tests::{centre, uuid};
use super::*;
use crate::domain::people::{Role, UserKind};

/// The centre after `plan` is written, as the store writes it (`db::onboarding`): new
/// people and enrolments get fresh ids, updates replace what they change.
fn apply(dir: &Directory, plan: &Plan) -> Directory {
    let mut next = 10_000u128;
    let mut fresh = || {
        next += 1;
        uuid(next)
    };
    let mut out = dir.clone();
    let mut new_ids: std::collections::HashMap<String, Uuid> = Default::default();
    for row in &plan.rows {
        match &row.person {
            Some(PersonStep::New {
                name,
                email,
                kind,
                roles,
            }) => {
                let id = fresh();
                new_ids.insert(email.to_lowercase(), id);
                out.people.push(KnownPerson {
                    id,
                    email: email.clone(),
                    name: name.clone(),
                    kind: *kind,
                    roles: roles.clone(),
                    active: true,
                });
            }
            Some(PersonStep::Updated {
                id, name, roles, ..
            }) => {
                let p = out.people.iter_mut().find(|p| p.id == *id).expect("known");
                p.name = name.clone();
                p.roles = roles.clone();
            }
            _ => {}
        }
    }
    let id_of = |w: &Who| match w {
        Who::Known(id) => *id,
        Who::New(email) => new_ids[email],
    };
    for row in &plan.rows {
        match &row.enrolment {
            Some(EnrolmentStep::New {
                learner,
                version,
                major,
                assignment,
            }) => {
                let id = fresh();
                out.enrolments.push(KnownEnrolment {
                    id,
                    learner: id_of(learner),
                    version: *version,
                    major: *major,
                    assessor: id_of(&assignment.assessor),
                    trainee: assignment.trainee.as_ref().map(id_of),
                    iqa: assignment.iqa.as_ref().map(id_of),
                    withdrawn: false,
                    start: assignment.start,
                    planned_end: assignment.planned_end,
                    employer: assignment.employer,
                });
            }
            Some(EnrolmentStep::Updated { id, assignment, .. }) => {
                let e = out
                    .enrolments
                    .iter_mut()
                    .find(|e| e.id == *id)
                    .expect("known");
                e.assessor = id_of(&assignment.assessor);
                e.trainee = assignment.trainee.as_ref().map(id_of);
                e.iqa = assignment.iqa.as_ref().map(id_of);
                e.start = assignment.start;
                e.planned_end = assignment.planned_end;
                e.employer = assignment.employer;
            }
            _ => {}
        }
    }
    out
}

const EMAILS: [&str; 8] = [
    "ann.assessor@c.ac.uk",
    "iris.iqa@c.ac.uk",
    "lee.learner@c.ac.uk",
    "ava.assessor@c.ac.uk",
    "new.one@c.ac.uk",
    "new.two@c.ac.uk",
    "NEW.ONE@c.ac.uk",
    "tim.trainee@c.ac.uk",
];
const ROLES: [&str; 6] = [
    "learner",
    "assessor",
    "iqa",
    "Assessor, IQA",
    "",
    "trainee assessor",
];
const MAJORS: [&str; 3] = ["GEN", "RET", "NOPE"];
const DATES: [&str; 4] = ["", "2026-09-01", "01/08/2027", "2026-13-01"];
const EMPLOYERS: [&str; 3] = ["", "Northwind Care", "Nowhere Ltd"];

fn row() -> impl Strategy<Value = String> {
    (
        (0..EMAILS.len(), 0..ROLES.len(), prop::bool::ANY),
        (
            0..EMAILS.len(),
            0..MAJORS.len(),
            0..EMAILS.len(),
            prop::option::of(0..EMAILS.len()),
        ),
        (
            0..DATES.len(),
            0..DATES.len(),
            prop::bool::ANY,
            0..EMPLOYERS.len(),
        ),
    )
        .prop_map(
            |((e, r, with_person), (l, m, a, q), (s, d, with_enrolment, w))| {
                let person = if with_person {
                    format!("Name {},{},{}", e % 4, EMAILS[e], ROLES[r])
                } else {
                    ",,".to_string()
                };
                let enrolment = if with_enrolment {
                    format!(
                        "{},CSC2,{},{},{},{},{},{}",
                        EMAILS[l],
                        MAJORS[m],
                        EMAILS[a],
                        q.map_or("", |q| EMAILS[q]),
                        DATES[s],
                        DATES[d],
                        EMPLOYERS[w]
                    )
                } else {
                    ",,,,,,,".to_string()
                };
                format!("{person},{enrolment}")
            },
        )
}

fn file() -> impl Strategy<Value = String> {
    prop::collection::vec(row(), 1..8).prop_map(|rows| {
        let mut f = String::from(
            "name,email,roles,learner_email,qualification_code,major_code,assessor_email,iqa_email,start_date,planned_end_date,employer\n",
        );
        for r in rows {
            f.push_str(&r);
            f.push('\n');
        }
        f
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_file_imported_twice_changes_nothing(file in file()) {
        let dir = centre();
        let Ok(sheet) = read(file.as_bytes()) else { return Ok(()); };
        let first = plan(&sheet, &dir);
        prop_assert_eq!(first.rows.len(), sheet.rows.len());
        if !first.is_clean() {
            return Ok(());
        }
        let after = apply(&dir, &first);
        let second = plan(&sheet, &after);
        prop_assert!(second.is_clean(), "{:?}", second);
        prop_assert_eq!(second.counts().changing_rows(), 0, "{:?}", second);
    }

    #[test]
    fn every_planned_person_keeps_the_learner_or_staff_rule(file in file()) {
        let dir = centre();
        let Ok(sheet) = read(file.as_bytes()) else { return Ok(()); };
        let p = plan(&sheet, &dir);
        for row in p.rows.iter().filter(|r| r.problems.is_empty()) {
            if let Some(PersonStep::New { kind, roles, .. }) = &row.person {
                prop_assert!(!roles.is_empty());
                prop_assert_eq!(*kind == UserKind::Learner, roles.contains(&Role::Learner));
                prop_assert!(*kind == UserKind::Staff || roles.len() == 1);
            }
        }
    }
}
