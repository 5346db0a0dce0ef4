use proptest::prelude::*;
use time::macros::date;
use time::{Date, Duration};

use super::*;

fn day(start: Date, n: i64) -> Date {
    start + Duration::days(n)
}

fn plan(start: Date, days: i64, planned: Minutes, breaks: Vec<Break>) -> Plan {
    Plan {
        start,
        planned_end: day(start, days),
        planned,
        breaks,
    }
}

#[test]
fn the_default_plan_is_the_rule_over_the_working_weeks() {
    let start = date!(2026 - 09 - 01);
    let a_year = date!(2027 - 09 - 01);
    // 52.1 weeks less 5.6 of leave: 46.5 working weeks.
    assert_eq!(working_week_tenths(start, a_year), 465);
    // 20 % of 37.5 hours is 7.5 hours a week: 348.75 hours.
    let planned = default_planned(
        OtjRule::PercentOfContracted(20),
        37 * 60 + 30,
        start,
        a_year,
    );
    assert_eq!(planned, 450 * 465 / 10);
    assert_eq!(
        default_planned(OtjRule::MinutesPerWeek(6 * 60), 0, start, a_year),
        360 * 465 / 10
    );
}

#[test]
fn a_break_pauses_the_clock_and_pushes_the_end_out() {
    let start = date!(2026 - 01 - 05);
    let p = plan(
        start,
        100,
        100 * 60,
        vec![Break {
            from: day(start, 10),
            to: day(start, 19),
        }],
    );
    assert_eq!(p.elapsed_days(day(start, 10)), 10);
    assert_eq!(
        p.elapsed_days(day(start, 20)),
        10,
        "paused through the break"
    );
    assert_eq!(p.elapsed_days(day(start, 30)), 20);
    assert_eq!(p.adjusted_end(), day(start, 110));
    assert_eq!(p.target_on(day(start, 30)), 20 * 60);
    assert_eq!(p.target_on(p.adjusted_end()), p.planned);
    assert_eq!(
        p.target_on(day(start, 500)),
        p.planned,
        "never past the plan"
    );
    assert_eq!(
        p.forecast(day(start, 30), 10 * 60),
        50 * 60,
        "half the rate, half the plan"
    );
}

#[test]
fn entries_in_the_future_in_a_break_or_over_a_day_are_refused() {
    let start = date!(2026 - 01 - 05);
    let today = day(start, 40);
    let p = plan(
        start,
        100,
        6000,
        vec![Break {
            from: day(start, 10),
            to: day(start, 19),
        }],
    );
    let on = |d| Entry {
        day: d,
        minutes: 20 * 60,
        state: EntryState::Pending,
    };
    assert_eq!(
        check_entry(&p, today, day(start, 41), 60, &[]),
        Err(EntryRefusal::InTheFuture)
    );
    assert_eq!(
        check_entry(&p, today, day(start, 12), 60, &[]),
        Err(EntryRefusal::InBreak)
    );
    assert_eq!(
        check_entry(&p, today, day(start, -1), 60, &[]),
        Err(EntryRefusal::BeforeStart)
    );
    assert_eq!(
        check_entry(&p, today, today, 0, &[]),
        Err(EntryRefusal::NoTime)
    );
    let same = [on(today)];
    assert_eq!(check_entry(&p, today, today, 4 * 60, &same), Ok(()));
    assert_eq!(
        check_entry(&p, today, today, 4 * 60 + 1, &same),
        Err(EntryRefusal::OverADay)
    );
    let rejected = [Entry {
        state: EntryState::Rejected,
        ..on(today)
    }];
    assert_eq!(
        check_entry(&p, today, today, 24 * 60, &rejected),
        Ok(()),
        "rejected ones never count"
    );
}

/// A plan with up to three breaks inside it, none overlapping.
fn plans() -> impl Strategy<Value = Plan> {
    (
        0i64..2000,
        30i64..1500,
        0i64..200_000,
        prop::collection::vec((0i64..200, 1i64..120), 0..3),
    )
        .prop_map(|(offset, days, planned, gaps)| {
            let start = day(date!(2024 - 01 - 01), offset);
            let mut at = 0;
            let mut breaks = Vec::new();
            for (gap, len) in gaps {
                let from = at + gap;
                let to = from + len - 1;
                if to >= days {
                    break;
                }
                breaks.push(Break {
                    from: day(start, from),
                    to: day(start, to),
                });
                at = to + 1;
            }
            plan(start, days, planned, breaks)
        })
}

