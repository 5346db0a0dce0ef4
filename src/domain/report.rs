//! The enrolment reports of SPEC §3 (an assessor's caseload, an IQA's sample, an
//! admin's centre): which rows, in which order, which page. Read from a URL's query
//! string and written back to one, so that a link or a reload shows the same view; a
//! value that cannot be read is reported beside its field and left out, never a failure.
use time::{Date, Month as CalendarMonth};
use uuid::Uuid;

use super::outcome::Outcome;
use super::status::Status;

/// A column of the report, which is also what it can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Learner,
    Qualification,
    Major,
    Assessor,
    Status,
    Progress,
    Units,
    Claims,
    Countersign,
    Actions,
    Outcome,
    Activity,
}

impl Column {
    pub const ALL: [Column; 12] = [
        Column::Learner,
        Column::Qualification,
        Column::Major,
        Column::Assessor,
        Column::Status,
        Column::Progress,
        Column::Units,
        Column::Claims,
        Column::Countersign,
        Column::Actions,
        Column::Outcome,
        Column::Activity,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Column::Learner => "learner",
            Column::Qualification => "qualification",
            Column::Major => "major",
            Column::Assessor => "assessor",
            Column::Status => "status",
            Column::Progress => "progress",
            Column::Units => "units",
            Column::Claims => "claims",
            Column::Countersign => "countersign",
            Column::Actions => "actions",
            Column::Outcome => "outcome",
            Column::Activity => "activity",
        }
    }

    pub fn from_key(key: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.key() == key)
    }

    /// The column's heading.
    pub fn label(self) -> &'static str {
        match self {
            Column::Learner => "Learner",
            Column::Qualification => "Qualification",
            Column::Major => "Major",
            Column::Assessor => "Assessor",
            Column::Status => "Status",
            Column::Progress => "Confirmed progress",
            Column::Units => "Units achieved",
            Column::Claims => "Claims to review",
            Column::Countersign => "Awaiting countersignature",
            Column::Actions => "Open IQA actions",
            Column::Outcome => "Latest audit",
            Column::Activity => "Last activity",
        }
    }

    /// Figures read best largest first; names, dates of old activity and the status
    /// pipeline from the start.
    pub(crate) fn natural_direction(self) -> Direction {
        match self {
            Column::Progress
            | Column::Units
            | Column::Claims
            | Column::Countersign
            | Column::Actions
            | Column::Activity => Direction::Descending,
            _ => Direction::Ascending,
        }
    }

    pub(crate) fn is_number(self) -> bool {
        matches!(
            self,
            Column::Progress
                | Column::Units
                | Column::Claims
                | Column::Countersign
                | Column::Actions
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Ascending,
    Descending,
}

impl Direction {
    pub fn key(self) -> &'static str {
        match self {
            Direction::Ascending => "asc",
            Direction::Descending => "desc",
        }
    }

    pub(crate) fn flip(self) -> Direction {
        match self {
            Direction::Ascending => Direction::Descending,
            Direction::Descending => Direction::Ascending,
        }
    }

    /// The value of `aria-sort` for the column sorted this way.
    pub fn aria(self) -> &'static str {
        match self {
            Direction::Ascending => "ascending",
            Direction::Descending => "descending",
        }
    }
}

/// A column a sortable list can be ordered by: the enrolment report's, the people
/// list's. Each list reads and writes its order and page the same way (`ListReader`).
pub trait SortColumn: Copy + PartialEq + 'static {
    /// The list's columns, in the table's order.
    const ALL: &'static [Self];
    /// The order of a list nobody has sorted.
    const DEFAULT: Self;
    fn key(self) -> &'static str;
    fn label(self) -> &'static str;
    fn natural_direction(self) -> Direction;
    fn is_number(self) -> bool;
    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.key() == key)
    }
}

