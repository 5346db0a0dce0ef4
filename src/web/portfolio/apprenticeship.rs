//! An enrolment's apprenticeship, as an admin keeps it (issue 14, point 1): its plan
//! (dates, contracted hours, the planned OTJ hours, the centre's default or an override
//! with its reason) and its breaks in learning.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::{Header, Portfolio};
use crate::db::apprenticeships::{self, BreakRow};
use crate::db::users::User;
use crate::domain::form::{message_for, FieldError};
use crate::domain::log_filter::date_key;
use crate::domain::otj::{self, hours_text, BreakForm, PlanForm};
use crate::web::home::{date_text, day};
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

fn admin_only(p: &Portfolio) -> Result<(), AppError> {
    if p.capacity.may_plan_apprenticeship() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

fn field(body: &[u8], name: &str) -> String {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/apprenticeship.html")]
pub(crate) struct PlanPage {
    header: Header,
    user: User,
    enrolment_id: Uuid,
    /// Already an apprenticeship (the form changes its plan).
    existing: bool,
    rule: String,
    form: PlanForm,
    errors: Vec<FieldError>,
}

impl PlanPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

fn rule_words(rule: crate::domain::apprenticeship::OtjRule) -> String {
    use crate::domain::apprenticeship::OtjRule::*;
    match rule {
        PercentOfContracted(p) => format!("{p} % of the contracted hours"),
        MinutesPerWeek(m) => format!("{} hours a week", hours_text(m)),
    }
}

async fn plan_page(
    state: &AppState,
    p: Portfolio,
    form: Option<PlanForm>,
    errors: Vec<FieldError>,
) -> Result<PlanPage, AppError> {
    let settings = apprenticeships::settings(&state.pool, p.enrolment.centre_id).await?;
    let current = apprenticeships::get(&state.pool, p.enrolment.id).await?;
    let form = form.unwrap_or_else(|| match &current {
        Some(a) => PlanForm {
            start: date_key(a.start_on),
            planned_end: date_key(a.planned_end_on),
            weekly_hours: hours_text(i64::from(a.weekly_minutes)),
            planned_hours: if a.planned_minutes == a.default_minutes {
                String::new()
            } else {
                hours_text(i64::from(a.planned_minutes))
            },
            reason: a.override_reason.clone().unwrap_or_default(),
        },
        None => PlanForm::default(),
    });
    Ok(PlanPage {
        header: super::header(state, &p.enrolment).await?,
        enrolment_id: p.enrolment.id,
        user: p.user,
        existing: current.is_some(),
        rule: rule_words(settings.rule),
        form,
        errors,
    })
}

/// GET /enrolments/{id}/apprenticeship
pub(crate) async fn plan(
    State(state): State<AppState>,
    p: Portfolio,
) -> Result<PlanPage, AppError> {
    admin_only(&p)?;
    plan_page(&state, p, None, Vec::new()).await
}

/// POST /enrolments/{id}/apprenticeship
pub(crate) async fn save_plan(
    State(state): State<AppState>,
    p: Portfolio,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    admin_only(&p)?;
    let form = PlanForm {
        start: field(&body, "start"),
        planned_end: field(&body, "planned_end"),
        weekly_hours: field(&body, "weekly_hours"),
        planned_hours: field(&body, "planned_hours"),
        reason: field(&body, "reason"),
    };
    let settings = apprenticeships::settings(&state.pool, p.enrolment.centre_id).await?;
    match otj::validate_plan(&form, settings.rule) {
        Ok(valid) => {
            let id = p.enrolment.id;
            apprenticeships::set_plan(&state.pool, p.enrolment.centre_id, id, p.user.id, &valid)
                .await?;
            Ok(Redirect::to(&format!("/enrolments/{id}/otj")).into_response())
        }
        Err(errors) => {
            let page = plan_page(&state, p, Some(form), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub(crate) struct BreakView {
    id: Uuid,
    from: String,
    to: String,
    reason: String,
    recorded: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/breaks.html")]
pub(crate) struct BreaksPage {
    header: Header,
    user: User,
    enrolment_id: Uuid,
    breaks: Vec<BreakView>,
    form: BreakForm,
    errors: Vec<FieldError>,
}

impl BreaksPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

fn break_view(b: BreakRow) -> BreakView {
    BreakView {
        id: b.id,
        from: date_text(b.from_on),
        to: date_text(b.to_on),
        reason: b.reason,
        recorded: format!("{} by {}", day(&b.recorded_at), b.recorded_by_name),
    }
}

async fn breaks_page(
    state: &AppState,
    p: Portfolio,
    form: BreakForm,
    errors: Vec<FieldError>,
) -> Result<BreaksPage, AppError> {
    apprenticeships::get(&state.pool, p.enrolment.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let breaks = apprenticeships::breaks(&state.pool, p.enrolment.id).await?;
    Ok(BreaksPage {
        header: super::header(state, &p.enrolment).await?,
        enrolment_id: p.enrolment.id,
        user: p.user,
        breaks: breaks.into_iter().map(break_view).collect(),
        form,
        errors,
    })
}

/// GET /enrolments/{id}/apprenticeship/breaks
pub(crate) async fn breaks(
    State(state): State<AppState>,
    p: Portfolio,
) -> Result<BreaksPage, AppError> {
    admin_only(&p)?;
    breaks_page(&state, p, BreakForm::default(), Vec::new()).await
}

/// POST /enrolments/{id}/apprenticeship/breaks
pub(crate) async fn add_break(
    State(state): State<AppState>,
    p: Portfolio,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    admin_only(&p)?;
    let form = BreakForm {
        from: field(&body, "from"),
        to: field(&body, "to"),
        reason: field(&body, "reason"),
    };
    let id = p.enrolment.id;
    match apprenticeships::add_break(&state.pool, id, p.user.id, &form).await? {
        Ok(_) => {
            Ok(Redirect::to(&format!("/enrolments/{id}/apprenticeship/breaks")).into_response())
        }
        Err(errors) => {
            let page = breaks_page(&state, p, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// POST /enrolments/{id}/apprenticeship/breaks/{break}/remove
pub(crate) async fn remove_break(
    State(state): State<AppState>,
    p: Portfolio,
    Ids((_, id)): Ids<(Uuid, Uuid)>,
) -> Result<Response, AppError> {
    admin_only(&p)?;
    let enrolment = p.enrolment.id;
    apprenticeships::remove_break(&state.pool, enrolment, p.user.id, id).await?;
    Ok(Redirect::to(&format!("/enrolments/{enrolment}/apprenticeship/breaks")).into_response())
}
