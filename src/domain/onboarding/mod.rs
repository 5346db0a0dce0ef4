//! Bringing a centre's people and enrolments in from a file (issue 12, point 3).
//!
//! `sheet::read` turns the upload into rows; `plan` decides, against a snapshot of the
//! centre (`Directory`), what each row would do (a new person, an update, a new
//! enrolment, nothing) or what is wrong with it, by row and column. The preview shows
//! the plan; confirming plans again, inside the transaction that writes it, and writes
//! only a plan without problems: so the import is all or nothing, and a file imported
//! twice plans nothing the second time (`proptests::a_file_imported_twice_changes_nothing`).
use time::Date;
use uuid::Uuid;

use super::people::{Role, UserKind};

mod enrolments;
mod people;
pub mod sheet;
mod values;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use sheet::{read, Col, FileProblem, Sheet, MAX_ROWS};

/// A person of the centre as the planner reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPerson {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub kind: UserKind,
    /// Sorted.
    pub roles: Vec<Role>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMajor {
    pub id: Uuid,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownVersion {
    pub id: Uuid,
    pub code: String,
    pub version: i32,
    pub majors: Vec<KnownMajor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownEnrolment {
    pub id: Uuid,
    pub learner: Uuid,
    pub version: Uuid,
    pub major: Uuid,
    pub assessor: Uuid,
    pub trainee: Option<Uuid>,
    pub iqa: Option<Uuid>,
    pub withdrawn: bool,
    pub start: Option<Date>,
    pub planned_end: Option<Date>,
    pub employer: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownEmployer {
    pub id: Uuid,
    pub name: String,
}

/// The centre as it stands, and who is importing.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub actor: Uuid,
    pub people: Vec<KnownPerson>,
    pub versions: Vec<KnownVersion>,
    pub enrolments: Vec<KnownEnrolment>,
    pub employers: Vec<KnownEmployer>,
}

/// A person named by a row: one of the centre's, or one this file adds (by lower-case
/// email).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Who {
    Known(Uuid),
    New(String),
}

/// What is wrong with a row: the column as the file names it (empty for the whole row)
/// and why, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonStep {
    New {
        name: String,
        email: String,
        kind: UserKind,
        roles: Vec<Role>,
    },
    Updated {
        id: Uuid,
        name: String,
        roles: Vec<Role>,
        was_name: String,
        was_roles: Vec<Role>,
    },
    Unchanged {
        id: Uuid,
    },
}

/// Who works on an enrolment, its dates, and where its learner works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub assessor: Who,
    pub trainee: Option<Who>,
    pub iqa: Option<Who>,
    pub start: Option<Date>,
    pub planned_end: Option<Date>,
    pub employer: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolmentStep {
    New {
        learner: Who,
        version: Uuid,
        major: Uuid,
        assignment: Assignment,
    },
    Updated {
        id: Uuid,
        assignment: Assignment,
        was: Assignment,
    },
    Unchanged {
        id: Uuid,
    },
}

/// What one row of the file does, in steps and in words, or what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowPlan {
    pub line: usize,
    pub person: Option<PersonStep>,
    pub enrolment: Option<EnrolmentStep>,
    /// The steps in words, for the preview.
    pub said: Vec<String>,
    pub problems: Vec<Problem>,
}

impl RowPlan {
    pub fn changes(&self) -> bool {
        matches!(
            self.person,
            Some(PersonStep::New { .. } | PersonStep::Updated { .. })
        ) || matches!(
            self.enrolment,
            Some(EnrolmentStep::New { .. } | EnrolmentStep::Updated { .. })
        )
    }

    fn problem(&mut self, column: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            column: column.into(),
            message: message.into(),
        });
    }
}

/// The figures the preview and the import's record show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub rows: usize,
    pub new_people: usize,
    pub updated_people: usize,
    pub new_enrolments: usize,
    pub updated_enrolments: usize,
    pub unchanged_rows: usize,
    pub rows_with_problems: usize,
}

