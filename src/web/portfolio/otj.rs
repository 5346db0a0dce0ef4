//! The off-the-job log (issue 14, points 2 and 3): where the hours stand, the log a page
//! at a time, logging an entry, changing one, and the assessor's decision. Everyone on
//! the portfolio reads it; the learner, trainee and assessor log; the assessor decides.
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::otj_view::{self, OtjProgress};
use super::{Header, Portfolio};
use crate::db::apprenticeships;
use crate::db::otj::{self as db_otj, After, EntryRow, LogRefusal};
use crate::db::otj_writer::{Logged, NewEntry};
use crate::db::qualifications::LoadedVersion;
use crate::db::users::User;
use crate::domain::access::Capacity;
use crate::domain::apprenticeship::EntryState;
use crate::domain::form::{message_for, FieldError};
use crate::domain::otj::{self, EntryForm, ValidEntry};
use crate::web::home::{date_text, day};
use crate::web::{AppError, AppState};

const PER_PAGE: i64 = 50;

pub(crate) fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

pub(crate) struct EntryView {
    pub id: Uuid,
    pub day: String,
    pub hours: String,
    pub activity: String,
    pub what: String,
    pub state: &'static str,
    pub state_key: &'static str,
    pub logged_by: String,
    pub decided: Option<String>,
    pub reject_reason: Option<String>,
    pub evidence: Vec<(Uuid, String)>,
    pub criteria: String,
    pub may_edit: bool,
    pub may_decide: bool,
}

fn state_label(s: EntryState) -> &'static str {
    match s {
        EntryState::Pending => "Awaiting a decision",
        EntryState::Approved => "Approved",
        EntryState::Rejected => "Rejected",
    }
}

