//! Database access, one module per aggregate. Queries are sqlx's checked macros
//! (`query!`, `query_as!`, `query_scalar!`): the compiler checks their SQL, parameters and
//! columns against the migrated schema (a database at `DATABASE_URL`, or `.sqlx/` offline);
//! the few whose text is built at run time say why. The schema in `migrations/` refuses
//! impossible states, and its constraint names map to `DbError`.
use crate::domain::audit::AuditError;
use crate::domain::status::{Refusal, Status};

pub(crate) mod account_view;
pub(crate) mod accounts;
pub mod activity;
pub(crate) mod apprenticeships;
pub(crate) mod assignments;
pub mod audits;
pub mod auto_audit;
pub mod batch_writer;
pub mod bulk_audit;
pub mod bulk_audit_runs;
pub mod caseload;
pub mod centre_keys;
pub mod centres;
pub mod credential_emails;
pub mod credentials;
pub(crate) mod employer_people;
pub(crate) mod employers;
pub mod enrolments;
pub mod evidence;
pub mod evidence_texts;
pub mod figures;
pub(crate) mod funding_risk;
pub mod housekeeping;
pub mod invitations;
pub mod iqa;
pub mod jobs;
pub mod leased;
pub mod liveness;
pub mod logins;
pub mod onboarding;
pub(crate) mod otj;
pub mod otj_writer;
pub mod outbox;
pub mod password_reset;
pub mod password_tokens;
pub(crate) mod passwords;
pub(crate) mod people_list;
mod qualification_items;
pub mod qualifications;
pub mod quiet;
pub mod reassign;
pub mod report;
mod report_queue;
pub mod report_tallies;
pub mod retention;
pub(crate) mod review_links;
pub(crate) mod reviews;
pub mod sessions;
pub(crate) mod signatures;
pub mod suggestions;
pub mod tick_writer;
pub mod ticks;
pub mod uploads;
pub mod users;
pub mod version_cache;
pub(crate) mod witness;

pub use sqlx::PgPool;

/// How every connection of the app's pools is set up. Generic plans: the statements
/// are the same few hundred, each run thousands of times with different ids, and left
/// to choose, PostgreSQL planned some of them (the session check on every page among
/// them) afresh at each run, which cost as much as running them.
pub(crate) fn tuned(options: sqlx::postgres::PgConnectOptions) -> sqlx::postgres::PgConnectOptions {
    options.options([("plan_cache_mode", "force_generic_plan")])
}

/// Rows read one past a page's `size` (keyset paging): the page, and whether more lie
/// beyond it.
pub(crate) fn page_and_more<T>(mut rows: Vec<T>, size: usize) -> (Vec<T>, bool) {
    let more = rows.len() > size;
    rows.truncate(size);
    (rows, more)
}

/// Every migration, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Migrations edited after release, each with the SHA-384 of the text first released.
/// A database that applied that text has the same schema (see each migration's note),
/// so its recorded checksum is moved to the current text's rather than refused.
const EDITED_AFTER_RELEASE: &[(i64, &str)] = &[(
    11,
    "e6b19a77f22b9122d45e3dc264e1e727468614a99db25dbd53c6354697c2b40dc18836874317c90cb248ba226e180f26",
)];

/// The advisory lock every migrating process holds: servers started together (or
/// `attest migrate` beside a server) take turns, and the second finds nothing to do.
const MIGRATION_LOCK: i64 = 0x6174_7465_7374_0001;

