//! A centre's employers (issue 13, point 1): each change and its centre log entry in one
//! transaction.
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::users::User;
use super::{activity, DbError, DbResult};
use crate::domain::employers::ValidEmployer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Employer {
    pub id: Uuid,
    pub name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub created_at: OffsetDateTime,
}

/// A page of the centre's employers by name: `per_page + 1` read, so the caller knows
/// whether there is a next page (the name index reads them in order).
pub(crate) async fn page(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    page: i64,
    per_page: i64,
) -> DbResult<Vec<Employer>> {
    Ok(sqlx::query_as!(
        Employer,
        "SELECT id, name, contact_name, contact_email, contact_phone, created_at FROM employers \
          WHERE centre_id = $1 ORDER BY lower(name) LIMIT $2 OFFSET $3",
        centre_id,
        per_page + 1,
        page.saturating_mul(per_page)
    )
    .fetch_all(db)
    .await?)
}

/// An employer of the admin's centre; `DbError::NotFound` for any other.
pub(crate) async fn get(db: impl PgExecutor<'_>, centre_id: Uuid, id: Uuid) -> DbResult<Employer> {
    sqlx::query_as!(
        Employer,
        "SELECT id, name, contact_name, contact_email, contact_phone, created_at FROM employers \
          WHERE id = $1 AND centre_id = $2",
        id,
        centre_id
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)
}

/// Adds an employer to the admin's centre. `DbError::DuplicateEmployer` when the centre
/// has one of that name (whatever its case).
pub(crate) async fn add(pool: &PgPool, admin: &User, e: &ValidEmployer) -> DbResult<Uuid> {
    let mut tx = pool.begin().await?;
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO employers (id, centre_id, name, contact_name, contact_email, contact_phone) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        admin.centre_id,
        e.name,
        e.contact_name,
        e.contact_email,
        e.contact_phone
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        admin.centre_id,
        None,
        Some(admin.id),
        "employer added",
        serde_json::json!({ "employer": id, "name": e.name }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes an employer's details; false when nothing changed (nothing logged).
pub(crate) async fn change(
    pool: &PgPool,
    admin: &User,
    id: Uuid,
    e: &ValidEmployer,
) -> DbResult<bool> {
    let mut tx = pool.begin().await?;
    let was = sqlx::query_as!(
        Employer,
        "SELECT id, name, contact_name, contact_email, contact_phone, created_at FROM employers \
          WHERE id = $1 AND centre_id = $2 FOR UPDATE",
        id,
        admin.centre_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DbError::NotFound)?;
    let now = (&e.name, &e.contact_name, &e.contact_email, &e.contact_phone);
    if now
        == (
            &was.name,
            &was.contact_name,
            &was.contact_email,
            &was.contact_phone,
        )
    {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE employers SET name = $2, contact_name = $3, contact_email = $4, contact_phone = $5, \
                updated_at = now() WHERE id = $1",
        id,
        e.name,
        e.contact_name,
        e.contact_email,
        e.contact_phone
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        admin.centre_id,
        None,
        Some(admin.id),
        "employer changed",
        serde_json::json!({ "employer": id, "name": e.name, "was": was.name }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The centre's employers by name, as (id, name) for a form's choices.
pub(crate) async fn choices(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
) -> DbResult<Vec<(Uuid, String)>> {
    Ok(sqlx::query!(
        "SELECT id, name FROM employers WHERE centre_id = $1 ORDER BY lower(name)",
        centre_id
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name))
    .collect())
}

/// The employer an enrolment names, if any.
pub(crate) async fn of_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Option<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT employer_id FROM enrolments WHERE id = $1",
        enrolment_id
    )
    .fetch_optional(db)
    .await?
    .flatten())
}
