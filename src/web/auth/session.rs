//! Who is signed in: the user id lives in a PostgreSQL-backed session (it survives a
//! restart); `CurrentUser` loads the account, checking in the same query that the
//! session still stands, or sends the browser to sign in.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use time::{Duration, OffsetDateTime};
use tower_sessions::{Expiry, Session};
use uuid::Uuid;

use futures_util::future::BoxFuture;
use sqlx::PgConnection;

use crate::db::users::User;
use crate::db::{sessions, DbResult};
use crate::web::{AppError, AppState};

pub const USER_ID_KEY: &str = "user_id";
/// The account's session generation when this session signed in (absent: 0).
const GENERATION_KEY: &str = "generation";

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::hours(8);

/// A session's end moves forward at most this often. Each move is a write and a cookie,
/// which an assessor ticking every few seconds should not pay on every request.
const EXTEND_EVERY: Duration = Duration::minutes(5);

/// The signed-in user. Pages that take it are for signed-in users only.
pub struct CurrentUser(pub User);

/// Who a request's session says is signed in, not yet checked against the database:
/// the account's id and the session's id. `None` sends the browser to sign in.
pub(crate) struct SessionClaim {
    pub user_id: Uuid,
    pub session_id: String,
    generation: i32,
    session: Session,
}

impl SessionClaim {
    /// The session's claim; Err is the answer that sends the browser to sign in.
    pub(crate) async fn of(parts: &mut Parts, state: &AppState) -> Result<SessionClaim, Response> {
        Self::maybe(parts, state)
            .await?
            .ok_or_else(|| to_sign_in(parts))
    }

    /// The session's claim, or `None` when nobody claims to be signed in.
    async fn maybe(parts: &mut Parts, state: &AppState) -> Result<Option<SessionClaim>, Response> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(status, msg)| (status, msg).into_response())?;
        let id: Option<Uuid> = session.get(USER_ID_KEY).await.map_err(|e| {
            AppError::Internal(anyhow::anyhow!("reading the session: {e}")).into_response()
        })?;
        let generation: Option<i32> = session.get(GENERATION_KEY).await.map_err(|e| {
            AppError::Internal(anyhow::anyhow!("reading the session: {e}")).into_response()
        })?;
        Ok(match (id, session.id()) {
            (Some(user_id), Some(session_id)) => Some(SessionClaim {
                user_id,
                session_id: session_id.to_string(),
                generation: generation.unwrap_or(0),
                session,
            }),
            _ => None,
        })
    }

    /// The session generation this session signed in at.
    pub(crate) fn generation(&self) -> i32 {
        self.generation
    }

    /// The account and what `read` read beside it, if the database says this session
    /// stands; otherwise the answer that sends the browser to sign in (`signed_in_with`).
    pub(crate) async fn check<T, F>(
        &self,
        parts: &Parts,
        state: &AppState,
        read: F,
    ) -> Result<(User, T), Response>
    where
        F: for<'c> Fn(&'c mut PgConnection, Uuid, String) -> BoxFuture<'c, DbResult<Checked<T>>>,
    {
        let (user_id, session_id) = (self.user_id, self.session_id.clone());
        let found = state
            .reads
            .read(|db| read(db, user_id, session_id.clone()))
            .await;
        match found {
            Ok(Some((user, ends, more))) if self.stands(&user) => {
                self.in_use(ends);
                Ok((user, more))
            }
            // A deactivated person cannot sign in, so neither may their old session; nor
            // may one from before their sessions were ended.
            Ok(_) => Err(self.refused(parts).await),
            Err(e) => Err(AppError::from(e).into_response()),
        }
    }

    /// Whether the account read for this claim lets the session stand: active, and not
    /// signed out everywhere since this session began.
    fn stands(&self, user: &User) -> bool {
        user.active && user.session_generation == self.generation
    }

    /// The database says the session stands until `ends`. When its end was last moved
    /// more than `EXTEND_EVERY` ago, it moves to `IDLE` from now: the session layer
    /// saves the session and sends its cookie again as this request is answered.
    pub(crate) fn in_use(&self, ends: OffsetDateTime) {
        if ends < OffsetDateTime::now_utc() + IDLE - EXTEND_EVERY {
            self.session.set_expiry(Some(Expiry::OnInactivity(IDLE)));
        }
    }

    /// The database says the session or the account no longer stands (signed out
    /// elsewhere, expired, account gone or deactivated): forget it and sign in again.
    pub(crate) async fn refused(&self, parts: &Parts) -> Response {
        let _ = self.session.flush().await;
        to_sign_in(parts)
    }
}

