use proptest::prelude::*;
use time::macros::{date, datetime};

use super::*;

fn parse(query: &str) -> (LogView, Typed, Vec<FieldError>) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    LogView::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn fields(errors: &[FieldError]) -> Vec<&'static str> {
    errors.iter().map(|e| e.field).collect()
}

#[test]
fn an_empty_query_is_the_newest_page_unfiltered() {
    let (view, typed, errors) = parse("");
    assert_eq!(view, LogView::default());
    assert_eq!(view.page, Page::Newest);
    assert!(!view.is_filtered());
    assert_eq!(typed, Typed::default());
    assert!(errors.is_empty());
    assert_eq!(view.to_query_string(), "");
}

#[test]
fn a_form_sent_with_every_field_blank_is_unfiltered() {
    let (view, _, errors) = parse("kind=&who=&from=&to=");
    assert_eq!(view, LogView::default());
    assert!(errors.is_empty());
}

#[test]
fn every_filter_reads() {
    let person = Uuid::from_u128(7);
    let (view, _, errors) = parse(&format!(
        "kind=accept-all&who={person}&from=2026-11-01&to=24/11/2026&before=5000"
    ));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        view,
        LogView {
            kind: Some(Kind::AcceptAll),
            who: Some(Who::Person(person)),
            from: Some(date!(2026 - 11 - 01)),
            to: Some(date!(2026 - 11 - 24)),
            page: Page::Before(5000),
        }
    );
    let (system, _, _) = parse("who=attest&after=12");
    assert_eq!(system.who, Some(Who::System));
    assert_eq!(system.page, Page::After(12));
}

#[test]
fn bad_values_are_reported_beside_their_field_kept_as_typed_and_left_out() {
    let (view, typed, errors) =
        parse("kind=everything&who=nobody&from=2026-02-30&to=yesterday&before=x");
    assert_eq!(fields(&errors), ["kind", "who", "from", "to", PAGE_FIELD]);
    assert_eq!(
        view,
        LogView::default(),
        "nothing unusable filters the page"
    );
    assert_eq!(
        typed,
        Typed {
            from: "2026-02-30".into(),
            to: "yesterday".into(),
        }
    );
}

#[test]
fn a_bad_field_leaves_the_others_filtering() {
    let (view, _, errors) = parse("kind=tick&from=not-a-date&to=2026-11-24");
    assert_eq!(fields(&errors), ["from"]);
    assert_eq!(view.kind, Some(Kind::Tick));
    assert_eq!((view.from, view.to), (None, Some(date!(2026 - 11 - 24))));
}

#[test]
fn a_to_date_before_the_from_date_is_refused_and_the_from_date_kept() {
    let (view, typed, errors) = parse("from=2026-11-24&to=2026-11-23");
    assert_eq!(fields(&errors), ["to"]);
    assert!(errors[0].message.contains("after the from date"));
    assert_eq!((view.from, view.to), (Some(date!(2026 - 11 - 24)), None));
    assert_eq!(typed.to, "2026-11-23");
    let (same_day, _, errors) = parse("from=2026-11-24&to=2026-11-24");
    assert!(errors.is_empty());
    assert_eq!(same_day.from, same_day.to);
}

#[test]
fn dates_must_be_real_days_written_in_full() {
    for bad in [
        "2026-13-01",
        "2026-00-10",
        "2026-02-29",
        "26-11-24",
        "2026-1-",
        "2026-11-24T10:00",
        "0099-01-01",
        "+2026-11-24",
        "24/11/26",
        "2026/11/24",
        "１２３４-01-01",
    ] {
        let (view, _, errors) = parse(&format!(
            "from={}",
            form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>()
        ));
        assert_eq!(fields(&errors), ["from"], "{bad}");
        assert_eq!(view.from, None, "{bad}");
    }
    for (good, day) in [
        ("2028-02-29", date!(2028 - 02 - 29)),
        ("2026-1-5", date!(2026 - 01 - 05)),
        ("5/1/2026", date!(2026 - 01 - 05)),
        (" 2026-11-24 ", date!(2026 - 11 - 24)),
    ] {
        let (view, _, errors) = parse(&format!(
            "from={}",
            form_urlencoded::byte_serialize(good.as_bytes()).collect::<String>()
        ));
        assert!(errors.is_empty(), "{good}: {errors:?}");
        assert_eq!(view.from, Some(day), "{good}");
    }
}

#[test]
fn days_are_whole_utc_days_with_the_to_day_included() {
    let (view, _, _) = parse("from=2026-11-24&to=2026-11-25");
    assert_eq!(view.since(), Some(datetime!(2026-11-24 00:00 UTC)));
    assert_eq!(view.until(), Some(datetime!(2026-11-26 00:00 UTC)));
    let (last, _, _) = parse("to=9999-12-31");
    assert_eq!(
        last.until(),
        None,
        "nothing comes after the calendar's last day"
    );
    assert_eq!(LogView::<Kind>::default().since(), None);
}

#[test]
fn a_page_position_must_be_one_entry_id() {
    for bad in [
        "before=0",
        "before=-4",
        "after=1.5",
        "before=99999999999999999999",
        "before=4&after=9",
    ] {
        let (view, _, errors) = parse(bad);
        assert_eq!(fields(&errors), [PAGE_FIELD], "{bad}");
        assert_eq!(view.page, Page::Newest, "{bad}");
    }
    let (view, _, errors) = parse("before=&after=");
    assert!(errors.is_empty());
    assert_eq!(view.page, Page::Newest);
}

