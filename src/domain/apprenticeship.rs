//! An apprenticeship's off-the-job (OTJ) training plan and where it stands (issue 14,
//! point 1; SPEC §11). Pure: dates in, minutes out.
//!
//! The clock runs from the start date, one day at a time, except inside a break in
//! learning, which pauses it. The planned programme is the days from start to planned end;
//! a break pushes the end out by its length (`adjusted_end`), so the to-date target is the
//! plan × the share of the planned days the clock has run, and reaches the plan exactly at
//! the adjusted end. A break can therefore only ever hold the target back, never raise it.
use time::Date;

/// Minutes: the unit every duration is kept in (hours as people write them are shown).
pub type Minutes = i64;

pub const MINUTES_PER_HOUR: Minutes = 60;

/// How a centre computes the default plan from the contracted hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtjRule {
    /// This percentage of the contracted weekly hours, each working week.
    PercentOfContracted(u8),
    /// A fixed number of minutes each working week.
    MinutesPerWeek(Minutes),
}

/// Statutory annual leave in England: 5.6 weeks a year, taken out of the weeks of the
/// programme before the plan is worked out (as the funding rules do).
pub const LEAVE_WEEKS_PER_YEAR_TENTHS: i64 = 56;

/// A break in learning: the clock is paused from `from` to `to`, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Break {
    pub from: Date,
    pub to: Date,
}

impl Break {
    fn days(self) -> i64 {
        (self.to - self.from).whole_days() + 1
    }

    fn contains(self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}

/// An apprenticeship's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub start: Date,
    pub planned_end: Date,
    /// The OTJ minutes planned over the programme (the default, or an admin's override).
    pub planned: Minutes,
    /// Breaks in learning, in any order, not overlapping (`validate_break` keeps them so).
    pub breaks: Vec<Break>,
}

/// The weeks of a programme from `start` to `end`, less statutory leave, in tenths of a
/// week (whole-number arithmetic, so the plan is the same on every machine).
pub fn working_week_tenths(start: Date, end: Date) -> i64 {
    let days = (end - start).whole_days().max(0);
    let week_tenths = days * 10 / 7;
    // Leave is 5.6 weeks in 52.
    let leave = week_tenths * LEAVE_WEEKS_PER_YEAR_TENTHS / 520;
    (week_tenths - leave).max(0)
}

/// The default plan: the centre's rule over the working weeks of the programme.
pub fn default_planned(
    rule: OtjRule,
    weekly_contracted: Minutes,
    start: Date,
    end: Date,
) -> Minutes {
    let per_week = match rule {
        OtjRule::PercentOfContracted(p) => weekly_contracted * Minutes::from(p) / 100,
        OtjRule::MinutesPerWeek(m) => m,
    };
    per_week.max(0) * working_week_tenths(start, end) / 10
}

impl Plan {
    /// The planned days, start to planned end.
    fn planned_days(&self) -> i64 {
        (self.planned_end - self.start).whole_days().max(0)
    }

    /// Days paused by breaks that began by `day` (counted up to `day`).
    fn paused_through(&self, day: Date) -> i64 {
        self.breaks
            .iter()
            .filter(|b| b.from <= day && b.to >= self.start)
            .map(|b| {
                let from = b.from.max(self.start);
                let to = b.to.min(day);
                (to - from).whole_days() + 1
            })
            .sum()
    }

    /// The days the clock has run from the start up to (not including) `day`.
    pub fn elapsed_days(&self, day: Date) -> i64 {
        if day <= self.start {
            return 0;
        }
        let previous = day.previous_day().unwrap_or(day);
        let run = (day - self.start).whole_days() - self.paused_through(previous);
        run.clamp(0, self.planned_days())
    }

    /// The planned end pushed out by every break: where the clock reaches the plan.
    pub fn adjusted_end(&self) -> Date {
        let paused: i64 = self.breaks.iter().map(|b| b.days()).sum();
        self.planned_end
            .checked_add(time::Duration::days(paused))
            .unwrap_or(self.planned_end)
    }

    /// The OTJ minutes due by `day`: the plan × the share of the planned days run.
    pub fn target_on(&self, day: Date) -> Minutes {
        let days = self.planned_days();
        if days == 0 {
            return self.planned;
        }
        // i128: a plan of years in minutes times days stays far inside it.
        (i128::from(self.planned) * i128::from(self.elapsed_days(day)) / i128::from(days))
            as Minutes
    }

    /// Where the approved minutes would reach by the adjusted end at the rate so far.
    pub fn forecast(&self, day: Date, approved: Minutes) -> Minutes {
        let run = self.elapsed_days(day);
        if run == 0 {
            return approved;
        }
        (i128::from(approved) * i128::from(self.planned_days()) / i128::from(run)) as Minutes
    }

    pub fn in_break(&self, day: Date) -> bool {
        self.breaks.iter().any(|b| b.contains(day))
    }
}

/// Behind on OTJ (issue 14, point 3): the approved minutes fall short of the to-date
/// target by more than the centre's margin, a percentage of that target. Nothing is
/// behind before anything is due.
pub fn behind(plan: &Plan, approved: Minutes, today: Date, margin_percent: u8) -> bool {
    let target = plan.target_on(today);
    let allowed = i128::from(target) * i128::from(100 - margin_percent.min(100)) / 100;
    target > 0 && i128::from(approved) < allowed
}

