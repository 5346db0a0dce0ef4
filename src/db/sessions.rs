//! The session table belongs to tower-sessions' store; ours are its clean-up and the
//! loads that check a session is still live in the same round trip as they read who
//! holds it (the store's records are kept in memory, `web::auth::memo`, so this is the
//! one query that asks the database whether a session still stands).
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::enrolments::Enrolment;
use super::users::User;
use super::DbResult;

/// Removes expired sessions; returns how many.
pub async fn delete_expired(db: impl PgExecutor<'_>) -> DbResult<u64> {
    let r = sqlx::query!("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// The live session `$2`: not signed out, not expired, on any server.
const LIVE: &str = "JOIN tower_sessions.session s ON s.id = $2 AND s.expiry_date > now()";

/// The account `user_id` and when its session `session_id` (the store's id text) ends,
/// if that session is still live: not signed out, not expired, on any server. None
/// otherwise.
pub async fn signed_in(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: &str,
) -> DbResult<Option<(User, OffsetDateTime)>> {
    let row: Option<PgRow> = sqlx::query(&format!(
        "SELECT u.*, s.expiry_date AS session_ends FROM ({} WHERE u.id = $1) u {LIVE}",
        super::users::SELECT
    ))
    .bind(user_id)
    .bind(session_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| Ok((super::users::from_row(&r)?, r.try_get("session_ends")?)))
        .transpose()
}

/// `signed_in` and the enrolment `enrolment_id` (None when there is none) in one round
/// trip: what every portfolio page needs before anything else.
pub async fn signed_in_with_enrolment(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: &str,
    enrolment_id: Uuid,
) -> DbResult<Option<(User, OffsetDateTime, Option<Enrolment>)>> {
    let row: Option<PgRow> = sqlx::query(&format!(
        "SELECT u.*, s.expiry_date AS session_ends, {} FROM ({} WHERE u.id = $1) u {LIVE} \
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
        Ok((user, r.try_get("session_ends")?, enrolment))
    })
    .transpose()
}

/// `signed_in`, and a fingerprint of everything a home page shows about the person's
/// enrolments (as learner, assessor, trainee or IQA), in one round trip: it changes
/// whenever one of them changes (their revisions), one is added or goes, or one
/// crosses the line of 30 days without activity (the earliest last activity inside it).
///
/// One lateral read per way a person is on an enrolment (each by its own index, and
/// skipped outright for a role the person does not hold: the plan is generic, and an IQA's
/// column would otherwise be read as if everyone held 2,000 enrolments); no enrolment is
/// on two of them for one person, so their parts combine.
pub async fn signed_in_with_home(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: &str,
) -> DbResult<Option<(User, OffsetDateTime, i64)>> {
    let part = |name: &str, column: &str, when: &str| {
        format!(
            "CROSS JOIN LATERAL (SELECT COALESCE(bit_xor(hashtextextended(e.id::text || ':' || e.revision, 0)), 0) AS x, \
                    count(*) AS n, \
                    min(e.last_activity_at) FILTER (WHERE e.last_activity_at >= now() - interval '30 days') AS m \
               FROM enrolments e WHERE e.{column} = u.id AND {when}) {name} "
        )
    };
    let staff = "(u.roles && ARRAY['assessor', 'trainee_assessor'])";
    let row: Option<PgRow> = sqlx::query(&format!(
        "SELECT u.*, s.expiry_date AS session_ends, \
                l.x # a.x # t.x # i.x # (l.n + a.n + t.n + i.n) \
                # COALESCE(hashtextextended(LEAST(l.m, a.m, t.m, i.m)::text, 1), 0) AS fingerprint \
           FROM ({} WHERE u.id = $1) u {LIVE} {}{}{}{}",
        super::users::SELECT,
        part("l", "learner_id", "u.kind = 'learner'"),
        part("a", "assessor_id", staff),
        part("t", "trainee_assessor_id", staff),
        part("i", "iqa_id", "'iqa' = ANY(u.roles)"),
    ))
    .bind(user_id)
    .bind(session_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok((
            super::users::from_row(&r)?,
            r.try_get("session_ends")?,
            r.try_get("fingerprint")?,
        ))
    })
    .transpose()
}
