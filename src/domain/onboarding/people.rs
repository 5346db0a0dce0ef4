//! The planner's state, and its passes over people: repeated rows, each row's person,
//! and the role changes checked against who will still be working on enrolments.
use std::collections::HashMap;

use uuid::Uuid;

use super::sheet::{Col, Sheet};
use super::values::{self, ROLE_WORDS};
use super::{
    Directory, EnrolmentStep, KnownEnrolment, KnownPerson, PersonStep, Plan, RowPlan, Who,
};
use crate::domain::accounts::{self, Account, PersonEdit};
use crate::domain::people::{validate_new_person, NewPerson, Role, UserKind};

/// A person as they will be once the file is imported.
#[derive(Debug, Clone)]
pub(super) struct After {
    pub who: Who,
    pub name: String,
    pub email: String,
    pub kind: UserKind,
    pub roles: Vec<Role>,
    pub active: bool,
    /// The line that adds or changes them, when it has a problem of its own.
    pub broken_line: Option<usize>,
}

pub(super) struct Planner<'a> {
    pub sheet: &'a Sheet,
    pub dir: &'a Directory,
    pub rows: Vec<RowPlan>,
    /// Rows that repeat an earlier one: planned no further.
    pub repeated: Vec<bool>,
    pub by_email: HashMap<String, &'a KnownPerson>,
    pub by_id: HashMap<Uuid, &'a KnownPerson>,
    pub enrolment_by_id: HashMap<Uuid, &'a KnownEnrolment>,
    /// Everyone the rows may name, by lower-case email, as they will be.
    pub after: HashMap<String, After>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(sheet: &'a Sheet, dir: &'a Directory) -> Self {
        let rows = sheet
            .rows
            .iter()
            .map(|r| RowPlan {
                line: r.line,
                person: None,
                enrolment: None,
                said: Vec::new(),
                problems: Vec::new(),
            })
            .collect();
        let after = dir
            .people
            .iter()
            .map(|p| {
                let after = After {
                    who: Who::Known(p.id),
                    name: p.name.clone(),
                    email: p.email.clone(),
                    kind: p.kind,
                    roles: p.roles.clone(),
                    active: p.active,
                    broken_line: None,
                };
                (p.email.to_lowercase(), after)
            })
            .collect();
        Planner {
            sheet,
            dir,
            rows,
            repeated: vec![false; sheet.rows.len()],
            by_email: dir
                .people
                .iter()
                .map(|p| (p.email.to_lowercase(), p))
                .collect(),
            by_id: dir.people.iter().map(|p| (p.id, p)).collect(),
            enrolment_by_id: dir.enrolments.iter().map(|e| (e.id, e)).collect(),
            after,
        }
    }

    pub(super) fn finish(self) -> Plan {
        Plan { rows: self.rows }
    }

    /// A row exactly like an earlier one is a mistake in the file, not a second person.
    pub(super) fn repeated_rows(&mut self) {
        let mut seen: HashMap<&[String], usize> = HashMap::new();
        for (i, record) in self.sheet.rows.iter().enumerate() {
            match seen.get(self.sheet.cells(record)) {
                Some(line) => {
                    self.repeated[i] = true;
                    self.rows[i].problem(
                        "",
                        format!("This row repeats line {line}: delete one of them"),
                    );
                }
                None => {
                    seen.insert(self.sheet.cells(record), record.line);
                }
            }
        }
    }

    /// Each row's person: new, changed or unchanged, or what is wrong.
    pub(super) fn people(&mut self) {
        if !self.sheet.has_people() {
            return;
        }
        let sheet = self.sheet;
        // Lower-case email → the first line naming the person, with what it said.
        let mut first: HashMap<String, (usize, String, Vec<Role>)> = HashMap::new();
        for (i, record) in sheet.rows.iter().enumerate() {
            let (name, email) = (
                sheet.cell(record, Col::Name),
                sheet.cell(record, Col::Email),
            );
            if self.repeated[i] || (name.is_empty() && email.is_empty()) {
                continue;
            }
            let row = &mut self.rows[i];
            let roles_col = if sheet.has(Col::RoleKeys) {
                Col::RoleKeys
            } else {
                Col::Roles
            };
            let roles = match values::roles(sheet.cell(record, roles_col)) {
                Ok(r) => r,
                Err(word) => {
                    row.problem(
                        sheet.header(roles_col),
                        format!("\"{word}\" is not a role: use {ROLE_WORDS}"),
                    );
                    Vec::new()
                }
            };
            let kind_cell = sheet.cell(record, Col::Kind);
            let kind = if kind_cell.is_empty() {
                if roles.is_empty() {
                    None
                } else if roles.contains(&Role::Learner) {
                    Some(UserKind::Learner)
                } else {
                    Some(UserKind::Staff)
                }
            } else {
                let k = values::kind(kind_cell);
                if k.is_none() {
                    row.problem(sheet.header(Col::Kind), "Enter learner or staff");
                }
                k
            };
            let key = email.to_lowercase();
            if let Some((line, was_name, was_roles)) = first.get(&key) {
                if *was_name != name || *was_roles != roles {
                    row.problem(
                        sheet.header(Col::Email),
                        format!("This email is also on line {line} with a different name or roles: a person is on the file once, or the same on every line"),
                    );
                } else {
                    row.said.push(format!("The person on line {line}"));
                }
                continue;
            }
            first.insert(key.clone(), (record.line, name.to_string(), roles.clone()));
            let person_id = sheet.cell(record, Col::PersonId);
            if !person_id.is_empty() {
                match values::id(person_id).and_then(|id| self.by_id.get(&id)) {
                    None => row.problem(
                        sheet.header(Col::PersonId),
                        "No one at your centre has this person_id: leave it blank for a new person",
                    ),
                    Some(p) if p.email.to_lowercase() != key => row.problem(
                        sheet.header(Col::Email),
                        format!("This person's email is {}: change an email address on the person's page (the file finds people by email)", p.email),
                    ),
                    Some(_) => {}
                }
            }
            let learner_here = sheet.has_enrolments()
                && {
                    let learner = sheet.cell(record, Col::LearnerEmail);
                    learner.is_empty() || learner.eq_ignore_ascii_case(email)
                }
                && super::enrolments::has_enrolment(sheet, record);
            let step = match self.by_email.get(&key) {
                Some(known) => {
                    let kind_column = if kind_cell.is_empty() {
                        field_column(sheet, "roles")
                    } else {
                        sheet.header(Col::Kind)
                    };
                    existing_person(row, known, name, kind, &kind_column, roles)
                }
                None => new_person(sheet, row, name, email, kind, roles, learner_here),
            };
            if let Some(step) = step {
                self.overlay(i, &key, &step);
                self.rows[i].person = Some(step);
            } else if !self.by_email.contains_key(&key) && !key.is_empty() {
                self.after.insert(
                    key.clone(),
                    After {
                        who: Who::New(key),
                        name: name.to_string(),
                        email: email.to_string(),
                        kind: kind.unwrap_or(UserKind::Learner),
                        roles: Vec::new(),
                        active: true,
                        broken_line: Some(record.line),
                    },
                );
            }
        }
    }

    /// Records how the row leaves the person, for the rows that name them.
    fn overlay(&mut self, i: usize, key: &str, step: &PersonStep) {
        let broken = (!self.rows[i].problems.is_empty()).then_some(self.rows[i].line);
        match step {
            PersonStep::New {
                name,
                email,
                kind,
                roles,
            } => {
                self.rows[i].said.push(format!(
                    "New person: {name} ({email}), {}",
                    role_words(roles)
                ));
                self.after.insert(
                    key.to_string(),
                    After {
                        who: Who::New(key.to_string()),
                        name: name.clone(),
                        email: email.clone(),
                        kind: *kind,
                        roles: roles.clone(),
                        active: true,
                        broken_line: broken,
                    },
                );
            }
            PersonStep::Updated {
                name,
                roles,
                was_name,
                was_roles,
                ..
            } => {
                let mut what = Vec::new();
                if name != was_name {
                    what.push(format!("name {was_name} → {name}"));
                }
                if roles != was_roles {
                    what.push(format!(
                        "roles {} → {}",
                        role_words(was_roles),
                        role_words(roles)
                    ));
                }
                self.rows[i]
                    .said
                    .push(format!("Updated person: {}", what.join("; ")));
                if let Some(a) = self.after.get_mut(key) {
                    a.name = name.clone();
                    a.roles = roles.clone();
                    a.broken_line = broken;
                }
            }
            PersonStep::Unchanged { .. } => {
                let a = &self.after[key];
                let said = format!("Unchanged person: {} ({})", a.name, a.email);
                self.rows[i].said.push(said);
            }
        }
    }

    /// People whose roles a row changes keep every role they will still work in on an
    /// enrolment, once the file's own enrolment changes are made; and an admin never
    /// removes their own admin role (`accounts::validate_edit`, as on the person's page).
    pub(super) fn role_changes(&mut self) {
        let mut assigned: HashMap<Uuid, Vec<Role>> = HashMap::new();
        let mut note = |who: &Who, role: Role| {
            if let Who::Known(id) = who {
                let roles = assigned.entry(*id).or_default();
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
        };
        let planned: HashMap<Uuid, &super::Assignment> = self
            .rows
            .iter()
            .filter_map(|r| match &r.enrolment {
                Some(EnrolmentStep::Updated { id, assignment, .. }) => Some((*id, assignment)),
                _ => None,
            })
            .collect();
        for e in &self.dir.enrolments {
            match planned.get(&e.id) {
                Some(a) => {
                    note(&a.assessor, Role::Assessor);
                    a.trainee
                        .iter()
                        .for_each(|t| note(t, Role::TraineeAssessor));
                    a.iqa.iter().for_each(|q| note(q, Role::Iqa));
                }
                None => {
                    note(&Who::Known(e.assessor), Role::Assessor);
                    e.trainee
                        .iter()
                        .for_each(|t| note(&Who::Known(*t), Role::TraineeAssessor));
                    e.iqa.iter().for_each(|q| note(&Who::Known(*q), Role::Iqa));
                }
            }
        }
        let sheet = self.sheet;
        for i in 0..sheet.rows.len() {
            let Some(PersonStep::Updated {
                id, name, roles, ..
            }) = &self.rows[i].person
            else {
                continue;
            };
            let known = self.by_id[id];
            let account = Account {
                id: known.id,
                kind: known.kind,
                active: known.active,
                roles: &known.roles,
                assigned_as: assigned.get(id).map_or(&[], |r| r.as_slice()),
            };
            let typed = PersonEdit {
                display_name: name.clone(),
                email: known.email.clone(),
                roles: roles.iter().map(|r| r.key().to_string()).collect(),
            };
            if let Err(errors) = accounts::validate_edit(self.dir.actor, &account, &typed) {
                for e in errors {
                    let col = field_column(sheet, e.field);
                    self.rows[i].problem(col, e.message);
                }
            }
        }
    }
}

