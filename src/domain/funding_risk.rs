//! The funding-risk report (issue 14, point 5): an admin's list of the centre's
//! apprenticeships at risk — behind on off-the-job hours, a progress review overdue or
//! unsigned, a break in learning — read from a URL's query string and written back to
//! one, as the other reports are (`domain::report`, whose order, paging and search
//! reading it shares).
use uuid::Uuid;

use super::report::{
    append_order_and_page, id, offset, read_search, shorten, Direction, ListReader, Problem, Sort,
    SortColumn, DEFAULT_PAGE_SIZE,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RiskColumn {
    Learner,
    Assessor,
    /// Approved OTJ hours.
    Approved,
    /// Behind on OTJ since.
    Behind,
    /// The next review's due date.
    ReviewDue,
    /// The oldest review not signed by all three.
    Unsigned,
    /// The planned end pushed out by breaks.
    End,
}

impl SortColumn for RiskColumn {
    const ALL: &'static [RiskColumn] = &[
        RiskColumn::Learner,
        RiskColumn::Assessor,
        RiskColumn::Approved,
        RiskColumn::Behind,
        RiskColumn::ReviewDue,
        RiskColumn::Unsigned,
        RiskColumn::End,
    ];
    const DEFAULT: RiskColumn = RiskColumn::Learner;

    fn key(self) -> &'static str {
        match self {
            RiskColumn::Learner => "learner",
            RiskColumn::Assessor => "assessor",
            RiskColumn::Approved => "approved",
            RiskColumn::Behind => "behind",
            RiskColumn::ReviewDue => "review",
            RiskColumn::Unsigned => "unsigned",
            RiskColumn::End => "end",
        }
    }

    fn label(self) -> &'static str {
        match self {
            RiskColumn::Learner => "Learner",
            RiskColumn::Assessor => "Assessor",
            RiskColumn::Approved => "Off-the-job hours",
            RiskColumn::Behind => "Behind since",
            RiskColumn::ReviewDue => "Next review due",
            RiskColumn::Unsigned => "Unsigned review",
            RiskColumn::End => "Planned end",
        }
    }

    /// Dates soonest first (the longest behind, the most overdue); hours fewest first.
    fn natural_direction(self) -> Direction {
        Direction::Ascending
    }

    fn is_number(self) -> bool {
        self == RiskColumn::Approved
    }
}

/// Which risk the report shows: any of them by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Risk {
    Behind,
    ReviewOverdue,
    ReviewUnsigned,
    InBreak,
    /// Every apprenticeship, at risk or not.
    All,
}

impl Risk {
    pub const ALL: [Risk; 5] = [
        Risk::Behind,
        Risk::ReviewOverdue,
        Risk::ReviewUnsigned,
        Risk::InBreak,
        Risk::All,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Risk::Behind => "behind",
            Risk::ReviewOverdue => "overdue",
            Risk::ReviewUnsigned => "unsigned",
            Risk::InBreak => "break",
            Risk::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Risk::Behind => "Behind on off-the-job hours",
            Risk::ReviewOverdue => "Progress review overdue",
            Risk::ReviewUnsigned => "Review unsigned after 14 days",
            Risk::InBreak => "On a break in learning",
            Risk::All => "Every apprenticeship",
        }
    }

    fn from_key(key: &str) -> Option<Risk> {
        Risk::ALL.into_iter().find(|r| r.key() == key)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskFilters {
    pub search: Option<String>,
    /// None: any risk.
    pub risk: Option<Risk>,
    pub assessor: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskQuery {
    pub filters: RiskFilters,
    pub sort: Sort<RiskColumn>,
    pub page: u32,
    pub size: u32,
}

impl Default for RiskQuery {
    fn default() -> Self {
        RiskQuery {
            filters: RiskFilters::default(),
            sort: Sort::default(),
            page: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl RiskQuery {
    /// Reads a query string's pairs; what cannot be used is reported and left out.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (RiskQuery, Vec<Problem>) {
        let mut q = RiskQuery::default();
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, message: String| {
            problems.push(Problem { field, message });
        };
        let mut list = ListReader::<RiskColumn>::default();
        for (name, value) in pairs {
            let value = value.trim();
            let f = &mut q.filters;
            match name {
                "q" => f.search = read_search(value, &mut problem),
                "risk" if !value.is_empty() => match Risk::from_key(value) {
                    Some(r) => f.risk = Some(r),
                    None => {
                        f.risk = None;
                        problem(
                            "risk",
                            format!("“{}” is not a funding risk.", shorten(value)),
                        )
                    }
                },
                "risk" => f.risk = None,
                "assessor" => f.assessor = id(value, "assessor", &mut problem),
                _ => list.read(name, value, &mut problem),
            }
        }
        (q.sort, q.page, q.size) = list.finish();
        (q, problems)
    }

    pub(crate) fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        let f = &self.filters;
        if let Some(s) = &f.search {
            out.append_pair("q", s);
        }
        if let Some(r) = f.risk {
            out.append_pair("risk", r.key());
        }
        if let Some(a) = f.assessor {
            out.append_pair("assessor", &a.to_string());
        }
        append_order_and_page(&mut out, self.sort, self.page, self.size);
        out.finish()
    }

    pub(crate) fn sorted_by(&self, column: RiskColumn) -> RiskQuery {
        RiskQuery {
            sort: self.sort.by(column),
            page: 1,
            ..self.clone()
        }
    }

    pub(crate) fn at_page(&self, page: u32) -> RiskQuery {
        RiskQuery {
            page,
            ..self.clone()
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        offset(self.page, self.size)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse(query: &str) -> (RiskQuery, Vec<Problem>) {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        RiskQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    #[test]
    fn an_empty_query_is_any_risk_by_learner_and_bad_values_are_reported() {
        let (q, problems) = parse("");
        assert_eq!(q, RiskQuery::default());
        assert!(problems.is_empty());
        let (q, problems) = parse("risk=flood&assessor=nobody&sort=salary&q=Lee");
        let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["risk", "assessor", "sort"]);
        assert_eq!(q.filters.search.as_deref(), Some("Lee"));
        assert_eq!(q.filters.risk, None);
    }

    fn queries() -> impl Strategy<Value = RiskQuery> {
        (
            proptest::option::of(proptest::sample::select(Risk::ALL.to_vec())),
            proptest::option::of(any::<u128>().prop_map(Uuid::from_u128)),
            proptest::sample::select(RiskColumn::ALL.to_vec()),
            any::<bool>(),
            1u32..50,
            proptest::sample::select(vec![25u32, 50, 100, 200]),
        )
            .prop_map(|(risk, assessor, column, desc, page, size)| RiskQuery {
                filters: RiskFilters {
                    search: None,
                    risk,
                    assessor,
                },
                sort: Sort {
                    column,
                    direction: if desc {
                        Direction::Descending
                    } else {
                        Direction::Ascending
                    },
                },
                page,
                size,
            })
    }

    proptest! {
        /// A view's address shows the same view: a link or a reload keeps it.
        #[test]
        fn the_query_string_reads_back_as_the_same_view(q in queries()) {
            let (back, problems) = parse(&q.to_query_string());
            prop_assert!(problems.is_empty());
            prop_assert_eq!(back, q);
        }
    }
}
