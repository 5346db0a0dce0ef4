use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use uuid::Uuid;

use super::enrolment_for;
use super::status::{panel_for, StatusPanel};
use crate::db::evidence::{self, Evidence};
use crate::db::iqa::{self, DecisionRow};
use crate::db::ticks;
use crate::db::users::{self, User};
use crate::domain::access::Capacity;
use crate::domain::form::{message_for, FieldError};
use crate::domain::Status;
use crate::web::auth::CurrentUser;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/enrolment.html")]
pub(crate) struct EnrolmentPage {
    user: User,
    enrolment_id: Uuid,
    learner: String,
    qualification: String,
    major: String,
    status: Status,
    capacity: Capacity,
    /// Each item, who added it, and how its signed records stand.
    evidence: Vec<(Evidence, String, String)>,
    confirmed: usize,
    criteria: usize,
    decisions: Vec<DecisionRow>,
    panel: StatusPanel,
    /// (value, text) of what an IQA can sample: each unit and each evidence item.
    targets: Vec<(String, String)>,
    iqa_form: IqaForm,
    errors: Vec<FieldError>,
    /// An apprenticeship's OTJ hours in a line: approved against the to-date target.
    otj: Option<OtjLine>,
}

pub(crate) struct OtjLine {
    approved: String,
    target: String,
    behind: bool,
}

impl EnrolmentPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

/// The IQA's sampling form as typed.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct IqaForm {
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub verdict: String,
    #[serde(default)]
    pub feedback: String,
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<EnrolmentPage, AppError> {
    build(&state, user, id, IqaForm::default(), Vec::new()).await
}

/// The page, also re-shown with the IQA form's errors.
pub async fn build(
    state: &AppState,
    user: User,
    id: Uuid,
    iqa_form: IqaForm,
    errors: Vec<FieldError>,
) -> Result<EnrolmentPage, AppError> {
    let (enrolment, capacity) = enrolment_for(state, &user, id).await?;
    let db = &state.pool;
    let version = state.versions.load(db, enrolment.version_id).await?;
    let items = evidence::list_for_enrolment(db, id).await?;
    let confirmed = ticks::confirmed_criteria(db, id).await?.len();
    let mut people: Vec<Uuid> = items.iter().map(|e| e.added_by).collect();
    people.push(enrolment.learner_id);
    let names = users::names(db, &people).await?;
    let decisions = if capacity.may_read_iqa_material() {
        iqa::for_enrolment(db, id).await?
    } else {
        Vec::new()
    };
    let q = &version.qualification;
    let mut targets: Vec<(String, String)> = q
        .units
        .iter()
        .zip(&version.unit_ids)
        .map(|(u, uid)| {
            (
                format!("unit:{uid}"),
                format!("Unit {} {}", u.code, u.title),
            )
        })
        .collect();
    targets.extend(items.iter().map(|e| {
        (
            format!("evidence:{}", e.id),
            format!("Evidence: {}", e.title),
        )
    }));
    let major = version
        .major_index(enrolment.major_id)
        .map(|m| q.majors[m].title.clone())
        .unwrap_or_default();
    let panel = panel_for(state, &enrolment, capacity).await?;
    let ids: Vec<Uuid> = items.iter().map(|e| e.id).collect();
    let mut signed = crate::web::signed::standings_in_words(state, &ids).await?;
    let otj = match crate::db::apprenticeships::get(db, id).await? {
        Some(a) => {
            let breaks = crate::db::apprenticeships::breaks(db, id).await?;
            let today = time::OffsetDateTime::now_utc().date();
            Some(OtjLine {
                approved: super::otj_view::hours(a.approved_minutes),
                target: super::otj_view::hours(a.plan(&breaks).target_on(today)),
                behind: a.behind_on(today),
            })
        }
        None => None,
    };
    Ok(EnrolmentPage {
        otj,
        panel,
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
                let standing = signed.remove(&e.id).unwrap_or_default();
                (e, by, standing)
            })
            .collect(),
        confirmed,
        criteria: q.criterion_count(),
        decisions,
        targets,
        iqa_form,
        errors,
        user,
    })
}
