//! Reading an uploaded file into rows: its encoding, its delimiter, and which of its
//! columns mean what. Everything that makes the whole file unusable is a `FileProblem`;
//! what is wrong with one row is the planner's business.
use std::collections::HashMap;

/// The most rows a file may carry (issue 12): bigger files are refused before any row is
/// planned, so one upload cannot hold the server.
pub const MAX_ROWS: usize = 100_000;

/// The columns the importer understands. A file's headers are matched to these with case,
/// spaces, underscores, hyphens and dots ignored, so "Learner Email", "learner_email"
/// and "LEARNER-EMAIL" are one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Col {
    PersonId,
    Name,
    Email,
    Kind,
    Roles,
    RoleKeys,
    EnrolmentId,
    LearnerEmail,
    QualificationCode,
    QualificationVersion,
    MajorCode,
    AssessorEmail,
    AssessorId,
    TraineeEmail,
    TraineeId,
    IqaEmail,
    IqaId,
    StartDate,
    PlannedEndDate,
    Employer,
}

impl Col {
    pub const ALL: [Col; 20] = [
        Col::PersonId,
        Col::Name,
        Col::Email,
        Col::Kind,
        Col::Roles,
        Col::RoleKeys,
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

    /// The header the template and the messages use.
    pub fn header(self) -> &'static str {
        self.names()[0]
    }

    /// Every header taken for this column, normalised; the first is the template's.
    /// The people and enrolment reports' CSV headers are among them, so those files
    /// come back as they went out.
    fn names(self) -> &'static [&'static str] {
        match self {
            Col::PersonId => &["person_id"],
            Col::Name => &["name", "full_name", "display_name"],
            Col::Email => &["email", "email_address"],
            Col::Kind => &["kind"],
            Col::Roles => &["roles", "role"],
            Col::RoleKeys => &["role_keys"],
            Col::EnrolmentId => &["enrolment_id"],
            Col::LearnerEmail => &["learner_email"],
            Col::QualificationCode => &["qualification_code", "qualification"],
            Col::QualificationVersion => &["qualification_version", "version"],
            Col::MajorCode => &["major_code", "major"],
            Col::AssessorEmail => &["assessor_email"],
            Col::AssessorId => &["assessor_id"],
            Col::TraineeEmail => &["trainee_assessor_email", "trainee_email"],
            Col::TraineeId => &["trainee_assessor_id"],
            Col::IqaEmail => &["iqa_email"],
            Col::IqaId => &["iqa_id"],
            Col::StartDate => &["start_date", "start"],
            Col::PlannedEndDate => &["planned_end_date", "end_date", "planned_end"],
            Col::Employer => &["employer", "employer_name"],
        }
    }

    fn from_header(header: &str) -> Option<Col> {
        let key = normalise(header);
        Col::ALL
            .into_iter()
            .find(|c| c.names().iter().any(|n| normalise(n) == key))
    }
}

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Why a whole file cannot be imported. Nothing is planned or written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    Empty,
    /// Saved as UTF-16 ("Unicode text" in Excel).
    Utf16,
    /// Not UTF-8 from this line on (Excel's plain "CSV" saves in the Windows code page).
    NotUtf8 {
        line: usize,
    },
    TooManyRows,
    /// Two headers mean the same column.
    SameColumnTwice {
        first: String,
        second: String,
    },
    /// Neither people nor enrolments: none of the columns that say which.
    NeitherPeopleNorEnrolments,
    /// An enrolment file without a column it cannot do without.
    MissingColumn {
        column: &'static str,
        why: &'static str,
    },
    /// The CSV itself is broken (an unclosed quote, say).
    Malformed {
        line: usize,
        why: String,
    },
}

impl FileProblem {
    pub fn message(&self) -> String {
        match self {
            FileProblem::Empty => "The file is empty: it needs a header row and at least one row under it".into(),
            FileProblem::Utf16 => "The file is saved as Unicode text (UTF-16). In Excel, save it with \"Save as type: CSV UTF-8 (Comma delimited)\" and upload that".into(),
            FileProblem::NotUtf8 { line } => format!(
                "The file is not UTF-8 text (line {line} has characters in another encoding). In Excel, save it with \"Save as type: CSV UTF-8 (Comma delimited)\" and upload that"
            ),
            FileProblem::TooManyRows => format!(
                "The file has more than {} rows, the most one upload may carry. Split it into smaller files",
                crate::domain::text::thousands(MAX_ROWS as i64)
            ),
            FileProblem::SameColumnTwice { first, second } => format!(
                "The columns \"{first}\" and \"{second}\" mean the same thing; keep one of them"
            ),
            FileProblem::NeitherPeopleNorEnrolments => "The file has neither people (name and email columns) nor enrolments (qualification_code and major_code columns). Start from the template".into(),
            FileProblem::MissingColumn { column, why } => format!("The file has no {column} column: {why}"),
            FileProblem::Malformed { line, why } => format!("Line {line} is not valid CSV: {why}"),
        }
    }
}

/// One row of the file: its line number (as a spreadsheet shows it, the header being
/// line 1) and its cells, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    cells: Vec<String>,
}

/// A file read: what each known column is called in it, and its rows.
#[derive(Debug, Clone)]
pub struct Sheet {
    headers: HashMap<Col, (usize, String)>,
    pub rows: Vec<Record>,
}

impl Sheet {
    pub fn has(&self, col: Col) -> bool {
        self.headers.contains_key(&col)
    }