/// Runs every migration not yet applied, first accepting the released texts of
/// `EDITED_AFTER_RELEASE`, under `MIGRATION_LOCK` (held by this connection's session,
/// and let go however the run ends). Answers the versions it applied.
pub async fn migrate(
    conn: &mut sqlx::PgConnection,
) -> Result<Vec<i64>, sqlx::migrate::MigrateError> {
    sqlx::query!("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    let run = migrate_locked(conn).await;
    let unlocked = sqlx::query_scalar!(
        "SELECT pg_advisory_unlock($1) AS \"unlocked!\"",
        MIGRATION_LOCK
    )
    .fetch_one(&mut *conn)
    .await;
    let applied = run?;
    unlocked?;
    Ok(applied)
}

async fn migrate_locked(
    conn: &mut sqlx::PgConnection,
) -> Result<Vec<i64>, sqlx::migrate::MigrateError> {
    let before: Vec<i64> = applied_versions(conn).await?;
    let applied =
        sqlx::query_scalar!("SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS \"applied!\"")
            .fetch_one(&mut *conn)
            .await?;
    if applied {
        for (version, released) in EDITED_AFTER_RELEASE {
            let Some(now) = MIGRATOR.iter().find(|m| m.version == *version) else {
                continue;
            };
            sqlx::query!(
                "UPDATE _sqlx_migrations SET checksum = $1 \
                 WHERE version = $2 AND checksum = decode($3, 'hex')",
                now.checksum.as_ref(),
                version,
                released,
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    MIGRATOR.run(&mut *conn).await?;
    let after = applied_versions(conn).await?;
    Ok(after.into_iter().filter(|v| !before.contains(v)).collect())
}

/// The versions recorded as applied (none before the first migration).
async fn applied_versions(
    conn: &mut sqlx::PgConnection,
) -> Result<Vec<i64>, sqlx::migrate::MigrateError> {
    let exists =
        sqlx::query_scalar!("SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS \"exists!\"")
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        return Ok(Vec::new());
    }
    Ok(
        sqlx::query_scalar!("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *conn)
            .await?,
    )
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    #[error("the enrolment is now {current}, so nothing was changed")]
    StatusChanged { current: Status },
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    TickRefused(#[from] crate::domain::ticks::TickRefusal),
    #[error(transparent)]
    LinkRefused(#[from] crate::domain::mail::LinkRefusal),
    #[error(transparent)]
    ReassignRefused(#[from] crate::domain::reassign::ReassignRefusal),
    #[error(transparent)]
    AccountRefused(#[from] crate::domain::accounts::AccountRefusal),
    #[error(transparent)]
    RetentionRefused(#[from] crate::domain::retention::RetentionRefusal),
    #[error("a centre with this name or short name already exists")]
    DuplicateCentre,
    #[error("an account with this email address already exists in this centre")]
    DuplicateEmail,
    #[error("an employer of this name already exists in this centre")]
    DuplicateEmployer,
    #[error("a learner account holds only the learner role, and a staff account never holds it")]
    LearnerRoleMix,
    #[error("this person is not a {expected} of this centre")]
    WrongPerson { expected: &'static str },
    #[error("the assigned major is not a major of this qualification version")]
    MajorNotInVersion,
    #[error("an IQA cannot sample their own assessment, nor a trainee be their own assessor")]
    SameAssessorAndIqa,
    #[error("a unit can be in only one group of a rule set")]
    UnitInTwoGroups,
    #[error("this criterion is not part of the qualification version of this evidence")]
    CriterionNotInVersion,
    #[error("this evidence has ticks, so it cannot be deleted")]
    EvidenceHasTicks,
    #[error("this enrolment already has a credential that is not cancelled")]
    LiveCredentialExists,
    #[error("assessor ticks cannot be removed once a credential has been requested; cancel the credential first")]
    AssessorTicksLocked,
    #[error("this record cannot be changed or deleted")]
    AppendOnly,
    #[error("the data breaks the rule {constraint}: {message}")]
    Constraint { constraint: String, message: String },
    #[error("the audit could not run: {0}")]
    Audit(#[from] AuditError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("the operating system gave no randomness: {0}")]
    NoRandomness(String),
    /// A sealed signing key does not open with the server's key-encryption key.
    #[error("the signing key file does not open this database's keys")]
    KeyWontOpen,
    #[error(transparent)]
    Sqlx(sqlx::Error),
}

pub type DbResult<T> = Result<T, DbError>;

impl DbError {
    /// The database could not be reached or the connection broke: not the request's
    /// fault, and worth trying again shortly.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DbError::Sqlx(e) if unavailable(e))
    }
}

/// No connection could be had in time, the connection broke, or the server is
/// shutting down or starting up (SQLSTATE classes 08 and 57P).
pub fn unavailable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) || connection_broke(e)
}

/// The connection itself failed (closed, reset, out of step, ended by the server),
/// not the statement.
pub(crate) fn connection_broke(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        if unavailable(&e) {
            liveness::failed();
        }
        match e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(ref db) => match db.constraint() {
                Some(name) => from_constraint(name, db.message()),
                None => DbError::Sqlx(e),
            },
            e => DbError::Sqlx(e),
        }
    }
}

fn from_constraint(name: &str, message: &str) -> DbError {
    match name {
        "centres_slug_key" | "centres_name_key" => DbError::DuplicateCentre,
        "users_centre_email_key" => DbError::DuplicateEmail,
        "employers_centre_name_key" => DbError::DuplicateEmployer,
        "user_roles_learner_only_for_learners" => DbError::LearnerRoleMix,
        "enrolments_learner_fkey" => DbError::WrongPerson {
            expected: "learner",
        },
        "enrolments_assessor_fkey" | "enrolments_trainee_assessor_fkey" | "enrolments_iqa_fkey" => {
            DbError::WrongPerson {
                expected: "member of staff",
            }
        }
        "enrolments_major_fkey" => DbError::MajorNotInVersion,
        "enrolments_iqa_not_assessor" | "enrolments_trainee_not_assessor" => {
            DbError::SameAssessorAndIqa
        }
        "rule_group_units_one_group_per_rule_set" => DbError::UnitInTwoGroups,
        "ticks_criterion_fkey" => DbError::CriterionNotInVersion,
        "ticks_evidence_fkey" => DbError::EvidenceHasTicks,
        "credentials_one_live_per_enrolment" => DbError::LiveCredentialExists,
        "ticks_assessor_locked" => DbError::AssessorTicksLocked,
        "activity_log_append_only"
        | "credentials_never_deleted"
        | "centre_keys_append_only"
        | "credentials_documents_kept" => DbError::AppendOnly,
        _ => DbError::Constraint {
            constraint: name.to_string(),
            message: message.to_string(),
        },
    }
}

/// Decode a status key read from the database (the schema's CHECK makes failure a bug).
pub(crate) fn status_from_key(key: &str) -> DbResult<Status> {
    Status::from_key(key).ok_or_else(|| DbError::Corrupt(format!("unknown status {key:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_constraints_map_to_meaningful_errors() {
        assert!(matches!(
            from_constraint("rule_group_units_one_group_per_rule_set", ""),
            DbError::UnitInTwoGroups
        ));
        assert!(matches!(
            from_constraint("ticks_evidence_fkey", ""),
            DbError::EvidenceHasTicks
        ));
        assert!(matches!(
            from_constraint("something_else", "boom"),
            DbError::Constraint { ref constraint, .. } if constraint == "something_else"
        ));
    }
}
