//! The session table belongs to tower-sessions' store; ours are its clean-up and the
//! loads that check a session is still live in the same round trip as they read who
//! holds it (the store's records are kept in memory, `web::auth::memo`, so this is the
//! one query that asks the database whether a session still stands).
use sqlx::postgres::PgRow;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::enrolments::Enrolment;
use super::users::User;
use super::DbResult;

/// Removes expired sessions; returns how many.
pub async fn delete_expired(db: impl PgExecutor<'_>) -> DbResult<u64> {
    let r = sqlx::query("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

const LIVE: &str = "EXISTS (SELECT 1 FROM tower_sessions.session s \
                           WHERE s.id = $2 AND s.expiry_date > now())";

/// The account `user_id`, if session `session_id` (the store's id text) is still live:
/// not signed out, not expired, on any server. None otherwise.
pub async fn signed_in(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: &str,
) -> DbResult<Option<User>> {
    let row: Option<PgRow> = sqlx::query(&format!(
        "{} WHERE u.id = $1 AND {LIVE}",
        super::users::SELECT
    ))
    .bind(user_id)
    .bind(session_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| super::users::from_row(&r)).transpose()
}

/// `signed_in` and the enrolment `enrolment_id` (None when there is none) in one round
/// trip: what every portfolio page needs before anything else.
pub async fn signed_in_with_enrolment(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: &str,
    enrolment_id: Uuid,
) -> DbResult<Option<(User, Option<Enrolment>)>> {
    let row: Option<PgRow> = sqlx::query(&format!(
        "SELECT u.*, {} FROM ({} WHERE u.id = $1 AND {LIVE}) u \
         LEFT JOIN enrolments e ON e.id = $3",
        super::enrolments::PREFIXED_COLUMNS,
        super::users::SELECT
    ))
    .bind(user_id)
    .bind(session_id)
    .bind(enrolment_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        let user = super::users::from_row(&r)?;
        let enrolment = super::enrolments::from_prefixed_row(&r)?;
        Ok((user, enrolment))
    })
    .transpose()
}
