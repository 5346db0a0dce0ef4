//! The witness's page (issue 13, point 3): opened from a one-time link by anyone, with
//! no account (`/witness/{token}`), or by an employer's person signed in
//! (`/witness-requests/{id}`). It shows the criteria the testimony concerns; the witness
//! writes what they saw, states their role and relationship, may attach a file, and
//! signs. A link that no longer works says why, plainly. The token is checked (its
//! shape, then its hash) before any of the body is read.
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::CurrentUser;
use super::files::{Received, UploadError, NOT_ALLOWED_FIELD};
use super::ids::Ids;
use super::{AppError, AppState};
use crate::db::enrolments;
use crate::db::signatures;
use crate::db::users::{Role, User};
use crate::db::witness::{self, Request, Testified, WitnessFile, WitnessSigning};
use crate::domain::form::{message_for, FieldError};
use crate::domain::signature::{SignError, SignedKind};
use crate::domain::witness::{validate_testimony, LinkState, ShownCriterion, TestimonyForm};

pub fn routes(body_limit: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/witness/{token}",
            get(by_link)
                .post(sign_by_link)
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .route(
            "/witness-requests/{id}",
            get(by_account)
                .post(sign_by_account)
                .layer(DefaultBodyLimit::max(body_limit)),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/witness.html")]
pub(crate) struct WitnessPage {
    /// Signed in (an employer's person), or None for a link's holder.
    user: Option<User>,
    action: String,
    request: Request,
    criteria: Vec<ShownCriterion>,
    form: TestimonyForm,
    errors: Vec<FieldError>,
    statement: &'static str,
    /// A correction to sign: the witness signed an earlier version.
    resigning: bool,
    limit_mb: u64,
}

impl WitnessPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        message_for(&self.errors, field)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/witness_closed.html")]
pub(crate) struct ClosedPage {
    user: Option<User>,
    message: &'static str,
    signed: bool,
}

/// Tokens are 64 lower-case hex characters; anything else is no link of ours, and is
/// answered without a query.
pub(crate) fn plausible(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn request_by_link(state: &AppState, token: &str) -> Result<Request, AppError> {
    if !plausible(token) {
        return Err(AppError::NotFound);
    }
    Ok(witness::by_token(&state.pool, token).await?)
}

/// The request asked of this employer's person; anyone else gets 404.
async fn request_by_account(state: &AppState, user: &User, id: Uuid) -> Result<Request, AppError> {
    let r = witness::get(&state.pool, id).await?;
    if !user.has_role(Role::Employer) || r.witness_user_id != Some(user.id) {
        return Err(AppError::NotFound);
    }
    Ok(r)
}

async fn shown_criteria(state: &AppState, r: &Request) -> Result<Vec<ShownCriterion>, AppError> {
    let enrolment = enrolments::get(&state.pool, r.enrolment_id).await?;
    let version = state
        .versions
        .load(&state.pool, enrolment.version_id)
        .await?;
    let labels = version.qualification.criterion_labels();
    Ok(r.criteria
        .iter()
        .filter_map(|id| {
            let ordinal = version.criterion_ordinal(*id)?;
            Some(ShownCriterion {
                id: *id,
                label: labels.get(ordinal)?.clone(),
            })
        })
        .collect())
}

/// The page for an open request, or the plain words for a closed one.
async fn open_page(
    state: &AppState,
    user: Option<User>,
    action: String,
    request: Request,
) -> Result<Response, AppError> {
    let now = OffsetDateTime::now_utc();
    let st = request.state(now);
    if st != LinkState::Open {
        let status = if st == LinkState::Used {
            StatusCode::OK
        } else {
            StatusCode::GONE
        };
        return Ok((
            status,
            ClosedPage {
                user,
                message: st.message(),
                signed: st == LinkState::Used,
            },
        )
            .into_response());
    }
    let criteria = shown_criteria(state, &request).await?;
    // Asked to sign a correction: the form opens on the version to sign.
    let mut form = TestimonyForm::default();
    if let Some(item) = request.item_id {
        if let Some(current) = signatures::versions(&state.pool, item).await?.pop() {
            let text = |k: &str| {
                current.content["witness"][k]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            };
            form.account = current.content["account"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            form.role = text("role");
            form.relationship = text("relationship");
        }
    }
    Ok(WitnessPage {
        user,
        action,
        resigning: request.item_id.is_some(),
        request,
        criteria,
        form,
        errors: Vec::new(),
        statement: SignedKind::WitnessTestimony.statement(),
        limit_mb: state.files.limit_mb(),
    }
    .into_response())
}

pub async fn by_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let request = request_by_link(&state, &token).await?;
    open_page(&state, None, format!("/witness/{token}"), request).await
}

pub async fn by_account(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
) -> Result<Response, AppError> {
    let request = request_by_account(&state, &user, id).await?;
    open_page(
        &state,
        Some(user),
        format!("/witness-requests/{id}"),
        request,
    )
    .await
}

/// The form's text, and its one optional file streamed to the store.
async fn read_form(
    state: &AppState,
    mut multipart: Multipart,
) -> (TestimonyForm, Option<Received>, Option<&'static str>) {
    let mut form = TestimonyForm::default();
    let mut file = None;
    let mut problem = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                problem = Some("The file is larger than the limit, or the upload was interrupted");
                break;
            }
        };
        match field.name().unwrap_or_default() {
            "file" if field.file_name().is_some_and(|n| !n.is_empty()) => {
                if file.is_some() {
                    problem = Some("Attach one file at most");
                    continue;
                }
                match state.files.receive(field).await {
                    Ok(r) => file = Some(r),
                    Err(UploadError::StorageFull) => {
                        problem =
                            Some("The server’s storage is full, so the file could not be saved")
                    }
                    Err(UploadError::NotAllowed { .. }) => problem = Some(NOT_ALLOWED_FIELD),
                    Err(_) => problem = Some("Select a file within the size limit"),
                }
            }
            name => {
                let name = name.to_string();
                let value = field.text().await.unwrap_or_default();
                match name.as_str() {
                    "account" => form.account = value,
                    "role" => form.role = value,
                    "relationship" => form.relationship = value,
                    "signed_name" => form.signed_name = value,
                    "agreed" => form.agreed = value == "yes",
                    _ => {}
                }
            }
        }
    }
    (form, file, problem)
}