/// What a page reads with the session's check, in the same statement: the account and
/// when the session ends, if it stands, and what else the page needs.
pub(crate) type Checked<T> = Option<(User, OffsetDateTime, T)>;

/// The signed-in, active account and what `read` read beside it (given the account's
/// id and the session's id), in one round trip on the kept connections; or the answer
/// that sends the browser to sign in. Every signed-in page's extractor is this.
pub(crate) async fn signed_in_with<T, F>(
    parts: &mut Parts,
    state: &AppState,
    read: F,
) -> Result<(User, T), Response>
where
    F: for<'c> Fn(&'c mut PgConnection, Uuid, String) -> BoxFuture<'c, DbResult<Checked<T>>>,
{
    SessionClaim::of(parts, state)
        .await?
        .check(parts, state, read)
        .await
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let (user, ()) = signed_in_with(parts, state, |db, user, session| {
            Box::pin(async move {
                let found = sessions::signed_in(db, user, &session).await?;
                Ok(found.map(|(user, ends)| (user, ends, ())))
            })
        })
        .await?;
        Ok(CurrentUser(user))
    }
}

/// Whoever is signed in, checked exactly as `CurrentUser` checks, or nobody: for pages
/// open to everyone (help). A session that no longer stands is forgotten and reads as
/// signed out.
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(claim) = SessionClaim::maybe(parts, state).await? else {
            return Ok(MaybeUser(None));
        };
        let (user_id, session_id) = (claim.user_id, claim.session_id.clone());
        let found = state
            .reads
            .read(|db| {
                let session_id = session_id.clone();
                Box::pin(async move { sessions::signed_in(db, user_id, &session_id).await })
            })
            .await;
        match found {
            Ok(Some((user, ends))) if claim.stands(&user) => {
                claim.in_use(ends);
                Ok(MaybeUser(Some(user)))
            }
            Ok(_) => {
                let _ = claim.session.flush().await;
                Ok(MaybeUser(None))
            }
            Err(e) => Err(AppError::from(e).into_response()),
        }
    }
}

/// Signs `user` in on `session`: a new session id (so an id planted before it is
/// worthless) holding the account and its current session generation.
pub(crate) async fn begin(
    session: &Session,
    user_id: Uuid,
    generation: i32,
) -> Result<(), AppError> {
    let failed =
        |e: tower_sessions::session::Error| AppError::Internal(anyhow::anyhow!("session: {e}"));
    session.cycle_id().await.map_err(failed)?;
    session.insert(USER_ID_KEY, user_id).await.map_err(failed)?;
    session
        .insert(GENERATION_KEY, generation)
        .await
        .map_err(failed)?;
    Ok(())
}

/// The answer that sends the browser to sign in and come back here.
pub(crate) fn to_sign_in(parts: &Parts) -> Response {
    // An htmx request comes back to the page it was made from, not to its own address,
    // and must make the browser leave the page rather than swap a sign-in form into a row.
    let from_htmx = parts.headers.contains_key("hx-request");
    let current_page = parts
        .headers
        .get("hx-current-url")
        .and_then(|v| v.to_str().ok())
        .and_then(|url| url.parse::<axum::http::Uri>().ok())
        .and_then(|uri| uri.path_and_query().map(|p| p.as_str().to_string()));
    let next = match (&current_page, from_htmx) {
        (Some(page), true) => page.as_str(),
        _ => parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/"),
    };
    let query = if next == "/" {
        String::new()
    } else {
        format!("?next={}", urlencode(next))
    };
    let login = format!("/login{query}");
    if from_htmx {
        ([("hx-redirect", login)], ()).into_response()
    } else {
        Redirect::to(&login).into_response()
    }
}

/// Percent-encodes a path for a query value (the characters a path may hold).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
