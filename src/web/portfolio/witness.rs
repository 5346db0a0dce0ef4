//! Asking for witness testimony (issue 13, point 3): the learner or their assessor (or
//! trainee) asks a witness, follows the requests, withdraws or sends one again; an
//! assessor corrects a signed testimony (a new version, for the witness to sign again).
//! The one-time link goes to the witness's mailbox only: shown to the asker, it would
//! let them sign in the witness's name.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{enrolment_for, Header};
use crate::db::employer_people;
use crate::db::enrolments::Enrolment;
use crate::db::evidence as db_evidence;
use crate::db::signatures;
use crate::db::users::{self, User};
use crate::db::witness::{self, Asker, Request};
use crate::domain::access::Capacity;
use crate::domain::form::{message_for, FieldError};
use crate::domain::signature::SignedKind;
use crate::domain::witness::{validate_request, LinkState, RequestForm, ValidRequest, Witness};
use crate::web::auth::CurrentUser;
use crate::web::home::day;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

fn may_ask(c: Capacity) -> bool {
    c.may_ask_witness()
}

pub(crate) struct UnitChoices {
    pub id: String,
    pub title: String,
    /// Its criteria are on the form.
    pub shown: bool,
    /// (criterion id, "1.1 text").
    pub criteria: Vec<(String, String)>,
}

/// A qualification with more criteria than this shows them by unit, chosen first: a
/// page of every criterion of a 60-unit qualification weighed 460 KB.
const ALL_CRITERIA_UP_TO: usize = 150;

pub(crate) struct RequestView {
    pub id: Uuid,
    pub witness: String,
    pub asked: String,
    pub asked_by: String,
    pub state: &'static str,
    pub open: bool,
    pub answered: bool,
    pub criteria: usize,
    pub evidence: Option<Uuid>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/portfolio/witness.html")]
pub(crate) struct WitnessRequestsPage {
    header: Header,
    user: User,
    enrolment_id: Uuid,
    requests: Vec<RequestView>,
    units: Vec<UnitChoices>,
    /// The units are chosen before their criteria (a big qualification).
    by_unit: bool,
    /// (id, name) of the employer's people who follow the learner.
    employer_people: Vec<(String, String)>,
    form: RequestForm,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
}

impl WitnessRequestsPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn chosen(&self, id: &str) -> bool {
        self.form.criteria.iter().any(|c| c == id)
    }
}

