use proptest::prelude::*;

use super::*;

fn parse(query: &str) -> (ReportQuery, Vec<Problem>) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    ReportQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn fields(problems: &[Problem]) -> Vec<&'static str> {
    problems.iter().map(|p| p.field).collect()
}

#[test]
fn an_empty_query_is_the_first_page_of_50_by_learner() {
    let (q, problems) = parse("");
    assert_eq!(q, ReportQuery::default());
    assert_eq!((q.page, q.size, q.sort), (1, 50, Sort::default()));
    assert!(problems.is_empty());
    assert_eq!(q.to_query_string(), "");
}

#[test]
fn bad_values_are_reported_beside_their_field_and_left_out() {
    let (q, problems) = parse(
        "sort=favourite&dir=up&page=-2&size=7&status=asleep&outcome=maybe&assessor=not-an-id\
         &stale=perhaps&progress=120&requested=2026-13&q=Lee",
    );
    assert_eq!(
        fields(&problems),
        [
            "sort",
            "dir",
            "page",
            "size",
            "status",
            "outcome",
            "assessor",
            "stale",
            "progress",
            "requested"
        ]
    );
    assert_eq!(q.sort, Sort::default());
    assert_eq!((q.page, q.size), (1, DEFAULT_PAGE_SIZE));
    assert_eq!(
        q.filters,
        Filters {
            search: Some("Lee".into()),
            ..Filters::default()
        },
        "what could be read is kept"
    );
    assert!(problems[0].message.contains("favourite"));
}

#[test]
fn a_page_of_zero_and_a_huge_page_number_are_told_apart() {
    let (q, problems) = parse("page=0");
    assert_eq!((q.page, fields(&problems)), (1, vec!["page"]));
    let (q, problems) = parse("page=99999999999999");
    assert_eq!((q.page, fields(&problems)), (1, vec!["page"]));
    let (q, problems) = parse("page=4000");
    assert_eq!(
        (q.page, problems.len()),
        (4000, 0),
        "past the end is an empty page, not an error"
    );
}

#[test]
fn a_long_search_is_cut_and_said_so() {
    let long = "é".repeat(150);
    let (q, problems) = parse(&format!("q={long}"));
    assert_eq!(q.filters.search.unwrap().chars().count(), SEARCH_MAX_CHARS);
    assert_eq!(fields(&problems), ["q"]);
}

#[test]
fn a_column_sorts_its_natural_way_first_then_flips() {
    let q = ReportQuery::default();
    let by_progress = q.sorted_by(Column::Progress);
    assert_eq!(by_progress.sort.direction, Direction::Descending);
    assert_eq!(by_progress.to_query_string(), "sort=progress");
    let flipped = by_progress.sorted_by(Column::Progress);
    assert_eq!(flipped.to_query_string(), "sort=progress&dir=asc");
    let by_name = q.at_page(3).sorted_by(Column::Learner);
    assert_eq!(
        by_name.sort.direction,
        Direction::Descending,
        "already by learner: flips"
    );
    assert_eq!(by_name.page, 1, "a new order starts at the first page");
}

#[test]
fn page_links_keep_the_ends_and_the_neighbourhood() {
    assert_eq!(page_links(1, 1), vec![Some(1)]);
    assert_eq!(
        page_links(6, 20),
        vec![
            Some(1),
            None,
            Some(4),
            Some(5),
            Some(6),
            Some(7),
            Some(8),
            None,
            Some(20)
        ]
    );
    assert_eq!(page_links(2, 4), vec![Some(1), Some(2), Some(3), Some(4)]);
    assert_eq!(page_count(0, 50), 1);
    assert_eq!(page_count(10_000, 50), 200);
    assert_eq!(page_count(10_001, 200), 51);
}

#[test]
fn bands_and_months_read_as_written() {
    assert_eq!(Band::deciles().len(), 11);
    assert!(Band::deciles()
        .iter()
        .all(|b| Band::parse(&b.key()) == Some(*b)));
    assert_eq!(Band::parse("40-49"), Some(Band { from: 40, to: 49 }));
    assert_eq!(Band::parse("50-40"), None);
    let nov = Month::parse("2026-11").unwrap();
    assert_eq!(
        (nov.label(), nov.next().key(), nov.next().next().key()),
        ("Nov 2026".into(), "2026-12".into(), "2027-01".into())
    );
    assert_eq!(nov.next().next().previous().previous(), nov);
    assert_eq!(
        nov.end(),
        Date::from_calendar_date(2026, CalendarMonth::December, 1).unwrap()
    );
    assert_eq!(Month::parse("26-11"), None);
    assert_eq!(nov.short_label(), "Nov 26");
}

fn id() -> impl Strategy<Value = Option<Uuid>> {
    proptest::option::of(any::<u128>().prop_map(Uuid::from_u128))
}

fn query() -> impl Strategy<Value = ReportQuery> {
    let filters = (
        proptest::option::of(
            "[a-zA-Zé' %_&=+-]{1,20}"
                .prop_map(|s| s.trim().to_string())
                .prop_filter("not blank", |s| !s.is_empty()),
        ),
        (id(), id(), id(), id(), id()),
        proptest::option::of(proptest::sample::select(Status::ALL.to_vec())),
        proptest::option::of(prop_oneof![
            Just(OutcomeFilter::NeverAudited),
            proptest::sample::select(Outcome::ALL.to_vec()).prop_map(OutcomeFilter::Is)
        ]),
        any::<[bool; 7]>(),
        proptest::option::of(proptest::sample::select(Band::deciles())),
        proptest::option::of((2000..2100i32, 1..=12u8)),
    )
        .prop_map(
            |(
                search,
                (qualification, major, assessor, trainee, iqa),
                status,
                outcome,
                flags,
                progress,
                month,
            )| {
                let month = month.map(|(year, m)| Month {
                    year,
                    month: CalendarMonth::try_from(m).unwrap(),
                });
                Filters {
                    search,
                    qualification,
                    major,
                    status,
                    assessor,
                    trainee,
                    iqa,
                    outcome,
                    stale: flags[0],
                    has_claims: flags[1],
                    awaiting_countersignature: flags[2],
                    has_open_actions: flags[3],
                    behind_otj: flags[4],
                    review_overdue: flags[5],
                    review_unsigned: flags[6],
                    progress,
                    requested: month,
                    issued: month.map(Month::next),
                }
            },
        );
    (
        filters,
        proptest::sample::select(Column::ALL.to_vec()),
        any::<bool>(),
        1..500u32,
        proptest::sample::select(PAGE_SIZES.to_vec()),
    )
        .prop_map(|(filters, column, flip, page, size)| {
            let direction = if flip {
                column.natural_direction().flip()
            } else {
                column.natural_direction()
            };
            ReportQuery {
                filters,
                sort: Sort { column, direction },
                page,
                size,
            }
        })
}

proptest! {
    /// Any view written to an address reads back as the same view, with nothing to
    /// report: a link or a reload shows what was on the screen.
    #[test]
    fn a_view_survives_its_address(q in query()) {
        let (back, problems) = parse(&q.to_query_string());
        prop_assert!(problems.is_empty(), "{:?}", problems);
        prop_assert_eq!(back, q);
    }

    /// Whatever a query string holds, reading it never fails and keeps the page and
    /// size usable.
    #[test]
    fn any_query_string_reads_as_some_view(s in "[a-z=&%0-9.-]{0,80}") {
        let (q, _) = parse(&s);
        prop_assert!(q.page >= 1 && PAGE_SIZES.contains(&q.size));
    }
}
