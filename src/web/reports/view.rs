//! What a report page shows, ready for its template: headings that sort, the filter
//! form's choices with what is chosen, the pager, and the problems beside their fields.
//! The parts every sortable, paged list shares (`ListView`) serve the enrolment reports
//! and the people list alike, with the same templates (`partials/report_*.html`).
use crate::db::report::{Choice, Choices, ReportPage, ReportRow};
use crate::domain::outcome::Outcome;
use crate::domain::report::{self, Column, Problem, ReportQuery, Sort, SortColumn, PAGE_SIZES};
use crate::domain::status::Status;

use super::Kind;

/// A column heading: its label, the address that sorts by it, and how it sorts now.
pub(crate) struct Heading<C = Column> {
    pub column: C,
    pub key: &'static str,
    pub label: &'static str,
    pub href: String,
    /// `aria-sort` when the list is sorted by this column.
    pub sorted: Option<&'static str>,
    pub number: bool,
}

/// A link of the pager.
pub(crate) struct PageLink {
    pub number: u32,
    pub href: String,
    pub current: bool,
}

/// An option of a select: value, text, chosen.
pub(crate) struct Opt {
    pub value: String,
    pub text: String,
    pub selected: bool,
}

/// A select of the filter form.
pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<Opt>,
    pub error: Option<String>,
}

/// A checkbox of the filter form.
pub struct Check {
    pub name: &'static str,
    pub label: &'static str,
    pub checked: bool,
    pub error: Option<String>,
}

/// A filter that arrives only from a link (a dashboard's bar): shown so it can be
/// seen and removed, and kept in the form as a hidden field.
pub(crate) struct LinkedFilter {
    pub name: &'static str,
    pub value: String,
    pub text: String,
    pub remove_href: String,
}

/// A view of a sortable, paged list as its address holds it: what `ListView` needs to
/// draw the headings, the pager, the filter form's common fields and the CSV link.
pub(crate) trait ListQuery: Sized {
    type Column: SortColumn;
    fn sort(&self) -> Sort<Self::Column>;
    fn page(&self) -> u32;
    fn size(&self) -> u32;
    fn search(&self) -> Option<&str>;
    fn is_filtered(&self) -> bool;
    fn sorted_by(&self, column: Self::Column) -> Self;
    fn at_page(&self, page: u32) -> Self;
    fn with_size(&self, size: u32) -> Self;
    fn to_query_string(&self) -> String;
}

impl ListQuery for ReportQuery {
    type Column = Column;
    fn sort(&self) -> Sort<Column> {
        self.sort
    }
    fn page(&self) -> u32 {
        self.page
    }
    fn size(&self) -> u32 {
        self.size
    }
    fn search(&self) -> Option<&str> {
        self.filters.search.as_deref()
    }
    fn is_filtered(&self) -> bool {
        !self.filters.is_empty()
    }
    fn sorted_by(&self, column: Column) -> Self {
        ReportQuery::sorted_by(self, column)
    }
    fn at_page(&self, page: u32) -> Self {
        ReportQuery::at_page(self, page)
    }
    fn with_size(&self, size: u32) -> Self {
        ReportQuery {
            size,
            ..self.clone()
        }
    }
    fn to_query_string(&self) -> String {
        ReportQuery::to_query_string(self)
    }
}

/// What a list is called and how its form reads.
pub(crate) struct ListWords {
    pub title: &'static str,
    pub path: &'static str,
    /// One row, and many: "enrolment", "enrolments".
    pub noun: (&'static str, &'static str),
    pub search_label: &'static str,
    pub search_hint: &'static str,
    /// The legend over the checkboxes, when the list has any.
    pub checks_legend: &'static str,
}

/// The filter form's own fields, beside the search and the page size every list has.
#[derive(Default)]
pub(crate) struct FormFields {
    pub selects: Vec<Select>,
    pub checks: Vec<Check>,
    pub linked: Vec<LinkedFilter>,
}

/// The pager of a list.
pub(crate) struct Pager {
    pub pages: Vec<Option<PageLink>>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub page_count: u32,
    /// "1–50" of the total, or empty when the page has no rows.
    pub showing: String,
}

