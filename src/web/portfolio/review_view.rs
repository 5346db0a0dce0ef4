//! A progress review as the learner's, assessor's and employer's pages show it, and its
//! printout: the content of its current version, what the system knew since the last
//! review, and how its signatures stand.
use uuid::Uuid;

use crate::db::reviews::ReviewRow;
use crate::db::signatures::{self, Whole};
use crate::domain::reviews::{Part, ReviewForm, SinceLast};
use crate::domain::signature::{Capacity, Standing};
use crate::web::home::{date_text, day};
use crate::web::signed::{self, SignedView};
use crate::web::{AppError, AppState};

use super::otj_view::hours;

pub(crate) struct ReviewView {
    pub id: Uuid,
    pub held_on: String,
    pub recorded: String,
    pub content: ReviewForm,
    pub next_review_on: String,
    /// "12 criteria confirmed, …" since the last review.
    pub since: Vec<String>,
    pub signed: SignedView,
    pub locked: bool,
    /// Capacities still to sign the current version.
    pub missing: Vec<Capacity>,
    pub version: i32,
}

impl ReviewView {
    pub fn awaits(&self, c: &Capacity) -> bool {
        self.missing.contains(c)
    }
}

fn since_words(s: &SinceLast) -> Vec<String> {
    let n = |v: i64, one: &str, many: &str| format!("{v} {}", if v == 1 { one } else { many });
    vec![
        format!(
            "{} confirmed",
            n(s.criteria_confirmed, "criterion", "criteria")
        ),
        format!("{} achieved", n(s.units_achieved, "unit", "units")),
        format!(
            "{} of off-the-job training approved",
            hours(s.otj_minutes_approved)
        ),
        format!(
            "{} open",
            n(s.open_iqa_actions, "IQA action", "IQA actions")
        ),
    ]
}

pub(crate) fn view(row: &ReviewRow, whole: &Whole) -> ReviewView {
    let content = whole
        .current()
        .map(|v| v.content.clone())
        .unwrap_or_default();
    let since = content
        .get("since")
        .cloned()
        .and_then(|s| serde_json::from_value::<SinceLast>(s).ok())
        .map(|s| since_words(&s))
        .unwrap_or_default();
    let form = ReviewForm::of(&content);
    let missing = match &whole.standing {
        Standing::Signed => Vec::new(),
        Standing::AwaitingSignatures { missing } | Standing::ChangedSinceSigned { missing } => {
            missing.clone()
        }
    };
    ReviewView {
        id: row.id,
        held_on: date_text(row.held_on),
        recorded: format!("{} by {}", day(&row.recorded_at), row.recorded_by_name),
        next_review_on: crate::domain::log_filter::parse_date(&form.next_review_on)
            .map(date_text)
            .unwrap_or_default(),
        content: form,
        since,
        signed: signed::view(whole),
        locked: whole.standing == Standing::Signed,
        missing,
        version: whole.item.current_version,
    }
}

pub(crate) async fn load(state: &AppState, row: &ReviewRow) -> Result<ReviewView, AppError> {
    let item = signatures::get(&state.pool, row.id).await?;
    let whole = signatures::whole(&state.pool, item).await?;
    Ok(view(row, &whole))
}

/// The capacity a part signs in.
pub(crate) fn capacity_of(part: Part) -> Capacity {
    match part {
        Part::Learner => Capacity::Learner,
        Part::Employer => Capacity::Employer,
        Part::Assessor => Capacity::Assessor,
    }
}

/// The printout's sections, in the order of the meeting.
pub(crate) fn sections(v: &ReviewView) -> Vec<(String, String)> {
    let c = &v.content;
    vec![
        ("Held".into(), v.held_on.clone()),
        ("Who attended".into(), c.attended.clone()),
        ("Since the last review".into(), v.since.join("\n")),
        (
            "The learner's reflection".into(),
            c.learner_reflection.clone(),
        ),
        (
            "The employer's comments".into(),
            c.employer_comments.clone(),
        ),
        ("The assessor's summary".into(), c.assessor_summary.clone()),
        ("Targets for the next period".into(), c.targets.clone()),
        ("Next review".into(), v.next_review_on.clone()),
    ]
}

/// The signed review as a PDF: the record printer of signed items (issue 13), with the
/// review's sections.
pub(crate) async fn printout(
    state: &AppState,
    enrolment: &crate::db::enrolments::Enrolment,
    v: &ReviewView,
) -> Result<Vec<u8>, AppError> {
    use crate::credentials::record::SignedRecord;
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    let learner = crate::db::users::names(&state.pool, &[enrolment.learner_id])
        .await?
        .remove(&enrolment.learner_id)
        .unwrap_or_default();
    let centre = crate::db::centres::get(&state.pool, enrolment.centre_id)
        .await?
        .name;
    let base = state.public_url.trim_end_matches('/');
    let record = SignedRecord {
        kind: "Progress review".into(),
        centre_name: centre,
        learner_name: learner,
        qualification: format!(
            "{} {}",
            version.qualification.code, version.qualification.title
        ),
        title: format!("Progress review of {}", v.held_on),
        version: v.version.max(1) as u32,
        standing: v.signed.standing.clone(),
        sections: sections(v),
        signatures: signed::printed_signatures(&v.signed, base),
        verify_url: format!("{base}/signed/{}", v.id),
    };
    tokio::task::spawn_blocking(move || {
        let fonts = crate::jobs::record_fonts()?;
        crate::credentials::record::render_record(&record, &fonts)
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("printing stopped: {e}")))?
    .map_err(|e| AppError::Internal(anyhow::anyhow!("printing a progress review: {e}")))
}
