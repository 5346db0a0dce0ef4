//! The people of a centre as a report (issue 12): which accounts the admin's list
//! shows, in which order, which page. Read from a URL's query string and written back
//! to one, as the enrolment reports are (`domain::report`, whose order, paging and search
//! reading it shares); a value that cannot be read is reported beside its field and left
//! out, never a failure.
use super::people::Role;
use super::report::{
    append_order_and_page, offset, read_search, shorten, Direction, ListReader, Problem, Sort,
    SortColumn, DEFAULT_PAGE_SIZE,
};

/// A column of the people list, which is also what it can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeopleColumn {
    Name,
    Email,
    /// Learners first, then staff by their roles (trainee assessor, assessor, IQA,
    /// admin: `Role`'s order).
    Roles,
    /// Active accounts first, then deactivated ones.
    Status,
    Added,
}

impl SortColumn for PeopleColumn {
    const ALL: &'static [PeopleColumn] = &[
        PeopleColumn::Name,
        PeopleColumn::Email,
        PeopleColumn::Roles,
        PeopleColumn::Status,
        PeopleColumn::Added,
    ];
    const DEFAULT: PeopleColumn = PeopleColumn::Name;

    fn key(self) -> &'static str {
        match self {
            PeopleColumn::Name => "name",
            PeopleColumn::Email => "email",
            PeopleColumn::Roles => "roles",
            PeopleColumn::Status => "status",
            PeopleColumn::Added => "added",
        }
    }

    fn label(self) -> &'static str {
        match self {
            PeopleColumn::Name => "Name",
            PeopleColumn::Email => "Email",
            PeopleColumn::Roles => "Roles",
            PeopleColumn::Status => "Account",
            PeopleColumn::Added => "Added",
        }
    }

    /// The newest first; everything else from the start.
    fn natural_direction(self) -> Direction {
        match self {
            PeopleColumn::Added => Direction::Descending,
            _ => Direction::Ascending,
        }
    }

    fn is_number(self) -> bool {
        false
    }
}

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standing {
    Active,
    Deactivated,
}

impl Standing {
    pub const ALL: [Standing; 2] = [Standing::Active, Standing::Deactivated];

    pub fn key(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::Deactivated => "deactivated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Standing::Active => "Active",
            Standing::Deactivated => "Deactivated",
        }
    }

    fn from_key(key: &str) -> Option<Standing> {
        Standing::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// Which people the list shows. Every filter narrows; the centre is applied apart,
/// always.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleFilters {
    /// Words in the person's name or email.
    pub search: Option<String>,
    pub role: Option<Role>,
    pub standing: Option<Standing>,
}

impl PeopleFilters {
    pub fn is_empty(&self) -> bool {
        *self == PeopleFilters::default()
    }
}

/// One view of the people list: filters, order and page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleQuery {
    pub filters: PeopleFilters,
    pub sort: Sort<PeopleColumn>,
    /// 1-based.
    pub page: u32,
    pub size: u32,
}

