//! The session table belongs to tower-sessions' store; ours are its clean-up and the
//! loads that check a session is still live in the same round trip as they read who
//! holds it (the store's records are kept in memory, `web::auth::memo`, so this is the
//! one query that asks the database whether a session still stands).
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::enrolments::{self, Enrolment};
use super::users::{User, UserRow};
use super::{DbError, DbResult};

/// Removes expired sessions; returns how many.
pub(crate) async fn delete_expired(db: impl PgExecutor<'_>) -> DbResult<u64> {
    let r = sqlx::query!("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// An account and when its live session ends.
struct SignedIn {
    id: Uuid,
    centre_id: Uuid,
    email: String,
    display_name: String,
    password_hash: Option<String>,
    kind: String,
    active: bool,
    created_at: OffsetDateTime,
    session_generation: i32,
    roles: Vec<String>,
    session_ends: OffsetDateTime,
}

/// The `SignedIn` part of a wider row with the same fields.
macro_rules! signed_in {
    ($row:expr) => {
        SignedIn {
            id: $row.id,
            centre_id: $row.centre_id,
            email: $row.email,
            display_name: $row.display_name,
            password_hash: $row.password_hash,
            kind: $row.kind,
            active: $row.active,
            created_at: $row.created_at,
            session_generation: $row.session_generation,
            roles: $row.roles,
            session_ends: $row.session_ends,
        }
    };
}

impl SignedIn {
    fn user(self) -> DbResult<(User, OffsetDateTime)> {
        let user = UserRow {
            id: self.id,
            centre_id: self.centre_id,
            email: self.email,
            display_name: self.display_name,
            password_hash: self.password_hash,
            kind: self.kind,
            active: self.active,
            created_at: self.created_at,
            session_generation: self.session_generation,
            roles: self.roles,
        };
        Ok((user.try_into()?, self.session_ends))
    }
}

/// The account `user_id` and when its session `session_id` (the store's id text) ends,
/// if that session is still live: not signed out, not expired, on any server. None
/// otherwise.
pub async fn signed_in(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: &str,
) -> DbResult<Option<(User, OffsetDateTime)>> {
    sqlx::query_as!(
        SignedIn,
        r#"SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, u.active,
                  u.created_at, u.session_generation, ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS "roles!",
                  s.expiry_date AS session_ends
             FROM users u
             JOIN tower_sessions.session s ON s.id = $2 AND s.expiry_date > now()
            WHERE u.id = $1"#,
        user_id,
        session_id,
    )
    .fetch_optional(db)
    .await?
    .map(SignedIn::user)
    .transpose()
}

/// An account, its live session's end, and an enrolment if there is one.
struct SignedInWithEnrolment {
    id: Uuid,
    centre_id: Uuid,
    email: String,
    display_name: String,
    password_hash: Option<String>,
    kind: String,
    active: bool,
    created_at: OffsetDateTime,
    session_generation: i32,
    roles: Vec<String>,
    session_ends: OffsetDateTime,
    e_id: Option<Uuid>,
    e_centre_id: Option<Uuid>,
    e_learner_id: Option<Uuid>,
    e_version_id: Option<Uuid>,
    e_major_id: Option<Uuid>,
    e_assessor_id: Option<Uuid>,
    e_trainee_assessor_id: Option<Uuid>,
    e_iqa_id: Option<Uuid>,
    e_status: Option<String>,
    e_created_at: Option<OffsetDateTime>,
    e_updated_at: Option<OffsetDateTime>,
    e_last_activity_at: Option<OffsetDateTime>,
    e_revision: Option<i64>,
    c_page_revision: Option<i64>,
}

/// An enrolment and its centre's page revision (what a kept page of it was drawn at).
pub(crate) type EnrolmentAt = (Enrolment, i64);

impl SignedInWithEnrolment {
    fn enrolment(&mut self) -> DbResult<Option<EnrolmentAt>> {
        let Some(id) = self.e_id else {
            return Ok(None);
        };
        // The outer join found the enrolment, so every NOT NULL column of it is there.
        let missing = || DbError::Corrupt(format!("enrolment {id} read without its columns"));
        let enrolment: Enrolment = enrolments::Row {
            id,
            centre_id: self.e_centre_id.ok_or_else(missing)?,
            learner_id: self.e_learner_id.ok_or_else(missing)?,
            version_id: self.e_version_id.ok_or_else(missing)?,
            major_id: self.e_major_id.ok_or_else(missing)?,
            assessor_id: self.e_assessor_id.ok_or_else(missing)?,
            trainee_assessor_id: self.e_trainee_assessor_id,
            iqa_id: self.e_iqa_id,
            status: self.e_status.take().ok_or_else(missing)?,
            created_at: self.e_created_at.ok_or_else(missing)?,
            updated_at: self.e_updated_at.ok_or_else(missing)?,
            last_activity_at: self.e_last_activity_at.ok_or_else(missing)?,
            revision: self.e_revision.ok_or_else(missing)?,
        }
        .try_into()?;
        Ok(Some((enrolment, self.c_page_revision.ok_or_else(missing)?)))
    }

    fn split(mut self) -> DbResult<(User, OffsetDateTime, Option<EnrolmentAt>)> {
        let enrolment = self.enrolment()?;
        let (user, ends) = signed_in!(self).user()?;
        Ok((user, ends, enrolment))
    }
}

/// `signed_in` and the enrolment `enrolment_id` (None when there is none) with its
/// centre's page revision, in one round trip: what every portfolio page needs before
/// anything else.
pub(crate) async fn signed_in_with_enrolment(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: &str,
    enrolment_id: Uuid,
) -> DbResult<Option<(User, OffsetDateTime, Option<EnrolmentAt>)>> {
    sqlx::query_as!(
        SignedInWithEnrolment,
        r#"SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, u.active,
                  u.created_at, u.session_generation, ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS "roles!",
                  s.expiry_date AS session_ends,
                  e.id AS "e_id?", e.centre_id AS "e_centre_id?", e.learner_id AS "e_learner_id?",
                  e.version_id AS "e_version_id?", e.major_id AS "e_major_id?",
                  e.assessor_id AS "e_assessor_id?",
                  e.trainee_assessor_id AS "e_trainee_assessor_id?", e.iqa_id AS "e_iqa_id?",
                  e.status AS "e_status?", e.created_at AS "e_created_at?",
                  e.updated_at AS "e_updated_at?", e.last_activity_at AS "e_last_activity_at?",
                  e.revision AS "e_revision?", c.page_revision AS "c_page_revision?"
             FROM users u
             JOIN tower_sessions.session s ON s.id = $2 AND s.expiry_date > now()
             LEFT JOIN enrolments e ON e.id = $3
             LEFT JOIN centres c ON c.id = e.centre_id
            WHERE u.id = $1"#,
        user_id,
        session_id,
        enrolment_id,
    )
    .fetch_optional(db)
    .await?
    .map(SignedInWithEnrolment::split)
    .transpose()
}

/// An account, its live session's end, and the fingerprint of its home page.
struct SignedInWithHome {
    id: Uuid,
    centre_id: Uuid,
    email: String,
    display_name: String,
    password_hash: Option<String>,
    kind: String,
    active: bool,
    created_at: OffsetDateTime,
    session_generation: i32,
    roles: Vec<String>,
    session_ends: OffsetDateTime,
    fingerprint: i64,
    centre_revision: i64,
}

/// `signed_in`, and (a fingerprint, the centre's page revision) of everything a home page shows about the person's
/// enrolments (as learner, assessor or trainee; an IQA's home is never kept), in one round trip: it changes
/// whenever one of them changes (their revisions), one is added or goes, or one crosses
/// the line of 30 days without activity (the earliest last activity inside it); and the
/// centre's page revision (someone renamed).
///
/// One lateral read per way a person is on an enrolment (each by its own index, and
/// skipped outright for a role the person does not hold: the plan is generic, and a
/// caseload's column would otherwise be read for every learner); no enrolment is on two
/// of them for one person, so their parts combine.
pub(crate) async fn signed_in_with_home(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: &str,
) -> DbResult<Option<(User, OffsetDateTime, (i64, i64))>> {
    let row = sqlx::query_as!(
        SignedInWithHome,
        r#"SELECT u.id AS "id!", u.centre_id AS "centre_id!", u.email AS "email!",
                  u.display_name AS "display_name!", u.password_hash, u.kind AS "kind!",
                  u.active AS "active!", u.created_at AS "created_at!",
                  u.session_generation AS "session_generation!", u.roles AS "roles!",
                  s.expiry_date AS session_ends,
                  l.x # a.x # t.x # (l.n + a.n + t.n)
                  # COALESCE(hashtextextended(LEAST(l.m, a.m, t.m)::text, 1), 0) AS "fingerprint!",
                  c.page_revision AS centre_revision
             FROM (SELECT u.*, ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS roles
                     FROM users u WHERE u.id = $1) u
             JOIN centres c ON c.id = u.centre_id
             JOIN tower_sessions.session s ON s.id = $2 AND s.expiry_date > now()
             CROSS JOIN LATERAL (
                   SELECT COALESCE(bit_xor(hashtextextended(e.id::text || ':' || e.revision, 0)), 0) AS x,
                          count(*) AS n,
                          min(e.last_activity_at) FILTER (WHERE e.last_activity_at >= now() - interval '30 days') AS m
                     FROM enrolments e WHERE e.learner_id = u.id AND u.kind = 'learner') l
             CROSS JOIN LATERAL (
                   SELECT COALESCE(bit_xor(hashtextextended(e.id::text || ':' || e.revision, 0)), 0) AS x,
                          count(*) AS n,
                          min(e.last_activity_at) FILTER (WHERE e.last_activity_at >= now() - interval '30 days') AS m
                     FROM enrolments e
                    WHERE e.assessor_id = u.id AND u.roles && ARRAY['assessor', 'trainee_assessor']) a
             CROSS JOIN LATERAL (
                   SELECT COALESCE(bit_xor(hashtextextended(e.id::text || ':' || e.revision, 0)), 0) AS x,
                          count(*) AS n,
                          min(e.last_activity_at) FILTER (WHERE e.last_activity_at >= now() - interval '30 days') AS m
                     FROM enrolments e
                    WHERE e.trainee_assessor_id = u.id AND u.roles && ARRAY['assessor', 'trainee_assessor']) t"#,
        user_id,
        session_id,
    )
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        let seen = (r.fingerprint, r.centre_revision);
        let (user, ends) = signed_in!(r).user()?;
        Ok((user, ends, seen))
    })
    .transpose()
}
