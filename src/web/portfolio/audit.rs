//! The audit page (SPEC §4): the latest audit per major with its counted units, unmet
//! rules and the nearest way to meet them; every audit; the status history.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use uuid::Uuid;

use super::enrolment_for;
use super::status::{history_rows, panel_for, HistoryRow, StatusPanel};
use crate::db::audits;
use crate::db::users::{self, User};
use crate::domain::audit::AuditSummary;
use crate::web::auth::CurrentUser;
use crate::web::home::moment;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

pub struct AuditRow {
    pub at: String,
    pub by: String,
    pub outcome: &'static str,
    pub confirmed: i32,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/audit.html")]
pub struct AuditPage {
    header: super::Header,
    user: User,
    learner: String,
    panel: StatusPanel,
    /// The latest audit: when, by whom, and what it found.
    latest: Option<(AuditRow, AuditSummary)>,
    audits: Vec<AuditRow>,
    history: Vec<HistoryRow>,
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<AuditPage, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    let db = &state.pool;
    let records = audits::audit_history(db, id).await?;
    let mut people: Vec<Uuid> = records.iter().filter_map(|a| a.actor_id).collect();
    people.push(enrolment.learner_id);
    let names = users::names(db, &people).await?;
    let row = |a: &audits::AuditRecord| AuditRow {
        at: moment(&a.at),
        by: a
            .actor_id
            .and_then(|p| names.get(&p).cloned())
            .unwrap_or_else(|| "attest (automatic)".into()),
        outcome: a.outcome.label(),
        confirmed: a.confirmed_criteria,
    };
    let latest = match records.first() {
        Some(a) => {
            let version = state.versions.load(db, a.version_id).await?;
            Some((row(a), AuditSummary::new(&version.qualification, &a.report)))
        }
        None => None,
    };
    Ok(AuditPage {
        header: super::header(&state, &enrolment).await?,
        learner: names
            .get(&enrolment.learner_id)
            .cloned()
            .unwrap_or_default(),
        panel: panel_for(&state, &enrolment, capacity).await?,
        latest,
        audits: records.iter().map(row).collect(),
        history: history_rows(&state, id).await?,
        user,
    })
}