impl Default for PeopleQuery {
    fn default() -> Self {
        PeopleQuery {
            filters: PeopleFilters::default(),
            sort: Sort::default(),
            page: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl PeopleQuery {
    /// Reads a query string's pairs. Unknown names are ignored (a link may carry others);
    /// a known name with a value that cannot be used is left out and reported.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (PeopleQuery, Vec<Problem>) {
        let mut q = PeopleQuery::default();
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, message: String| {
            problems.push(Problem { field, message });
        };
        let mut list = ListReader::<PeopleColumn>::default();
        for (name, value) in pairs {
            let value = value.trim();
            let f = &mut q.filters;
            match name {
                "q" => f.search = read_search(value, &mut problem),
                "role" if !value.is_empty() => match Role::from_key(value) {
                    Some(r) => f.role = Some(r),
                    None => {
                        f.role = None;
                        problem("role", format!("“{}” is not a role.", shorten(value)))
                    }
                },
                "role" => f.role = None,
                "status" if !value.is_empty() => match Standing::from_key(value) {
                    Some(s) => f.standing = Some(s),
                    None => {
                        f.standing = None;
                        problem(
                            "status",
                            format!(
                                "“{}” is not an account status: choose active or deactivated.",
                                shorten(value)
                            ),
                        )
                    }
                },
                "status" => f.standing = None,
                _ => list.read(name, value, &mut problem),
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
        if let Some(r) = f.role {
            out.append_pair("role", r.key());
        }
        if let Some(s) = f.standing {
            out.append_pair("status", s.key());
        }
        append_order_and_page(&mut out, self.sort, self.page, self.size);
        out.finish()
    }

    /// The same view sorted by `column` (the other way if already sorted by it), back
    /// to the first page.
    pub(crate) fn sorted_by(&self, column: PeopleColumn) -> PeopleQuery {
        PeopleQuery {
            sort: self.sort.by(column),
            page: 1,
            ..self.clone()
        }
    }

    pub(crate) fn at_page(&self, page: u32) -> PeopleQuery {
        PeopleQuery {
            page,
            ..self.clone()
        }
    }

    /// Rows to skip for this page.
    pub(crate) fn offset(&self) -> u64 {
        offset(self.page, self.size)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse(query: &str) -> (PeopleQuery, Vec<Problem>) {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        PeopleQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    fn fields(problems: &[Problem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.field).collect()
    }

    #[test]
    fn an_empty_query_is_the_first_page_of_50_by_name() {
        let (q, problems) = parse("");
        assert_eq!(q, PeopleQuery::default());
        assert_eq!(q.sort.column, PeopleColumn::Name);
        assert_eq!(q.sort.direction, Direction::Ascending);
        assert_eq!((q.page, q.size), (1, 50));
        assert!(problems.is_empty());
        assert_eq!(q.to_query_string(), "");
    }

    #[test]
    fn bad_values_are_reported_beside_their_field_and_left_out() {
        let (q, problems) =
            parse("sort=salary&dir=up&page=-2&size=7&role=wizard&status=asleep&q=Lee");
        assert_eq!(
            fields(&problems),
            ["sort", "dir", "page", "size", "role", "status"]
        );
        assert_eq!(q.sort, Sort::default());
        assert_eq!((q.page, q.size), (1, DEFAULT_PAGE_SIZE));
        assert_eq!(
            q.filters,
            PeopleFilters {
                search: Some("Lee".into()),
                ..PeopleFilters::default()
            },
            "what could be read is kept"
        );
        assert!(problems[0].message.contains("salary"));
        assert!(problems[0].message.contains("sorted by name instead"));
        assert!(problems[4].message.contains("wizard"));
    }

    #[test]
    fn added_reads_newest_first_and_flips() {
        let q = PeopleQuery::default().sorted_by(PeopleColumn::Added);
        assert_eq!(q.sort.direction, Direction::Descending);
        assert_eq!(q.to_query_string(), "sort=added");
        let q = q.sorted_by(PeopleColumn::Added);
        assert_eq!(q.to_query_string(), "sort=added&dir=asc");
        let q = q.at_page(3).sorted_by(PeopleColumn::Name);
        assert_eq!((q.page, q.to_query_string().as_str()), (1, ""));
    }

    fn query() -> impl Strategy<Value = PeopleQuery> {
        (
            proptest::option::of("[a-zA-Z0-9 @.%&=+é]{1,20}"),
            proptest::option::of(proptest::sample::select(Role::ALL.to_vec())),
            proptest::option::of(proptest::sample::select(Standing::ALL.to_vec())),
            proptest::sample::select(PeopleColumn::ALL.to_vec()),
            any::<bool>(),
            1u32..500,
            proptest::sample::select(super::super::report::PAGE_SIZES.to_vec()),
        )
            .prop_map(|(search, role, standing, column, flip, page, size)| {
                let search = search
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
                let direction = if flip {
                    column.natural_direction().flip()
                } else {
                    column.natural_direction()
                };
                PeopleQuery {
                    filters: PeopleFilters {
                        search,
                        role,
                        standing,
                    },
                    sort: Sort { column, direction },
                    page,
                    size,
                }
            })
    }

    proptest! {
        #[test]
        fn a_view_survives_its_address(q in query()) {
            let (read, problems) = parse(&q.to_query_string());
            prop_assert!(problems.is_empty(), "{:?}", problems);
            prop_assert_eq!(read, q);
        }

        #[test]
        fn any_query_string_reads_as_some_view(s in "[a-z=&%0-9.-]{0,80}") {
            let (q, _) = parse(&s);
            prop_assert!(q.page >= 1);
            prop_assert!(super::super::report::PAGE_SIZES.contains(&q.size));
        }
    }
}
