//! People and their roles (SPEC §8).
use sqlx::{Acquire, PgExecutor, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DbError, DbResult};

pub use crate::domain::people::{Role, UserKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub kind: UserKind,
    pub active: bool,
    pub created_at: OffsetDateTime,
    /// Sessions signed in at an earlier generation no longer stand.
    pub session_generation: i32,
    /// Sorted.
    pub roles: Vec<Role>,
}

impl User {
    pub(crate) fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub centre_id: Uuid,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub kind: UserKind,
    pub roles: &'a [Role],
    /// The employer an employer's person belongs to (only theirs; the database refuses
    /// it on anyone else's account, and refuses an employer's person without one).
    pub employer_id: Option<Uuid>,
}

/// An account as its queries read it (`sessions` reads it beside the session too).
pub(crate) struct UserRow {
    pub(crate) id: Uuid,
    pub(crate) centre_id: Uuid,
    pub(crate) email: String,
    pub(crate) display_name: String,
    pub(crate) password_hash: Option<String>,
    pub(crate) kind: String,
    pub(crate) active: bool,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) session_generation: i32,
    pub(crate) roles: Vec<String>,
}

impl TryFrom<UserRow> for User {
    type Error = DbError;
    fn try_from(r: UserRow) -> DbResult<User> {
        let kind = UserKind::from_key(&r.kind)
            .ok_or_else(|| DbError::Corrupt(format!("user kind {:?}", r.kind)))?;
        let mut roles = r
            .roles
            .iter()
            .map(|k| Role::from_key(k).ok_or_else(|| DbError::Corrupt(format!("role {k:?}"))))
            .collect::<DbResult<Vec<Role>>>()?;
        roles.sort();
        Ok(User {
            id: r.id,
            centre_id: r.centre_id,
            email: r.email,
            display_name: r.display_name,
            password_hash: r.password_hash,
            kind,
            active: r.active,
            created_at: r.created_at,
            session_generation: r.session_generation,
            roles,
        })
    }
}

/// Create an account with its roles, in one transaction.
pub async fn create<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    new: &NewUser<'_>,
) -> DbResult<User> {
    let mut tx = db.begin().await?;
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO users (id, centre_id, email, display_name, password_hash, kind, employer_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        id,
        new.centre_id,
        new.email.trim(),
        new.display_name.trim(),
        new.password_hash,
        new.kind.key(),
        new.employer_id,
    )
    .execute(&mut *tx)
    .await?;
    insert_roles(&mut *tx, id, new.kind, new.roles).await?;
    let user = get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(user)
}