async fn views(
    state: &AppState,
    p: &Portfolio,
    version: &LoadedVersion,
    rows: &[EntryRow],
) -> Result<Vec<EntryView>, AppError> {
    let linked: Vec<Uuid> = rows.iter().flat_map(|r| r.evidence_ids.clone()).collect();
    let titles = if linked.is_empty() {
        HashMap::new()
    } else {
        db_otj::evidence_titles(&state.pool, p.enrolment.id, &linked).await?
    };
    Ok(rows
        .iter()
        .map(|r| {
            let st = r.state();
            EntryView {
                id: r.id,
                day: date_text(r.day),
                hours: otj_view::hours(i64::from(r.minutes)),
                activity: r.activity.clone(),
                what: r.what.clone(),
                state: state_label(st),
                state_key: st.key(),
                logged_by: r.logged_by_name.clone(),
                decided: r.decided_at.as_ref().map(|at| {
                    format!(
                        "{} by {}",
                        day(at),
                        r.decided_by_name.clone().unwrap_or_default()
                    )
                }),
                reject_reason: r.reject_reason.clone(),
                evidence: r
                    .evidence_ids
                    .iter()
                    .filter_map(|e| titles.get(e).map(|t| (*e, t.clone())))
                    .collect(),
                criteria: r
                    .criteria
                    .iter()
                    .filter_map(|c| version.criterion_ref(*c))
                    .collect::<Vec<_>>()
                    .join(", "),
                may_edit: p.capacity.may_edit_otj(r.logged_by == p.user.id),
                may_decide: p.capacity.may_decide_otj() && st == EntryState::Pending,
            }
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/otj.html")]
pub(crate) struct OtjPage {
    header: Header,
    user: User,
    enrolment_id: Uuid,
    capacity: Capacity,
    /// None: the enrolment is not an apprenticeship.
    otj: Option<OtjProgress>,
    entries: Vec<EntryView>,
    older: Option<String>,
    paged: bool,
    may_log: bool,
    activity_types: Vec<(String, String)>,
    evidence_choices: Vec<(String, String)>,
    form: EntryForm,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
}

impl OtjPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn linked(&self, id: &str) -> bool {
        self.form.evidence.iter().any(|e| e == id)
    }
}

fn after_cursor(pairs: &[(String, String)]) -> Option<After> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let day = otj_day(get("day")?)?;
    let at = get("at")?.parse::<i128>().ok()?;
    let logged_at = OffsetDateTime::from_unix_timestamp_nanos(at * 1000).ok()?;
    let id = Uuid::parse_str(get("after")?).ok()?;
    Some(After { day, logged_at, id })
}

fn otj_day(text: &str) -> Option<Date> {
    crate::domain::log_filter::parse_date(text)
}

async fn render(
    state: &AppState,
    p: Portfolio,
    after: Option<After>,
    form: EntryForm,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
) -> Result<OtjPage, AppError> {
    let id = p.enrolment.id;
    let header = super::header(state, &p.enrolment).await?;
    let Some(a) = apprenticeships::get(&state.pool, id).await? else {
        return Ok(OtjPage {
            header,
            enrolment_id: id,
            capacity: p.capacity,
            user: p.user,
            otj: None,
            entries: Vec::new(),
            older: None,
            paged: false,
            may_log: false,
            activity_types: Vec::new(),
            evidence_choices: Vec::new(),
            form,
            errors,
            done,
        });
    };
    let breaks = apprenticeships::breaks(&state.pool, id).await?;
    let otj = otj_view::progress(state, &a, &breaks, today()).await?;
    let (rows, more) = db_otj::page(&state.pool, id, after, PER_PAGE).await?;
    let older = more.then(|| rows.last()).flatten().map(|last| {
        format!(
            "?after={}&day={}&at={}",
            last.id,
            crate::domain::log_filter::date_key(last.day),
            last.logged_at.unix_timestamp_nanos() / 1000
        )
    });
    let version = state
        .versions
        .load(&state.pool, p.enrolment.version_id)
        .await?;
    let entries = views(state, &p, &version, &rows).await?;
    let may_log = p.capacity.may_log_otj();
    let (activity_types, evidence_choices) = if may_log {
        let settings = apprenticeships::settings(&state.pool, a.centre_id).await?;
        let types = settings
            .activity_types
            .iter()
            .map(|t| (t.clone(), t.clone()))
            .collect();
        let evidence = db_otj::recent_evidence(&state.pool, id, 100)
            .await?
            .into_iter()
            .map(|(e, t)| (e.to_string(), t))
            .collect();
        (types, evidence)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(OtjPage {
        header,
        enrolment_id: id,
        capacity: p.capacity,
        user: p.user,
        otj: Some(otj),
        entries,
        older,
        paged: after.is_some(),
        may_log,
        activity_types,
        evidence_choices,
        form,
        errors,
        done,
    })
}

/// GET /enrolments/{id}/otj
pub(crate) async fn page(
    State(state): State<AppState>,
    p: Portfolio,
    RawQuery(query): RawQuery,
) -> Result<OtjPage, AppError> {
    let pairs = super::query_pairs(query.as_deref());
    let done = match pairs
        .iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.as_str())
    {
        Some("logged") => Some("Entry logged. It counts once the assessor approves it."),
        Some("changed") => Some("Entry changed. It waits for the assessor's decision again."),
        Some("approved") => Some("Entry approved: its hours now count."),
        Some("rejected") => Some("Entry rejected. The learner sees your reason."),
        Some("withdrawn") => Some("Entry withdrawn. The activity log keeps what it was."),
        _ => None,
    };
    render(
        &state,
        p,
        after_cursor(&pairs),
        EntryForm::default(),
        Vec::new(),
        done,
    )
    .await
}

/// The entry form as posted.
fn read_entry(body: &[u8]) -> EntryForm {
    let mut f = EntryForm::default();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match &*k {
            "day" => f.day = v,
            "hours" => f.hours = v,
            "minutes" => f.minutes = v,
            "activity" => f.activity = v,
            "what" => f.what = v,
            "evidence" => f.evidence.push(v),
            "criteria" => f.criteria = v,
            _ => {}
        }
    }
    f
}

/// The entry checked against the centre's types, the learner's evidence and criteria.
async fn validate(
    state: &AppState,
    p: &Portfolio,
    form: &EntryForm,
    kept_type: Option<&str>,
) -> Result<Result<ValidEntry, Vec<FieldError>>, AppError> {
    let mut settings = apprenticeships::settings(&state.pool, p.enrolment.centre_id).await?;
    // An entry keeps a type the centre has since taken off its list.
    if let Some(t) = kept_type.filter(|t| !settings.activity_types.iter().any(|k| k == t)) {
        settings.activity_types.push(t.to_string());
    }
    let asked: Vec<Uuid> = form
        .evidence
        .iter()
        .filter_map(|e| Uuid::parse_str(e.trim()).ok())
        .collect();
    let known = if asked.is_empty() {
        HashMap::new()
    } else {
        db_otj::evidence_titles(&state.pool, p.enrolment.id, &asked).await?
    };
    let version = state
        .versions
        .load(&state.pool, p.enrolment.version_id)
        .await?;
    Ok(otj::validate_entry(
        form,
        &settings.activity_types,
        &|e| known.contains_key(&e),
        &|u, n| version.criterion_by_ref(u, n),
    ))
}

fn refused(r: LogRefusal) -> Result<Vec<FieldError>, AppError> {
    match r {
        LogRefusal::Field(e) => Ok(vec![e]),
        LogRefusal::AlreadyDecided(s) => Err(AppError::Conflict(format!(
            "This entry is already {}: only an entry awaiting a decision can be approved or rejected",
            s.key()
        ))),
    }
}

/// POST /enrolments/{id}/otj
pub(crate) async fn add(
    State(state): State<AppState>,
    p: Portfolio,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    if !p.capacity.may_log_otj() {
        return Err(AppError::NotFound);
    }
    let id = p.enrolment.id;
    let form = read_entry(&body);
    // Not an apprenticeship: the use case finds no apprenticeship to hold (404), and a
    // refused form is shown only on one.
    let errors = match validate(&state, &p, &form, None).await? {
        Ok(entry) => {
            let logged = state
                .otj
                .write(NewEntry {
                    id: Uuid::now_v7(),
                    enrolment_id: id,
                    actor: p.user.id,
                    entry,
                    today: today(),
                })
                .await?;
            match logged {
                Logged::Entry(_) => {
                    return Ok(
                        Redirect::to(&format!("/enrolments/{id}/otj?done=logged")).into_response()
                    )
                }
                Logged::Refused(e) => vec![e],
                Logged::NoApprenticeship => return Err(AppError::NotFound),
            }
        }
        Err(errors) => {
            apprenticeships::get(&state.pool, id)
                .await?
                .ok_or(AppError::NotFound)?;
            errors
        }
    };
    let page = render(&state, p, None, form, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/otj_entry.html")]
pub(crate) struct EntryPage {
    header: Header,
    user: User,
    enrolment_id: Uuid,
    entry: EntryView,
    activity_types: Vec<(String, String)>,
    evidence_choices: Vec<(String, String)>,
    form: EntryForm,
    reason: String,
    errors: Vec<FieldError>,
}

impl EntryPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn linked(&self, id: &str) -> bool {
        self.form.evidence.iter().any(|e| e == id)
    }
}

async fn entry_page(
    state: &AppState,
    p: Portfolio,
    row: EntryRow,
    form: Option<EntryForm>,
    reason: String,
    errors: Vec<FieldError>,
) -> Result<EntryPage, AppError> {
    let version = state
        .versions
        .load(&state.pool, p.enrolment.version_id)
        .await?;
    let entry = views(state, &p, &version, std::slice::from_ref(&row))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let form = form.unwrap_or_else(|| EntryForm::of(&row.valid(), &|c| version.criterion_ref(c)));
    let (activity_types, evidence_choices) = if entry.may_edit {
        let settings = apprenticeships::settings(&state.pool, p.enrolment.centre_id).await?;
        let mut types: Vec<(String, String)> = settings
            .activity_types
            .iter()
            .map(|t| (t.clone(), t.clone()))
            .collect();
        // An entry keeps a type the centre has since taken off its list.
        if !settings.activity_types.contains(&row.activity) {
            types.push((row.activity.clone(), row.activity.clone()));
        }
        let evidence = db_otj::recent_evidence(&state.pool, p.enrolment.id, 100)
            .await?
            .into_iter()
            .map(|(e, t)| (e.to_string(), t))
            .collect();
        (types, evidence)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(EntryPage {
        header: super::header(state, &p.enrolment).await?,
        enrolment_id: p.enrolment.id,
        user: p.user,
        entry,
        activity_types,
        evidence_choices,
        form,
        reason,
        errors,
    })
}

/// GET /enrolments/{id}/otj/{entry}
pub(crate) async fn entry(
    State(state): State<AppState>,
    p: Portfolio,
    crate::web::ids::Ids((_, entry)): crate::web::ids::Ids<(Uuid, Uuid)>,
) -> Result<EntryPage, AppError> {
    let row = db_otj::get(&state.pool, p.enrolment.id, entry).await?;
    entry_page(&state, p, row, None, String::new(), Vec::new()).await
}

/// POST /enrolments/{id}/otj/{entry}: the entry changed, back to pending.
pub(crate) async fn edit(
    State(state): State<AppState>,
    p: Portfolio,
    crate::web::ids::Ids((_, entry)): crate::web::ids::Ids<(Uuid, Uuid)>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let id = p.enrolment.id;
    let row = db_otj::get(&state.pool, id, entry).await?;
    if !p.capacity.may_edit_otj(row.logged_by == p.user.id) {
        return Err(AppError::NotFound);
    }
    let mut form = read_entry(&body);
    let checked = validate(&state, &p, &form, Some(&row.activity)).await?;
    let errors = match checked {
        Ok(valid) => {
            match db_otj::edit(&state.pool, id, entry, p.user.id, &valid, today()).await? {
                Ok(()) => {
                    return Ok(
                        Redirect::to(&format!("/enrolments/{id}/otj?done=changed")).into_response()
                    )
                }
                Err(r) => refused(r)?,
            }
        }
        Err(errors) => errors,
    };
    form.activity = form.activity.trim().to_string();
    let page = entry_page(&state, p, row, Some(form), String::new(), errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// POST /enrolments/{id}/otj/{entry}/decision
pub(crate) async fn decide(
    State(state): State<AppState>,
    p: Portfolio,
    crate::web::ids::Ids((_, entry)): crate::web::ids::Ids<(Uuid, Uuid)>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    if !p.capacity.may_decide_otj() {
        return Err(AppError::NotFound);
    }
    let id = p.enrolment.id;
    let row = db_otj::get(&state.pool, id, entry).await?;
    let (mut decision, mut reason) = (String::new(), String::new());
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "decision" => decision = v.into_owned(),
            "reason" => reason = v.into_owned(),
            _ => {}
        }
    }
    let errors = match otj::validate_decision(&decision, &reason) {
        Ok(d) => match db_otj::decide(&state.pool, id, entry, p.user.id, &d).await? {
            Ok(()) => {
                let done = match d {
                    otj::Decision::Approve => "approved",
                    otj::Decision::Reject(_) => "rejected",
                };
                return Ok(
                    Redirect::to(&format!("/enrolments/{id}/otj?done={done}")).into_response()
                );
            }
            Err(r) => refused(r)?,
        },
        Err(errors) => errors,
    };
    let page = entry_page(&state, p, row, None, reason, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// POST /enrolments/{id}/otj/{entry}/withdraw: an entry logged by mistake, gone.
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    p: Portfolio,
    crate::web::ids::Ids((_, entry)): crate::web::ids::Ids<(Uuid, Uuid)>,
) -> Result<Response, AppError> {
    let id = p.enrolment.id;
    let row = db_otj::get(&state.pool, id, entry).await?;
    if !p.capacity.may_edit_otj(row.logged_by == p.user.id) {
        return Err(AppError::NotFound);
    }
    match db_otj::withdraw(&state.pool, id, entry, p.user.id).await? {
        Ok(()) => Ok(Redirect::to(&format!("/enrolments/{id}/otj?done=withdrawn")).into_response()),
        Err(_) => Err(AppError::Conflict(
            "An approved entry counts towards the hours: change it (it goes back for a decision) rather than withdraw it"
                .into(),
        )),
    }
}