impl SortColumn for Column {
    const ALL: &'static [Column] = &Column::ALL;
    const DEFAULT: Column = Column::Learner;
    fn key(self) -> &'static str {
        Column::key(self)
    }
    fn label(self) -> &'static str {
        Column::label(self)
    }
    fn natural_direction(self) -> Direction {
        Column::natural_direction(self)
    }
    fn is_number(self) -> bool {
        Column::is_number(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<C = Column> {
    pub column: C,
    pub direction: Direction,
}

impl<C: SortColumn> Default for Sort<C> {
    fn default() -> Self {
        Sort {
            column: C::DEFAULT,
            direction: Direction::Ascending,
        }
    }
}

impl<C: SortColumn> Sort<C> {
    /// Sorted by `column`: the other way if already sorted by it, else in the column's
    /// natural direction.
    pub(crate) fn by(self, column: C) -> Sort<C> {
        let direction = if self.column == column {
            self.direction.flip()
        } else {
            column.natural_direction()
        };
        Sort { column, direction }
    }
}

/// The page sizes offered; 50 unless chosen.
pub(crate) const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];
pub(crate) const DEFAULT_PAGE_SIZE: u32 = 50;

/// The latest audit outcome to filter by, or enrolments never audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeFilter {
    Is(Outcome),
    NeverAudited,
}

impl OutcomeFilter {
    pub fn key(self) -> &'static str {
        match self {
            OutcomeFilter::Is(o) => o.key(),
            OutcomeFilter::NeverAudited => "none",
        }
    }
}

/// A band of whole percents of confirmed progress, `from` to `to` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub from: u32,
    pub to: u32,
}

impl Band {
    /// The bands the dashboard draws: 0–9 … 90–99, and 100.
    pub(crate) fn deciles() -> Vec<Band> {
        (0..10)
            .map(|d| Band {
                from: d * 10,
                to: d * 10 + 9,
            })
            .chain(std::iter::once(Band { from: 100, to: 100 }))
            .collect()
    }

    pub fn key(self) -> String {
        if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{}-{}", self.from, self.to)
        }
    }

    pub fn label(self) -> String {
        if self.from == self.to {
            format!("{}%", self.from)
        } else {
            format!("{}–{}%", self.from, self.to)
        }
    }

    pub fn contains(self, percent: u32) -> bool {
        (self.from..=self.to).contains(&percent)
    }

    fn parse(text: &str) -> Option<Band> {
        let (from, to) = match text.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let n = text.trim().parse().ok()?;
                (n, n)
            }
        };
        (from <= to && to <= 100).then_some(Band { from, to })
    }
}

/// A calendar month, as the credential charts count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: CalendarMonth,
}

impl Month {
    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub(crate) fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    /// The first day of the month after.
    pub fn end(self) -> Date {
        self.next().first_day()
    }

    pub fn next(self) -> Month {
        let month = self.month.next();
        Month {
            year: if month == CalendarMonth::January {
                self.year + 1
            } else {
                self.year
            },
            month,
        }
    }

    pub(crate) fn previous(self) -> Month {
        let month = self.month.previous();
        Month {
            year: if month == CalendarMonth::December {
                self.year - 1
            } else {
                self.year
            },
            month,
        }
    }

    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month as u8)
    }

    /// "Nov 2026".
    pub fn label(self) -> String {
        const NAMES: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!("{} {}", NAMES[usize::from(self.month as u8 - 1)], self.year)
    }

    /// "Nov 26", where there is little room.
    pub(crate) fn short_label(self) -> String {
        let long = self.label();
        format!("{} {:02}", &long[..3], self.year.rem_euclid(100))
    }

    fn parse(text: &str) -> Option<Month> {
        let (y, m) = text.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        let month = CalendarMonth::try_from(m.parse::<u8>().ok()?).ok()?;
        (1900..=9999)
            .contains(&year)
            .then_some(Month { year, month })
    }
}

