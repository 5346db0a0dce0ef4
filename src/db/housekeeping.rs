//! Pruning the records that only grow (migration 0046): finished jobs and sign-in
//! attempts. What auditors rely on (the activity log, mail messages and attempts,
//! audits, the credential register) is never pruned here, nor the mail jobs that are
//! the messages' delivery records (migration 0046 leaves them out of its index).
use sqlx::PgExecutor;

use super::DbResult;

/// Succeeded jobs are kept this many days (for diagnosis), failed ones a year.
pub const SUCCEEDED_JOBS_DAYS: i32 = 30;
pub const FAILED_JOBS_DAYS: i32 = 365;
/// Sign-in attempts are kept this many days: a year and a month, for investigations.
pub const LOGIN_ATTEMPTS_DAYS: i32 = 400;
/// At most this many rows of a table go in one round, so that no round holds its locks
/// or its WAL for long.
pub const ROUND: i64 = 5_000;

/// What one round removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub jobs: i64,
    pub login_attempts: i64,
}

impl Pruned {
    /// True when a round took all it could: there may be more.
    pub fn full(&self) -> bool {
        self.jobs >= ROUND || self.login_attempts >= ROUND
    }
}

/// One round: up to `ROUND` finished jobs and sign-in attempts past their days.
pub async fn prune_round(db: impl PgExecutor<'_>) -> DbResult<Pruned> {
    // ANY(ARRAY(…)): the rows chosen are deleted by their ids, never by a scan of the
    // table. A mail job is its message's delivery record and stays as the message does.
    let row = sqlx::query!(
        "WITH j AS (DELETE FROM jobs WHERE id = ANY(ARRAY( \
                     SELECT id FROM jobs \
                      WHERE state IN ('succeeded', 'failed') AND kind <> 'send mail' \
                        AND finished_at < now() - make_interval(days => \
                            CASE WHEN state = 'succeeded' THEN $1::int ELSE $2::int END) \
                      ORDER BY finished_at LIMIT $4 FOR UPDATE SKIP LOCKED)) \
                   RETURNING 1), \
              l AS (DELETE FROM login_attempts WHERE id = ANY(ARRAY( \
                     SELECT id FROM login_attempts WHERE at < now() - make_interval(days => $3::int) \
                      ORDER BY at LIMIT $4 FOR UPDATE SKIP LOCKED)) \
                   RETURNING 1) \
         SELECT (SELECT count(*) FROM j) AS \"jobs!\", (SELECT count(*) FROM l) AS \"login_attempts!\"",
        SUCCEEDED_JOBS_DAYS,
        FAILED_JOBS_DAYS,
        LOGIN_ATTEMPTS_DAYS,
        ROUND
    )
    .fetch_one(db)
    .await?;
    Ok(Pruned {
        jobs: row.jobs,
        login_attempts: row.login_attempts,
    })
}

/// How many appended rows a fold took away, of the centres' tallies, their quiet
/// tallies and their samples' learner counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    pub tallies: i64,
    pub quiet: i64,
    pub learners: i64,
}

/// Folds each centre's appended tally changes, its quiet tallies' and its samples'
/// learner counts' into one row a combination (migrations 0053, 0056, 0058), so that a
/// summary sums a few thousand rows at most.
pub async fn fold_tallies(db: impl PgExecutor<'_>) -> DbResult<Folded> {
    let row = sqlx::query!(
        r#"SELECT centre_tallies_fold() AS "tallies!", quiet_tallies_fold() AS "quiet!",
                  sample_learner_counts_fold() AS "learners!""#
    )
    .fetch_one(db)
    .await?;
    Ok(Folded {
        tallies: row.tallies,
        quiet: row.quiet,
        learners: row.learners,
    })
}
