//! The planner's pass over enrolments: each row's enrolment found or made, its people
//! resolved to who they will be after the import, its qualification, major and dates.
use std::collections::HashMap;

use time::Date;
use uuid::Uuid;

use super::people::{After, Planner};
use super::sheet::{Col, Record, Sheet};
use super::values;
use super::{Assignment, EnrolmentStep, KnownEnrolment, KnownVersion, Problem, Who};
use crate::domain::people::{Role, UserKind};

const ENROLMENT_COLUMNS: [Col; 14] = [
    Col::EnrolmentId,
    Col::LearnerEmail,
    Col::QualificationCode,
    Col::QualificationVersion,
    Col::MajorCode,
    Col::AssessorEmail,
    Col::AssessorId,
    Col::TraineeEmail,
    Col::TraineeId,
    Col::IqaEmail,
    Col::IqaId,
    Col::StartDate,
    Col::PlannedEndDate,
    Col::Employer,
];

/// Whether the row says anything about an enrolment (a staff member's row of a
/// combined file leaves those cells blank).
pub(super) fn has_enrolment(sheet: &Sheet, record: &Record) -> bool {
    sheet.has_enrolments()
        && ENROLMENT_COLUMNS
            .iter()
            .any(|c| !sheet.cell(record, *c).is_empty())
}

/// One place on an enrolment: the role it needs and the columns that name it.
#[derive(Clone, Copy)]
struct Place {
    role: Role,
    email: Col,
    id: Col,
    words: &'static str,
}

const ASSESSOR: Place = Place {
    role: Role::Assessor,
    email: Col::AssessorEmail,
    id: Col::AssessorId,
    words: "an assessor",
};
const TRAINEE: Place = Place {
    role: Role::TraineeAssessor,
    email: Col::TraineeEmail,
    id: Col::TraineeId,
    words: "a trainee assessor",
};
const IQA: Place = Place {
    role: Role::Iqa,
    email: Col::IqaEmail,
    id: Col::IqaId,
    words: "an IQA",
};

/// What a row says about a place: nobody, someone, or nothing at all (the file has no
/// column for it, so an existing enrolment keeps whoever it has).
enum Named {
    Keep,
    Nobody,
    Someone(Who),
}

/// Which enrolment a row is about: one of the centre's, or a new one of a learner on a
/// qualification version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Existing(Uuid),
    New(Who, Uuid),
}

#[derive(Default)]
struct Outcome {
    step: Option<EnrolmentStep>,
    said: Option<String>,
    problems: Vec<Problem>,
    /// The enrolment the row is about, for finding two rows about one.
    key: Option<Key>,
}

impl Outcome {
    fn problem(&mut self, column: String, message: impl Into<String>) {
        self.problems.push(Problem {
            column,
            message: message.into(),
        });
    }
}