/// Which enrolments the report shows. Every filter narrows; none widens what the viewer
/// may see (the viewer's scope is applied apart, always).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Words in the learner's name or email.
    pub search: Option<String>,
    pub qualification: Option<Uuid>,
    pub major: Option<Uuid>,
    pub status: Option<Status>,
    pub assessor: Option<Uuid>,
    pub trainee: Option<Uuid>,
    pub iqa: Option<Uuid>,
    pub outcome: Option<OutcomeFilter>,
    /// No activity for 30 days.
    pub stale: bool,
    pub has_claims: bool,
    pub awaiting_countersignature: bool,
    pub has_open_actions: bool,
    /// Apprenticeships (issue 14): behind on off-the-job hours by the centre's margin, a
    /// progress review overdue, a review held over 14 days ago not signed by all three.
    pub behind_otj: bool,
    pub review_overdue: bool,
    pub review_unsigned: bool,
    pub progress: Option<Band>,
    /// A credential requested, or issued, in this month.
    pub requested: Option<Month>,
    pub issued: Option<Month>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

/// One view of a report: filters, order and page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub filters: Filters,
    pub sort: Sort,
    /// 1-based.
    pub page: u32,
    pub size: u32,
}

impl Default for ReportQuery {
    fn default() -> Self {
        ReportQuery {
            filters: Filters::default(),
            sort: Sort::default(),
            page: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// A value the report could not use, with what to say beside its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The query-string name of the field.
    pub field: &'static str,
    pub message: String,
}

/// The longest search the report takes; longer input is cut, and said so.
pub(crate) const SEARCH_MAX_CHARS: usize = 100;

impl ReportQuery {
    /// Reads a query string's pairs. Unknown names are ignored (a link may carry others);
    /// a known name with a value that cannot be used is left out and reported.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (ReportQuery, Vec<Problem>) {
        let mut q = ReportQuery::default();
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, message: String| {
            problems.push(Problem { field, message });
        };
        let mut list = ListReader::<Column>::default();
        for (name, value) in pairs {
            let value = value.trim();
            let f = &mut q.filters;
            match name {
                "q" => {
                    if let Some(text) = read_search(value, &mut problem) {
                        f.search = Some(text);
                    }
                }
                "qualification" => f.qualification = id(value, "qualification", &mut problem),
                "major" => f.major = id(value, "major", &mut problem),
                "assessor" => f.assessor = id(value, "assessor", &mut problem),
                "trainee" => f.trainee = id(value, "trainee", &mut problem),
                "iqa" => f.iqa = id(value, "iqa", &mut problem),
                "status" if !value.is_empty() => match Status::from_key(value) {
                    Some(s) => f.status = Some(s),
                    None => problem("status", format!("“{}” is not a status.", shorten(value))),
                },
                "outcome" if !value.is_empty() => {
                    f.outcome = match value {
                        "none" => Some(OutcomeFilter::NeverAudited),
                        key => match Outcome::from_key(key) {
                            Some(o) => Some(OutcomeFilter::Is(o)),
                            None => {
                                problem(
                                    "outcome",
                                    format!("“{}” is not an audit outcome.", shorten(value)),
                                );
                                None
                            }
                        },
                    }
                }
                "stale" => f.stale = yes(value, "stale", &mut problem),
                "claims" => f.has_claims = yes(value, "claims", &mut problem),
                "countersign" => {
                    f.awaiting_countersignature = yes(value, "countersign", &mut problem)
                }
                "actions" => f.has_open_actions = yes(value, "actions", &mut problem),
                "otj" => f.behind_otj = yes(value, "otj", &mut problem),
                "review" => f.review_overdue = yes(value, "review", &mut problem),
                "unsigned" => f.review_unsigned = yes(value, "unsigned", &mut problem),
                "progress" if !value.is_empty() => match Band::parse(value) {
                    Some(b) => f.progress = Some(b),
                    None => problem(
                        "progress",
                        "Confirmed progress is a percent from 0 to 100, or a range such as 40-49."
                            .into(),
                    ),
                },
                "requested" | "issued" if !value.is_empty() => match Month::parse(value) {
                    Some(m) if name == "requested" => f.requested = Some(m),
                    Some(m) => f.issued = Some(m),
                    None => problem(
                        if name == "requested" {
                            "requested"
                        } else {
                            "issued"
                        },
                        "A month is written as year and month, such as 2026-11.".into(),
                    ),
                },
                _ => {
                    list.read(name, value, &mut problem);
                }
            }
        }
        (q.sort, q.page, q.size) = list.finish();
        (q, problems)
    }

    /// The query string that shows this view (without a leading `?`): only what differs
    /// from the defaults, in a fixed order, so equal views have equal addresses.
    pub(crate) fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        let f = &self.filters;
        if let Some(s) = &f.search {
            out.append_pair("q", s);
        }
        let ids = [
            ("qualification", f.qualification),
            ("major", f.major),
            ("assessor", f.assessor),
            ("trainee", f.trainee),
            ("iqa", f.iqa),
        ];
        for (name, value) in ids {
            if let Some(v) = value {
                out.append_pair(name, &v.to_string());
            }
        }
        if let Some(s) = f.status {
            out.append_pair("status", s.key());
        }
        if let Some(o) = f.outcome {
            out.append_pair("outcome", o.key());
        }
        for (name, on) in [
            ("stale", f.stale),
            ("claims", f.has_claims),
            ("countersign", f.awaiting_countersignature),
            ("actions", f.has_open_actions),
            ("otj", f.behind_otj),
            ("review", f.review_overdue),
            ("unsigned", f.review_unsigned),
        ] {
            if on {
                out.append_pair(name, "1");
            }
        }
        if let Some(b) = f.progress {
            out.append_pair("progress", &b.key());
        }
        if let Some(m) = f.requested {
            out.append_pair("requested", &m.key());
        }
        if let Some(m) = f.issued {
            out.append_pair("issued", &m.key());
        }
        append_order_and_page(&mut out, self.sort, self.page, self.size);
        out.finish()
    }

