//! Retention and erasure (SPEC §12, issue 16 point 5): how long a centre keeps a
//! certified portfolio, when one is past it, and what an erased learner is called from
//! then on.
use time::{Date, Month};
use uuid::Uuid;

use super::form::FieldError;

/// Awarding bodies' usual minimum: three years after certification.
pub const DEFAULT_YEARS: u8 = 3;
pub const MOST_YEARS: u8 = 50;

/// The centre's retention period, in whole years after certification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionYears(u8);

impl RetentionYears {
    pub fn get(self) -> u8 {
        self.0
    }

    /// As typed in the settings form.
    pub fn parse(typed: &str) -> Result<RetentionYears, FieldError> {
        match typed.trim().parse::<u8>() {
            Ok(n) if (1..=MOST_YEARS).contains(&n) => Ok(RetentionYears(n)),
            _ => Err(FieldError::new(
                "retention_years",
                "Enter a whole number of years from 1 to 50",
            )),
        }
    }

    /// As the database keeps it (checked there to the same range).
    pub fn from_stored(n: i16) -> RetentionYears {
        RetentionYears(u8::try_from(n.clamp(1, i16::from(MOST_YEARS))).unwrap_or(DEFAULT_YEARS))
    }
}

/// The last day a portfolio certified on `certified` must be kept: the same day
/// `years` later (28 February for a 29 February in a year that has none), less one.
pub fn kept_until(certified: Date, years: RetentionYears) -> Date {
    let year = certified.year() + i32::from(years.get());
    let day = certified.day().min(days_in(year, certified.month()));
    let anniversary = Date::from_calendar_date(year, certified.month(), day).unwrap_or(certified);
    anniversary.previous_day().unwrap_or(anniversary)
}

fn days_in(year: i32, month: Month) -> u8 {
    time::util::days_in_month(month, year)
}

/// Whether a portfolio certified on `certified` may be archived on `today`.
pub fn past_retention(certified: Date, years: RetentionYears, today: Date) -> bool {
    today > kept_until(certified, years)
}

/// The latest day of certification whose portfolio may be archived on `today`: every
/// portfolio certified on it or before is past retention, none after it.
pub fn latest_archivable(today: Date, years: RetentionYears) -> Date {
    let year = today.year() - i32::from(years.get());
    let day = today.day().min(days_in(year, today.month()));
    let mut latest = Date::from_calendar_date(year, today.month(), day).unwrap_or(today);
    // A 29 February certification reaches its anniversary on 28 February.
    while latest < today && past_retention(latest.next_day().unwrap_or(latest), years, today) {
        latest = latest.next_day().unwrap_or(latest);
    }
    while latest > Date::MIN && !past_retention(latest, years, today) {
        latest = latest.previous_day().unwrap_or(latest);
    }
    latest
}

/// Why a portfolio is not archived, or a learner not erased (answered 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionRefusal {
    #[error("this portfolio has no issued credential, so it is not past retention")]
    NotCertified,
    #[error("this portfolio must be kept until {0}")]
    StillKept(String),
    #[error("this portfolio was archived already")]
    AlreadyArchived,
    #[error("only a learner's personal data is erased here")]
    NotALearner,
    #[error("this learner's personal data was erased already")]
    AlreadyErased,
}

/// Whether the portfolio certified on `certified` (if it was) may be archived `today`.
pub fn may_archive(
    certified: Option<Date>,
    archived: bool,
    years: RetentionYears,
    today: Date,
) -> Result<(), RetentionRefusal> {
    if archived {
        return Err(RetentionRefusal::AlreadyArchived);
    }
    let certified = certified.ok_or(RetentionRefusal::NotCertified)?;
    if !past_retention(certified, years, today) {
        let until = kept_until(certified, years);
        return Err(RetentionRefusal::StillKept(format!(
            "{} {} {}",
            until.day(),
            until.month(),
            until.year()
        )));
    }
    Ok(())
}

/// What an erased learner's account is called from then on: nothing of the person, and
/// still told apart from other erased learners in the records that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudonym {
    pub display_name: String,
    pub email: String,
}

