//! Where an apprenticeship's OTJ hours stand (issue 14, point 3), as the learner's,
//! assessor's and employer's pages show it: to-date target against approved hours, the
//! forecast, and the weekly chart with its figures as a table. Read from the kept
//! figures and the approved minutes of each day, never from the whole log.
use time::Date;

use crate::db::apprenticeships::{Apprenticeship, BreakRow};
use crate::db::otj as db_otj;
use crate::domain::apprenticeship::{self, Minutes};
use crate::domain::otj::hours_text;
use crate::web::charts;
use crate::web::home::date_text;
use crate::web::{AppError, AppState};

pub(crate) struct WeekRow {
    pub ends: String,
    pub target: String,
    pub approved: String,
}

/// The figures and chart of one apprenticeship on a day.
pub(crate) struct OtjProgress {
    pub start: String,
    pub planned_end: String,
    /// The end pushed out by breaks, when there are any.
    pub adjusted_end: Option<String>,
    pub contracted: String,
    pub planned: String,
    pub default: String,
    pub override_reason: Option<String>,
    pub target: String,
    pub approved: String,
    pub pending: String,
    pub pending_entries: i32,
    pub forecast: String,
    /// Short of the to-date target by more than the centre's margin.
    pub behind: bool,
    pub in_break: bool,
    pub chart: String,
    pub weeks: Vec<WeekRow>,
}

pub(crate) fn hours(m: Minutes) -> String {
    match hours_text(m).as_str() {
        "1" => "1 hour".to_string(),
        h => format!("{h} hours"),
    }
}

/// Builds the figures from the kept apprenticeship, its breaks and approved days.
pub(crate) async fn progress(
    state: &AppState,
    a: &Apprenticeship,
    breaks: &[BreakRow],
    today: Date,
) -> Result<OtjProgress, AppError> {
    let plan = a.plan(breaks);
    let approved_days = db_otj::approved_by_day(&state.pool, a.enrolment_id).await?;
    let weeks = apprenticeship::weekly(&plan, &approved_days, today);
    let adjusted = plan.adjusted_end();
    Ok(OtjProgress {
        start: date_text(a.start_on),
        planned_end: date_text(a.planned_end_on),
        adjusted_end: (adjusted != a.planned_end_on).then(|| date_text(adjusted)),
        contracted: hours(Minutes::from(a.weekly_minutes)),
        planned: hours(Minutes::from(a.planned_minutes)),
        default: hours(Minutes::from(a.default_minutes)),
        override_reason: a.override_reason.clone(),
        target: hours(plan.target_on(today)),
        approved: hours(a.approved_minutes),
        pending: hours(a.pending_minutes),
        pending_entries: a.pending_entries,
        forecast: hours(plan.forecast(today, a.approved_minutes)),
        behind: a.behind_on(today),
        in_break: plan.in_break(today),
        chart: charts::otj_chart("otj-chart", &weeks),
        weeks: weeks
            .iter()
            .map(|w| WeekRow {
                ends: date_text(w.ends.previous_day().unwrap_or(w.ends)),
                target: hours_text(w.target),
                approved: w.approved.map(hours_text).unwrap_or_default(),
            })
            .collect(),
    })
}
