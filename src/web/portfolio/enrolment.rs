use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use uuid::Uuid;

use super::enrolment_for;
use crate::db::evidence::{self, Evidence};
use crate::db::users::{self, User};
use crate::db::{qualifications, ticks};
use crate::domain::access::Capacity;
use crate::domain::Status;
use crate::web::auth::CurrentUser;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/enrolment.html")]
pub struct EnrolmentPage {
    user: User,
    enrolment_id: Uuid,
    learner: String,
    qualification: String,
    major: String,
    status: Status,
    capacity: Capacity,
    evidence: Vec<(Evidence, String)>,
    confirmed: usize,
    criteria: usize,
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<EnrolmentPage, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    let db = &state.pool;
    let version = qualifications::load_version(db, enrolment.version_id).await?;
    let items = evidence::list_for_enrolment(db, id).await?;
    let confirmed = ticks::confirmed_ordinals(db, id).await?.len();
    let mut people: Vec<Uuid> = items.iter().map(|e| e.added_by).collect();
    people.push(enrolment.learner_id);
    let names = users::names(db, &people).await?;
    let q = &version.qualification;
    let major = version
        .major_index(enrolment.major_id)
        .map(|m| q.majors[m].title.clone())
        .unwrap_or_default();
    Ok(EnrolmentPage {
        enrolment_id: id,
        learner: names
            .get(&enrolment.learner_id)
            .cloned()
            .unwrap_or_default(),
        qualification: format!("{} {}", q.code, q.title),
        major,
        status: enrolment.status,
        capacity,
        evidence: items
            .into_iter()
            .map(|e| {
                let by = names.get(&e.added_by).cloned().unwrap_or_default();
                (e, by)
            })
            .collect(),
        confirmed,
        criteria: q.criterion_count(),
        user,
    })
}
