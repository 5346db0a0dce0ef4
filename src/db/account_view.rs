//! One person's account as their centre's admin sees it on the person's page: the
//! account, its deactivation and last sign-in, its latest set-password email, how its
//! sign-in stands, and the roles enrolments name it in. A fixed handful of statements,
//! each reading this one person's rows by index, whatever the size of the centre.
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::users::{Role, User, UserRow};
use super::{DbError, DbResult};
use crate::domain::accounts::{sign_in_lock, SignInLock};
use crate::domain::mail::{Delivery, DeliveryFacts};
use crate::domain::signin::Tally;

/// Everything the person's page shows.
#[derive(Debug, Clone)]
pub(crate) struct PersonView {
    pub person: User,
    /// When the account was deactivated and by whom, when known (None while active,
    /// and for accounts deactivated before this was recorded).
    pub deactivated_at: Option<OffsetDateTime>,
    pub deactivated_by: Option<String>,
    /// None: never signed in since sign-ins were recorded.
    pub last_signed_in_at: Option<OffsetDateTime>,
    /// When the learner's personal data was erased on request (SPEC §12).
    pub erased_at: Option<OffsetDateTime>,
    /// The latest set-password email: to whom, when queued, where it has got to.
    pub link_email: Option<LinkEmail>,
    pub sign_in: SignInLock,
    /// The staff roles in which enrolments name the person.
    pub assigned_as: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkEmail {
    pub to_address: String,
    pub queued_at: OffsetDateTime,
    pub delivery: Delivery,
}

struct PersonRow {
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
    deactivated_at: Option<OffsetDateTime>,
    deactivated_by: Option<String>,
    last_signed_in_at: Option<OffsetDateTime>,
    erased_at: Option<OffsetDateTime>,
    assessor: bool,
    trainee: bool,
    iqa: bool,
}

struct LinkRow {
    to_address: String,
    created_at: OffsetDateTime,
    job_state: String,
    job_run_at: OffsetDateTime,
    job_error: Option<String>,
    attempts: i64,
    last_at: Option<OffsetDateTime>,
    last_error: Option<String>,
}

struct TallyRow {
    scope: String,
    failures: i32,
    window_start: Option<OffsetDateTime>,
    last_failure_at: Option<OffsetDateTime>,
    succeeded_at: Option<OffsetDateTime>,
}

impl From<&TallyRow> for Tally {
    fn from(r: &TallyRow) -> Tally {
        Tally {
            failures: u32::try_from(r.failures).unwrap_or(0),
            window_start: r.window_start,
            last_failure_at: r.last_failure_at,
            succeeded_at: r.succeeded_at,
        }
    }
}

/// The person `person_id` of `centre_id`, as their page shows them; `NotFound` for
/// anyone of another centre.
pub(crate) async fn person(
    conn: &mut PgConnection,
    centre_id: Uuid,
    person_id: Uuid,
) -> DbResult<PersonView> {
    let row = sqlx::query_as!(
        PersonRow,
        "SELECT u.id, u.centre_id, u.email, u.display_name, u.password_hash, u.kind, \
                u.active, u.created_at, u.session_generation, \
                ARRAY(SELECT role FROM user_roles WHERE user_id = u.id) AS \"roles!\", \
                u.deactivated_at, d.display_name AS \"deactivated_by?\", u.last_signed_in_at, u.erased_at, \
                EXISTS (SELECT 1 FROM enrolments WHERE assessor_id = u.id) AS \"assessor!\", \
                EXISTS (SELECT 1 FROM enrolments WHERE trainee_assessor_id = u.id) AS \"trainee!\", \
                EXISTS (SELECT 1 FROM enrolments WHERE iqa_id = u.id) AS \"iqa!\" \
           FROM users u LEFT JOIN users d ON d.id = u.deactivated_by \
          WHERE u.id = $1 AND u.centre_id = $2",
        person_id,
        centre_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DbError::NotFound)?;
    let assigned_as = [
        (row.assessor, Role::Assessor),
        (row.trainee, Role::TraineeAssessor),
        (row.iqa, Role::Iqa),
    ]
    .into_iter()
    .filter_map(|(yes, role)| yes.then_some(role))
    .collect();
    let (deactivated_at, deactivated_by, last_signed_in_at) = (
        row.deactivated_at,
        row.deactivated_by,
        row.last_signed_in_at,
    );
    let person: User = UserRow {
        id: row.id,
        centre_id: row.centre_id,
        email: row.email,
        display_name: row.display_name,
        password_hash: row.password_hash,
        kind: row.kind,
        active: row.active,
        created_at: row.created_at,
        session_generation: row.session_generation,
        roles: row.roles,
    }
    .try_into()?;
    let link_email = latest_link_email(&mut *conn, person.id).await?;
    let sign_in = sign_in(&mut *conn, &person.email).await?;
    let erased_at = row.erased_at;
    Ok(PersonView {
        person,
        deactivated_at,
        deactivated_by,
        last_signed_in_at,
        erased_at,
        link_email,
        sign_in,
        assigned_as,
    })
}

/// The person's latest set-password email, if they were ever sent one.
async fn latest_link_email(conn: &mut PgConnection, person: Uuid) -> DbResult<Option<LinkEmail>> {
    let row = sqlx::query_as!(
        LinkRow,
        "SELECT m.to_address, m.created_at, \
                j.state AS job_state, j.run_at AS job_run_at, j.last_error AS job_error, \
                (SELECT count(*) FROM mail_attempts a WHERE a.message_id = m.id) AS \"attempts!\", \
                l.at AS \"last_at?\", l.error AS \"last_error?\" \
           FROM mail_outbox m JOIN jobs j ON j.id = m.job_id \
           LEFT JOIN LATERAL (SELECT at, error FROM mail_attempts a WHERE a.message_id = m.id \
                              ORDER BY attempt DESC LIMIT 1) l ON true \
          WHERE m.user_id = $1 AND m.kind = 'password_link' \
          ORDER BY m.created_at DESC, m.id LIMIT 1",
        person
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| LinkEmail {
        delivery: Delivery::from_facts(&DeliveryFacts {
            job_state: &r.job_state,
            job_run_at: r.job_run_at,
            job_error: r.job_error.as_deref(),
            attempts: r.attempts,
            last_at: r.last_at,
            last_error: r.last_error.as_deref(),
        }),
        to_address: r.to_address,
        queued_at: r.created_at,
    }))
}

/// How sign-in stands for the email, from the throttle's counters kept under it (as
/// sign-in keys them: trimmed and lower-cased), judged at the database's time.
async fn sign_in(conn: &mut PgConnection, email: &str) -> DbResult<SignInLock> {
    let key = email.trim().to_lowercase();
    let rows = sqlx::query_as!(
        TallyRow,
        "SELECT scope, failures, window_start, last_failure_at, succeeded_at \
           FROM login_throttles WHERE scope IN ('pair', 'account') AND email = $1",
        &key
    )
    .fetch_all(&mut *conn)
    .await?;
    let now = sqlx::query_scalar!("SELECT now() AS \"now!\"")
        .fetch_one(&mut *conn)
        .await?;
    let account = rows
        .iter()
        .find(|r| r.scope == "account")
        .map(Tally::from)
        .unwrap_or_default();
    let pairs: Vec<Tally> = rows
        .iter()
        .filter(|r| r.scope == "pair")
        .map(Tally::from)
        .collect();
    Ok(sign_in_lock(now, account, &pairs))
}