async fn insert_roles(
    db: impl PgExecutor<'_>,
    user: Uuid,
    kind: UserKind,
    roles: &[Role],
) -> DbResult<()> {
    let keys: Vec<&str> = roles.iter().map(|r| r.key()).collect();
    sqlx::query!(
        "INSERT INTO user_roles (user_id, kind, role) SELECT $1, $2, r FROM UNNEST($3::text[]) AS r \
         ON CONFLICT (user_id, role) DO NOTHING",
        user,
        kind.key(),
        &keys as &[&str],
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<User> {
    let row = sqlx::query_as!(
        UserRow,
        "SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, \
         u.active, u.created_at, u.session_generation, \
         ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS \"roles!\" \
         FROM users u WHERE u.id = $1",
        id,
    )
    .fetch_one(db)
    .await?;
    row.try_into()
}

/// Email addresses match regardless of case, within one centre.
pub async fn find_by_email(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    email: &str,
) -> DbResult<Option<User>> {
    let row = sqlx::query_as!(
        UserRow,
        "SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, \
         u.active, u.created_at, u.session_generation, \
         ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS \"roles!\" \
         FROM users u WHERE u.centre_id = $1 AND lower(u.email) = lower($2)",
        centre_id,
        email.trim(),
    )
    .fetch_optional(db)
    .await?;
    row.map(User::try_from).transpose()
}

pub async fn set_password_hash(db: impl PgExecutor<'_>, id: Uuid, hash: &str) -> DbResult<()> {
    let r = sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        id,
        hash,
    )
    .execute(db)
    .await?;
    if r.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Ends every session of the account at once, on every server: each carries the
/// generation it signed in at, and from now on that is an older one. Returns the new
/// generation.
pub async fn end_sessions(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<i32> {
    sqlx::query_scalar!(
        "UPDATE users SET session_generation = session_generation + 1, updated_at = now() \
          WHERE id = $1 RETURNING session_generation",
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)
}

/// Grant a role (idempotent). A learner-only or staff-only mismatch is `LearnerRoleMix`.
pub async fn grant_role(db: impl PgExecutor<'_>, id: Uuid, role: Role) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO user_roles (user_id, kind, role) SELECT id, kind, $2 FROM users WHERE id = $1 \
         ON CONFLICT (user_id, role) DO NOTHING",
        id,
        role.key(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Every account with this email address, in any centre (sign-in comes before a centre
/// is known; each centre keeps its own emails unique).
pub(crate) async fn find_all_by_email(db: impl PgExecutor<'_>, email: &str) -> DbResult<Vec<User>> {
    let rows = sqlx::query_as!(
        UserRow,
        "SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, \
         u.active, u.created_at, u.session_generation, \
         ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS \"roles!\" \
         FROM users u WHERE lower(u.email) = lower($1)",
        email.trim(),
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(User::try_from).collect()
}

/// Everyone in a centre, by name.
pub async fn list_for_centre(db: impl PgExecutor<'_>, centre_id: Uuid) -> DbResult<Vec<User>> {
    let rows = sqlx::query_as!(
        UserRow,
        "SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, \
         u.active, u.created_at, u.session_generation, \
         ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS \"roles!\" \
         FROM users u WHERE u.centre_id = $1 ORDER BY lower(u.display_name), u.id",
        centre_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(User::try_from).collect()
}

/// The centre's active staff, with their roles (the enrol form's pickers): never its
/// learners, who may be a hundred thousand.
pub async fn staff_for_centre(db: impl PgExecutor<'_>, centre_id: Uuid) -> DbResult<Vec<User>> {
    let rows = sqlx::query_as!(
        UserRow,
        "SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, \
         u.active, u.created_at, u.session_generation, \
         ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS \"roles!\" \
         FROM users u WHERE u.centre_id = $1 AND u.kind = 'staff' AND u.active \
         ORDER BY lower(u.display_name), u.id",
        centre_id,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(User::try_from).collect()
}

/// Active learners to enrol: those whose name or email holds `search` (or, without one,
/// the most recently added, read newest first from their index), at most `limit`.
pub async fn learners_to_enrol(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    search: Option<&str>,
    limit: i64,
) -> DbResult<Vec<User>> {
    let pattern = search.map(super::report::like_pattern);
    let rows = sqlx::query_as!(
        UserRow,
        "SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, \
         u.active, u.created_at, u.session_generation, \
         ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS \"roles!\" \
         FROM users u WHERE u.centre_id = $1 AND u.kind = 'learner' AND u.active \
           AND ($2::text IS NULL OR (lower(u.display_name) || ' ' || lower(u.email)) LIKE lower($2)) \
         ORDER BY u.created_at DESC, u.id LIMIT $3",
        centre_id,
        pattern,
        limit,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(User::try_from).collect()
}

/// Display names of the given people, in one statement (for "ticked by" labels).
pub async fn names(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> DbResult<std::collections::HashMap<Uuid, String>> {
    let rows = sqlx::query_as!(
        PersonName,
        "SELECT id, display_name FROM users WHERE id = ANY($1::uuid[])",
        ids,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.display_name)).collect())
}

/// A person's display name, by id.
struct PersonName {
    id: Uuid,
    display_name: String,
}

/// Someone whose changes an enrolment's log can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Actor {
    pub id: Uuid,
    pub display_name: String,
    pub admin: bool,
}

/// A centre's staff and one of its learners, by name: everyone who can have changed
/// that learner's portfolio (staff who left stay, since people are never deleted).
pub(crate) async fn staff_and_learner(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    learner_id: Uuid,
) -> DbResult<Vec<Actor>> {
    Ok(sqlx::query_as!(
        Actor,
        "SELECT u.id, u.display_name, \
                EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'admin') AS \"admin!\" \
         FROM users u WHERE u.centre_id = $1 AND (u.kind = 'staff' OR u.id = $2) \
         ORDER BY lower(u.display_name), u.id",
        centre_id,
        learner_id,
    )
    .fetch_all(db)
    .await?)
}
