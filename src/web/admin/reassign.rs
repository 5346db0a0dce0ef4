//! Reassigning a caseload: an admin chooses the enrolments a person holds as assessor,
//! trainee assessor or IQA (all, or those ticked on a page of the list) and who takes
//! them over; a confirmation names the count and any enrolment that cannot move; the
//! move itself is one use case (`db::reassign::confirm`).
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::admin;
use crate::db::reassign::{self, Holdings, Proposal};
use crate::db::report::{self, ReportRow, Scope};
use crate::db::users::{self, User};
use crate::db::DbError;
use crate::domain::form::{message_for, FieldError};
use crate::domain::reassign::{enrolments, validate, Chosen, MoveForm, Place};
use crate::domain::report::{Filters, ReportQuery};
use crate::web::auth::CurrentUser;
use crate::web::ids::Ids;
use crate::web::portfolio::query_pairs;
use crate::web::{AppError, AppState};

/// Enrolments on a page of the list.
const PAGE_SIZE: u32 = 50;

/// One place's link above the list.
pub(crate) struct Tab {
    place: Place,
    count: i64,
    current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/reassign.html")]
pub(crate) struct ChoosePage {
    user: User,
    person: User,
    place: Place,
    tabs: Vec<Tab>,
    total: i64,
    rows: Vec<ReportRow>,
    page: u32,
    pages: u32,
    /// (value, text) pairs for the "to" select.
    takers: Vec<(String, String)>,
    form: MoveForm,
    errors: Vec<FieldError>,
    /// After a move: what was done.
    done: Option<String>,
}

impl ChoosePage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
    fn ticked(&self, id: &Uuid) -> bool {
        let id = id.to_string();
        self.form.enrolments.iter().any(|e| e.trim() == id)
    }
    fn all(&self) -> bool {
        self.form.which != "chosen"
    }
    fn count_text(&self) -> String {
        enrolments(usize::try_from(self.total).unwrap_or(0))
    }
    fn taker_hint(&self) -> String {
        format!(
            "Active staff of your centre who are {}s.",
            self.place.label()
        )
    }
    fn page_href(&self, page: u32) -> String {
        format!(
            "/admin/people/{}/reassign?role={}&page={page}",
            self.person.id,
            self.place.key()
        )
    }
}

/// The list of `person`'s enrolments in `place` (by default the first they hold any
/// in), page `page`, with the form as typed.
async fn choose_page(
    state: &AppState,
    user: User,
    person: User,
    place: Option<Place>,
    page: u32,
    form: MoveForm,
    errors: Vec<FieldError>,
) -> Result<ChoosePage, AppError> {
    let held = reassign::holdings(&state.pool, user.centre_id, person.id).await?;
    let place = place.unwrap_or_else(|| {
        Place::ALL
            .into_iter()
            .find(|p| held.of(*p) > 0)
            .unwrap_or(Place::Assessor)
    });
    let filters = match place {
        Place::Assessor => Filters {
            assessor: Some(person.id),
            ..Filters::default()
        },
        Place::TraineeAssessor => Filters {
            trainee: Some(person.id),
            ..Filters::default()
        },
        Place::Iqa => Filters {
            iqa: Some(person.id),
            ..Filters::default()
        },
    };
    let total = held.of(place);
    let size = i64::from(PAGE_SIZE);
    let pages = u32::try_from((total.max(1) + size - 1) / size).unwrap_or(1);
    let page = page.clamp(1, pages);
    let query = ReportQuery {
        filters,
        page,
        size: PAGE_SIZE,
        ..ReportQuery::default()
    };
    let rows = report::rows(&state.pool, user.centre_id, Scope::Centre, &query).await?;
    let takers = reassign::takers(&state.pool, user.centre_id, place, person.id)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id.to_string(),
                format!("{} ({})", c.display_name, c.email),
            )
        })
        .collect();
    Ok(ChoosePage {
        tabs: tabs(&held, place),
        user,
        person,
        place,
        total,
        rows,
        page,
        pages,
        takers,
        form,
        errors,
        done: None,
    })
}

fn tabs(held: &Holdings, current: Place) -> Vec<Tab> {
    Place::ALL
        .into_iter()
        .map(|place| Tab {
            place,
            count: held.of(place),
            current: place == current,
        })
        .collect()
}

pub(crate) async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
    RawQuery(query): RawQuery,
) -> Result<ChoosePage, AppError> {
    let user = admin(current)?;
    let person = reassign::leaving(&state.pool, &user, id).await?;
    let pairs = query_pairs(query.as_deref());
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let place = value("role").and_then(Place::from_key);
    let page = value("page")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(1);
    let moved = value("moved").and_then(|n| n.trim().parse::<usize>().ok());
    let to = value("to").and_then(|t| Uuid::parse_str(t.trim()).ok());
    let mut p = choose_page(
        &state,
        user,
        person,
        place,
        page,
        MoveForm::default(),
        Vec::new(),
    )
    .await?;
    if let (Some(count), Some(to)) = (moved, to) {
        p.done = moved_text(&state, &p.user, count, to, p.place).await?;
    }
    Ok(p)
}