/// Everything a sortable, paged list shows beside its rows: the filter form's common
/// fields, the headings, the pager, the problems and the CSV link.
pub(crate) struct ListView<C> {
    pub title: &'static str,
    pub path: &'static str,
    pub noun: (&'static str, &'static str),
    pub total: i64,
    pub headings: Vec<Heading<C>>,
    pub pager: Pager,
    /// The order as hidden fields of the filter form, when it is not the default.
    pub order: Option<(&'static str, &'static str)>,
    pub search: String,
    pub search_label: &'static str,
    pub search_hint: &'static str,
    pub search_error: Option<String>,
    pub selects: Vec<Select>,
    pub checks: Vec<Check>,
    pub checks_legend: &'static str,
    pub linked: Vec<LinkedFilter>,
    pub size_options: Vec<Opt>,
    pub size_error: Option<String>,
    pub page_error: Option<String>,
    pub sort_error: Option<String>,
    pub problems: Vec<Problem>,
    pub csv_href: String,
    pub filtered: bool,
}

/// The message of the problem with `field`, if there is one.
pub(crate) fn message(problems: &[Problem], field: &str) -> Option<String> {
    problems
        .iter()
        .find(|p| p.field == field)
        .map(|p| p.message.clone())
}

/// Where a problem's link in the error summary goes: its field in the form.
pub(crate) fn anchor(field: &str) -> &str {
    match field {
        "sort" | "dir" => "report-table",
        "page" => "report-pager",
        "progress" | "requested" | "issued" => "report-linked",
        other => other,
    }
}

/// `path`, with the query string if there is one.
fn address(path: &str, query: String) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

impl<C: SortColumn> ListView<C> {
    /// The list's common parts for `query`, whose page shows `rows` of `total`; the
    /// filter form's own fields are the caller's.
    pub(crate) fn new<Q: ListQuery<Column = C>>(
        words: ListWords,
        query: &Q,
        columns: &[C],
        (total, rows): (i64, usize),
        mut problems: Vec<Problem>,
        fields: FormFields,
    ) -> ListView<C> {
        let path = words.path;
        let href = |q: &Q| address(path, q.to_query_string());
        let (page, size, sort) = (query.page(), query.size(), query.sort());
        let page_count = report::page_count(u64::try_from(total).unwrap_or(0), size);
        if page > page_count && total > 0 {
            problems.push(Problem {
                field: "page",
                message: if page_count == 1 {
                    format!("There is no page {page}: there is only one.")
                } else {
                    format!("There is no page {page}: there are {page_count} pages.")
                },
            });
        }
        let headings = columns
            .iter()
            .map(|&column| Heading {
                column,
                key: column.key(),
                label: column.label(),
                href: href(&query.sorted_by(column)),
                sorted: (sort.column == column).then(|| sort.direction.aria()),
                number: column.is_number(),
            })
            .collect();
        let pages = report::page_links(page.min(page_count), page_count)
            .into_iter()
            .map(|n| {
                n.map(|number| PageLink {
                    number,
                    href: href(&query.at_page(number)),
                    current: number == page,
                })
            })
            .collect();
        let first = report::offset(page, size) + 1;
        let last = report::offset(page, size) + rows as u64;
        let pager = Pager {
            pages,
            previous: (page > 1 && page <= page_count).then(|| href(&query.at_page(page - 1))),
            next: (page < page_count).then(|| href(&query.at_page(page + 1))),
            page_count,
            showing: if rows == 0 {
                String::new()
            } else {
                format!("{first}–{last}")
            },
        };
        let size_options = PAGE_SIZES
            .iter()
            .map(|&n| Opt {
                value: n.to_string(),
                text: n.to_string(),
                selected: n == size,
            })
            .collect();
        // Every page of the view, whatever page the link was on.
        let every_page = query.at_page(1).with_size(report::DEFAULT_PAGE_SIZE);
        ListView {
            title: words.title,
            path,
            noun: words.noun,
            total,
            headings,
            pager,
            order: (sort != Sort::default()).then(|| (sort.column.key(), sort.direction.key())),
            search: query.search().unwrap_or_default().to_string(),
            search_label: words.search_label,
            search_hint: words.search_hint,
            search_error: message(&problems, "q"),
            selects: fields.selects,
            checks: fields.checks,
            checks_legend: words.checks_legend,
            linked: fields.linked,
            size_options,
            size_error: message(&problems, "size"),
            page_error: message(&problems, "page"),
            sort_error: message(&problems, "sort").or_else(|| message(&problems, "dir")),
            csv_href: address(&format!("{path}.csv"), every_page.to_query_string()),
            filtered: query.is_filtered(),
            problems,
        }
    }

    /// The rows' noun for the total: "1 enrolment", "3 enrolments".
    pub(crate) fn noun(&self) -> &'static str {
        if self.total == 1 {
            self.noun.0
        } else {
            self.noun.1
        }
    }
}

