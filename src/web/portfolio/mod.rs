//! A learner's portfolio: the enrolment, its evidence and the three tick layers.
//! Every page first works out the viewer's capacity; without one the enrolment is 404.
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use uuid::Uuid;

use super::auth::SessionClaim;
use super::{page_cache, AppError, AppState};
use crate::db::enrolments::{self, Enrolment};
use crate::db::sessions;
use crate::db::users::User;
use crate::domain::access::{self, Assigned, Capacity, Viewer};

pub(crate) mod activity;
mod apprenticeship;
mod audit;
mod credential;
mod download;
mod enrolment;
mod evidence;
mod iqa;
mod major;
mod matrix;
mod otj;
pub(crate) mod otj_view;
mod progress;
pub(crate) mod remembered;
pub(crate) mod review_view;
pub(crate) mod reviews;
pub(crate) mod status;
mod suggestions;
mod ticks;
mod uploads;
mod witness;

/// `body_limit` bounds one evidence form, files and all.
pub fn routes(body_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/enrolments/{id}", get(enrolment::page))
        .route("/enrolments/{id}/progress", get(progress::page))
        .route("/enrolments/{id}/activity", get(activity::page))
        .route("/enrolments/{id}/activity.csv", get(activity::csv))
        .route("/enrolments/{id}/matrix", get(matrix::page))
        .route("/enrolments/{id}/status", get(status::panel))
        .route(
            "/enrolments/{id}/audit",
            get(audit::page).post(status::audit),
        )
        .route(
            "/enrolments/{id}/major",
            get(major::page).post(major::switch),
        )
        .route("/enrolments/{id}/credential/request", post(status::request))
        .route("/enrolments/{id}/credential", get(credential::page))
        .route("/enrolments/{id}/credential.pdf", get(credential::pdf))
        .route(
            "/enrolments/{id}/credential.json",
            get(credential::open_badge),
        )
        .route("/enrolments/{id}/credential/print", get(credential::print))
        .route("/enrolments/{id}/credential/email", post(credential::email))
        .route("/enrolments/{id}/credential/retry", post(status::retry))
        .route("/enrolments/{id}/credential/issue", post(status::issue))
        .route(
            "/enrolments/{id}/credential/cancel",
            get(status::confirm_cancel).post(status::cancel),
        )
        .route("/enrolments/{id}/iqa", post(iqa::record))
        .route(
            "/enrolments/{id}/iqa/{decision}/addressed",
            post(iqa::addressed),
        )
        .route("/enrolments/{id}/iqa/{decision}/closed", post(iqa::closed))
        .route(
            "/enrolments/{id}/evidence",
            // Room for several files at the limit; each file is also checked as it arrives.
            post(evidence::create).layer(axum::extract::DefaultBodyLimit::max(body_limit)),
        )
        .route(
            "/enrolments/{id}/evidence/{evidence}/files/{file}",
            get(download::download),
        )
        .route("/enrolments/{id}/evidence/new", get(evidence::new))
        .route("/enrolments/{id}/uploads", post(uploads::create))
        .route(
            "/enrolments/{id}/uploads/{upload}",
            get(uploads::offset)
                .patch(uploads::append)
                .delete(uploads::discard),
        )
        .route("/enrolments/{id}/evidence/{evidence}", get(evidence::page))
        .route(
            "/enrolments/{id}/evidence/{evidence}/ticks",
            post(ticks::change),
        )
        .route(
            "/enrolments/{id}/evidence/{evidence}/accept/{from}",
            get(ticks::confirm_accept).post(ticks::accept),
        )
        .route(
            "/enrolments/{id}/apprenticeship",
            get(apprenticeship::plan).post(apprenticeship::save_plan),
        )
        .route(
            "/enrolments/{id}/apprenticeship/breaks",
            get(apprenticeship::breaks).post(apprenticeship::add_break),
        )
        .route(
            "/enrolments/{id}/apprenticeship/breaks/{break}/remove",
            post(apprenticeship::remove_break),
        )
        .route(
            "/enrolments/{id}/reviews",
            get(reviews::list).post(reviews::record),
        )
        .route("/enrolments/{id}/reviews/{review}", get(reviews::show))
        .route(
            "/enrolments/{id}/reviews/{review}/part",
            post(reviews::write),
        )
        .route(
            "/enrolments/{id}/reviews/{review}/sign",
            post(reviews::sign),
        )
        .route(
            "/enrolments/{id}/reviews/{review}/employer-link",
            post(reviews::ask_employer),
        )
        .route(
            "/enrolments/{id}/reviews/{review}/review.pdf",
            get(reviews::pdf),
        )
        .route("/enrolments/{id}/otj", get(otj::page).post(otj::add))
        .route(
            "/enrolments/{id}/otj/{entry}",
            get(otj::entry).post(otj::edit),
        )
        .route("/enrolments/{id}/otj/{entry}/decision", post(otj::decide))
        .route("/enrolments/{id}/otj/{entry}/withdraw", post(otj::withdraw))
        .route(
            "/enrolments/{id}/witness",
            get(witness::list).post(witness::ask),
        )
        .route(
            "/enrolments/{id}/witness/{request}/withdraw",
            post(witness::withdraw),
        )
        .route(
            "/enrolments/{id}/witness/{request}/resend",
            post(witness::resend),
        )
        .route(
            "/enrolments/{id}/evidence/{evidence}/testimony",
            post(witness::correct),
        )
        .route(
            "/enrolments/{id}/evidence/{evidence}/testimony/ask",
            post(witness::ask_to_sign),
        )
}