impl Planner<'_> {
    pub(super) fn enrolments(&mut self) {
        if !self.sheet.has_enrolments() {
            return;
        }
        let sheet = self.sheet;
        let mut seen: HashMap<Key, usize> = HashMap::new();
        for (i, record) in sheet.rows.iter().enumerate() {
            if self.repeated[i] || !has_enrolment(sheet, record) {
                continue;
            }
            let mut out = self.enrolment_row(record);
            if let Some(key) = out.key.take() {
                if let Some(line) = seen.get(&key) {
                    out.problem(
                        String::new(),
                        format!("This enrolment is also on line {line}: keep one of them"),
                    );
                    out.step = None;
                } else {
                    seen.insert(key, record.line);
                }
            }
            let row = &mut self.rows[i];
            row.problems.extend(out.problems);
            row.said.extend(out.said);
            row.enrolment = out.step;
        }
    }

    fn enrolment_row(&self, record: &Record) -> Outcome {
        let sheet = self.sheet;
        let mut out = Outcome::default();
        let learner_col =
            if sheet.cell(record, Col::LearnerEmail).is_empty() && sheet.has(Col::Email) {
                Col::Email
            } else {
                Col::LearnerEmail
            };
        let learner = self.learner(record, learner_col, &mut out);
        let id_cell = sheet.cell(record, Col::EnrolmentId);
        if !id_cell.is_empty() {
            match values::id(id_cell).and_then(|id| self.enrolment_by_id.get(&id)) {
                Some(e) => self.existing(record, e, learner, &mut out),
                None => out.problem(
                    sheet.header(Col::EnrolmentId),
                    "No enrolment at your centre has this enrolment_id: leave it blank for a new enrolment",
                ),
            }
            return out;
        }
        let Some(version) = self.version(record, &mut out) else {
            return out;
        };
        let Some(learner) = learner else {
            if sheet.cell(record, learner_col).is_empty() {
                out.problem(sheet.header(learner_col), "Enter the learner's email");
            }
            return out;
        };
        let code = &version.code;
        let matching: Vec<&KnownEnrolment> = match &learner.who {
            Who::New(_) => Vec::new(),
            Who::Known(id) => self
                .dir
                .enrolments
                .iter()
                .filter(|e| e.learner == *id && !e.withdrawn)
                .filter(|e| {
                    self.version_by_id(e.version).is_some_and(|v| {
                        v.code == *code
                            && (sheet.cell(record, Col::QualificationVersion).is_empty()
                                || v.id == version.id)
                    })
                })
                .collect(),
        };
        match matching.as_slice() {
            [] => self.new_enrolment(record, &learner.who, version, &mut out),
            [e] => self.existing(record, e, Some(learner), &mut out),
            _ => out.problem(
                sheet.header(Col::QualificationCode),
                format!("{} has more than one enrolment on {code}: add the enrolment_id column (the enrolments report's CSV has it) to say which", learner.name),
            ),
        }
        out
    }

    fn learner<'s>(&'s self, record: &Record, col: Col, out: &mut Outcome) -> Option<&'s After> {
        let email = self.sheet.cell(record, col);
        if email.is_empty() {
            return None;
        }
        let column = self.sheet.header(col);
        let Some(after) = self.after.get(&email.to_lowercase()) else {
            out.problem(
                column,
                format!("No one at your centre or in this file has the email {email}"),
            );
            return None;
        };
        if let Some(line) = after.broken_line {
            out.problem(
                column,
                format!("{email} is added on line {line}, which has a problem"),
            );
            return None;
        }
        if after.kind != UserKind::Learner {
            out.problem(
                column,
                format!(
                    "{} ({email}) is a member of staff, not a learner",
                    after.name
                ),
            );
            return None;
        }
        if !after.active {
            out.problem(
                column,
                format!("{} is deactivated: reactivate them first", after.name),
            );
            return None;
        }
        Some(after)
    }

    fn version_by_id(&self, id: Uuid) -> Option<&KnownVersion> {
        self.dir.versions.iter().find(|v| v.id == id)
    }

    /// The qualification version a new enrolment is on: the version given, or the latest.
    fn version(&self, record: &Record, out: &mut Outcome) -> Option<&KnownVersion> {
        let sheet = self.sheet;
        let code = sheet.cell(record, Col::QualificationCode);
        let column = sheet.header(Col::QualificationCode);
        if code.is_empty() {
            out.problem(column, "Enter the qualification's code");
            return None;
        }
        let mut versions: Vec<&KnownVersion> = self
            .dir
            .versions
            .iter()
            .filter(|v| v.code.eq_ignore_ascii_case(code))
            .collect();
        versions.sort_by_key(|v| v.version);
        if versions.is_empty() {
            out.problem(
                column,
                format!("No qualification at your centre has the code {code}"),
            );
            return None;
        }
        let typed = sheet.cell(record, Col::QualificationVersion);
        if typed.is_empty() {
            return versions.last().copied();
        }
        let found = typed
            .parse::<i32>()
            .ok()
            .and_then(|n| versions.iter().find(|v| v.version == n));
        if found.is_none() {
            let have: Vec<String> = versions.iter().map(|v| v.version.to_string()).collect();
            out.problem(
                sheet.header(Col::QualificationVersion),
                format!(
                    "{code} has no version {typed}; its versions are {}",
                    have.join(", ")
                ),
            );
        }
        found.copied()
    }

    fn new_enrolment(
        &self,
        record: &Record,
        learner: &Who,
        version: &KnownVersion,
        out: &mut Outcome,
    ) {
        let sheet = self.sheet;
        let major_code = sheet.cell(record, Col::MajorCode);
        let major = version
            .majors
            .iter()
            .find(|m| m.code.eq_ignore_ascii_case(major_code));
        if major.is_none() {
            let have: Vec<&str> = version.majors.iter().map(|m| m.code.as_str()).collect();
            let message = if major_code.is_empty() {
                format!(
                    "Enter the major's code; {} version {} has {}",
                    version.code,
                    version.version,
                    have.join(", ")
                )
            } else {
                format!(
                    "{} version {} has no major {major_code}; its majors are {}",
                    version.code,
                    version.version,
                    have.join(", ")
                )
            };
            out.problem(sheet.header(Col::MajorCode), message);
        }
        let assignment = self.assignment(record, None, out);
        out.key = Some(Key::New(learner.clone(), version.id));
        let (Some(major), Some(assignment)) = (major, assignment) else {
            return;
        };
        out.said = Some(format!(
            "New enrolment on {} version {}, major {}{}",
            version.code,
            version.version,
            major.code,
            self.people_words(&assignment)
        ));
        out.step = Some(EnrolmentStep::New {
            learner: learner.clone(),
            version: version.id,
            major: major.id,
            assignment,
        });
    }

    fn existing(
        &self,
        record: &Record,
        e: &KnownEnrolment,
        learner: Option<&After>,
        out: &mut Outcome,
    ) {
        let sheet = self.sheet;
        out.key = Some(Key::Existing(e.id));
        if let Some(l) = learner {
            if l.who != Who::Known(e.learner) {
                let column = if sheet.has(Col::LearnerEmail) {
                    Col::LearnerEmail
                } else {
                    Col::Email
                };
                out.problem(
                    sheet.header(column),
                    "This enrolment is another learner's: an enrolment's learner does not change",
                );
            }
        }
        let Some(version) = self.version_by_id(e.version) else {
            return;
        };
        let code = sheet.cell(record, Col::QualificationCode);
        if !code.is_empty() && !code.eq_ignore_ascii_case(&version.code) {
            out.problem(
                sheet.header(Col::QualificationCode),
                format!(
                    "This enrolment is on {}: an enrolment's qualification does not change",
                    version.code
                ),
            );
        }
        let typed_version = sheet.cell(record, Col::QualificationVersion);
        if !typed_version.is_empty() && typed_version.parse::<i32>().ok() != Some(version.version) {
            out.problem(
                sheet.header(Col::QualificationVersion),
                format!(
                    "This enrolment is on version {} of {}: its version does not change",
                    version.version, version.code
                ),
            );
        }
        let major = version.majors.iter().find(|m| m.id == e.major);
        let major_code = sheet.cell(record, Col::MajorCode);
        if let Some(major) = major {
            if !major_code.is_empty() && !major_code.eq_ignore_ascii_case(&major.code) {
                out.problem(sheet.header(Col::MajorCode), format!("This enrolment's major is {}: switch majors on the enrolment's page, where the audit under the new major is shown", major.code));
            }
        }
        let was = Assignment {
            assessor: Who::Known(e.assessor),
            trainee: e.trainee.map(Who::Known),
            iqa: e.iqa.map(Who::Known),
            start: e.start,
            planned_end: e.planned_end,
            employer: e.employer,
        };
        let Some(assignment) = self.assignment(record, Some(&was), out) else {
            return;
        };
        if !out.problems.is_empty() {
            return;
        }
        let what = format!(
            "{} version {}, major {}",
            version.code,
            version.version,
            major.map_or("", |m| m.code.as_str())
        );
        if assignment == was {
            out.said = Some(format!("Unchanged enrolment on {what}"));
            out.step = Some(EnrolmentStep::Unchanged { id: e.id });
        } else {
            out.said = Some(format!(
                "Updated enrolment on {what}:{}",
                self.changes_words(&was, &assignment)
            ));
            out.step = Some(EnrolmentStep::Updated {
                id: e.id,
                assignment,
                was,
            });
        }
    }

    /// Who works on the enrolment and its dates, as the row says, over `was` for what
    /// the file has no column for. None when something is wrong (said in `out`).
    fn assignment(
        &self,
        record: &Record,
        was: Option<&Assignment>,
        out: &mut Outcome,
    ) -> Option<Assignment> {
        let sheet = self.sheet;
        let before = out.problems.len();
        let assessor = match self.named(record, ASSESSOR, out) {
            Named::Someone(w) => Some(w),
            Named::Keep => was.map(|w| w.assessor.clone()),
            Named::Nobody => None,
        };
        let column_of = |p: Place| {
            sheet.header(if sheet.has(p.email) || !sheet.has(p.id) {
                p.email
            } else {
                p.id
            })
        };
        if assessor.is_none() && out.problems.len() == before {
            out.problem(column_of(ASSESSOR), "Enter the assessor's email");
        }
        let optional = |named: Named, was: Option<Option<Who>>| match named {
            Named::Someone(w) => Some(w),
            Named::Nobody => None,
            Named::Keep => was.flatten(),
        };
        let trainee = optional(
            self.named(record, TRAINEE, out),
            was.map(|w| w.trainee.clone()),
        );
        let iqa = optional(self.named(record, IQA, out), was.map(|w| w.iqa.clone()));
        if trainee.is_some() && trainee == assessor {
            out.problem(
                column_of(TRAINEE),
                "The trainee assessor cannot also be the assessor",
            );
        }
        if iqa.is_some() && (iqa == assessor || iqa == trainee) {
            out.problem(
                column_of(IQA),
                "The IQA cannot sample their own assessment: choose someone else",
            );
        }
        let start = self.date(record, Col::StartDate, was.and_then(|w| w.start), out);
        let planned_end = self.date(
            record,
            Col::PlannedEndDate,
            was.and_then(|w| w.planned_end),
            out,
        );
        if let (Some(s), Some(e)) = (start, planned_end) {
            if e <= s {
                out.problem(
                    sheet.header(Col::PlannedEndDate),
                    "The planned end date must be after the start date",
                );
            }
        }
        let employer = self.employer(record, was.and_then(|w| w.employer), out);
        if out.problems.len() > before {
            return None;
        }
        Some(Assignment {
            assessor: assessor?,
            trainee,
            iqa,
            start,
            planned_end,
            employer,
        })
    }

    /// The employer the row names, by name; the file must not name one the centre lacks
    /// (employers are added on their own page, where their contact is kept).
    fn employer(&self, record: &Record, was: Option<Uuid>, out: &mut Outcome) -> Option<Uuid> {
        if !self.sheet.has(Col::Employer) {
            return was;
        }
        let cell = self.sheet.cell(record, Col::Employer);
        if cell.is_empty() {
            return None;
        }
        let folded = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let found = self
            .dir
            .employers
            .iter()
            .find(|e| folded(&e.name) == folded(cell));
        if found.is_none() {
            out.problem(
                self.sheet.header(Col::Employer),
                format!("No employer at your centre is named {cell}: add it on the employers page first"),
            );
        }
        found.map(|e| e.id)
    }

    fn employer_name(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.dir.employers.iter().find(|e| e.id == id))
            .map_or_else(|| "none".to_string(), |e| e.name.clone())
    }

    fn date(
        &self,
        record: &Record,
        col: Col,
        was: Option<Date>,
        out: &mut Outcome,
    ) -> Option<Date> {
        if !self.sheet.has(col) {
            return was;
        }
        let cell = self.sheet.cell(record, col);
        if cell.is_empty() {
            return None;
        }
        let date = values::date(cell);
        if date.is_none() {
            out.problem(
                self.sheet.header(col),
                format!("\"{cell}\" is not a date: write it as 2026-09-01 or 01/09/2026"),
            );
        }
        date
    }

    /// The person a row names in `place`, by email (or, in a file without the email
    /// column, by id), checked to hold the place's role once the file is imported.
    fn named(&self, record: &Record, place: Place, out: &mut Outcome) -> Named {
        let sheet = self.sheet;
        let (col, by_email) = if sheet.has(place.email) {
            (place.email, true)
        } else if sheet.has(place.id) {
            (place.id, false)
        } else {
            return Named::Keep;
        };
        let cell = sheet.cell(record, col);
        if cell.is_empty() {
            return Named::Nobody;
        }
        let column = sheet.header(col);
        let found = if by_email {
            self.after.get(&cell.to_lowercase())
        } else {
            values::id(cell)
                .and_then(|id| self.by_id.get(&id))
                .and_then(|p| self.after.get(&p.email.to_lowercase()))
        };
        let Some(after) = found else {
            let message = if by_email {
                format!("No one at your centre or in this file has the email {cell}")
            } else {
                "No one at your centre has this id".to_string()
            };
            out.problem(column, message);
            return Named::Nobody;
        };
        if let Some(line) = after.broken_line {
            out.problem(
                column,
                format!(
                    "{} is added or changed on line {line}, which has a problem",
                    after.email
                ),
            );
        } else if !after.active {
            out.problem(
                column,
                format!(
                    "{} is deactivated: reactivate them or choose someone else",
                    after.name
                ),
            );
        } else if !after.roles.contains(&place.role) {
            out.problem(
                column,
                format!(
                    "{} ({}) is not {} at your centre",
                    after.name, after.email, place.words
                ),
            );
        }
        Named::Someone(after.who.clone())
    }

    fn name_of(&self, who: &Who) -> String {
        let email = match who {
            Who::New(email) => email.clone(),
            Who::Known(id) => {
                return self
                    .by_id
                    .get(id)
                    .map_or_else(String::new, |p| p.name.clone())
            }
        };
        self.after.get(&email).map_or(email, |a| a.name.clone())
    }

    fn people_words(&self, a: &Assignment) -> String {
        let mut s = format!("; assessor {}", self.name_of(&a.assessor));
        if let Some(t) = &a.trainee {
            s.push_str(&format!("; trainee assessor {}", self.name_of(t)));
        }
        if let Some(q) = &a.iqa {
            s.push_str(&format!("; IQA {}", self.name_of(q)));
        }
        if let Some(d) = a.start {
            s.push_str(&format!("; starts {d}"));
        }
        if let Some(d) = a.planned_end {
            s.push_str(&format!("; planned end {d}"));
        }
        if a.employer.is_some() {
            s.push_str(&format!("; employer {}", self.employer_name(a.employer)));
        }
        s
    }

    fn changes_words(&self, was: &Assignment, now: &Assignment) -> String {
        let who = |w: &Option<Who>| {
            w.as_ref()
                .map_or_else(|| "nobody".to_string(), |w| self.name_of(w))
        };
        let day = |d: &Option<Date>| d.map_or_else(|| "none".to_string(), |d| d.to_string());
        let mut s = String::new();
        if was.assessor != now.assessor {
            s.push_str(&format!(
                " assessor {} → {};",
                self.name_of(&was.assessor),
                self.name_of(&now.assessor)
            ));
        }
        if was.trainee != now.trainee {
            s.push_str(&format!(
                " trainee assessor {} → {};",
                who(&was.trainee),
                who(&now.trainee)
            ));
        }
        if was.iqa != now.iqa {
            s.push_str(&format!(" IQA {} → {};", who(&was.iqa), who(&now.iqa)));
        }
        if was.start != now.start {
            s.push_str(&format!(
                " start {} → {};",
                day(&was.start),
                day(&now.start)
            ));
        }
        if was.planned_end != now.planned_end {
            s.push_str(&format!(
                " planned end {} → {};",
                day(&was.planned_end),
                day(&now.planned_end)
            ));
        }
        if was.employer != now.employer {
            s.push_str(&format!(
                " employer {} → {};",
                self.employer_name(was.employer),
                self.employer_name(now.employer)
            ));
        }
        s.trim_end_matches(';').to_string()
    }
}
