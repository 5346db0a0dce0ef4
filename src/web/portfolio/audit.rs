//! The audit page (SPEC §4): the latest audit per major with its counted units, unmet
//! rules and the nearest way to meet them; the audits and the status history, newest
//! first, a page of each at a time (automatic audits run after every burst of ticks, so
//! both grow without end).
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use uuid::Uuid;

use super::status::{panel_for, StatusPanel};
use super::{enrolment_for, query_pairs};
use crate::db::users::{self, User};
use crate::db::{audits, enrolments};
use crate::domain::audit::AuditSummary;
use crate::domain::form::{message_for, FieldError};
use crate::domain::log_filter::{HistoryPages, AUDITS_PER_PAGE, STATUS_CHANGES_PER_PAGE};
use crate::domain::Status;
use crate::web::auth::CurrentUser;
use crate::web::home::moment;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

pub(crate) struct AuditRow {
    pub id: Uuid,
    pub at: String,
    pub by: String,
    pub outcome: &'static str,
    pub confirmed: i32,
}

/// One row of the status history as shown.
pub(crate) struct HistoryRow {
    pub id: i64,
    pub from: Option<Status>,
    pub to: Status,
    pub by: String,
    pub at: String,
    pub reason: String,
}

/// Who acted, as the histories name them.
fn by(actor_id: Option<Uuid>, name: Option<String>) -> String {
    match (actor_id, name) {
        (None, _) => "attest (automatic)".into(),
        (Some(_), Some(name)) => name,
        (Some(id), None) => format!("unknown account {id}"),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/audit.html")]
pub(crate) struct AuditPage {
    header: super::Header,
    user: User,
    learner: String,
    panel: StatusPanel,
    /// The latest audit: when, by whom, and what it found.
    latest: Option<(AuditRow, AuditSummary)>,
    audits: Vec<AuditRow>,
    history: Vec<HistoryRow>,
    /// Where each history's links lead: its newest page, when this is not it, and
    /// the page of older ones, when there are some.
    audits_newest: Option<String>,
    audits_older: Option<String>,
    changes_newest: Option<String>,
    changes_older: Option<String>,
    errors: Vec<FieldError>,
}

impl AuditPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    RawQuery(query): RawQuery,
) -> Result<AuditPage, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    let db = &state.pool;
    let pairs = query_pairs(query.as_deref());
    let (pages, errors) = HistoryPages::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let latest = audits::latest_audit(db, id).await?;
    let mut people = vec![enrolment.learner_id];
    people.extend(latest.as_ref().and_then(|a| a.actor_id));
    let names = users::names(db, &people).await?;
    let latest = match latest {
        Some(a) => {
            let version = state.versions.load(db, a.version_id).await?;
            let row = AuditRow {
                id: a.id,
                at: moment(&a.at),
                by: by(a.actor_id, a.actor_id.and_then(|p| names.get(&p).cloned())),
                outcome: a.outcome.label(),
                confirmed: a.confirmed_criteria,
            };
            Some((row, AuditSummary::new(&version.qualification, &a.report)))
        }
        None => None,
    };
    let (listed, older_audits) =
        audits::audit_page(db, id, pages.audits_before, AUDITS_PER_PAGE).await?;
    let (changes, older_changes) =
        enrolments::history_page(db, id, pages.changes_before, STATUS_CHANGES_PER_PAGE).await?;

    let address = |p: HistoryPages, section: &str| {
        let query = p.to_query_string();
        if query.is_empty() {
            format!("/enrolments/{id}/audit#{section}")
        } else {
            format!("/enrolments/{id}/audit?{query}#{section}")
        }
    };
    let audits_older = listed.last().filter(|_| older_audits).map(|a| {
        let p = HistoryPages {
            audits_before: Some(a.id),
            ..pages
        };
        address(p, "audit-history")
    });
    let audits_newest = pages.audits_before.map(|_| {
        let p = HistoryPages {
            audits_before: None,
            ..pages
        };
        address(p, "audit-history")
    });
    let changes_older = changes.last().filter(|_| older_changes).map(|c| {
        let p = HistoryPages {
            changes_before: Some(c.id),
            ..pages
        };
        address(p, "status-history")
    });
    let changes_newest = pages.changes_before.map(|_| {
        let p = HistoryPages {
            changes_before: None,
            ..pages
        };
        address(p, "status-history")
    });
    let learner = names
        .get(&enrolment.learner_id)
        .cloned()
        .unwrap_or_default();
    Ok(AuditPage {
        header: super::Header {
            enrolment_id: id,
            learner: learner.clone(),
            status: enrolment.status,
        },
        learner,
        panel: panel_for(&state, &enrolment, capacity).await?,
        latest,
        audits: listed
            .into_iter()
            .map(|a| AuditRow {
                id: a.id,
                at: moment(&a.at),
                by: by(a.actor_id, a.actor_name),
                outcome: a.outcome.label(),
                confirmed: a.confirmed_criteria,
            })
            .collect(),
        history: changes
            .into_iter()
            .map(|h| HistoryRow {
                id: h.id,
                from: h.from,
                to: h.to,
                by: by(h.actor_id, h.actor_name),
                at: moment(&h.at),
                reason: h.reason.unwrap_or_default(),
            })
            .collect(),
        audits_newest,
        audits_older,
        changes_newest,
        changes_older,
        errors,
        user,
    })
}
