use proptest::prelude::*;
use time::macros::datetime;

use super::*;

const T0: OffsetDateTime = datetime!(2025-03-01 09:00 UTC);

fn fresh() -> Tallies {
    Tallies {
        address: Some(Tally::default()),
        ..Tallies::default()
    }
}

/// Reserves and settles one attempt with `verdict`; the throttle if it was refused.
fn attempt(t: &mut Tallies, now: OffsetDateTime, verdict: Verdict) -> Result<(), Throttled> {
    let reserved = reserve(now, t)?;
    *t = settle(now, &reserved, verdict);
    Ok(())
}

#[test]
fn blank_and_malformed_fields_are_named() {
    let e = validate("  ", "");
    assert_eq!(
        e.iter().map(|e| e.field).collect::<Vec<_>>(),
        ["email", "password"]
    );
    assert_eq!(
        validate("name.example.com", "x")[0].message,
        "Enter an email address in the correct format, like name@example.com"
    );
    assert!(validate("a b@example.com", "x").len() == 1);
    assert!(validate("zoë@example.ac.nz", "x").is_empty());
}

#[test]
fn the_delays_after_the_free_failures_double_up_to_an_hour() {
    let minutes: Vec<i64> = (0..14).map(|n| pair_delay(n).whole_minutes()).collect();
    assert_eq!(minutes, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
    assert_eq!(pair_delay(u32::MAX), PAIR_MAX_DELAY);
}

#[test]
fn five_failures_from_one_address_then_that_pair_waits() {
    let mut t = fresh();
    for _ in 0..PAIR_FREE_FAILURES {
        attempt(&mut t, T0, Verdict::Wrong).expect("free");
    }
    let refused = attempt(&mut t, T0, Verdict::Right).expect_err("waits");
    assert_eq!(
        refused,
        Throttled::Pair {
            wait: Duration::minutes(1)
        }
    );
    assert!(refused.to_string().contains("Wait 1 minute and try again"));
    // A minute on, one more try; a wrong one doubles the wait.
    let later = T0 + Duration::minutes(1);
    attempt(&mut t, later, Verdict::Wrong).expect("after the wait");
    assert_eq!(
        reserve(later + Duration::seconds(90), &t),
        Err(Throttled::Pair {
            wait: Duration::seconds(30)
        })
    );
    attempt(&mut t, later + Duration::minutes(2), Verdict::Right).expect("after the wait");
    assert_eq!(t.pair.failures, 0, "a success starts the pair again");
    assert_eq!(t.account.failures, 6, "the success itself is not a failure");
}

#[test]
fn a_pairs_failures_are_forgotten_after_a_day() {
    let mut t = fresh();
    for _ in 0..8 {
        let _ = attempt(&mut t, T0, Verdict::Wrong);
    }
    assert!(reserve(T0 + Duration::seconds(30), &t).is_err());
    let next_day = T0 + PAIR_FORGET_AFTER;
    let r = reserve(next_day, &t).expect("forgotten");
    assert_eq!(r.pair.failures, 1);
}

#[test]
fn the_account_limit_counts_every_address_in_a_window() {
    let mut account = Tally::default();
    for i in 0..MAX_ACCOUNT_FAILURES {
        // Each failure from an address of its own.
        let mut t = Tallies { account, ..fresh() };
        attempt(&mut t, T0 + Duration::seconds(i.into()), Verdict::Wrong).expect("under");
        account = t.account;
    }
    let t = Tallies { account, ..fresh() };
    let now = T0 + Duration::minutes(5);
    assert_eq!(
        reserve(now, &t),
        Err(Throttled::Account {
            wait: Duration::minutes(10)
        })
    );
    assert!(reserve(T0 + WINDOW, &t).is_ok(), "a new window");
    // The owner's own address, where they signed in last week, still works.
    let known = Tallies {
        pair: Tally {
            succeeded_at: Some(T0 - Duration::days(7)),
            ..Tally::default()
        },
        ..t
    };
    assert!(reserve(now, &known).is_ok());
    let long_ago = Tallies {
        pair: Tally {
            succeeded_at: Some(T0 - KNOWN_FOR),
            ..Tally::default()
        },
        ..t
    };
    assert!(reserve(now, &long_ago).is_err());
}

#[test]
fn the_address_limit_holds_back_only_pairs_not_known_there() {
    let t = Tallies {
        address: Some(Tally {
            failures: MAX_ADDRESS_FAILURES,
            window_start: Some(T0),
            last_failure_at: Some(T0),
            succeeded_at: None,
        }),
        ..fresh()
    };
    let refused = reserve(T0, &t).expect_err("held back");
    assert!(matches!(refused, Throttled::Address { .. }));
    assert!(refused
        .to_string()
        .contains("from your network. Wait 15 minutes"));
    let known = Tallies {
        pair: Tally {
            succeeded_at: Some(T0 - Duration::hours(3)),
            ..Tally::default()
        },
        ..t
    };
    assert!(reserve(T0, &known).is_ok());
    let no_address = Tallies { address: None, ..t };
    assert!(reserve(T0, &no_address).is_ok());
}

#[test]
fn an_unchecked_attempt_is_given_back() {
    let t = fresh();
    let reserved = reserve(T0, &t).expect("admitted");
    let settled = settle(T0, &reserved, Verdict::NotChecked);
    assert_eq!(settled.pair.failures, 0);
    assert_eq!(settled.account.failures, 0);
    assert_eq!(settled.address.map(|a| a.failures), Some(0));
}

#[test]
fn next_stays_on_this_site() {
    assert_eq!(safe_next(Some("/enrolments/1")), "/enrolments/1");
    assert_eq!(safe_next(Some("/?tab=units")), "/?tab=units");
    assert_eq!(safe_next(Some("/")), "/");
    assert_eq!(safe_next(Some("//evil.example/")), "/");
    assert_eq!(safe_next(Some("/\\evil.example")), "/");
    assert_eq!(safe_next(Some("/\t/evil.example/")), "/");
    assert_eq!(safe_next(Some("/\r\n/evil.example/")), "/");
    assert_eq!(safe_next(Some("/a\r\nSet-Cookie: x=1")), "/");
    assert_eq!(safe_next(Some("/a\\b")), "/");
    assert_eq!(safe_next(Some("/a\u{7f}")), "/");
    assert_eq!(safe_next(Some("https://evil.example/")), "/");
    assert_eq!(safe_next(Some("")), "/");
    assert_eq!(safe_next(None), "/");
}

fn tally() -> impl Strategy<Value = Tally> {
    (
        0u32..200,
        proptest::option::of(-100_000i64..100),
        proptest::option::of(-100_000i64..100),
        proptest::option::of(-5_000_000i64..100),
    )
        .prop_map(|(failures, start, last, ok)| {
            let at = |s: Option<i64>| s.map(|s| T0 + Duration::seconds(s));
            Tally {
                failures,
                window_start: at(start),
                last_failure_at: at(last),
                succeeded_at: at(ok),
            }
        })
}

fn tallies() -> impl Strategy<Value = Tallies> {
    (tally(), tally(), proptest::option::of(tally())).prop_map(|(pair, account, address)| Tallies {
        pair,
        account,
        address,
    })
}

proptest! {
    #[test]
    fn the_delay_never_shrinks_as_failures_grow(a in 0u32..1000, more in 0u32..1000) {
        let (d, e) = (pair_delay(a), pair_delay(a + more));
        prop_assert!(d <= e);
        prop_assert!(e <= PAIR_MAX_DELAY);
    }

    /// However many attempts arrive at one instant, a pair's free failures are all
    /// that are checked: the property the database's row lock makes hold under load.
    #[test]
    fn attempts_at_one_instant_are_admitted_at_most_the_free_number(
        n in 0usize..60,
        account in tally(),
        address in proptest::option::of(tally()),
    ) {
        let mut t = Tallies { pair: Tally::default(), account, address };
        let mut admitted = 0;
        for _ in 0..n {
            if let Ok(next) = reserve(T0, &t) {
                admitted += 1;
                t = next;
            }
        }
        prop_assert!(admitted <= PAIR_FREE_FAILURES as usize);
    }

    /// A right password from an address starts that pair again: its next attempt is
    /// admitted, whatever the other counters say.
    #[test]
    fn a_success_from_an_address_resets_that_pair(t in tallies(), later in 0i64..3600) {
        let settled = settle(T0, &t, Verdict::Right);
        prop_assert_eq!(settled.pair.failures, 0);
        prop_assert!(reserve(T0 + Duration::seconds(later), &settled).is_ok());
    }

    /// Counting a failure never lowers a count, and a wrong password keeps it.
    #[test]
    fn a_reserved_failure_only_adds(t in tallies(), secs in -100i64..100_000) {
        let now = T0 + Duration::seconds(secs);
        if let Ok(r) = reserve(now, &t) {
            prop_assert!(r.pair.failures >= 1);
            prop_assert!(window_failures(&r.account, now) >= 1);
            prop_assert!(window_failures(&r.account, now) > window_failures(&t.account, now));
            prop_assert!(pair_failures(&r.pair, now) > pair_failures(&t.pair, now));
            prop_assert_eq!(settle(now, &r, Verdict::Wrong), r);
        }
    }

    /// A refused attempt says how long to wait, and it is never more than the longest
    /// wait there is.
    #[test]
    fn a_refusal_names_a_wait_within_the_limits(t in tallies(), secs in -100i64..100_000) {
        let now = T0 + Duration::seconds(secs);
        if let Err(refused) = reserve(now, &t) {
            let wait = match refused {
                Throttled::Pair { wait } | Throttled::Account { wait } | Throttled::Address { wait } => wait,
            };
            prop_assert!(wait > Duration::ZERO, "{refused:?}");
            prop_assert!(wait <= PAIR_MAX_DELAY.max(WINDOW), "{refused:?}");
        }
    }

    #[test]
    fn next_is_home_or_a_plain_path_on_this_site(next in any::<String>()) {
        let out = safe_next(Some(&next));
        prop_assert!(out == "/" || out == next);
        prop_assert!(out.starts_with('/'));
        prop_assert!(!out.chars().any(|c| c.is_control() || c == '\\'));
        prop_assert!(!matches!(out.chars().nth(1), Some('/' | '\\')));
    }

    #[test]
    fn next_keeps_plain_paths(path in "/[a-z0-9][a-z0-9/?=&_-]{0,40}") {
        prop_assert_eq!(safe_next(Some(&path)), path.as_str());
    }
}

mod forgetting {
    use super::super::*;
    use proptest::prelude::*;
    use time::{Duration, OffsetDateTime};

    fn at(minutes_ago: Option<i64>, now: OffsetDateTime) -> Option<OffsetDateTime> {
        minutes_ago.map(|m| now - Duration::minutes(m))
    }

    fn tally() -> impl Strategy<Value = (u32, Option<i64>, Option<i64>, Option<i64>)> {
        let ago = proptest::option::of(0i64..(60 * 24 * 40));
        (0u32..200, ago.clone(), ago.clone(), ago)
    }

    proptest! {
        /// A forgotten counter judges every attempt, now and later, exactly as no
        /// counter at all, in whichever place it stands.
        #[test]
        fn a_forgotten_counter_judges_as_none(
            (failures, window, last, success) in tally(),
            (o_failures, o_window, o_last, o_success) in tally(),
            later in 0i64..(60 * 24 * 60),
        ) {
            let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
            let t = Tally {
                failures,
                window_start: at(window, now),
                last_failure_at: at(last, now),
                succeeded_at: at(success, now),
            };
            let other = Tally {
                failures: o_failures,
                window_start: at(o_window, now),
                last_failure_at: at(o_last, now),
                succeeded_at: at(o_success, now),
            };
            prop_assume!(forgotten(&t, now));
            let then = now + Duration::minutes(later);
            prop_assert!(forgotten(&t, then), "forgotten stays forgotten");
            let none = Tally::default();
            for (with, without) in [
                (Tallies { pair: t, account: other, address: Some(other) },
                 Tallies { pair: none, account: other, address: Some(other) }),
                (Tallies { pair: other, account: t, address: Some(other) },
                 Tallies { pair: other, account: none, address: Some(other) }),
                (Tallies { pair: other, account: other, address: Some(t) },
                 Tallies { pair: other, account: other, address: Some(none) }),
            ] {
                prop_assert_eq!(admit(then, &with), admit(then, &without));
            }
        }
    }

    #[test]
    fn recent_failures_windows_and_successes_are_remembered() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let failed = Tally {
            failures: 3,
            last_failure_at: Some(now - Duration::hours(23)),
            ..Tally::default()
        };
        let window = Tally {
            failures: 3,
            window_start: Some(now - Duration::minutes(10)),
            ..Tally::default()
        };
        let known_pair = Tally {
            succeeded_at: Some(now - Duration::days(29)),
            ..Tally::default()
        };
        for t in [failed, window, known_pair] {
            assert!(!forgotten(&t, now), "{t:?}");
        }
        let old = Tally {
            failures: 9,
            window_start: Some(now - Duration::days(2)),
            last_failure_at: Some(now - Duration::days(2)),
            succeeded_at: Some(now - Duration::days(31)),
        };
        assert!(forgotten(&old, now));
    }
}