pub fn pseudonym(user_id: Uuid) -> Pseudonym {
    let id = user_id.simple().to_string();
    Pseudonym {
        // The id's last digits: its first are a time in version 7 ids, the same for
        // every account made in the same minute.
        display_name: format!("Erased learner {}", id[id.len() - 8..].to_uppercase()),
        // `.invalid` never delivers (RFC 2606): no mail can reach anyone.
        email: format!("erased-{id}@erased.invalid"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    #[test]
    fn the_period_is_whole_years_from_1_to_50() {
        assert_eq!(RetentionYears::parse(" 3 ").map(RetentionYears::get), Ok(3));
        assert_eq!(RetentionYears::parse("50").map(RetentionYears::get), Ok(50));
        for bad in ["0", "51", "-1", "2.5", "three", ""] {
            let e = RetentionYears::parse(bad).unwrap_err();
            assert_eq!(e.field, "retention_years", "{bad}");
        }
    }

    #[test]
    fn a_portfolio_is_kept_to_the_day_before_its_anniversary() {
        let three = RetentionYears::parse("3").unwrap();
        assert_eq!(
            kept_until(date!(2023 - 07 - 14), three),
            date!(2026 - 07 - 13)
        );
        assert!(!past_retention(
            date!(2023 - 07 - 14),
            three,
            date!(2026 - 07 - 13)
        ));
        assert!(past_retention(
            date!(2023 - 07 - 14),
            three,
            date!(2026 - 07 - 14)
        ));
        // 29 February, three years on, has no day of its own.
        assert_eq!(
            kept_until(date!(2024 - 02 - 29), three),
            date!(2027 - 02 - 27)
        );
    }

    #[test]
    fn only_a_certified_portfolio_past_its_period_is_archived_and_once() {
        let three = RetentionYears::parse("3").unwrap();
        let today = date!(2026 - 12 - 04);
        assert_eq!(
            may_archive(None, false, three, today),
            Err(RetentionRefusal::NotCertified)
        );
        assert_eq!(
            may_archive(Some(date!(2024 - 01 - 10)), false, three, today),
            Err(RetentionRefusal::StillKept("9 January 2027".into()))
        );
        assert_eq!(
            may_archive(Some(date!(2023 - 12 - 04)), false, three, today),
            Ok(())
        );
        assert_eq!(
            may_archive(Some(date!(2020 - 01 - 01)), true, three, today),
            Err(RetentionRefusal::AlreadyArchived)
        );
    }

    #[test]
    fn an_erased_learner_is_named_by_nothing_of_theirs() {
        let id = Uuid::parse_str("3f2a9c10-0000-4000-8000-00000a1b2c3d").unwrap();
        let p = pseudonym(id);
        assert_eq!(p.display_name, "Erased learner 0A1B2C3D");
        // Accounts made in the same minute (version 7 ids share their start) differ.
        let a = Uuid::parse_str("01a24250-a84e-7496-823f-910d6cf2a518").unwrap();
        let b = Uuid::parse_str("01a24250-a84f-7001-8c00-00000000beef").unwrap();
        assert_ne!(pseudonym(a).display_name, pseudonym(b).display_name);
        assert_eq!(
            p.email,
            "erased-3f2a9c1000004000800000000a1b2c3d@erased.invalid"
        );
    }

    proptest! {
        #[test]
        fn the_latest_archivable_day_splits_past_from_kept(
            day in 0i32..40_000, today in 20_000i32..40_000, years in 1u8..=50
        ) {
            let certified = Date::from_julian_day(2_440_588 + day).unwrap();
            let today = Date::from_julian_day(2_440_588 + today).unwrap();
            let years = RetentionYears(years);
            let latest = latest_archivable(today, years);
            prop_assert_eq!(past_retention(certified, years, today), certified <= latest,
                "certified {} today {} latest {}", certified, today, latest);
        }

        #[test]
        fn kept_at_least_the_years_and_at_most_a_day_more(
            day in 0i32..40_000, years in 1u8..=50
        ) {
            let certified = Date::from_julian_day(2_440_588 + day).unwrap();
            let years = RetentionYears(years);
            let until = kept_until(certified, years);
            let span = (until - certified).whole_days();
            let least = 365 * i64::from(years.get()) - 1;
            prop_assert!(span >= least, "{certified} → {until}");
            prop_assert!(span <= 366 * i64::from(years.get()), "{certified} → {until}");
            prop_assert!(!past_retention(certified, years, until));
            prop_assert!(past_retention(certified, years, until.next_day().unwrap()));
        }
    }
}