/// "learner", "assessor and IQA".
pub(super) fn role_words(roles: &[Role]) -> String {
    let words: Vec<String> = roles
        .iter()
        .map(|r| match r {
            Role::Iqa => "IQA".to_string(),
            r => r.label().to_lowercase(),
        })
        .collect();
    match words.split_last() {
        None => "no roles".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The file's column for a form field of the people rules.
fn field_column(sheet: &Sheet, field: &str) -> String {
    match field {
        "display_name" => sheet.header(Col::Name),
        "email" => sheet.header(Col::Email),
        "kind" if sheet.has(Col::Kind) => sheet.header(Col::Kind),
        _ if sheet.has(Col::RoleKeys) => sheet.header(Col::RoleKeys),
        _ => sheet.header(Col::Roles),
    }
}

fn existing_person(
    row: &mut RowPlan,
    known: &KnownPerson,
    name: &str,
    kind: Option<UserKind>,
    kind_column: &str,
    roles: Vec<Role>,
) -> Option<PersonStep> {
    if kind.is_some_and(|k| k != known.kind) {
        let (theirs, why) = match known.kind {
            UserKind::Learner => (
                "a learner's account",
                "a member of staff needs an account of their own",
            ),
            UserKind::Staff => (
                "a member of staff's account",
                "a learner needs an account of their own",
            ),
            UserKind::Employer => (
                "an employer's person's account",
                "learners and staff need accounts of their own",
            ),
        };
        row.problem(
            kind_column,
            format!("This email is {theirs} at your centre, so it cannot be used for someone in another role: {why}"),
        );
        return None;
    }
    let name = if name.is_empty() {
        known.name.clone()
    } else {
        name.to_string()
    };
    let roles = if roles.is_empty() {
        known.roles.clone()
    } else {
        roles
    };
    if name == known.name && roles == known.roles {
        return Some(PersonStep::Unchanged { id: known.id });
    }
    Some(PersonStep::Updated {
        id: known.id,
        name,
        roles,
        was_name: known.name.clone(),
        was_roles: known.roles.clone(),
    })
}

fn new_person(
    sheet: &Sheet,
    row: &mut RowPlan,
    name: &str,
    email: &str,
    kind: Option<UserKind>,
    roles: Vec<Role>,
    learner_here: bool,
) -> Option<PersonStep> {
    let (kind, roles) = match kind {
        None if learner_here => (Some(UserKind::Learner), vec![Role::Learner]),
        _ => (kind, roles),
    };
    let roles_col = field_column(sheet, "roles");
    if kind.is_none() {
        row.problem(
            roles_col.clone(),
            format!("Enter the person's roles: {ROLE_WORDS}"),
        );
    }
    if kind == Some(UserKind::Learner) && roles.iter().any(|r| *r != Role::Learner) {
        row.problem(roles_col.clone(), accounts::LEARNER_ONLY);
    }
    let typed = NewPerson {
        display_name: name.to_string(),
        email: email.to_string(),
        kind: kind.map(|k| k.key().to_string()).unwrap_or_default(),
        roles: roles.iter().map(|r| r.key().to_string()).collect(),
        employer: String::new(),
    };
    match validate_new_person(&typed) {
        Ok(p) if row.problems.is_empty() => Some(PersonStep::New {
            name: p.display_name,
            email: p.email,
            kind: p.kind,
            roles: p.roles,
        }),
        Ok(_) => None,
        Err(errors) => {
            for e in errors.into_iter().filter(|e| e.field != "kind") {
                row.problem(field_column(sheet, e.field), e.message);
            }
            None
        }
    }
}