    /// The same view sorted by `column`: the other way if it is already sorted by it,
    /// else in the column's natural direction; back to the first page.
    pub(crate) fn sorted_by(&self, column: Column) -> ReportQuery {
        ReportQuery {
            sort: self.sort.by(column),
            page: 1,
            ..self.clone()
        }
    }

    pub(crate) fn at_page(&self, page: u32) -> ReportQuery {
        ReportQuery {
            page,
            ..self.clone()
        }
    }

    /// Rows to skip for this page.
    pub(crate) fn offset(&self) -> u64 {
        offset(self.page, self.size)
    }
}

/// Rows to skip for page `page` (1-based) of `size` rows.
pub(crate) fn offset(page: u32, size: u32) -> u64 {
    u64::from(page.saturating_sub(1)) * u64::from(size)
}

/// The order and page every sortable, paged list reads from its address beside its own
/// filters (`sort`, `dir`, `page`, `size`), leniently: a value that cannot be used is
/// reported and the default kept.
pub(crate) struct ListReader<C> {
    column: C,
    direction: Option<Direction>,
    page: u32,
    size: u32,
}

impl<C: SortColumn> Default for ListReader<C> {
    fn default() -> Self {
        ListReader {
            column: C::DEFAULT,
            direction: None,
            page: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl<C: SortColumn> ListReader<C> {
    /// Reads the pair if its name is one of the four; any other is left alone.
    pub(crate) fn read(
        &mut self,
        name: &str,
        value: &str,
        problem: &mut impl FnMut(&'static str, String),
    ) {
        if value.is_empty() {
            return;
        }
        match name {
            "sort" => match C::from_key(value) {
                Some(c) => self.column = c,
                None => problem(
                    "sort",
                    format!(
                        "There is no column “{}” to sort by; sorted by {} instead.",
                        shorten(value),
                        C::DEFAULT.label().to_lowercase()
                    ),
                ),
            },
            "dir" => match value {
                "asc" => self.direction = Some(Direction::Ascending),
                "desc" => self.direction = Some(Direction::Descending),
                _ => problem("dir", "The order is asc or desc.".into()),
            },
            "page" => match value.parse::<u32>() {
                Ok(n) if n >= 1 => self.page = n,
                _ => problem(
                    "page",
                    "The page is a whole number from 1; showing page 1.".into(),
                ),
            },
            "size" => match value.parse::<u32>() {
                Ok(n) if PAGE_SIZES.contains(&n) => self.size = n,
                _ => problem(
                    "size",
                    format!("Rows per page are 25, 50, 100 or 200; showing {DEFAULT_PAGE_SIZE}."),
                ),
            },
            _ => {}
        }
    }

    /// The order (the column's natural direction unless one was given), page and size.
    pub(crate) fn finish(self) -> (Sort<C>, u32, u32) {
        let sort = Sort {
            column: self.column,
            direction: self.direction.unwrap_or(self.column.natural_direction()),
        };
        (sort, self.page, self.size)
    }
}

/// Writes the order and page back, only where they differ from the defaults.
pub(crate) fn append_order_and_page<C: SortColumn>(
    out: &mut form_urlencoded::Serializer<'_, String>,
    sort: Sort<C>,
    page: u32,
    size: u32,
) {
    if sort != Sort::default() {
        out.append_pair("sort", sort.column.key());
    }
    if sort.direction != sort.column.natural_direction() {
        out.append_pair("dir", sort.direction.key());
    }
    if size != DEFAULT_PAGE_SIZE {
        out.append_pair("size", &size.to_string());
    }
    if page != 1 {
        out.append_pair("page", &page.to_string());
    }
}

/// A search as typed: control characters (a NUL among them) dropped, cut at
/// `SEARCH_MAX_CHARS` (and said so); None when nothing is left.
pub(crate) fn read_search(
    value: &str,
    problem: &mut impl FnMut(&'static str, String),
) -> Option<String> {
    let typed: String = value.chars().filter(|c| !c.is_control()).collect();
    let typed = typed.trim();
    let mut text: String = typed.chars().take(SEARCH_MAX_CHARS).collect();
    if text.len() < typed.len() {
        problem(
            "q",
            format!("Search uses the first {SEARCH_MAX_CHARS} characters."),
        );
        text = text.trim().to_string();
    }
    (!text.is_empty()).then_some(text)
}

/// The pages of a report of `total` rows, `size` a page.
pub(crate) fn page_count(total: u64, size: u32) -> u32 {
    u32::try_from(total.div_ceil(u64::from(size.max(1))))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// The page numbers to link to around `current`: the first, the last, and two either
/// side, with `None` where numbers are left out.
pub(crate) fn page_links(current: u32, pages: u32) -> Vec<Option<u32>> {
    let mut out = Vec::new();
    let mut last = 0;
    for n in 1..=pages {
        let near = n + 2 >= current && n <= current + 2;
        if n == 1 || n == pages || near {
            if n > last + 1 {
                out.push(None);
            }
            out.push(Some(n));
            last = n;
        }
    }
    out
}

pub(crate) fn id(
    value: &str,
    field: &'static str,
    problem: &mut impl FnMut(&'static str, String),
) -> Option<Uuid> {
    if value.is_empty() {
        return None;
    }
    match Uuid::parse_str(value) {
        Ok(id) => Some(id),
        Err(_) => {
            problem(
                field,
                format!("“{}” is not one of the choices.", shorten(value)),
            );
            None
        }
    }
}

fn yes(value: &str, field: &'static str, problem: &mut impl FnMut(&'static str, String)) -> bool {
    match value {
        "1" | "on" | "true" | "yes" => true,
        "" | "0" | "off" | "false" | "no" => false,
        _ => {
            problem(field, "This filter is on or off.".into());
            false
        }
    }
}

/// A user's text quoted back in a message, cut short.
pub(crate) fn shorten(value: &str) -> String {
    let cut: String = value.chars().take(40).collect();
    if cut.len() < value.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
