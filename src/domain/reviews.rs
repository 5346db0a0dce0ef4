//! Progress reviews of an apprenticeship (issue 14, point 4; SPEC §11): due at least every
//! N ≤ 12 weeks from the start (or from the last review held), flagged when overdue, and
//! flagged again when held but still unsigned 14 days later. Pure: dates in, standing out.
use time::{Date, Duration};

/// The funding rules' longest gap between reviews.
pub const MAX_WEEKS: u8 = 12;

/// A review held but not signed by everyone this many days on is flagged.
pub const UNSIGNED_FLAG_DAYS: i64 = 14;

/// A centre's interval between reviews, in weeks: 1 to 12.
pub fn interval(weeks: u8) -> Result<u8, IntervalRefusal> {
    if (1..=MAX_WEEKS).contains(&weeks) {
        Ok(weeks)
    } else {
        Err(IntervalRefusal)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Enter a number of weeks from 1 to 12: reviews are due at least every 12 weeks")]
pub struct IntervalRefusal;

/// A review as the schedule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub on: Date,
    /// Signed by everyone it needs (learner, employer and assessor).
    pub fully_signed: bool,
}

/// Where an apprenticeship's reviews stand on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// When the next review is due.
    pub next_due: Date,
    /// Due date passed with no review held since.
    pub overdue: bool,
    /// Reviews held more than 14 days ago and still not fully signed.
    pub unsigned: Vec<Date>,
}

/// The schedule on `today`: the next review is due `weeks` after the last one held (or
/// after the start when none has been), however early or late that one was.
pub fn schedule(start: Date, weeks: u8, held: &[Held], today: Date) -> Schedule {
    let weeks = weeks.clamp(1, MAX_WEEKS);
    let last = held.iter().map(|h| h.on).max();
    let from = last.map_or(start, |l| l.max(start));
    let next_due = from
        .checked_add(Duration::weeks(i64::from(weeks)))
        .unwrap_or(from);
    let mut unsigned: Vec<Date> = held
        .iter()
        .filter(|h| !h.fully_signed && (today - h.on).whole_days() > UNSIGNED_FLAG_DAYS)
        .map(|h| h.on)
        .collect();
    unsigned.sort();
    Schedule {
        next_due,
        overdue: today > next_due,
        unsigned,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    #[test]
    fn the_first_review_is_due_n_weeks_from_the_start_and_then_from_the_last() {
        let start = date!(2026 - 09 - 01);
        let s = schedule(start, 12, &[], date!(2026 - 11 - 24));
        assert_eq!(s.next_due, date!(2026 - 11 - 24));
        assert!(!s.overdue, "due today is not overdue");
        assert!(schedule(start, 12, &[], date!(2026 - 11 - 25)).overdue);
        let held = [Held {
            on: date!(2026 - 11 - 10),
            fully_signed: false,
        }];
        let s = schedule(start, 12, &held, date!(2026 - 11 - 25));
        assert_eq!(s.next_due, date!(2027 - 02 - 02));
        assert!(!s.overdue);
        assert_eq!(s.unsigned, vec![date!(2026 - 11 - 10)], "15 days unsigned");
        let signed = [Held {
            fully_signed: true,
            ..held[0]
        }];
        assert!(schedule(start, 12, &signed, date!(2026 - 11 - 25))
            .unsigned
            .is_empty());
    }

    #[test]
    fn the_interval_is_one_to_twelve_weeks() {
        assert_eq!(interval(12), Ok(12));
        assert_eq!(interval(1), Ok(1));
        assert_eq!(interval(0), Err(IntervalRefusal));
        assert_eq!(interval(13), Err(IntervalRefusal));
    }

    proptest! {
        /// Whatever was held and whatever the setting, the next review is never more
        /// than 12 weeks after the last one (or the start), and holding one on time
        /// clears "overdue".
        #[test]
        fn no_gap_is_ever_longer_than_twelve_weeks(
            weeks in 0u8..30,
            held in prop::collection::vec((0i64..700, any::<bool>()), 0..8),
            today in 0i64..800,
        ) {
            let start = date!(2026 - 01 - 05);
            let held: Vec<Held> = held
                .iter()
                .map(|(d, s)| Held { on: start + Duration::days(*d), fully_signed: *s })
                .collect();
            let today = start + Duration::days(today);
            let s = schedule(start, weeks, &held, today);
            let from = held.iter().map(|h| h.on).max().unwrap_or(start).max(start);
            prop_assert!(s.next_due - from <= Duration::weeks(12));
            prop_assert!(s.next_due > from);
            let mut on_time = held.clone();
            on_time.push(Held { on: today, fully_signed: true });
            prop_assert!(!schedule(start, weeks, &on_time, today).overdue);
        }
    }
}