/// The first day the learner is `behind` with `approved` minutes, if ever: the target
/// only rises with the days, so they are behind on every day from then until more hours
/// are approved (or the plan, its breaks or the margin change). Kept with the
/// apprenticeship, this lets a list ask "behind today?" as a date comparison.
pub fn behind_from(plan: &Plan, approved: Minutes, margin_percent: u8) -> Option<Date> {
    let end = plan.adjusted_end();
    // The target stops rising the day after the adjusted end.
    let last = end.next_day().unwrap_or(end);
    if !behind(plan, approved, last, margin_percent) {
        return None;
    }
    // Binary search for the first behind day in start..=last.
    let (mut lo, mut hi) = (plan.start, last);
    while lo < hi {
        let mid = lo + time::Duration::days((hi - lo).whole_days() / 2);
        if behind(plan, approved, mid, margin_percent) {
            hi = mid;
        } else {
            lo = mid.next_day().unwrap_or(hi);
        }
    }
    Some(lo)
}

/// Why a break in learning cannot be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakRefusal {
    EndsBeforeItStarts,
    BeforeStart,
    Overlaps,
}

impl BreakRefusal {
    pub fn message(self) -> &'static str {
        match self {
            BreakRefusal::EndsBeforeItStarts => "The break must end on or after the day it starts",
            BreakRefusal::BeforeStart => "A break cannot start before the apprenticeship does",
            BreakRefusal::Overlaps => "This break overlaps another break in learning",
        }
    }
}

/// Checks a new break against the plan and its other breaks.
pub fn check_break(plan: &Plan, new: Break) -> Result<(), BreakRefusal> {
    if new.to < new.from {
        return Err(BreakRefusal::EndsBeforeItStarts);
    }
    if new.from < plan.start {
        return Err(BreakRefusal::BeforeStart);
    }
    if plan
        .breaks
        .iter()
        .any(|b| b.from <= new.to && new.from <= b.to)
    {
        return Err(BreakRefusal::Overlaps);
    }
    Ok(())
}

/// An entry of the OTJ log, as the plan's arithmetic needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub day: Date,
    pub minutes: Minutes,
    pub state: EntryState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryState {
    Pending,
    Approved,
    Rejected,
}

impl EntryState {
    pub fn key(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Approved => "approved",
            EntryState::Rejected => "rejected",
        }
    }

    pub fn from_key(key: &str) -> Option<EntryState> {
        [
            EntryState::Pending,
            EntryState::Approved,
            EntryState::Rejected,
        ]
        .into_iter()
        .find(|s| s.key() == key)
    }
}

/// Only approved minutes count.
pub fn approved(entries: &[Entry]) -> Minutes {
    entries
        .iter()
        .filter(|e| e.state == EntryState::Approved)
        .map(|e| e.minutes)
        .sum()
}

/// Why an entry cannot be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRefusal {
    NoTime,
    InTheFuture,
    BeforeStart,
    InBreak,
    OverADay,
}

impl EntryRefusal {
    pub fn message(self) -> &'static str {
        match self {
            EntryRefusal::NoTime => "Enter how long it took, more than 0 minutes",
            EntryRefusal::InTheFuture => {
                "An entry cannot be dated in the future: log it on the day, or after"
            }
            EntryRefusal::BeforeStart => "This day is before the apprenticeship started",
            EntryRefusal::InBreak => {
                "This day is inside a break in learning, when the clock is paused"
            }
            EntryRefusal::OverADay => "The entries of one day would come to more than 24 hours",
        }
    }
}

/// Checks a new (or edited) entry against the plan, today, and the other entries of the
/// same day (`same_day`, not counting the entry being edited; rejected ones never count).
pub fn check_entry(
    plan: &Plan,
    today: Date,
    day: Date,
    minutes: Minutes,
    same_day: &[Entry],
) -> Result<(), EntryRefusal> {
    if minutes <= 0 {
        return Err(EntryRefusal::NoTime);
    }
    if day > today {
        return Err(EntryRefusal::InTheFuture);
    }
    if day < plan.start {
        return Err(EntryRefusal::BeforeStart);
    }
    if plan.in_break(day) {
        return Err(EntryRefusal::InBreak);
    }
    let logged: Minutes = same_day
        .iter()
        .filter(|e| e.day == day && e.state != EntryState::Rejected)
        .map(|e| e.minutes)
        .sum();
    if logged + minutes > 24 * MINUTES_PER_HOUR {
        return Err(EntryRefusal::OverADay);
    }
    Ok(())
}

#[cfg(test)]
#[path = "apprenticeship_tests.rs"]
mod tests;

/// One week of the cumulative chart: the target at the week's end, and the approved
/// minutes by then (`None` for weeks not reached yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    /// The first day after the week: the figures are as of the start of this day.
    pub ends: Date,
    pub target: Minutes,
    pub approved: Option<Minutes>,
}

/// The weeks of the programme, start to adjusted end, with the cumulative target and
/// (up to `today`) the cumulative approved minutes: the chart's two lines.
pub fn weekly(plan: &Plan, entries: &[Entry], today: Date) -> Vec<Week> {
    let end = plan.adjusted_end();
    let mut approved_days: Vec<(Date, Minutes)> = entries
        .iter()
        .filter(|e| e.state == EntryState::Approved)
        .map(|e| (e.day, e.minutes))
        .collect();
    approved_days.sort();
    let mut weeks = Vec::new();
    let mut ends = plan.start;
    loop {
        ends = ends
            .checked_add(time::Duration::weeks(1))
            .unwrap_or(end)
            .min(end);
        let approved = (ends <= today.next_day().unwrap_or(today)).then(|| {
            approved_days
                .iter()
                .filter(|(d, _)| *d < ends)
                .map(|(_, m)| m)
                .sum()
        });
        weeks.push(Week {
            ends,
            target: plan.target_on(ends),
            approved,
        });
        if ends >= end {
            break;
        }
    }
    weeks
}
