//! The forms of an apprenticeship (issue 14, points 1 and 2): the centre's OTJ settings,
//! the plan, a break in learning, an OTJ entry and the assessor's decision on it. Each
//! is checked here, every problem against its field, in the words the page shows.
use time::Date;
use uuid::Uuid;

use super::apprenticeship::{self, Break, EntryRefusal, Minutes, OtjRule, MINUTES_PER_HOUR};
use super::form::FieldError;
use super::log_filter::parse_date;
use super::reviews;
use super::text::{self, TextField};

/// The activity types a new centre starts with (the funding rules' examples).
pub const DEFAULT_ACTIVITY_TYPES: [&str; 9] = [
    "Teaching of theory",
    "Practical training",
    "Shadowing",
    "Mentoring",
    "Industry visits",
    "Writing assignments",
    "Online learning",
    "Simulation exercises",
    "Attending competitions",
];

/// The most activity types a centre may list.
pub const MAX_ACTIVITY_TYPES: usize = 50;

/// The centre's rules for apprenticeships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub rule: OtjRule,
    /// Behind by more than this percentage of the to-date target is flagged.
    pub margin_percent: u8,
    /// Progress reviews are due every this many weeks (1 to 12).
    pub review_weeks: u8,
    pub activity_types: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsForm {
    /// "percent" or "weekly".
    pub rule: String,
    pub percent: String,
    pub weekly_hours: String,
    pub margin: String,
    pub review_weeks: String,
    /// One type a line.
    pub activity_types: String,
}

impl SettingsForm {
    pub fn of(s: &Settings) -> SettingsForm {
        let (rule, percent, weekly_hours) = match s.rule {
            OtjRule::PercentOfContracted(p) => ("percent", p.to_string(), String::new()),
            OtjRule::MinutesPerWeek(m) => ("weekly", String::new(), hours_text(m)),
        };
        SettingsForm {
            rule: rule.into(),
            percent,
            weekly_hours,
            margin: s.margin_percent.to_string(),
            review_weeks: s.review_weeks.to_string(),
            activity_types: s.activity_types.join("\n"),
        }
    }
}

pub fn validate_settings(form: &SettingsForm) -> Result<Settings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let rule = match form.rule.as_str() {
        "percent" => match whole(&form.percent, 1, 100) {
            Some(p) => Some(OtjRule::PercentOfContracted(p as u8)),
            None => {
                errors.push(FieldError::new(
                    "percent",
                    "Enter a percentage of the contracted hours from 1 to 100",
                ));
                None
            }
        },
        "weekly" => match parse_hours(&form.weekly_hours) {
            Some(m) if m > 0 && m <= 60 * MINUTES_PER_HOUR => Some(OtjRule::MinutesPerWeek(m)),
            _ => {
                errors.push(FieldError::new(
                    "weekly_hours",
                    "Enter the hours a week, like 6 or 7.5, up to 60",
                ));
                None
            }
        },
        _ => {
            errors.push(FieldError::new(
                "rule",
                "Select how the planned off-the-job hours are worked out",
            ));
            None
        }
    };
    let margin = whole(&form.margin, 0, 100);
    if margin.is_none() {
        errors.push(FieldError::new(
            "margin",
            "Enter a margin from 0 to 100 per cent",
        ));
    }
    let weeks = whole(&form.review_weeks, 0, 255).and_then(|w| reviews::interval(w as u8).ok());
    if weeks.is_none() {
        errors.push(FieldError::new(
            "review_weeks",
            "Enter a number of weeks from 1 to 12: reviews are due at least every 12 weeks",
        ));
    }
    let mut types: Vec<String> = Vec::new();
    for line in form.activity_types.lines() {
        let t = line.trim();
        if t.is_empty() || types.iter().any(|k| k.eq_ignore_ascii_case(t)) {
            continue;
        }
        if let Err(mut e) = text::ACTIVITY_TYPE.check(t) {
            e.field = "activity_types";
            errors.push(e);
            break;
        }
        types.push(t.to_string());
    }
    if types.is_empty() {
        errors.push(FieldError::new(
            "activity_types",
            "Enter at least one activity type, one a line",
        ));
    } else if types.len() > MAX_ACTIVITY_TYPES {
        errors.push(FieldError::new(
            "activity_types",
            "Enter at most 50 activity types",
        ));
    }
    match (rule, margin, weeks) {
        (Some(rule), Some(m), Some(w)) if errors.is_empty() => Ok(Settings {
            rule,
            margin_percent: m as u8,
            review_weeks: w,
            activity_types: types,
        }),
        _ => Err(errors),
    }
}