proptest! {
    /// A break only ever holds the to-date target back.
    #[test]
    fn a_break_never_raises_the_to_date_target(p in plans(), from in 0i64..1600, len in 1i64..200, on in -10i64..2000) {
        let b = Break { from: day(p.start, from), to: day(p.start, from + len - 1) };
        prop_assume!(p.breaks.iter().all(|x| b.to < x.from || b.from > x.to));
        let mut with = p.clone();
        with.breaks.push(b);
        let d = day(p.start, on);
        prop_assert!(with.target_on(d) <= p.target_on(d), "{} > {}", with.target_on(d), p.target_on(d));
    }

    /// The target grows day by day, and is the plan exactly at the adjusted end.
    #[test]
    fn the_target_reaches_the_plan_at_the_adjusted_end(p in plans(), on in 0i64..2000) {
        prop_assert_eq!(p.target_on(p.adjusted_end()), p.planned);
        let d = day(p.start, on);
        prop_assert!(p.target_on(d) <= p.target_on(d + Duration::days(1)));
        if p.breaks.is_empty() {
            prop_assert_eq!(p.target_on(p.planned_end), p.planned);
        }
    }

    /// Approving an entry never lowers the approved minutes; rejecting one never raises them.
    #[test]
    fn approving_never_lowers_the_actual(
        entries in prop::collection::vec((1i64..600, 0usize..3), 0..40),
        pick in any::<prop::sample::Index>(),
    ) {
        let states = [EntryState::Pending, EntryState::Approved, EntryState::Rejected];
        let mut all: Vec<Entry> = entries
            .iter()
            .map(|(m, s)| Entry { day: date!(2026 - 01 - 05), minutes: *m, state: states[*s] })
            .collect();
        prop_assume!(!all.is_empty());
        let before = approved(&all);
        let i = pick.index(all.len());
        all[i].state = EntryState::Approved;
        prop_assert!(approved(&all) >= before);
        let approved_now = approved(&all);
        all[i].state = EntryState::Rejected;
        prop_assert!(approved(&all) <= approved_now);
    }
}

#[test]
fn the_weeks_run_to_the_adjusted_end_with_actuals_up_to_today() {
    let start = date!(2026 - 01 - 05);
    let p = plan(start, 28, 2800, vec![]);
    let entry = |n, minutes, state| Entry {
        day: day(start, n),
        minutes,
        state,
    };
    let entries = [
        entry(1, 60, EntryState::Approved),
        entry(8, 90, EntryState::Approved),
        entry(9, 500, EntryState::Rejected),
        entry(9, 30, EntryState::Pending),
    ];
    let weeks = weekly(&p, &entries, day(start, 10));
    assert_eq!(weeks.len(), 4);
    assert_eq!(weeks[0].ends, day(start, 7));
    assert_eq!(
        weeks.iter().map(|w| w.target).collect::<Vec<_>>(),
        [700, 1400, 2100, 2800]
    );
    assert_eq!(
        weeks.iter().map(|w| w.approved).collect::<Vec<_>>(),
        [Some(60), None, None, None],
        "only weeks ended by today have an actual"
    );
    let later = weekly(&p, &entries, day(start, 14));
    assert_eq!(later[1].approved, Some(150));
}