impl Counts {
    /// Rows that change something: the N of "Import N rows".
    pub fn changing_rows(&self) -> usize {
        self.rows - self.unchanged_rows - self.rows_with_problems
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub rows: Vec<RowPlan>,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            rows: self.rows.len(),
            ..Counts::default()
        };
        for row in &self.rows {
            if !row.problems.is_empty() {
                c.rows_with_problems += 1;
                continue;
            }
            if !row.changes() {
                c.unchanged_rows += 1;
            }
            match row.person {
                Some(PersonStep::New { .. }) => c.new_people += 1,
                Some(PersonStep::Updated { .. }) => c.updated_people += 1,
                _ => {}
            }
            match row.enrolment {
                Some(EnrolmentStep::New { .. }) => c.new_enrolments += 1,
                Some(EnrolmentStep::Updated { .. }) => c.updated_enrolments += 1,
                _ => {}
            }
        }
        c
    }

    /// Whether the plan may be written: no row has a problem.
    pub fn is_clean(&self) -> bool {
        self.rows.iter().all(|r| r.problems.is_empty())
    }

    /// Enrolments whose IQA this plan changes to someone already of the centre: the
    /// store says which of them made assessment decisions there (`refuse_own_decisions`).
    pub fn new_iqas(&self) -> Vec<(Uuid, Uuid)> {
        self.rows
            .iter()
            .filter_map(|r| match &r.enrolment {
                Some(EnrolmentStep::Updated {
                    id,
                    assignment,
                    was,
                }) if assignment.iqa != was.iqa => match &assignment.iqa {
                    Some(Who::Known(iqa)) => Some((*id, *iqa)),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// An IQA never samples decisions they made as assessor (SPEC §7): each row that
    /// would make someone the IQA of an enrolment they ticked as assessor or trainee
    /// (`decided`: pairs of enrolment and person) is refused.
    pub fn refuse_own_decisions(&mut self, decided: &[(Uuid, Uuid)], iqa_column: &str) {
        for row in &mut self.rows {
            let Some(EnrolmentStep::Updated { id, assignment, .. }) = &row.enrolment else {
                continue;
            };
            let Some(Who::Known(iqa)) = &assignment.iqa else {
                continue;
            };
            if decided.contains(&(*id, *iqa)) {
                row.problem(
                    iqa_column,
                    "This person made assessment decisions on this enrolment, and an IQA never samples their own decisions: choose another IQA",
                );
            }
        }
    }
}

/// Plans every row of `sheet` against `dir`.
pub fn plan(sheet: &Sheet, dir: &Directory) -> Plan {
    let mut planner = people::Planner::new(sheet, dir);
    planner.repeated_rows();
    planner.people();
    planner.enrolments();
    planner.role_changes();
    planner.finish()
}

/// The template offered for download: every column, and rows that show each kind; the
/// enrolment on `qualification` and `major` (the centre's own codes, so that the
/// example imports as it stands once its people are real).
pub fn template(qualification: &str, major: &str) -> String {
    let header: Vec<&str> = [
        Col::Name,
        Col::Email,
        Col::Roles,
        Col::LearnerEmail,
        Col::QualificationCode,
        Col::QualificationVersion,
        Col::MajorCode,
        Col::AssessorEmail,
        Col::TraineeEmail,
        Col::IqaEmail,
        Col::StartDate,
        Col::PlannedEndDate,
    ]
    .into_iter()
    .map(Col::header)
    .collect();
    let mut out = header.join(",");
    out.push_str("\r\n");
    let learner = format!(
        "Lee Learner,lee.learner@example.ac.uk,learner,lee.learner@example.ac.uk,{},,{},sam.assessor@example.ac.uk,,ira.quality@example.ac.uk,2026-09-01,2027-07-31",
        csv_cell(qualification),
        csv_cell(major)
    );
    for row in [
        "Sam Assessor,sam.assessor@example.ac.uk,assessor,,,,,,,,,",
        "Ira Quality,ira.quality@example.ac.uk,iqa,,,,,,,,,",
        learner.as_str(),
    ] {
        out.push_str(row);
        out.push_str("\r\n");
    }
    out
}

/// A cell as CSV writes it: quoted when it holds a separator, quote or line break.
fn csv_cell(value: &str) -> String {
    if value.contains([',', ';', '"', '\n', '\r', '\t']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}
