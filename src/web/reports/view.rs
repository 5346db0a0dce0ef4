//! What a report page shows, ready for its template: headings that sort, the filter
//! form's choices with what is chosen, the pager, and the problems beside their fields.
use crate::db::report::{Choice, Choices, ReportPage, ReportRow};
use crate::domain::outcome::Outcome;
use crate::domain::report::{self, Column, Problem, ReportQuery, PAGE_SIZES};
use crate::domain::status::Status;

use super::Kind;

/// A column heading: its label, the address that sorts by it, and how it sorts now.
pub(crate) struct Heading {
    pub column: Column,
    pub label: &'static str,
    pub href: String,
    /// `aria-sort` when the report is sorted by this column.
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

pub struct ReportView {
    pub kind: Kind,
    pub title: &'static str,
    pub path: &'static str,
    pub query: ReportQuery,
    pub rows: Vec<ReportRow>,
    pub total: i64,
    /// "1–50" of the total, or empty when the page has no rows.
    pub showing: String,
    pub headings: Vec<Heading>,
    pub pages: Vec<Option<PageLink>>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub page_count: u32,
    pub selects: Vec<Select>,
    pub checks: Vec<Check>,
    pub linked: Vec<LinkedFilter>,
    pub search: String,
    pub search_error: Option<String>,
    pub size_options: Vec<Opt>,
    pub size_error: Option<String>,
    pub page_error: Option<String>,
    pub sort_error: Option<String>,
    pub problems: Vec<Problem>,
    pub csv_href: String,
    pub filtered: bool,
}

impl ReportView {
    pub fn new(
        kind: Kind,
        query: ReportQuery,
        mut problems: Vec<Problem>,
        page: ReportPage,
        choices: Choices,
    ) -> ReportView {
        let path = kind.path();
        let href = |q: &ReportQuery| {
            let s = q.to_query_string();
            if s.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{s}")
            }
        };
        let total = u64::try_from(page.total).unwrap_or(0);
        let page_count = report::page_count(total, query.size);
        if query.page > page_count && total > 0 {
            problems.push(Problem {
                field: "page",
                message: format!(
                    "There is no page {}: the report has {page_count} page{}.",
                    query.page,
                    if page_count == 1 { "" } else { "s" }
                ),
            });
        }
        let message = |field: &str| {
            problems
                .iter()
                .find(|p| p.field == field)
                .map(|p| p.message.clone())
        };
        let headings = kind
            .columns()
            .into_iter()
            .map(|column| Heading {
                column,
                label: column.label(),
                href: href(&query.sorted_by(column)),
                sorted: (query.sort.column == column).then(|| query.sort.direction.aria()),
                number: column.is_number(),
            })
            .collect();
        let pages = report::page_links(query.page.min(page_count), page_count)
            .into_iter()
            .map(|n| {
                n.map(|number| PageLink {
                    number,
                    href: href(&query.at_page(number)),
                    current: number == query.page,
                })
            })
            .collect();
        let first = query.offset() + 1;
        let last = query.offset() + page.rows.len() as u64;
        let showing = if page.rows.is_empty() {
            String::new()
        } else {
            format!("{first}–{last}")
        };
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
        let size_options = PAGE_SIZES
            .iter()
            .map(|&n| Opt {
                value: n.to_string(),
                text: n.to_string(),
                selected: n == query.size,
            })
            .collect();
        let csv_href = {
            let mut q = query.at_page(1);
            q.size = report::DEFAULT_PAGE_SIZE;
            let s = q.to_query_string();
            let csv_path = format!("{path}.csv");
            if s.is_empty() {
                csv_path
            } else {
                format!("{csv_path}?{s}")
            }
        };
        let previous = (query.page > 1 && query.page <= page_count)
            .then(|| href(&query.at_page(query.page - 1)));
        let next = (query.page < page_count).then(|| href(&query.at_page(query.page + 1)));
        ReportView {
            kind,
            title: kind.title(),
            path,
            search: f.search.clone().unwrap_or_default(),
            search_error: message("q"),
            size_error: message("size"),
            page_error: message("page"),
            sort_error: message("sort").or_else(|| message("dir")),
            filtered: !f.is_empty(),
            rows: page.rows,
            total: page.total,
            showing,
            headings,
            pages,
            previous,
            next,
            page_count,
            selects,
            checks,
            linked,
            size_options,
            csv_href,
            problems,
            query,
        }
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

    pub(crate) fn noun(&self) -> &'static str {
        if self.total == 1 {
            "enrolment"
        } else {
            "enrolments"
        }
    }
}