/// A whole number from `min` to `max`, as typed.
fn whole(text: &str, min: i64, max: i64) -> Option<i64> {
    let t = text.trim().trim_end_matches('%').trim();
    if t.is_empty() || t.len() > 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok().filter(|n| (min..=max).contains(n))
}

/// Hours as people write them: "7", "7.5", "348.75" (to the nearest minute), "7:30".
pub fn parse_hours(text: &str) -> Option<Minutes> {
    let t = text.trim();
    if t.is_empty() || t.len() > 12 {
        return None;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((h, m)) = t.split_once(':') {
        if !digits(h) || !digits(m) || m.len() != 2 {
            return None;
        }
        let m: i64 = m.parse().ok()?;
        return (m < 60).then_some(h.parse::<i64>().ok()? * MINUTES_PER_HOUR + m);
    }
    let (whole, fraction) = match t.split_once('.') {
        Some((w, f)) if digits(f) => (w, f),
        Some(_) => return None,
        None => (t, ""),
    };
    if !digits(whole) || fraction.len() > 2 {
        return None;
    }
    let hundredths = format!("{fraction:0<2}").parse::<i64>().ok()?;
    Some(whole.parse::<i64>().ok()? * MINUTES_PER_HOUR + (hundredths * MINUTES_PER_HOUR + 50) / 100)
}

/// Minutes as hours to type back: "7", "7.5", "7.25", "7.33".
pub fn hours_text(m: Minutes) -> String {
    let whole = m / MINUTES_PER_HOUR;
    let hundredths = (m % MINUTES_PER_HOUR * 100 + MINUTES_PER_HOUR / 2) / MINUTES_PER_HOUR;
    match hundredths {
        0 => whole.to_string(),
        h if h % 10 == 0 => format!("{whole}.{}", h / 10),
        h => format!("{whole}.{h:02}"),
    }
}

fn date_field(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    text: &str,
    message: &'static str,
) -> Option<Date> {
    let d = parse_date(text.trim());
    if d.is_none() {
        errors.push(FieldError::new(field, message));
    }
    d
}

fn reason(
    errors: &mut Vec<FieldError>,
    field: TextField,
    value: &str,
    blank: &'static str,
) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field.field, blank));
    } else if let Err(e) = field.check(v) {
        errors.push(e);
    }
    v.to_string()
}

/// The apprenticeship's plan as an admin sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanForm {
    pub start: String,
    pub planned_end: String,
    pub weekly_hours: String,
    /// Blank for the centre's default.
    pub planned_hours: String,
    /// Why the plan differs from the default.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPlan {
    pub start: Date,
    pub planned_end: Date,
    pub weekly_minutes: Minutes,
    pub default_minutes: Minutes,
    pub planned_minutes: Minutes,
    /// Set when the plan is not the default.
    pub override_reason: Option<String>,
}

/// The longest programme taken: ten years.
const MAX_PROGRAMME_DAYS: i64 = 3_653;

