//! An employer's people (issue 13, point 1) and the enrolments they follow: what an
//! employer's person may see is exactly what these links say.
use sqlx::PgExecutor;
use uuid::Uuid;

use super::DbResult;

/// The people an enrolment's employer has following it, sorted.
pub(crate) async fn of_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT user_id FROM enrolment_employer_people WHERE enrolment_id = $1 ORDER BY user_id",
        enrolment_id
    )
    .fetch_all(db)
    .await?)
}

pub(crate) async fn unlink_all(db: impl PgExecutor<'_>, enrolment_id: Uuid) -> DbResult<()> {
    sqlx::query!(
        "DELETE FROM enrolment_employer_people WHERE enrolment_id = $1",
        enrolment_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Links `people` of `employer` to the enrolment; the foreign keys refuse anyone of
/// another employer, or an enrolment of another employer.
pub(crate) async fn link(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
    employer: Uuid,
    people: &[Uuid],
) -> DbResult<()> {
    sqlx::query!(
        "INSERT INTO enrolment_employer_people (enrolment_id, employer_id, user_id) \
         SELECT $1, $2, p FROM UNNEST($3::uuid[]) AS p ON CONFLICT DO NOTHING",
        enrolment_id,
        employer,
        people
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether `person` follows the enrolment: the only way an employer's person sees it.
pub(crate) async fn follows(
    db: impl PgExecutor<'_>,
    person: Uuid,
    enrolment_id: Uuid,
) -> DbResult<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM enrolment_employer_people \
                         WHERE user_id = $1 AND enrolment_id = $2) AS \"follows!\"",
        person,
        enrolment_id
    )
    .fetch_one(db)
    .await?)
}

/// One of an employer's people, for lists and choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmployerPerson {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub active: bool,
}

/// The people of an employer, by name.
pub(crate) async fn of_employer(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    employer: Uuid,
) -> DbResult<Vec<EmployerPerson>> {
    Ok(sqlx::query_as!(
        EmployerPerson,
        "SELECT id, display_name, email, active FROM users \
          WHERE employer_id = $1 AND centre_id = $2 ORDER BY lower(display_name), id",
        employer,
        centre_id
    )
    .fetch_all(db)
    .await?)
}

/// The employer an employer's person works for: (id, name).
pub(crate) async fn employer_of(
    db: impl PgExecutor<'_>,
    person: Uuid,
) -> DbResult<Option<(Uuid, String)>> {
    Ok(sqlx::query!(
        "SELECT e.id, e.name FROM users u JOIN employers e ON e.id = u.employer_id WHERE u.id = $1",
        person
    )
    .fetch_optional(db)
    .await?
    .map(|r| (r.id, r.name)))
}
