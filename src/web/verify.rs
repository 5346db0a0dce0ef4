//! The public verification of a credential (SPEC §6): valid, or withdrawn with the
//! date, showing only what the certificate shows. A mistyped number (its check symbol
//! does not match) is told apart from one that is not in the register. Also the
//! machine-readable status of a signed credential and the centre's published key.
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use uuid::Uuid;

use super::{AppError, AppState};
use crate::credentials::vc;
use crate::db::centre_keys;
use crate::db::credentials::{self, Credential};
use crate::domain::credential_number::CredentialNumber;
use crate::web::home::day;
use crate::web::ids::Ids;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/verify", get(form))
        .route("/verify/{number}", get(page))
        .route("/verify/{number}/status", get(status))
        .route("/.well-known/attest/centres/{centre}", get(centre_key))
        .route(
            "/.well-known/attest/centres/{centre}/revocation/{list}",
            get(status_list),
        )
}

/// What the page found.
pub enum Finding {
    /// Nothing asked yet.
    Nothing,
    Mistyped(String),
    Unknown,
    Valid(Credential),
    Withdrawn(Credential),
}

impl Finding {
    fn mistake(&self) -> Option<&str> {
        match self {
            Finding::Mistyped(reason) => Some(reason),
            _ => None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/verify.html")]
pub(crate) struct VerifyPage {
    typed: String,
    finding: Finding,
}

impl VerifyPage {
    fn date(&self, at: &time::OffsetDateTime) -> String {
        day(at)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Typed {
    number: Option<String>,
}

/// A credential exists for the public once issued; one cancelled before it was
/// issued never was a credential.
async fn find(state: &AppState, number: CredentialNumber) -> Result<Finding, AppError> {
    Ok(
        match credentials::find_by_number(&state.pool, &number.to_string()).await? {
            Some(c) if c.issued_at.is_some() && c.cancelled_at.is_some() => Finding::Withdrawn(c),
            Some(c) if c.issued_at.is_some() => Finding::Valid(c),
            _ => Finding::Unknown,
        },
    )
}

fn answer(typed: String, finding: Finding) -> Response {
    let code = match finding {
        Finding::Mistyped(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Finding::Unknown => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    (code, VerifyPage { typed, finding }).into_response()
}

/// The form; with a number typed, to its page (or the reason it cannot be one).
pub async fn form(Query(typed): Query<Typed>) -> Response {
    match typed.number.filter(|n| !n.trim().is_empty()) {
        None => answer(String::new(), Finding::Nothing),
        Some(text) => match CredentialNumber::parse(&text) {
            Ok(n) => Redirect::to(&format!("/verify/{}", n.url_segment())).into_response(),
            Err(e) => answer(text, Finding::Mistyped(e.to_string())),
        },
    }
}

pub async fn page(
    State(state): State<AppState>,
    Ids(typed): Ids<String>,
) -> Result<Response, AppError> {
    let finding = match CredentialNumber::parse(&typed) {
        Ok(n) => find(&state, n).await?,
        Err(e) => Finding::Mistyped(e.to_string()),
    };
    Ok(answer(typed, finding))
}

fn json(code: StatusCode, body: serde_json::Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The credential's status for verifiers: revoked once withdrawn.
pub async fn status(
    State(state): State<AppState>,
    Ids(typed): Ids<String>,
) -> Result<Response, AppError> {
    let Ok(number) = CredentialNumber::parse(&typed) else {
        return Ok(json(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "mistyped credential number" }),
        ));
    };
    Ok(match find(&state, number).await? {
        Finding::Valid(c) | Finding::Withdrawn(c) => json(
            StatusCode::OK,
            vc::status_document(
                &state.public_url,
                c.centre_id,
                number,
                c.cancelled_at.is_some(),
            ),
        ),
        _ => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "no credential has this number" }),
        ),
    })
}

/// The centre's public keys, where its credentials say their issuer is: every key it
/// has had, current and retired, so that each credential finds the key that signed it.
pub(crate) async fn centre_key(
    State(state): State<AppState>,
    Ids(centre): Ids<String>,
) -> Result<Response, AppError> {
    let id: Uuid = centre.parse().map_err(|_| AppError::NotFound)?;
    // Made when the centre issues its first credential; a GET never makes one.
    let keys = centre_keys::published(&state.pool, id).await?;
    if keys.is_empty() {
        return Err(AppError::NotFound);
    }
    let keys = keys
        .iter()
        .map(|k| {
            let bytes: [u8; 32] = k.public_key.as_slice().try_into().map_err(|_| {
                AppError::Internal(anyhow::anyhow!("a stored public key is not 32 bytes"))
            })?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok((k.key_id(), key))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let issuer = vc::issuer_id(&state.public_url, id);
    Ok(json(
        StatusCode::OK,
        vc::controller_document(&issuer, &keys),
    ))
}

/// The centre's W3C Bitstring Status List credential (revocation): a withdrawn
/// credential's bit is 1. Signed now, by the centre's key, like its credentials.
pub async fn status_list(
    State(state): State<AppState>,
    Ids((centre, list)): Ids<(String, String)>,
) -> Result<Response, AppError> {
    let id: Uuid = centre.parse().map_err(|_| AppError::NotFound)?;
    let list: u64 = list.parse().map_err(|_| AppError::NotFound)?;
    // A centre that has issued nothing has no key and publishes no list.
    let key = centre_keys::find(&state.pool, &state.signing_kek, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let revoked = credentials::revoked_in_status_list(&state.pool, id, list, vc::STATUS_LIST_BITS)
        .await?
        .ok_or(AppError::NotFound)?;
    let signed = vc::status_list_credential(
        &state.public_url,
        id,
        list,
        &revoked,
        time::OffsetDateTime::now_utc(),
        vc::IssuerKey {
            id: &key.key_id(),
            key: &key.signing_key,
        },
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/vc+ld+json")],
        signed.to_string(),
    )
        .into_response())
}