/// What every page about an enrolment shows at its top: whose portfolio, and its
/// status tag (UX: every page says where the enrolment stands).
pub(crate) struct Header {
    pub enrolment_id: Uuid,
    pub learner: String,
    pub status: crate::domain::Status,
}

pub(crate) async fn header(state: &AppState, enrolment: &Enrolment) -> Result<Header, AppError> {
    let names = crate::db::users::names(&state.pool, &[enrolment.learner_id]).await?;
    Ok(Header {
        enrolment_id: enrolment.id,
        learner: names
            .get(&enrolment.learner_id)
            .cloned()
            .unwrap_or_default(),
        status: enrolment.status,
    })
}

/// A query string's pairs, decoded (the domain reads them; a value it cannot use is
/// reported beside its field, so no query string is refused here).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The enrolment and the viewer's capacity on it; 404 for anyone who may not see it.
pub(crate) async fn enrolment_for(
    state: &AppState,
    user: &User,
    id: Uuid,
) -> Result<(Enrolment, Capacity), AppError> {
    let enrolment = enrolments::get(&state.pool, id).await?;
    let capacity = capacity_of(user, &enrolment).ok_or(AppError::NotFound)?;
    Ok((enrolment, capacity))
}

fn capacity_of(user: &User, enrolment: &Enrolment) -> Option<Capacity> {
    let assigned = Assigned {
        centre: enrolment.centre_id,
        learner: enrolment.learner_id,
        assessor: enrolment.assessor_id,
        trainee_assessor: enrolment.trainee_assessor_id,
        iqa: enrolment.iqa_id,
    };
    let viewer = Viewer {
        id: user.id,
        centre: user.centre_id,
        roles: &user.roles,
    };
    access::capacity(viewer, &assigned)
}

/// The signed-in viewer of an `/enrolments/{id}/…` page, the enrolment and their
/// capacity on it, read in one round trip with the session's check (the busiest pages
/// take this rather than `CurrentUser` and `enrolment_for`, which take two). Anyone who
/// may not see the enrolment gets 404, as from `enrolment_for`. Each read is remembered
/// for the ticks that follow it (`remembered`).
#[derive(Clone)]
pub(crate) struct Portfolio {
    pub user: User,
    pub enrolment: Enrolment,
    pub capacity: Capacity,
    /// The enrolment's centre's page revision (`page_cache::Revision`).
    centre_revision: i64,
}

/// A page the viewer asked for: kept and still current, or to render and keep under
/// this key at this revision.
pub(crate) enum Asked {
    Kept(Response),
    ToRender(page_cache::Key, page_cache::Revision),
}

impl Portfolio {
    /// This viewer's `page` (of evidence `item`), if it is kept and the enrolment has
    /// not changed since; otherwise the key to keep it under once rendered.
    pub(crate) fn asked(
        &self,
        state: &AppState,
        page: page_cache::Page,
        item: Option<Uuid>,
        headers: &HeaderMap,
    ) -> Asked {
        let key = page_cache::Key {
            page,
            enrolment: Some(self.enrolment.id),
            item,
            viewer: self.user.id,
            capacity: Some(self.capacity),
        };
        let revision = page_cache::Revision {
            own: self.enrolment.revision,
            centre: self.centre_revision,
        };
        match state.pages.get(&key, revision) {
            Some(kept) => Asked::Kept(kept.respond(headers)),
            None => Asked::ToRender(key, revision),
        }
    }
}

/// The enrolment id in the request's address; 404 without one.
async fn enrolment_in_path(parts: &mut Parts, state: &AppState) -> Result<Uuid, Response> {
    let not_found = || AppError::NotFound.into_response();
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| not_found())?;
    params
        .iter()
        .find(|(name, _)| *name == "id")
        .and_then(|(_, value)| Uuid::parse_str(value).ok())
        .ok_or_else(not_found)
}

impl Portfolio {
    /// The portfolio of enrolment `id` as `claim`'s session sees it now, read in one
    /// round trip with the session's check, and remembered for the ticks that follow.
    async fn read(
        claim: &SessionClaim,
        parts: &Parts,
        state: &AppState,
        id: Uuid,
    ) -> Result<Portfolio, Response> {
        let not_found = || AppError::NotFound.into_response();
        let (user, enrolment) = claim
            .check(parts, state, move |db, user, session| {
                Box::pin(
                    async move { sessions::signed_in_with_enrolment(db, user, &session, id).await },
                )
            })
            .await?;
        let (enrolment, centre_revision) = enrolment.ok_or_else(not_found)?;
        let capacity = capacity_of(&user, &enrolment).ok_or_else(not_found)?;
        let portfolio = Portfolio {
            user,
            enrolment,
            capacity,
            centre_revision,
        };
        state.remembered.keep(&claim.session_id, &portfolio);
        Ok(portfolio)
    }
}

impl FromRequestParts<AppState> for Portfolio {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let id = enrolment_in_path(parts, state).await?;
        let claim = SessionClaim::of(parts, state).await?;
        Portfolio::read(&claim, parts, state, id).await
    }
}