/// "Moved 37 enrolments to Abe Assessor as assessor.", for a person of the centre.
async fn moved_text(
    state: &AppState,
    user: &User,
    count: usize,
    to: Uuid,
    place: Place,
) -> Result<Option<String>, AppError> {
    let taker = match users::get(&state.pool, to).await {
        Ok(t) if t.centre_id == user.centre_id => t,
        Ok(_) | Err(DbError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(format!(
        "Moved {} to {} as {}.",
        enrolments(count),
        taker.display_name,
        place.label()
    )))
}

/// The form as posted: `enrolment` repeats, once per ticked box.
fn read_form(body: &[u8]) -> (MoveForm, u32) {
    let mut f = MoveForm::default();
    let mut page = 1;
    for (key, value) in form_urlencoded::parse(body) {
        match &*key {
            "role" => f.role = value.into_owned(),
            "which" => f.which = value.into_owned(),
            "enrolment" => f.enrolments.push(value.into_owned()),
            "to" => f.to = value.into_owned(),
            "digest" => f.digest = value.into_owned(),
            "page" => page = value.trim().parse().unwrap_or(1),
            _ => {}
        }
    }
    (f, page)
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin/reassign_confirm.html")]
pub(crate) struct ConfirmPage {
    user: User,
    p: Proposal,
    /// The enrolments named on the page; the rest are counted.
    shown: usize,
}

impl ConfirmPage {
    fn count_text(&self) -> String {
        enrolments(self.p.moving.len())
    }
    fn refused_text(&self) -> String {
        enrolments(self.p.refused.len())
    }
    /// The enrolments named on the page.
    fn named(&self) -> &[crate::db::reassign::Named] {
        &self.p.moving[..self.p.moving.len().min(self.shown)]
    }
    /// How many are counted, not named.
    fn unnamed(&self) -> usize {
        self.p.moving.len().saturating_sub(self.shown)
    }
    fn chosen_ids(&self) -> Vec<Uuid> {
        match &self.p.chosen {
            Chosen::These(ids) => ids.clone(),
            Chosen::All { .. } => Vec::new(),
        }
    }
    fn digest(&self) -> &str {
        match &self.p.chosen {
            Chosen::All { digest } => digest,
            Chosen::These(_) => "",
        }
    }
    fn back(&self) -> String {
        format!(
            "/admin/people/{}/reassign?role={}",
            self.p.from.id,
            self.p.place.key()
        )
    }
}

/// The confirmation step: changes nothing. A form error (no one to move them to, no
/// enrolment ticked, someone who cannot take them) shows the list again with the
/// message beside its field and the input kept.
pub(crate) async fn check(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let user = admin(current)?;
    let person = reassign::leaving(&state.pool, &user, id).await?;
    let (form, page) = read_form(&body);
    let place = Place::from_key(&form.role).ok_or(AppError::NotFound)?;
    let again = |errors: Vec<FieldError>, user: User, person: User, form: MoveForm| {
        let state = state.clone();
        async move {
            let p = choose_page(&state, user, person, Some(place), page, form, errors).await?;
            Ok::<_, AppError>((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
    };
    let m = match validate(place, &form) {
        Ok(m) => m,
        Err(errors) => return again(errors, user, person, form).await,
    };
    let proposal = match reassign::propose(&state.pool, &user, person.id, &m).await {
        Ok(Ok(p)) => p,
        Ok(Err(refusal)) => {
            return again(vec![refusal.field_error(place)], user, person, form).await
        }
        // Ticked ids that are no enrolment of the centre.
        Err(DbError::NotFound) => {
            let error = FieldError::new("enrolments", "Select enrolments from the list");
            return again(vec![error], user, person, form).await;
        }
        Err(e) => return Err(e.into()),
    };
    Ok(ConfirmPage {
        user,
        p: proposal,
        shown: 50,
    }
    .into_response())
}

/// The move: 303 back to the list with what was done; 409 with the reason, naming the
/// enrolments, when it is refused (nothing changes).
pub(crate) async fn confirm(
    State(state): State<AppState>,
    current: CurrentUser,
    Ids(id): Ids<Uuid>,
    RawForm(body): RawForm,
) -> Result<Redirect, AppError> {
    let user = admin(current)?;
    let person = reassign::leaving(&state.pool, &user, id).await?;
    let (form, _) = read_form(&body);
    let place = Place::from_key(&form.role).ok_or(AppError::NotFound)?;
    // The confirming form is the page's own: anything it lacks was tampered with.
    let m = validate(place, &form).map_err(|_| AppError::NotFound)?;
    let moved = reassign::confirm(&state.pool, &user, person.id, &m).await?;
    Ok(Redirect::to(&format!(
        "/admin/people/{}/reassign?role={}&moved={}&to={}",
        person.id,
        moved.place.key(),
        moved.count,
        moved.to
    )))
}