proptest! {
    /// Both lines only ever rise, and the target line ends at the plan.
    #[test]
    fn the_chart_lines_rise_to_the_plan(p in plans(), today in 0i64..2500, entries in prop::collection::vec((0i64..2000, 1i64..600, any::<bool>()), 0..30)) {
        let entries: Vec<Entry> = entries
            .iter()
            .map(|(d, m, ok)| Entry {
                day: day(p.start, *d),
                minutes: *m,
                state: if *ok { EntryState::Approved } else { EntryState::Pending },
            })
            .collect();
        let weeks = weekly(&p, &entries, day(p.start, today));
        prop_assert_eq!(weeks.last().map(|w| w.target), Some(p.planned));
        for pair in weeks.windows(2) {
            prop_assert!(pair[0].target <= pair[1].target);
            if let (Some(a), Some(b)) = (pair[0].approved, pair[1].approved) {
                prop_assert!(a <= b);
            }
            prop_assert!(pair[0].approved.is_some() || pair[1].approved.is_none(), "actuals stop at today");
        }
    }
}

#[test]
fn behind_is_short_of_the_target_by_more_than_the_margin() {
    let start = date!(2026 - 01 - 05);
    let p = plan(start, 100, 100 * 60, vec![]);
    let today = day(start, 50);
    assert_eq!(p.target_on(today), 50 * 60);
    assert!(
        !behind(&p, 45 * 60, today, 10),
        "10 % short is within a 10 % margin"
    );
    assert!(behind(&p, 45 * 60 - 1, today, 10));
    assert!(!behind(&p, 0, start, 10), "nothing due on the first day");
    assert!(!behind(&p, 0, today, 100), "a margin of 100 % flags no one");
}

proptest! {
    /// More approved minutes, or a wider margin, never makes a learner behind.
    #[test]
    fn more_hours_or_a_wider_margin_never_puts_anyone_behind(
        p in plans(), on in 0i64..2000, approved in 0i64..200_000, more in 0i64..10_000, margin in 0u8..100, wider in 0u8..20,
    ) {
        let today = day(p.start, on);
        if !behind(&p, approved, today, margin) {
            prop_assert!(!behind(&p, approved + more, today, margin));
            prop_assert!(!behind(&p, approved, today, margin.saturating_add(wider)));
        }
    }
}

#[test]
fn behind_from_is_the_first_day_short_by_more_than_the_margin() {
    let start = date!(2026 - 01 - 05);
    let p = plan(start, 100, 100 * 60, vec![]);
    // 45 hours approved with a 10 % margin: behind once 90 % of the target passes 45
    // hours, i.e. once the target passes 50 hours.
    let from = behind_from(&p, 45 * 60, 10).expect("behind some day");
    assert!(behind(&p, 45 * 60, from, 10));
    assert!(!behind(&p, 45 * 60, from.previous_day().unwrap(), 10));
    assert!(p.target_on(from) > 50 * 60);
    assert_eq!(
        behind_from(&p, 90 * 60, 10),
        None,
        "90 % of the plan is enough"
    );
    assert_eq!(behind_from(&p, 0, 10), Some(day(start, 1)), "nothing done");
}

#[test]
fn a_break_must_not_overlap_or_run_backwards() {
    let start = date!(2026 - 01 - 05);
    let existing = Break {
        from: day(start, 10),
        to: day(start, 19),
    };
    let p = plan(start, 100, 6000, vec![existing]);
    let b = |f, t| Break {
        from: day(start, f),
        to: day(start, t),
    };
    assert_eq!(
        check_break(&p, b(30, 29)),
        Err(BreakRefusal::EndsBeforeItStarts)
    );
    assert_eq!(check_break(&p, b(-1, 3)), Err(BreakRefusal::BeforeStart));
    assert_eq!(check_break(&p, b(19, 25)), Err(BreakRefusal::Overlaps));
    assert_eq!(check_break(&p, b(0, 10)), Err(BreakRefusal::Overlaps));
    assert_eq!(check_break(&p, b(20, 20)), Ok(()));
    assert_eq!(check_break(&p, b(0, 9)), Ok(()));
}

proptest! {
    /// `behind_from` says exactly the days `behind` does: none before it, all from it.
    #[test]
    fn behind_from_agrees_with_behind_on_every_day(
        p in plans(), approved in 0i64..100_000, margin in 0u8..=100, on in -5i64..2500,
    ) {
        let today = day(p.start, on);
        let flagged = behind_from(&p, approved, margin).is_some_and(|from| today >= from);
        prop_assert_eq!(flagged, behind(&p, approved, today, margin));
    }
}
