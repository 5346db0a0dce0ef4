//! Progress reviews of an apprenticeship (issue 14, point 4; SPEC §11): due at least every
//! N ≤ 12 weeks from the start (or from the last review held), flagged when overdue, and
//! flagged again when held but still unsigned 14 days later. Pure: dates in, standing out.
use time::{Date, Duration};

use super::form::FieldError;
use super::log_filter::{date_key, parse_date};
use super::text::{self, TextField};

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

/// Who writes which part of a review: each party their own, the assessor the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Learner,
    Employer,
    Assessor,
}

impl Part {
    /// What must be written before this party signs.
    pub fn needed(self) -> &'static str {
        match self {
            Part::Learner => "learner_reflection",
            Part::Employer => "employer_comments",
            Part::Assessor => "assessor_summary",
        }
    }
}

/// What the system knew at the review, since the one before (kept in its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SinceLast {
    pub criteria_confirmed: i64,
    pub units_achieved: i64,
    pub otj_minutes_approved: i64,
    pub open_iqa_actions: i64,
    /// The totals at the review, for the next one to take its differences from.
    pub total_criteria_confirmed: i64,
    pub total_units_achieved: i64,
    pub total_otj_minutes_approved: i64,
}

impl SinceLast {
    /// From the totals now and the totals of the review before (none for the first).
    pub fn between(now: Totals, before: Option<Totals>, open_iqa_actions: i64) -> SinceLast {
        let b = before.unwrap_or_default();
        SinceLast {
            criteria_confirmed: (now.criteria_confirmed - b.criteria_confirmed).max(0),
            units_achieved: (now.units_achieved - b.units_achieved).max(0),
            otj_minutes_approved: (now.otj_minutes_approved - b.otj_minutes_approved).max(0),
            open_iqa_actions,
            total_criteria_confirmed: now.criteria_confirmed,
            total_units_achieved: now.units_achieved,
            total_otj_minutes_approved: now.otj_minutes_approved,
        }
    }

    pub fn totals(&self) -> Totals {
        Totals {
            criteria_confirmed: self.total_criteria_confirmed,
            units_achieved: self.total_units_achieved,
            otj_minutes_approved: self.total_otj_minutes_approved,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub criteria_confirmed: i64,
    pub units_achieved: i64,
    pub otj_minutes_approved: i64,
}

/// A review's parts as typed; each party's form fills its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewForm {
    pub held_on: String,
    pub attended: String,
    pub learner_reflection: String,
    pub employer_comments: String,
    pub assessor_summary: String,
    pub targets: String,
    pub next_review_on: String,
}

impl ReviewForm {
    /// The form of a review's content as stored.
    pub fn of(content: &serde_json::Value) -> ReviewForm {
        let t = |k: &str| {
            content
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        ReviewForm {
            held_on: t("held_on"),
            attended: t("attended"),
            learner_reflection: t("learner_reflection"),
            employer_comments: t("employer_comments"),
            assessor_summary: t("assessor_summary"),
            targets: t("targets"),
            next_review_on: t("next_review_on"),
        }
    }
}

fn field(
    errors: &mut Vec<FieldError>,
    f: TextField,
    value: &str,
    blank: Option<&'static str>,
) -> String {
    let v = value.trim();
    if v.is_empty() {
        if let Some(m) = blank {
            errors.push(FieldError::new(f.field, m));
        }
    } else if let Err(e) = f.check(v) {
        errors.push(e);
    }
    v.to_string()
}

/// Checks `part` of a review and writes it into `content` (the current version's, or
/// a new review's `{}`). `start` is the apprenticeship's; `weeks` the centre's interval.
pub fn write_part(
    content: &serde_json::Value,
    part: Part,
    form: &ReviewForm,
    start: Date,
    today: Date,
    weeks: u8,
) -> Result<serde_json::Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = content.clone();
    if !out.is_object() {
        out = serde_json::json!({});
    }
    match part {
        Part::Learner => {
            out["learner_reflection"] = field(
                &mut errors,
                text::LEARNER_REFLECTION,
                &form.learner_reflection,
                Some("Write your reflection on the period"),
            )
            .into();
        }
        Part::Employer => {
            out["employer_comments"] = field(
                &mut errors,
                text::EMPLOYER_COMMENTS,
                &form.employer_comments,
                Some("Write your comments on the learner's progress"),
            )
            .into();
        }
        Part::Assessor => {
            let held = parse_date(form.held_on.trim());
            match held {
                None => errors.push(FieldError::new(
                    "held_on",
                    "Enter the day the review was held, like 2026-11-24",
                )),
                Some(d) if d > today => errors.push(FieldError::new(
                    "held_on",
                    "A review is recorded once held: the day cannot be in the future",
                )),
                Some(d) if d < start => errors.push(FieldError::new(
                    "held_on",
                    "The review cannot be before the apprenticeship started",
                )),
                Some(_) => {}
            }
            let next = parse_date(form.next_review_on.trim());
            match (held, next) {
                (_, None) => errors.push(FieldError::new(
                    "next_review_on",
                    "Enter the day of the next review, like 2027-02-16",
                )),
                (Some(h), Some(n)) if n <= h => errors.push(FieldError::new(
                    "next_review_on",
                    "The next review must be after this one",
                )),
                (Some(h), Some(n))
                    if (n - h).whole_days() > i64::from(weeks.clamp(1, MAX_WEEKS)) * 7 =>
                {
                    errors.push(FieldError::new(
                        "next_review_on",
                        "The next review must be within the centre's interval between reviews",
                    ))
                }
                _ => {}
            }
            out["attended"] = field(
                &mut errors,
                text::REVIEW_ATTENDED,
                &form.attended,
                Some("Say who attended the review"),
            )
            .into();
            out["assessor_summary"] = field(
                &mut errors,
                text::ASSESSOR_SUMMARY,
                &form.assessor_summary,
                Some("Write a summary of the learner's progress"),
            )
            .into();
            out["targets"] = field(
                &mut errors,
                text::REVIEW_TARGETS,
                &form.targets,
                Some("Set the targets for the next period"),
            )
            .into();
            // The other parties may write theirs now too, as said at the meeting.
            out["learner_reflection"] = field(
                &mut errors,
                text::LEARNER_REFLECTION,
                &form.learner_reflection,
                None,
            )
            .into();
            out["employer_comments"] = field(
                &mut errors,
                text::EMPLOYER_COMMENTS,
                &form.employer_comments,
                None,
            )
            .into();
            if let (Some(h), Some(n)) = (held, next) {
                out["held_on"] = date_key(h).into();
                out["next_review_on"] = date_key(n).into();
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The employer's person a one-time signing link goes to: (name, email).
pub fn validate_signer(name: &str, email: &str) -> Result<(String, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() {
        errors.push(FieldError::new(
            "signer_name",
            "Enter the name of the person at the employer",
        ));
    } else if let Err(mut e) = text::PERSON_NAME.check(name) {
        e.field = "signer_name";
        errors.push(e);
    }
    if let Some(e) = super::form::email_error("signer_email", email) {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok((name.to_string(), email.trim().to_string()))
    } else {
        Err(errors)
    }
}

/// Whether `part` has written what it must before signing.
pub fn ready_to_sign(content: &serde_json::Value, part: Part) -> bool {
    content
        .get(part.needed())
        .and_then(|v| v.as_str())
        .is_some_and(|s| !s.trim().is_empty())
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