    /// The header as the file spells it, for messages.
    pub fn header(&self, col: Col) -> String {
        self.headers
            .get(&col)
            .map(|(_, h)| h.clone())
            .unwrap_or_else(|| col.header().to_string())
    }

    /// The cell, trimmed; "" when blank or when the file has no such column.
    pub fn cell<'a>(&self, row: &'a Record, col: Col) -> &'a str {
        self.headers
            .get(&col)
            .and_then(|(i, _)| row.cells.get(*i))
            .map(|c| c.as_str())
            .unwrap_or("")
    }

    /// Every cell of the row as written, for finding repeated rows.
    pub fn cells<'a>(&self, row: &'a Record) -> &'a [String] {
        &row.cells
    }

    /// Whether rows of this file carry a person (a name and an email column).
    pub fn has_people(&self) -> bool {
        self.has(Col::Name) && self.has(Col::Email)
    }

    /// Whether rows of this file carry an enrolment.
    pub fn has_enrolments(&self) -> bool {
        self.has(Col::QualificationCode) || self.has(Col::EnrolmentId)
    }
}

/// Reads `bytes` as an uploaded CSV: UTF-8 with or without a byte-order mark, separated by
/// commas, semicolons or tabs (whichever the header row uses), blank rows skipped.
pub fn read(bytes: &[u8]) -> Result<Sheet, FileProblem> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(FileProblem::Utf16);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| FileProblem::NotUtf8 {
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
    })?;
    if text.trim().is_empty() {
        return Err(FileProblem::Empty);
    }
    if let Some(line) = unclosed_quote(text) {
        return Err(FileProblem::Malformed {
            line,
            why: "a quote opened here is never closed".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(malformed(&e)),
        None => return Err(FileProblem::Empty),
    };
    let mut headers: HashMap<Col, (usize, String)> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        if let Some(col) = Col::from_header(h) {
            if let Some((_, first)) = headers.get(&col) {
                return Err(FileProblem::SameColumnTwice {
                    first: first.clone(),
                    second: h.to_string(),
                });
            }
            headers.insert(col, (i, h.to_string()));
        }
    }
    let mut rows = Vec::new();
    let mut lines = LineCounter::default();
    for record in records {
        let record = record.map_err(|e| malformed(&e))?;
        let line = lines.at(text, record.position().map_or(0, |p| p.byte() as usize));
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileProblem::TooManyRows);
        }
        rows.push(Record {
            line,
            cells: record.iter().map(|c| c.trim().to_string()).collect(),
        });
    }
    let sheet = Sheet { headers, rows };
    columns_needed(&sheet)?;
    if sheet.rows.is_empty() {
        return Err(FileProblem::Empty);
    }
    Ok(sheet)
}

/// The line a record starts on, as an editor numbers lines (`\n`, `\r\n` or a lone
/// `\r` ends one). The CSV reader's own line numbers count a blank line skipped before
/// a record as that record's, so the count is kept here, from the records' byte offsets.
#[derive(Default)]
struct LineCounter {
    /// Bytes counted so far, and the line number at that offset (less one).
    counted: usize,
    breaks: usize,
}

impl LineCounter {
    fn at(&mut self, text: &str, offset: usize) -> usize {
        let bytes = text.as_bytes();
        // The record's own first byte: past any blank lines the reader skipped.
        let mut start = offset.min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.counted {
            let span = &bytes[self.counted..start];
            self.breaks += span
                .iter()
                .enumerate()
                .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && span.get(i + 1) != Some(&b'\n')))
                .count();
            self.counted = start;
        }
        self.breaks + 1
    }
}

fn malformed(e: &csv::Error) -> FileProblem {
    let line = e.position().map_or(0, |p| p.line() as usize);
    let why = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".to_string(),
        _ => "a quote is not closed, or a cell is broken".to_string(),
    };
    FileProblem::Malformed { line, why }
}

/// The line of a quote that is never closed: the CSV reader would take the rest of the
/// file into one cell.
fn unclosed_quote(text: &str) -> Option<usize> {
    let (mut line, mut opened) = (1, None);
    for c in text.chars() {
        match c {
            '\n' => line += 1,
            '"' => opened = if opened.is_some() { None } else { Some(line) },
            _ => {}
        }
    }
    opened
}

/// The header row's separator: the one of `,` `;` and tab it uses most (Excel in some
/// countries saves with semicolons).
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| (count(*d as char), *d == b','))
        .unwrap_or(b',')
}

/// The columns without which the file's kind of row cannot be read.
fn columns_needed(sheet: &Sheet) -> Result<(), FileProblem> {
    if !sheet.has_people() && !sheet.has_enrolments() {
        if sheet.has(Col::Email) && !sheet.has(Col::Name) {
            return Err(FileProblem::MissingColumn {
                column: "name",
                why: "a file of people needs each person's name beside their email",
            });
        }
        return Err(FileProblem::NeitherPeopleNorEnrolments);
    }
    if sheet.has(Col::QualificationCode) {
        let missing = |column, why| Err(FileProblem::MissingColumn { column, why });
        if !sheet.has(Col::MajorCode) {
            return missing(
                "major_code",
                "each enrolment needs the code of its major (pathway)",
            );
        }
        if !sheet.has(Col::LearnerEmail) && !sheet.has(Col::Email) {
            return missing("learner_email", "each enrolment needs its learner's email");
        }
        if !sheet.has(Col::AssessorEmail) && !sheet.has(Col::AssessorId) {
            return missing(
                "assessor_email",
                "each enrolment needs its assessor's email",
            );
        }
    }
    Ok(())
}
