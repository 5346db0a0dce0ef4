//! An admin changes who works on one enrolment, and its learner's employer (its
//! assignments page). One transaction:
//! the enrolment locked, each person named checked to be active in the role at the
//! admin's centre (and held so while the change commits), an IQA never given an
//! enrolment they assessed (SPEC §7), the change and its activity entry.
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::users::{Role, User};
use super::{activity, enrolments, DbError, DbResult};
use crate::domain::form::FieldError;

/// What came of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Changed {
    /// Stored and logged (nothing written when the form changed nothing).
    Saved,
    /// Refused, each problem against its field; nothing changed.
    Refused(Vec<FieldError>),
}

const PLACES: [(&str, Role, &str); 3] = [
    (
        "assessor",
        Role::Assessor,
        "Select an active assessor of your centre",
    ),
    (
        "trainee",
        Role::TraineeAssessor,
        "Select an active trainee assessor of your centre",
    ),
    ("iqa", Role::Iqa, "Select an active IQA of your centre"),
];

const OWN_DECISIONS: &str = "This person made assessment decisions on this enrolment, and an IQA never samples their own decisions: choose another IQA";

/// Whether `person` is an active holder of `role` at `centre`; the row is held (FOR
/// SHARE) so that a deactivation waits for this change to commit.
async fn holds(conn: &mut PgConnection, person: Uuid, centre: Uuid, role: Role) -> DbResult<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT u.id FROM users u WHERE u.id = $1 AND u.centre_id = $2 AND u.active \
            AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $3) \
         FOR SHARE",
        person,
        centre,
        role.key()
    )
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

/// Who works on an enrolment, and where its learner works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Assigned {
    pub assessor: Uuid,
    pub trainee: Option<Uuid>,
    pub iqa: Option<Uuid>,
    pub employer: Option<Uuid>,
}

/// The employer's people who follow the enrolment: of `Assigned::employer` only.
/// People of another employer are dropped when the employer changes (the form listed
/// the old employer's people); anyone who is not an active employer's person of the
/// centre is refused.
const NOT_EMPLOYER_PEOPLE: &str = "Select people of this learner's employer";

pub(crate) async fn change(
    pool: &PgPool,
    admin: &User,
    enrolment_id: Uuid,
    to: Assigned,
    employer_people: &[Uuid],
) -> DbResult<Changed> {
    let Assigned {
        assessor,
        trainee,
        iqa,
        employer,
    } = to;
    let mut tx = pool.begin().await?;
    let e = enrolments::lock(&mut tx, enrolment_id).await?;
    if e.centre_id != admin.centre_id {
        return Err(DbError::NotFound);
    }
    let mut errors = Vec::new();
    for ((field, role, message), who) in PLACES.into_iter().zip([Some(assessor), trainee, iqa]) {
        if let Some(person) = who {
            if !holds(&mut tx, person, admin.centre_id, role).await? {
                errors.push(FieldError::new(field, message));
            }
        }
    }
    if let Some(iqa) = iqa.filter(|i| Some(*i) != e.iqa_id) {
        let assessed = sqlx::query_scalar!(
            "SELECT EXISTS (SELECT 1 FROM ticks WHERE enrolment_id = $1 AND ticked_by = $2 \
                              AND layer IN ('assessor', 'trainee_assessor')) AS \"assessed!\"",
            e.id,
            iqa
        )
        .fetch_one(&mut *tx)
        .await?;
        if assessed {
            errors.push(FieldError::new("iqa", OWN_DECISIONS));
        }
    }
    if let Some(employer) = employer {
        let ours = sqlx::query_scalar!(
            "SELECT EXISTS (SELECT 1 FROM employers WHERE id = $1 AND centre_id = $2) AS \"ours!\"",
            employer,
            admin.centre_id
        )
        .fetch_one(&mut *tx)
        .await?;
        if !ours {
            errors.push(FieldError::new(
                "employer",
                "Select an employer of your centre",
            ));
        }
    }
    // Each person named, with the employer they work for, held while this commits.
    let named = sqlx::query!(
        "SELECT u.id, u.employer_id AS \"employer_id!\" FROM users u \
          WHERE u.id = ANY($1) AND u.centre_id = $2 AND u.kind = 'employer' AND u.active \
          ORDER BY u.id FOR SHARE",
        employer_people,
        admin.centre_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut people: Vec<Uuid> = named
        .iter()
        .filter(|p| Some(p.employer_id) == employer)
        .map(|p| p.id)
        .collect();
    people.sort();
    people.dedup();
    let mut wanted = employer_people.to_vec();
    wanted.sort();
    wanted.dedup();
    if named.len() != wanted.len() {
        errors.push(FieldError::new("employer_people", NOT_EMPLOYER_PEOPLE));
    }
    if !errors.is_empty() {
        return Ok(Changed::Refused(errors));
    }
    let was_employer = super::employers::of_enrolment(&mut *tx, e.id).await?;
    let was_people = super::employer_people::of_enrolment(&mut *tx, e.id).await?;
    if (assessor, trainee, iqa, employer, &people)
        == (
            e.assessor_id,
            e.trainee_assessor_id,
            e.iqa_id,
            was_employer,
            &was_people,
        )
    {
        return Ok(Changed::Saved);
    }
    match enrolments::set_assignments(&mut *tx, e.id, assessor, trainee, iqa).await {
        Ok(()) => {}
        Err(DbError::WrongPerson { .. } | DbError::SameAssessorAndIqa) => {
            let refused =
                FieldError::new("assessor", "Select people of your centre in their roles");
            return Ok(Changed::Refused(vec![refused]));
        }
        Err(other) => return Err(other),
    }
    // The links go first: they name the old employer, which the enrolment then leaves.
    super::employer_people::unlink_all(&mut *tx, e.id).await?;
    sqlx::query!(
        "UPDATE enrolments SET employer_id = $2 WHERE id = $1 AND employer_id IS DISTINCT FROM $2",
        e.id,
        employer
    )
    .execute(&mut *tx)
    .await?;
    if let Some(employer) = employer {
        super::employer_people::link(&mut *tx, e.id, employer, &people).await?;
    }
    activity::record(
        &mut *tx,
        admin.centre_id,
        Some(e.id),
        Some(admin.id),
        "assignments changed",
        serde_json::json!({ "assessor": assessor, "trainee": trainee, "iqa": iqa, "employer": employer, "employer_people": people }),
    )
    .await?;
    tx.commit().await?;
    Ok(Changed::Saved)
}