pub struct ReportView {
    pub kind: Kind,
    pub rows: Vec<ReportRow>,
    pub list: ListView<Column>,
}

impl ReportView {
    pub fn new(
        kind: Kind,
        query: ReportQuery,
        problems: Vec<Problem>,
        page: ReportPage,
        choices: Choices,
    ) -> ReportView {
        let path = kind.path();
        let href = |q: &ReportQuery| address(path, q.to_query_string());
        let message = |field: &str| message(&problems, field);
        let f = &query.filters;
        let choice_select = |name, label, list: &[Choice], chosen: Option<uuid::Uuid>| Select {
            name,
            label,
            options: list
                .iter()
                .map(|c| Opt {
                    value: c.id.to_string(),
                    text: c.label.clone(),
                    selected: Some(c.id) == chosen,
                })
                .collect(),
            error: message(name),
        };
        let mut selects = vec![
            choice_select(
                "qualification",
                "Qualification",
                &choices.qualifications,
                f.qualification,
            ),
            choice_select("major", "Major", &choices.majors, f.major),
            Select {
                name: "status",
                label: "Status",
                options: Status::ALL
                    .iter()
                    .map(|s| Opt {
                        value: s.key().into(),
                        text: s.label().into(),
                        selected: f.status == Some(*s),
                    })
                    .collect(),
                error: message("status"),
            },
        ];
        if kind.offers_assessor() {
            selects.push(choice_select(
                "assessor",
                "Assessor",
                &choices.assessors,
                f.assessor,
            ));
        }
        selects.push(choice_select(
            "trainee",
            "Trainee assessor",
            &choices.trainees,
            f.trainee,
        ));
        if kind.offers_iqa() {
            selects.push(choice_select("iqa", "IQA", &choices.iqas, f.iqa));
        }
        let outcome_key = f.outcome.map(|o| o.key());
        selects.push(Select {
            name: "outcome",
            label: "Latest audit",
            options: std::iter::once(("none", "Not audited yet"))
                .chain(Outcome::ALL.iter().map(|o| (o.key(), o.label())))
                .map(|(value, text)| Opt {
                    value: value.into(),
                    text: text.into(),
                    selected: outcome_key == Some(value),
                })
                .collect(),
            error: message("outcome"),
        });
        let checks = [
            ("claims", "Has claims to review", f.has_claims),
            (
                "countersign",
                "Awaiting countersignature",
                f.awaiting_countersignature,
            ),
            ("actions", "Has open IQA actions", f.has_open_actions),
            ("stale", "No activity for 30 days", f.stale),
            ("otj", "Behind on off-the-job hours", f.behind_otj),
            ("review", "Progress review overdue", f.review_overdue),
            (
                "unsigned",
                "Review unsigned after 14 days",
                f.review_unsigned,
            ),
        ]
        .into_iter()
        .map(|(name, label, checked)| Check {
            name,
            label,
            checked,
            error: message(name),
        })
        .collect();
        let mut linked = Vec::new();
        let without = |change: &dyn Fn(&mut ReportQuery)| {
            let mut q = query.at_page(1);
            change(&mut q);
            href(&q)
        };
        if let Some(b) = f.progress {
            linked.push(LinkedFilter {
                name: "progress",
                value: b.key(),
                text: format!("Confirmed progress {}", b.label()),
                remove_href: without(&|q| q.filters.progress = None),
            });
        }
        if let Some(m) = f.requested {
            linked.push(LinkedFilter {
                name: "requested",
                value: m.key(),
                text: format!("Credential requested in {}", m.label()),
                remove_href: without(&|q| q.filters.requested = None),
            });
        }
        if let Some(m) = f.issued {
            linked.push(LinkedFilter {
                name: "issued",
                value: m.key(),
                text: format!("Credential issued in {}", m.label()),
                remove_href: without(&|q| q.filters.issued = None),
            });
        }
        let words = ListWords {
            title: kind.title(),
            path,
            noun: ("enrolment", "enrolments"),
            search_label: "Search learners",
            search_hint: "Part of a name or email address",
            checks_legend: "Show only enrolments that",
        };
        let fields = FormFields {
            selects,
            checks,
            linked,
        };
        let list = ListView::new(
            words,
            &query,
            &kind.columns(),
            (page.total, page.rows.len()),
            problems,
            fields,
        );
        ReportView {
            kind,
            rows: page.rows,
            list,
        }
    }
}