async fn views(state: &AppState, enrolment: Uuid) -> Result<Vec<RequestView>, AppError> {
    let requests = witness::of_enrolment(&state.pool, enrolment).await?;
    let now = OffsetDateTime::now_utc();
    let mut out = Vec::with_capacity(requests.len());
    let items: Vec<Uuid> = requests.iter().filter_map(|r| r.item_id).collect();
    let evidence_of = signatures::evidence_of(&state.pool, &items).await?;
    for r in requests {
        let st = r.state(now);
        let evidence = match (st, r.item_id) {
            (LinkState::Used, Some(item)) => evidence_of.get(&item).copied(),
            _ => None,
        };
        out.push(RequestView {
            id: r.id,
            witness: format!("{} ({})", r.witness_name, r.witness_email),
            asked: day(&r.asked_at),
            asked_by: r.asked_by_name.clone(),
            state: match st {
                LinkState::Open => "Waiting for the witness",
                LinkState::Used => "Signed",
                LinkState::Revoked => "Withdrawn",
                LinkState::Expired => "Link expired",
            },
            open: st == LinkState::Open,
            answered: st == LinkState::Used,
            criteria: r.criteria.len(),
            evidence,
        });
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    user: User,
    enrolment: &Enrolment,
    form: RequestForm,
    chosen_units: &[String],
    errors: Vec<FieldError>,
    done: Option<&'static str>,
) -> Result<WitnessRequestsPage, AppError> {
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    let q = &version.qualification;
    let by_unit = q.criterion_count() > ALL_CRITERIA_UP_TO;
    let mut ordinal = 0;
    let units = q
        .units
        .iter()
        .zip(&version.unit_ids)
        .map(|(u, uid)| {
            let n = u.criterion_count();
            let ids: Vec<String> = version.criterion_ids[ordinal..ordinal + n]
                .iter()
                .map(Uuid::to_string)
                .collect();
            ordinal += n;
            let id = uid.to_string();
            let shown = !by_unit
                || chosen_units.contains(&id)
                || ids.iter().any(|c| form.criteria.contains(c));
            let texts = u.outcomes.iter().flat_map(|o| {
                o.criteria
                    .iter()
                    .map(|c| format!("{} {}", c.number, c.text))
            });
            UnitChoices {
                id,
                title: format!("Unit {} {}", u.code, u.title),
                shown,
                criteria: if shown {
                    ids.into_iter().zip(texts).collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let followers = employer_people::of_enrolment(&state.pool, enrolment.id).await?;
    let names = users::names(&state.pool, &followers).await?;
    let employer_people = followers
        .iter()
        .map(|p| (p.to_string(), names.get(p).cloned().unwrap_or_default()))
        .collect();
    Ok(WitnessRequestsPage {
        header: super::header(state, enrolment).await?,
        user,
        enrolment_id: enrolment.id,
        requests: views(state, enrolment.id).await?,
        units,
        by_unit,
        employer_people,
        form,
        errors,
        done,
    })
}

/// GET /enrolments/{id}/witness
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    RawQuery(query): RawQuery,
) -> Result<WitnessRequestsPage, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    if !may_ask(capacity) {
        return Err(AppError::NotFound);
    }
    let pairs = super::query_pairs(query.as_deref());
    let units: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "unit")
        .map(|(_, v)| v.clone())
        .collect();
    let done_key = pairs
        .iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.as_str());
    let done = match done_key {
        Some("asked") => {
            Some("The witness has been emailed a link to write and sign their testimony.")
        }
        Some("withdrawn") => Some("The request was withdrawn: its link no longer works."),
        Some("resent") => {
            Some("The witness has been emailed a new link; the old one no longer works.")
        }
        _ => None,
    };
    page(
        &state,
        user,
        &enrolment,
        RequestForm::default(),
        &units,
        Vec::new(),
        done,
    )
    .await
}

/// The form, and the units whose criteria it showed.
fn read_request(body: &[u8]) -> (RequestForm, Vec<String>) {
    let mut f = RequestForm::default();
    let mut units = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match &*k {
            "unit" => units.push(v),
            "to" => f.to = v,
            "witness_name" => f.witness_name = v,
            "witness_email" => f.witness_email = v,
            "employer_person" => f.employer_person = v,
            "criterion" => f.criteria.push(v),
            "occasion" => f.occasion = v,
            _ => {}
        }
    }
    (f, units)
}

