//! Enrolling a learner: qualification version and major, assessor, trainee assessor, IQA.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::admin;
use crate::db::assignments::{self, Assigned, Changed};
use crate::db::employer_people::{self, EmployerPerson};
use crate::db::employers;
use crate::db::enrolments::{self, NewEnrolment};
use crate::db::qualifications::{self, MajorChoice};
use crate::db::users::{self, Role, User};
use crate::db::{audits, DbError};
use crate::domain::form::{message_for, FieldError};
use crate::domain::people::validate_assignments;
use crate::web::auth::CurrentUser;
use crate::web::form::Form;
use crate::web::ids::Ids;
use crate::web::{AppError, AppState};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct EnrolForm {
    #[serde(default)]
    learner: String,
    #[serde(default)]
    major: String,
    #[serde(default)]
    assessor: String,
    #[serde(default)]
    trainee: String,
    #[serde(default)]
    iqa: String,
    #[serde(default)]
    employer: String,
    /// The employer's people who follow the learner (the assignments page only; the
    /// box repeats, so that form is read pair by pair).
    #[serde(skip)]
    employer_people: Vec<String>,
}

impl EnrolForm {
    /// The assignments form, whose `employer_person` repeats once per ticked box.
    fn assignments(body: &[u8]) -> EnrolForm {
        let mut f = EnrolForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match &*key {
                "assessor" => f.assessor = value,
                "trainee" => f.trainee = value,
                "iqa" => f.iqa = value,
                "employer" => f.employer = value,
                "employer_person" => f.employer_people.push(value),
                _ => {}
            }
        }
        f
    }

    fn follows(&self, person: &Uuid) -> bool {
        let person = person.to_string();
        self.employer_people.contains(&person)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/enrol.html")]
pub(crate) struct EnrolPage {
    user: User,
    form: EnrolForm,
    errors: Vec<FieldError>,
    /// (value, text) pairs for each select.
    learners: Vec<(String, String)>,
    /// What the learner search was, shown back in its field.
    search: String,
    /// How many learners are offered at most.
    offered: i64,
    majors: Vec<(String, String)>,
    assessors: Vec<(String, String)>,
    trainees: Vec<(String, String)>,
    iqas: Vec<(String, String)>,
    employers: Vec<(String, String)>,
}

impl EnrolPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

/// How many learners the form offers at once: the newest, or those a search found.
const LEARNERS_OFFERED: i64 = 50;

/// The page with the staff who can be picked and the learners offered, in a fixed
/// number of statements however many learners the centre has.
async fn page(
    state: &AppState,
    user: User,
    form: EnrolForm,
    errors: Vec<FieldError>,
    search: Option<String>,
) -> Result<EnrolPage, AppError> {
    let search = search
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let mut people = users::staff_for_centre(&state.pool, user.centre_id).await?;
    let found = users::learners_to_enrol(
        &state.pool,
        user.centre_id,
        search.as_deref(),
        LEARNERS_OFFERED,
    )
    .await?;
    // The learner already chosen stays offered, whatever the search found.
    if let Some(chosen) = id(&form.learner).filter(|c| !found.iter().any(|f| f.id == *c)) {
        match users::get(&state.pool, chosen).await {
            Ok(p) if p.centre_id == user.centre_id => people.push(p),
            Ok(_) | Err(DbError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    people.extend(found);
    let with = |role: Role| {
        people
            .iter()
            .filter(|p| p.active && p.has_role(role))
            .map(|p| {
                (
                    p.id.to_string(),
                    format!("{} ({})", p.display_name, p.email),
                )
            })
            .collect::<Vec<_>>()
    };
    let majors = qualifications::majors_to_enrol(&state.pool, user.centre_id).await?;
    let employers = employers::choices(&state.pool, user.centre_id)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    Ok(EnrolPage {
        employers,
        learners: with(Role::Learner),
        search: search.unwrap_or_default(),
        offered: LEARNERS_OFFERED,
        assessors: with(Role::Assessor),
        trainees: with(Role::TraineeAssessor),
        iqas: with(Role::Iqa),
        majors: majors.iter().map(major_option).collect(),
        user,
        form,
        errors,
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Find {
    /// A part of the learner's name or email.
    q: Option<String>,
    /// A learner chosen already (from the person's page).
    learner: Option<String>,
}

pub async fn new(
    State(state): State<AppState>,
    current: CurrentUser,
    axum::extract::Query(find): axum::extract::Query<Find>,
) -> Result<EnrolPage, AppError> {
    let user = admin(current)?;
    let form = EnrolForm {
        learner: find.learner.unwrap_or_default(),
        ..EnrolForm::default()
    };
    page(&state, user, form, Vec::new(), find.q).await
}

fn major_option(m: &MajorChoice) -> (String, String) {
    let text = format!(
        "{} {} (version {}) — {} {}",
        m.code, m.title, m.version, m.major_code, m.major_title
    );
    (m.major_id.to_string(), text)
}

fn id(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s.trim()).ok()
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<EnrolForm>,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let (learner, major, assessor, trainee, iqa) = (
        id(&form.learner),
        id(&form.major),
        id(&form.assessor),
        id(&form.trainee),
        id(&form.iqa),
    );
    let mut errors = validate_assignments(learner, major, assessor, trainee, iqa);
    let choice = match major {
        Some(m) => qualifications::majors_to_enrol(&state.pool, user.centre_id)
            .await?
            .into_iter()
            .find(|c| c.major_id == m),
        None => None,
    };
    if major.is_some() && choice.is_none() {
        errors.push(FieldError::new(
            "major",
            "Select the qualification and major",
        ));
    }
    let employer = id(&form.employer);
    if let Some(e) = employer {
        match employers::get(&state.pool, user.centre_id, e).await {
            Ok(_) => {}
            Err(DbError::NotFound) => errors.push(FieldError::new(
                "employer",
                "Select an employer of your centre",
            )),
            Err(other) => return Err(other.into()),
        }
    }
    let (Some(learner), Some(choice), Some(assessor), true) =
        (learner, choice, assessor, errors.is_empty())
    else {
        let page = page(&state, user, form, errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let new = NewEnrolment {
        centre_id: user.centre_id,
        learner_id: learner,
        version_id: choice.version_id,
        major_id: choice.major_id,
        assessor_id: assessor,
        trainee_assessor_id: trainee,
        iqa_id: iqa,
    };
    // The database checks each person's centre and kind; a wrong pick is a form error.
    let detail = serde_json::json!({ "major": choice.major_code, "qualification": choice.code, "version": choice.version, "employer": employer });
    let enrolment = match audits::enrol(&state.pool, &new, employer, Some(user.id), detail).await {
        Ok(e) => e,
        Err(DbError::WrongPerson { .. }) => {
            let errors = vec![FieldError::new(
                "learner",
                "Select people of your centre in their roles",
            )];
            let page = page(&state, user, form, errors, None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/enrolments/{}", enrolment.id)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/assignments.html")]
pub(crate) struct AssignmentsPage {
    user: User,
    enrolment_id: Uuid,
    learner: String,
    form: EnrolForm,
    errors: Vec<FieldError>,
    assessors: Vec<(String, String)>,
    trainees: Vec<(String, String)>,
    iqas: Vec<(String, String)>,
    employers: Vec<(String, String)>,
    /// The people of the enrolment's saved employer, to tick those who follow it.
    employer_people: Vec<EmployerPerson>,
}

impl AssignmentsPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

async fn assignments_page(
    state: &AppState,
    user: User,
    enrolment: &enrolments::Enrolment,
    form: EnrolForm,
    errors: Vec<FieldError>,
) -> Result<AssignmentsPage, AppError> {
    let p = page(state, user, EnrolForm::default(), Vec::new(), None).await?;
    let learner = users::get(&state.pool, enrolment.learner_id)
        .await?
        .display_name;
    let employers = employers::choices(&state.pool, enrolment.centre_id)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    let employer_people = match employers::of_enrolment(&state.pool, enrolment.id).await? {
        Some(employer) => {
            employer_people::of_employer(&state.pool, enrolment.centre_id, employer).await?
        }
        None => Vec::new(),
    };
    Ok(AssignmentsPage {
        employers,
        employer_people,
        user: p.user,
        enrolment_id: enrolment.id,
        learner,
        form,
        errors,
        assessors: p.assessors,
        trainees: p.trainees,
        iqas: p.iqas,
    })
}

/// The enrolment, if it is of the admin's centre (any other is 404).
async fn own_enrolment(
    state: &AppState,
    user: &User,
    id: Uuid,
) -> Result<enrolments::Enrolment, AppError> {
    let e = enrolments::get(&state.pool, id).await?;
    if e.centre_id == user.centre_id {
        Ok(e)
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn assignments(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<AssignmentsPage, AppError> {
    let user = admin(current)?;
    let e = own_enrolment(&state, &user, id).await?;
    let form = EnrolForm {
        assessor: e.assessor_id.to_string(),
        trainee: e
            .trainee_assessor_id
            .map(|t| t.to_string())
            .unwrap_or_default(),
        iqa: e.iqa_id.map(|t| t.to_string()).unwrap_or_default(),
        employer: employers::of_enrolment(&state.pool, e.id)
            .await?
            .map(|t| t.to_string())
            .unwrap_or_default(),
        employer_people: employer_people::of_enrolment(&state.pool, e.id)
            .await?
            .iter()
            .map(Uuid::to_string)
            .collect(),
        ..EnrolForm::default()
    };
    assignments_page(&state, user, &e, form, Vec::new()).await
}

pub(crate) async fn change_assignments(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let e = own_enrolment(&state, &user, id).await?;
    let form = EnrolForm::assignments(&body);
    let (assessor, trainee, iqa) = (
        self::id(&form.assessor),
        self::id(&form.trainee),
        self::id(&form.iqa),
    );
    let errors = validate_assignments(Some(e.learner_id), Some(e.major_id), assessor, trainee, iqa);
    let Some(assessor) = assessor.filter(|_| errors.is_empty()) else {
        let page = assignments_page(&state, user, &e, form, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let to = Assigned {
        assessor,
        trainee,
        iqa,
        employer: self::id(&form.employer),
    };
    // A value that is no id is no one of this centre: refused like a forged one.
    let people: Vec<Uuid> = form
        .employer_people
        .iter()
        .map(|p| Uuid::parse_str(p).unwrap_or(Uuid::nil()))
        .collect();
    match assignments::change(&state.pool, &user, id, to, &people).await? {
        Changed::Saved => {}
        Changed::Refused(errors) => {
            let page = assignments_page(&state, user, &e, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    }
    Ok(Redirect::to(&format!("/enrolments/{id}")).into_response())
}