#[allow(clippy::too_many_arguments)]
async fn sign(
    state: &AppState,
    user: Option<User>,
    action: String,
    request: Request,
    multipart: Multipart,
    address: Option<String>,
    user_agent: Option<String>,
) -> Result<Response, AppError> {
    let (form, file, problem) = read_form(state, multipart).await;
    let criteria = shown_criteria(state, &request).await?;
    let again = |form: TestimonyForm, errors: Vec<FieldError>, request: Request, user| {
        let page = WitnessPage {
            user,
            action: action.clone(),
            resigning: request.item_id.is_some(),
            request,
            criteria: criteria.clone(),
            form,
            errors,
            statement: SignedKind::WitnessTestimony.statement(),
            limit_mb: state.files.limit_mb(),
        };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let valid = match (validate_testimony(&form), problem) {
        (Ok(v), None) => v,
        (checked, problem) => {
            let mut errors = checked.err().unwrap_or_default();
            if let Some(p) = problem {
                errors.push(FieldError::new("file", p));
            }
            return again(form, errors, request, user);
        }
    };
    let received: Vec<Received> = file.into_iter().collect();
    let (keys, placed) = state
        .files
        .keep_all(&received)
        .await
        .map_err(crate::web::files::not_kept)?;
    let files: Vec<WitnessFile<'_>> = received
        .iter()
        .zip(&keys)
        .map(|(f, key)| WitnessFile {
            file_name: &f.file_name,
            content_type: &f.content_type,
            size: f.size,
            storage_key: key,
            sha256: &f.sha256,
        })
        .collect();
    let who = WitnessSigning {
        account: user.as_ref(),
        at: OffsetDateTime::now_utc(),
        address,
        user_agent,
    };
    match witness::testify(&state.pool, request.id, &valid, &criteria, &files, who).await? {
        Testified::Signed => {
            placed.committed();
            Ok(Redirect::to(&format!("{action}?signed=1")).into_response())
        }
        Testified::Closed(st) => Ok((
            StatusCode::GONE,
            ClosedPage {
                user,
                message: st.message(),
                signed: false,
            },
        )
            .into_response()),
        Testified::Refused(e) => {
            let field = match e {
                SignError::NoName | SignError::NameDiffers => "signed_name",
                _ => "account",
            };
            let message = match e {
                SignError::NameDiffers => {
                    "Type your full name as it is shown at the top of this page"
                }
                SignError::NoName => "Type your full name to sign",
                _ => "This testimony cannot be signed as it is",
            };
            again(form, vec![FieldError::new(field, message)], request, user)
        }
    }
}

pub(crate) fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(500).collect())
}

pub async fn sign_by_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, AppError> {
    // Checked before the body is read: a signed-out request for no link costs a lookup.
    let request = request_by_link(&state, &token).await?;
    let address = connect.map(|c| c.0 .0.ip().to_string());
    sign(
        &state,
        None,
        format!("/witness/{token}"),
        request,
        multipart,
        address,
        user_agent(&headers),
    )
    .await
}

pub async fn sign_by_account(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Ids(id): Ids<Uuid>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let request = request_by_account(&state, &user, id).await?;
    let address = connect.map(|c| c.0 .0.ip().to_string());
    sign(
        &state,
        Some(user),
        format!("/witness-requests/{id}"),
        request,
        multipart,
        address,
        user_agent(&headers),
    )
    .await
}