/// POST /enrolments/{id}/witness
pub async fn ask(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let (enrolment, capacity) = enrolment_for(&state, &user, id).await?;
    if !may_ask(capacity) {
        return Err(AppError::NotFound);
    }
    let (form, units) = read_request(&body);
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    let followers = employer_people::of_enrolment(&state.pool, id).await?;
    let known = |c: Uuid| version.criterion_ordinal(c).is_some();
    let valid: ValidRequest = match validate_request(&form, &known, &followers) {
        Ok(v) => v,
        Err(errors) => {
            let page = page(&state, user, &enrolment, form, &units, errors, None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let person = match &valid.witness {
        Witness::EmployerPerson(p) => Some(users::get(&state.pool, *p).await?),
        Witness::ByEmail { .. } => None,
    };
    let asker = Asker {
        user: &user,
        centre_id: enrolment.centre_id,
        enrolment_id: id,
    };
    witness::ask(
        &state.pool,
        &asker,
        &valid,
        person.as_ref(),
        None,
        &state.public_url,
    )
    .await?;
    Ok(Redirect::to(&format!("/enrolments/{id}/witness?done=asked")).into_response())
}

/// The request, if it is of this enrolment and the viewer may ask on it.
async fn own_request(
    state: &AppState,
    user: &User,
    id: Uuid,
    request: Uuid,
) -> Result<Request, AppError> {
    let (_, capacity) = enrolment_for(state, user, id).await?;
    let r = witness::get(&state.pool, request).await?;
    if !may_ask(capacity) || r.enrolment_id != id {
        return Err(AppError::NotFound);
    }
    Ok(r)
}

/// POST /enrolments/{id}/witness/{request}/withdraw
pub async fn withdraw(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, request)): Ids<(Uuid, Uuid)>,
) -> Result<Response, AppError> {
    own_request(&state, &user, id, request).await?;
    witness::revoke(&state.pool, &user, request)
        .await?
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    Ok(Redirect::to(&format!("/enrolments/{id}/witness?done=withdrawn")).into_response())
}

/// POST /enrolments/{id}/witness/{request}/resend
pub async fn resend(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, request)): Ids<(Uuid, Uuid)>,
) -> Result<Response, AppError> {
    own_request(&state, &user, id, request).await?;
    witness::resend(&state.pool, &user, request, &state.public_url)
        .await?
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    Ok(Redirect::to(&format!("/enrolments/{id}/witness?done=resent")).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CorrectionForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    version: String,
}

/// The testimony of an evidence item, for its assessor.
async fn testimony_of(
    state: &AppState,
    user: &User,
    id: Uuid,
    evidence: Uuid,
) -> Result<signatures::SignedItem, AppError> {
    let (_, capacity) = enrolment_for(state, user, id).await?;
    let item = db_evidence::get(&state.pool, evidence).await?;
    if capacity != Capacity::Assessor || item.enrolment_id != id {
        return Err(AppError::NotFound);
    }
    signatures::of_evidence(&state.pool, evidence)
        .await?
        .into_iter()
        .find(|s| s.kind == SignedKind::WitnessTestimony)
        .ok_or(AppError::NotFound)
}

/// POST /enrolments/{id}/evidence/{evidence}/testimony: the assessor's correction.
pub async fn correct(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, evidence)): Ids<(Uuid, Uuid)>,
    crate::web::form::Form(form): crate::web::form::Form<CorrectionForm>,
) -> Result<Response, AppError> {
    let item = testimony_of(&state, &user, id, evidence).await?;
    let account = form.account.trim();
    let invalid = if account.is_empty() {
        Some("Write the corrected account")
    } else {
        crate::domain::text::TESTIMONY
            .check(account)
            .err()
            .map(|e| e.message)
    };
    if let Some(message) = invalid {
        return Err(AppError::Conflict(message.to_string()));
    }
    let from: i32 = form.version.parse().unwrap_or(0);
    witness::correct(&state.pool, &user, item.id, from, account)
        .await?
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    Ok(Redirect::to(&format!("/enrolments/{id}/evidence/{evidence}#signed")).into_response())
}

/// POST /enrolments/{id}/evidence/{evidence}/testimony/ask: asks the witness to sign
/// the current (corrected) version, by a new link of its own.
pub async fn ask_to_sign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids((id, evidence)): Ids<(Uuid, Uuid)>,
) -> Result<Response, AppError> {
    let item = testimony_of(&state, &user, id, evidence).await?;
    let whole = signatures::whole(&state.pool, item.clone()).await?;
    if whole.standing == crate::domain::signature::Standing::Signed {
        return Err(AppError::Conflict(
            "The witness has signed this version already: correct it first if it needs changing"
                .into(),
        ));
    }
    let first = witness::original_request(&state.pool, item.id).await?;
    let (witness, person) = match first.witness_user_id {
        Some(p) => (
            Witness::EmployerPerson(p),
            Some(users::get(&state.pool, p).await?),
        ),
        None => (
            Witness::ByEmail {
                name: first.witness_name.clone(),
                email: first.witness_email.clone(),
            },
            None,
        ),
    };
    let valid = ValidRequest {
        witness,
        criteria: first.criteria.clone(),
        occasion: first.occasion.clone(),
    };
    let asker = Asker {
        user: &user,
        centre_id: first.centre_id,
        enrolment_id: id,
    };
    witness::ask(
        &state.pool,
        &asker,
        &valid,
        person.as_ref(),
        Some(item.id),
        &state.public_url,
    )
    .await?;
    Ok(Redirect::to(&format!("/enrolments/{id}/witness?done=asked")).into_response())
}
