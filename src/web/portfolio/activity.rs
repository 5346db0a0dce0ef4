//! The enrolment's activity log (SPEC §8), as a page and as CSV for an external
//! quality assurer.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::enrolment_for;
use crate::db::activity::{self, ActivityEntry};
use crate::db::users::{self, User};
use crate::web::auth::CurrentUser;
use crate::web::csv_export;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

/// One entry as people read it.
pub struct Line {
    pub at: String,
    /// The same moment in ISO 8601, for the CSV.
    pub at_iso: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

async fn lines(
    state: &AppState,
    user: &User,
    id: Uuid,
) -> Result<(super::Header, Vec<Line>), AppError> {
    let (enrolment, _) = enrolment_for(state, user, id).await?;
    let entries: Vec<ActivityEntry> = activity::for_enrolment(&state.pool, id).await?;
    let mut people: Vec<Uuid> = entries.iter().filter_map(|e| e.actor_id).collect();
    people.push(enrolment.learner_id);
    let names = users::names(&state.pool, &people).await?;
    let learner = names
        .get(&enrolment.learner_id)
        .cloned()
        .unwrap_or_default();
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year] [hour]:[minute]:[second] UTC"
    );
    let lines = entries
        .into_iter()
        .map(|e| Line {
            at_iso: csv_export::iso(e.at),
            at: e
                .at
                .to_offset(time::UtcOffset::UTC)
                .format(&format)
                .unwrap_or_default(),
            actor: e
                .actor_id
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_else(|| "attest (automatic)".to_string()),
            action: e.action,
            detail: if e.detail.is_null() {
                String::new()
            } else {
                e.detail.to_string()
            },
        })
        .collect();
    let header = super::Header {
        enrolment_id: id,
        learner,
        status: enrolment.status,
    };
    Ok((header, lines))
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/activity.html")]
pub struct ActivityPage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    learner: String,
    lines: Vec<Line>,
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<ActivityPage, AppError> {
    let (header, lines) = lines(&state, &user, id).await?;
    Ok(ActivityPage {
        learner: header.learner.clone(),
        header,
        user,
        enrolment_id: id,
        lines,
    })
}

pub async fn csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    let (_, lines) = lines(&state, &user, id).await?;
    let (sink, response) = csv_export::download(&format!("activity-{id}.csv"));
    csv_export::spawn(sink, move |sink| {
        Box::pin(async move {
            sink.row(["time", "actor", "action", "detail"]).await?;
            for l in &lines {
                sink.row([l.at_iso.as_str(), &l.actor, &l.action, &l.detail])
                    .await?;
            }
            Ok(())
        })
    });
    Ok(response)
}