pub fn validate_plan(form: &PlanForm, rule: OtjRule) -> Result<ValidPlan, Vec<FieldError>> {
    let mut errors = Vec::new();
    let start = date_field(
        &mut errors,
        "start",
        &form.start,
        "Enter the start date, like 2026-09-01",
    );
    let end = date_field(
        &mut errors,
        "planned_end",
        &form.planned_end,
        "Enter the planned end date, like 2027-09-01",
    );
    if let (Some(s), Some(e)) = (start, end) {
        let days = (e - s).whole_days();
        if days < 7 {
            errors.push(FieldError::new(
                "planned_end",
                "The planned end must be at least a week after the start",
            ));
        } else if days > MAX_PROGRAMME_DAYS {
            errors.push(FieldError::new(
                "planned_end",
                "The planned end must be within ten years of the start",
            ));
        }
    }
    let weekly = parse_hours(&form.weekly_hours).filter(|m| *m > 0 && *m <= 80 * MINUTES_PER_HOUR);
    if weekly.is_none() {
        errors.push(FieldError::new(
            "weekly_hours",
            "Enter the contracted hours a week, like 30 or 37.5, up to 80",
        ));
    }
    let planned = if form.planned_hours.trim().is_empty() {
        None
    } else {
        let p = parse_hours(&form.planned_hours).filter(|m| *m <= 20_000 * MINUTES_PER_HOUR);
        if p.is_none() {
            errors.push(FieldError::new(
                "planned_hours",
                "Enter the planned off-the-job hours, like 280 or 280.5, or leave it blank for the default",
            ));
        }
        p
    };
    let (Some(start), Some(end), Some(weekly)) = (start, end, weekly) else {
        return Err(errors);
    };
    let default = apprenticeship::default_planned(rule, weekly, start, end);
    let planned_minutes = planned.unwrap_or(default);
    let override_reason = if planned_minutes != default {
        Some(reason(
            &mut errors,
            text::PLAN_REASON,
            &form.reason,
            "Say why the plan differs from the centre's default",
        ))
    } else {
        None
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidPlan {
        start,
        planned_end: end,
        weekly_minutes: weekly,
        default_minutes: default,
        planned_minutes,
        override_reason,
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreakForm {
    pub from: String,
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidBreak {
    pub dates: Break,
    pub reason: String,
}

pub fn validate_break(
    form: &BreakForm,
    plan: &apprenticeship::Plan,
) -> Result<ValidBreak, Vec<FieldError>> {
    let mut errors = Vec::new();
    let from = date_field(
        &mut errors,
        "from",
        &form.from,
        "Enter the first day of the break, like 2027-01-04",
    );
    let to = date_field(
        &mut errors,
        "to",
        &form.to,
        "Enter the last day of the break, like 2027-02-26",
    );
    let why = reason(
        &mut errors,
        text::BREAK_REASON,
        &form.reason,
        "Say why learning is paused",
    );
    if let (Some(from), Some(to)) = (from, to) {
        let dates = Break { from, to };
        if let Err(refusal) = apprenticeship::check_break(plan, dates) {
            let field = match refusal {
                apprenticeship::BreakRefusal::EndsBeforeItStarts => "to",
                _ => "from",
            };
            errors.push(FieldError::new(field, refusal.message()));
        }
        if errors.is_empty() {
            return Ok(ValidBreak { dates, reason: why });
        }
    }
    Err(errors)
}

/// An OTJ entry as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryForm {
    pub day: String,
    pub hours: String,
    pub minutes: String,
    pub activity: String,
    pub what: String,
    pub evidence: Vec<String>,
    /// References as people write them: "201 1.1, 201 1.2".
    pub criteria: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEntry {
    pub day: Date,
    pub minutes: Minutes,
    pub activity: String,
    pub what: String,
    pub evidence: Vec<Uuid>,
    pub criteria: Vec<Uuid>,
}

/// A criterion reference that names no criterion of the learner's qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCriterion;

/// Criteria written as unit and number ("201 1.1", "201/1.2"), separated by commas,
/// semicolons or lines; `criterion` finds each in the learner's qualification.
pub fn criteria_refs(
    text: &str,
    criterion: &dyn Fn(&str, &str) -> Option<Uuid>,
) -> Result<Vec<Uuid>, UnknownCriterion> {
    let mut out = Vec::new();
    for part in text
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (unit, number) = part
            .split_once(['/', ' '])
            .map(|(u, n)| (u.trim(), n.trim()))
            .ok_or(UnknownCriterion)?;
        out.push(criterion(unit, number).ok_or(UnknownCriterion)?);
        if out.len() > 500 {
            return Err(UnknownCriterion);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl EntryForm {
    /// The form of an entry, to edit; `refs` writes its criteria back as references.
    pub fn of(e: &ValidEntry, refs: &dyn Fn(Uuid) -> Option<String>) -> EntryForm {
        EntryForm {
            day: super::log_filter::date_key(e.day),
            hours: (e.minutes / MINUTES_PER_HOUR).to_string(),
            minutes: (e.minutes % MINUTES_PER_HOUR).to_string(),
            activity: e.activity.clone(),
            what: e.what.clone(),
            evidence: e.evidence.iter().map(Uuid::to_string).collect(),
            criteria: e
                .criteria
                .iter()
                .filter_map(|c| refs(*c))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Checks what can be checked without the log: the day's own checks (future, break,
/// 24 hours) come from `apprenticeship::check_entry` with the day's other entries.
pub fn validate_entry(
    form: &EntryForm,
    activity_types: &[String],
    known_evidence: &dyn Fn(Uuid) -> bool,
    criterion: &dyn Fn(&str, &str) -> Option<Uuid>,
) -> Result<ValidEntry, Vec<FieldError>> {
    let mut errors = Vec::new();
    let day = date_field(
        &mut errors,
        "day",
        &form.day,
        "Enter the day, like 2026-11-24",
    );
    let h = if form.hours.trim().is_empty() {
        Some(0)
    } else {
        whole(&form.hours, 0, 24)
    };
    let m = if form.minutes.trim().is_empty() {
        Some(0)
    } else {
        whole(&form.minutes, 0, 59)
    };
    let minutes = match (h, m) {
        (Some(h), Some(m)) if h * MINUTES_PER_HOUR + m > 24 * MINUTES_PER_HOUR => {
            errors.push(FieldError::new("hours", "An entry can be at most 24 hours"));
            None
        }
        (Some(0), Some(0)) => {
            errors.push(FieldError::new("hours", EntryRefusal::NoTime.message()));
            None
        }
        (Some(h), Some(m)) => Some(h * MINUTES_PER_HOUR + m),
        (None, _) => {
            errors.push(FieldError::new(
                "hours",
                "Enter the hours as a whole number from 0 to 24",
            ));
            None
        }
        (_, None) => {
            errors.push(FieldError::new(
                "minutes",
                "Enter the minutes as a whole number from 0 to 59",
            ));
            None
        }
    };
    let activity = activity_types
        .iter()
        .find(|t| **t == form.activity.trim())
        .cloned();
    if activity.is_none() {
        errors.push(FieldError::new("activity", "Select the kind of activity"));
    }
    let what = reason(
        &mut errors,
        text::OTJ_WHAT,
        &form.what,
        "Say what was done and what was learned",
    );
    let mut evidence = Vec::new();
    for v in form.evidence.iter().filter(|v| !v.trim().is_empty()) {
        match Uuid::parse_str(v.trim()) {
            Ok(id) if known_evidence(id) => evidence.push(id),
            _ => {
                errors.push(FieldError::new(
                    "evidence",
                    "Select evidence of this learner's portfolio",
                ));
                break;
            }
        }
    }
    evidence.sort();
    evidence.dedup();
    let criteria = criteria_refs(&form.criteria, criterion);
    if criteria.is_err() {
        errors.push(FieldError::new(
            "criteria",
            "Enter criteria of this learner's qualification as unit and number, like 201 1.1, 201 1.2",
        ));
    }
    let evidence = Some(evidence);
    let criteria = criteria.ok();
    match (day, minutes, activity, evidence, criteria) {
        (Some(day), Some(minutes), Some(activity), Some(evidence), Some(criteria))
            if errors.is_empty() =>
        {
            Ok(ValidEntry {
                day,
                minutes,
                activity,
                what,
                evidence,
                criteria,
            })
        }
        _ => Err(errors),
    }
}

/// A refusal from the plan's checks, against its field.
pub fn entry_refusal(r: EntryRefusal) -> FieldError {
    let field = match r {
        EntryRefusal::NoTime | EntryRefusal::OverADay => "hours",
        EntryRefusal::InTheFuture | EntryRefusal::BeforeStart | EntryRefusal::InBreak => "day",
    };
    FieldError::new(field, r.message())
}

/// The assessor's decision on an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject(String),
}

pub fn validate_decision(decision: &str, why: &str) -> Result<Decision, Vec<FieldError>> {
    match decision {
        "approve" => Ok(Decision::Approve),
        "reject" => {
            let mut errors = Vec::new();
            let r = reason(
                &mut errors,
                text::OTJ_REJECT_REASON,
                why,
                "Say why the entry is rejected, so the learner can put it right",
            );
            if errors.is_empty() {
                Ok(Decision::Reject(r))
            } else {
                Err(errors)
            }
        }
        _ => Err(vec![FieldError::new(
            "decision",
            "Select approve or reject",
        )]),
    }
}

#[cfg(test)]
#[path = "otj_tests.rs"]
mod tests;