#[test]
fn the_last_of_a_repeated_name_counts() {
    let (view, _, errors) = parse("kind=tick&kind=audit");
    assert!(errors.is_empty());
    assert_eq!(view.kind, Some(Kind::Audit));
}

#[test]
fn long_values_are_shown_back_cut_short() {
    let long = "x".repeat(500);
    let (_, typed, errors) = parse(&format!("from={long}"));
    assert_eq!(fields(&errors), ["from"]);
    assert_eq!(typed.from.chars().count(), TYPED_MAX_CHARS);
}

#[test]
fn a_person_not_offered_is_refused_once_the_people_are_known() {
    let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let mut view: LogView = LogView {
        who: Some(Who::Person(b)),
        ..LogView::default()
    };
    let error = view.keep_person_among(&[a]).expect("refused");
    assert_eq!(error.field, "who");
    assert_eq!(view.who, None);
    let mut offered: LogView = LogView {
        who: Some(Who::Person(a)),
        ..LogView::default()
    };
    assert_eq!(offered.keep_person_among(&[a]), None);
    let mut system: LogView = LogView {
        who: Some(Who::System),
        ..LogView::default()
    };
    assert_eq!(
        system.keep_person_among(&[]),
        None,
        "attest is always offered"
    );
}

#[test]
fn each_named_action_belongs_to_exactly_one_kind_and_other_takes_the_rest() {
    let mut named: Vec<&str> = Vec::new();
    for kind in Kind::ALL {
        match kind.actions() {
            Actions::AnyOf(actions) => named.extend(actions),
            Actions::NoneOf(left_out) => {
                assert_eq!(kind, Kind::Other);
                assert_eq!(left_out, NAMED);
            }
        }
    }
    let mut sorted = named.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), named.len(), "no action in two kinds");
    let mut all = NAMED.to_vec();
    all.sort_unstable();
    assert_eq!(sorted, all, "NAMED lists exactly the kinds' actions");
}

#[test]
fn kinds_read_back_from_their_keys() {
    for kind in Kind::ALL {
        assert_eq!(Kind::from_key(kind.key()), Some(kind));
        assert!(!kind.label().is_empty());
    }
    assert_eq!(Kind::from_key("Tick"), None);
}

#[test]
fn the_audit_page_histories_page_on_their_own() {
    let audit = Uuid::from_u128(99);
    let read = |q: &str| {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        HistoryPages::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    };
    let (pages, errors) = read(&format!("audits={audit}&changes=40"));
    assert!(errors.is_empty());
    assert_eq!(
        pages,
        HistoryPages {
            audits_before: Some(audit),
            changes_before: Some(40),
        }
    );
    assert_eq!(read(&pages.to_query_string()).0, pages);
    let (pages, errors) = read("audits=latest&changes=-1");
    assert_eq!(fields(&errors), ["audits", "changes"]);
    assert_eq!(pages, HistoryPages::default());
    assert_eq!(pages.to_query_string(), "");
}

fn day() -> impl Strategy<Value = Date> {
    (1900i32..=9999, 1u8..=12, 1u8..=31).prop_filter_map("a real day", |(y, m, d)| {
        Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
    })
}

fn view() -> impl Strategy<Value = LogView> {
    let kind = proptest::option::of(proptest::sample::select(Kind::ALL.to_vec()));
    let who = proptest::option::of(prop_oneof![
        Just(Who::System),
        any::<u128>().prop_map(|n| Who::Person(Uuid::from_u128(n))),
    ]);
    let page = prop_oneof![
        Just(Page::Newest),
        (1..=i64::MAX).prop_map(Page::Before),
        (1..=i64::MAX).prop_map(Page::After),
    ];
    (
        kind,
        who,
        proptest::option::of(day()),
        proptest::option::of(day()),
        page,
    )
        .prop_map(|(kind, who, from, to, page)| {
            // A to day before the from day is refused, so no view holds one.
            let (from, to) = match (from, to) {
                (Some(a), Some(b)) if b < a => (Some(b), Some(a)),
                other => other,
            };
            LogView {
                kind,
                who,
                from,
                to,
                page,
            }
        })
}

proptest! {
    /// Any view written to an address reads back as the same view, with nothing to
    /// report: a link or a reload shows what was on the screen.
    #[test]
    fn a_view_survives_its_address(v in view()) {
        let (back, _, errors) = parse(&v.to_query_string());
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(back, v);
    }

    /// The audit page's positions survive their address too.
    #[test]
    fn history_pages_survive_their_address(
        audit in proptest::option::of(any::<u128>()),
        change in proptest::option::of(1..=i64::MAX),
    ) {
        let pages = HistoryPages { audits_before: audit.map(Uuid::from_u128), changes_before: change };
        let pairs: Vec<(String, String)> = form_urlencoded::parse(pages.to_query_string().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let (back, errors) = HistoryPages::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert!(errors.is_empty());
        prop_assert_eq!(back, pages);
    }

    /// Whatever a query string holds, reading it never fails, and what it reports is
    /// exactly what it left out.
    #[test]
    fn any_query_string_reads_as_some_view(s in "(kind|who|from|to|before|after|[a-z]{1,3})=[a-z0-9/%+.-]{0,12}(&(kind|who|from|to|before|after)=[a-z0-9/%+.-]{0,12}){0,5}") {
        let (v, _, errors) = parse(&s);
        // What was read writes back and reads again as itself.
        let (again, _, again_errors) = parse(&v.to_query_string());
        prop_assert!(again_errors.is_empty());
        prop_assert_eq!(again, v);
        prop_assert!(errors.len() <= 5);
    }
}
